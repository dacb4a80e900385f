//! The server core against this crate's own user agents, on simulated time: messages
//! move between them in memory.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::message::KnownHeader;
use crate::ua::{EndReason, RegistrationError};

const OFFER: &[u8] = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
const ANSWER: &[u8] = b"v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";
const UNHOLD: &[u8] = b"v=0\r\no=- 2 3 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";
const HOLD: &[u8] = b"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n";

fn accounts() -> Arc<dyn Accounts> {
    let mut users = HashMap::new();
    users.insert("1001".to_owned(), "secret1001".to_owned());
    users.insert("1002".to_owned(), "secret1002".to_owned());
    Arc::new(users)
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// One server, agents each on a flow of their own, and the clock.
struct World {
    server: Server,
    agents: Vec<(UserAgent, FlowId)>,
    now: Instant,
    server_events: Vec<ServerEvent>,
    agent_events: Vec<Vec<UaEvent>>,
}

impl World {
    fn new(config: ServerConfig) -> Self {
        let now = Instant::now();
        Self {
            server: Server::new(config, accounts(), 99, now),
            agents: Vec::new(),
            now,
            server_events: Vec::new(),
            agent_events: Vec::new(),
        }
    }

    /// An agent on a new flow; returns its index.
    fn agent(&mut self, user: &str, password: &str) -> usize {
        let config = UaConfig::new(
            user,
            password,
            "ccc.test",
            format!("urn:uuid:00000000-0000-4000-8000-00000000{user}"),
        );
        let index = self.agents.len();
        let mut ua = UserAgent::new(config, 7 + index as u64);
        let flow = self
            .server
            .open_flow(Transport::Ws, addr(5066), addr(40000 + index as u16));
        ua.handle_flow(self.now, true);
        self.agents.push((ua, flow));
        self.agent_events.push(Vec::new());
        self.pump();
        index
    }

    /// Moves messages both ways until none is left; collects the events.
    fn pump(&mut self) {
        for _ in 0..100 {
            let mut moved = false;
            for (ua, flow) in &mut self.agents {
                while let Some(bytes) = ua.poll_transmit() {
                    self.server.handle_message(self.now, *flow, &bytes);
                    moved = true;
                }
            }
            while let Some((flow, bytes)) = self.server.poll_transmit() {
                if let Some((ua, _)) = self.agents.iter_mut().find(|(_, f)| *f == flow) {
                    ua.handle_message(self.now, &bytes);
                    moved = true;
                }
            }
            for (i, (ua, _)) in self.agents.iter_mut().enumerate() {
                while let Some(event) = ua.poll_event() {
                    self.agent_events[i].push(event);
                }
            }
            while let Some(event) = self.server.poll_event() {
                self.server_events.push(event);
            }
            if !moved {
                return;
            }
        }
        panic!("the messages never settle");
    }

    /// Lets `by` pass, firing every timer in order.
    fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        loop {
            let next = self
                .agents
                .iter()
                .filter_map(|(ua, _)| ua.poll_timeout())
                .chain(self.server.poll_timeout())
                .min()
                .filter(|t| *t <= end);
            let Some(due) = next else {
                break;
            };
            self.now = self.now.max(due);
            for (ua, _) in &mut self.agents {
                ua.handle_timeout(self.now);
            }
            self.server.handle_timeout(self.now);
            self.pump();
        }
        self.now = end;
    }

    fn ua(&mut self, agent: usize) -> &mut UserAgent {
        &mut self.agents[agent].0
    }

    fn agent_saw(&mut self, agent: usize) -> Vec<UaEvent> {
        std::mem::take(&mut self.agent_events[agent])
    }

    fn server_saw(&mut self) -> Vec<ServerEvent> {
        std::mem::take(&mut self.server_events)
    }

    /// The server's call events, without their flow.
    fn server_calls(&mut self) -> Vec<UaEvent> {
        self.server_saw()
            .into_iter()
            .filter_map(|e| match e {
                ServerEvent::Ua { event, .. } => Some(event),
                _ => None,
            })
            .collect()
    }

    fn registered(&mut self, user: &str, password: &str) -> usize {
        let agent = self.agent(user, password);
        let now = self.now;
        self.ua(agent).register(now);
        self.pump();
        assert!(
            matches!(self.agent_saw(agent)[..], [UaEvent::Registered { .. }]),
            "registered"
        );
        agent
    }
}

#[test]
fn an_agent_registers_with_digest_and_its_flow_is_bound() {
    let mut w = World::new(ServerConfig::new("ccc.test"));
    let agent = w.registered("1001", "secret1001");
    let flow = w.agents[agent].1;
    let events = w.server_saw();
    assert!(
        matches!(&events[..], [
            ServerEvent::FlowOpened { transport: Transport::Ws, .. },
            ServerEvent::Registered { aor, contact, expires: 600, refreshed: false, flow: f, instance },
        ] if aor == "sip:1001@ccc.test" && contact.ends_with(".invalid;transport=ws") && *f == flow
            && instance.as_deref() == Some("urn:uuid:00000000-0000-4000-8000-000000001001")),
        "{events:?}"
    );
    let bindings = w.server.bindings("sip:1001@ccc.test");
    assert_eq!(bindings.len(), 1);
    assert_eq!(bindings[0].flow, flow);
    assert_eq!(
        bindings[0].instance.as_deref(),
        Some("urn:uuid:00000000-0000-4000-8000-000000001001")
    );
    assert_eq!(bindings[0].reg_id, Some(1));
    // The agent refreshes at 90 %; the nonce is stale by then and answered again.
    w.advance(Duration::from_secs(541));
    assert_eq!(w.agent_saw(agent), [UaEvent::Registered { expires: 600 }]);
    assert!(matches!(
        w.server_saw()[..],
        [ServerEvent::Registered {
            refreshed: true,
            ..
        }]
    ));
    // Unregistering removes the binding.
    let now = w.now;
    w.ua(agent).unregister(now);
    w.pump();
    assert_eq!(w.agent_saw(agent), [UaEvent::Unregistered]);
    assert!(matches!(
        w.server_saw()[..],
        [ServerEvent::Unregistered {
            reason: UnregisterReason::Removed,
            ..
        }]
    ));
    assert!(w.server.bindings("sip:1001@ccc.test").is_empty());
}

#[test]
fn a_wrong_password_or_another_user_is_refused() {
    let mut w = World::new(ServerConfig::new("ccc.test"));
    let agent = w.agent("1001", "wrong");
    let now = w.now;
    w.ua(agent).register(now);
    w.pump();
    assert!(matches!(
        w.agent_saw(agent)[..],
        [UaEvent::RegistrationFailed(
            RegistrationError::WrongCredentials { .. }
        )]
    ));
    assert!(
        w.server_saw()
            .iter()
            .any(|e| matches!(e, ServerEvent::RegistrationRefused { code: 401, .. }))
    );
    assert!(w.server.bindings("sip:1001@ccc.test").is_empty());
    // Nobody of that name: refused the same way.
    let stranger = w.agent("9999", "x");
    w.ua(stranger).register(now);
    w.pump();
    assert!(matches!(
        w.agent_saw(stranger)[..],
        [UaEvent::RegistrationFailed(
            RegistrationError::WrongCredentials { .. }
        )]
    ));
    // Calls from a flow that registered nothing are refused.
    let call = w.ua(agent).invite(now, "sip:1002@ccc.test", OFFER);
    w.pump();
    assert_eq!(
        w.agent_saw(agent),
        [UaEvent::CallEnded {
            call,
            reason: EndReason::Failed(403, "Forbidden: register first".into())
        }]
    );
}

#[test]
fn a_registration_too_brief_takes_the_minimum_and_lapses_unrefreshed() {
    let mut config = ServerConfig::new("ccc.test");
    config.min_expires = 900;
    let mut w = World::new(config);
    let agent = w.registered("1001", "secret1001");
    assert!(
        w.server_saw()
            .iter()
            .any(|e| matches!(e, ServerEvent::Registered { expires: 900, .. }))
    );
    // The agent goes silent (its flow stays): the binding lapses.
    w.agents.remove(agent);
    w.advance(Duration::from_secs(901));
    assert!(matches!(
        w.server_saw()[..],
        [ServerEvent::Unregistered {
            reason: UnregisterReason::Expired,
            ..
        }]
    ));
    assert_eq!(w.server.poll_timeout(), None);
}

#[test]
fn the_server_calls_the_agent_hold_info_and_bye_from_the_server() {
    let mut w = World::new(ServerConfig::new("ccc.test"));
    let agent = w.registered("1001", "secret1001");
    w.server_saw();
    let now = w.now;
    let leg = w
        .server
        .invite(
            now,
            "sip:1001@ccc.test",
            "\"13800000000\" <sip:13800000000@ccc.test>",
            OFFER,
        )
        .unwrap();
    assert_eq!(leg.flow, w.agents[agent].1);
    w.pump();
    let [
        UaEvent::IncomingCall {
            call,
            from,
            to,
            sdp,
            replaces: None,
        },
    ] = &w.agent_saw(agent)[..]
    else {
        panic!("no call");
    };
    let call = *call;
    assert!(from.contains("13800000000") && to.contains("sip:1001@ccc.test"));
    assert_eq!(sdp, OFFER);
    assert!(w.ua(agent).ringing(call));
    w.pump();
    assert!(matches!(
        w.server_calls()[..],
        [UaEvent::CallProgress { code: 180, .. }]
    ));
    assert!(w.ua(agent).answer(now, call, ANSWER));
    w.pump();
    assert_eq!(
        w.server_calls(),
        [UaEvent::CallAnswered {
            call: leg.call,
            sdp: ANSWER.to_vec()
        }]
    );
    assert_eq!(w.agent_saw(agent), [UaEvent::CallEstablished { call }]);

    // Hold from the server, answered by the agent.
    assert!(w.server.update(now, leg, HOLD));
    w.pump();
    assert_eq!(
        w.agent_saw(agent),
        [UaEvent::CallUpdate {
            call,
            sdp: HOLD.to_vec()
        }]
    );
    assert!(w.ua(agent).answer(now, call, ANSWER));
    w.pump();
    assert!(matches!(
        w.server_calls()[..],
        [UaEvent::CallUpdated { .. }]
    ));
    // The same offer again (a refresh) is answered as before, by the server itself.
    assert!(w.ua(agent).update(now, call, ANSWER));
    w.pump();
    assert!(
        w.server_calls().is_empty(),
        "not a question for the program"
    );
    assert!(matches!(
        &w.agent_saw(agent)[..],
        [UaEvent::CallUpdated { sdp, .. }] if sdp == HOLD
    ));
    // Unhold from the agent, answered by the server.
    assert!(w.ua(agent).update(now, call, UNHOLD));
    w.pump();
    let [UaEvent::CallUpdate { call: c, .. }] = w.server_calls()[..] else {
        panic!("no offer at the server");
    };
    assert_eq!(c, leg.call);
    assert!(w.server.answer(now, leg, OFFER));
    w.pump();
    assert!(matches!(
        w.agent_saw(agent)[..],
        [UaEvent::CallUpdated { .. }]
    ));
    // DTMF by INFO both ways.
    assert!(w.ua(agent).send_info(
        call,
        "application/dtmf-relay",
        b"Signal=5\r\nDuration=160\r\n"
    ));
    assert!(w.server.send_info(leg, "application/dtmf", b"7"));
    w.pump();
    assert!(matches!(
        &w.server_calls()[..],
        [UaEvent::Info { content_type, body, .. }] if content_type == "application/dtmf-relay" && body.starts_with(b"Signal=5")
    ));
    assert!(matches!(
        &w.agent_saw(agent)[..],
        [UaEvent::Info { body, .. }] if body == b"7"
    ));
    // The server hangs up.
    assert!(w.server.hang_up(now, leg));
    w.pump();
    assert_eq!(
        w.agent_saw(agent),
        [UaEvent::CallEnded {
            call,
            reason: EndReason::RemoteHangup
        }]
    );
    assert_eq!(
        w.server_calls(),
        [UaEvent::CallEnded {
            call: leg.call,
            reason: EndReason::LocalHangup
        }]
    );
    assert_eq!(w.server.poll_timeout(), w.server.registrar.next_expiry());
}

#[test]
fn the_agent_calls_in_and_hangs_up() {
    let mut w = World::new(ServerConfig::new("ccc.test"));
    let agent = w.registered("1001", "secret1001");
    w.server_saw();
    let now = w.now;
    let call = w.ua(agent).invite(now, "sip:13800000000@ccc.test", OFFER);
    w.pump();
    let events = w.server_saw();
    let [
        ServerEvent::Ua {
            flow,
            event:
                UaEvent::IncomingCall {
                    call: theirs,
                    from,
                    sdp,
                    ..
                },
        },
    ] = &events[..]
    else {
        panic!("{events:?}");
    };
    assert!(from.contains("sip:1001@ccc.test"));
    assert_eq!(sdp, OFFER);
    let leg = Leg {
        flow: *flow,
        call: *theirs,
    };
    assert!(w.server.ringing(leg));
    assert!(w.server.answer(now, leg, ANSWER));
    w.pump();
    assert!(matches!(
        w.agent_saw(agent)[..],
        [
            UaEvent::CallProgress { code: 180, .. },
            UaEvent::CallAnswered { .. }
        ]
    ));
    assert_eq!(
        w.server_calls(),
        [UaEvent::CallEstablished { call: leg.call }]
    );
    assert!(w.ua(agent).hang_up(now, call));
    w.pump();
    assert_eq!(
        w.server_calls(),
        [UaEvent::CallEnded {
            call: leg.call,
            reason: EndReason::RemoteHangup
        }]
    );
}

#[test]
fn a_closed_flow_drops_the_binding_and_its_calls() {
    let mut w = World::new(ServerConfig::new("ccc.test"));
    let agent = w.registered("1001", "secret1001");
    let now = w.now;
    let leg = w
        .server
        .invite(
            now,
            "sip:1001@ccc.test",
            "<sip:13800000000@ccc.test>",
            OFFER,
        )
        .unwrap();
    w.pump();
    w.server_saw();
    let flow = w.agents[agent].1;
    w.server.close_flow(now, flow);
    w.pump();
    let events = w.server_saw();
    assert!(
        matches!(
            &events[..],
            [
                ServerEvent::Ua {
                    event: UaEvent::CallEnded {
                        reason: EndReason::FlowLost,
                        ..
                    },
                    ..
                },
                ServerEvent::Unregistered {
                    reason: UnregisterReason::FlowClosed,
                    ..
                },
                ServerEvent::FlowClosed { .. },
            ]
        ),
        "{events:?}"
    );
    assert!(!w.server.hang_up(now, leg), "the leg went with its flow");
    assert_eq!(
        w.server
            .invite(now, "sip:1001@ccc.test", "<sip:x@y>", OFFER),
        Err(InviteError::NotRegistered("sip:1001@ccc.test".into()))
    );
    assert!(matches!(
        w.server
            .invite(now, "sip:1001@ccc.test", "<sip:x@y>;tag=1", OFFER),
        Err(InviteError::BadFrom(_))
    ));
    // The same instance on a new flow registers again.
    let again = w.registered("1001", "secret1001");
    assert_ne!(w.agents[again].1, flow);
    assert_eq!(w.server.bindings("sip:1001@ccc.test").len(), 1);
}

#[test]
fn the_agent_asks_for_a_transfer_and_hears_how_it_goes() {
    let mut w = World::new(ServerConfig::new("ccc.test"));
    let agent = w.registered("1001", "secret1001");
    let now = w.now;
    let leg = w
        .server
        .invite(
            now,
            "sip:1001@ccc.test",
            "<sip:13800000000@ccc.test>",
            OFFER,
        )
        .unwrap();
    w.pump();
    let UaEvent::IncomingCall { call, .. } = w.agent_saw(agent).remove(0) else {
        panic!("no call");
    };
    w.ua(agent).answer(now, call, ANSWER);
    w.pump();
    w.agent_saw(agent);
    w.server_saw();
    assert!(w.ua(agent).refer(now, call, "sip:1002@ccc.test", None));
    w.pump();
    assert_eq!(
        w.server_calls(),
        [UaEvent::TransferRequested {
            call: leg.call,
            target: "sip:1002@ccc.test".into(),
            replaces: false
        }]
    );
    assert!(w.server.accept_transfer(leg));
    w.pump();
    assert_eq!(
        w.agent_saw(agent),
        [
            UaEvent::TransferAccepted { call },
            UaEvent::TransferProgress { call, code: 100 }
        ]
    );
    assert!(w.server.transfer_progress(leg, 200, "OK"));
    w.pump();
    assert_eq!(
        w.agent_saw(agent),
        [UaEvent::TransferProgress { call, code: 200 }]
    );
    // A REFER the server refuses.
    assert!(w.ua(agent).refer(now, call, "sip:1003@ccc.test", None));
    w.pump();
    w.server_saw();
    assert!(w.server.reject_transfer(leg, 603, "Decline"));
    w.pump();
    assert_eq!(
        w.agent_saw(agent),
        [UaEvent::TransferFailed { call, code: 603 }]
    );
}

#[test]
fn registrar_answers_for_what_it_cannot_take() {
    let mut w = World::new(ServerConfig::new("ccc.test"));
    let agent = w.agent("1001", "secret1001");
    let flow = w.agents[agent].1;
    w.server_saw();
    let register = |to: &str, contact: &str, extra: &str| {
        format!(
            "REGISTER sip:ccc.test SIP/2.0\r\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bK1\r\n\
             From: <sip:1001@ccc.test>;tag=a\r\nTo: <{to}>\r\nCall-ID: r1\r\nCSeq: 1 REGISTER\r\n\
             Contact: {contact}\r\n{extra}Content-Length: 0\r\n\r\n"
        )
    };
    let now = w.now;
    let status = |w: &mut World, bytes: String| {
        w.server.handle_message(now, flow, bytes.as_bytes());
        let (_, reply) = w.server.poll_transmit().expect("an answer");
        assert!(w.server.poll_transmit().is_none());
        let reply = String::from_utf8(reply).unwrap();
        let m = crate::message::parse(reply.as_bytes()).unwrap();
        (
            m.status().unwrap(),
            m.header(KnownHeader::WwwAuthenticate).map(str::to_owned),
        )
    };
    // Another domain.
    assert_eq!(
        status(&mut w, register("sip:1001@elsewhere", "<sip:a@b>", "")).0,
        404
    );
    // No credentials: a challenge with qop=auth.
    let (code, challenge) = status(&mut w, register("sip:1001@ccc.test", "<sip:a@b>", ""));
    assert_eq!(code, 401);
    let challenge = crate::auth::Challenge::parse(&challenge.unwrap()).unwrap();
    assert!(challenge.qop_auth && !challenge.stale);
    let authorized = |contact: &str, extra: &str| {
        let mut client = crate::auth::DigestClient::new("1001", "secret1001");
        let answer = client.authorize(&challenge, "REGISTER", "sip:ccc.test", "c1");
        register(
            "sip:1001@ccc.test",
            contact,
            &format!("Authorization: {}\r\n{extra}", answer.header),
        )
    };
    // Contact * with bindings besides, or without Expires: 0.
    assert_eq!(status(&mut w, authorized("*", "")).0, 400);
    assert_eq!(status(&mut w, authorized("*", "Expires: 0\r\n")).0, 200);
    assert_eq!(status(&mut w, authorized("<tel:+1234>", "")).0, 416);
    assert_eq!(status(&mut w, authorized("<sip:a@b>;expires=5", "")).0, 423);
    assert_eq!(status(&mut w, authorized("<sip:a@b", "")).0, 400);
    assert_eq!(status(&mut w, authorized("<sip:a@b>", "")).0, 200);
    // A nonce that is not the server's.
    let forged = register(
        "sip:1001@ccc.test",
        "<sip:a@b>",
        "Authorization: Digest username=\"1001\", realm=\"ccc.test\", nonce=\"0.0000\", uri=\"sip:ccc.test\", response=\"00\"\r\n",
    );
    assert_eq!(status(&mut w, forged).0, 401);
    // Too many bindings.
    for i in 0..7 {
        assert_eq!(
            status(&mut w, authorized(&format!("<sip:a{i}@b>"), "")).0,
            200
        );
    }
    assert_eq!(status(&mut w, authorized("<sip:a9@b>", "")).0, 403);
}

/// The registrar takes the answer to the challenge it wrote: a client that answers a
/// SHA-256, qop=auth challenge with MD5 or without qop is refused.
#[test]
fn a_weaker_answer_than_the_challenge_is_refused() {
    use crate::auth::{Algorithm, Challenge, DigestClient};
    use crate::message::Builder;
    let mut config = ServerConfig::new("ccc.test");
    config.digest_algorithm = Algorithm::Sha256;
    let mut server = Server::new(config, accounts(), 5, Instant::now());
    let now = Instant::now();
    let flow = server.open_flow(Transport::Ws, addr(5066), addr(40000));
    let register = |cseq: u32, authorization: Option<String>| {
        let mut b = Builder::request("REGISTER", "sip:ccc.test")
            .header(
                KnownHeader::Via,
                "SIP/2.0/WS a.invalid;branch=z9hG4bK-w".to_owned() + &cseq.to_string(),
            )
            .header(KnownHeader::From, "<sip:1001@ccc.test>;tag=w1")
            .header(KnownHeader::To, "<sip:1001@ccc.test>")
            .header(KnownHeader::CallId, "weak-1")
            .header(KnownHeader::CSeq, format!("{cseq} REGISTER"))
            .header(KnownHeader::Contact, "<sip:1001@a.invalid;transport=ws>");
        if let Some(authorization) = authorization {
            b = b.header(KnownHeader::Authorization, authorization);
        }
        b.build().unwrap()
    };
    let status_and_challenge = |server: &mut Server, bytes: &[u8]| {
        server.handle_message(now, flow, bytes);
        let (_, answer) = server.poll_transmit().unwrap();
        let m = crate::message::parse(&answer).unwrap();
        let challenge = m
            .header(KnownHeader::WwwAuthenticate)
            .map(|c| Challenge::parse(c).unwrap());
        (m.status().unwrap(), challenge)
    };
    let (code, challenge) = status_and_challenge(&mut server, &register(1, None));
    assert_eq!(code, 401);
    let challenge = challenge.unwrap();
    assert!(challenge.qop_auth && challenge.algorithm == Algorithm::Sha256);
    let mut weaker = Vec::new();
    let mut md5 = challenge.clone();
    md5.algorithm = Algorithm::Md5;
    weaker.push(md5);
    let mut no_qop = challenge.clone();
    no_qop.qop_auth = false;
    weaker.push(no_qop);
    for (i, weak) in weaker.iter().enumerate() {
        let answer = DigestClient::new("1001", "secret1001").authorize(
            weak,
            "REGISTER",
            "sip:ccc.test",
            "c",
        );
        let (code, _) =
            status_and_challenge(&mut server, &register(2 + i as u32, Some(answer.header)));
        assert_eq!(code, 401, "{weak:?}");
    }
    let right = DigestClient::new("1001", "secret1001").authorize(
        &challenge,
        "REGISTER",
        "sip:ccc.test",
        "c",
    );
    let (code, _) = status_and_challenge(&mut server, &register(9, Some(right.header)));
    assert_eq!(code, 200);
}

mod recovery;
