//! [`SipServer`]: the tokio driver of the sans-IO [`Server`].
//!
//! One task owns the [`Server`]; one task per listener accepts connections; one task
//! per flow owns its socket (WebSocket, secure WebSocket or TCP), hands what arrives to
//! the server task and writes what the server sends. Every queue is bounded: a flow
//! that cannot take what it is sent is closed rather than buffered for, and every
//! command settles within [`COMMAND_LIMIT`].
//!
//! For fault injection (a test platform's admin API), a flow can be slowed or
//! black-holed ([`SipServer::set_flow_fault`]); this lives in the flow task, not in the
//! sans-IO core, because it is about the socket, not about SIP.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};

use super::{
    Accounts, Binding, FlowId, InviteError, Leg, Server, ServerConfig, ServerEvent, Transport,
};
use crate::transport::{Frame, TcpFlow, TransportError, WsFlow, WsLimits};

pub use crate::transport::TlsIdentity;

/// How long a command to the server task may take before it is given up.
pub const COMMAND_LIMIT: Duration = Duration::from_secs(10);

/// Where the server listens and how it treats its flows.
#[derive(Debug, Clone)]
pub struct ListenConfig {
    /// `ws://` on this address (port 0: any free port).
    pub ws: Option<SocketAddr>,
    /// `wss://` on this address with this certificate.
    pub wss: Option<(SocketAddr, TlsIdentity)>,
    /// SIP over plain TCP on this address (for SIPp and proxies).
    pub tcp: Option<SocketAddr>,
    /// Buffer limits of each flow (the largest message is also the TCP limit).
    pub limits: WsLimits,
    /// Limit for the TLS and WebSocket handshakes (default 10 s).
    pub handshake_timeout: Duration,
    /// A flow from which nothing arrived for this long is closed (default 90 s: three
    /// times the client's default keep-alive, and more than its dead-link limit).
    pub idle_timeout: Duration,
    /// The most flows at once (default 10,000); more connections are closed at once.
    pub max_flows: usize,
}

impl ListenConfig {
    /// `ws://` on `addr`, with the defaults.
    pub fn ws(addr: SocketAddr) -> Self {
        Self {
            ws: Some(addr),
            wss: None,
            tcp: None,
            limits: WsLimits::default(),
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(90),
            max_flows: 10_000,
        }
    }
}

/// What a flow's socket does to the messages it carries (fault injection, see
/// [`SipServer::set_flow_fault`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlowFault {
    /// Messages pass as they come (the default).
    #[default]
    None,
    /// Every message, each way, waits this long (order kept); keep-alive pongs too.
    Delay(Duration),
    /// The flow stays open and silent: nothing is read from it (its WebSocket pings
    /// and CRLF keep-alives go unanswered), what the server sends it is dropped. The
    /// server's idle limit ([`ListenConfig::idle_timeout`]) still applies.
    BlackHole,
}

/// At most this many delayed messages wait in each direction of a flow; more close it.
const MAX_DELAYED: usize = 256;

/// Why the server did not do something.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// Listening failed (address in use, ...).
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// Where.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The TLS identity cannot be used.
    #[error(transparent)]
    Tls(#[from] TransportError),
    /// The call could not be placed.
    #[error(transparent)]
    Invite(#[from] InviteError),
    /// The server has stopped.
    #[error("the SIP server has stopped")]
    Stopped,
    /// The server task did not answer within [`COMMAND_LIMIT`].
    #[error("the SIP server did not answer in time")]
    Timeout,
}

/// The events of a running [`SipServer`], in order. Read them: the server waits for
/// room in this stream (bounded) before it goes on.
#[derive(Debug)]
pub struct ServerEvents {
    events: mpsc::Receiver<ServerEvent>,
}

impl ServerEvents {
    /// The next event; `None` once the server has stopped.
    pub async fn next_event(&mut self) -> Option<ServerEvent> {
        self.events.recv().await
    }
}

/// A running SIP server: registrar and call legs. Cheap to clone; the server stops
/// when the last handle is dropped or [`SipServer::shutdown`] is called.
#[derive(Debug, Clone)]
pub struct SipServer {
    commands: mpsc::Sender<Command>,
    ws: Option<SocketAddr>,
    wss: Option<SocketAddr>,
    tcp: Option<SocketAddr>,
}

/// What the flow tasks tell the server task.
enum FromFlow {
    Opened {
        transport: Transport,
        local: SocketAddr,
        peer: SocketAddr,
        sender: mpsc::Sender<Bytes>,
        fault: watch::Sender<FlowFault>,
        reply: oneshot::Sender<FlowId>,
    },
    Message(FlowId, Bytes),
    Closed(FlowId),
}

/// What the handles ask of the server task.
enum Command {
    Invite {
        aor: String,
        from: String,
        sdp: Vec<u8>,
        reply: oneshot::Sender<Result<Leg, InviteError>>,
    },
    Leg(LegCommand, oneshot::Sender<bool>),
    Bindings(String, oneshot::Sender<Vec<Binding>>),
    CloseFlow(FlowId, oneshot::Sender<bool>),
    FlowFault(FlowId, FlowFault, oneshot::Sender<bool>),
    Shutdown(oneshot::Sender<()>),
}

enum LegCommand {
    Ringing(Leg),
    Answer(Leg, Vec<u8>),
    Reject(Leg, u16, String),
    HangUp(Leg),
    Update(Leg, Vec<u8>),
    Info(Leg, String, Vec<u8>),
    Refer(Leg, String),
    AcceptTransfer(Leg),
    TransferProgress(Leg, u16, String),
    RejectTransfer(Leg, u16, String),
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Invite { .. } => "Invite",
            Self::Leg(..) => "Leg",
            Self::Bindings(..) => "Bindings",
            Self::CloseFlow(..) => "CloseFlow",
            Self::FlowFault(..) => "FlowFault",
            Self::Shutdown(_) => "Shutdown",
        })
    }
}

/// Messages waiting for one flow's socket.
const FLOW_QUEUE: usize = 64;
/// Messages from all flows waiting for the server task.
const INBOX: usize = 1024;
/// Events waiting for the program.
const EVENT_QUEUE: usize = 1024;

impl SipServer {
    /// Starts listening and serving on the current tokio runtime. `seed` makes the
    /// server's identifiers and nonce key (64 random bits).
    pub async fn start(
        config: ServerConfig,
        listen: ListenConfig,
        accounts: Arc<dyn Accounts>,
        seed: u64,
    ) -> Result<(Self, ServerEvents), ServerError> {
        let bind = |addr: SocketAddr| async move {
            TcpListener::bind(addr)
                .await
                .map_err(|source| ServerError::Listen { addr, source })
        };
        let tls = match &listen.wss {
            Some((_, identity)) => Some(tokio_rustls::TlsAcceptor::from(identity.server_config()?)),
            None => None,
        };
        let mut listeners = Vec::new();
        let mut bound = [None; 3];
        for (slot, (addr, transport)) in [
            (listen.ws, Transport::Ws),
            (listen.wss.as_ref().map(|w| w.0), Transport::Wss),
            (listen.tcp, Transport::Tcp),
        ]
        .into_iter()
        .enumerate()
        {
            if let Some(addr) = addr {
                let listener = bind(addr).await?;
                bound[slot] = Some(
                    listener
                        .local_addr()
                        .map_err(|source| ServerError::Listen { addr, source })?,
                );
                listeners.push((listener, transport));
            }
        }
        let (commands, command_rx) = mpsc::channel(64);
        let (inbox, inbox_rx) = mpsc::channel(INBOX);
        let (event_tx, events) = mpsc::channel(EVENT_QUEUE);
        let flows = Arc::new(tokio::sync::Semaphore::new(listen.max_flows));
        let settings = Arc::new(FlowSettings {
            limits: listen.limits,
            handshake_timeout: listen.handshake_timeout,
            idle_timeout: listen.idle_timeout,
            tls,
        });
        let acceptors = listeners
            .into_iter()
            .map(|(listener, transport)| {
                tokio::spawn(accept_loop(
                    listener,
                    transport,
                    settings.clone(),
                    flows.clone(),
                    inbox.clone(),
                ))
            })
            .collect();
        let server = Server::new(config, accounts, seed, std::time::Instant::now());
        tokio::spawn(run(server, inbox_rx, command_rx, event_tx, acceptors));
        Ok((
            Self {
                commands,
                ws: bound[0],
                wss: bound[1],
                tcp: bound[2],
            },
            ServerEvents { events },
        ))
    }

    /// `ws://127.0.0.1:PORT` (the address it listens on), if it listens for `ws://`.
    pub fn ws_url(&self) -> Option<String> {
        self.ws.map(|a| format!("ws://{a}"))
    }

    /// `wss://...`, if it listens for `wss://`.
    pub fn wss_url(&self) -> Option<String> {
        self.wss.map(|a| format!("wss://{a}"))
    }

    /// The SIP over TCP address, if it listens for TCP.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.tcp
    }

    async fn ask<T>(
        &self,
        command: Command,
        answer: oneshot::Receiver<T>,
    ) -> Result<T, ServerError> {
        tokio::time::timeout(COMMAND_LIMIT, async {
            self.commands
                .send(command)
                .await
                .map_err(|_| ServerError::Stopped)?;
            answer.await.map_err(|_| ServerError::Stopped)
        })
        .await
        .map_err(|_| ServerError::Timeout)?
    }

    async fn leg(&self, command: LegCommand) -> bool {
        let (reply, answer) = oneshot::channel();
        self.ask(Command::Leg(command, reply), answer)
            .await
            .unwrap_or(false)
    }

    /// Calls the agent registered at `aor` with the SDP offer `sdp`, showing `from` as
    /// the caller (see [`Server::invite`]).
    pub async fn invite(
        &self,
        aor: impl Into<String>,
        from: impl Into<String>,
        sdp: Vec<u8>,
    ) -> Result<Leg, ServerError> {
        let (reply, answer) = oneshot::channel();
        let command = Command::Invite {
            aor: aor.into(),
            from: from.into(),
            sdp,
            reply,
        };
        Ok(self.ask(command, answer).await??)
    }

    /// Sends 180 Ringing for an agent's call.
    pub async fn ringing(&self, leg: Leg) -> bool {
        self.leg(LegCommand::Ringing(leg)).await
    }

    /// Answers the leg's pending INVITE with the SDP answer.
    pub async fn answer(&self, leg: Leg, sdp: Vec<u8>) -> bool {
        self.leg(LegCommand::Answer(leg, sdp)).await
    }

    /// Refuses the leg's pending INVITE.
    pub async fn reject(&self, leg: Leg, code: u16, reason: impl Into<String>) -> bool {
        self.leg(LegCommand::Reject(leg, code, reason.into())).await
    }

    /// Hangs the leg up.
    pub async fn hang_up(&self, leg: Leg) -> bool {
        self.leg(LegCommand::HangUp(leg)).await
    }

    /// Offers a new session on the leg (re-INVITE: hold, unhold).
    pub async fn update(&self, leg: Leg, sdp: Vec<u8>) -> bool {
        self.leg(LegCommand::Update(leg, sdp)).await
    }

    /// Sends an INFO on the leg.
    pub async fn send_info(
        &self,
        leg: Leg,
        content_type: impl Into<String>,
        body: Vec<u8>,
    ) -> bool {
        self.leg(LegCommand::Info(leg, content_type.into(), body))
            .await
    }

    /// Asks the agent on the leg to call `target` instead (REFER).
    pub async fn refer(&self, leg: Leg, target: impl Into<String>) -> bool {
        self.leg(LegCommand::Refer(leg, target.into())).await
    }

    /// Accepts the agent's REFER on the leg (see [`Server::accept_transfer`]).
    pub async fn accept_transfer(&self, leg: Leg) -> bool {
        self.leg(LegCommand::AcceptTransfer(leg)).await
    }

    /// Reports the progress of the transfer the agent asked for.
    pub async fn transfer_progress(&self, leg: Leg, code: u16, reason: impl Into<String>) -> bool {
        self.leg(LegCommand::TransferProgress(leg, code, reason.into()))
            .await
    }

    /// Refuses the agent's REFER on the leg.
    pub async fn reject_transfer(&self, leg: Leg, code: u16, reason: impl Into<String>) -> bool {
        self.leg(LegCommand::RejectTransfer(leg, code, reason.into()))
            .await
    }

    /// The bindings of `aor` (empty when the server stopped).
    pub async fn bindings(&self, aor: impl Into<String>) -> Vec<Binding> {
        let (reply, answer) = oneshot::channel();
        self.ask(Command::Bindings(aor.into(), reply), answer)
            .await
            .unwrap_or_default()
    }

    /// Closes a flow from this side (a lost SIP link, for fault injection): its calls
    /// end and its bindings go, as when the agent closes it. False when it is unknown.
    pub async fn close_flow(&self, flow: FlowId) -> bool {
        let (reply, answer) = oneshot::channel();
        self.ask(Command::CloseFlow(flow, reply), answer)
            .await
            .unwrap_or(false)
    }

    /// Slows or black-holes a flow from now on, or lets it pass again
    /// ([`FlowFault::None`]); for fault injection. Messages delayed already keep their
    /// time; black-holing drops them. False when the flow is unknown.
    pub async fn set_flow_fault(&self, flow: FlowId, fault: FlowFault) -> bool {
        let (reply, answer) = oneshot::channel();
        self.ask(Command::FlowFault(flow, fault, reply), answer)
            .await
            .unwrap_or(false)
    }

    /// Stops listening and closes every flow.
    pub async fn shutdown(self) {
        let (reply, answer) = oneshot::channel();
        let _ = self.ask(Command::Shutdown(reply), answer).await;
    }
}

/// The server task.
async fn run(
    mut server: Server,
    mut inbox: mpsc::Receiver<FromFlow>,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<ServerEvent>,
    acceptors: Vec<JoinHandle<()>>,
) {
    let mut senders: std::collections::HashMap<FlowId, FlowHandle> =
        std::collections::HashMap::new();
    let mut stopped: Option<oneshot::Sender<()>> = None;
    loop {
        // Hand out what the server has to send and say.
        while let Some((flow, bytes)) = server.poll_transmit() {
            let sent = senders
                .get(&flow)
                .is_some_and(|s| s.sender.try_send(Bytes::from(bytes)).is_ok());
            if !sent && senders.remove(&flow).is_some() {
                // A flow that cannot keep up is closed; dropping its sender ends it.
                server.close_flow(std::time::Instant::now(), flow);
            }
        }
        while let Some(event) = server.poll_event() {
            // Nobody reads the events: they go nowhere, the server goes on.
            let _ = events.send(event).await;
        }
        if let Some(done) = stopped {
            for handle in &acceptors {
                handle.abort();
            }
            let _ = done.send(());
            return;
        }
        let timer = server.poll_timeout().map(Instant::from_std);
        tokio::select! {
            input = inbox.recv() => {
                let now = std::time::Instant::now();
                match input {
                    Some(FromFlow::Opened { transport, local, peer, sender, fault, reply }) => {
                        let flow = server.open_flow(transport, local, peer);
                        senders.insert(flow, FlowHandle { sender, fault });
                        let _ = reply.send(flow);
                    }
                    Some(FromFlow::Message(flow, bytes)) => server.handle_message(now, flow, &bytes),
                    Some(FromFlow::Closed(flow)) if senders.remove(&flow).is_some() => {
                        server.close_flow(now, flow);
                    }
                    // Closed by the server task already.
                    Some(FromFlow::Closed(_)) => {}
                    // The acceptors hold senders: this does not happen while they run.
                    None => {}
                }
            }
            () = sleep_until(timer.unwrap_or_else(far_future)), if timer.is_some() => {
                server.handle_timeout(std::time::Instant::now());
            }
            command = commands.recv() => {
                let now = std::time::Instant::now();
                match command {
                    Some(Command::Invite { aor, from, sdp, reply }) => {
                        let _ = reply.send(server.invite(now, &aor, &from, &sdp));
                    }
                    Some(Command::Leg(command, reply)) => {
                        let _ = reply.send(leg_command(&mut server, now, command));
                    }
                    Some(Command::Bindings(aor, reply)) => {
                        let _ = reply.send(server.bindings(&aor).to_vec());
                    }
                    Some(Command::CloseFlow(flow, reply)) => {
                        let known = senders.remove(&flow).is_some();
                        if known {
                            server.close_flow(now, flow);
                        }
                        let _ = reply.send(known);
                    }
                    Some(Command::FlowFault(flow, fault, reply)) => {
                        let known = senders.get(&flow).is_some_and(|h| h.fault.send(fault).is_ok());
                        let _ = reply.send(known);
                    }
                    Some(Command::Shutdown(done)) => {
                        for flow in senders.drain().map(|(flow, _)| flow).collect::<Vec<_>>() {
                            server.close_flow(now, flow);
                        }
                        stopped = Some(done);
                    }
                    None => {
                        for handle in &acceptors {
                            handle.abort();
                        }
                        return;
                    }
                }
            }
        }
    }
}

/// What the server task holds of each flow task.
struct FlowHandle {
    sender: mpsc::Sender<Bytes>,
    fault: watch::Sender<FlowFault>,
}

fn leg_command(server: &mut Server, now: std::time::Instant, command: LegCommand) -> bool {
    match command {
        LegCommand::Ringing(leg) => server.ringing(leg),
        LegCommand::Answer(leg, sdp) => server.answer(now, leg, &sdp),
        LegCommand::Reject(leg, code, reason) => server.reject(leg, code, &reason),
        LegCommand::HangUp(leg) => server.hang_up(now, leg),
        LegCommand::Update(leg, sdp) => server.update(now, leg, &sdp),
        LegCommand::Info(leg, content_type, body) => server.send_info(leg, &content_type, &body),
        LegCommand::Refer(leg, target) => server.refer(now, leg, &target),
        LegCommand::AcceptTransfer(leg) => server.accept_transfer(leg),
        LegCommand::TransferProgress(leg, code, reason) => {
            server.transfer_progress(leg, code, &reason)
        }
        LegCommand::RejectTransfer(leg, code, reason) => server.reject_transfer(leg, code, &reason),
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400)
}

struct FlowSettings {
    limits: WsLimits,
    handshake_timeout: Duration,
    idle_timeout: Duration,
    tls: Option<tokio_rustls::TlsAcceptor>,
}

async fn accept_loop(
    listener: TcpListener,
    transport: Transport,
    settings: Arc<FlowSettings>,
    flows: Arc<tokio::sync::Semaphore>,
    inbox: mpsc::Sender<FromFlow>,
) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            // Out of descriptors, or the like: wait a little rather than spin.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        // At most `max_flows` at once; beyond, the connection is closed at once.
        let Ok(permit) = flows.clone().try_acquire_owned() else {
            drop(tcp);
            continue;
        };
        let settings = settings.clone();
        let inbox = inbox.clone();
        tokio::spawn(async move {
            serve_connection(tcp, transport, &settings, inbox).await;
            drop(permit);
        });
    }
}

/// One flow's socket, whatever carries it. It lives in its flow task's future (on the
/// heap already), one per flow: the variants' sizes do not add up.
#[allow(clippy::large_enum_variant)]
enum Socket {
    Ws(WsFlow<TcpStream>),
    Wss(WsFlow<tokio_rustls::server::TlsStream<TcpStream>>),
    Tcp(TcpFlow),
}

impl Socket {
    async fn recv(&mut self) -> Result<Option<Frame>, TransportError> {
        match self {
            Self::Ws(flow) => flow.recv().await,
            Self::Wss(flow) => flow.recv().await,
            Self::Tcp(flow) => flow.recv().await,
        }
    }

    async fn send(&mut self, bytes: Bytes) -> Result<(), TransportError> {
        match self {
            Self::Ws(flow) => flow.send(bytes).await,
            Self::Wss(flow) => flow.send(bytes).await,
            Self::Tcp(flow) => flow.send(bytes).await,
        }
    }

    async fn close(&mut self) {
        match self {
            Self::Ws(flow) => flow.close().await,
            Self::Wss(flow) => flow.close().await,
            Self::Tcp(flow) => flow.close().await,
        }
    }
}

async fn handshake(
    tcp: TcpStream,
    transport: Transport,
    settings: &FlowSettings,
) -> Result<(Socket, SocketAddr, SocketAddr), TransportError> {
    let (local, peer) = (tcp.local_addr()?, tcp.peer_addr()?);
    let limits = settings.limits;
    let timeout = settings.handshake_timeout;
    let socket = match transport {
        Transport::Ws => Socket::Ws(WsFlow::accept(tcp, limits, timeout).await?),
        Transport::Wss => {
            let acceptor = settings
                .tls
                .clone()
                .ok_or_else(|| TransportError::Tls("no TLS identity".into()))?;
            let tls = tokio::time::timeout(timeout, acceptor.accept(tcp))
                .await
                .map_err(|_| TransportError::ConnectTimeout {
                    url: format!("wss://{local} (accepting {peer})"),
                    after: timeout,
                })??;
            Socket::Wss(WsFlow::accept_stream(tls, local, peer, limits, timeout).await?)
        }
        Transport::Tcp => Socket::Tcp(TcpFlow::new(tcp, limits.max_message_size)?),
    };
    Ok((socket, local, peer))
}

async fn serve_connection(
    tcp: TcpStream,
    transport: Transport,
    settings: &FlowSettings,
    inbox: mpsc::Sender<FromFlow>,
) {
    // A failed handshake (no `sip` subprotocol, bad TLS, too slow) opens no flow.
    let Ok((mut socket, local, peer)) = handshake(tcp, transport, settings).await else {
        return;
    };
    let (sender, mut outgoing) = mpsc::channel(FLOW_QUEUE);
    let (fault, mut faults) = watch::channel(FlowFault::None);
    let (reply, id) = oneshot::channel();
    let opened = FromFlow::Opened {
        transport,
        local,
        peer,
        sender,
        fault,
        reply,
    };
    if inbox.send(opened).await.is_err() {
        return;
    }
    let Ok(flow) = id.await else {
        return;
    };
    serve_flow(
        &mut socket,
        flow,
        settings.idle_timeout,
        &mut outgoing,
        &mut faults,
        &inbox,
    )
    .await;
    socket.close().await;
    let _ = inbox.send(FromFlow::Closed(flow)).await;
}

async fn serve_flow(
    socket: &mut Socket,
    flow: FlowId,
    idle_timeout: Duration,
    outgoing: &mut mpsc::Receiver<Bytes>,
    faults: &mut watch::Receiver<FlowFault>,
    inbox: &mpsc::Sender<FromFlow>,
) {
    let mut last_heard = Instant::now();
    let mut faults_open = true;
    let mut held = Held::default();
    loop {
        let black_hole = held.sync(faults) == FlowFault::BlackHole;
        let Held { heard, to_send, .. } = &mut held;
        let heard_due = heard.front().map(|(at, _)| *at);
        let send_due = to_send.front().map(|(at, _)| *at);
        if heard.len() > MAX_DELAYED || to_send.len() > MAX_DELAYED {
            return;
        }
        tokio::select! {
            frame = socket.recv(), if !black_hole => {
                last_heard = Instant::now();
                // The fault may have changed while this branch waited.
                let fault = held.sync(faults);
                if fault == FlowFault::BlackHole {
                    continue;
                }
                let delay = fault.delay();
                let Held { heard, to_send, .. } = &mut held;
                match frame {
                    Ok(Some(Frame::Message(bytes))) => {
                        if delay.is_zero() && heard.is_empty() {
                            if inbox.send(FromFlow::Message(flow, bytes)).await.is_err() {
                                return;
                            }
                        } else {
                            heard.push_back((crate::time::later(last_heard, delay), bytes));
                        }
                    }
                    Ok(Some(Frame::CrlfPing)) => {
                        let pong = Bytes::from_static(b"\r\n");
                        if delay.is_zero() && to_send.is_empty() {
                            if !send_in_time(socket, pong).await {
                                return;
                            }
                        } else {
                            to_send.push_back((crate::time::later(last_heard, delay), pong));
                        }
                    }
                    Ok(Some(Frame::CrlfPong | Frame::Pong)) => {}
                    Ok(None) | Err(_) => return,
                }
            }
            bytes = outgoing.recv() => {
                let fault = held.sync(faults);
                let to_send = &mut held.to_send;
                match bytes {
                    // Black-holed: what the server sends is lost.
                    Some(_) if fault == FlowFault::BlackHole => {}
                    Some(bytes) if fault.delay().is_zero() && to_send.is_empty() => {
                        if !send_in_time(socket, bytes).await {
                            return;
                        }
                    }
                    Some(bytes) => to_send.push_back((crate::time::later(Instant::now(), fault.delay()), bytes)),
                    // The server task closed this flow.
                    None => return,
                }
            },
            () = sleep_until(heard_due.unwrap_or_else(far_future)), if heard_due.is_some() => {
                if let Some((_, bytes)) = heard.pop_front()
                    && inbox.send(FromFlow::Message(flow, bytes)).await.is_err()
                {
                    return;
                }
            }
            () = sleep_until(send_due.unwrap_or_else(far_future)), if send_due.is_some() => {
                if let Some((_, bytes)) = to_send.pop_front()
                    && !send_in_time(socket, bytes).await
                {
                    return;
                }
            }
            // Only a wake-up: the loop's `sync` takes the new fault.
            changed = faults.changed(), if faults_open => faults_open = changed.is_ok(),
            () = sleep_until(crate::time::later(last_heard, idle_timeout)) => return,
        }
    }
}

impl FlowFault {
    fn delay(self) -> Duration {
        match self {
            Self::Delay(delay) => delay,
            _ => Duration::ZERO,
        }
    }
}

/// A flow's fault and the messages a delay holds back, with when each may go: heard
/// (for the server task) and to send (for the socket).
#[derive(Default)]
struct Held {
    fault: FlowFault,
    heard: VecDeque<(Instant, Bytes)>,
    to_send: VecDeque<(Instant, Bytes)>,
}

impl Held {
    /// Takes the fault now in force (black-holing drops what is held back).
    fn sync(&mut self, faults: &mut watch::Receiver<FlowFault>) -> FlowFault {
        let fault = *faults.borrow_and_update();
        if fault != self.fault && fault == FlowFault::BlackHole {
            self.heard.clear();
            self.to_send.clear();
        }
        self.fault = fault;
        fault
    }
}

/// Sends on the flow's socket within [`COMMAND_LIMIT`]; false when that failed.
async fn send_in_time(socket: &mut Socket, bytes: Bytes) -> bool {
    matches!(
        tokio::time::timeout(COMMAND_LIMIT, socket.send(bytes)).await,
        Ok(Ok(()))
    )
}
