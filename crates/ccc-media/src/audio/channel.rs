//! Frames to and from the program: a voice bot pushes what the call plays and pulls
//! what it hears.

use tokio::sync::mpsc;

use super::{AudioFrame, AudioSink, AudioSource};

/// The program's end for pushing frames into a call.
#[derive(Debug, Clone)]
pub struct FramePusher {
    frames: mpsc::Sender<AudioFrame>,
}

impl FramePusher {
    /// Queues a frame; waits while the queue is full (the call takes one per 20 ms).
    pub async fn push(&self, frame: AudioFrame) -> Result<(), AudioFrame> {
        self.frames.send(frame).await.map_err(|e| e.0)
    }

    /// Queues a frame if there is room, without waiting.
    pub fn try_push(&self, frame: AudioFrame) -> Result<(), AudioFrame> {
        self.frames.try_send(frame).map_err(|e| match e {
            mpsc::error::TrySendError::Full(f) | mpsc::error::TrySendError::Closed(f) => f,
        })
    }
}

/// A source fed by a [`FramePusher`]: silence whenever the program has nothing queued.
#[derive(Debug)]
pub struct PushedSource {
    frames: mpsc::Receiver<AudioFrame>,
    converter: Option<super::resample::FrameResampler>,
}

/// A source and the pusher that feeds it, queueing at most `capacity` frames.
pub fn pushed_source(capacity: usize) -> (FramePusher, PushedSource) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (
        FramePusher { frames: tx },
        PushedSource {
            frames: rx,
            converter: None,
        },
    )
}

impl AudioSource for PushedSource {
    fn fill(&mut self, frame: &mut AudioFrame) -> bool {
        match self.frames.try_recv() {
            Ok(pushed) if pushed.rate() == frame.rate() => {
                frame.samples_mut().copy_from_slice(pushed.samples());
                true
            }
            Ok(pushed) => {
                let rate = frame.rate();
                if self
                    .converter
                    .as_ref()
                    .is_none_or(|c| c.from_rate() != pushed.rate())
                {
                    self.converter = super::resample::FrameResampler::new(pushed.rate(), rate).ok();
                }
                // A rate that cannot be converted plays as silence.
                let converted = self
                    .converter
                    .as_mut()
                    .map(|c| c.process(pushed.samples(), frame.samples_mut()));
                if !matches!(converted, Some(Ok(()))) {
                    frame.samples_mut().fill(0);
                }
                true
            }
            Err(_) => {
                frame.samples_mut().fill(0);
                false
            }
        }
    }
}

/// A sink that hands every frame to the program; frames are dropped (and counted) when
/// the program does not keep up, so the call never waits on it.
#[derive(Debug)]
pub struct PulledSink {
    frames: mpsc::Sender<AudioFrame>,
    dropped: u64,
}

impl PulledSink {
    /// Frames dropped because the program's queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// A sink and the receiver the program reads from, queueing at most `capacity` frames.
pub fn pulled_sink(capacity: usize) -> (PulledSink, mpsc::Receiver<AudioFrame>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (
        PulledSink {
            frames: tx,
            dropped: 0,
        },
        rx,
    )
}

impl AudioSink for PulledSink {
    fn write(&mut self, frame: &AudioFrame) {
        if self.frames.try_send(frame.clone()).is_err() {
            self.dropped += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushed_frames_play_then_silence() {
        let (pusher, mut source) = pushed_source(4);
        let mut frame = AudioFrame::silent(8000);
        frame.samples_mut().fill(7);
        pusher.try_push(frame.clone()).unwrap();
        let mut out = AudioFrame::silent(8000);
        assert!(source.fill(&mut out));
        assert!(out.samples().iter().all(|s| *s == 7));
        assert!(!source.fill(&mut out));
        assert!(out.samples().iter().all(|s| *s == 0));
        // A frame at another rate is converted.
        pusher.try_push(AudioFrame::silent(48_000)).unwrap();
        assert!(source.fill(&mut out));
        assert_eq!(out.samples().len(), 160);
    }

    #[test]
    fn frames_pushed_at_44_1_khz_play_without_gaps() {
        // A bot pushing CD-rate frames for 25 s into an 8 kHz call: 20 ms is 882
        // samples there; at 880 the converter fell behind by a chunk every 9 s.
        assert_eq!(AudioFrame::len_at(44_100), 882);
        let (pusher, mut source) = pushed_source(4);
        let mut tone = crate::audio::Tone::new(1000.0, 0.5);
        let mut heard = Vec::new();
        for _ in 0..1250 {
            let mut frame = AudioFrame::silent(44_100);
            crate::audio::AudioSource::fill(&mut tone, &mut frame);
            pusher.try_push(frame).unwrap();
            let mut out = AudioFrame::silent(8000);
            assert!(source.fill(&mut out));
            heard.extend_from_slice(out.samples());
        }
        let first = heard.iter().position(|s| *s != 0).unwrap();
        let longest_zeros = heard[first..]
            .split(|s| *s != 0)
            .map(<[i16]>::len)
            .max()
            .unwrap_or(0);
        assert!(longest_zeros < 8, "a gap of {longest_zeros} samples");
    }

    #[test]
    fn a_slow_program_loses_frames_not_the_call() {
        let (mut sink, mut rx) = pulled_sink(2);
        for _ in 0..5 {
            sink.write(&AudioFrame::silent(8000));
        }
        assert_eq!(sink.dropped(), 3);
        assert!(rx.try_recv().is_ok());
    }
}
