//! The Goertzel algorithm: the power of one frequency in a block of samples, cheaper
//! than a full FFT when only a few frequencies matter (tone and DTMF detection).

/// Measures one frequency.
#[derive(Debug, Clone, Copy)]
pub struct Goertzel {
    coefficient: f64,
}

impl Goertzel {
    /// A detector of `frequency` Hz in audio sampled at `rate` Hz.
    pub fn new(frequency: f64, rate: u32) -> Self {
        let omega = std::f64::consts::TAU * frequency / f64::from(rate);
        Self {
            coefficient: 2.0 * omega.cos(),
        }
    }

    /// The power of the frequency in `samples`, normalised so a full-scale sine of
    /// exactly that frequency gives about 1.0 whatever the block length.
    pub fn power(&self, samples: &[i16]) -> f64 {
        if samples.is_empty() {
            return 0.0;
        }
        let (mut s1, mut s2) = (0.0_f64, 0.0_f64);
        for sample in samples {
            let s0 = f64::from(*sample) / f64::from(i16::MAX) + self.coefficient * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        let power = s1 * s1 + s2 * s2 - self.coefficient * s1 * s2;
        #[allow(clippy::cast_precision_loss)]
        let n = samples.len() as f64;
        4.0 * power / (n * n)
    }
}

/// Which of `candidates` (Hz) carries the most power in `samples`, if it stands out: at
/// least 10 times the power of the next strongest, and at least 1 % of full scale
/// power. `None` for silence or a mix.
pub fn dominant_tone(samples: &[i16], rate: u32, candidates: &[f64]) -> Option<f64> {
    let mut powers: Vec<(f64, f64)> = candidates
        .iter()
        .map(|f| (*f, Goertzel::new(*f, rate).power(samples)))
        .collect();
    powers.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (best, power) = *powers.first()?;
    let runner_up = powers.get(1).map_or(0.0, |p| p.1);
    (power >= 0.01 && power >= 10.0 * runner_up).then_some(best)
}

/// The RMS level of `samples` in dBFS (0 for a full-scale square wave, -inf for
/// silence, about -3 for a full-scale sine).
pub fn level_dbfs(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return f64::NEG_INFINITY;
    }
    let sum: f64 = samples
        .iter()
        .map(|s| {
            let x = f64::from(*s) / f64::from(i16::MAX);
            x * x
        })
        .sum();
    #[allow(clippy::cast_precision_loss)]
    let mean = sum / samples.len() as f64;
    10.0 * mean.log10()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::{AudioFrame, AudioSource, Tone};

    fn tone(frequency: f64, level: f64, rate: u32, frames: usize) -> Vec<i16> {
        let mut source = Tone::new(frequency, level);
        let mut out = Vec::new();
        let mut frame = AudioFrame::silent(rate);
        for _ in 0..frames {
            source.fill(&mut frame);
            out.extend_from_slice(frame.samples());
        }
        out
    }

    #[test]
    fn finds_the_tone_that_is_there() {
        let candidates = [440.0, 697.0, 1000.0, 1209.0, 1633.0];
        for rate in [8000, 16000, 48000] {
            for f in candidates {
                let samples = tone(f, 0.5, rate, 5);
                assert_eq!(
                    dominant_tone(&samples, rate, &candidates),
                    Some(f),
                    "{f} Hz at {rate}"
                );
            }
        }
    }

    #[test]
    fn power_is_normalised() {
        let samples = tone(1000.0, 1.0, 8000, 10);
        let p = Goertzel::new(1000.0, 8000).power(&samples);
        assert!((0.9..1.1).contains(&p), "{p}");
        assert!(Goertzel::new(1500.0, 8000).power(&samples) < 0.01);
    }

    #[test]
    fn silence_and_mixes_have_no_dominant_tone() {
        let silence = vec![0i16; 800];
        assert_eq!(dominant_tone(&silence, 8000, &[440.0, 1000.0]), None);
        let a = tone(440.0, 0.4, 8000, 5);
        let b = tone(1000.0, 0.4, 8000, 5);
        let mix: Vec<i16> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
        assert_eq!(dominant_tone(&mix, 8000, &[440.0, 1000.0]), None);
        assert_eq!(dominant_tone(&[], 8000, &[]), None);
    }

    #[test]
    fn levels() {
        assert_eq!(level_dbfs(&[0; 160]), f64::NEG_INFINITY);
        let sine = tone(1000.0, 1.0, 8000, 5);
        assert!((level_dbfs(&sine) + 3.01).abs() < 0.1);
        let half = tone(1000.0, 0.5, 8000, 5);
        assert!((level_dbfs(&half) + 9.03).abs() < 0.1);
    }
}
