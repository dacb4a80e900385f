//! The coturn harness against the real coturn: one process per auth mode, answering
//! STUN, and challenging TURN allocations in its realm.

use std::time::Duration;

use ccc_testpeers::{Coturn, TurnAuth, stun_binding, stun_request};

const WAIT: Duration = Duration::from_secs(5);

fn message_type(response: &[u8]) -> u16 {
    u16::from_be_bytes([response[0], response[1]])
}

/// The attributes of a STUN message, as (type, value).
fn attributes(message: &[u8]) -> Vec<(u16, Vec<u8>)> {
    let mut out = Vec::new();
    let mut rest = &message[20..];
    while rest.len() >= 4 {
        let kind = u16::from_be_bytes([rest[0], rest[1]]);
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        let Some(value) = rest.get(4..4 + len) else {
            break;
        };
        out.push((kind, value.to_vec()));
        rest = &rest[(4 + len).next_multiple_of(4).min(rest.len())..];
    }
    out
}

/// An unauthenticated Allocate (RFC 8656) must be challenged with 401 and the realm.
fn assert_allocate_challenged(coturn: &Coturn) {
    // REQUESTED-TRANSPORT: UDP.
    let requested_transport = [0x00, 0x19, 0x00, 0x04, 17, 0, 0, 0];
    let response =
        stun_request(coturn.addr(), 0x0003, &requested_transport, WAIT).expect("an answer");
    assert_eq!(message_type(&response), 0x0113, "Allocate error response");
    let attrs = attributes(&response);
    let error = attrs
        .iter()
        .find(|(k, _)| *k == 0x0009)
        .expect("ERROR-CODE");
    assert_eq!(u16::from(error.1[2]) * 100 + u16::from(error.1[3]), 401);
    let realm = attrs.iter().find(|(k, _)| *k == 0x0014).expect("REALM");
    assert_eq!(realm.1, coturn.realm().as_bytes());
    assert!(attrs.iter().any(|(k, _)| *k == 0x0015), "NONCE");
}

#[test]
fn two_regions_one_per_auth_mode() {
    let static_auth = TurnAuth::Static {
        user: "agent".into(),
        password: "pass".into(),
    };
    let Some(shanghai) = Coturn::start(static_auth, "cn-shanghai.ccc.test").expect("coturn starts")
    else {
        return;
    };
    let beijing = Coturn::start(TurnAuth::Secret("s3cret".into()), "cn-beijing.ccc.test")
        .expect("coturn starts")
        .expect("installed");
    assert_ne!(shanghai.addr(), beijing.addr());
    for coturn in [&shanghai, &beijing] {
        let binding = stun_binding(coturn.addr(), WAIT).expect("a Binding answer");
        assert_eq!(
            message_type(&binding),
            0x0101,
            "Binding success: {}",
            coturn.log_tail()
        );
        // XOR-MAPPED-ADDRESS says 127.0.0.1.
        let mapped = attributes(&binding)
            .into_iter()
            .find(|(k, _)| *k == 0x0020)
            .expect("XOR-MAPPED-ADDRESS");
        let ip: Vec<u8> = mapped.1[4..8]
            .iter()
            .zip([0x21, 0x12, 0xA4, 0x42])
            .map(|(b, m)| b ^ m)
            .collect();
        assert_eq!(ip, [127, 0, 0, 1]);
        assert_allocate_challenged(coturn);
        assert!(coturn.turn_url().starts_with("turn:127.0.0.1:"));
    }
    assert!(matches!(beijing.auth(), TurnAuth::Secret(s) if s == "s3cret"));
}

#[test]
fn bad_values_are_refused_before_start() {
    let bad = TurnAuth::Static {
        user: "a:b".into(),
        password: "p".into(),
    };
    let err = Coturn::start(bad, "r").expect_err("checked before anything starts");
    assert!(
        err.to_string().contains("invalid test configuration"),
        "{err}"
    );
}
