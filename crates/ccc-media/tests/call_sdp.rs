//! SDP as browsers write it: the offers of Chrome (and so of JsSIP, which hands the
//! browser's SDP on) are answered with one format per payload type, Opus first, and the
//! telephone-event whose clock matches Opus.

mod common;

use ccc_media::call::{CallConfig, DtmfMode};
use ccc_media::dsp::dominant_tone;
use common::{connected, listen, peer};

/// An audio-only offer as Chrome 120-130 makes it (candidates gathered, no trickle).
const CHROME_OFFER: &str = "v=0\r
o=- 4611731400430051336 2 IN IP4 127.0.0.1\r
s=-\r
t=0 0\r
a=group:BUNDLE 0\r
a=extmap-allow-mixed\r
a=msid-semantic: WMS stream\r
m=audio 50000 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r
c=IN IP4 127.0.0.1\r
a=rtcp:9 IN IP4 0.0.0.0\r
a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0 network-id 1\r
a=ice-ufrag:Zx4b\r
a=ice-pwd:2bTWAZbzcxLqTWD3ZHXBuVCs\r
a=ice-options:trickle\r
a=fingerprint:sha-256 5B:2E:3C:6F:0A:F0:D6:7F:8A:1A:12:3D:9A:AB:33:10:2F:5D:A8:9E:77:C1:0B:14:7A:5C:E4:1A:3C:64:3F:7A\r
a=setup:actpass\r
a=mid:0\r
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r
a=sendrecv\r
a=msid:stream track\r
a=rtcp-mux\r
a=rtpmap:111 opus/48000/2\r
a=rtcp-fb:111 transport-cc\r
a=fmtp:111 minptime=10;useinbandfec=1\r
a=rtpmap:63 red/48000/2\r
a=fmtp:63 111/111\r
a=rtpmap:9 G722/8000\r
a=rtpmap:0 PCMU/8000\r
a=rtpmap:8 PCMA/8000\r
a=rtpmap:13 CN/8000\r
a=rtpmap:110 telephone-event/48000\r
a=rtpmap:126 telephone-event/8000\r
a=ssrc:1234 cname:xyz\r
a=ssrc:1234 msid:stream track\r
";

/// The formats of the `m=audio` line, and the `a=rtpmap` lines.
fn formats(sdp: &str) -> (Vec<String>, Vec<String>) {
    let m = sdp
        .lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .expect("an m=audio line");
    let formats = m.split(' ').skip(2).map(str::to_owned).collect();
    let rtpmaps = sdp
        .lines()
        .filter(|l| l.starts_with("a=rtpmap:"))
        .map(str::to_owned)
        .collect();
    (formats, rtpmaps)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chrome_offer_is_answered_with_each_format_once() {
    let agent = peer(CallConfig::loopback(), 440.0).await;
    let answer = agent.session.answer(CHROME_OFFER).await.unwrap();
    let (formats, rtpmaps) = formats(&answer);
    let mut unique = formats.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        formats.len(),
        "a payload type twice:\n{answer}"
    );
    let mut unique_maps = rtpmaps.clone();
    unique_maps.sort();
    unique_maps.dedup();
    assert_eq!(
        unique_maps.len(),
        rtpmaps.len(),
        "an rtpmap twice:\n{answer}"
    );
    assert_eq!(formats.first().map(String::as_str), Some("111"), "{answer}");
    assert!(
        answer.contains("a=rtpmap:110 telephone-event/48000"),
        "{answer}"
    );
    assert!(answer.contains("a=setup:active") && answer.contains("a=sendrecv"));
    assert_eq!(
        agent.session.dtmf_mode(),
        Some(DtmfMode::Rfc4733 {
            payload_type: 110,
            clock_rate: 48_000
        }),
        "Chrome sends DTMF only on the telephone-event of its send codec's clock"
    );
    agent.session.close().await.unwrap();
}

/// An offer as SIP-WebRTC gateways write it (FreeSWITCH, Asterisk, rtpengine in front of
/// a G.711 trunk): ICE-lite, G.711 with telephone-event/8000, 60 ms packets, session-level
/// fingerprint and setup.
const GATEWAY_OFFER: &str = "v=0\r
o=FreeSWITCH 1700000000 1700000001 IN IP4 127.0.0.1\r
s=FreeSWITCH\r
c=IN IP4 127.0.0.1\r
t=0 0\r
a=msid-semantic: WMS ccc\r
a=ice-lite\r
m=audio 31000 UDP/TLS/RTP/SAVPF 8 0 101\r
a=rtpmap:8 PCMA/8000\r
a=rtpmap:0 PCMU/8000\r
a=rtpmap:101 telephone-event/8000\r
a=fmtp:101 0-16\r
a=ptime:60\r
a=maxptime:60\r
a=sendrecv\r
a=fingerprint:sha-256 5B:2E:3C:6F:0A:F0:D6:7F:8A:1A:12:3D:9A:AB:33:10:2F:5D:A8:9E:77:C1:0B:14:7A:5C:E4:1A:3C:64:3F:7A\r
a=setup:actpass\r
a=rtcp-mux\r
a=rtcp:31000 IN IP4 127.0.0.1\r
a=ice-ufrag:gw1aBcDe\r
a=ice-pwd:gwPassWordPassWordPassWord\r
a=candidate:1 1 udp 2130706431 127.0.0.1 31000 typ host generation 0\r
a=end-of-candidates\r
a=ssrc:4242 cname:gw\r
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_s_g711_offer_is_answered_in_its_order_with_dtmf() {
    let agent = peer(CallConfig::loopback(), 440.0).await;
    let answer = agent.session.answer(GATEWAY_OFFER).await.unwrap();
    let (formats, _) = formats(&answer);
    assert_eq!(formats, ["8", "0", "101"], "{answer}");
    assert!(
        !answer.contains("m=audio 0 "),
        "the audio is accepted, not rejected with port 0:\n{answer}"
    );
    assert!(
        !answer.contains("a=group:BUNDLE"),
        "no group the offer did not have"
    );
    assert!(
        answer.contains("a=rtpmap:101 telephone-event/8000"),
        "{answer}"
    );
    assert!(answer.contains("a=setup:active"), "{answer}");
    assert_eq!(
        agent.session.dtmf_mode(),
        Some(DtmfMode::Rfc4733 {
            payload_type: 101,
            clock_rate: 8000
        })
    );
    agent.session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_s_answer_to_our_offer_picks_g711_and_its_dtmf() {
    let agent = peer(CallConfig::loopback(), 440.0).await;
    let offer = agent.session.offer().await.unwrap();
    assert!(
        offer.contains("a=rtpmap:101 telephone-event/8000"),
        "{offer}"
    );
    let answer = GATEWAY_OFFER
        .replace(
            "m=audio 31000 UDP/TLS/RTP/SAVPF 8 0 101",
            "m=audio 31000 UDP/TLS/RTP/SAVPF 0 101",
        )
        .replace("a=rtpmap:8 PCMA/8000\r\n", "")
        .replace("a=setup:actpass", "a=setup:passive");
    agent.session.set_remote(&answer).await.unwrap();
    assert_eq!(
        agent.session.dtmf_mode(),
        Some(DtmfMode::Rfc4733 {
            payload_type: 101,
            clock_rate: 8000
        })
    );
    agent.session.close().await.unwrap();
}

/// `sdp` as a SIP stack without BUNDLE writes it: no `a=group`, no `a=mid`.
fn unbundled(sdp: &str) -> String {
    sdp.split_inclusive('\n')
        .filter(|l| !l.starts_with("a=group:") && !l.starts_with("a=mid:"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_without_bundle_or_mid_connects_and_carries_audio() {
    // Both directions of SDP stripped of a=group and a=mid, as gateways without BUNDLE
    // send them: the answer accepts the audio, and the call connects and carries it.
    let mut a = peer(CallConfig::loopback(), 440.0).await;
    let mut b = peer(CallConfig::loopback(), 1000.0).await;
    let offer = unbundled(&a.session.offer().await.unwrap());
    let answer = b.session.answer(&offer).await.unwrap();
    assert!(
        !answer.contains("m=audio 0 ") && !answer.contains("a=group:"),
        "{answer}"
    );
    a.session.set_remote(&unbundled(&answer)).await.unwrap();
    connected(&mut a).await;
    connected(&mut b).await;
    let tones = [440.0, 1000.0];
    let (rate, heard) = listen(&mut a, 500).await;
    assert_eq!(
        dominant_tone(&heard[heard.len() / 3..], rate, &tones),
        Some(1000.0)
    );
    let (rate, heard) = listen(&mut b, 500).await;
    assert_eq!(
        dominant_tone(&heard[heard.len() / 3..], rate, &tones),
        Some(440.0)
    );
    // A re-INVITE without mid (hold) lands on the same transceiver.
    let hold = unbundled(&b.session.hold().await.unwrap());
    let held = a.session.answer(&hold).await.unwrap();
    assert!(
        held.contains("a=recvonly") && !held.contains("m=audio 0 "),
        "{held}"
    );
    a.session.close().await.unwrap();
    b.session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_that_insists_on_a_dtls_role_is_answered_with_the_other() {
    // A gateway that offers a=setup:active (it will be the DTLS client) must read
    // a=setup:passive back, or both ends wait for the other. Media-level and
    // session-level (where some gateways put it with the fingerprint), both connect.
    for session_level in [false, true] {
        let mut a = peer(CallConfig::loopback(), 440.0).await;
        let mut b = peer(CallConfig::loopback(), 1000.0).await;
        let offer = a.session.offer().await.unwrap();
        let offer = if session_level {
            offer
                .replace("a=setup:actpass\r\n", "")
                .replace("t=0 0\r\n", "t=0 0\r\na=setup:active\r\n")
        } else {
            offer.replace("a=setup:actpass", "a=setup:active")
        };
        let answer = b.session.answer(&offer).await.unwrap();
        assert!(
            answer.contains("a=setup:passive") && !answer.contains("a=setup:active"),
            "session level {session_level}:\n{answer}"
        );
        a.session.set_remote(&answer).await.unwrap();
        connected(&mut a).await;
        connected(&mut b).await;
        let (rate, heard) = listen(&mut b, 400).await;
        assert_eq!(
            dominant_tone(&heard[heard.len() / 3..], rate, &[440.0, 1000.0]),
            Some(440.0)
        );
        a.session.close().await.unwrap();
        b.session.close().await.unwrap();
    }
}
