//! Audio frames, and the sources and sinks calls read from and write to.

mod channel;
mod resample;
mod tone;
mod wav;

pub use channel::{FramePusher, PulledSink, PushedSource, pulled_sink, pushed_source};
pub use resample::{FrameResampler, resample};
pub use tone::{Silence, Tone};
pub use wav::{CallRecorder, MAX_WAV_DURATION, WavSource};

/// What can go wrong with audio files and conversion.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AudioError {
    /// Reading or writing a WAV file failed.
    #[error("WAV: {0}")]
    Wav(#[from] hound::Error),
    /// Sample-rate conversion failed.
    #[error("resampling: {0}")]
    Resample(String),
    /// An impossible format (a zero sample rate, ...).
    #[error("audio format: {0}")]
    Format(String),
    /// The recorder was already finished.
    #[error("the recording is closed")]
    Closed,
}

/// A sample in -1..1 as 16-bit PCM, rounded, clamped at full scale.
pub(crate) fn to_i16(x: f32) -> i16 {
    // Clamped into range first, so the cast cannot overflow.
    #[allow(clippy::cast_possible_truncation)]
    let s = (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
    s
}

/// How long one frame lasts: 20 ms, the packet time of every codec here.
pub const FRAME_MS: u32 = 20;

/// 20 ms of mono 16-bit PCM at one sample rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioFrame {
    rate: u32,
    samples: Vec<i16>,
}

impl AudioFrame {
    /// A silent frame at `rate` Hz (8000, 16000 or 48000 in practice).
    pub fn silent(rate: u32) -> Self {
        Self {
            rate,
            samples: vec![0; Self::len_at(rate)],
        }
    }

    /// How many samples a frame holds at `rate` Hz (882 at 44.1 kHz: the rate is not
    /// rounded to whole kHz first, or 44.1 kHz audio would run 0.2 % short).
    pub const fn len_at(rate: u32) -> usize {
        (rate as u64 * FRAME_MS as u64 / 1000) as usize
    }

    /// The sample rate.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// The samples.
    pub fn samples(&self) -> &[i16] {
        &self.samples
    }

    /// The samples, to fill.
    pub fn samples_mut(&mut self) -> &mut [i16] {
        &mut self.samples
    }
}

/// Where a call's outgoing audio comes from, one frame at a time.
pub trait AudioSource: Send {
    /// Fills `frame` with the next 20 ms. A source that has run out fills silence and
    /// returns false.
    fn fill(&mut self, frame: &mut AudioFrame) -> bool;
}

/// Where a call's incoming audio goes, one frame at a time.
pub trait AudioSink: Send {
    /// Takes the next 20 ms.
    fn write(&mut self, frame: &AudioFrame);
}
