//! What the tests against real peers share: agents registered with short backoffs,
//! bounded waits for events, SIPp runs checked with their logs.

// Each test file uses a part of these.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use ccc_sip::client::{ClientEvent, SipClient};
use ccc_sip::link::LinkConfig;
use ccc_sip::server::{FlowId, ServerEvent, ServerEvents};
use ccc_sip::transport::WsConnect;
use ccc_sip::ua::{UaConfig, UaEvent};
use ccc_testpeers::{Kamailio, Sipp, SippRun};
use tokio::time::timeout;

/// The longest any test waits for one thing.
pub const WAIT: Duration = Duration::from_secs(15);

/// A link to `connect` that comes back quickly.
pub fn quick_link(connect: WsConnect) -> LinkConfig {
    let mut link = LinkConfig::new(connect);
    link.min_backoff = Duration::from_millis(50);
    link.max_backoff = Duration::from_millis(300);
    link
}

/// User `user` of the test peers (password `secret<user>`), with an instance of its own.
pub fn user(user: &str) -> UaConfig {
    UaConfig::new(
        user,
        format!("secret{user}"),
        "ccc.test",
        format!("urn:uuid:2c9a1e74-5b0e-4a0c-9f1d-00000000{user}"),
    )
}

/// A client started on `link` as `ua`, once it is registered.
pub async fn registered(link: LinkConfig, ua: UaConfig, seed: u64) -> SipClient {
    let mut client = SipClient::spawn(link, ua, seed);
    let event = next_ua(&mut client).await;
    assert!(matches!(event, UaEvent::Registered { .. }), "{event:?}");
    client
}

/// `user` registered to Kamailio over ws.
pub async fn kamailio_agent(kam: &Kamailio, name: &str, seed: u64) -> SipClient {
    registered(quick_link(WsConnect::new(kam.ws_url())), user(name), seed).await
}

/// The next user-agent event of `client`, skipping link events.
pub async fn next_ua(client: &mut SipClient) -> UaEvent {
    loop {
        let event = timeout(WAIT, client.next_event())
            .await
            .expect("a client event in time")
            .expect("the client runs");
        if let ClientEvent::Ua(event) = event {
            return event;
        }
    }
}

/// SIPp's end (it is stopped after [`WAIT`]).
pub async fn finished(sipp: Sipp) -> SippRun {
    tokio::task::spawn_blocking(move || sipp.wait(WAIT))
        .await
        .expect("the wait ends")
}

/// That every call of SIPp's scenario succeeded; the logs of SIPp and Kamailio if not.
pub fn assert_succeeded(run: &SippRun, kam: Option<&Kamailio>) {
    assert!(
        run.succeeded(),
        "SIPp: {}\n{}\n{}",
        run.log,
        run.messages,
        kam.map(Kamailio::log_tail).unwrap_or_default()
    );
}

/// The next server event that `pick` takes, skipping the others.
pub async fn next_server<T>(
    events: &mut ServerEvents,
    mut pick: impl FnMut(ServerEvent) -> Option<T>,
) -> T {
    loop {
        let event = timeout(WAIT, events.next_event())
            .await
            .expect("a server event in time")
            .expect("the server runs");
        if let Some(found) = pick(event) {
            return found;
        }
    }
}

/// The next call event of the server, with its flow.
pub async fn next_leg_event(events: &mut ServerEvents) -> (FlowId, UaEvent) {
    next_server(events, |e| match e {
        ServerEvent::Ua { flow, event } => Some((flow, event)),
        _ => None,
    })
    .await
}

/// A TCP proxy on 127.0.0.1 in front of a server's WebSocket port, which a test can cut
/// (every open connection closed at once, as a network outage does to a client's flow)
/// and make refuse new connections for a while.
pub struct CutProxy {
    pub addr: std::net::SocketAddr,
    cuts: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
    refusing: std::sync::Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl CutProxy {
    pub async fn start(target: std::net::SocketAddr) -> Self {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cuts = std::sync::Arc::new(tokio::sync::watch::channel(0u64).0);
        let refusing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (c, r) = (cuts.clone(), refusing.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if r.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let mut cut = c.subscribe();
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    // Dropping both halves of both sockets closes them.
                    tokio::select! {
                        _ = tokio::io::copy(&mut cr, &mut sw) => {}
                        _ = tokio::io::copy(&mut sr, &mut cw) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self {
            addr,
            cuts,
            refusing,
            task,
        }
    }

    /// Closes every connection open now.
    pub fn cut(&self) {
        self.cuts.send_modify(|n| *n += 1);
    }

    /// Refuses new connections (`true`) or lets them through again.
    pub fn refuse(&self, refuse: bool) {
        self.refusing
            .store(refuse, std::sync::atomic::Ordering::SeqCst);
    }

    /// `ws://` to the proxy.
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.addr)
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
