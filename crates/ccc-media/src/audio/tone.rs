//! The simplest sources: silence and a sine tone.

use super::{AudioFrame, AudioSource};

/// Silence, forever.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silence;

impl AudioSource for Silence {
    fn fill(&mut self, frame: &mut AudioFrame) -> bool {
        frame.samples_mut().fill(0);
        true
    }
}

/// A sine tone of one frequency, forever, continuous across frames.
#[derive(Debug, Clone)]
pub struct Tone {
    frequency: f64,
    amplitude: f64,
    phase: f64,
}

impl Tone {
    /// A tone of `frequency` Hz at `level` of full scale (0 to 1; clamped).
    pub fn new(frequency: f64, level: f64) -> Self {
        Self {
            frequency,
            amplitude: level.clamp(0.0, 1.0) * f64::from(i16::MAX),
            phase: 0.0,
        }
    }
}

impl AudioSource for Tone {
    fn fill(&mut self, frame: &mut AudioFrame) -> bool {
        let step = std::f64::consts::TAU * self.frequency / f64::from(frame.rate());
        for sample in frame.samples_mut() {
            // In range by construction: |amplitude| <= i16::MAX.
            #[allow(clippy::cast_possible_truncation)]
            {
                *sample = (self.amplitude * self.phase.sin()).round() as i16;
            }
            self.phase = (self.phase + step) % std::f64::consts::TAU;
        }
        true
    }
}
