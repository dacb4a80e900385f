//! The SIP link: a WebSocket flow kept up by itself.
//!
//! It connects, reconnects with exponential backoff (with jitter) when the flow drops,
//! sends a WebSocket ping every `keepalive` and declares the flow dead when nothing at
//! all has arrived for `dead_after` (the guide's `ASM_SIP` is 30 s). Everything it sees
//! comes out as [`LinkEvent`]s; what to do about an outage (re-register) is the SIP
//! layer's call.
//!
//! [`Link`] runs that in a task of its own. [`SipClient`](crate::client::SipClient)
//! runs the same machinery (`FlowKeeper`) inside its own task, so that an agent costs
//! one task, not two.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use backon::BackoffBuilder;
use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

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
    /// Sending failed (the error went to the sender, [`Link::send`]), or a keep-alive
    /// could not be sent within 10 s (the peer stopped reading).
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

/// How long one send may take before the flow is given up.
const SEND_LIMIT: Duration = Duration::from_secs(10);

type Connecting = Pin<Box<dyn Future<Output = Result<WsFlow, TransportError>> + Send>>;

enum KeeperState {
    /// Connecting; the attempt is boxed so that an idle link does not carry the size
    /// of a TLS handshake in its future.
    Connecting(Connecting),
    Up {
        flow: Box<WsFlow>,
        last_heard: Instant,
        next_ping: Instant,
    },
    /// Waiting to connect again.
    Waiting(Instant),
    Closed,
}

/// The flow-keeping machinery without a task: whoever owns it awaits
/// [`FlowKeeper::next_event`] (input only: cancel-safe, for `select!`) and fires
/// [`FlowKeeper::handle_deadline`] at [`FlowKeeper::deadline`], so the owner's one timer
/// serves both.
pub(crate) struct FlowKeeper {
    config: LinkConfig,
    state: KeeperState,
    delays: backon::ExponentialBackoff,
    /// An event to report before anything else (a flow lost while sending).
    pending: Option<LinkEvent>,
}

impl FlowKeeper {
    /// Starts connecting at once.
    pub(crate) fn new(config: LinkConfig) -> Self {
        let delays = backoff(&config);
        let state = KeeperState::Connecting(connect(&config));
        Self {
            config,
            state,
            delays,
            pending: None,
        }
    }

    pub(crate) fn is_up(&self) -> bool {
        matches!(self.state, KeeperState::Up { .. })
    }

    /// When [`FlowKeeper::handle_deadline`] is due.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        match &self.state {
            KeeperState::Up {
                last_heard,
                next_ping,
                ..
            } => Some((*next_ping).min(crate::time::later(*last_heard, self.config.dead_after))),
            KeeperState::Waiting(until) => Some(*until),
            KeeperState::Connecting(_) | KeeperState::Closed => None,
        }
    }

    /// Fires what is due at `now`: a ping, the silence limit, the next attempt.
    pub(crate) async fn handle_deadline(&mut self, now: Instant) {
        match &mut self.state {
            KeeperState::Up {
                flow,
                last_heard,
                next_ping,
            } => {
                if crate::time::later(*last_heard, self.config.dead_after) <= now {
                    let silent = DownReason::Silent(self.config.dead_after);
                    self.pending = Some(self.down(silent));
                } else if *next_ping <= now {
                    *next_ping = crate::time::later(now, self.config.keepalive);
                    match tokio::time::timeout(SEND_LIMIT, flow.ping()).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => self.pending = Some(self.down(DownReason::Failed(e))),
                        // A peer that stopped reading: the flow is as good as dead.
                        Err(_) => self.pending = Some(self.down(DownReason::SendFailed)),
                    }
                }
            }
            KeeperState::Waiting(until) if *until <= now => {
                self.state = KeeperState::Connecting(connect(&self.config));
            }
            _ => {}
        }
    }

    /// The next thing that arrives: a connection made or failed, a message, the flow
    /// lost. Never ends while nothing happens (the owner's timer and commands go on).
    pub(crate) async fn next_event(&mut self) -> LinkEvent {
        if let Some(event) = self.pending.take() {
            return event;
        }
        loop {
            match &mut self.state {
                KeeperState::Connecting(attempt) => {
                    let attempt = attempt.as_mut().await;
                    return match attempt {
                        Ok(flow) => {
                            self.delays = backoff(&self.config);
                            let (local, peer) = (flow.local_addr(), flow.peer_addr());
                            let now = Instant::now();
                            self.state = KeeperState::Up {
                                flow: Box::new(flow),
                                last_heard: now,
                                next_ping: crate::time::later(now, self.config.keepalive),
                            };
                            LinkEvent::Connected { local, peer }
                        }
                        Err(error) => {
                            let retry_in = self.next_delay();
                            self.state =
                                KeeperState::Waiting(crate::time::later(Instant::now(), retry_in));
                            LinkEvent::ConnectFailed { error, retry_in }
                        }
                    };
                }
                KeeperState::Up {
                    flow, last_heard, ..
                } => {
                    let frame = flow.recv().await;
                    *last_heard = Instant::now();
                    match frame {
                        Ok(Some(Frame::Message(bytes))) => return LinkEvent::Message(bytes),
                        Ok(Some(Frame::CrlfPing)) => {
                            match tokio::time::timeout(SEND_LIMIT, flow.send_crlf_pong()).await {
                                Ok(Ok(())) => {}
                                Ok(Err(e)) => return self.down(DownReason::Failed(e)),
                                Err(_) => return self.down(DownReason::SendFailed),
                            }
                        }
                        Ok(Some(Frame::CrlfPong | Frame::Pong)) => {}
                        Ok(None) => return self.down(DownReason::Closed),
                        Err(e) => return self.down(DownReason::Failed(e)),
                    }
                }
                KeeperState::Waiting(_) | KeeperState::Closed => {
                    return std::future::pending().await;
                }
            }
        }
    }

    /// Sends one SIP message on the current flow. A failure takes the flow down (and
    /// is reported by [`FlowKeeper::next_event`]).
    pub(crate) async fn send(&mut self, message: Bytes) -> Result<(), LinkError> {
        let KeeperState::Up { flow, .. } = &mut self.state else {
            return Err(match self.state {
                KeeperState::Closed => LinkError::Shutdown,
                _ => LinkError::Down,
            });
        };
        match tokio::time::timeout(SEND_LIMIT, flow.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                self.pending = Some(self.down(DownReason::SendFailed));
                Err(e.into())
            }
            Err(_) => {
                self.pending = Some(self.down(DownReason::SendFailed));
                Err(LinkError::Timeout)
            }
        }
    }

    /// Closes the flow (a WebSocket close handshake, bounded to one second) and stops.
    pub(crate) async fn close(&mut self) {
        if let KeeperState::Up { flow, .. } = &mut self.state {
            flow.close().await;
        }
        self.state = KeeperState::Closed;
    }

    /// The flow is gone: wait, then connect again.
    fn down(&mut self, reason: DownReason) -> LinkEvent {
        let retry_in = self.next_delay();
        self.state = KeeperState::Waiting(crate::time::later(Instant::now(), retry_in));
        LinkEvent::Disconnected(reason)
    }

    fn next_delay(&mut self) -> Duration {
        self.delays.next().unwrap_or(self.config.max_backoff)
    }
}

fn backoff(config: &LinkConfig) -> backon::ExponentialBackoff {
    backon::ExponentialBuilder::default()
        .with_min_delay(config.min_backoff)
        .with_max_delay(config.max_backoff)
        .with_jitter()
        .without_max_times()
        .build()
}

fn connect(config: &LinkConfig) -> Connecting {
    let how = config.connect.clone();
    Box::pin(async move { WsFlow::connect(&how).await })
}

enum Command {
    Send(Bytes, oneshot::Sender<Result<(), LinkError>>),
    Shutdown(oneshot::Sender<()>),
}

/// The handle of a link running in a task of its own. Dropping it stops the link.
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

impl Link {
    /// Starts the link on the current tokio runtime; it connects at once.
    pub fn spawn(config: LinkConfig) -> Self {
        let (commands, command_rx) = mpsc::channel(64);
        let (event_tx, events) = mpsc::channel(256);
        tokio::spawn(run(FlowKeeper::new(config), command_rx, event_tx));
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

async fn run(
    mut keeper: FlowKeeper,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<LinkEvent>,
) {
    let timer = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(timer);
    loop {
        let deadline = keeper.deadline();
        if let Some(at) = deadline {
            timer.as_mut().reset(at);
        }
        tokio::select! {
            event = keeper.next_event() => {
                if events.send(event).await.is_err() {
                    keeper.close().await;
                    return;
                }
            }
            () = &mut timer, if deadline.is_some() => keeper.handle_deadline(Instant::now()).await,
            command = commands.recv() => match command {
                Some(Command::Send(bytes, reply)) => {
                    let _ = reply.send(keeper.send(bytes).await);
                }
                Some(Command::Shutdown(done)) => {
                    keeper.close().await;
                    let _ = done.send(());
                    return;
                }
                None => {
                    keeper.close().await;
                    return;
                }
            },
        }
    }
}
