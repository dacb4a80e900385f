//! The seam between this crate and a sound system: [`AudioBackend`], and the ends of
//! the sample rings that its audio callbacks write to and read from.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use super::worker::Message;
use super::{DeviceError, DeviceInfo, Direction, StreamFormat};

/// A sound system: lists devices and opens streams on them.
///
/// Implementations call the [`CaptureWriter`] or [`PlaybackReader`] they are given from
/// their audio callbacks (any thread), and the [`FaultNotifier`] when the stream breaks.
/// Dropping the returned [`OpenStream`] must stop the stream.
pub trait AudioBackend: Send + Sync + 'static {
    /// The devices of one direction, in the system's order.
    fn devices(&self, direction: Direction) -> Result<Vec<DeviceInfo>, DeviceError>;

    /// The format a stream on `device` would have: `wanted_rate` when the device can do
    /// it, else a rate it can do (a multiple of 50); one or two channels preferred.
    fn format(&self, device: &DeviceInfo, wanted_rate: u32) -> Result<StreamFormat, DeviceError>;

    /// Starts capturing from `device` in `format`, handing every callback's samples to
    /// `writer`.
    fn open_capture(
        &self,
        device: &DeviceInfo,
        format: StreamFormat,
        writer: CaptureWriter,
        faults: FaultNotifier,
    ) -> Result<OpenStream, DeviceError>;

    /// Starts playing to `device` in `format`, filling every callback's buffer from
    /// `reader`.
    fn open_playback(
        &self,
        device: &DeviceInfo,
        format: StreamFormat,
        reader: PlaybackReader,
        faults: FaultNotifier,
    ) -> Result<OpenStream, DeviceError>;
}

/// A running stream; dropping it stops the stream.
pub struct OpenStream(#[allow(dead_code)] Box<dyn Send>);

impl OpenStream {
    /// Wraps whatever keeps the backend's stream alive (cpal's `Stream`, a thread guard).
    pub fn new(stream: impl Send + 'static) -> Self {
        Self(Box::new(stream))
    }
}

impl std::fmt::Debug for OpenStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpenStream")
    }
}

/// Tells the device's watcher that a stream broke (the device was unplugged, the
/// system invalidated the stream). Cheap to clone; calling it from an audio callback
/// does not block.
#[derive(Debug, Clone)]
pub struct FaultNotifier {
    to_worker: mpsc::Sender<Message>,
    generation: u64,
}

impl FaultNotifier {
    pub(super) fn new(to_worker: mpsc::Sender<Message>, generation: u64) -> Self {
        Self {
            to_worker,
            generation,
        }
    }

    /// The stream is lost, for `reason`; the next device is opened.
    pub fn lost(&self, reason: impl Into<String>) {
        let _ = self.to_worker.send(Message::Fault {
            generation: self.generation,
            reason: reason.into(),
        });
    }
}

/// Counters shared by the callback side and the call side of one microphone or speaker.
#[derive(Debug, Default)]
pub(super) struct Counters {
    /// Frames (per channel) the callbacks handled; the stall watchdog reads it.
    pub(super) callback_frames: AtomicU64,
    /// Samples dropped because a queue was full.
    pub(super) dropped: AtomicU64,
    /// Times the consumer found a queue empty.
    pub(super) underruns: AtomicU64,
}

/// The capture callback's end: takes interleaved samples, mixes them to mono and
/// queues them for [`Microphone::fill`](super::Microphone). Never blocks; when the
/// queue is full the newest samples are dropped (and counted).
pub struct CaptureWriter {
    ring: rtrb::Producer<f32>,
    channels: usize,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for CaptureWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureWriter")
            .field("channels", &self.channels)
            .finish_non_exhaustive()
    }
}

impl CaptureWriter {
    pub(super) fn new(ring: rtrb::Producer<f32>, channels: u16, counters: Arc<Counters>) -> Self {
        Self {
            ring,
            channels: usize::from(channels.max(1)),
            counters,
        }
    }

    /// The channels of the interleaved data.
    pub fn channels(&self) -> u16 {
        u16::try_from(self.channels).unwrap_or(u16::MAX)
    }

    /// Queues one callback's interleaved samples, each converted to `f32` in -1..1 by
    /// `to_f32`.
    pub fn write_interleaved<T: Copy>(&mut self, data: &[T], to_f32: impl Fn(T) -> f32) {
        let frames = data.len() / self.channels;
        self.counters
            .callback_frames
            .fetch_add(frames as u64, Ordering::Relaxed);
        let room = frames.min(self.ring.slots());
        let scale = 1.0 / self.channels as f32;
        let mono = data
            .chunks_exact(self.channels)
            .map(|frame| frame.iter().map(|s| to_f32(*s)).sum::<f32>() * scale);
        if let Ok(chunk) = self.ring.write_chunk_uninit(room) {
            chunk.fill_from_iter(mono);
        }
        if frames > room {
            self.counters
                .dropped
                .fetch_add((frames - room) as u64, Ordering::Relaxed);
        }
    }
}

/// The playback callback's end: fills interleaved buffers with what
/// [`Speaker::write`](super::Speaker) queued, the same sample on every channel. Plays
/// silence until `prebuffer` samples are queued, and again after running dry.
pub struct PlaybackReader {
    ring: rtrb::Consumer<f32>,
    channels: usize,
    prebuffer: usize,
    primed: bool,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for PlaybackReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlaybackReader")
            .field("channels", &self.channels)
            .field("prebuffer", &self.prebuffer)
            .finish_non_exhaustive()
    }
}

impl PlaybackReader {
    pub(super) fn new(
        ring: rtrb::Consumer<f32>,
        channels: u16,
        prebuffer: usize,
        counters: Arc<Counters>,
    ) -> Self {
        Self {
            ring,
            channels: usize::from(channels.max(1)),
            prebuffer,
            primed: false,
            counters,
        }
    }

    /// The channels of the interleaved data.
    pub fn channels(&self) -> u16 {
        u16::try_from(self.channels).unwrap_or(u16::MAX)
    }

    /// Fills one callback's interleaved buffer, each sample converted from `f32` in
    /// -1..1 by `from_f32`.
    pub fn read_interleaved<T: Copy>(&mut self, data: &mut [T], from_f32: impl Fn(f32) -> T) {
        let frames = data.len() / self.channels;
        self.counters
            .callback_frames
            .fetch_add(frames as u64, Ordering::Relaxed);
        if !self.primed && self.ring.slots() >= self.prebuffer.max(1) {
            self.primed = true;
        }
        let ready = if self.primed {
            frames.min(self.ring.slots())
        } else {
            0
        };
        if self.primed && ready < frames {
            self.primed = false;
            self.counters.underruns.fetch_add(1, Ordering::Relaxed);
        }
        let mut out = data.chunks_exact_mut(self.channels);
        if let Ok(chunk) = self.ring.read_chunk(ready) {
            for (sample, frame) in chunk.into_iter().zip(&mut out) {
                frame.fill(from_f32(sample));
            }
        }
        for frame in out {
            frame.fill(from_f32(0.0));
        }
    }
}
