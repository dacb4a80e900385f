//! Being transferred (the other side's REFER, followed by a new call with NOTIFY
//! progress) and being replaced (an INVITE with `Replaces`, RFC 3891).

use super::*;

fn refer(our_tag: &str, cseq: u32, refer_to: &str) -> Vec<u8> {
    in_dialog_with(
        "REFER",
        cseq,
        our_tag,
        &format!("z9hG4bK-refer{cseq}"),
        &[
            (KnownHeader::ReferTo, refer_to),
            (KnownHeader::ReferredBy, "<sip:1003@ccc.test>"),
        ],
        None,
    )
}

/// The status line of a NOTIFY's message/sipfrag body, and its Subscription-State.
fn notified(notify: &[u8]) -> (String, String) {
    let m = parse(notify).unwrap();
    assert_eq!(m.method(), Some("NOTIFY"));
    assert_eq!(m.header(KnownHeader::Event), Some("refer"));
    assert_eq!(
        m.header(KnownHeader::ContentType),
        Some("message/sipfrag;version=2.0")
    );
    assert_eq!(
        m.to().unwrap().tag(),
        Some("caller1"),
        "in the REFER's dialog"
    );
    (
        String::from_utf8(m.body.to_vec())
            .unwrap()
            .trim_end()
            .to_owned(),
        m.header(KnownHeader::SubscriptionState).unwrap().to_owned(),
    )
}

#[test]
fn a_blind_transfer_is_followed_and_its_progress_notified() {
    let mut h = Harness::new();
    let (call, tag) = established(&mut h);
    h.receive(&refer(&tag, 2, "<sip:1004@ccc.test>"));
    assert!(h.sent().is_empty(), "the program decides first");
    assert_eq!(
        h.events(),
        [UaEvent::TransferRequested {
            call,
            target: "sip:1004@ccc.test".into(),
            replaces: false
        }]
    );
    let new =
        h.ua.accept_transfer(h.now, call, b"v=0 offer")
            .expect("a REFER waits");
    assert_ne!(new, call);
    let sent = h.sent();
    assert_eq!(sent.len(), 3, "202, NOTIFY 100, INVITE");
    assert_eq!(parse(&sent[0]).unwrap().status(), Some(202));
    assert_eq!(
        notified(&sent[1]),
        ("SIP/2.0 100 Trying".into(), "active;expires=60".into())
    );
    let invite = parse(&sent[2]).unwrap();
    assert_eq!(
        (invite.method(), invite.request_uri()),
        (Some("INVITE"), Some("sip:1004@ccc.test"))
    );
    assert_eq!(
        invite.header(KnownHeader::ReferredBy),
        Some("<sip:1003@ccc.test>")
    );
    assert!(invite.header(KnownHeader::Replaces).is_none());
    assert_eq!(invite.body, b"v=0 offer");
    // The new call rings, then is answered: each step goes back as a NOTIFY.
    h.receive(&reply(&sent[2], 180, "Ringing", &[]));
    let ringing = h.one_sent();
    assert_eq!(
        notified(&ringing),
        ("SIP/2.0 180 Ringing".into(), "active;expires=60".into())
    );
    assert!(matches!(
        h.events()[..],
        [UaEvent::CallProgress { code: 180, .. }]
    ));
    h.receive(&reply(
        &sent[2],
        200,
        "OK",
        &[(KnownHeader::Contact, "<sip:1004@10.0.0.4>")],
    ));
    let sent = h.sent();
    assert_eq!(parse(&sent[0]).unwrap().method(), Some("ACK"));
    assert_eq!(
        notified(&sent[1]),
        (
            "SIP/2.0 200 OK".into(),
            "terminated;reason=noresource".into()
        )
    );
    assert!(matches!(h.events()[..], [UaEvent::CallAnswered { call: c, .. }] if c == new));
    // The NOTIFYs' answers end nothing; the transferor hangs up the first call.
    h.receive(&reply(&sent[1], 200, "OK", &[]));
    h.receive(&in_dialog("BYE", 3, &tag, "z9hG4bK-bye"));
    assert_eq!(parse(&h.one_sent()).unwrap().status(), Some(200));
    assert_eq!(
        h.events(),
        [UaEvent::CallEnded {
            call,
            reason: EndReason::RemoteHangup
        }]
    );
}

#[test]
fn a_failed_transfer_is_notified_with_its_status() {
    let mut h = Harness::new();
    let (call, tag) = established(&mut h);
    h.receive(&refer(&tag, 2, "<sip:1004@ccc.test>"));
    h.events();
    let new = h.ua.accept_transfer(h.now, call, b"v=0").unwrap();
    let invite = h.sent().pop().unwrap();
    h.receive(&reply(&invite, 486, "Busy Here", &[]));
    let sent = h.sent();
    assert_eq!(parse(&sent[0]).unwrap().method(), Some("ACK"));
    assert_eq!(
        notified(&sent[1]),
        (
            "SIP/2.0 486 Busy Here".into(),
            "terminated;reason=noresource".into()
        )
    );
    assert_eq!(
        h.events(),
        [UaEvent::CallEnded {
            call: new,
            reason: EndReason::Failed(486, "Busy Here".into())
        }]
    );
    // No answer at all: 408 after Timer B.
    h.receive(&refer(&tag, 3, "<sip:1005@ccc.test>"));
    h.events();
    h.ua.accept_transfer(h.now, call, b"v=0").unwrap();
    h.sent();
    h.advance(Duration::from_secs(32));
    assert_eq!(
        notified(&h.one_sent()),
        (
            "SIP/2.0 408 Request Timeout".into(),
            "terminated;reason=noresource".into()
        )
    );
}

#[test]
fn a_refer_is_refused_when_asked_or_left_undecided() {
    let mut h = Harness::new();
    let (call, tag) = established(&mut h);
    h.receive(&refer(&tag, 2, "<sip:1004@ccc.test>"));
    h.events();
    // A second REFER while the first waits.
    h.receive(&refer(&tag, 3, "<sip:1005@ccc.test>"));
    assert_eq!(parse(&h.one_sent()).unwrap().status(), Some(491));
    assert!(h.ua.reject_transfer(call, 603, "Decline"));
    let refused = parse(&h.one_sent()).unwrap().clone_status();
    assert_eq!(refused, (603, "2 REFER".to_owned()));
    assert!(!h.ua.reject_transfer(call, 603, "Decline"), "nothing waits");
    assert!(h.ua.accept_transfer(h.now, call, b"v=0").is_none());
    // Left undecided: refused for the program after 16 s.
    h.receive(&refer(&tag, 4, "<sip:1004@ccc.test>"));
    h.events();
    h.advance(Duration::from_secs(15));
    assert!(h.sent().is_empty());
    h.advance(Duration::from_secs(1));
    assert_eq!(
        parse(&h.one_sent()).unwrap().clone_status(),
        (603, "4 REFER".to_owned())
    );
    // Refer-To that is not one SIP URI.
    h.receive(&refer(&tag, 5, "<tel:+8613800000000>"));
    assert_eq!(parse(&h.one_sent()).unwrap().status(), Some(400));
    h.receive(&in_dialog("REFER", 6, &tag, "z9hG4bK-norefer"));
    assert_eq!(parse(&h.one_sent()).unwrap().status(), Some(400));
    assert!(h.events().is_empty());
}

trait StatusOf {
    fn clone_status(&self) -> (u16, String);
}

impl StatusOf for crate::message::Message<'_> {
    fn clone_status(&self) -> (u16, String) {
        (
            self.status().unwrap(),
            self.header(KnownHeader::CSeq).unwrap().to_owned(),
        )
    }
}

#[test]
fn an_attended_transfer_carries_the_replaces_of_the_refer_to() {
    let mut h = Harness::new();
    let (call, tag) = established(&mut h);
    h.receive(&refer(
        &tag,
        2,
        "<sip:1004@ccc.test?Replaces=c2%40host%3Bto-tag%3Dt4%3Bfrom-tag%3Df3>",
    ));
    assert_eq!(
        h.events(),
        [UaEvent::TransferRequested {
            call,
            target: "sip:1004@ccc.test".into(),
            replaces: true
        }]
    );
    h.ua.accept_transfer(h.now, call, b"v=0").unwrap();
    let invite = h.sent().pop().unwrap();
    let m = parse(&invite).unwrap();
    assert_eq!(m.request_uri(), Some("sip:1004@ccc.test"));
    assert_eq!(
        m.header(KnownHeader::Replaces),
        Some("c2@host;to-tag=t4;from-tag=f3")
    );
}

/// An INVITE from a third party that replaces the dialog `call-1` (ours: `our_tag`).
fn replacing_invite(replaces: &str) -> Vec<u8> {
    Builder::request("INVITE", "sip:1001@h.invalid;transport=ws")
        .header(
            KnownHeader::Via,
            "SIP/2.0/WS 127.0.0.1:8080;branch=z9hG4bK-replacing",
        )
        .header(KnownHeader::From, "<sip:1004@ccc.test>;tag=caller4")
        .header(KnownHeader::To, "<sip:1001@ccc.test>")
        .header(KnownHeader::CallId, "call-4")
        .header(KnownHeader::CSeq, "1 INVITE")
        .header(KnownHeader::Contact, "<sip:1004@127.0.0.1:5074>")
        .header(KnownHeader::Replaces, replaces)
        .body("application/sdp", b"v=0\r\n".to_vec())
        .build()
        .unwrap()
}

#[test]
fn an_invite_with_replaces_takes_the_call_s_place() {
    let mut h = Harness::new();
    let (old, tag) = established(&mut h);
    h.receive(&replacing_invite(&format!(
        "call-1;to-tag={tag};from-tag=caller1"
    )));
    let [
        UaEvent::IncomingCall {
            call: new,
            replaces,
            ..
        },
    ] = h.events()[..]
    else {
        panic!("no call");
    };
    assert_eq!(replaces, Some(old));
    assert!(h.ua.answer(h.now, new, b"v=0 answer"));
    let ok = h.one_sent();
    let new_tag = our_tag(&ok);
    let ack = Builder::request("ACK", "sip:1001@h.invalid;transport=ws")
        .header(
            KnownHeader::Via,
            "SIP/2.0/WS 127.0.0.1:8080;branch=z9hG4bK-a4",
        )
        .header(KnownHeader::From, "<sip:1004@ccc.test>;tag=caller4")
        .header(
            KnownHeader::To,
            format!("<sip:1001@ccc.test>;tag={new_tag}"),
        )
        .header(KnownHeader::CallId, "call-4")
        .header(KnownHeader::CSeq, "1 ACK")
        .build()
        .unwrap();
    h.receive(&ack);
    // The new call is up; the old one gets its BYE and ends as replaced.
    assert_eq!(
        h.events(),
        [
            UaEvent::CallEstablished { call: new },
            UaEvent::CallEnded {
                call: old,
                reason: EndReason::Replaced
            }
        ]
    );
    let bye = h.one_sent();
    let m = parse(&bye).unwrap();
    assert_eq!((m.method(), m.call_id()), (Some("BYE"), Some("call-1")));
    h.receive(&reply(&bye, 200, "OK", &[]));
    assert!(h.events().is_empty(), "reported once");
}

#[test]
fn replaces_that_match_nothing_it_may_replace_are_refused() {
    let mut h = Harness::new();
    let (_, tag) = established(&mut h);
    for (replaces, code) in [
        ("call-9;to-tag=x;from-tag=y".to_owned(), 481),
        (format!("call-1;to-tag={tag};from-tag=other"), 481),
        (
            format!("call-1;to-tag={tag};from-tag=caller1;early-only"),
            486,
        ),
        ("call-1".to_owned(), 400),
    ] {
        h.receive(&replacing_invite(&replaces));
        assert_eq!(
            parse(&h.one_sent()).unwrap().status(),
            Some(code),
            "{replaces}"
        );
        assert!(h.events().is_empty());
    }
    // A call that is ending cannot be replaced.
    let call = CallHandle(1);
    assert!(h.ua.hang_up(h.now, call));
    h.sent();
    h.receive(&replacing_invite(&format!(
        "call-1;to-tag={tag};from-tag=caller1"
    )));
    assert_eq!(parse(&h.one_sent()).unwrap().status(), Some(603));
    // Nor an early dialog this side answers.
    let mut h = Harness::new();
    incoming(&mut h);
    assert!(h.ua.ringing(CallHandle(1)));
    let ringing_tag = our_tag(&h.one_sent());
    h.receive(&replacing_invite(&format!(
        "call-1;to-tag={ringing_tag};from-tag=caller1"
    )));
    assert_eq!(parse(&h.one_sent()).unwrap().status(), Some(481));
}
