//! WAV files: a source that plays one, and the agent-side call recorder (C12).

use std::path::Path;
use std::time::Duration;

use super::resample::{FrameResampler, resample};
use super::{AudioError, AudioFrame, AudioSource};

/// Plays a WAV file (any PCM or float format, mono or mixed down from more channels),
/// converted to each frame's rate, once or in a loop; silence after the end.
///
/// The conversion runs frame by frame as the call plays ([`FrameResampler`]), so a long
/// file costs no more per frame than a short one and nothing stalls the call's media
/// task when it starts (only rates that are no multiple of 50 Hz, such as 11025 Hz, are
/// converted whole, once).
#[derive(Debug)]
pub struct WavSource {
    rate: u32,
    samples: Vec<i16>,
    /// The next sample of the file to play.
    position: usize,
    looping: bool,
    /// The converter to the rate frames are asked at, with that rate.
    converter: Option<(u32, FrameResampler)>,
    /// The whole file at one other rate, for rates the frame converter cannot take.
    converted: Option<(u32, Vec<i16>)>,
    /// The file's samples of one frame, for the converter.
    chunk: Vec<i16>,
    /// Frames given since the end of the file, while the converter still holds audio.
    after_end: u32,
}

/// The longest WAV file a [`WavSource`] reads (it keeps the whole file in memory, two
/// bytes a sample: 30 minutes at 48 kHz is 165 MiB).
pub const MAX_WAV_DURATION: Duration = Duration::from_secs(30 * 60);

/// Frames after the end of the file during which the converter's delay (a chunk in
/// reserve and its filter) still gives out the file's last audio.
const CONVERTER_TAIL_FRAMES: u32 = 3;

impl WavSource {
    /// Reads the whole file (prompts and test tones are short; one longer than
    /// [`MAX_WAV_DURATION`] is refused).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, AudioError> {
        let reader = hound::WavReader::open(path)?;
        Self::read(reader)
    }

    /// Reads WAV data from memory.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, AudioError> {
        Self::read(hound::WavReader::new(std::io::Cursor::new(bytes))?)
    }

    fn read<R: std::io::Read>(reader: hound::WavReader<R>) -> Result<Self, AudioError> {
        let spec = reader.spec();
        if spec.sample_rate == 0 {
            return Err(AudioError::Format("a WAV file at 0 Hz".into()));
        }
        let too_long = || {
            AudioError::Format(format!(
                "a WAV file longer than {} minutes",
                MAX_WAV_DURATION.as_secs() / 60
            ))
        };
        let most = u64::from(spec.sample_rate) * MAX_WAV_DURATION.as_secs();
        if u64::from(reader.duration()) > most {
            return Err(too_long());
        }
        let channels = usize::from(spec.channels.max(1));
        // Mixed down to mono as it is read: two bytes a sample are kept, nothing more.
        let mut samples = Vec::with_capacity(usize::try_from(reader.duration()).unwrap_or(0));
        let mut mix = |values: &mut dyn Iterator<Item = Result<f32, hound::Error>>| {
            let mut sum = 0.0f32;
            let mut n = 0;
            for value in values {
                sum += value?;
                n += 1;
                if n == channels {
                    if samples.len() as u64 >= most {
                        return Err(too_long());
                    }
                    #[allow(clippy::cast_precision_loss)]
                    samples.push(super::to_i16(sum / channels as f32));
                    sum = 0.0;
                    n = 0;
                }
            }
            Ok(())
        };
        match spec.sample_format {
            hound::SampleFormat::Float => mix(&mut reader.into_samples::<f32>())?,
            hound::SampleFormat::Int => {
                let scale = 2f32.powi(i32::from(spec.bits_per_sample.clamp(1, 32)) - 1);
                #[allow(clippy::cast_precision_loss)]
                mix(&mut reader
                    .into_samples::<i32>()
                    .map(|s| s.map(|s| s as f32 / scale)))?;
            }
        }
        Ok(Self::of(spec.sample_rate, samples))
    }

    /// Mono samples at `rate`, from the start.
    fn of(rate: u32, samples: Vec<i16>) -> Self {
        Self {
            rate,
            samples,
            position: 0,
            looping: false,
            converter: None,
            converted: None,
            chunk: Vec::new(),
            after_end: 0,
        }
    }

    /// The same, starting again at the end instead of falling silent.
    #[must_use]
    pub fn looping(mut self) -> Self {
        self.looping = true;
        self
    }

    /// How long the file plays.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(self.rate.max(1)))
    }

    /// Copies the next `out.len()` samples of `samples` from `position` (looping or
    /// silence past the end); whether any of the file was in them.
    fn take(samples: &[i16], position: &mut usize, looping: bool, out: &mut [i16]) -> bool {
        let mut played = false;
        for slot in out.iter_mut() {
            if *position >= samples.len() && looping && !samples.is_empty() {
                *position = 0;
            }
            *slot = samples.get(*position).copied().unwrap_or(0);
            played |= *position < samples.len();
            *position = position.saturating_add(1);
        }
        played
    }
}

impl AudioSource for WavSource {
    fn fill(&mut self, frame: &mut AudioFrame) -> bool {
        let rate = frame.rate();
        if rate == self.rate {
            return Self::take(
                &self.samples,
                &mut self.position,
                self.looping,
                frame.samples_mut(),
            );
        }
        if self.converter.as_ref().is_none_or(|(to, _)| *to != rate)
            && self.converted.as_ref().is_none_or(|(to, _)| *to != rate)
        {
            // Keep the place in the file, in time, across the change of rate.
            if let Some((from, _)) = self.converted.take() {
                self.position =
                    (self.position as u64 * u64::from(self.rate) / u64::from(from.max(1))) as usize;
            }
            self.converter = FrameResampler::new(self.rate, rate).ok().map(|c| (rate, c));
            if self.converter.is_none() {
                // A rate the frame converter cannot take: the whole file, once; on
                // failure it plays as silence rather than breaking the call.
                let converted = resample(&self.samples, self.rate, rate).unwrap_or_default();
                self.position =
                    (self.position as u64 * u64::from(rate) / u64::from(self.rate.max(1))) as usize;
                self.converted = Some((rate, converted));
            }
        }
        if let Some((_, converted)) = &self.converted {
            return Self::take(
                converted,
                &mut self.position,
                self.looping,
                frame.samples_mut(),
            );
        }
        let Some((_, converter)) = self.converter.as_mut() else {
            frame.samples_mut().fill(0);
            return false;
        };
        self.chunk.resize(AudioFrame::len_at(self.rate), 0);
        let from_file = Self::take(
            &self.samples,
            &mut self.position,
            self.looping,
            &mut self.chunk,
        );
        if converter.process(&self.chunk, frame.samples_mut()).is_err() {
            frame.samples_mut().fill(0);
        }
        if from_file {
            self.after_end = 0;
            return true;
        }
        self.after_end = self.after_end.saturating_add(1);
        self.after_end <= CONVERTER_TAIL_FRAMES
    }
}

/// Records a call as it runs: a stereo 16-bit WAV, the agent on the left, the remote
/// party on the right. The header is brought up to date every second, so a crash
/// leaves a readable file; [`CallRecorder::finish`] closes it.
pub struct CallRecorder {
    writer: Option<hound::WavWriter<std::io::BufWriter<std::fs::File>>>,
    rate: u32,
    since_flush: usize,
    /// A converter per channel, made when that channel's frames come at another rate.
    converters: [Option<FrameResampler>; 2],
    scratch: [Vec<i16>; 2],
}

impl std::fmt::Debug for CallRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallRecorder")
            .field("rate", &self.rate)
            .field("open", &self.writer.is_some())
            .finish()
    }
}

impl CallRecorder {
    /// Creates (or replaces) `path`, recording at `rate` Hz (8 to 192 kHz, a multiple of
    /// 50 Hz so that 20 ms is whole).
    pub fn create(path: impl AsRef<Path>, rate: u32) -> Result<Self, AudioError> {
        if !(8_000..=192_000).contains(&rate) || !rate.is_multiple_of(50) {
            return Err(AudioError::Format(format!(
                "cannot record at {rate} Hz (8 to 192 kHz, a multiple of 50 Hz)"
            )));
        }
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        Ok(Self {
            writer: Some(hound::WavWriter::create(path, spec)?),
            rate,
            since_flush: 0,
            converters: [None, None],
            scratch: [Vec::new(), Vec::new()],
        })
    }

    /// Appends 20 ms: what the agent said and what the remote party said. A frame at
    /// another rate than the recording's is converted first.
    pub fn write(&mut self, agent: &AudioFrame, remote: &AudioFrame) -> Result<(), AudioError> {
        if self.writer.is_none() {
            return Err(AudioError::Closed);
        }
        self.convert(0, agent)?;
        self.convert(1, remote)?;
        let [left, right] = &self.scratch;
        let writer = self.writer.as_mut().ok_or(AudioError::Closed)?;
        for (l, r) in left.iter().zip(right) {
            writer.write_sample(*l)?;
            writer.write_sample(*r)?;
        }
        self.since_flush += left.len();
        if self.since_flush >= self.rate as usize {
            writer.flush()?;
            self.since_flush = 0;
        }
        Ok(())
    }

    /// Channel `channel`'s 20 ms at the recording's rate, into its scratch buffer.
    fn convert(&mut self, channel: usize, frame: &AudioFrame) -> Result<(), AudioError> {
        let out = &mut self.scratch[channel];
        out.resize(AudioFrame::len_at(self.rate), 0);
        if frame.rate() == self.rate {
            out.copy_from_slice(frame.samples());
            return Ok(());
        }
        let converter = &mut self.converters[channel];
        if converter
            .as_ref()
            .is_none_or(|c| c.from_rate() != frame.rate())
        {
            *converter = Some(FrameResampler::new(frame.rate(), self.rate)?);
        }
        match converter {
            Some(converter) => converter.process(frame.samples(), out),
            None => Ok(()),
        }
    }

    /// Closes the file (writes the final header). Further writes fail.
    pub fn finish(&mut self) -> Result<(), AudioError> {
        match self.writer.take() {
            Some(writer) => Ok(writer.finalize()?),
            None => Ok(()),
        }
    }
}

impl Drop for CallRecorder {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::Tone;
    use crate::dsp::dominant_tone;

    fn wav_bytes(rate: u32, channels: u16, seconds: f64, frequency: f64) -> Vec<u8> {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut cursor = std::io::Cursor::new(Vec::new());
        {
            let mut writer = hound::WavWriter::new(&mut cursor, spec).unwrap();
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let n = (f64::from(rate) * seconds) as u32;
            for i in 0..n {
                let x = (std::f64::consts::TAU * frequency * f64::from(i) / f64::from(rate)).sin();
                #[allow(clippy::cast_possible_truncation)]
                let s = (x * 12000.0) as i16;
                for _ in 0..channels {
                    writer.write_sample(s).unwrap();
                }
            }
            writer.finalize().unwrap();
        }
        cursor.into_inner()
    }

    fn play(source: &mut WavSource, rate: u32, frames: usize) -> (Vec<i16>, usize) {
        let mut frame = AudioFrame::silent(rate);
        let mut out = Vec::new();
        let mut played = 0;
        for _ in 0..frames {
            played += usize::from(source.fill(&mut frame));
            out.extend_from_slice(frame.samples());
        }
        (out, played)
    }

    #[test]
    fn a_stereo_cd_file_plays_at_8khz() {
        let mut source = WavSource::from_bytes(&wav_bytes(44_100, 2, 0.5, 700.0)).unwrap();
        assert_eq!(source.duration(), Duration::from_millis(500));
        let (samples, played) = play(&mut source, 8000, 40);
        // 0.5 s is 25 frames; the converter's delay gives out the last of it after.
        assert_eq!(played, 25 + CONVERTER_TAIL_FRAMES as usize);
        assert_eq!(
            dominant_tone(&samples[800..3200], 8000, &[440.0, 700.0, 1000.0]),
            Some(700.0)
        );
        // All of the file is heard: 0.5 s of sound, then silence.
        let first = samples.iter().position(|s| *s != 0).unwrap();
        let last = samples.iter().rposition(|s| *s != 0).unwrap();
        assert!((last + 1 - first).abs_diff(4000) < 80, "{first}..{last}");
        assert!(
            last < 28 * 160,
            "the tail is out within the frames said played"
        );
        // Another rate mid-file keeps the place.
        let mut source = WavSource::from_bytes(&wav_bytes(44_100, 1, 1.0, 700.0)).unwrap();
        play(&mut source, 8000, 25);
        let (_, played) = play(&mut source, 16_000, 40);
        assert_eq!(
            played,
            25 + CONVERTER_TAIL_FRAMES as usize,
            "the second half"
        );
    }

    #[test]
    fn a_long_file_is_converted_as_it_plays_not_whole_at_the_start() {
        // Ten minutes at 48 kHz into an 8 kHz call: converting it whole on the first
        // frame stalled the call's media task (and every call on its thread) for as
        // long as that took, and held a second copy of the file.
        let mut source = WavSource::of(48_000, vec![0i16; 48_000 * 600]);
        let mut frame = AudioFrame::silent(8000);
        assert!(source.fill(&mut frame));
        assert!(source.converted.is_none(), "no whole-file copy");
        assert_eq!(source.position, 960, "one frame of the file read");
        // 11025 Hz is no multiple of 50: converted whole, once, as before.
        let mut odd = WavSource::from_bytes(&wav_bytes(11_025, 1, 0.5, 700.0)).unwrap();
        let (samples, played) = play(&mut odd, 8000, 30);
        assert_eq!(played, 25);
        assert_eq!(
            dominant_tone(&samples[800..3200], 8000, &[440.0, 700.0, 1000.0]),
            Some(700.0)
        );
    }

    #[test]
    fn looping_keeps_playing() {
        let mut source = WavSource::from_bytes(&wav_bytes(8000, 1, 0.1, 1000.0))
            .unwrap()
            .looping();
        let (_, played) = play(&mut source, 8000, 50);
        assert_eq!(played, 50);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(WavSource::from_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk").is_err());
        assert!(WavSource::from_bytes(&[]).is_err());
        assert!(WavSource::open("/nonexistent/file.wav").is_err());
        // A header that claims more than half an hour is refused before reading on.
        let mut long = wav_bytes(8000, 1, 0.01, 700.0);
        long[40..44].copy_from_slice(&(8000u32 * 2 * 3600).to_le_bytes());
        assert!(matches!(
            WavSource::from_bytes(&long),
            Err(AudioError::Format(m)) if m.contains("30 minutes")
        ));
    }

    #[test]
    fn the_recorder_puts_the_agent_left_and_the_remote_right() {
        let dir = std::env::temp_dir().join(format!("ccc-media-rec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("call.wav");
        let mut recorder = CallRecorder::create(&path, 8000).unwrap();
        let (mut agent_tone, mut remote_tone) = (Tone::new(440.0, 0.5), Tone::new(1000.0, 0.5));
        // The remote side arrives at 48 kHz (Opus); the recording is at 8 kHz.
        let (mut agent, mut remote) = (AudioFrame::silent(8000), AudioFrame::silent(48_000));
        for _ in 0..60 {
            agent_tone.fill(&mut agent);
            remote_tone.fill(&mut remote);
            recorder.write(&agent, &remote).unwrap();
        }
        recorder.finish().unwrap();
        assert!(matches!(
            recorder.write(&agent, &remote),
            Err(AudioError::Closed)
        ));
        for rate in [0, 7, 44_101, u32::MAX] {
            assert!(matches!(
                CallRecorder::create(dir.join("bad.wav"), rate),
                Err(AudioError::Format(_))
            ));
        }
        let mut reader = hound::WavReader::open(&path).unwrap();
        assert_eq!(
            (reader.spec().channels, reader.spec().sample_rate),
            (2, 8000)
        );
        let all: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
        let left: Vec<i16> = all.iter().step_by(2).copied().collect();
        let right: Vec<i16> = all.iter().skip(1).step_by(2).copied().collect();
        assert_eq!(left.len(), 60 * 160);
        let candidates = [440.0, 1000.0];
        assert_eq!(
            dominant_tone(&left[1600..8000], 8000, &candidates),
            Some(440.0)
        );
        assert_eq!(
            dominant_tone(&right[1600..8000], 8000, &candidates),
            Some(1000.0)
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
