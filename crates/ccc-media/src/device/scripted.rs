//! [`ScriptedBackend`]: devices that exist only in memory, plugged in, unplugged and
//! stalled by the program. Streams run on their own threads in real time (10 ms
//! callbacks), as a sound system's do, so the whole device path (rings, resampling,
//! failover) runs as it would with hardware.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{
    AudioBackend, CaptureWriter, DeviceError, DeviceInfo, Direction, FaultNotifier, OpenStream,
    PlaybackReader, StreamFormat,
};

/// What a scripted microphone hears.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Signal {
    /// Digital silence (all zero), as a muted or dead microphone gives.
    Silence,
    /// A sine tone.
    Tone {
        /// Hz.
        frequency: f64,
        /// Peak, 0..1.
        amplitude: f32,
    },
}

/// A device of a [`ScriptedBackend`].
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptedDevice {
    /// How it is listed.
    pub info: DeviceInfo,
    /// The rates it can stream at; the first is its own.
    pub rates: Vec<u32>,
    /// Its channels.
    pub channels: u16,
    /// What it captures (microphones).
    pub signal: Signal,
    /// When set, opening it fails with this reason.
    pub open_error: Option<String>,
}

impl ScriptedDevice {
    fn new(id: &str, direction: Direction, rate: u32, channels: u16) -> Self {
        Self {
            info: DeviceInfo {
                id: id.to_owned(),
                name: id.to_owned(),
                direction,
                is_default: false,
            },
            rates: vec![rate],
            channels,
            signal: Signal::Silence,
            open_error: None,
        }
    }

    /// A microphone named `id` streaming at `rate` Hz with `channels` channels.
    pub fn microphone(id: &str, rate: u32, channels: u16) -> Self {
        Self::new(id, Direction::Capture, rate, channels)
    }

    /// A speaker named `id` streaming at `rate` Hz with `channels` channels.
    pub fn speaker(id: &str, rate: u32, channels: u16) -> Self {
        Self::new(id, Direction::Playback, rate, channels)
    }

    /// The same, as the system's default.
    #[must_use]
    pub fn as_default(mut self) -> Self {
        self.info.is_default = true;
        self
    }

    /// The same, capturing a tone.
    #[must_use]
    pub fn with_tone(mut self, frequency: f64, amplitude: f32) -> Self {
        self.signal = Signal::Tone {
            frequency,
            amplitude,
        };
        self
    }

    /// The same, able to stream at these rates too.
    #[must_use]
    pub fn with_rates(mut self, rates: &[u32]) -> Self {
        self.rates.extend_from_slice(rates);
        self
    }

    /// The same, failing to open with `reason`.
    #[must_use]
    pub fn failing(mut self, reason: &str) -> Self {
        self.open_error = Some(reason.to_owned());
        self
    }
}

/// How much of what each speaker played is kept for [`ScriptedBackend::played`].
const PLAYED_KEPT: Duration = Duration::from_secs(5);
/// The callback period of scripted streams.
const PERIOD: Duration = Duration::from_millis(10);

#[derive(Debug)]
struct Running {
    id: String,
    faults: FaultNotifier,
    stop: Arc<AtomicBool>,
    stalled: Arc<AtomicBool>,
}

#[derive(Debug, Default)]
struct State {
    devices: Vec<ScriptedDevice>,
    running: Vec<Running>,
    opens: Vec<String>,
    played: HashMap<String, VecDeque<f32>>,
}

/// A sound system of scripted devices. Clones share the same devices.
#[derive(Debug, Clone, Default)]
pub struct ScriptedBackend {
    state: Arc<Mutex<State>>,
}

impl ScriptedBackend {
    /// No devices yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves the data usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Plugs `device` in (listed last).
    pub fn plug(&self, device: ScriptedDevice) {
        let mut state = self.state();
        state.devices.retain(|d| d.info.id != device.info.id);
        state.devices.push(device);
    }

    /// Unplugs device `id`: it is no longer listed, and its open streams stop and
    /// report the loss, as a USB headset pulled out does.
    pub fn unplug(&self, id: &str) {
        let mut state = self.state();
        state.devices.retain(|d| d.info.id != id);
        state.running.retain(|r| !r.stop.load(Ordering::Relaxed));
        for running in state.running.iter().filter(|r| r.id == id) {
            running.stalled.store(true, Ordering::Relaxed);
            running
                .faults
                .lost("the device is not available (unplugged)");
        }
    }

    /// Device `id`'s open streams stop calling back, without reporting anything (a
    /// driver that hangs).
    pub fn stall(&self, id: &str) {
        for running in self.state().running.iter().filter(|r| r.id == id) {
            running.stalled.store(true, Ordering::Relaxed);
        }
    }

    /// Makes `id` the default of its direction.
    pub fn set_default(&self, id: &str) {
        let mut state = self.state();
        let Some(direction) = state
            .devices
            .iter()
            .find(|d| d.info.id == id)
            .map(|d| d.info.direction)
        else {
            return;
        };
        for device in state
            .devices
            .iter_mut()
            .filter(|d| d.info.direction == direction)
        {
            device.info.is_default = device.info.id == id;
        }
    }

    /// The ids of the devices with a stream open now.
    pub fn open_streams(&self) -> Vec<String> {
        self.state()
            .running
            .iter()
            .filter(|r| !r.stop.load(Ordering::Relaxed))
            .map(|r| r.id.clone())
            .collect()
    }

    /// Every attempt to open a stream, in order (the device ids).
    pub fn opens(&self) -> Vec<String> {
        self.state().opens.clone()
    }

    /// The last seconds of what speaker `id` played (mono, -1..1).
    pub fn played(&self, id: &str) -> Vec<f32> {
        self.state()
            .played
            .get(id)
            .map(|p| p.iter().copied().collect())
            .unwrap_or_default()
    }

    fn start(
        &self,
        device: &DeviceInfo,
        format: StreamFormat,
        faults: FaultNotifier,
        mut body: impl FnMut(&Self, &mut Vec<f32>) + Send + 'static,
    ) -> Result<OpenStream, DeviceError> {
        let mut state = self.state();
        state.opens.push(device.id.clone());
        let scripted = state
            .devices
            .iter()
            .find(|d| d.info.id == device.id && d.info.direction == device.direction)
            .ok_or_else(|| DeviceError::Backend(format!("{} is not plugged in", device.id)))?;
        if let Some(reason) = &scripted.open_error {
            return Err(DeviceError::Backend(reason.clone()));
        }
        let stop = Arc::new(AtomicBool::new(false));
        let stalled = Arc::new(AtomicBool::new(false));
        state.running.push(Running {
            id: device.id.clone(),
            faults,
            stop: Arc::clone(&stop),
            stalled: Arc::clone(&stalled),
        });
        drop(state);
        let frames = (format.rate as usize) * PERIOD.as_millis() as usize / 1000;
        let mut buffer = vec![0.0f32; frames * usize::from(format.channels)];
        let backend = self.clone();
        let thread_stop = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("ccc-media-scripted-stream".into())
            .spawn(move || {
                let mut next = Instant::now();
                while !thread_stop.load(Ordering::Relaxed) {
                    if !stalled.load(Ordering::Relaxed) {
                        body(&backend, &mut buffer);
                    }
                    next += PERIOD;
                    std::thread::sleep(next.saturating_duration_since(Instant::now()));
                }
            })
            .map_err(|e| DeviceError::Backend(e.to_string()))?;
        Ok(OpenStream::new(StreamGuard {
            stop,
            thread: Some(thread),
        }))
    }
}

/// Stops a scripted stream's thread when dropped.
struct StreamGuard {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl AudioBackend for ScriptedBackend {
    fn devices(&self, direction: Direction) -> Result<Vec<DeviceInfo>, DeviceError> {
        Ok(self
            .state()
            .devices
            .iter()
            .filter(|d| d.info.direction == direction)
            .map(|d| d.info.clone())
            .collect())
    }

    fn format(&self, device: &DeviceInfo, wanted_rate: u32) -> Result<StreamFormat, DeviceError> {
        let state = self.state();
        let scripted = state
            .devices
            .iter()
            .find(|d| d.info.id == device.id)
            .ok_or_else(|| DeviceError::Backend(format!("{} is not plugged in", device.id)))?;
        let rate = if scripted.rates.contains(&wanted_rate) {
            wanted_rate
        } else {
            *scripted
                .rates
                .first()
                .ok_or_else(|| DeviceError::Unsupported("no rate".into()))?
        };
        Ok(StreamFormat {
            rate,
            channels: scripted.channels,
        })
    }

    fn open_capture(
        &self,
        device: &DeviceInfo,
        format: StreamFormat,
        mut writer: CaptureWriter,
        faults: FaultNotifier,
    ) -> Result<OpenStream, DeviceError> {
        let signal = self
            .state()
            .devices
            .iter()
            .find(|d| d.info.id == device.id)
            .map_or(Signal::Silence, |d| d.signal);
        let channels = usize::from(format.channels.max(1));
        let rate = f64::from(format.rate);
        let mut n: u64 = 0;
        self.start(device, format, faults, move |_, buffer| {
            for frame in buffer.chunks_exact_mut(channels) {
                let value = match signal {
                    Signal::Silence => 0.0,
                    Signal::Tone {
                        frequency,
                        amplitude,
                    } => {
                        let phase = std::f64::consts::TAU * frequency * (n as f64) / rate;
                        // A sample in -1..1, narrowed on purpose.
                        #[allow(clippy::cast_possible_truncation)]
                        let s = (phase.sin() as f32) * amplitude;
                        s
                    }
                };
                frame.fill(value);
                n += 1;
            }
            writer.write_interleaved(buffer, |s| s);
        })
    }

    fn open_playback(
        &self,
        device: &DeviceInfo,
        format: StreamFormat,
        mut reader: PlaybackReader,
        faults: FaultNotifier,
    ) -> Result<OpenStream, DeviceError> {
        let id = device.id.clone();
        let channels = usize::from(format.channels.max(1));
        let kept = (format.rate as usize) * PLAYED_KEPT.as_secs() as usize;
        self.start(device, format, faults, move |backend, buffer| {
            reader.read_interleaved(buffer, |s| s);
            let mut state = backend.state();
            let played = state.played.entry(id.clone()).or_default();
            played.extend(buffer.chunks_exact(channels).map(|frame| frame[0]));
            let excess = played.len().saturating_sub(kept);
            played.drain(..excess);
        })
    }
}
