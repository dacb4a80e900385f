//! An agent's phone for the tests: a ccc-sip client registered at the emulator that
//! answers with a ccc-media session saying a tone and keeping what it hears.

use std::time::Duration;

use ccc_emulator::EmulatorInfo;
use ccc_media::audio::{AudioFrame, Tone, pulled_sink};
use ccc_media::call::{CallAudio, CallConfig, MediaEvents, MediaSession};
use ccc_media::dsp::{Goertzel, dominant_tone};
use ccc_sip::client::{ClientEvent, SipClient};
use ccc_sip::link::{DownReason, LinkConfig, LinkEvent};
use ccc_sip::transport::WsConnect;
use ccc_sip::ua::{CallHandle, EndReason, UaConfig, UaEvent};
use tokio::sync::mpsc;

use super::WAIT;

pub struct Phone {
    pub client: SipClient,
    pub device: String,
}

/// An answered call at the phone.
pub struct PhoneCall {
    pub call: CallHandle,
    pub session: MediaSession,
    /// What the phone's media reports (DTMF heard, connection changes).
    pub events: MediaEvents,
    heard: mpsc::Receiver<AudioFrame>,
}

impl Phone {
    /// Registers `extension` with `password`; the device id is its `+sip.instance`.
    pub async fn register(info: &EmulatorInfo, extension: &str, password: &str) -> Self {
        Self::register_with(info, extension, password, |_| {}).await
    }

    /// The same with the link settings changed by `tune` (keep-alive, dead-link limit).
    pub async fn register_with(
        info: &EmulatorInfo,
        extension: &str,
        password: &str,
        tune: impl FnOnce(&mut LinkConfig),
    ) -> Self {
        let url = info.sip_ws_url.clone().expect("SIP is served");
        let mut link = LinkConfig::new(WsConnect::new(url));
        link.min_backoff = Duration::from_millis(50);
        link.max_backoff = Duration::from_millis(200);
        tune(&mut link);
        let device = format!("urn:uuid:00000000-0000-4000-8000-00000000{extension}");
        let ua = UaConfig::new(extension, password, info.sip_domain.clone(), device.clone());
        let mut phone = Self {
            client: SipClient::spawn(link, ua, extension.parse().unwrap_or(7)),
            device,
        };
        phone.registered().await;
        phone
    }

    pub async fn next(&mut self) -> ClientEvent {
        tokio::time::timeout(WAIT, self.client.next_event())
            .await
            .expect("a SIP event in time")
            .expect("the client runs")
    }

    pub async fn next_ua(&mut self) -> UaEvent {
        loop {
            if let ClientEvent::Ua(event) = self.next().await {
                return event;
            }
        }
    }

    pub async fn registered(&mut self) {
        loop {
            match self.next_ua().await {
                UaEvent::Registered { .. } => return,
                UaEvent::RegistrationFailed(e) => panic!("registration failed: {e:?}"),
                _ => {}
            }
        }
    }

    /// Waits for the flow to go down; why it did.
    pub async fn disconnected(&mut self) -> DownReason {
        loop {
            if let ClientEvent::Link(LinkEvent::Disconnected(reason)) = self.next().await {
                return reason;
            }
        }
    }

    /// The next incoming call's offer and `From`.
    pub async fn incoming(&mut self) -> (CallHandle, String, String) {
        loop {
            if let UaEvent::IncomingCall {
                call, sdp, from, ..
            } = self.next_ua().await
            {
                return (call, String::from_utf8(sdp).unwrap(), from);
            }
        }
    }

    /// Answers the next incoming call saying `hz`.
    pub async fn answer(&mut self, hz: f64) -> PhoneCall {
        self.answer_with(CallConfig::loopback(), hz).await
    }

    /// Answers the next incoming call saying `hz`, its media set up by `config`.
    pub async fn answer_with(&mut self, config: CallConfig, hz: f64) -> PhoneCall {
        let (call, offer, _) = self.incoming().await;
        let (sink, heard) = pulled_sink(1_000);
        let (session, events) = MediaSession::new(config, CallAudio::new(Tone::new(hz, 0.3), sink))
            .await
            .expect("a media session");
        let answer = session.answer(&offer).await.expect("an answer");
        assert!(self.client.ringing(call).await);
        assert!(self.client.answer(call, answer.into_bytes()).await);
        PhoneCall {
            call,
            session,
            events,
            heard,
        }
    }

    /// Waits until `call` ends; its reason.
    pub async fn ended(&mut self, call: CallHandle) -> EndReason {
        loop {
            if let UaEvent::CallEnded { call: c, reason } = self.next_ua().await
                && c == call
            {
                return reason;
            }
        }
    }
}

impl PhoneCall {
    /// The dominant tone among `candidates` in about a second of what is heard once
    /// sound arrives (media may still be connecting; under load that takes a while).
    pub async fn hears(&mut self, candidates: &[f64]) -> Option<f64> {
        self.listen(candidates, true).await
    }

    /// The same for the next second as it comes, silent or not.
    pub async fn hears_now(&mut self, candidates: &[f64]) -> Option<f64> {
        self.listen(candidates, false).await
    }

    /// Waits (up to [`WAIT`]) until three 200 ms blocks in a row, each with sound, carry
    /// exactly the tones `want` of `candidates` (each at least 1 % of full-scale power):
    /// the parties of a mix, once the mix plan and the media have caught up. Otherwise
    /// the tones of the last block with sound.
    pub async fn hears_only(&mut self, candidates: &[f64], want: &[f64]) -> Result<(), Vec<f64>> {
        while self.heard.try_recv().is_ok() {}
        let t0 = std::time::Instant::now();
        let (mut run, mut last) = (0, Vec::new());
        while t0.elapsed() < WAIT {
            let first = next_frame(&mut self.heard).await;
            let mut rate = first.rate();
            let mut samples = first.samples().to_vec();
            while samples.len() < rate as usize / 5 && t0.elapsed() < WAIT {
                let frame = next_frame(&mut self.heard).await;
                if frame.rate() != rate {
                    samples.clear();
                    rate = frame.rate();
                }
                samples.extend_from_slice(frame.samples());
            }
            if samples.iter().all(|s| s.unsigned_abs() < 100) {
                run = 0;
                continue;
            }
            last = present(&samples, rate, candidates);
            run = if last == want { run + 1 } else { 0 };
            if run == 3 {
                return Ok(());
            }
        }
        Err(last)
    }

    async fn listen(&mut self, candidates: &[f64], wait_for_sound: bool) -> Option<f64> {
        let (samples, rate) = self.second(wait_for_sound).await;
        dominant_tone(&samples, rate, candidates)
    }

    /// About a second of fresh audio, once sound arrives if asked.
    async fn second(&mut self, wait_for_sound: bool) -> (Vec<i16>, u32) {
        // Drop what is queued, then listen to fresh audio.
        while self.heard.try_recv().is_ok() {}
        let mut first = next_frame(&mut self.heard).await;
        if wait_for_sound {
            let t0 = std::time::Instant::now();
            while first.samples().iter().all(|s| s.unsigned_abs() < 100) && t0.elapsed() < WAIT {
                first = next_frame(&mut self.heard).await;
            }
        }
        let mut rate = first.rate();
        let mut samples = first.samples().to_vec();
        for _ in 0..49 {
            let frame = next_frame(&mut self.heard).await;
            if frame.rate() != rate {
                samples.clear();
                rate = frame.rate();
            }
            samples.extend_from_slice(frame.samples());
        }
        (samples, rate)
    }
}

/// Which of `candidates` carry at least 1 % of full-scale power in `samples`.
pub fn present(samples: &[i16], rate: u32, candidates: &[f64]) -> Vec<f64> {
    candidates
        .iter()
        .copied()
        .filter(|f| Goertzel::new(*f, rate).power(samples) >= 0.01)
        .collect()
}

/// The tones of `candidates` present in each half second of a WAV file (mono, what a
/// customer heard), in order.
pub fn tones_in_wav_windows(path: &str, candidates: &[f64]) -> Vec<Vec<f64>> {
    let reader = hound::WavReader::open(path).expect("a WAV file");
    let rate = reader.spec().sample_rate;
    let samples: Vec<i16> = reader.into_samples().map(Result::unwrap).collect();
    samples
        .chunks(rate as usize / 2)
        .map(|window| present(window, rate, candidates))
        .collect()
}

async fn next_frame(heard: &mut mpsc::Receiver<AudioFrame>) -> AudioFrame {
    tokio::time::timeout(WAIT, heard.recv())
        .await
        .expect("audio in time")
        .expect("open")
}

/// The dominant tone in the last `seconds` of a WAV file (mono, what a customer heard).
pub fn tone_in_wav(path: &str, seconds: f64, candidates: &[f64]) -> Option<f64> {
    let reader = hound::WavReader::open(path).expect("a WAV file");
    let rate = reader.spec().sample_rate;
    let samples: Vec<i16> = reader.into_samples().map(Result::unwrap).collect();
    let n = (f64::from(rate) * seconds) as usize;
    dominant_tone(
        &samples[samples.len().saturating_sub(n)..],
        rate,
        candidates,
    )
}
