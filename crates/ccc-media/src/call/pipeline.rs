//! The media of one call without any I/O: every 20 ms tick takes a frame from the
//! source and gives the RTP packet to send (audio, or DTMF in its place), and plays
//! one frame from the jitter buffer into the sink and the recording; received packets
//! go into the jitter buffer or the DTMF receiver. Each stats interval it measures the
//! call. The tokio task in `session.rs` drives it.

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

/// What the far end may send us: payload type to codec, and telephone-event types.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ReceiveSetup {
    pub(crate) codecs: HashMap<u8, Codec>,
    pub(crate) dtmf: Vec<u8>,
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
    muted: bool,
    packets_sent: u64,
    bytes_sent: u64,
    late_ticks: u64,
    // Receiving.
    sink: Box<dyn AudioSink>,
    receive: ReceiveSetup,
    decoders: HashMap<u8, Decoder>,
    jitter: JitterBuffer<(u8, Bytes)>,
    jitter_depth: usize,
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
            muted: false,
            packets_sent: 0,
            bytes_sent: 0,
            late_ticks: 0,
            sink,
            receive: ReceiveSetup::default(),
            decoders: HashMap::new(),
            jitter: JitterBuffer::new(jitter_depth, 25),
            jitter_depth: jitter_depth.max(1),
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

    /// Whether we send (not on hold) — the negotiated direction.
    pub(crate) fn set_sending(&mut self, sending: bool) {
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
        self.source.fill(&mut self.frame);
        if self.muted || !self.sending {
            self.frame.samples_mut().fill(0);
        }
        self.interval.sent_sq += energy(self.frame.samples());
        self.interval.sent_n += self.frame.samples().len() as u64;
        let timestamp = self.timestamp;
        self.timestamp = self.timestamp.wrapping_add(frame_units);
        if !self.sending {
            return None;
        }
        self.payload.clear();
        let (payload_type, marker, rtp_timestamp) = if let Some((pt, rate)) = setup.dtmf
            && let Some(dtmf) = self
                .dtmf_out
                .tick(scale(timestamp, setup.codec.clock_rate(), rate))
        {
            self.payload.extend_from_slice(&dtmf.payload.encode());
            (
                pt,
                dtmf.marker,
                unscale(dtmf.timestamp, setup.codec.clock_rate(), rate),
            )
        } else {
            let encoder = self.encoder.as_mut()?;
            if encoder.encode(&self.frame, &mut self.payload).is_err() {
                return None;
            }
            (setup.payload_type, false, timestamp)
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
        let playout = self.jitter.pop();
        let played = match playout {
            Playout::Packet((pt, payload)) => {
                self.last_receive_codec = Some(pt);
                match decoder(&mut self.decoders, &self.receive, pt) {
                    Some(decoder) => decoder.decode(&payload, &mut self.heard).is_ok(),
                    None => false,
                }
            }
            Playout::Lost => match self.last_receive_codec {
                Some(pt) => match decoder(&mut self.decoders, &self.receive, pt) {
                    Some(decoder) => {
                        decoder.conceal(&mut self.heard);
                        true
                    }
                    None => false,
                },
                None => false,
            },
            Playout::Empty => false,
        };
        if !played {
            self.heard.samples_mut().fill(0);
        }
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

    /// A received RTP packet.
    pub(crate) fn on_rtp(&mut self, now: Instant, packet: &rtp::Packet) {
        let pt = packet.header.payload_type;
        if self.receive.dtmf.contains(&pt) {
            // DTMF shares the sequence numbers: count it, and keep the audio buffer's
            // sequence continuous by a placeholder the decoder conceals.
            self.receive_stats.on_packet(
                packet.header.sequence_number,
                packet.header.timestamp,
                packet.payload.len(),
                now,
            );
            match self
                .dtmf_in
                .receive(packet.header.timestamp, &packet.payload)
            {
                Ok(Some(digit)) => self.emit(PipelineEvent::Dtmf(digit)),
                Ok(None) => {}
                Err(e) => tracing::debug!("bad telephone-event packet: {e}"),
            }
            if let Some(last) = self.last_receive_codec {
                self.jitter
                    .push(packet.header.sequence_number, (last, Bytes::new()));
            }
            return;
        }
        let Some(codec) = self.receive.codecs.get(&pt).copied() else {
            return;
        };
        self.receive_stats.set_clock_rate(codec.clock_rate());
        self.receive_stats.on_packet(
            packet.header.sequence_number,
            packet.header.timestamp,
            packet.payload.len(),
            now,
        );
        self.jitter
            .push(packet.header.sequence_number, (pt, packet.payload.clone()));
    }

    /// The figures of the interval that ends now; emits them (and any quality alert).
    pub(crate) fn measure(&mut self, now: Instant, outside: OutsideFigures) -> CallStats {
        let codec = self.send.map(|s| s.codec);
        let loss_percent = self.receive_stats.interval_loss_percent();
        let jitter_ms = self.receive_stats.jitter_ms();
        let rtt_ms = outside.rtt.map(|r| r.as_secs_f64() * 1000.0);
        #[allow(clippy::cast_precision_loss)]
        let buffer_ms = (self.jitter_depth as u32 * crate::audio::FRAME_MS) as f64;
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

/// An RTP timestamp on the audio clock, on the telephone-event clock (they differ only
/// when telephone-event was negotiated at another rate than the codec's).
fn scale(timestamp: u32, from: u32, to: u32) -> u32 {
    if from == to {
        return timestamp;
    }
    #[allow(clippy::cast_possible_truncation)]
    let scaled = (u64::from(timestamp) * u64::from(to) / u64::from(from.max(1))) as u32;
    scaled
}

fn unscale(timestamp: u32, audio: u32, event: u32) -> u32 {
    scale(timestamp, event, audio)
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
        let p = Pipeline::new(
            Instant::now(),
            0x1234_5678,
            source,
            Box::new(sink),
            None,
            DtmfTiming::default(),
            Thresholds::default(),
            2,
        );
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
            dtmf: vec![101],
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

    #[test]
    fn hold_and_mute_send_silence_or_nothing_and_volume_scales() {
        let (mut a, _) = pipeline(Box::new(Tone::new(1000.0, 0.5)));
        let (send, _) = setup(Codec::Pcmu);
        a.set_send(send).unwrap();
        let now = Instant::now();
        assert!(a.tick(now, Duration::ZERO).is_some());
        a.set_muted(true);
        let muted = a.tick(now, Duration::ZERO).unwrap();
        assert!(muted.payload.iter().all(|b| *b == 0xFF), "mu-law silence");
        a.set_sending(false);
        assert!(
            a.tick(now, Duration::ZERO).is_none(),
            "on hold nothing is sent"
        );
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
