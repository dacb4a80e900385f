//! The torture messages of RFC 4475 section 3.1 (in `tests/data/rfc4475/`): the valid
//! ones parse with the values the RFC points at; the invalid ones are refused where the
//! RFC says a parser must refuse them, or parse and then fail in the typed view the RFC
//! names (the element answers 400, 416, 420 or 505 from there). None panics.

use ccc_sip::message::{KnownHeader, ParseError, SipUri, parse};

fn load(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/data/rfc4475/{name}.sip",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("test message")
}

#[test]
fn valid_messages_parse() {
    for name in [
        "wsinv",
        "intmeth",
        "esc01",
        "escnull",
        "lwsdisp",
        "semiuri",
        "transports",
        "noreason",
        "unreason",
    ] {
        let bytes = load(name);
        let m = parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(m.cseq().is_ok(), "{name}: CSeq");
        assert!(m.via().is_ok(), "{name}: Via");
        assert!(m.from().is_ok(), "{name}: From");
    }
    let wsinv = load("wsinv");
    let m = parse(&wsinv).unwrap();
    assert_eq!(m.vias().count(), 3, "one Via, then two in a folded list");
    assert_eq!(m.cseq().unwrap().seq, 9);
    assert_eq!(m.max_forwards().unwrap(), Some(68));
    assert_eq!(m.list(KnownHeader::Route).count(), 1);
    let intmeth = load("intmeth");
    let m = parse(&intmeth).unwrap();
    assert_eq!(
        m.method(),
        Some("!interesting-Method0123456789_*+`.%indeed'~")
    );
    assert_eq!(m.cseq().unwrap().method, m.method().unwrap());
    let esc01 = load("esc01");
    let uri = SipUri::parse(parse(&esc01).unwrap().request_uri().unwrap()).unwrap();
    assert_eq!(
        uri.user,
        Some("sips%3Auser%40example.com"),
        "escapes kept as written"
    );
    let transports = load("transports");
    let kinds: Vec<_> = parse(&transports)
        .unwrap()
        .vias()
        .map(|v| v.unwrap().transport)
        .collect();
    assert_eq!(kinds, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
    let noreason = load("noreason");
    assert_eq!(parse(&noreason).unwrap().status(), Some(100));
}

#[test]
fn valid_syntax_that_the_element_refuses() {
    // Parses; the element answers 416 (unknown scheme), 505 (version), 400 (CSeq
    // method differs from the request's), 420 (Require).
    let unkscm = load("unkscm");
    let m = parse(&unkscm).unwrap();
    assert!(
        SipUri::parse(m.request_uri().unwrap()).is_err(),
        "not a SIP URI: 416"
    );
    let badvers = load("badvers");
    assert_eq!(
        parse(&badvers).unwrap().version,
        "SIP/7.0",
        "505 from the element"
    );
    let mismatch = load("mismatch01");
    let m = parse(&mismatch).unwrap();
    assert_ne!(
        m.cseq().unwrap().method,
        m.method().unwrap(),
        "400 from the transaction layer"
    );
    let bext01 = load("bext01");
    assert_eq!(
        parse(&bext01).unwrap().list(KnownHeader::Require).count(),
        2,
        "420 from the element"
    );
}

#[test]
fn invalid_messages_are_refused() {
    // Refused by the parser itself.
    for (name, start_line) in [
        ("ltgtruri", true),
        ("lwsruri", true),
        ("lwsstart", true),
        ("trws", true),
    ] {
        let bytes = load(name);
        let err = parse(&bytes).expect_err(name);
        assert_eq!(
            matches!(err, ParseError::StartLine { .. }),
            start_line,
            "{name}: {err}"
        );
    }
    let clerr = load("clerr");
    assert!(matches!(
        parse(&clerr),
        Err(ParseError::LengthMismatch { declared: 9999, .. })
    ));
    // Over a WebSocket one message carries exactly one request: the second request
    // of dblreq is bytes the first one's Content-Length does not cover.
    let dblreq = load("dblreq");
    assert!(matches!(
        parse(&dblreq),
        Err(ParseError::LengthMismatch { declared: 0, .. })
    ));
    // Parse, but the typed views refuse the broken values (the element answers 400).
    let badinv01 = load("badinv01");
    let m = parse(&badinv01).unwrap();
    assert!(m.via().is_err(), "Via: SIP/2.0/UDP 192.0.2.15;;,;,,");
    assert!(
        m.contacts().next().unwrap().is_err(),
        "Contact: \"Joe\" <sip:joe@example.org>;;;;"
    );
    let scalar02 = load("scalar02");
    let m = parse(&scalar02).unwrap();
    assert!(m.cseq().is_err(), "CSeq beyond 2^31");
    assert!(m.max_forwards().is_err(), "Max-Forwards 300");
    assert!(m.expires().is_err(), "Expires beyond 32 bits");
}
