//! The SIP link: a WebSocket flow kept up by itself.
//!
//! A task owns the [`WsFlow`]: it connects, reconnects with
//! exponential backoff (with jitter) when the flow drops, sends a WebSocket ping every
//! `keepalive` and declares the flow dead when nothing at all has arrived for
//! `dead_after` (the guide's `ASM_SIP` is 30 s). Everything it sees comes out as
//! [`LinkEvent`]s; what to do about an outage (re-register) is the SIP layer's call.

use std::net::SocketAddr;
use std::time::Duration;

use backon::BackoffBuilder;
use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, sleep_until};

use crate::transport::{Frame, TransportError, WsConnect, WsFlow};

/// How the link behaves.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    /// Where to connect.
    pub connect: WsConnect,
    /// A WebSocket ping this often (default 10 s).
    pub keepalive: Duration,
    /// Dead when nothing arrived for this long (default 30 s).
    pub dead_after: Duration,
    /// The first reconnect delay (default 500 ms), doubling up to `max_backoff`.
    pub min_backoff: Duration,
    /// The longest reconnect delay (default 30 s).
    pub max_backoff: Duration,
}

impl LinkConfig {
    /// Defaults for `connect`.
    pub fn new(connect: WsConnect) -> Self {
        Self {
            connect,
            keepalive: Duration::from_secs(10),
            dead_after: Duration::from_secs(30),
            min_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// Why a flow went down.
#[derive(Debug)]
#[non_exhaustive]
pub enum DownReason {
    /// The peer closed it.
    Closed,
    /// Nothing arrived for `dead_after`.
    Silent(Duration),
    /// It failed.
    Failed(TransportError),
    /// Sending failed (the error went to the sender, [`Link::send`]).
    SendFailed,
}

/// What the link reports, in order.
#[derive(Debug)]
#[non_exhaustive]
pub enum LinkEvent {
    /// A flow is up.
    Connected {
        /// This end.
        local: SocketAddr,
        /// The server.
        peer: SocketAddr,
    },
    /// A SIP message arrived.
    Message(Bytes),
    /// The flow went down; the link reconnects by itself.
    Disconnected(DownReason),
    /// A connection attempt failed; the next one follows after `retry_in`.
    ConnectFailed {
        /// Why.
        error: TransportError,
        /// When the next attempt starts.
        retry_in: Duration,
    },
}

/// Why a send did not happen.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// No flow is up right now.
    #[error("the SIP link is down")]
    Down,
    /// The flow failed while sending.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The link was shut down.
    #[error("the SIP link was shut down")]
    Shutdown,
    /// The send did not settle in time.
    #[error("sending on the SIP link timed out")]
    Timeout,
}

enum Command {
    Send(Bytes, oneshot::Sender<Result<(), LinkError>>),
    Shutdown(oneshot::Sender<()>),
}

/// The handle of a running link. Dropping it stops the link.
#[derive(Debug)]
pub struct Link {
    commands: mpsc::Sender<Command>,
    events: mpsc::Receiver<LinkEvent>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Send(..) => "Send",
            Self::Shutdown(_) => "Shutdown",
        })
    }
}

const SEND_LIMIT: Duration = Duration::from_secs(10);

impl Link {
    /// Starts the link on the current tokio runtime; it connects at once.
    pub fn spawn(config: LinkConfig) -> Self {
        let (commands, command_rx) = mpsc::channel(64);
        let (event_tx, events) = mpsc::channel(256);
        tokio::spawn(run(config, command_rx, event_tx));
        Self { commands, events }
    }

    /// Sends one SIP message on the current flow.
    pub async fn send(&self, message: impl Into<Bytes>) -> Result<(), LinkError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Send(message.into(), reply))
            .await
            .map_err(|_| LinkError::Shutdown)?;
        match tokio::time::timeout(SEND_LIMIT, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(LinkError::Shutdown),
            Err(_) => Err(LinkError::Timeout),
        }
    }

    /// The next event; `None` once the link has stopped.
    pub async fn next_event(&mut self) -> Option<LinkEvent> {
        self.events.recv().await
    }

    /// Closes the flow and stops the link; returns when it has stopped (at most about
    /// a second for the WebSocket close handshake).
    pub async fn shutdown(self) {
        let (done, stopped) = oneshot::channel();
        if self.commands.send(Command::Shutdown(done)).await.is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(5), stopped).await;
        }
    }
}

/// How a served flow ended.
enum Ended {
    Down(DownReason),
    Shutdown(Option<oneshot::Sender<()>>),
}

async fn run(
    config: LinkConfig,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<LinkEvent>,
) {
    let backoff = || {
        backon::ExponentialBuilder::default()
            .with_min_delay(config.min_backoff)
            .with_max_delay(config.max_backoff)
            .with_jitter()
            .without_max_times()
            .build()
    };
    let mut delays = backoff();
    loop {
        let connecting = WsFlow::connect(&config.connect);
        let attempt = tokio::select! {
            attempt = connecting => attempt,
            command = commands.recv() => match refuse_while_down(command) {
                Some(done) => return finish(done),
                None => continue,
            },
        };
        let ended = match attempt {
            Ok(flow) => {
                delays = backoff();
                let connected = LinkEvent::Connected {
                    local: flow.local_addr(),
                    peer: flow.peer_addr(),
                };
                if events.send(connected).await.is_err() {
                    return;
                }
                serve(flow, &config, &mut commands, &events).await
            }
            Err(error) => {
                let retry_in = delays.next().unwrap_or(config.max_backoff);
                if events
                    .send(LinkEvent::ConnectFailed { error, retry_in })
                    .await
                    .is_err()
                {
                    return;
                }
                match wait(retry_in, &mut commands).await {
                    Some(done) => Ended::Shutdown(done),
                    None => continue,
                }
            }
        };
        match ended {
            Ended::Shutdown(done) => return finish(done),
            Ended::Down(reason) => {
                if events.send(LinkEvent::Disconnected(reason)).await.is_err() {
                    return;
                }
                let retry_in = delays.next().unwrap_or(config.max_backoff);
                if let Some(done) = wait(retry_in, &mut commands).await {
                    return finish(done);
                }
            }
        }
    }
}

fn finish(done: Option<oneshot::Sender<()>>) {
    if let Some(done) = done {
        let _ = done.send(());
    }
}

/// While no flow is up: sends fail at once; a shutdown (or a dropped handle) ends the
/// link, with whom to tell.
fn refuse_while_down(command: Option<Command>) -> Option<Option<oneshot::Sender<()>>> {
    match command {
        Some(Command::Send(_, reply)) => {
            let _ = reply.send(Err(LinkError::Down));
            None
        }
        Some(Command::Shutdown(done)) => Some(Some(done)),
        None => Some(None),
    }
}

/// Waits `delay` before the next attempt, answering commands meanwhile.
async fn wait(
    delay: Duration,
    commands: &mut mpsc::Receiver<Command>,
) -> Option<Option<oneshot::Sender<()>>> {
    let until = Instant::now() + delay;
    loop {
        tokio::select! {
            () = sleep_until(until) => return None,
            command = commands.recv() => {
                if let Some(done) = refuse_while_down(command) {
                    return Some(done);
                }
            }
        }
    }
}

async fn serve(
    mut flow: WsFlow,
    config: &LinkConfig,
    commands: &mut mpsc::Receiver<Command>,
    events: &mpsc::Sender<LinkEvent>,
) -> Ended {
    let mut last_heard = Instant::now();
    let mut next_ping = last_heard + config.keepalive;
    loop {
        let dead_at = last_heard + config.dead_after;
        tokio::select! {
            frame = flow.recv() => {
                last_heard = Instant::now();
                match frame {
                    Ok(Some(Frame::Message(bytes))) => {
                        if events.send(LinkEvent::Message(bytes)).await.is_err() {
                            flow.close().await;
                            return Ended::Shutdown(None);
                        }
                    }
                    Ok(Some(Frame::CrlfPing)) => {
                        if let Err(e) = flow.send_crlf_pong().await {
                            return Ended::Down(DownReason::Failed(e));
                        }
                    }
                    Ok(Some(Frame::CrlfPong | Frame::Pong)) => {}
                    Ok(None) => return Ended::Down(DownReason::Closed),
                    Err(e) => return Ended::Down(DownReason::Failed(e)),
                }
            }
            command = commands.recv() => match command {
                Some(Command::Send(bytes, reply)) => {
                    let result = flow.send(bytes).await;
                    let failed = result.is_err();
                    let _ = reply.send(result.map_err(LinkError::from));
                    if failed {
                        return Ended::Down(DownReason::SendFailed);
                    }
                }
                Some(Command::Shutdown(done)) => {
                    flow.close().await;
                    return Ended::Shutdown(Some(done));
                }
                None => {
                    flow.close().await;
                    return Ended::Shutdown(None);
                }
            },
            () = sleep_until(next_ping) => {
                next_ping = Instant::now() + config.keepalive;
                if let Err(e) = flow.ping().await {
                    return Ended::Down(DownReason::Failed(e));
                }
            }
            () = sleep_until(dead_at) => return Ended::Down(DownReason::Silent(config.dead_after)),
        }
    }
}
