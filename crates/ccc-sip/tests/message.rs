//! The SIP message parser and builder: the benchmark messages field by field, round
//! trips, the syntax corners of RFC 3261 and RFC 4475, and hostile input.

use ccc_sip::message::{
    Builder, HeaderName, KnownHeader, Limits, ParseError, StartLine, parse, parse_with,
};
use proptest::prelude::*;

const INVITE: &[u8] = include_bytes!("data/invite.sip");
const OK200: &[u8] = include_bytes!("data/ok200.sip");

#[test]
fn the_invite_kamailio_relays_over_websocket() {
    let m = parse(INVITE).unwrap();
    assert_eq!(
        m.start,
        StartLine::Request {
            method: "INVITE",
            uri: "sip:k0fq8v3s@df7jal23ls0d.invalid;transport=ws"
        }
    );
    assert_eq!(m.version, "SIP/2.0");
    let vias: Vec<_> = m.vias().map(Result::unwrap).collect();
    assert_eq!(vias.len(), 2);
    assert_eq!(
        (vias[0].transport, vias[0].host, vias[0].port),
        ("WS", "127.0.0.1", Some(8080))
    );
    assert_eq!(vias[0].branch(), Some("z9hG4bK4f1c.8a0b3e1d0a7e2c6b.0"));
    assert_eq!(vias[1].rport(), Some(Some(5070)));
    let from = m.from().unwrap();
    assert_eq!(
        (from.display, from.uri, from.tag()),
        (
            Some("Queue 7"),
            "sip:1003@127.0.0.1",
            Some("31415SIPpTag001")
        )
    );
    assert_eq!(m.to().unwrap().tag(), None);
    assert_eq!(m.call_id(), Some("1-31415@127.0.0.1"));
    let cseq = m.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method), (2, "INVITE"));
    assert_eq!(m.max_forwards().unwrap(), Some(69));
    let contact = m.contacts().next().unwrap().unwrap();
    assert_eq!(
        contact.sip_uri().unwrap().params.value("transport"),
        Some("udp")
    );
    let routes: Vec<_> = m.list(KnownHeader::RecordRoute).collect();
    assert_eq!(routes.len(), 2);
    assert_eq!(m.list(KnownHeader::Allow).count(), 9);
    assert_eq!(m.content_type(), Some("application/sdp"));
    assert_eq!(m.body.len(), 619);
    assert!(m.body.starts_with(b"v=0\r\n"));
    let request_uri = ccc_sip::message::SipUri::parse(m.request_uri().unwrap()).unwrap();
    assert_eq!(request_uri.host.0, "df7jal23ls0d.invalid");
}

#[test]
fn the_200_ok() {
    let m = parse(OK200).unwrap();
    assert_eq!(m.status(), Some(200));
    assert_eq!(
        m.start,
        StartLine::Response {
            code: 200,
            reason: "OK"
        }
    );
    let via = m.via().unwrap();
    assert_eq!(
        (via.received(), via.rport()),
        (Some("127.0.0.1"), Some(Some(42254)))
    );
    assert!(m.to().unwrap().tag().is_some());
    assert!(m.cseq().is_ok());
}

#[test]
fn build_then_parse_round_trips() {
    for original in [INVITE, OK200] {
        let m = parse(original).unwrap();
        let mut builder = match m.start {
            StartLine::Request { method, uri } => Builder::request(method, uri),
            StartLine::Response { code, reason } => Builder::response(code, reason),
        };
        for h in &m.headers {
            builder = match h.name {
                HeaderName::Known(k) if k != KnownHeader::ContentType => builder.header(k, h.value),
                HeaderName::Known(_) => builder,
                HeaderName::Other(name) => builder.other_header(name, h.value),
            };
        }
        let bytes = builder
            .body(m.content_type().unwrap_or("application/sdp"), m.body)
            .build()
            .unwrap();
        let again = parse(&bytes).unwrap();
        assert_eq!(again.start, m.start);
        assert_eq!(again.body, m.body);
        assert_eq!(again.via().unwrap(), m.via().unwrap());
        assert_eq!(again.from().unwrap(), m.from().unwrap());
        assert_eq!(again.headers.len(), m.headers.len());
    }
    let injected = Builder::request("OPTIONS", "sip:a")
        .header(KnownHeader::Subject, "x\r\nVia: evil")
        .build();
    assert!(injected.is_err());
}

fn msg(head: &str, body: &str) -> Vec<u8> {
    format!("{head}\r\n\r\n{body}").into_bytes()
}

#[test]
fn compact_forms_folding_and_case() {
    let bytes = msg(
        "INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0\r\n\
         TO :\r\n sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\r\n\
         from   : \"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8\r\n\
         MaX-fOrWaRdS: 0068\r\n\
         Call-ID: wsinv.ndaksdj@192.0.2.1\r\n\
         Content-Length   : 0\r\n\
         cseq: 0009\r\n  INVITE\r\n\
         Via  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;rport;branch=390skdjuw\r\n\
         s :\r\n\
         NewFangledHeader:   newfangled value\r\n continued newfangled value\r\n\
         UnknownHeaderWithUnusualValue: ;;,,;;,;\r\n\
         m:\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33",
        "",
    );
    let m = parse(&bytes).expect("RFC 4475 3.1.1.1 (wsinv), shortened: valid");
    assert_eq!(m.to().unwrap().tag(), Some("1918181833n"));
    assert_eq!(m.from().unwrap().tag(), Some("98asjd8"));
    assert_eq!(m.max_forwards().unwrap(), Some(68));
    let cseq = m.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method), (9, "INVITE"));
    let via = m.via().unwrap();
    assert_eq!(
        (via.transport, via.host, via.branch()),
        ("UDP", "192.0.2.2", Some("390skdjuw"))
    );
    assert_eq!(m.header(KnownHeader::Subject), Some(""));
    assert!(
        m.other_header("newfangledheader")
            .unwrap()
            .ends_with("continued newfangled value")
    );
    let contact = m.contacts().next().unwrap().unwrap();
    assert_eq!(contact.params.value("q"), Some("0.33"));
}

#[test]
fn content_length_must_match_the_body() {
    let ok = msg("MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 5", "hello");
    assert_eq!(parse(&ok).unwrap().body, b"hello");
    let without = msg("MESSAGE sip:a@b SIP/2.0", "hello");
    assert_eq!(
        parse(&without).unwrap().body,
        b"hello",
        "no Content-Length: the rest of the frame"
    );
    for (head, body, want) in [
        (
            "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 50",
            "hello",
            ParseError::LengthMismatch {
                declared: 50,
                actual: 5,
            },
        ),
        (
            "MESSAGE sip:a@b SIP/2.0\r\nl: 2",
            "hello",
            ParseError::LengthMismatch {
                declared: 2,
                actual: 5,
            },
        ),
    ] {
        assert_eq!(parse(&msg(head, body)), Err(want));
    }
    assert!(matches!(
        parse(&msg("MESSAGE sip:a@b SIP/2.0\r\nContent-Length: -1", "")),
        Err(ParseError::ContentLength(_))
    ));
    assert!(matches!(
        parse(&msg(
            "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 5\r\nl: 6",
            "hello"
        )),
        Err(ParseError::ContentLength(_))
    ));
    assert!(matches!(
        parse(&msg(
            "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 99999999999999999999999",
            ""
        )),
        Err(ParseError::ContentLength(_))
    ));
}

#[test]
fn malformed_start_lines_and_headers() {
    let bad = [
        "INVITE sip:a@b  SIP/2.0", // two spaces (RFC 4475 3.1.2.5 lwsruri-like)
        "INVITE  sip:a@b SIP/2.0",
        " INVITE sip:a@b SIP/2.0",  // lwsstart
        "INVITE sip:a@b SIP/2.0 ",  // trws
        "INVITE <sip:a@b> SIP/2.0", // ltgtruri
        "INVITE sip:a@b SIP/2.0/x",
        "INVITE sip:a@b HTTP/1.1",
        "INV@TE sip:a@b SIP/2.0",
        "SIP/2.0 20 OK",
        "SIP/2.0 700 Way Too Much",
        "SIP/2.0 2000 OK",
        "SIP/2.0",
        "garbage",
    ];
    for head in bad {
        assert!(
            matches!(parse(&msg(head, "")), Err(ParseError::StartLine { .. })),
            "{head:?}"
        );
    }
    // Unknown versions parse, so that a server can answer 505 (RFC 4475 3.1.2.16 badvers).
    assert_eq!(
        parse(&msg("OPTIONS sip:t.watson@example.org SIP/7.0", ""))
            .unwrap()
            .version,
        "SIP/7.0"
    );
    assert_eq!(
        parse(&msg("SIP/2.0 404", "")).unwrap().start,
        StartLine::Response {
            code: 404,
            reason: ""
        },
        "noreason"
    );
    let unreason = msg(
        "SIP/2.0 200 = 2**3 * 5**2 но сто девяносто девять - простое",
        "",
    );
    assert_eq!(
        parse(&unreason).unwrap().status(),
        Some(200),
        "unreason: UTF-8 reason phrases"
    );
    for head in [
        "OPTIONS sip:a@b SIP/2.0\r\nNo Colon Here",
        "OPTIONS sip:a@b SIP/2.0\r\n: empty name",
        "OPTIONS sip:a@b SIP/2.0\r\nBad Name: x",
        "OPTIONS sip:a@b SIP/2.0\r\n continued-first",
    ] {
        assert!(
            matches!(parse(&msg(head, "")), Err(ParseError::Header { .. })),
            "{head:?}"
        );
    }
    assert_eq!(
        parse(b"OPTIONS sip:a@b SIP/2.0\r\nVia: x"),
        Err(ParseError::Unterminated)
    );
    assert_eq!(parse(b""), Err(ParseError::Empty));
    assert_eq!(parse(b"\r\n\r\n"), Err(ParseError::Empty));
    assert!(matches!(
        parse(b"OPTIONS sip:a@b SIP/2.0\r\nSubject: \xff\xfe\r\n\r\n"),
        Err(ParseError::NotUtf8(_))
    ));
    // Leading CRLFs are skipped (RFC 3261 7.5); a body may hold any bytes.
    let m = parse(b"\r\n\r\nMESSAGE sip:a@b SIP/2.0\r\nContent-Length: 2\r\n\r\n\xff\x00").unwrap();
    assert_eq!(m.body, b"\xff\x00");
}

#[test]
fn typed_values_report_their_errors() {
    let bytes = msg(
        "OPTIONS sip:a@b SIP/2.0\r\nCSeq: x OPTIONS\r\nMax-Forwards: 300\r\nExpires: soon\r\nVia: SIP/2.0/UDP a:0",
        "",
    );
    let m = parse(&bytes).unwrap();
    assert!(m.cseq().is_err());
    assert!(m.max_forwards().is_err());
    assert!(m.expires().is_err());
    assert!(m.via().is_err());
    assert_eq!(m.from(), Err(ParseError::Missing("From")));
    let bytes = msg("OPTIONS sip:a@b SIP/2.0", "");
    let empty = parse(&bytes).unwrap();
    assert_eq!(empty.via(), Err(ParseError::Missing("Via")));
    assert_eq!(empty.expires(), Ok(None));
}

#[test]
fn limits_bound_what_a_peer_can_send() {
    let limits = Limits {
        max_size: 1024,
        max_headers: 10,
    };
    let many: String = (0..11).map(|i| format!("X-H{i}: v\r\n")).collect();
    let bytes = format!("OPTIONS sip:a@b SIP/2.0\r\n{many}\r\n");
    assert_eq!(
        parse_with(bytes.as_bytes(), limits),
        Err(ParseError::TooManyHeaders(10))
    );
    let big = vec![b'x'; 2000];
    assert!(matches!(
        parse_with(&big, limits),
        Err(ParseError::TooLarge {
            size: 2000,
            max: 1024
        })
    ));
}

fn mutations() -> impl Strategy<Value = Vec<u8>> {
    let base = prop::sample::select(vec![INVITE.to_vec(), OK200.to_vec()]);
    (
        base,
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    )
        .prop_map(|(mut bytes, edits)| {
            for (at, byte, kind) in edits {
                let i = at.index(bytes.len().max(1));
                match kind {
                    0 if i < bytes.len() => bytes[i] = byte,
                    1 => bytes.insert(i.min(bytes.len()), byte),
                    _ if i < bytes.len() => {
                        bytes.truncate(i);
                    }
                    _ => {}
                }
            }
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Any bytes: a message or an error, never a panic; and every typed accessor of a
    /// message that parsed answers without panicking either.
    #[test]
    fn no_input_panics(bytes in prop_oneof![prop::collection::vec(any::<u8>(), 0..600), mutations()]) {
        if let Ok(m) = parse(&bytes) {
            let _ = (m.via(), m.from(), m.to(), m.cseq(), m.max_forwards(), m.expires(), m.content_type());
            let _ = m.vias().count() + m.contacts().count();
            if let Ok(from) = m.from() {
                let _ = from.sip_uri();
            }
            if let Some(uri) = m.request_uri() {
                let _ = ccc_sip::message::SipUri::parse(uri);
            }
        }
    }
}
