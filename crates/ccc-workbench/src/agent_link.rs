//! The agent link: the agent's state pushed over a WebSocket to `AgentServerUrl`, with
//! `PollUserStatus` polling while the push link is down.
//!
//! Framing (the project's; `docs/emulator.md`): connect to
//! `AgentServerUrl?UserId=..&SignData=..&Signature=..&DeviceId=..` with the login
//! token; every text frame from the server is one JSON object, the `Data` of a
//! `PollUserStatus` answer (an [`AgentSnapshot`]). The client sends a text frame as a
//! heartbeat now and then. A close with code 4001 is a platform sign-out whose reason
//! (`KA_register`, ...) is the close reason.
//!
//! The task reconnects by itself with doubling delays. While the push link is down it
//! polls; the link counts as down only when polling fails too. After every (re)connect
//! the state is read again (`PollUserStatus`), never guessed.

use std::sync::Arc;
use std::time::Duration;

use ccc_core::SignOutReason;
use ccc_core::model::AgentSnapshot;
use ccc_openapi::v2020;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::api::Api;
use crate::builder::LinkOptions;
use crate::driver::session::Token;

/// The close code of a platform sign-out.
pub(crate) const CLOSE_SIGNED_OUT: u16 = 4001;

/// The largest frame accepted (a snapshot of a conference is a few KiB).
const MAX_FRAME: usize = 256 * 1024;

/// What the agent link reports to the driver.
#[derive(Debug)]
pub(crate) enum LinkEvent {
    /// The link works (pushed, or polled while the push link is down).
    Up {
        /// Whether the push WebSocket is up (else polling works).
        push: bool,
        /// This end of the push connection.
        local: Option<std::net::SocketAddr>,
    },
    /// The push WebSocket took this long to connect (the guide's `WSConnectSlowly`).
    Slow(Duration),
    /// Neither push nor poll works.
    Down(String),
    /// The agent's state.
    Snapshot(Box<AgentSnapshot>),
    /// The platform signed the agent out (close code 4001); the task has ended.
    SignedOut(SignOutReason),
}

/// Where and as whom to connect.
#[derive(Debug, Clone)]
pub(crate) struct Params {
    pub(crate) url: String,
    pub(crate) user_id: String,
    pub(crate) device_id: String,
    pub(crate) options: LinkOptions,
}

/// A running agent link; dropping it stops the task.
#[derive(Debug)]
pub(crate) struct AgentLink {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl AgentLink {
    /// Starts the link task.
    pub(crate) fn spawn(
        params: Params,
        token: watch::Receiver<Token>,
        api: Api,
    ) -> (Self, mpsc::Receiver<LinkEvent>) {
        let (tx, rx) = mpsc::channel(64);
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(run(params, token, api, tx, stopped));
        (
            Self {
                stop: Some(stop),
                task,
            },
            rx,
        )
    }

    /// Closes the WebSocket and stops (bounded).
    pub(crate) async fn close(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = timeout(Duration::from_secs(2), &mut self.task).await;
        self.task.abort();
    }
}

impl Drop for AgentLink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How a push connection ended.
enum Ended {
    SignedOut(SignOutReason),
    Lost(String),
    Stopped,
}

/// What the driver was last told.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Told {
    Nothing,
    Up(bool),
    Down,
}

struct Task {
    params: Params,
    token: watch::Receiver<Token>,
    api: Api,
    tx: mpsc::Sender<LinkEvent>,
    told: Told,
}

impl Task {
    async fn tell(&mut self, event: LinkEvent) -> bool {
        let told = match &event {
            LinkEvent::Up { push, .. } => Told::Up(*push),
            LinkEvent::Down(_) => Told::Down,
            _ => self.told,
        };
        if matches!(event, LinkEvent::Up { .. } | LinkEvent::Down(_)) && told == self.told {
            return true;
        }
        self.told = told;
        self.tx.send(event).await.is_ok()
    }

    /// One `PollUserStatus`; reports the snapshot (and that the link works).
    async fn poll(&mut self) -> Result<(), String> {
        let request = v2020::PollUserStatus::new(self.api.instance())
            .user_id(self.params.user_id.clone())
            .device_id(self.params.device_id.clone());
        match self.api.send(request).await {
            Ok(answer) => {
                if let Some(snapshot) = answer.data {
                    let _ = self.tx.send(LinkEvent::Snapshot(Box::new(snapshot))).await;
                }
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

async fn run(
    params: Params,
    token: watch::Receiver<Token>,
    api: Api,
    tx: mpsc::Sender<LinkEvent>,
    mut stopped: oneshot::Receiver<()>,
) {
    let min = params.options.min_backoff.max(Duration::from_millis(10));
    let max = params.options.max_backoff.max(min);
    let mut task = Task {
        params,
        token,
        api,
        tx,
        told: Told::Nothing,
    };
    let mut backoff = min;
    loop {
        let token = task.token.borrow().clone();
        let started = Instant::now();
        // Boxed, here and below: a connection attempt (TCP, TLS, the upgrade) is a
        // 10 KiB future, and an HTTP request a large one too; inline they would stay
        // in the task's state for as long as the link lives, idle or not.
        let connected = tokio::select! {
            c = Box::pin(connect(&task.params, &token)) => c,
            _ = &mut stopped => return,
        };
        let took = started.elapsed();
        if took >= task.params.options.slow_connect {
            let _ = task.tx.send(LinkEvent::Slow(took)).await;
        }
        match connected {
            Ok(ws) => {
                let (ended, heard) = Box::pin(serve(&mut task, ws, &mut stopped)).await;
                if heard {
                    backoff = min;
                }
                match ended {
                    Ended::SignedOut(reason) => {
                        let _ = task.tx.send(LinkEvent::SignedOut(reason)).await;
                        return;
                    }
                    Ended::Stopped => return,
                    Ended::Lost(why) => {
                        tracing::debug!(user = %task.params.user_id, %why, "agent link lost");
                    }
                }
            }
            Err(why) => {
                tracing::debug!(user = %task.params.user_id, %why, "agent link connect failed");
            }
        }
        // Degraded: poll until the next attempt.
        let next = crate::time::after(backoff);
        loop {
            let outcome = Box::pin(task.poll()).await;
            let alive = match outcome {
                Ok(()) => {
                    task.tell(LinkEvent::Up {
                        push: false,
                        local: None,
                    })
                    .await
                }
                Err(why) => task.tell(LinkEvent::Down(why)).await,
            };
            if !alive {
                return;
            }
            let wake = crate::time::after(task.params.options.poll_every).min(next);
            tokio::select! {
                () = sleep_until(wake) => {}
                _ = &mut stopped => return,
            }
            if Instant::now() >= next {
                break;
            }
        }
        backoff = (backoff * 2).min(max);
    }
}

/// Reads frames until the connection ends, and says whether anything was heard. The
/// link counts as up from the first frame on (the server sends the agent's state, or
/// at least its pings): a connection that opens and then says nothing is no link.
async fn serve(task: &mut Task, ws: Ws, stopped: &mut oneshot::Receiver<()>) -> (Ended, bool) {
    let mut heard = false;
    let ended = read(task, ws, stopped, &mut heard).await;
    (ended, heard)
}

async fn read(
    task: &mut Task,
    mut ws: Ws,
    stopped: &mut oneshot::Receiver<()>,
    heard: &mut bool,
) -> Ended {
    let options = task.params.options.clone();
    let local = match ws.get_ref() {
        MaybeTlsStream::Plain(s) => s.local_addr().ok(),
        MaybeTlsStream::Rustls(s) => s.get_ref().0.local_addr().ok(),
        _ => None,
    };
    // The first beat one period from now. Not `interval` and its first tick: that tick
    // is a timer due "now", which tokio rounds up to its next millisecond, and until it
    // fires the first frame (the agent's state, which `register` waits for) sits unread.
    let every = options.heartbeat_every.max(Duration::from_millis(100));
    let mut heartbeat = tokio::time::interval_at(crate::time::after(every), every);
    let mut last_heard = Instant::now();
    loop {
        let dead_at = crate::time::later(last_heard, options.dead_after);
        tokio::select! {
            frame = ws.next() => {
                last_heard = Instant::now();
                if !*heard && matches!(frame, Some(Ok(_))) {
                    *heard = true;
                    if !task.tell(LinkEvent::Up { push: true, local }).await {
                        return Ended::Stopped;
                    }
                    // Read the state again: whatever changed while the link was down.
                    // A first frame that is a snapshot is that state (the server sends
                    // the agent's state on connect); anything else, ask.
                    if !matches!(frame, Some(Ok(Message::Text(_)))) {
                        let _ = Box::pin(task.poll()).await;
                    }
                }
                match frame {
                    Some(Ok(Message::Text(text))) => {
                        match serde_json::from_str::<AgentSnapshot>(text.as_str()) {
                            Ok(snapshot) => {
                                if task.tx.send(LinkEvent::Snapshot(Box::new(snapshot))).await.is_err() {
                                    return Ended::Stopped;
                                }
                            }
                            Err(e) => {
                                tracing::warn!(user = %task.params.user_id, error = %e, "agent link: a frame that is not a snapshot was skipped");
                            }
                        }
                    }
                    Some(Ok(Message::Close(frame))) => {
                        return match frame {
                            Some(f) if u16::from(f.code) == CLOSE_SIGNED_OUT => Ended::SignedOut(
                                SignOutReason::from_code(f.reason.as_str())
                                    .unwrap_or(SignOutReason::KaRegister),
                            ),
                            Some(f) => Ended::Lost(format!("closed by the server: {} {}", u16::from(f.code), f.reason.as_str())),
                            None => Ended::Lost("closed by the server".to_owned()),
                        };
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Ended::Lost(e.to_string()),
                    None => return Ended::Lost("the connection ended".to_owned()),
                }
            }
            _ = heartbeat.tick() => {
                let beat = format!("{{\"Heartbeat\":{}}}", now_ms());
                if let Err(e) = ws.send(Message::text(beat)).await {
                    return Ended::Lost(e.to_string());
                }
            }
            () = sleep_until(dead_at) => {
                return Ended::Lost(format!("nothing heard for {:?}", options.dead_after));
            }
            _ = &mut *stopped => {
                let _ = timeout(Duration::from_secs(1), ws.close(None)).await;
                return Ended::Stopped;
            }
        }
    }
}

fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// The URL with the login query.
pub(crate) fn link_url(params: &Params, token: &Token) -> Result<url::Url, String> {
    let mut url = url::Url::parse(&params.url).map_err(|e| format!("AgentServerUrl: {e}"))?;
    if !matches!(url.scheme(), "ws" | "wss") {
        return Err(format!(
            "AgentServerUrl must be ws:// or wss://, not {}",
            url.scheme()
        ));
    }
    url.query_pairs_mut()
        .append_pair("UserId", &params.user_id)
        .append_pair("SignData", &token.sign_data)
        .append_pair("Signature", &token.signature)
        .append_pair("DeviceId", &params.device_id);
    Ok(url)
}

async fn connect(params: &Params, token: &Token) -> Result<Ws, String> {
    let url = link_url(params, token)?;
    let connector = match url.scheme() {
        "wss" => Some(Connector::Rustls(tls_config(&params.options.roots)?)),
        _ => None,
    };
    // Snapshots are a few hundred bytes: a small read buffer (it grows for a larger
    // frame) keeps an idle link small; the library's default is 128 KiB. Nagle off:
    // a heartbeat goes at once.
    let config = WebSocketConfig::default()
        .read_buffer_size(1024)
        .write_buffer_size(0)
        .max_message_size(Some(MAX_FRAME))
        .max_frame_size(Some(MAX_FRAME));
    let attempt = tokio_tungstenite::connect_async_tls_with_config(
        url.as_str(),
        Some(config),
        true,
        connector,
    );
    match timeout(params.options.connect_timeout, attempt).await {
        Ok(Ok((ws, _response))) => Ok(ws),
        Ok(Err(tokio_tungstenite::tungstenite::Error::Http(response)))
            if response.status().as_u16() == 403 || response.status().as_u16() == 401 =>
        {
            // A refused token: retrying with it cannot work. The token is renewed by
            // the driver (RefreshToken); until then this counts as a failed attempt.
            let body = response
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            Err(format!(
                "the agent server refused the token (HTTP {}): {body}",
                response.status()
            ))
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!(
            "no connection within {:?}",
            params.options.connect_timeout
        )),
    }
}

/// rustls with ring (the one provider of the project) and the given roots.
pub(crate) fn tls_config(
    roots: &ccc_sip::transport::TlsRoots,
) -> Result<Arc<rustls::ClientConfig>, String> {
    use ccc_sip::transport::TlsRoots;
    let mut store = rustls::RootCertStore::empty();
    match roots {
        TlsRoots::Platform => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err("no usable certificate in the platform store".to_owned());
            }
        }
        TlsRoots::Custom(ders) => {
            for der in ders {
                store
                    .add(rustls::pki_types::CertificateDer::from(der.clone()))
                    .map_err(|e| format!("a root certificate: {e}"))?;
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(store)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_url_carries_the_token() {
        let params = Params {
            url: "ws://127.0.0.1:9/agent?x=1".into(),
            user_id: "agent@ccc".into(),
            device_id: "dev 1".into(),
            options: LinkOptions::default(),
        };
        let token = Token {
            sign_data: "agent@ccc:8001:99".into(),
            signature: "a+b/c=".into(),
            sip_password: None,
        };
        let url = link_url(&params, &token).unwrap();
        assert_eq!(
            url.query(),
            Some(
                "x=1&UserId=agent%40ccc&SignData=agent%40ccc%3A8001%3A99&Signature=a%2Bb%2Fc%3D&DeviceId=dev+1"
            )
        );
        let bad = Params {
            url: "https://x".into(),
            ..params
        };
        assert!(link_url(&bad, &token).is_err());
    }
}
