//! Embedded TURN servers: one per scenario region without external URLs, started in
//! process on the TURN address (127.0.0.1 by default), UDP and TCP on one port.
//!
//! The protocol is `turn-server-proto`'s (RFC 5766/8656 with 6062 and 6156, sans-IO:
//! `recv(transmit, now)`, drain `poll(now)` / `poll_transmit(now)`). It was chosen over
//! the other Rust TURN servers because it is a maintained sans-IO core in the style of
//! this project (str0m / quinn-proto), with no runtime, TLS stack or crypto provider of
//! its own; webrtc-rs's `turn` 0.17 (its async server) is the bug-fix-only line of the old
//! webrtc-rs family and would bring a second copy of that family's STUN and util crates
//! beside the `rtc-*` 0.21 ones the media uses; `turn-server` (turn-rs) is an application
//! that pulls aws-lc-rs, which the project's one-provider rule (ring) excludes. What this
//! file adds is the shell: the sockets, the timer, and two policies the core leaves to its
//! user:
//! - **Credentials**: the core knows static users only (`add_user`). The time-limited
//!   users that `GetTURNCredentials` hands out (`expiry:name`, password the base64
//!   HMAC-SHA1 of the user under the shared secret, coturn's `use-auth-secret`) are
//!   checked here when a request first names them ([`TimeLimitedUsers`]) and then added;
//!   an expired or forged one is never added, so the core answers 401.
//! - **Peers**: relayed packets go only to loopback peers unless told otherwise, and
//!   packets from other peers are dropped ([`RelayPolicy`]).
//!
//! And the media fault of the admin API ([`MediaFaults`]): each client (its transport
//! and address, the 5-tuple of its allocation) is tied to the agent its first
//! authenticated request names (a time-limited `expiry:user` names `user`), and while
//! that agent has a fault the packets from that client and those to it are dropped,
//! as a network that stopped carrying them would.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use turn_server_proto::api::{
    SocketAllocateError, TcpConnectError, TurnServerApi, TurnServerPollRet,
};
use turn_server_proto::server::TurnServer;
use turn_server_proto::stun::Instant as TurnInstant;
use turn_server_proto::stun::agent::Transmit;
use turn_server_proto::stun::types::attribute::Username;
use turn_server_proto::stun::types::message::Message;
use turn_server_proto::types::transmit::TransmitBuild;
use turn_server_proto::types::{AddressFamily, TransportType};

use super::StartError;
use super::faults::MediaFaults;
use crate::api::time_limited_password;

/// The realm of the embedded servers.
pub(crate) const REALM: &str = "ccc-emulator";
/// At most this many time-limited users are admitted per server (then 401).
const MAX_USERS: usize = 100_000;
/// At most this many relay sockets (allocations) per server.
const MAX_RELAYS: usize = 4_096;
/// At most this many TCP clients per server.
const MAX_TCP_CLIENTS: usize = 1_024;
/// The largest STUN message or ChannelData frame taken over TCP.
const MAX_FRAME: usize = 65_535 + 4;
/// Packets queued from the socket readers to the server task.
const INBOX: usize = 4_096;
/// Frames queued for one TCP client before it counts as too slow and is dropped.
const TCP_QUEUE: usize = 256;
/// At most this many clients are tied to their agents (later ones take no media fault).
const MAX_CLIENTS: usize = 4 * MAX_RELAYS;

/// Who may use an embedded server.
#[derive(Clone, Default)]
pub(crate) struct TurnUsers {
    /// The shared secret of the time-limited scheme, if it is in force.
    pub(crate) secret: Option<String>,
    /// Fixed users and passwords.
    pub(crate) fixed: Vec<(String, String)>,
}

impl std::fmt::Debug for TurnUsers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnUsers")
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field(
                "fixed",
                &self.fixed.iter().map(|(u, _)| u).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Where relayed packets may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RelayPolicy {
    /// Peers on loopback only (the default).
    LoopbackOnly,
    /// Any peer.
    Any,
}

impl RelayPolicy {
    fn allows(self, peer: SocketAddr) -> bool {
        match self {
            Self::LoopbackOnly => peer.ip().is_loopback(),
            Self::Any => true,
        }
    }
}

/// The time-limited users a server has admitted (the sans-IO part of the credentials
/// policy: no clock of its own, `now` in Unix seconds).
#[derive(Debug, Default)]
pub(crate) struct TimeLimitedUsers {
    secret: Option<String>,
    admitted: HashSet<String>,
}

impl TimeLimitedUsers {
    pub(crate) fn new(secret: Option<String>) -> Self {
        Self {
            secret,
            admitted: HashSet::new(),
        }
    }

    /// The password to add for `username` when it is a valid time-limited user not yet
    /// admitted: `expiry:name` with `expiry` (Unix seconds) not past.
    pub(crate) fn admit(&mut self, username: &str, now_unix: i64) -> Option<String> {
        let secret = self.secret.as_deref()?;
        if self.admitted.contains(username) || self.admitted.len() >= MAX_USERS {
            return None;
        }
        let (expiry, name) = username.split_once(':')?;
        let expiry: i64 = expiry.parse().ok()?;
        if name.is_empty() || expiry < now_unix {
            return None;
        }
        self.admitted.insert(username.to_owned());
        Some(time_limited_password(secret, username))
    }
}

/// The `USERNAME` of a STUN request, if `data` is one that carries it.
fn username_of(data: &[u8]) -> Option<String> {
    // STUN messages start with two zero bits; ChannelData with 01.
    if data.len() < 20 || data[0] & 0xC0 != 0 {
        return None;
    }
    let message = Message::from_bytes(data).ok()?;
    let user = message.attribute::<Username>().ok()?;
    Some(user.username().to_owned())
}

/// The agent a TURN user name stands for: `user` of a time-limited `expiry:user`, else
/// the whole name.
fn agent_of(username: &str) -> &str {
    match username.split_once(':') {
        Some((expiry, user)) if !user.is_empty() && expiry.bytes().all(|b| b.is_ascii_digit()) => {
            user
        }
        _ => username,
    }
}

/// A client of the server: its transport (TCP or not) and address.
type ClientKey = (bool, SocketAddr);

fn client_key(transport: TransportType, addr: SocketAddr) -> ClientKey {
    (transport == TransportType::Tcp, addr)
}

/// The agent a client is tied to, and since when.
#[derive(Debug)]
struct Client {
    agent: String,
    since: std::time::Instant,
}

/// A running embedded TURN server.
#[derive(Debug)]
pub(crate) struct EmbeddedTurn {
    /// Its address (UDP and TCP).
    pub(crate) addr: SocketAddr,
    task: JoinHandle<()>,
}

impl EmbeddedTurn {
    /// Its URLs: UDP first (what WebRTC relays over), then TCP.
    pub(crate) fn urls(&self) -> Vec<String> {
        vec![
            format!("turn:{}?transport=udp", self.addr),
            format!("turn:{}?transport=tcp", self.addr),
        ]
    }

    /// Starts a server on `ip` (a free port, the same for UDP and TCP).
    pub(crate) async fn start(
        ip: IpAddr,
        users: TurnUsers,
        policy: RelayPolicy,
        faults: Arc<MediaFaults>,
        stop: watch::Receiver<bool>,
    ) -> Result<Self, StartError> {
        let any = SocketAddr::new(ip, 0);
        let bind_error = |source| StartError::Bind {
            what: "embedded TURN server",
            addr: any,
            source,
        };
        // UDP and TCP on one port: take a free UDP port, then its TCP twin (retried a few
        // times when another process holds the twin).
        let mut last = None;
        for _ in 0..16 {
            let udp = UdpSocket::bind(any).await.map_err(bind_error)?;
            let addr = udp.local_addr().map_err(bind_error)?;
            match TcpListener::bind(addr).await {
                Ok(tcp) => {
                    let shell = Shell::new(addr, udp, users, policy, faults);
                    let task = tokio::spawn(shell.run(tcp, stop));
                    return Ok(Self { addr, task });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(bind_error(last.unwrap_or_else(|| {
            std::io::Error::other("no free UDP and TCP port pair")
        })))
    }

    /// Stops it.
    pub(crate) fn abort(&self) {
        self.task.abort();
    }

    /// Waits for it to end (after the stop signal).
    pub(crate) async fn join(self) {
        let _ = self.task.await;
    }
}

/// What the socket readers hand the server task.
enum Inbound {
    /// A datagram a relay socket received from a peer.
    Relay {
        relay: SocketAddr,
        from: SocketAddr,
        data: Vec<u8>,
    },
    /// A TCP client connected.
    TcpOpen {
        remote: SocketAddr,
        tx: mpsc::Sender<Vec<u8>>,
    },
    /// One whole STUN message or ChannelData frame from a TCP client.
    TcpFrame { remote: SocketAddr, data: Vec<u8> },
    /// A TCP client went away.
    TcpClosed { remote: SocketAddr },
}

/// The socket side of one embedded server.
struct Shell {
    addr: SocketAddr,
    udp: Arc<UdpSocket>,
    udp_server: TurnServer,
    tcp_server: TurnServer,
    users: TimeLimitedUsers,
    policy: RelayPolicy,
    /// Relay sockets by their address, with the reader task, which server owns it and
    /// the client it relays for.
    relays: HashMap<SocketAddr, (Arc<UdpSocket>, JoinHandle<()>, TransportType, ClientKey)>,
    /// The clients tied to their agents, for the media faults.
    clients: HashMap<ClientKey, Client>,
    faults: Arc<MediaFaults>,
    /// TCP clients by their address.
    tcp_clients: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>,
    inbox_tx: mpsc::Sender<Inbound>,
    inbox: mpsc::Receiver<Inbound>,
    base: std::time::Instant,
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Shell {
    fn new(
        addr: SocketAddr,
        udp: UdpSocket,
        users: TurnUsers,
        policy: RelayPolicy,
        faults: Arc<MediaFaults>,
    ) -> Self {
        let mut udp_server = TurnServer::new(TransportType::Udp, addr, REALM.to_owned());
        let mut tcp_server = TurnServer::new(TransportType::Tcp, addr, REALM.to_owned());
        for (user, password) in &users.fixed {
            udp_server.add_user(user.clone(), password.clone());
            tcp_server.add_user(user.clone(), password.clone());
        }
        let (inbox_tx, inbox) = mpsc::channel(INBOX);
        Self {
            addr,
            udp: Arc::new(udp),
            udp_server,
            tcp_server,
            users: TimeLimitedUsers::new(users.secret),
            policy,
            relays: HashMap::new(),
            clients: HashMap::new(),
            faults,
            tcp_clients: HashMap::new(),
            inbox_tx,
            inbox,
            base: std::time::Instant::now(),
        }
    }

    fn now(&self) -> TurnInstant {
        TurnInstant::from_std(self.base)
    }

    fn server(&mut self, transport: TransportType) -> &mut TurnServer {
        match transport {
            TransportType::Udp => &mut self.udp_server,
            TransportType::Tcp => &mut self.tcp_server,
        }
    }

    async fn run(mut self, tcp: TcpListener, mut stop: watch::Receiver<bool>) {
        let mut buf = vec![0u8; 65_536];
        let mut wake = tokio::time::Instant::now();
        loop {
            tokio::select! {
                received = self.udp.recv_from(&mut buf) => {
                    if let Ok((n, from)) = received {
                        let data = buf[..n].to_vec();
                        self.client_packet(TransportType::Udp, from, data).await;
                    }
                }
                Some(inbound) = self.inbox.recv() => self.inbound(inbound).await,
                accepted = tcp.accept() => {
                    if let Ok((stream, remote)) = accepted
                        && self.tcp_clients.len() < MAX_TCP_CLIENTS
                    {
                        let inbox = self.inbox_tx.clone();
                        tokio::spawn(tcp_client(stream, remote, inbox));
                    }
                }
                () = tokio::time::sleep_until(wake) => {}
                _ = stop.changed() => break,
            }
            wake = self.drive().await;
        }
        for (_, (_, reader, _, _)) in self.relays.drain() {
            reader.abort();
        }
    }

    async fn inbound(&mut self, inbound: Inbound) {
        match inbound {
            Inbound::Relay { relay, from, data } => {
                if !self.policy.allows(from) {
                    return;
                }
                let Some(owner) = self.relays.get(&relay).map(|(_, _, t, _)| *t) else {
                    return;
                };
                let now = self.now();
                let transmit = Transmit::new(data, TransportType::Udp, from, relay);
                let out = self
                    .server(owner)
                    .recv(transmit, now)
                    .map(TransmitBuild::build);
                if let Some(out) = out {
                    self.send(out).await;
                }
            }
            Inbound::TcpOpen { remote, tx } => {
                self.tcp_clients.insert(remote, tx);
            }
            Inbound::TcpFrame { remote, data } => {
                self.client_packet(TransportType::Tcp, remote, data).await;
            }
            Inbound::TcpClosed { remote } => {
                // Its allocations run out by their lifetime, as over UDP.
                self.tcp_clients.remove(&remote);
                self.clients.remove(&(true, remote));
            }
        }
    }

    /// A packet from a client: a time-limited user it names is admitted first.
    async fn client_packet(&mut self, transport: TransportType, from: SocketAddr, data: Vec<u8>) {
        let key = client_key(transport, from);
        if let Some(user) = username_of(&data) {
            if let Some(password) = self.users.admit(&user, unix_now()) {
                self.udp_server.add_user(user.clone(), password.clone());
                self.tcp_server.add_user(user.clone(), password);
            }
            if !self.clients.contains_key(&key) && self.clients.len() < MAX_CLIENTS {
                let client = Client {
                    agent: agent_of(&user).to_owned(),
                    since: std::time::Instant::now(),
                };
                self.clients.insert(key, client);
            }
        }
        if self.faulted(key) {
            return;
        }
        let now = self.now();
        let to = self.addr;
        let out = self
            .server(transport)
            .recv(Transmit::new(data, transport, from, to), now)
            .map(TransmitBuild::build);
        if let Some(mut out) = out {
            // turn-server-proto 0.7.3 addresses its Binding answers to the server's own
            // address (the request's `to`): an answer to a client's packet that would go
            // to the server itself goes to that client.
            if out.to == self.addr {
                out.to = from;
            }
            self.send(out).await;
        }
    }

    /// Whether the packets of this client are dropped (its agent has a media fault).
    fn faulted(&self, key: ClientKey) -> bool {
        self.clients
            .get(&key)
            .is_some_and(|c| self.faults.drops(&c.agent, c.since))
    }

    /// Sends what a server wants sent.
    async fn send(&mut self, transmit: Transmit<Vec<u8>>) {
        let to_client = match transmit.transport {
            TransportType::Udp => transmit.from == self.addr,
            TransportType::Tcp => true,
        };
        if to_client && self.faulted(client_key(transmit.transport, transmit.to)) {
            return;
        }
        match transmit.transport {
            TransportType::Udp if transmit.from == self.addr => {
                let _ = self.udp.send_to(&transmit.data, transmit.to).await;
            }
            TransportType::Udp => {
                if !self.policy.allows(transmit.to) {
                    return;
                }
                if let Some((socket, _, _, _)) = self.relays.get(&transmit.from) {
                    let _ = socket.send_to(&transmit.data, transmit.to).await;
                }
            }
            TransportType::Tcp => {
                let slow = self
                    .tcp_clients
                    .get(&transmit.to)
                    .is_some_and(|tx| tx.try_send(transmit.data).is_err());
                if slow {
                    self.tcp_clients.remove(&transmit.to);
                }
            }
        }
    }

    /// Runs both servers' timers and requests; when to come back.
    async fn drive(&mut self) -> tokio::time::Instant {
        let mut next = tokio::time::Instant::now() + Duration::from_secs(60);
        for transport in [TransportType::Udp, TransportType::Tcp] {
            loop {
                let now = self.now();
                match self.server(transport).poll(now) {
                    TurnServerPollRet::WaitUntil(at) => {
                        let at = tokio::time::Instant::from_std(at.to_std(self.base));
                        next = next.min(at);
                        break;
                    }
                    TurnServerPollRet::AllocateSocket {
                        transport,
                        listen_addr,
                        client_addr,
                        allocation_transport,
                        family,
                    } => {
                        let socket = self.relay_socket(allocation_transport, family).await;
                        let socket = socket.map(|s| {
                            let addr = s.local_addr().ok();
                            (s, addr)
                        });
                        let result = match socket {
                            Ok((socket, Some(addr))) => {
                                let socket = Arc::new(socket);
                                let reader = tokio::spawn(relay_reader(
                                    socket.clone(),
                                    self.inbox_tx.clone(),
                                ));
                                let client = client_key(transport, client_addr);
                                self.relays
                                    .insert(addr, (socket, reader, transport, client));
                                Ok(addr)
                            }
                            Ok((_, None)) => Err(SocketAllocateError::InsufficientCapacity),
                            Err(e) => Err(e),
                        };
                        let now = self.now();
                        self.server(transport).allocated_socket(
                            transport,
                            listen_addr,
                            client_addr,
                            allocation_transport,
                            family,
                            result,
                            now,
                        );
                    }
                    TurnServerPollRet::TcpConnect {
                        relayed_addr,
                        peer_addr,
                        listen_addr,
                        client_addr,
                    } => {
                        // TCP relays (RFC 6062) are not offered: their allocations are
                        // refused already, so this is not reached.
                        let now = self.now();
                        self.server(transport).tcp_connected(
                            relayed_addr,
                            peer_addr,
                            listen_addr,
                            client_addr,
                            Err(TcpConnectError::Forbidden),
                            now,
                        );
                    }
                    TurnServerPollRet::TcpClose { remote_addr, .. } => {
                        self.tcp_clients.remove(&remote_addr);
                    }
                    TurnServerPollRet::SocketClose { listen_addr, .. } => {
                        if let Some((_, reader, _, client)) = self.relays.remove(&listen_addr) {
                            reader.abort();
                            self.clients.remove(&client);
                        }
                    }
                }
            }
            let now = self.now();
            while let Some(transmit) = self.server(transport).poll_transmit(now) {
                self.send(transmit).await;
            }
        }
        next
    }

    /// A UDP socket for an allocation, on the server's address.
    async fn relay_socket(
        &self,
        allocation_transport: TransportType,
        family: AddressFamily,
    ) -> Result<UdpSocket, SocketAllocateError> {
        if allocation_transport != TransportType::Udp || self.relays.len() >= MAX_RELAYS {
            return Err(SocketAllocateError::InsufficientCapacity);
        }
        let family_ok = match family {
            AddressFamily::IPV4 => self.addr.is_ipv4(),
            AddressFamily::IPV6 => self.addr.is_ipv6(),
        };
        if !family_ok {
            return Err(SocketAllocateError::AddressFamilyNotSupported);
        }
        UdpSocket::bind(SocketAddr::new(self.addr.ip(), 0))
            .await
            .map_err(|_| SocketAllocateError::InsufficientCapacity)
    }
}

/// Reads a relay socket until it is dropped.
async fn relay_reader(socket: Arc<UdpSocket>, inbox: mpsc::Sender<Inbound>) {
    let Ok(relay) = socket.local_addr() else {
        return;
    };
    let mut buf = vec![0u8; 65_536];
    while let Ok((n, from)) = socket.recv_from(&mut buf).await {
        let data = buf[..n].to_vec();
        // A full inbox drops the packet, as a congested relay would.
        if let Err(mpsc::error::TrySendError::Closed(_)) =
            inbox.try_send(Inbound::Relay { relay, from, data })
        {
            return;
        }
    }
}

/// The length of the frame at the start of `buf` (STUN message or ChannelData padded to
/// 4 bytes, as RFC 5766 section 11.5 frames them over TCP), once its header is there.
fn frame_len(buf: &[u8]) -> Option<usize> {
    if buf.len() < 4 {
        return None;
    }
    let body = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
    Some(if buf[0] & 0xC0 == 0 {
        20 + body
    } else {
        (4 + body).div_ceil(4) * 4
    })
}

/// One TCP client: its bytes cut into frames for the server task, and what the server
/// sends it written back.
async fn tcp_client(stream: TcpStream, remote: SocketAddr, inbox: mpsc::Sender<Inbound>) {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(TCP_QUEUE);
    if inbox.send(Inbound::TcpOpen { remote, tx }).await.is_err() {
        return;
    }
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        while let Some(data) = rx.recv().await {
            if write.write_all(&data).await.is_err() {
                break;
            }
        }
    });
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 8_192];
    'read: loop {
        let n = match read.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        while let Some(len) = frame_len(&pending) {
            if len > MAX_FRAME {
                break 'read;
            }
            if pending.len() < len {
                break;
            }
            let rest = pending.split_off(len);
            let frame = std::mem::replace(&mut pending, rest);
            if inbox
                .send(Inbound::TcpFrame {
                    remote,
                    data: frame,
                })
                .await
                .is_err()
            {
                break 'read;
            }
        }
    }
    writer.abort();
    let _ = inbox.send(Inbound::TcpClosed { remote }).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_limited_users_are_admitted_once_and_only_before_expiry() {
        let mut users = TimeLimitedUsers::new(Some("s3cret".into()));
        let password = users.admit("1000:bob", 999).expect("valid");
        assert_eq!(password, time_limited_password("s3cret", "1000:bob"));
        assert_eq!(users.admit("1000:bob", 999), None, "once");
        assert_eq!(users.admit("998:bob", 999), None, "expired");
        assert_eq!(users.admit("bob", 999), None, "not time-limited");
        assert_eq!(users.admit("x:bob", 999), None);
        assert_eq!(users.admit("1000:", 999), None);
        let mut none = TimeLimitedUsers::new(None);
        assert_eq!(none.admit("1000:bob", 999), None, "no secret, no scheme");
    }

    #[test]
    fn tcp_frames_and_peer_policy() {
        // A STUN header with a 8-byte body; a ChannelData of 5 bytes padded to 12.
        assert_eq!(frame_len(&[0x00, 0x03, 0x00, 0x08]), Some(28));
        assert_eq!(frame_len(&[0x40, 0x00, 0x00, 0x05]), Some(12));
        assert_eq!(frame_len(&[0x00, 0x03]), None);
        assert!(RelayPolicy::LoopbackOnly.allows("127.0.0.1:9".parse().unwrap()));
        assert!(!RelayPolicy::LoopbackOnly.allows("192.0.2.1:9".parse().unwrap()));
        assert!(RelayPolicy::Any.allows("192.0.2.1:9".parse().unwrap()));
        assert_eq!(username_of(&[0x40; 24]), None);
        assert_eq!(
            agent_of("1700000000:alice@ccc-emulator"),
            "alice@ccc-emulator"
        );
        assert_eq!(agent_of("agent"), "agent");
        assert_eq!(agent_of("x:y"), "x:y");
        assert_eq!(username_of(b"short"), None);
    }
}
