//! Glare (RFC 3261 14.1): a re-INVITE refused with 491 is tried once more after a random
//! wait, 2.1-4 s when this side owns the Call-ID, 0-2 s when not, in 10 ms steps.

use super::*;

const HOLD: &[u8] = b"v=0\r\no=- 9 10 IN IP4 10.0.0.1\r\na=sendonly\r\n";

/// After `update`, the re-INVITE; answered 491; returns the wait until the retry.
fn refused_with_491(h: &mut Harness, call: CallHandle) -> Duration {
    assert!(h.ua.update(h.now, call, HOLD));
    let reinvite = h.one_sent();
    h.receive(&reply(&reinvite, 491, "Request Pending", &[]));
    let ack = h.one_sent();
    let m = parse(&ack).unwrap();
    assert_eq!(m.method(), Some("ACK"));
    assert_eq!(
        m.via().unwrap().branch(),
        parse(&reinvite).unwrap().via().unwrap().branch()
    );
    assert!(h.events().is_empty(), "not failed yet: it is tried again");
    assert!(!h.ua.update(h.now, call, HOLD), "one offer waits already");
    h.ua.poll_timeout().unwrap() - h.now
}

fn assert_steps_of_10ms(wait: Duration) {
    assert_eq!(wait.as_millis() % 10, 0, "{wait:?}");
}

#[test]
fn the_owner_of_the_call_id_retries_after_2_1_to_4_s() {
    let mut h = Harness::new();
    let call = answered_outgoing(&mut h, "sip:1002@ccc.test", "b-tag");
    let wait = refused_with_491(&mut h, call);
    assert!(
        wait >= Duration::from_millis(2100) && wait <= Duration::from_secs(4),
        "{wait:?}"
    );
    assert_steps_of_10ms(wait);
    h.advance(wait - Duration::from_millis(10));
    assert!(h.sent().is_empty());
    h.advance(Duration::from_millis(10));
    let retry = h.one_sent();
    let m = parse(&retry).unwrap();
    assert_eq!(m.method(), Some("INVITE"));
    assert_eq!(m.body, HOLD, "the same offer");
    assert_eq!(m.cseq().unwrap().seq, 3, "a new transaction");
    h.receive(&reply(&retry, 200, "OK", &[]));
    assert!(matches!(h.events()[..], [UaEvent::CallUpdated { .. }]));
}

#[test]
fn the_other_side_retries_within_2_s_and_a_second_491_is_reported() {
    let mut h = Harness::new();
    let (call, _) = established(&mut h);
    let wait = refused_with_491(&mut h, call);
    assert!(wait <= Duration::from_secs(2), "{wait:?}");
    assert_steps_of_10ms(wait);
    h.advance(wait);
    let retry = h.one_sent();
    h.receive(&reply(&retry, 491, "Request Pending", &[]));
    assert_eq!(parse(&h.one_sent()).unwrap().method(), Some("ACK"));
    assert_eq!(h.events(), [UaEvent::CallUpdateFailed { call, code: 491 }]);
    h.advance(Duration::from_secs(10));
    assert!(h.sent().is_empty(), "tried once more, not twice");
}

#[test]
fn the_waits_are_random() {
    let waits: std::collections::BTreeSet<Duration> = (0..16)
        .map(|seed| {
            let config = UaConfig::new("1001", "s", "ccc.test", "urn:uuid:x");
            let mut h = Harness {
                ua: UserAgent::new(config, seed),
                now: Instant::now(),
            };
            h.ua.handle_flow(h.now, true);
            let call = answered_outgoing(&mut h, "sip:1002@ccc.test", "b-tag");
            refused_with_491(&mut h, call)
        })
        .collect();
    assert!(waits.len() > 8, "{waits:?}");
}

#[test]
fn the_other_side_s_offer_in_the_meantime_is_answered_first() {
    let mut h = Harness::new();
    let call = answered_outgoing(&mut h, "sip:1002@ccc.test", "b-tag");
    let (call_id, local_tag) = dialog_ids(&mut h, call);
    let wait = refused_with_491(&mut h, call);
    // The other side's re-INVITE, the one that crossed ours.
    let theirs = Builder::request("INVITE", "sip:1001@h.invalid;transport=ws")
        .header(
            KnownHeader::Via,
            "SIP/2.0/WS 10.0.0.2;branch=z9hG4bK-theirs",
        )
        .header(KnownHeader::From, "<sip:1002@ccc.test>;tag=b-tag")
        .header(
            KnownHeader::To,
            format!("<sip:1001@ccc.test>;tag={local_tag}"),
        )
        .header(KnownHeader::CallId, call_id.clone())
        .header(KnownHeader::CSeq, "7 INVITE")
        .header(KnownHeader::Contact, "<sip:callee@10.0.0.2>")
        .body(
            "application/sdp",
            b"v=0\r\no=- 5 6 IN IP4 10.0.0.2\r\n".to_vec(),
        )
        .build()
        .unwrap();
    h.receive(&theirs);
    assert!(matches!(h.events()[..], [UaEvent::CallUpdate { .. }]));
    assert!(h.ua.answer(h.now, call, b"v=0 ours"));
    let ok = h.one_sent();
    // The retry's time comes while that answer waits for its ACK: it waits too.
    h.advance(wait);
    assert!(
        h.sent()
            .iter()
            .all(|m| parse(m).unwrap().method().is_none()),
        "only the 2xx again"
    );
    let ack = Builder::request("ACK", "sip:1001@h.invalid;transport=ws")
        .header(
            KnownHeader::Via,
            "SIP/2.0/WS 10.0.0.2;branch=z9hG4bK-theirs-ack",
        )
        .header(KnownHeader::From, "<sip:1002@ccc.test>;tag=b-tag")
        .header(
            KnownHeader::To,
            parse(&ok).unwrap().header(KnownHeader::To).unwrap(),
        )
        .header(KnownHeader::CallId, call_id)
        .header(KnownHeader::CSeq, "7 ACK")
        .build()
        .unwrap();
    h.receive(&ack);
    h.advance(Duration::from_millis(100));
    let retry = h.one_sent();
    assert_eq!(parse(&retry).unwrap().body, HOLD);
}

#[test]
fn an_offer_right_after_answering_one_goes_with_the_ack() {
    let mut h = Harness::new();
    let (call, tag) = established(&mut h);
    let offer = in_dialog_with(
        "INVITE",
        2,
        &tag,
        "z9hG4bK-re",
        &[],
        Some(("application/sdp", b"v=0\r\no=- 1 2 IN IP4 10.0.0.3\r\n")),
    );
    h.receive(&offer);
    h.events();
    assert!(h.ua.answer(h.now, call, b"v=0\r\no=- 9 10 IN IP4 10.0.0.1\r\n"));
    h.sent();
    assert!(h.ua.update(h.now, call, HOLD), "taken, to go after the ACK");
    assert!(h.sent().is_empty(), "not before the ACK (RFC 3261 14.1)");
    h.receive(&in_dialog("ACK", 2, &tag, "z9hG4bK-re-ack"));
    let reinvite = h.one_sent();
    assert_eq!(parse(&reinvite).unwrap().body, HOLD);
}

/// The Call-ID and this side's tag of a call, read from an INFO sent in it.
fn dialog_ids(h: &mut Harness, call: CallHandle) -> (String, String) {
    assert!(h.ua.send_info(call, "text/plain", b"x"));
    let info = h.one_sent();
    let m = parse(&info).unwrap();
    (
        m.call_id().unwrap().to_owned(),
        m.from().unwrap().tag().unwrap().to_owned(),
    )
}
