//! Calls with real audio: an agent's SIP client (ccc-sip) and WebRTC session
//! (ccc-media) against the emulator's registrar, call legs and simulated customers.

mod support;

use std::time::Duration;

use ccc_media::audio::{AudioFrame, Tone, pulled_sink};
use ccc_media::call::{CallAudio, CallConfig, MediaSession};
use ccc_media::dsp::dominant_tone;
use ccc_sip::client::{ClientEvent, SipClient};
use ccc_sip::link::LinkConfig;
use ccc_sip::transport::WsConnect;
use ccc_sip::ua::{CallHandle, UaConfig, UaEvent};
use serde_json::json;
use support::*;
use tokio::sync::mpsc;

const BOB: &str = "bob@ccc-emulator";
const DEVICE: &str = "urn:uuid:0b0b0b0b-0000-4000-8000-000000008002";

/// Bob's phone: a SIP client registered at the emulator.
async fn phone(info: &ccc_emulator::EmulatorInfo) -> SipClient {
    let url = info.sip_ws_url.clone().expect("SIP is served");
    let mut link = LinkConfig::new(WsConnect::new(url));
    link.min_backoff = Duration::from_millis(50);
    let ua = UaConfig::new("8002", "pass-8002", info.sip_domain.clone(), DEVICE);
    let mut client = SipClient::spawn(link, ua, 0xb0b);
    loop {
        match next_ua(&mut client).await {
            UaEvent::Registered { .. } => return client,
            UaEvent::RegistrationFailed(e) => panic!("registration failed: {e:?}"),
            _ => {}
        }
    }
}

async fn next_ua(client: &mut SipClient) -> UaEvent {
    loop {
        let event = tokio::time::timeout(WAIT, client.next_event())
            .await
            .expect("a SIP event in time")
            .expect("the client runs");
        if let ClientEvent::Ua(event) = event {
            return event;
        }
    }
}

/// Answers the next incoming call with a media session that says `hz` and collects
/// what it hears.
async fn answer(
    client: &mut SipClient,
    hz: f64,
) -> (CallHandle, MediaSession, mpsc::Receiver<AudioFrame>) {
    let (call, offer) = loop {
        if let UaEvent::IncomingCall {
            call, sdp, from, ..
        } = next_ua(client).await
        {
            assert!(
                from.contains("13800000009"),
                "the customer's number is shown: {from}"
            );
            break (call, String::from_utf8(sdp).unwrap());
        }
    };
    let (sink, heard) = pulled_sink(500);
    let (session, _events) = MediaSession::new(
        CallConfig::loopback(),
        CallAudio::new(Tone::new(hz, 0.3), sink),
    )
    .await
    .expect("a media session");
    let answer = session.answer(&offer).await.expect("an SDP answer");
    assert!(client.ringing(call).await);
    assert!(client.answer(call, answer.into_bytes()).await);
    (call, session, heard)
}

/// About `seconds` of what the agent heard, and its rate (frames before the first
/// packet are silence at 8 kHz; a codec at another rate changes it).
async fn listen(heard: &mut mpsc::Receiver<AudioFrame>, seconds: f64) -> (Vec<i16>, u32) {
    let frames = (seconds * 50.0) as usize;
    let mut samples = Vec::new();
    let mut rate = 0;
    for _ in 0..frames {
        let frame = tokio::time::timeout(WAIT, heard.recv())
            .await
            .expect("audio in time")
            .expect("open");
        if frame.rate() != rate {
            samples.clear();
            rate = frame.rate();
        }
        samples.extend_from_slice(frame.samples());
    }
    (samples, rate)
}

#[tokio::test]
async fn an_inbound_call_with_audio_both_ways_then_after_call_work() {
    let emu = start().await;
    let info = emu.info().clone();
    let mut client = phone(&info).await;
    let mut api = Api::new(&info);
    let mut ws = agent_link(&mut api, &info, BOB, DEVICE).await;
    let mut m = Machine::new();
    api.v2020(
        "SignInGroup",
        &[
            ("UserId", BOB),
            ("DeviceId", DEVICE),
            ("SignedSkillGroupIdList", r#"["sales@ccc-emulator"]"#),
        ],
    )
    .await;
    api.v2020("ReadyForService", &[("UserId", BOB)]).await;
    m.until(&mut ws, 3).await;
    let (status, placed) = admin(
        &info,
        "POST",
        "/calls",
        json!({"caller": "13800000009", "callee": "02150000001"}),
    )
    .await;
    assert_eq!(status, 201, "{placed}");
    let job = placed["job_id"].as_str().unwrap().to_owned();
    m.until(&mut ws, 6).await;

    let (call, session, mut heard) = answer(&mut client, 1_000.0).await;
    m.until(&mut ws, 9).await;
    // Let the path settle, then listen: the customer's 440 Hz tone reaches the agent.
    listen(&mut heard, 0.4).await;
    let (samples, rate) = listen(&mut heard, 1.0).await;
    assert_eq!(
        dominant_tone(&samples, rate, &[440.0, 1_000.0]),
        Some(440.0),
        "the agent hears the customer"
    );

    // What the customer hears is written as it goes; the agent's 1000 Hz is in it.
    let (_, calls) = admin(&info, "GET", "/calls", serde_json::Value::Null).await;
    let heard_file = calls[0]["legs"][0]["heard_file"]
        .as_str()
        .expect("the customer records")
        .to_owned();
    api.v2020("ReleaseCall", &[("UserId", BOB), ("JobId", &job)])
        .await;
    m.until(&mut ws, 5).await;
    assert_eq!(m.take(), [0, 2, 3, 6, 9, 5]);
    loop {
        if let UaEvent::CallEnded { call: ended, .. } = next_ua(&mut client).await {
            assert_eq!(ended, call, "the platform hung up the agent's leg");
            break;
        }
    }
    let _ = session.close().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let customer: Vec<i16> = hound::WavReader::open(&heard_file)
        .unwrap()
        .samples()
        .map(Result::unwrap)
        .collect();
    let tail = &customer[customer.len().saturating_sub(8_000)..];

    assert_eq!(
        dominant_tone(tail, 8_000, &[440.0, 1_000.0]),
        Some(1_000.0),
        "the customer heard the agent"
    );

    // The call's recording: stereo, served by the DownloadRecording link.
    let recordings = api
        .ok(
            "2017-07-05",
            "ListRecordingsByContactId",
            &[("ContactId", &job)],
        )
        .await;
    let file = recordings["Recordings"]["Recording"][0]["FileName"]
        .as_str()
        .unwrap()
        .to_owned();
    let link = api
        .ok("2017-07-05", "DownloadRecording", &[("FileName", &file)])
        .await;
    let url = link["MediaDownloadParam"]["SignatureUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let wav = http("GET", &url, &[], b"").await;
    assert_eq!(wav.status, 200);
    let reader = hound::WavReader::new(std::io::Cursor::new(wav.body)).expect("a WAV file");
    assert_eq!(reader.spec().channels, 2, "agent left, customer right");
    assert!(reader.duration() > 8_000, "more than a second recorded");
    client.shutdown().await;
    emu.shutdown().await;
}
