//! Sample-rate conversion (48 kHz Opus and devices, 8 kHz G.711, any WAV file).

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler as _};

use super::AudioError;

/// `samples` at `from` Hz, converted to `to` Hz (band-limited FFT resampling).
pub fn resample(samples: &[i16], from: u32, to: u32) -> Result<Vec<i16>, AudioError> {
    if from == to || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    if from == 0 || to == 0 {
        return Err(AudioError::Format(format!(
            "cannot resample from {from} Hz to {to} Hz"
        )));
    }
    const CHUNK: usize = 1024;
    let err = |e: &dyn std::fmt::Display| AudioError::Resample(e.to_string());
    let mut resampler = Fft::<f32>::new(from as usize, to as usize, CHUNK, 1, FixedSync::Input)
        .map_err(|e| err(&e))?;
    let delay = resampler.output_delay();
    let mut input: Vec<f32> = samples.iter().map(|s| f32::from(*s) / 32768.0).collect();
    // Pad with silence: a whole number of chunks, plus enough to flush the delay.
    let padded = (input.len() + CHUNK * 2).div_ceil(CHUNK) * CHUNK;
    input.resize(padded, 0.0);
    let mut out = Vec::with_capacity(input.len() * to as usize / from as usize + CHUNK);
    let mut buffer = vec![0.0f32; resampler.output_frames_max()];
    for chunk in input.chunks(CHUNK) {
        let source = InterleavedSlice::new(chunk, 1, CHUNK).map_err(|e| err(&e))?;
        let frames = buffer.len();
        let mut target = InterleavedSlice::new_mut(&mut buffer, 1, frames).map_err(|e| err(&e))?;
        let (_, written) = resampler
            .process_into_buffer(&source, &mut target, None)
            .map_err(|e| err(&e))?;
        out.extend_from_slice(&buffer[..written]);
    }
    let wanted = (samples.len() as u64 * u64::from(to) / u64::from(from)) as usize;
    Ok(out
        .into_iter()
        .skip(delay)
        .take(wanted)
        .map(super::to_i16)
        .collect())
}

/// Converts a stream of 20 ms frames from one rate to another, keeping the filter's
/// state between frames (converting frame by frame with [`resample`] would click at
/// every frame edge). Samples queue on both sides of the filter, whose own chunk size
/// need not be a frame; the output starts after one chunk in reserve (a few tens of ms)
/// plus the filter's delay, with silence until then.
pub struct FrameResampler {
    inner: Fft<f32>,
    from: u32,
    to: u32,
    pending_in: Vec<f32>,
    pending_out: std::collections::VecDeque<i16>,
    chunk_out: Vec<f32>,
    primed: bool,
}

impl std::fmt::Debug for FrameResampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameResampler")
            .field("from", &self.from)
            .field("to", &self.to)
            .finish_non_exhaustive()
    }
}

impl FrameResampler {
    /// A converter of 20 ms frames from `from` Hz to `to` Hz (multiples of 50 Hz).
    pub fn new(from: u32, to: u32) -> Result<Self, AudioError> {
        if from == 0 || to == 0 || !from.is_multiple_of(50) || !to.is_multiple_of(50) {
            return Err(AudioError::Format(format!(
                "cannot convert 20 ms frames from {from} Hz to {to} Hz"
            )));
        }
        let inner = Fft::<f32>::new(
            from as usize,
            to as usize,
            (from / 50) as usize,
            1,
            FixedSync::Input,
        )
        .map_err(|e| AudioError::Resample(e.to_string()))?;
        let chunk_out = vec![0.0; inner.output_frames_max()];
        Ok(Self {
            inner,
            from,
            to,
            pending_in: Vec::new(),
            pending_out: std::collections::VecDeque::new(),
            chunk_out,
            primed: false,
        })
    }

    /// The input rate.
    pub fn from_rate(&self) -> u32 {
        self.from
    }

    /// Takes one frame of input and fills `out` with the next output samples (silence
    /// while the filter is still filling).
    pub fn process(&mut self, frame: &[i16], out: &mut [i16]) -> Result<(), AudioError> {
        let err = |e: &dyn std::fmt::Display| AudioError::Resample(e.to_string());
        self.pending_in
            .extend(frame.iter().map(|s| f32::from(*s) / 32768.0));
        loop {
            let need = self.inner.input_frames_next();
            if self.pending_in.len() < need {
                break;
            }
            let source =
                InterleavedSlice::new(&self.pending_in[..need], 1, need).map_err(|e| err(&e))?;
            let frames_out = self.chunk_out.len();
            let mut target = InterleavedSlice::new_mut(&mut self.chunk_out, 1, frames_out)
                .map_err(|e| err(&e))?;
            let (read, written) = self
                .inner
                .process_into_buffer(&source, &mut target, None)
                .map_err(|e| err(&e))?;
            self.pending_in.drain(..read.min(self.pending_in.len()));
            self.pending_out
                .extend(self.chunk_out[..written].iter().map(|x| super::to_i16(*x)));
        }
        // Start only with a chunk in reserve, so that frames whose input completed no
        // chunk still find samples: no gap in the middle of the stream.
        if !self.primed && self.pending_out.len() >= out.len() + self.chunk_out.len() {
            self.primed = true;
        }
        if !self.primed {
            out.fill(0);
            return Ok(());
        }
        let ready = out.len().min(self.pending_out.len());
        for (slot, sample) in out.iter_mut().zip(self.pending_out.drain(..ready)) {
            *slot = sample;
        }
        out[ready..].fill(0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::{AudioFrame, AudioSource, Tone};
    use crate::dsp::dominant_tone;

    fn tone(f: f64, rate: u32, frames: usize) -> Vec<i16> {
        let mut source = Tone::new(f, 0.5);
        let mut frame = AudioFrame::silent(rate);
        let mut out = Vec::new();
        for _ in 0..frames {
            source.fill(&mut frame);
            out.extend_from_slice(frame.samples());
        }
        out
    }

    #[test]
    fn tones_survive_conversion() {
        for (from, to) in [
            (48_000, 8_000),
            (8_000, 48_000),
            (44_100, 8_000),
            (16_000, 48_000),
        ] {
            let input = tone(1000.0, from, 25);
            let output = resample(&input, from, to).unwrap();
            let expected = input.len() * to as usize / from as usize;
            assert_eq!(output.len(), expected, "{from} -> {to}");
            // The middle, away from the edges.
            let middle = &output[output.len() / 4..output.len() * 3 / 4];
            assert_eq!(
                dominant_tone(middle, to, &[500.0, 1000.0, 1500.0, 2000.0]),
                Some(1000.0),
                "{from} -> {to}"
            );
        }
    }

    #[test]
    fn frames_stream_without_clicks() {
        for (from, to) in [(48_000, 8_000), (8_000, 48_000), (44_100, 16_000)] {
            let input = tone(1000.0, from, 40);
            let mut converter = FrameResampler::new(from, to).unwrap();
            let mut out = Vec::new();
            let mut frame = vec![0i16; (to / 50) as usize];
            for chunk in input.chunks((from / 50) as usize) {
                converter.process(chunk, &mut frame).unwrap();
                out.extend_from_slice(&frame);
            }
            assert_eq!(out.len(), 40 * (to / 50) as usize);
            // After the filter delay, the tone is clean: almost all its power at 1 kHz.
            let steady = &out[out.len() / 2..];
            // No gap once started: after the first sound, no run of 20 zeros.
            let first = out.iter().position(|s| *s != 0).expect("sound");
            assert!(
                !out[first..].windows(20).any(|w| w.iter().all(|s| *s == 0)),
                "{from} -> {to}: a gap"
            );
            let total = crate::dsp::level_dbfs(steady);
            let power = crate::dsp::Goertzel::new(1000.0, to).power(steady);
            assert!(
                (10.0 * power.log10() - total).abs() < 3.5,
                "{from} -> {to}: {power} vs {total} dBFS"
            );
        }
        assert!(FrameResampler::new(8000, 0).is_err());
        assert!(FrameResampler::new(8001, 8000).is_err());
    }

    #[test]
    fn edge_cases() {
        assert_eq!(resample(&[1, 2, 3], 8000, 8000).unwrap(), [1, 2, 3]);
        assert!(resample(&[], 8000, 48000).unwrap().is_empty());
        assert!(resample(&[1], 0, 8000).is_err());
    }
}
