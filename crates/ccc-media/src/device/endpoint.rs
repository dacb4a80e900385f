//! [`Microphone`] and [`Speaker`]: the call side of a device, and the
//! [`DeviceMonitor`] that tells the program what happens to it.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, mpsc};

use super::backend::Counters;
use super::worker::{self, Handoff, Message};
use super::{
    AudioBackend, DeviceError, DeviceEvent, DeviceInfo, DeviceOptions, Direction, StreamFormat,
};
use crate::audio::{AudioFrame, AudioSink, AudioSource, FrameResampler, to_i16};

/// What happens to a microphone's or speaker's device, and its figures.
#[derive(Debug)]
pub struct DeviceMonitor {
    events: tokio::sync::mpsc::Receiver<DeviceEvent>,
    current: Arc<Mutex<Option<(DeviceInfo, StreamFormat)>>>,
    counters: Arc<Counters>,
}

/// A microphone's or speaker's figures since it was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeviceStats {
    /// Frames (per channel) the device's callbacks delivered or took.
    pub device_frames: u64,
    /// Samples dropped because a queue was full (the device ran ahead of the call, or
    /// the call ahead of the device).
    pub dropped_samples: u64,
    /// Times a queue was found empty (silence filled in).
    pub underruns: u64,
}

impl DeviceMonitor {
    /// The next event; `None` once the microphone or speaker is dropped and every event
    /// was read.
    pub async fn next_event(&mut self) -> Option<DeviceEvent> {
        self.events.recv().await
    }

    /// The next event if there is one.
    pub fn try_next_event(&mut self) -> Option<DeviceEvent> {
        self.events.try_recv().ok()
    }

    /// The device in use and its format (`None` while there is none).
    pub fn current(&self) -> Option<(DeviceInfo, StreamFormat)> {
        self.current.lock().ok().and_then(|c| c.clone())
    }

    /// The figures so far.
    pub fn stats(&self) -> DeviceStats {
        DeviceStats {
            device_frames: self.counters.callback_frames.load(Ordering::Relaxed),
            dropped_samples: self.counters.dropped.load(Ordering::Relaxed),
            underruns: self.counters.underruns.load(Ordering::Relaxed),
        }
    }
}

fn split(s: worker::Started) -> (DeviceMonitor, Control) {
    (
        DeviceMonitor {
            events: s.events,
            current: s.current,
            counters: Arc::clone(&s.counters),
        },
        Control {
            control: s.control,
            handoffs: s.handoffs,
            counters: s.counters,
        },
    )
}

/// The endpoint's link to its watcher thread; stops it when dropped.
#[derive(Debug)]
struct Control {
    control: mpsc::Sender<Message>,
    handoffs: mpsc::Receiver<Handoff>,
    counters: Arc<Counters>,
}

impl Drop for Control {
    fn drop(&mut self) {
        let _ = self.control.send(Message::Stop);
    }
}

/// Converts 20 ms frames between two rates, rebuilt when either changes.
#[derive(Debug, Default)]
struct Converter {
    inner: Option<(u32, u32, FrameResampler)>,
}

impl Converter {
    /// `input` at `from` Hz into `out` at `to` Hz; silence if the rates cannot be
    /// converted.
    fn convert(&mut self, input: &[i16], from: u32, to: u32, out: &mut [i16]) {
        if from == to {
            let n = input.len().min(out.len());
            out[..n].copy_from_slice(&input[..n]);
            out[n..].fill(0);
            return;
        }
        if !matches!(&self.inner, Some((f, t, _)) if *f == from && *t == to) {
            self.inner = FrameResampler::new(from, to).ok().map(|r| (from, to, r));
        }
        let converted = self.inner.as_mut().map(|(_, _, r)| r.process(input, out));
        if !matches!(converted, Some(Ok(()))) {
            out.fill(0);
        }
    }
}

/// A microphone as an [`AudioSource`]: 20 ms frames at whatever rate the call asks
/// for, from the chosen device, moving to the next device when it is lost.
#[derive(Debug)]
pub struct Microphone {
    link: Control,
    ring: Option<(rtrb::Consumer<f32>, u32)>,
    keep: std::time::Duration,
    samples: Vec<i16>,
    converter: Converter,
}

impl Microphone {
    /// Opens the microphone `options` prefer on `backend`, waiting at most
    /// `options.open_timeout` for it. Fails with [`DeviceError::NoDevice`] when no
    /// capture device can be opened; once open, losing every device does not end it
    /// (silence until one is back).
    pub fn open(
        backend: Arc<dyn AudioBackend>,
        options: DeviceOptions,
    ) -> Result<(Self, DeviceMonitor), DeviceError> {
        let keep = options.buffer;
        let (monitor, link) = split(worker::start(backend, Direction::Capture, options)?);
        Ok((
            Self {
                link,
                ring: None,
                keep,
                samples: Vec::new(),
                converter: Converter::default(),
            },
            monitor,
        ))
    }
}

impl AudioSource for Microphone {
    fn fill(&mut self, frame: &mut AudioFrame) -> bool {
        while let Ok(handoff) = self.link.handoffs.try_recv() {
            if let Handoff::Capture { ring, rate } = handoff {
                self.ring = Some((ring, rate));
            }
        }
        let Some((ring, rate)) = self.ring.as_mut() else {
            frame.samples_mut().fill(0);
            return true;
        };
        let rate = *rate;
        let need = (rate / 50) as usize;
        // The device's clock runs a little fast or slow against the call's: trim what
        // queued beyond the buffer, to half of it, so the delay stays bounded.
        let keep = (u128::from(rate) * self.keep.as_millis() / 1000) as usize;
        let queued = ring.slots();
        if queued > need + keep {
            let excess = queued - need - keep / 2;
            if let Ok(chunk) = ring.read_chunk(excess) {
                chunk.commit_all();
            }
            self.link
                .counters
                .dropped
                .fetch_add(excess as u64, Ordering::Relaxed);
        }
        self.samples.clear();
        let ready = need.min(ring.slots());
        if let Ok(chunk) = ring.read_chunk(ready) {
            self.samples.extend(chunk.into_iter().map(to_i16));
        }
        if ready < need {
            self.link.counters.underruns.fetch_add(1, Ordering::Relaxed);
            self.samples.resize(need, 0);
        }
        let to = frame.rate();
        self.converter
            .convert(&self.samples, rate, to, frame.samples_mut());
        true
    }
}

/// A speaker as an [`AudioSink`]: takes the call's 20 ms frames at any rate and plays
/// them on the chosen device, moving to the next device when it is lost.
#[derive(Debug)]
pub struct Speaker {
    link: Control,
    ring: Option<(rtrb::Producer<f32>, u32)>,
    samples: Vec<i16>,
    converter: Converter,
}

impl Speaker {
    /// Opens the speaker `options` prefer on `backend`, waiting at most
    /// `options.open_timeout` for it. Fails with [`DeviceError::NoDevice`] when no
    /// playback device can be opened; once open, losing every device does not end it
    /// (what it is given is dropped until one is back).
    pub fn open(
        backend: Arc<dyn AudioBackend>,
        options: DeviceOptions,
    ) -> Result<(Self, DeviceMonitor), DeviceError> {
        let (monitor, link) = split(worker::start(backend, Direction::Playback, options)?);
        Ok((
            Self {
                link,
                ring: None,
                samples: Vec::new(),
                converter: Converter::default(),
            },
            monitor,
        ))
    }
}

impl AudioSink for Speaker {
    fn write(&mut self, frame: &AudioFrame) {
        while let Ok(handoff) = self.link.handoffs.try_recv() {
            if let Handoff::Playback { ring, rate } = handoff {
                self.ring = Some((ring, rate));
            }
        }
        let Some((ring, rate)) = self.ring.as_mut() else {
            return;
        };
        let rate = *rate;
        self.samples.clear();
        self.samples.resize((rate / 50) as usize, 0);
        self.converter
            .convert(frame.samples(), frame.rate(), rate, &mut self.samples);
        let room = self.samples.len().min(ring.slots());
        if let Ok(chunk) = ring.write_chunk_uninit(room) {
            chunk.fill_from_iter(self.samples.iter().map(|s| f32::from(*s) / 32768.0));
        }
        if room < self.samples.len() {
            self.link
                .counters
                .dropped
                .fetch_add((self.samples.len() - room) as u64, Ordering::Relaxed);
        }
    }
}
