//! The media of one call without any I/O: every 20 ms tick takes a frame from the
//! source and gives the RTP packet to send (audio, or DTMF in its place), and plays
//! 20 ms into the sink and the recording; received packets go into the jitter buffer
//! (and events to the DTMF receiver). Each stats interval it measures the call. The
//! tokio task in `session.rs` drives it.
//!
//! Playout does not assume the far end's packet time: each packet is decoded whole
//! into a queue of audio, and the tick takes its 20 ms from there, so packets of 30,
//! 40 or 60 ms (G.711 gateways with `a=ptime`) or Opus's 40 to 120 ms play out whole.
//! A lost packet is concealed for as long as the last one lasted; RFC 4733 events,
//! which take the audio's place in the stream, stand for the time the event grew by.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtc::rtp;

use super::jitter::{JitterBuffer, Playout};
use crate::audio::{AudioFrame, AudioSink, AudioSource, CallRecorder};
use crate::codec::{Codec, Decoder, Encoder};
use crate::dtmf::{DtmfReceiver, DtmfSender, DtmfTiming};
use crate::quality::{
    CallStats, QualityAlert, QualityMonitor, ReceiveStats, Thresholds, units_to_ms,
};

/// What was negotiated for sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SendSetup {
    pub(crate) codec: Codec,
    pub(crate) payload_type: u8,
    /// telephone-event's payload type and clock rate, if negotiated.
    pub(crate) dtmf: Option<(u8, u32)>,
}

/// What the far end may send us: payload type to codec, and telephone-event types
/// with their clock rates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ReceiveSetup {
    pub(crate) codecs: HashMap<u8, Codec>,
    pub(crate) dtmf: Vec<(u8, u32)>,
}

/// A received packet waiting in the jitter buffer.
#[derive(Debug, Clone)]
enum Held {
    /// Audio of this payload type.
    Audio(u8, Bytes),
    /// An RFC 4733 event packet, in the audio's place: this many samples (at the PCM
    /// rate of the audio then playing) of silence.
    Event(usize),
}

/// Something the pipeline reports.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PipelineEvent {
    Dtmf(char),
    Stats(CallStats),
    Quality(QualityAlert),
}

/// Figures that come from outside the pipeline (webrtc-rs's RTCP).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OutsideFigures {
    pub(crate) rtt: Option<Duration>,
    pub(crate) remote_loss_percent: Option<f64>,
    pub(crate) remote_jitter_units: Option<u32>,
}

struct Interval {
    sent_sq: f64,
    sent_n: u64,
    received_sq: f64,
    received_n: u64,
}

impl Interval {
    fn new() -> Self {
        Self {
            sent_sq: 0.0,
            sent_n: 0,
            received_sq: 0.0,
            received_n: 0,
        }
    }
}

fn energy(samples: &[i16]) -> f64 {
    samples
        .iter()
        .map(|s| {
            let x = f64::from(*s) / 32768.0;
            x * x
        })
        .sum()
}

fn dbfs(sum_sq: f64, n: u64) -> f64 {
    if n == 0 || sum_sq == 0.0 {
        return f64::NEG_INFINITY;
    }
    #[allow(clippy::cast_precision_loss)]
    let mean = sum_sq / n as f64;
    10.0 * mean.log10()
}

/// The sans-IO media core of a call.
pub(crate) struct Pipeline {
    started: Instant,
    ssrc: u32,
    // Sending.
    source: Box<dyn AudioSource>,
    send: Option<SendSetup>,
    encoder: Option<Encoder>,
    frame: AudioFrame,
    payload: Vec<u8>,
    sequence: u16,
    timestamp: u32,
    dtmf_out: DtmfSender,
    dtmf_timing: DtmfTiming,
    opus_complexity: u8,
    sending: bool,
    /// Whether the call's media has flowed yet ([`Pipeline::start`]): until then the
    /// source and the digits wait, so a prompt plays from its start.
    flowing: bool,
    /// The next audio packet starts a talkspurt (the first, or the first after hold):
    /// it carries the RTP marker bit (RFC 3551 section 4.1).
    talkspurt: bool,
    muted: bool,
    packets_sent: u64,
    bytes_sent: u64,
    late_ticks: u64,
    // Receiving.
    sink: Box<dyn AudioSink>,
    receive: ReceiveSetup,
    decoders: HashMap<u8, Decoder>,
    jitter: JitterBuffer<Held>,
    jitter_depth: usize,
    /// Decoded audio not played yet, at `pcm_rate` (at most [`MAX_QUEUED_MS`]).
    pcm: VecDeque<i16>,
    pcm_rate: u32,
    /// Samples the last audio packet held: what a lost one is concealed for.
    last_packet_samples: usize,
    decoded: Vec<i16>,
    /// When the last RFC 4733 event packet came.
    last_event_at: Option<Instant>,
    /// The far end's SSRC, and one that sent a packet since (a switch takes two).
    remote_ssrc: Option<u32>,
    new_ssrc: Option<u32>,
    receive_stats: ReceiveStats,
    dtmf_in: DtmfReceiver,
    heard: AudioFrame,
    played: AudioFrame,
    volume: f32,
    last_receive_codec: Option<u8>,
    // Recording.
    recorder: Option<CallRecorder>,
    silent_agent: AudioFrame,
    recorder_failed: bool,
    // Measuring.
    interval: Interval,
    monitor: QualityMonitor,
    events: VecDeque<PipelineEvent>,
}

/// At most this many events wait to be drained (the shell drains after every input).
const MAX_EVENTS: usize = 256;
/// The deepest playout buffer a call may ask for, in packets.
const MAX_JITTER_DEPTH: usize = 20;
/// At most this many received packets wait in the playout buffer (a burst beyond it
/// drops the oldest).
const MAX_QUEUED_PACKETS: usize = 25;
/// At most this much decoded audio waits to be played: one packet of the longest
/// (120 ms) and more. Only a far end that sends faster than it should gets here; the
/// oldest audio goes.
const MAX_QUEUED_MS: u32 = 300;

impl Pipeline {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        now: Instant,
        ssrc: u32,
        source: Box<dyn AudioSource>,
        sink: Box<dyn AudioSink>,
        recorder: Option<CallRecorder>,
        dtmf_timing: DtmfTiming,
        thresholds: Thresholds,
        jitter_depth: usize,
    ) -> Self {
        Self {
            started: now,
            ssrc,
            source,
            send: None,
            encoder: None,
            frame: AudioFrame::silent(8000),
            payload: Vec::with_capacity(1500),
            sequence: (ssrc >> 8) as u16,
            timestamp: ssrc.rotate_left(13),
            dtmf_out: DtmfSender::new(8000, dtmf_timing),
            dtmf_timing,
            opus_complexity: crate::codec::opus::COMPLEXITY,
            sending: true,
            flowing: false,
            talkspurt: true,
            muted: false,
            packets_sent: 0,
            bytes_sent: 0,
            late_ticks: 0,
            sink,
            receive: ReceiveSetup::default(),
            decoders: HashMap::new(),
            jitter: JitterBuffer::new(jitter_depth.clamp(1, MAX_JITTER_DEPTH), MAX_QUEUED_PACKETS),
            jitter_depth: jitter_depth.clamp(1, MAX_JITTER_DEPTH),
            pcm: VecDeque::new(),
            pcm_rate: 8000,
            last_packet_samples: AudioFrame::len_at(8000),
            decoded: Vec::new(),
            last_event_at: None,
            remote_ssrc: None,
            new_ssrc: None,
            receive_stats: ReceiveStats::new(8000),
            dtmf_in: DtmfReceiver::new(),
            heard: AudioFrame::silent(8000),
            played: AudioFrame::silent(8000),
            volume: 1.0,
            last_receive_codec: None,
            recorder,
            silent_agent: AudioFrame::silent(8000),
            recorder_failed: false,
            interval: Interval::new(),
            monitor: QualityMonitor::new(thresholds),
            events: VecDeque::new(),
        }
    }

    fn emit(&mut self, event: PipelineEvent) {
        if self.events.len() < MAX_EVENTS {
            self.events.push_back(event);
        }
    }

    /// The next event, if any.
    pub(crate) fn poll_event(&mut self) -> Option<PipelineEvent> {
        self.events.pop_front()
    }

    /// The Opus encoder complexity of encoders made from now on.
    pub(crate) fn set_opus_complexity(&mut self, complexity: u8) {
        self.opus_complexity = complexity.min(10);
    }

    /// What was negotiated to send.
    pub(crate) fn set_send(&mut self, setup: SendSetup) -> Result<(), crate::codec::CodecError> {
        if self.send == Some(setup) {
            return Ok(());
        }
        let codec_changed = self.send.map(|s| s.codec) != Some(setup.codec);
        if codec_changed {
            self.encoder = Some(Encoder::with_opus_complexity(
                setup.codec,
                self.opus_complexity,
            )?);
            self.frame = AudioFrame::silent(setup.codec.pcm_rate());
        }
        let dtmf_rate = setup
            .dtmf
            .map_or(setup.codec.clock_rate(), |(_, rate)| rate);
        if self.send.and_then(|s| s.dtmf).map(|d| d.1) != Some(dtmf_rate) {
            self.dtmf_out = DtmfSender::new(dtmf_rate, self.dtmf_timing);
        }
        self.send = Some(setup);
        Ok(())
    }

    /// What the far end may send.
    pub(crate) fn set_receive(&mut self, setup: ReceiveSetup) {
        self.decoders.retain(|pt, _| setup.codecs.contains_key(pt));
        self.receive = setup;
    }

    /// The call's media flows (first connected): the source starts playing and queued
    /// digits go out. Before, each tick sends a silent packet, which nobody hears but
    /// which wakes webrtc-rs's driver and so speeds up connecting.
    pub(crate) fn start(&mut self) {
        if !self.flowing {
            self.flowing = true;
            self.talkspurt = true;
        }
    }

    /// Whether we send (not on hold) — the negotiated direction.
    pub(crate) fn set_sending(&mut self, sending: bool) {
        if sending && !self.sending {
            self.talkspurt = true;
        }
        self.sending = sending;
    }

    /// Mute (M31): silence is sent instead of the source.
    pub(crate) fn set_muted(&mut self, muted: bool) {
        self.muted = muted;
    }

    /// Playback volume (M30), 0 to 1.
    pub(crate) fn set_volume(&mut self, volume: f32) {
        self.volume = if volume.is_finite() {
            volume.clamp(0.0, 1.0)
        } else {
            1.0
        };
    }

    /// Another source from now on.
    pub(crate) fn set_source(&mut self, source: Box<dyn AudioSource>) {
        self.source = source;
    }

    /// Another sink from now on.
    pub(crate) fn set_sink(&mut self, sink: Box<dyn AudioSink>) {
        self.sink = sink;
    }

    /// Queues DTMF digits; false if telephone-event was not negotiated.
    pub(crate) fn send_dtmf(&mut self, digits: &str) -> Result<bool, crate::dtmf::DtmfError> {
        if self.send.and_then(|s| s.dtmf).is_none() {
            // Checked first, so a bad string still reports as such.
            crate::dtmf::DtmfSender::new(8000, self.dtmf_timing).send(digits)?;
            return Ok(false);
        }
        self.dtmf_out.send(digits)?;
        Ok(true)
    }

    /// One 20 ms tick, `lateness` after it was due: the packet to send, if any.
    pub(crate) fn tick(&mut self, now: Instant, lateness: Duration) -> Option<rtp::Packet> {
        if lateness > Duration::from_millis(u64::from(crate::audio::FRAME_MS)) {
            self.late_ticks += 1;
        }
        let _ = now;
        let packet = self.produce();
        self.play();
        packet
    }

    fn produce(&mut self) -> Option<rtp::Packet> {
        let setup = self.send?;
        let frame_units = setup.codec.frame_units();
        // The source runs every tick, so a file plays on in time while on hold or muted.
        let rate = setup.codec.pcm_rate();
        if self.frame.rate() != rate {
            self.frame = AudioFrame::silent(rate);
        }
        if !self.flowing {
            self.frame.samples_mut().fill(0);
        } else {
            self.source.fill(&mut self.frame);
            if self.muted || !self.sending {
                self.frame.samples_mut().fill(0);
            }
            self.interval.sent_sq += energy(self.frame.samples());
            self.interval.sent_n += self.frame.samples().len() as u64;
        }
        let timestamp = self.timestamp;
        self.timestamp = self.timestamp.wrapping_add(frame_units);
        if !self.sending {
            return None;
        }
        self.payload.clear();
        // The event's RTP timestamp is the audio's at its start (one SSRC, one clock);
        // only its duration field counts in the telephone-event's own clock units.
        let (payload_type, marker, rtp_timestamp) = if let Some((pt, _)) = setup.dtmf
            && self.flowing
            && let Some(dtmf) = self.dtmf_out.tick(timestamp)
        {
            self.payload.extend_from_slice(&dtmf.payload.encode());
            (pt, dtmf.marker, dtmf.timestamp)
        } else {
            let encoder = self.encoder.as_mut()?;
            if encoder.encode(&self.frame, &mut self.payload).is_err() {
                return None;
            }
            (
                setup.payload_type,
                self.flowing && std::mem::take(&mut self.talkspurt),
                timestamp,
            )
        };
        let sequence = self.sequence;
        self.sequence = self.sequence.wrapping_add(1);
        self.packets_sent += 1;
        self.bytes_sent += self.payload.len() as u64;
        Some(rtp::Packet {
            header: rtp::header::Header {
                version: 2,
                marker,
                payload_type,
                sequence_number: sequence,
                timestamp: rtp_timestamp,
                ssrc: self.ssrc,
                ..Default::default()
            },
            payload: Bytes::copy_from_slice(&self.payload),
        })
    }

    fn play(&mut self) {
        // Decode packets until a frame's worth is queued (or nothing is left to play).
        while self.pcm.len() < AudioFrame::len_at(self.pcm_rate) {
            match self.jitter.pop() {
                Playout::Packet(Held::Audio(pt, payload)) => self.decode(pt, &payload),
                Playout::Packet(Held::Event(samples)) => {
                    self.pcm.extend(std::iter::repeat_n(0, samples));
                }
                Playout::Lost => self.conceal(),
                Playout::Empty => break,
            }
        }
        let limit =
            AudioFrame::len_at(self.pcm_rate) * (MAX_QUEUED_MS / crate::audio::FRAME_MS) as usize;
        if self.pcm.len() > limit {
            let excess = self.pcm.len() - limit;
            self.pcm.drain(..excess);
        }
        if self.heard.rate() != self.pcm_rate {
            self.heard = AudioFrame::silent(self.pcm_rate);
        }
        let ready = self.pcm.len().min(self.heard.samples().len());
        let heard = self.heard.samples_mut();
        for (slot, sample) in heard.iter_mut().zip(self.pcm.drain(..ready)) {
            *slot = sample;
        }
        heard[ready..].fill(0);
        self.interval.received_sq += energy(self.heard.samples());
        self.interval.received_n += self.heard.samples().len() as u64;
        if self.played.rate() != self.heard.rate() {
            self.played = AudioFrame::silent(self.heard.rate());
        }
        let volume = self.volume;
        for (out, sample) in self
            .played
            .samples_mut()
            .iter_mut()
            .zip(self.heard.samples())
        {
            // |sample * volume| <= |sample| for volume in 0..=1.
            #[allow(clippy::cast_possible_truncation)]
            {
                *out = (f32::from(*sample) * volume) as i16;
            }
        }
        self.sink.write(&self.played);
        if let Some(recorder) = self.recorder.as_mut() {
            let agent = if self.send.is_some() {
                &self.frame
            } else {
                &self.silent_agent
            };
            if recorder.write(agent, &self.heard).is_err() && !self.recorder_failed {
                self.recorder_failed = true;
                tracing::warn!("the call recording failed; the call goes on unrecorded");
            }
        }
    }

    /// Decodes one packet whole into the playout queue.
    fn decode(&mut self, pt: u8, payload: &[u8]) {
        self.last_receive_codec = Some(pt);
        let Some(decoder) = decoder(&mut self.decoders, &self.receive, pt) else {
            return;
        };
        let rate = decoder.codec().pcm_rate();
        self.decoded.clear();
        // A packet that does not decode plays as a lost one.
        let samples = decoder
            .decode_into(payload, &mut self.decoded)
            .unwrap_or_default();
        if samples == 0 {
            self.conceal();
            return;
        }
        if rate != self.pcm_rate {
            // Another codec from now on: what is left of the last one goes.
            self.pcm.clear();
            self.pcm_rate = rate;
        }
        self.pcm.extend(&self.decoded);
        self.last_packet_samples = samples;
    }

    /// Conceals one lost packet, as long as the last one was.
    fn conceal(&mut self) {
        let Some(pt) = self.last_receive_codec else {
            return;
        };
        let Some(decoder) = decoder(&mut self.decoders, &self.receive, pt) else {
            return;
        };
        if decoder.codec().pcm_rate() != self.pcm_rate {
            return;
        }
        self.decoded.clear();
        decoder.conceal_into(self.last_packet_samples, &mut self.decoded);
        self.pcm.extend(&self.decoded);
    }

    /// Whether `ssrc` is the far end's source; a new source is taken on its second
    /// packet in a row (a gateway switching its media, or a stray packet of an old one),
    /// and the stream then starts afresh.
    fn is_remote_source(&mut self, ssrc: u32) -> bool {
        match self.remote_ssrc {
            None => self.remote_ssrc = Some(ssrc),
            Some(current) if current == ssrc => self.new_ssrc = None,
            Some(_) if self.new_ssrc == Some(ssrc) => {
                self.remote_ssrc = Some(ssrc);
                self.new_ssrc = None;
                self.jitter.restart();
                self.receive_stats.restart();
            }
            Some(_) => {
                self.new_ssrc = Some(ssrc);
                return false;
            }
        }
        true
    }

    /// A received RTP packet.
    pub(crate) fn on_rtp(&mut self, now: Instant, packet: &rtp::Packet) {
        if !self.is_remote_source(packet.header.ssrc) {
            return;
        }
        let pt = packet.header.payload_type;
        let seq = packet.header.sequence_number;
        if let Some(&(_, event_rate)) = self.receive.dtmf.iter().find(|(p, _)| *p == pt) {
            // An event shares the audio's sequence numbers but repeats its timestamp: it
            // counts for loss, not for jitter, and holds the audio's place in the jitter
            // buffer for the time it stands for: what the event grew by, or, for a
            // repeated end packet (sent at once by some, a packet time apart by others),
            // the time since the event's last packet, at most a packet time.
            self.receive_stats
                .on_untimed_packet(seq, packet.payload.len());
            let since_last = self
                .last_event_at
                .map_or(Duration::ZERO, |at| now.saturating_duration_since(at));
            self.last_event_at = Some(now);
            let samples = match self.dtmf_in.take(packet.header.timestamp, &packet.payload) {
                Ok(event) => {
                    if let Some(digit) = event.digit {
                        self.emit(PipelineEvent::Dtmf(digit));
                    }
                    if event.grew_by > 0 {
                        let samples = u64::from(event.grew_by) * u64::from(self.pcm_rate)
                            / u64::from(event_rate.max(1));
                        usize::try_from(samples).unwrap_or(usize::MAX)
                    } else {
                        let samples =
                            since_last.as_micros() * u128::from(self.pcm_rate) / 1_000_000;
                        usize::try_from(samples)
                            .unwrap_or(usize::MAX)
                            .min(self.last_packet_samples)
                    }
                    .min(
                        AudioFrame::len_at(self.pcm_rate)
                            * (crate::codec::MAX_PACKET_MS / crate::audio::FRAME_MS) as usize,
                    )
                }
                Err(e) => {
                    tracing::debug!("bad telephone-event packet: {e}");
                    0
                }
            };
            self.jitter.push(seq, Held::Event(samples));
            return;
        }
        let Some(codec) = self.receive.codecs.get(&pt).copied() else {
            return;
        };
        self.receive_stats.set_clock_rate(codec.clock_rate());
        self.receive_stats
            .on_packet(seq, packet.header.timestamp, packet.payload.len(), now);
        self.jitter
            .push(seq, Held::Audio(pt, packet.payload.clone()));
    }

    /// The figures of the interval that ends now; emits them (and any quality alert).
    pub(crate) fn measure(&mut self, now: Instant, outside: OutsideFigures) -> CallStats {
        let codec = self.send.map(|s| s.codec);
        let loss_percent = self.receive_stats.interval_loss_percent();
        let jitter_ms = self.receive_stats.jitter_ms();
        let rtt_ms = outside.rtt.map(|r| r.as_secs_f64() * 1000.0);
        // The playout buffer holds `jitter_depth` packets of the far end's packet time.
        #[allow(clippy::cast_precision_loss)]
        let buffer_ms = (self.jitter_depth * self.last_packet_samples) as f64 * 1000.0
            / f64::from(self.pcm_rate.max(1));
        let (r_factor, mos) = CallStats::estimate(
            codec.unwrap_or(Codec::Pcmu),
            loss_percent,
            jitter_ms,
            rtt_ms,
            buffer_ms,
        );
        let counters = self.jitter.counters();
        let stats = CallStats {
            at_ms: u64::try_from(now.saturating_duration_since(self.started).as_millis())
                .unwrap_or(u64::MAX),
            codec,
            packets_sent: self.packets_sent,
            bytes_sent: self.bytes_sent,
            packets_received: self.receive_stats.received(),
            bytes_received: self.receive_stats.bytes(),
            packets_lost: self.receive_stats.lost(),
            loss_percent,
            jitter_ms,
            remote_loss_percent: outside.remote_loss_percent,
            remote_jitter_ms: outside
                .remote_jitter_units
                .map(|u| units_to_ms(u64::from(u), codec.map_or(8000, Codec::clock_rate))),
            rtt_ms,
            level_sent_dbfs: dbfs(self.interval.sent_sq, self.interval.sent_n),
            level_received_dbfs: dbfs(self.interval.received_sq, self.interval.received_n),
            concealed_frames: counters.concealed,
            late_packets: counters.late,
            underruns: counters.underruns,
            late_ticks: self.late_ticks,
            r_factor,
            mos,
        };
        self.interval = Interval::new();
        // Quality is judged only while audio flows both ways.
        if self.receive_stats.received() > 0 {
            self.monitor.handle(&stats);
        }
        self.emit(PipelineEvent::Stats(stats.clone()));
        while let Some(alert) = self.monitor.poll_alert() {
            self.emit(PipelineEvent::Quality(alert));
        }
        stats
    }

    /// Closes the recording (on hang-up).
    pub(crate) fn finish_recording(&mut self) -> Result<(), crate::audio::AudioError> {
        match self.recorder.as_mut() {
            Some(recorder) => recorder.finish(),
            None => Ok(()),
        }
    }
}

/// The decoder of payload type `pt`, made on first use.
fn decoder<'a>(
    decoders: &'a mut HashMap<u8, Decoder>,
    receive: &ReceiveSetup,
    pt: u8,
) -> Option<&'a mut Decoder> {
    let codec = *receive.codecs.get(&pt)?;
    match decoders.entry(pt) {
        std::collections::hash_map::Entry::Occupied(e) => Some(e.into_mut()),
        std::collections::hash_map::Entry::Vacant(e) => Some(e.insert(Decoder::new(codec).ok()?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::{Silence, Tone, pulled_sink};
    use crate::dsp::dominant_tone;

    fn pipeline(
        source: Box<dyn AudioSource>,
    ) -> (Pipeline, tokio::sync::mpsc::Receiver<AudioFrame>) {
        let (sink, rx) = pulled_sink(1000);
        let mut p = Pipeline::new(
            Instant::now(),
            0x1234_5678,
            source,
            Box::new(sink),
            None,
            DtmfTiming::default(),
            Thresholds::default(),
            2,
        );
        p.start();
        (p, rx)
    }

    fn setup(codec: Codec) -> (SendSetup, ReceiveSetup) {
        let send = SendSetup {
            codec,
            payload_type: codec.payload_type(),
            dtmf: Some((101, 8000)),
        };
        let receive = ReceiveSetup {
            codecs: [(codec.payload_type(), codec)].into_iter().collect(),
            dtmf: vec![(101, 8000)],
        };
        (send, receive)
    }

    /// Two pipelines wired back to back on simulated time.
    #[test]
    fn tone_and_digits_cross_between_two_pipelines() {
        for codec in Codec::ALL {
            let (mut a, _) = pipeline(Box::new(Tone::new(1000.0, 0.4)));
            let (mut b, mut heard) = pipeline(Box::new(Silence));
            let (send, receive) = setup(codec);
            a.set_send(send).unwrap();
            b.set_receive(receive);
            assert!(a.send_dtmf("19#").unwrap());
            let t0 = Instant::now();
            let mut samples = Vec::new();
            for i in 0..100u64 {
                let now = t0 + Duration::from_millis(20 * i);
                if let Some(packet) = a.tick(now, Duration::ZERO) {
                    b.on_rtp(now, &packet);
                }
                b.tick(now, Duration::ZERO);
                while let Ok(frame) = heard.try_recv() {
                    samples.extend_from_slice(frame.samples());
                }
            }
            let digits: String = std::iter::from_fn(|| b.poll_event())
                .filter_map(|e| match e {
                    PipelineEvent::Dtmf(d) => Some(d),
                    _ => None,
                })
                .collect();
            assert_eq!(digits, "19#", "{codec}");
            let rate = codec.pcm_rate();
            let tail = &samples[samples.len() - rate as usize / 2..];
            assert_eq!(
                dominant_tone(tail, rate, &[440.0, 1000.0]),
                Some(1000.0),
                "{codec}"
            );
            let stats = b.measure(t0 + Duration::from_secs(2), OutsideFigures::default());
            assert_eq!(stats.packets_lost, 0, "{codec}");
            assert!(stats.packets_received >= 99);
        }
    }

    /// The far end's packets of `packet_ms` each: a 1 kHz tone, numbered on from
    /// `seq`, timestamps on the codec's clock.
    fn far_end(codec: Codec, packet_ms: u32, count: u32, ssrc: u32, seq: u16) -> Vec<rtp::Packet> {
        let rate = codec.pcm_rate();
        let per_packet = (rate / 1000 * packet_ms) as usize;
        let mut tone = Tone::new(1000.0, 0.4);
        let mut samples = Vec::new();
        let mut frame = AudioFrame::silent(rate);
        while samples.len() < per_packet * count as usize {
            tone.fill(&mut frame);
            samples.extend_from_slice(frame.samples());
        }
        let mut opus = (codec == Codec::Opus)
            .then(|| opus_rs::OpusEncoder::new(16_000, 1, opus_rs::Application::Voip).unwrap());
        (0..count)
            .map(|i| {
                let pcm = &samples[per_packet * i as usize..per_packet * (i as usize + 1)];
                let mut payload = Vec::new();
                match (codec, opus.as_mut()) {
                    (Codec::Opus, Some(encoder)) => {
                        let mut out = vec![0u8; 1275];
                        let n = encoder.encode_i16(pcm, per_packet, &mut out).unwrap();
                        payload.extend_from_slice(&out[..n]);
                    }
                    (Codec::Pcma, _) => crate::codec::g711::alaw_encode_into(pcm, &mut payload),
                    _ => crate::codec::g711::ulaw_encode_into(pcm, &mut payload),
                }
                rtp::Packet {
                    header: rtp::header::Header {
                        version: 2,
                        payload_type: codec.payload_type(),
                        sequence_number: seq.wrapping_add(i as u16),
                        timestamp: i * codec.clock_rate() / 1000 * packet_ms,
                        ssrc,
                        ..Default::default()
                    },
                    payload: Bytes::from(payload),
                }
            })
            .collect()
    }

    /// Plays `packets`, one every `packet_ms`, into a pipeline ticking every 20 ms;
    /// gives what it heard and the pipeline.
    fn hear(codec: Codec, packets: &[rtp::Packet], packet_ms: u32) -> (Vec<i16>, Pipeline) {
        let (mut b, mut heard) = pipeline(Box::new(Silence));
        b.set_receive(setup(codec).1);
        let t0 = Instant::now();
        let mut samples = Vec::new();
        let mut next = 0;
        // 10 ms steps: every packet time and every tick fall on one.
        let end = packets.len() as u32 * packet_ms + 200;
        for ms in (0..end).step_by(10) {
            let now = t0 + Duration::from_millis(u64::from(ms));
            if ms % packet_ms == 0 && next < packets.len() {
                b.on_rtp(now, &packets[next]);
                next += 1;
            }
            if ms % 20 == 0 {
                b.tick(now, Duration::ZERO);
            }
            while let Ok(frame) = heard.try_recv() {
                samples.extend_from_slice(frame.samples());
            }
        }
        (samples, b)
    }

    /// The longest run of zero samples in `samples`.
    fn longest_silence(samples: &[i16]) -> usize {
        samples
            .split(|s| *s != 0)
            .map(<[i16]>::len)
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn packets_of_any_common_duration_play_out_whole() {
        for (codec, packet_ms) in [
            (Codec::Pcmu, 10),
            (Codec::Pcmu, 30),
            (Codec::Pcmu, 40),
            (Codec::Pcma, 60),
            (Codec::Opus, 40),
            (Codec::Opus, 60),
        ] {
            let count = 3000 / packet_ms;
            let packets = far_end(codec, packet_ms, count, 7, 100);
            let (samples, b) = hear(codec, &packets, packet_ms);
            let rate = codec.pcm_rate() as usize;
            let first = samples.iter().position(|s| *s != 0).expect("sound");
            let last = samples.iter().rposition(|s| *s != 0).unwrap();
            let played = &samples[first..=last];
            // Everything sent is heard: 3 s, within a packet (Opus's own delay).
            let sent = rate * 3;
            assert!(
                played.len().abs_diff(sent) <= rate * packet_ms as usize / 1000,
                "{codec} {packet_ms} ms: heard {} of {sent} samples",
                played.len()
            );
            // And without a gap: a 1 kHz tone never rests for a millisecond.
            assert!(
                longest_silence(played) < rate / 1000,
                "{codec} {packet_ms} ms: a gap of {} samples",
                longest_silence(played)
            );
            let counters = b.jitter.counters();
            assert_eq!(
                (counters.concealed, counters.underruns, counters.late),
                (0, 1, 0),
                "{codec} {packet_ms} ms"
            );
            assert_eq!(
                dominant_tone(&played[played.len() / 2..], rate as u32, &[440.0, 1000.0]),
                Some(1000.0)
            );
        }
    }

    #[test]
    fn a_lost_long_packet_is_concealed_for_its_length() {
        let mut packets = far_end(Codec::Pcmu, 60, 30, 7, 0);
        packets.remove(15);
        let (samples, b) = hear(Codec::Pcmu, &packets, 60);
        assert_eq!(b.jitter.counters().concealed, 1);
        let first = samples.iter().position(|s| *s != 0).unwrap();
        let last = samples.iter().rposition(|s| *s != 0).unwrap();
        // 30 packets of 60 ms took their time: 29 heard and one concealed, the last
        // 20 ms of the concealment faded to silence.
        let heard = last + 1 - first;
        assert!(heard.abs_diff(29 * 480 + 480) <= 160, "{heard}");
    }

    #[test]
    fn a_new_source_plays_on_at_once() {
        // A gateway switches the media to another source: new SSRC, timestamps, and
        // numbers that happen to lie a little behind the old ones (taken as late, they
        // would be dropped). After one packet's wait the new stream plays.
        let mut packets = far_end(Codec::Pcmu, 20, 50, 7, 40_000);
        packets.extend(far_end(Codec::Pcmu, 20, 50, 9, 40_020));
        let (samples, b) = hear(Codec::Pcmu, &packets, 20);
        let counters = b.jitter.counters();
        assert_eq!(counters.late, 0);
        assert_eq!(counters.restarts, 1);
        let first = samples.iter().position(|s| *s != 0).unwrap();
        let last = samples.iter().rposition(|s| *s != 0).unwrap();
        assert!(
            longest_silence(&samples[first..=last]) <= 2 * 160 + 8,
            "{}",
            longest_silence(&samples[first..=last])
        );
        assert!((last + 1 - first).abs_diff(99 * 160) <= 2 * 160);
        let stats = b.receive_stats.clone();
        assert_eq!(stats.lost(), 0, "a new source is not loss");
    }

    /// An RFC 4733 packet of `digit` started at `timestamp`.
    fn event(seq: u16, timestamp: u32, duration: u16, end: bool) -> rtp::Packet {
        let payload = crate::dtmf::EventPayload {
            event: 5,
            end,
            volume: 10,
            duration,
        };
        rtp::Packet {
            header: rtp::header::Header {
                version: 2,
                payload_type: 101,
                marker: duration <= 400 && !end,
                sequence_number: seq,
                timestamp,
                ssrc: 7,
                ..Default::default()
            },
            payload: Bytes::copy_from_slice(&payload.encode()),
        }
    }

    #[test]
    fn a_digit_in_the_audio_s_place_neither_starves_nor_delays_playout() {
        // 1 s of G.711, a 150 ms digit, 1 s of G.711, as two kinds of sender do it:
        // event packets every 50 ms and the three end packets at once (browsers), or a
        // packet every 20 ms with the end packets 20 ms apart (this crate, Asterisk).
        for (step_ms, ends_apart) in [(50u32, false), (20, true)] {
            let audio = far_end(Codec::Pcmu, 20, 120, 7, 0);
            let mut schedule: Vec<(u32, rtp::Packet)> = Vec::new();
            let mut seq = 0u16;
            for (i, packet) in audio.iter().take(50).enumerate() {
                let mut packet = packet.clone();
                packet.header.sequence_number = seq;
                seq += 1;
                schedule.push((20 * i as u32, packet));
            }
            let start = 50 * 160;
            let mut at = 1000;
            let mut duration = 0u16;
            while duration < 1200 {
                duration += (step_ms * 8) as u16;
                schedule.push((at, event(seq, start, duration, false)));
                seq += 1;
                at += step_ms;
            }
            let last_event = at - step_ms;
            for k in 0..3 {
                let when = if ends_apart {
                    last_event + 20 * (k + 1)
                } else {
                    last_event
                };
                schedule.push((when, event(seq, start, duration, true)));
                seq += 1;
            }
            // Audio again where the sender's clock stands.
            let resume = if ends_apart {
                last_event + 80
            } else {
                last_event + step_ms
            };
            for (i, packet) in audio
                .iter()
                .skip(50 + (resume as usize - 1000) / 20)
                .take(50)
                .enumerate()
            {
                let mut packet = packet.clone();
                packet.header.sequence_number = seq;
                seq += 1;
                schedule.push((resume + 20 * i as u32, packet));
            }
            let (mut b, mut heard) = pipeline(Box::new(Silence));
            b.set_receive(setup(Codec::Pcmu).1);
            let t0 = Instant::now();
            let mut samples = Vec::new();
            let mut digits = String::new();
            let end = schedule.last().map_or(0, |(at, _)| *at) + 200;
            for ms in (0..end).step_by(10) {
                let now = t0 + Duration::from_millis(u64::from(ms));
                for (_, packet) in schedule.iter().filter(|(at, _)| *at == ms) {
                    b.on_rtp(now, packet);
                }
                if ms % 20 == 0 {
                    b.tick(now, Duration::ZERO);
                }
                while let Ok(frame) = heard.try_recv() {
                    samples.extend_from_slice(frame.samples());
                }
                while let Some(event) = b.poll_event() {
                    if let PipelineEvent::Dtmf(d) = event {
                        digits.push(d);
                    }
                }
            }
            assert_eq!(digits, "5");
            let counters = b.jitter.counters();
            assert_eq!(
                (counters.underruns, counters.concealed),
                (1, 0),
                "{step_ms} ms: only the end of the call runs dry"
            );
            // The audio after the digit plays as late as the audio before: the digit
            // took its own time and no more.
            let first = samples.iter().position(|s| *s != 0).unwrap();
            let last = samples.iter().rposition(|s| *s != 0).unwrap();
            let span_ms = (last + 1 - first) / 8;

            let sent_ms = (resume + 1000) as usize;
            assert!(
                span_ms.abs_diff(sent_ms) <= 20,
                "{step_ms} ms: {span_ms} ms heard for {sent_ms} ms sent"
            );
            assert!(
                b.measure(t0 + Duration::from_secs(3), OutsideFigures::default())
                    .jitter_ms
                    < 1.0
            );
        }
    }

    #[test]
    fn hold_and_mute_send_silence_or_nothing_and_volume_scales() {
        let (mut a, _) = pipeline(Box::new(Tone::new(1000.0, 0.5)));
        let (send, _) = setup(Codec::Pcmu);
        a.set_send(send).unwrap();
        let now = Instant::now();
        let first = a.tick(now, Duration::ZERO).unwrap();
        assert!(first.header.marker, "the first packet starts a talkspurt");
        assert!(!a.tick(now, Duration::ZERO).unwrap().header.marker);
        a.set_muted(true);
        let muted = a.tick(now, Duration::ZERO).unwrap();
        assert!(muted.payload.iter().all(|b| *b == 0xFF), "mu-law silence");
        a.set_sending(false);
        assert!(
            a.tick(now, Duration::ZERO).is_none(),
            "on hold nothing is sent"
        );
        a.set_sending(true);
        let resumed = a.tick(now, Duration::ZERO).unwrap();
        assert!(
            resumed.header.marker,
            "the first packet after hold starts a talkspurt"
        );
        assert_eq!(
            resumed
                .header
                .timestamp
                .wrapping_sub(first.header.timestamp),
            4 * 160,
            "the clock ran on while held"
        );
        assert_eq!(
            resumed.header.sequence_number,
            first.header.sequence_number.wrapping_add(3),
            "no number skipped"
        );
        a.set_sending(false);
        assert!(a.send_dtmf("1").is_ok());
        assert!(a.send_dtmf("x").is_err());
        a.set_volume(f32::NAN);
        assert_eq!(a.volume, 1.0);
        a.set_volume(3.0);
        assert_eq!(a.volume, 1.0);
        a.tick(now, Duration::from_millis(50));
        assert_eq!(a.late_ticks, 1);
    }

    #[test]
    fn a_wild_jitter_depth_is_held_in_bounds() {
        let (sink, _rx) = pulled_sink(10);
        let mut p = Pipeline::new(
            Instant::now(),
            1,
            Box::new(Silence),
            Box::new(sink),
            None,
            DtmfTiming::default(),
            Thresholds::default(),
            usize::MAX,
        );
        let stats = p.measure(Instant::now(), OutsideFigures::default());
        assert!(stats.mos >= 1.0);
        assert_eq!(p.jitter_depth, MAX_JITTER_DEPTH);
    }

    #[test]
    fn nothing_is_played_or_pressed_before_the_media_flows() {
        // A prompt that starts before the call connects would lose its start: until
        // `start` the source is not read and digits wait, while silent packets (which
        // wake webrtc-rs's driver) still go out.
        let (sink, _rx) = pulled_sink(10);
        let mut p = Pipeline::new(
            Instant::now(),
            7,
            Box::new(Tone::new(1000.0, 0.3)),
            Box::new(sink),
            None,
            DtmfTiming::default(),
            Thresholds::default(),
            2,
        );
        let (send, _) = setup(Codec::Pcmu);
        p.set_send(send).unwrap();
        p.send_dtmf("5").unwrap();
        let now = Instant::now();
        for _ in 0..10 {
            let packet = p.tick(now, Duration::ZERO).expect("a packet");
            assert_eq!(packet.header.payload_type, 0, "no digit yet");
            assert!(!packet.header.marker);
            let silence = crate::codec::g711::ulaw_encode(0);
            assert!(packet.payload.iter().all(|b| *b == silence), "silence");
        }
        p.start();
        let first = p.tick(now, Duration::ZERO).expect("a packet");
        assert_eq!(
            first.header.payload_type, 101,
            "the waiting digit goes first"
        );
        assert!(first.header.marker, "an event's first packet is marked");
    }

    #[test]
    fn an_event_beside_opus_carries_the_audio_s_timestamp() {
        // Opus (48 kHz clock) with telephone-event/8000: the event starts where the
        // audio stands, to the unit, and its duration counts 8 kHz units. (SSRC 1 gives
        // a first timestamp that is no multiple of 6, which a round trip through the
        // 8 kHz clock would have moved.)
        let (sink, _rx) = pulled_sink(10);
        let mut a = Pipeline::new(
            Instant::now(),
            1,
            Box::new(Silence),
            Box::new(sink),
            None,
            DtmfTiming::default(),
            Thresholds::default(),
            2,
        );
        a.set_send(SendSetup {
            codec: Codec::Opus,
            payload_type: 111,
            dtmf: Some((101, 8000)),
        })
        .unwrap();
        a.start();
        let now = Instant::now();
        let audio = a.tick(now, Duration::ZERO).unwrap();
        a.send_dtmf("7").unwrap();
        let event = a.tick(now, Duration::ZERO).unwrap();
        assert_eq!(event.header.payload_type, 101);
        assert_eq!(
            event.header.timestamp,
            audio.header.timestamp.wrapping_add(960)
        );
        let payload = crate::dtmf::EventPayload::decode(&event.payload).unwrap();
        assert_eq!(payload.duration, 160);
    }

    #[test]
    fn without_telephone_event_dtmf_is_refused_for_sip_info() {
        let (mut a, _) = pipeline(Box::new(Silence));
        a.set_send(SendSetup {
            codec: Codec::Pcma,
            payload_type: 8,
            dtmf: None,
        })
        .unwrap();
        assert_eq!(a.send_dtmf("123"), Ok(false));
    }
}
