//! A call outliving its flow (RFC 5626): kept for the grace period, moved to the next
//! flow by a re-INVITE once that flow is registered, or ended as lost.

use super::*;

const ANSWER: &[u8] = b"v=0\r\no=- 9 9 IN IP4 10.0.0.1\r\n";
const ICE_RESTART: &[u8] = b"v=0\r\no=- 9 10 IN IP4 10.0.0.1\r\na=ice-ufrag:new\r\n";

/// Registers again on a new flow (the challenge was lost with the old one); returns
/// what was sent after the registrar's 200 (the moves of the calls).
fn registered_again(h: &mut Harness) -> Vec<Vec<u8>> {
    challenged_and_granted(h);
    h.sent()
}

/// An established incoming call on a registered agent whose flow then drops.
fn suspended(h: &mut Harness) -> (CallHandle, String) {
    registered(h);
    let (call, tag) = established(h);
    h.ua.handle_flow(h.now, false);
    assert_eq!(
        h.events(),
        [UaEvent::CallRecovering { call }, UaEvent::RegistrationLost]
    );
    assert!(h.sent().is_empty());
    (call, tag)
}

/// `response` with an SDP body.
fn with_sdp(response: &[u8], sdp: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(response).unwrap();
    let head = text.strip_suffix("Content-Length: 0\r\n\r\n").unwrap();
    let mut out = format!(
        "{head}Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n",
        sdp.len()
    )
    .into_bytes();
    out.extend_from_slice(sdp);
    out
}

fn with_grace(grace: Duration) -> Harness {
    let mut h = Harness::new();
    h.ua.config.flow_grace = grace;
    h
}

#[test]
fn a_call_outlives_its_flow_and_moves_to_the_next_one_once_registered() {
    let mut h = Harness::new();
    let (call, tag) = suspended(&mut h);
    h.advance(Duration::from_secs(3));
    assert!(h.events().is_empty(), "still kept");
    h.ua.handle_flow(h.now, true);
    // Nothing for the call before the new flow is registered.
    let moved = registered_again(&mut h);
    assert_eq!(h.events(), [UaEvent::Registered { expires: 300 }]);
    let [reinvite] = &moved[..] else {
        panic!("one re-INVITE: {moved:?}")
    };
    let m = parse(reinvite).unwrap();
    assert_eq!(m.method(), Some("INVITE"));
    assert_eq!(m.request_uri(), Some("sip:1003@127.0.0.1:5070"));
    assert_eq!(m.call_id(), Some("call-1"));
    assert_eq!(m.from().unwrap().tag(), Some(tag.as_str()));
    assert_eq!(m.to().unwrap().tag(), Some("caller1"));
    let contact = m.header(KnownHeader::Contact).unwrap();
    assert!(contact.contains(";ob"), "this side's Contact: {contact}");
    let routes: Vec<_> = m.list(KnownHeader::Route).collect();
    assert_eq!(routes.len(), 2, "through the route set: {routes:?}");
    assert_eq!(
        m.body, ANSWER,
        "the same SDP, the same version (RFC 3264 8)"
    );
    h.receive(&reply(reinvite, 200, "OK", &[]));
    let ack = h.one_sent();
    assert_eq!(parse(&ack).unwrap().method(), Some("ACK"));
    assert_eq!(h.events(), [UaEvent::CallRecovered { call }]);
    // The other side's requests work in the call again.
    h.receive(&in_dialog("INFO", 2, &tag, "z9hG4bK-info"));
    assert_eq!(parse(&h.one_sent()).unwrap().status(), Some(200));
    assert!(matches!(h.events()[..], [UaEvent::Info { .. }]));
    h.receive(&in_dialog("BYE", 3, &tag, "z9hG4bK-bye"));
    h.sent();
    assert_eq!(
        h.events(),
        [UaEvent::CallEnded {
            call,
            reason: EndReason::RemoteHangup
        }]
    );
}

#[test]
fn no_flow_within_the_grace_period_ends_the_call_as_lost() {
    let mut h = with_grace(Duration::from_secs(2));
    let (call, _) = suspended(&mut h);
    h.advance(Duration::from_millis(1990));
    assert!(h.events().is_empty());
    h.advance(Duration::from_millis(10));
    assert_eq!(
        h.events(),
        [UaEvent::CallEnded {
            call,
            reason: EndReason::FlowLost
        }]
    );
    h.ua.handle_flow(h.now, true);
    assert!(registered_again(&mut h).is_empty(), "nothing left to move");
    assert!(!h.ua.hang_up(h.now, call));
}

#[test]
fn a_flow_back_but_not_registered_in_time_ends_the_call_too() {
    let mut h = with_grace(Duration::from_secs(2));
    let (call, _) = suspended(&mut h);
    h.ua.handle_flow(h.now, true);
    let register = h.one_sent();
    assert_eq!(parse(&register).unwrap().method(), Some("REGISTER"));
    h.advance(Duration::from_secs(2));
    assert_eq!(
        h.events(),
        [UaEvent::CallEnded {
            call,
            reason: EndReason::FlowLost
        }]
    );
}

#[test]
fn a_zero_grace_ends_established_calls_with_the_flow() {
    let mut h = with_grace(Duration::ZERO);
    let (call, _) = established(&mut h);
    h.ua.handle_flow(h.now, false);
    assert_eq!(
        h.events(),
        [UaEvent::CallEnded {
            call,
            reason: EndReason::FlowLost
        }]
    );
}

#[test]
fn a_move_refused_with_481_or_unanswered_ends_the_call_without_a_bye() {
    for refusal in [Some(481), Some(408), None] {
        let mut h = Harness::new();
        let (call, _) = suspended(&mut h);
        h.ua.handle_flow(h.now, true);
        let [reinvite] = &registered_again(&mut h)[..] else {
            panic!("one re-INVITE")
        };
        h.events();
        match refusal {
            Some(code) => {
                h.receive(&reply(reinvite, code, "No", &[]));
                let ack = h.one_sent();
                assert_eq!(parse(&ack).unwrap().method(), Some("ACK"), "{code}");
            }
            None => {
                h.advance(TIMER_F);
                assert!(h.sent().is_empty(), "no BYE after no answer");
            }
        }
        assert_eq!(
            h.events(),
            [UaEvent::CallEnded {
                call,
                reason: EndReason::FlowLost
            }],
            "{refusal:?}"
        );
    }
}

#[test]
fn a_move_refused_otherwise_ends_the_call_with_a_bye() {
    let mut h = Harness::new();
    let (call, _) = suspended(&mut h);
    h.ua.handle_flow(h.now, true);
    let [reinvite] = &registered_again(&mut h)[..] else {
        panic!("one re-INVITE")
    };
    h.events();
    h.receive(&reply(reinvite, 488, "Not Acceptable Here", &[]));
    let sent = h.sent();
    let methods: Vec<_> = sent
        .iter()
        .map(|m| parse(m).unwrap().method().unwrap().to_owned())
        .collect();
    assert_eq!(methods, ["ACK", "BYE"]);
    assert_eq!(
        h.events(),
        [UaEvent::CallEnded {
            call,
            reason: EndReason::FlowLost
        }]
    );
    h.receive(&reply(&sent[1], 200, "OK", &[]));
    assert!(h.events().is_empty(), "reported once");
}

#[test]
fn a_move_that_meets_glare_is_tried_again() {
    let mut h = Harness::new();
    let (call, _) = suspended(&mut h);
    h.ua.handle_flow(h.now, true);
    let [reinvite] = &registered_again(&mut h)[..] else {
        panic!("one re-INVITE")
    };
    h.events();
    h.receive(&reply(reinvite, 491, "Request Pending", &[]));
    h.one_sent(); // its ACK
    assert!(h.events().is_empty());
    h.advance(Duration::from_secs(2));
    let retry = h.one_sent();
    let m = parse(&retry).unwrap();
    assert_eq!(m.method(), Some("INVITE"));
    assert_eq!(m.body, ANSWER);
    h.receive(&reply(&retry, 200, "OK", &[]));
    h.one_sent();
    assert_eq!(h.events(), [UaEvent::CallRecovered { call }]);
}

#[test]
fn an_offer_made_while_the_flow_is_down_rides_on_the_move() {
    let mut h = Harness::new();
    let (call, _) = suspended(&mut h);
    // The media broke too: the program restarts ICE while the flow is down.
    assert!(h.ua.update(h.now, call, ICE_RESTART));
    assert!(h.sent().is_empty());
    assert!(!h.ua.send_info(call, "application/dtmf", b"1"), "no flow");
    h.ua.handle_flow(h.now, true);
    let [reinvite] = &registered_again(&mut h)[..] else {
        panic!("one re-INVITE")
    };
    h.events();
    assert_eq!(parse(reinvite).unwrap().body, ICE_RESTART);
    h.receive(&with_sdp(
        &reply(reinvite, 200, "OK", &[]),
        b"v=0\r\no=- 5 6 IN IP4 10.0.0.2\r\n",
    ));
    h.one_sent();
    assert_eq!(
        h.events(),
        [
            UaEvent::CallUpdated {
                call,
                sdp: b"v=0\r\no=- 5 6 IN IP4 10.0.0.2\r\n".to_vec()
            },
            UaEvent::CallRecovered { call }
        ]
    );
}

#[test]
fn an_offer_in_flight_when_the_flow_drops_is_sent_again_on_the_next() {
    let mut h = Harness::new();
    registered(&mut h);
    let (call, _) = established(&mut h);
    assert!(h.ua.update(h.now, call, ICE_RESTART));
    h.one_sent();
    h.ua.handle_flow(h.now, false);
    assert_eq!(h.events()[0], UaEvent::CallRecovering { call });
    h.ua.handle_flow(h.now, true);
    let [reinvite] = &registered_again(&mut h)[..] else {
        panic!("one re-INVITE")
    };
    assert_eq!(parse(reinvite).unwrap().body, ICE_RESTART);
}

#[test]
fn hanging_up_while_the_flow_is_down_ends_the_call_at_once_and_says_bye_later() {
    let mut h = Harness::new();
    let (call, tag) = suspended(&mut h);
    assert!(h.ua.hang_up(h.now, call));
    assert_eq!(
        h.events(),
        [UaEvent::CallEnded {
            call,
            reason: EndReason::LocalHangup
        }]
    );
    assert!(h.sent().is_empty());
    assert!(h.ua.hang_up(h.now, call), "still ending");
    assert!(h.events().is_empty(), "reported once");
    h.ua.handle_flow(h.now, true);
    let [bye] = &registered_again(&mut h)[..] else {
        panic!("one BYE")
    };
    let m = parse(bye).unwrap();
    assert_eq!(m.method(), Some("BYE"));
    assert_eq!(m.from().unwrap().tag(), Some(tag.as_str()));
    h.events();
    h.receive(&reply(bye, 200, "OK", &[]));
    assert!(h.events().is_empty(), "reported once");
    assert!(!h.ua.hang_up(h.now, call), "gone");
}

#[test]
fn hung_up_and_no_flow_in_time_is_forgotten_quietly() {
    let mut h = with_grace(Duration::from_secs(1));
    let (call, _) = suspended(&mut h);
    assert!(h.ua.hang_up(h.now, call));
    h.events();
    h.advance(Duration::from_secs(1));
    assert!(h.events().is_empty());
    assert!(!h.ua.hang_up(h.now, call), "gone");
}

#[test]
fn transactions_on_the_dead_flow_settle_at_once() {
    let mut h = Harness::new();
    registered(&mut h);
    // A call this side places, still unanswered.
    let placing = h.ua.invite(h.now, "sip:1002@ccc.test", b"v=0");
    h.sent();
    // An established call with a REFER of this side's waiting for its answer.
    let talking = answered_outgoing(&mut h, "sip:1003@ccc.test", "t-tag");
    assert!(h.ua.refer(h.now, talking, "sip:1004@ccc.test", None));
    h.sent();
    h.ua.handle_flow(h.now, false);
    let events = h.events();
    assert!(events.contains(&UaEvent::CallEnded {
        call: placing,
        reason: EndReason::FlowLost
    }));
    assert!(events.contains(&UaEvent::TransferFailed {
        call: talking,
        code: 408
    }));
    assert!(events.contains(&UaEvent::CallRecovering { call: talking }));
    assert!(events.contains(&UaEvent::RegistrationLost));
    assert_eq!(events.len(), 4, "{events:?}");
}
