//! The prompt the bot plays to each caller: a WAV file, or a chime made in memory.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ccc_media::audio::{AudioError, Silence, WavSource};
use ccc_media::call::{CallAudio, Discard};
use ccc_workbench::{AudioFactory, CallAudioInfo};

/// The two notes of [`Prompt::chime`], in hertz.
pub const CHIME_HZ: [u32; 2] = [660, 550];

/// Why a prompt could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PromptError {
    /// The file could not be read.
    #[error("cannot read the prompt {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a WAV file the bot can play.
    #[error("the prompt {path} is no playable WAV file: {source}")]
    Wav {
        /// The file.
        path: PathBuf,
        /// Why.
        source: AudioError,
    },
    /// The chime could not be written (hound refused its own format).
    #[error("the chime could not be made: {0}")]
    Chime(#[from] hound::Error),
}

/// A WAV prompt, checked once and played to each caller from memory.
#[derive(Clone)]
pub struct Prompt {
    wav: Arc<[u8]>,
    duration: Duration,
}

impl std::fmt::Debug for Prompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prompt")
            .field("bytes", &self.wav.len())
            .field("duration", &self.duration)
            .finish()
    }
}

impl Prompt {
    /// The WAV file at `path` (any PCM or float format, any rate; mixed down to mono and
    /// converted to the call's rate as it plays).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, PromptError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| PromptError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_wav(bytes).map_err(|source| PromptError::Wav {
            path: path.to_owned(),
            source,
        })
    }

    /// WAV data in memory.
    pub fn from_wav(bytes: Vec<u8>) -> Result<Self, AudioError> {
        let duration = WavSource::from_bytes(&bytes)?.duration();
        Ok(Self {
            wav: bytes.into(),
            duration,
        })
    }

    /// A two-note chime ([`CHIME_HZ`], 0.4 s and 0.6 s at 8 kHz), written as a WAV file
    /// in memory: the default prompt, so the bot needs no file.
    pub fn chime() -> Result<Self, PromptError> {
        const RATE: u32 = 8000;
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut out = Cursor::new(Vec::new());
        let mut writer = hound::WavWriter::new(&mut out, spec)?;
        for (hz, ms) in CHIME_HZ.into_iter().zip([400u32, 600]) {
            let n = RATE * ms / 1000;
            let fade = RATE / 100; // 10 ms in and out, so the notes do not click
            for i in 0..n {
                let envelope = f64::from(i.min(n - 1 - i).min(fade)) / f64::from(fade);
                let phase =
                    2.0 * std::f64::consts::PI * f64::from(hz) * f64::from(i) / f64::from(RATE);
                // At most 0.3 of full scale, so the cast cannot overflow.
                #[allow(clippy::cast_possible_truncation)]
                let sample = (0.3 * envelope * phase.sin() * f64::from(i16::MAX)) as i16;
                writer.write_sample(sample)?;
            }
        }
        writer.finalize()?;
        Self::from_wav(out.into_inner()).map_err(|source| PromptError::Wav {
            path: PathBuf::from("<chime>"),
            source,
        })
    }

    /// How long it plays.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// The audio of each call: the prompt once, then silence; what the caller says is
    /// not kept (the digits come as events).
    pub fn audio(&self) -> impl AudioFactory {
        PromptAudio(Arc::clone(&self.wav))
    }
}

struct PromptAudio(Arc<[u8]>);

impl AudioFactory for PromptAudio {
    fn audio(&self, _call: &CallAudioInfo) -> CallAudio {
        match WavSource::from_bytes(&self.0) {
            Ok(source) => CallAudio::new(source, Discard),
            // Checked when the prompt was made: the same bytes read the same way.
            Err(_) => CallAudio::new(Silence, Discard),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ccc_media::audio::{AudioFrame, AudioSource};
    use ccc_media::dsp::dominant_tone;

    #[test]
    fn the_chime_plays_its_two_notes_for_a_second() {
        let prompt = Prompt::chime().unwrap();
        assert_eq!(prompt.duration(), Duration::from_secs(1));
        let mut source = WavSource::from_bytes(&prompt.wav).unwrap();
        let mut frame = AudioFrame::silent(8000);
        let candidates = CHIME_HZ.map(f64::from);
        let mut notes = Vec::new();
        while source.fill(&mut frame) {
            notes.push(dominant_tone(frame.samples(), 8000, &candidates));
        }
        assert_eq!(notes.len(), 50);
        assert!(notes[1..19].iter().all(|n| *n == Some(660.0)), "{notes:?}");
        assert!(notes[21..49].iter().all(|n| *n == Some(550.0)), "{notes:?}");
    }

    #[test]
    fn a_file_that_is_no_wav_is_refused_with_its_name() {
        let dir = std::env::temp_dir().join(format!("voice-bot-prompt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("not.wav");
        std::fs::write(&path, b"RIFF but not really").unwrap();
        let e = Prompt::open(&path).unwrap_err();
        assert!(matches!(e, PromptError::Wav { .. }), "{e}");
        assert!(e.to_string().contains("not.wav"), "{e}");
        let e = Prompt::open(dir.join("missing.wav")).unwrap_err();
        assert!(matches!(e, PromptError::Read { .. }), "{e}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
