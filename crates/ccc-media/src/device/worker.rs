//! The thin shell around [`Failover`]: one thread per microphone or speaker that lists
//! devices, opens and closes streams, hands the call side its end of each new ring,
//! and watches for faults and stalls.
//!
//! A thread rather than a task: the backends' calls (cpal's) are blocking and some take
//! milliseconds, and the call's media task must never wait on them.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use super::backend::Counters;
use super::failover::{Action, Failover};
use super::{
    AudioBackend, CaptureWriter, DeviceError, DeviceEvent, DeviceInfo, DeviceOptions, Direction,
    FaultNotifier, OpenStream, PlaybackReader, StreamFormat,
};

/// To the worker.
#[derive(Debug)]
pub(crate) enum Message {
    /// A stream of this generation broke.
    Fault {
        /// Which stream (older streams' late reports are ignored).
        generation: u64,
        /// What the backend said.
        reason: String,
    },
    /// The microphone or speaker was dropped.
    Stop,
}

/// The call side's end of a new stream's ring.
pub(super) enum Handoff {
    /// Samples from the microphone, mono at `rate`.
    Capture {
        ring: rtrb::Consumer<f32>,
        rate: u32,
    },
    /// Samples to the speaker, mono at `rate`.
    Playback {
        ring: rtrb::Producer<f32>,
        rate: u32,
    },
}

/// What [`start`] gives the endpoint.
pub(super) struct Started {
    pub(super) control: mpsc::Sender<Message>,
    pub(super) handoffs: mpsc::Receiver<Handoff>,
    pub(super) events: tokio::sync::mpsc::Receiver<DeviceEvent>,
    pub(super) current: Arc<Mutex<Option<(DeviceInfo, StreamFormat)>>>,
    pub(super) counters: Arc<Counters>,
}

/// How many events wait for the program before new ones are dropped.
const EVENT_QUEUE: usize = 64;

/// Starts the watcher thread and waits (at most `options.open_timeout`) until the
/// first device is open; fails when none can be.
pub(super) fn start(
    backend: Arc<dyn AudioBackend>,
    direction: Direction,
    options: DeviceOptions,
) -> Result<Started, DeviceError> {
    let (control, inbox) = mpsc::channel();
    let (handoff_tx, handoffs) = mpsc::channel();
    let (event_tx, events) = tokio::sync::mpsc::channel(EVENT_QUEUE);
    let (ready_tx, ready) = mpsc::channel();
    let current = Arc::new(Mutex::new(None));
    let counters = Arc::new(Counters::default());
    let open_timeout = options.open_timeout;
    let worker = Worker {
        core: Failover::new(direction, &options),
        backend,
        direction,
        options,
        stream: None,
        generation: 0,
        to_self: control.clone(),
        inbox,
        handoffs: handoff_tx,
        events: event_tx,
        current: Arc::clone(&current),
        counters: Arc::clone(&counters),
        progress: (0, Instant::now()),
    };
    let name = match direction {
        Direction::Capture => "ccc-media-microphone",
        Direction::Playback => "ccc-media-speaker",
    };
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || worker.run(ready_tx))
        .map_err(|e| DeviceError::Backend(format!("cannot start the device thread: {e}")))?;
    match ready.recv_timeout(open_timeout) {
        Ok(Ok(())) => Ok(Started {
            control,
            handoffs,
            events,
            current,
            counters,
        }),
        Ok(Err(e)) => Err(e),
        Err(_) => {
            let _ = control.send(Message::Stop);
            Err(DeviceError::Timeout(open_timeout))
        }
    }
}

struct Worker {
    core: Failover,
    backend: Arc<dyn AudioBackend>,
    direction: Direction,
    options: DeviceOptions,
    stream: Option<OpenStream>,
    generation: u64,
    to_self: mpsc::Sender<Message>,
    inbox: mpsc::Receiver<Message>,
    handoffs: mpsc::Sender<Handoff>,
    events: tokio::sync::mpsc::Sender<DeviceEvent>,
    current: Arc<Mutex<Option<(DeviceInfo, StreamFormat)>>>,
    counters: Arc<Counters>,
    /// The callbacks' frame count when it last moved, and when.
    progress: (u64, Instant),
}

impl Worker {
    fn run(mut self, ready: mpsc::Sender<Result<(), DeviceError>>) {
        let mut ready = Some(ready);
        loop {
            let now = Instant::now();
            if !self.execute(now) {
                return;
            }
            self.publish();
            if let Some(ready) = ready.take() {
                if self.core.current().is_some() {
                    let _ = ready.send(Ok(()));
                } else {
                    let _ = ready.send(Err(DeviceError::NoDevice {
                        direction: self.direction,
                        reason: self.core.why_none(),
                    }));
                    return;
                }
            }
            let stall_check = self.options.stall_after.max(Duration::from_millis(20)) / 2;
            let mut wake = crate::time::after(now, stall_check);
            if let Some(at) = self.core.poll_timeout() {
                wake = wake.min(at);
            }
            match self.inbox.recv_timeout(wake.saturating_duration_since(now)) {
                Ok(Message::Fault { generation, reason }) => {
                    if generation == self.generation && self.stream.is_some() {
                        self.core.handle_lost(Instant::now(), reason);
                    }
                }
                Ok(Message::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let now = Instant::now();
                    self.core.handle_timeout(now);
                    self.check_stall(now);
                }
            }
        }
    }

    /// Carries out the core's actions; false when the call side is gone.
    fn execute(&mut self, now: Instant) -> bool {
        while let Some(action) = self.core.poll_action() {
            match action {
                Action::Scan => match self.backend.devices(self.direction) {
                    Ok(list) => self.core.handle_devices(now, list),
                    Err(e) => self.core.handle_scan_failed(now, e.to_string()),
                },
                Action::Open(device) => match self.open(&device) {
                    Ok(Some(format)) => self.core.handle_opened(format),
                    Ok(None) => return false,
                    Err(e) => self.core.handle_open_failed(now, e.to_string()),
                },
                Action::Close => {
                    self.stream = None;
                    self.generation += 1;
                }
            }
        }
        true
    }

    /// Opens `device`; `Ok(None)` when the call side is gone.
    fn open(&mut self, device: &DeviceInfo) -> Result<Option<StreamFormat>, DeviceError> {
        let format = self.backend.format(device, self.options.rate)?;
        if format.rate == 0 || !format.rate.is_multiple_of(50) || format.channels == 0 {
            return Err(DeviceError::Unsupported(format!(
                "{} Hz, {} channels",
                format.rate, format.channels
            )));
        }
        let frame = (format.rate / 50) as usize;
        let buffered = (u128::from(format.rate) * self.options.buffer.as_millis() / 1000) as usize;
        // Room for the buffer twice over (the microphone trims it back) and a frame.
        let capacity = 2 * buffered.max(frame) + frame;
        self.generation += 1;
        let faults = FaultNotifier::new(self.to_self.clone(), self.generation);
        let (producer, consumer) = rtrb::RingBuffer::new(capacity);
        let counters = Arc::clone(&self.counters);
        let (stream, handoff) = match self.direction {
            Direction::Capture => {
                let writer = CaptureWriter::new(producer, format.channels, counters);
                let stream = self.backend.open_capture(device, format, writer, faults)?;
                let handoff = Handoff::Capture {
                    ring: consumer,
                    rate: format.rate,
                };
                (stream, handoff)
            }
            Direction::Playback => {
                let prebuffer = (buffered / 5).max(1);
                let reader = PlaybackReader::new(consumer, format.channels, prebuffer, counters);
                let stream = self.backend.open_playback(device, format, reader, faults)?;
                let handoff = Handoff::Playback {
                    ring: producer,
                    rate: format.rate,
                };
                (stream, handoff)
            }
        };
        if self.handoffs.send(handoff).is_err() {
            return Ok(None);
        }
        self.stream = Some(stream);
        self.progress = (
            self.counters.callback_frames.load(Ordering::Relaxed),
            Instant::now(),
        );
        Ok(Some(format))
    }

    /// A stream whose callbacks stopped is lost.
    fn check_stall(&mut self, now: Instant) {
        if self.stream.is_none() {
            return;
        }
        let frames = self.counters.callback_frames.load(Ordering::Relaxed);
        if frames != self.progress.0 {
            self.progress = (frames, now);
        } else if now.duration_since(self.progress.1) >= self.options.stall_after {
            let silent = now.duration_since(self.progress.1);
            self.core.handle_lost(
                now,
                format!("no audio callback for {} ms", silent.as_millis()),
            );
        }
    }

    /// Tells the program what happened and keeps the current device up to date.
    fn publish(&mut self) {
        while let Some(event) = self.core.poll_event() {
            if let Ok(mut current) = self.current.lock() {
                match &event {
                    DeviceEvent::Opened { device, format } => {
                        *current = Some((device.clone(), *format));
                    }
                    DeviceEvent::Lost { .. } | DeviceEvent::NoDevice => *current = None,
                    _ => {}
                }
            }
            // A program that does not read its events loses the oldest news, never
            // the device.
            let _ = self.events.try_send(event);
        }
    }
}
