//! Sequences of messages into the sans-IO user agent (registered, with a call in
//! progress or not) and into the server side (registrar and call legs on flows that
//! open and close), with time moving: no panic, no unbounded growth.
#![no_main]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ccc_sip::server::{FlowId, Leg, Server, ServerConfig, ServerEvent, Transport};
use ccc_sip::ua::{CallHandle, UaConfig, UaEvent, UserAgent};
use libfuzzer_sys::fuzz_target;

fn open(server: &mut Server) -> FlowId {
    let addr = |port| SocketAddr::from(([127, 0, 0, 1], port));
    server.open_flow(Transport::Ws, addr(5066), addr(40000))
}

fuzz_target!(|data: &[u8]| {
    let config = UaConfig::new("1001", "secret", "ccc.test", "urn:uuid:00000000-0000-4000-8000-000000000000");
    let mut ua = UserAgent::new(config, 7);
    let mut now = Instant::now();
    ua.handle_flow(now, true);
    ua.register(now);
    let mut server_config = ServerConfig::new("ccc.test");
    // Calls from flows that did not register reach the server's call legs too.
    server_config.require_registration = data.first().is_some_and(|b| b & 1 == 0);
    let accounts = Arc::new(|user: &str| (user == "1001").then(|| "secret".to_owned()));
    let mut server = Server::new(server_config, accounts, 9, now);
    let mut flow = open(&mut server);
    // The user agent's latest call, for the verbs below.
    let mut last_call: Option<CallHandle> = None;
    // Messages separated by a 0xFF byte; a lone control byte moves time or acts.
    for chunk in data.split(|b| *b == 0xFF) {
        match chunk {
            [0x01] => now += Duration::from_secs(1),
            [0x02] => now += Duration::from_secs(40),
            [0x03] => {
                ua.handle_flow(now, false);
                server.close_flow(now, flow);
            }
            [0x04] => {
                ua.handle_flow(now, true);
                flow = open(&mut server);
            }
            [0x05] => {
                let _ = server.invite(now, "sip:1001@ccc.test", "<sip:13800000000@ccc.test>", b"v=0");
            }
            [0x06] => last_call = Some(ua.invite(now, "sip:1002@ccc.test", b"v=0")),
            [0x07, verb] => {
                if let Some(call) = last_call {
                    match verb % 6 {
                        0 => drop(ua.hang_up(now, call)),
                        1 => drop(ua.update(now, call, b"v=0 hold")),
                        2 => drop(ua.refer(now, call, "sip:1003@ccc.test", None)),
                        3 => drop(ua.send_info(call, "application/dtmf-relay", b"Signal=1")),
                        4 => drop(ua.reject(call, 486, "Busy Here")),
                        _ => drop(ua.ringing(call)),
                    }
                }
            }
            [0x08] => ua.unregister(now),
            _ => {
                ua.handle_message(now, chunk);
                server.handle_message(now, flow, chunk);
            }
        }
        ua.handle_timeout(now);
        server.handle_timeout(now);
        let mut sent = 0;
        while let Some(bytes) = ua.poll_transmit() {
            // What the user agent sends goes to the server, as on a real flow.
            server.handle_message(now, flow, &bytes);
            sent += 1;
        }
        while server.poll_transmit().is_some() {
            sent += 1;
        }
        assert!(sent < 128, "one input cannot make unbounded output");
        while let Some(event) = ua.poll_event() {
            if let UaEvent::IncomingCall { call, .. } | UaEvent::CallAnswered { call, .. } = &event {
                last_call = Some(*call);
            }
            match event {
                UaEvent::IncomingCall { call, .. } | UaEvent::CallUpdate { call, .. } => {
                    ua.answer(now, call, b"v=0");
                }
                UaEvent::TransferRequested { call, .. } => {
                    ua.accept_transfer(now, call, b"v=0");
                }
                _ => {}
            }
        }
        while let Some(event) = server.poll_event() {
            if let ServerEvent::Ua { flow, event: UaEvent::IncomingCall { call, .. } } = event {
                let leg = Leg { flow, call };
                server.ringing(leg);
                server.answer(now, leg, b"v=0");
            }
        }
        // Whatever the answers made goes out too.
        while ua.poll_transmit().is_some() {}
        while server.poll_transmit().is_some() {}
    }
});
