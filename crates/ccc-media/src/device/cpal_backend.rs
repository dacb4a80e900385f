//! [`CpalBackend`]: real microphones and speakers through cpal (ALSA on Linux, Core
//! Audio on macOS, WASAPI on Windows).

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{ErrorKind, FromSample, SampleFormat, SizedSample, SupportedStreamConfigRange};

use super::{
    AudioBackend, CaptureWriter, DeviceError, DeviceInfo, Direction, FaultNotifier, OpenStream,
    PlaybackReader, StreamFormat,
};

/// The sample formats streams are opened in, best first.
const FORMATS: [SampleFormat; 6] = [
    SampleFormat::F32,
    SampleFormat::I16,
    SampleFormat::I32,
    SampleFormat::U16,
    SampleFormat::I8,
    SampleFormat::U8,
];

/// Rates tried, in order, when a device can do neither the wanted rate nor its own
/// (a multiple of 50).
const FALLBACK_RATES: [u32; 6] = [48_000, 44_100, 32_000, 16_000, 8_000, 96_000];

/// The system's sound devices, through cpal's default host.
pub struct CpalBackend {
    host: cpal::Host,
}

impl std::fmt::Debug for CpalBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpalBackend")
            .field("host", &self.host.id())
            .finish()
    }
}

impl CpalBackend {
    /// The platform's default sound system.
    pub fn new() -> Self {
        Self {
            host: cpal::default_host(),
        }
    }

    fn find(&self, device: &DeviceInfo) -> Result<cpal::Device, DeviceError> {
        let default = match device.direction {
            Direction::Capture => self.host.default_input_device(),
            Direction::Playback => self.host.default_output_device(),
        };
        let listed = self.host.devices().map_err(backend_error)?;
        default
            .into_iter()
            .chain(listed)
            .find(|d| d.id().is_ok_and(|id| id.to_string() == device.id))
            .ok_or_else(|| DeviceError::Backend(format!("{} is not available", device.id)))
    }

    fn ranges(
        device: &cpal::Device,
        direction: Direction,
    ) -> Result<Vec<SupportedStreamConfigRange>, DeviceError> {
        let ranges: Vec<_> = match direction {
            Direction::Capture => device
                .supported_input_configs()
                .map_err(backend_error)?
                .collect(),
            Direction::Playback => device
                .supported_output_configs()
                .map_err(backend_error)?
                .collect(),
        };
        Ok(ranges
            .into_iter()
            .filter(|r| FORMATS.contains(&r.sample_format()) && r.channels() > 0)
            .collect())
    }
}

impl Default for CpalBackend {
    fn default() -> Self {
        Self::new()
    }
}

fn backend_error(e: cpal::Error) -> DeviceError {
    match e.kind() {
        ErrorKind::PermissionDenied => DeviceError::PermissionDenied(e.to_string()),
        ErrorKind::UnsupportedConfig => DeviceError::Unsupported(e.to_string()),
        _ => DeviceError::Backend(e.to_string()),
    }
}

fn contains(range: &SupportedStreamConfigRange, rate: u32) -> bool {
    range.min_sample_rate() <= rate && rate <= range.max_sample_rate()
}

/// The error callback: a lost device or an invalidated stream ends the stream; an
/// underrun, a refused real-time priority or an automatic reroute do not.
fn on_error(faults: FaultNotifier) -> impl FnMut(cpal::Error) + Send + 'static {
    move |e: cpal::Error| match e.kind() {
        ErrorKind::Xrun | ErrorKind::RealtimeDenied | ErrorKind::DeviceChanged => {}
        _ => faults.lost(e.to_string()),
    }
}

fn build_input<T>(
    device: &cpal::Device,
    config: cpal::StreamConfig,
    mut writer: CaptureWriter,
    faults: FaultNotifier,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample + Send + 'static,
    f32: FromSample<T>,
{
    device.build_input_stream::<T, _, _>(
        config,
        move |data: &[T], _| writer.write_interleaved(data, cpal::Sample::to_sample::<f32>),
        on_error(faults),
        None,
    )
}

fn build_output<T>(
    device: &cpal::Device,
    config: cpal::StreamConfig,
    mut reader: PlaybackReader,
    faults: FaultNotifier,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample + FromSample<f32> + Send + 'static,
{
    device.build_output_stream::<T, _, _>(
        config,
        move |data: &mut [T], _| reader.read_interleaved(data, T::from_sample),
        on_error(faults),
        None,
    )
}

impl CpalBackend {
    /// The device, its stream configuration and sample format for `format`.
    fn prepare(
        &self,
        device: &DeviceInfo,
        format: StreamFormat,
    ) -> Result<(cpal::Device, cpal::StreamConfig, SampleFormat), DeviceError> {
        let found = self.find(device)?;
        let ranges = Self::ranges(&found, device.direction)?;
        let (range, sample_format) = FORMATS
            .iter()
            .find_map(|f| {
                ranges
                    .iter()
                    .find(|r| {
                        r.sample_format() == *f
                            && r.channels() == format.channels
                            && contains(r, format.rate)
                    })
                    .map(|r| (r, *f))
            })
            .ok_or_else(|| {
                DeviceError::Unsupported(format!(
                    "{}: {} Hz with {} channels",
                    device.name, format.rate, format.channels
                ))
            })?;
        // Callbacks of 10 ms where the device allows it: a call wants little delay,
        // and some devices' own choice is a period of a second or more (ALSA's plugins,
        // PipeWire's), longer than the queues here hold.
        let buffer_size = match range.buffer_size() {
            cpal::SupportedBufferSize::Range { min, max } if min <= max => {
                cpal::BufferSize::Fixed((format.rate / 100).clamp(*min, *max))
            }
            _ => cpal::BufferSize::Default,
        };
        let config = cpal::StreamConfig {
            channels: format.channels,
            sample_rate: format.rate,
            buffer_size,
        };
        Ok((found, config, sample_format))
    }
}

impl AudioBackend for CpalBackend {
    fn devices(&self, direction: Direction) -> Result<Vec<DeviceInfo>, DeviceError> {
        let default = match direction {
            Direction::Capture => self.host.default_input_device(),
            Direction::Playback => self.host.default_output_device(),
        };
        let default_id = default
            .as_ref()
            .and_then(|d| d.id().ok())
            .map(|id| id.to_string());
        let listed = self.host.devices().map_err(backend_error)?;
        let mut devices: Vec<DeviceInfo> = Vec::new();
        // The default first: on ALSA it is a virtual device ("default") that the list
        // leaves out.
        for device in default.into_iter().chain(listed) {
            let supports = match direction {
                Direction::Capture => device.supports_input(),
                Direction::Playback => device.supports_output(),
            };
            let Ok(id) = device.id().map(|id| id.to_string()) else {
                continue;
            };
            let is_default = default_id.as_deref() == Some(id.as_str());
            if (!supports && !is_default) || devices.iter().any(|d| d.id == id) {
                continue;
            }
            let name = device
                .description()
                .map(|d| d.name().to_owned())
                .unwrap_or_else(|_| id.clone());
            devices.push(DeviceInfo {
                id,
                name,
                direction,
                is_default,
            });
        }
        Ok(devices)
    }

    fn format(&self, device: &DeviceInfo, wanted_rate: u32) -> Result<StreamFormat, DeviceError> {
        let found = self.find(device)?;
        let ranges = Self::ranges(&found, device.direction)?;
        // Fewest channels first: mono needs no mixing.
        let by_channels = |rate: u32| {
            ranges
                .iter()
                .filter(|r| contains(r, rate))
                .map(SupportedStreamConfigRange::channels)
                .min()
                .map(|channels| StreamFormat { rate, channels })
        };
        if let Some(format) = by_channels(wanted_rate) {
            return Ok(format);
        }
        let own = match device.direction {
            Direction::Capture => found.default_input_config(),
            Direction::Playback => found.default_output_config(),
        };
        if let Ok(own) = own
            && own.sample_rate().is_multiple_of(50)
            && let Some(format) = by_channels(own.sample_rate())
        {
            return Ok(format);
        }
        FALLBACK_RATES
            .iter()
            .find_map(|rate| by_channels(*rate))
            .ok_or_else(|| DeviceError::Unsupported(format!("{}: no usable rate", device.name)))
    }

    fn open_capture(
        &self,
        device: &DeviceInfo,
        format: StreamFormat,
        writer: CaptureWriter,
        faults: FaultNotifier,
    ) -> Result<OpenStream, DeviceError> {
        let (found, config, sample_format) = self.prepare(device, format)?;
        let stream = match sample_format {
            SampleFormat::F32 => build_input::<f32>(&found, config, writer, faults),
            SampleFormat::I16 => build_input::<i16>(&found, config, writer, faults),
            SampleFormat::I32 => build_input::<i32>(&found, config, writer, faults),
            SampleFormat::U16 => build_input::<u16>(&found, config, writer, faults),
            SampleFormat::I8 => build_input::<i8>(&found, config, writer, faults),
            _ => build_input::<u8>(&found, config, writer, faults),
        }
        .map_err(backend_error)?;
        stream.play().map_err(backend_error)?;
        Ok(OpenStream::new(stream))
    }

    fn open_playback(
        &self,
        device: &DeviceInfo,
        format: StreamFormat,
        reader: PlaybackReader,
        faults: FaultNotifier,
    ) -> Result<OpenStream, DeviceError> {
        let (found, config, sample_format) = self.prepare(device, format)?;
        let stream = match sample_format {
            SampleFormat::F32 => build_output::<f32>(&found, config, reader, faults),
            SampleFormat::I16 => build_output::<i16>(&found, config, reader, faults),
            SampleFormat::I32 => build_output::<i32>(&found, config, reader, faults),
            SampleFormat::U16 => build_output::<u16>(&found, config, reader, faults),
            SampleFormat::I8 => build_output::<i8>(&found, config, reader, faults),
            _ => build_output::<u8>(&found, config, reader, faults),
        }
        .map_err(backend_error)?;
        stream.play().map_err(backend_error)?;
        Ok(OpenStream::new(stream))
    }
}
