//! The server side in one page: a `SipServer` (registrar and call legs) on a local
//! port, a `SipClient` that registers to it, a call from the server that the client
//! answers, holds by re-INVITE from the server, and a BYE from the server. What the
//! emulator does for every agent, without the emulator.
//!
//! Run: `cargo run -p ccc-sip --example server`

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ccc_sip::client::{ClientEvent, SipClient};
use ccc_sip::link::LinkConfig;
use ccc_sip::server::{ListenConfig, ServerConfig, ServerEvent, SipServer};
use ccc_sip::transport::WsConnect;
use ccc_sip::ua::{UaConfig, UaEvent};

const OFFER: &[u8] = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
const ANSWER: &[u8] = b"v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";
const HOLD: &[u8] = b"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The server: its domain, where it listens, and its users' passwords.
    let mut users = HashMap::new();
    users.insert("1001".to_owned(), "secret1001".to_owned());
    let listen = ListenConfig::ws(SocketAddr::from(([127, 0, 0, 1], 0)));
    let (server, mut server_events) = SipServer::start(
        ServerConfig::new("ccc.test"),
        listen,
        Arc::new(users),
        0x1234,
    )
    .await?;
    let url = server.ws_url().ok_or("no ws listener")?;
    println!("server: listening on {url}");

    // An agent registers to it.
    let ua = UaConfig::new(
        "1001",
        "secret1001",
        "ccc.test",
        "urn:uuid:0b1c2d3e-0000-4000-8000-000000001001",
    );
    let mut agent = SipClient::spawn(LinkConfig::new(WsConnect::new(url)), ua, 0x5678);

    let limit = Duration::from_secs(10);
    let mut leg = None;
    loop {
        tokio::select! {
            event = server_events.next_event() => match event.ok_or("the server stopped")? {
                ServerEvent::Registered { aor, contact, expires, .. } => {
                    println!("server: {aor} registered at {contact} for {expires} s");
                    // Call the agent, as the emulator does for an inbound customer.
                    leg = Some(server.invite(aor, "\"13800000000\" <sip:13800000000@ccc.test>", OFFER.to_vec()).await?);
                }
                ServerEvent::Ua { event: UaEvent::CallAnswered { .. }, .. } => {
                    println!("server: the agent answered; putting it on hold");
                    server.update(leg.ok_or("no leg")?, HOLD.to_vec()).await;
                }
                ServerEvent::Ua { event: UaEvent::CallUpdated { .. }, .. } => {
                    println!("server: held; hanging up");
                    server.hang_up(leg.ok_or("no leg")?).await;
                }
                other => println!("server: {other:?}"),
            },
            event = agent.next_event() => match event.ok_or("the agent stopped")? {
                ClientEvent::Ua(UaEvent::IncomingCall { call, from, .. }) => {
                    println!("agent: a call from {from}");
                    agent.answer(call, ANSWER.to_vec()).await;
                }
                ClientEvent::Ua(UaEvent::CallUpdate { call, .. }) => {
                    println!("agent: the server offers a new session (hold)");
                    agent.answer(call, ANSWER.to_vec()).await;
                }
                ClientEvent::Ua(UaEvent::CallEnded { reason, .. }) => {
                    println!("agent: the call ended ({reason:?})");
                    break;
                }
                other => println!("agent: {other:?}"),
            },
            () = tokio::time::sleep(limit) => return Err("nothing happened for 10 s".into()),
        }
    }
    agent.shutdown().await;
    server.shutdown().await;
    Ok(())
}
