//! One probe round against one server: STUN Binding, TURN Allocate (challenge, then
//! authenticated), and the release of the allocation, each timed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rtc_stun::message::TransactionId;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::timeout;

use super::stun::{self, Answer, Auth, Request};
use super::url::{Scheme, ServerUrl, Transport};
use super::{ProbeError, TurnCredentials};

/// The figures of one successful round.
#[derive(Debug, Clone, Copy)]
pub(super) struct RoundTimes {
    /// TCP connect (and TLS handshake); zero over UDP.
    pub(super) connect: Duration,
    pub(super) binding: Duration,
    pub(super) challenge: Duration,
    pub(super) allocate: Duration,
}

/// A byte stream to the server: TCP, or TLS over TCP.
pub(crate) trait ByteStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> ByteStream for T {}

/// An open connection to a STUN/TURN server.
pub(crate) enum Connection {
    Udp(UdpSocket),
    Stream(Box<dyn ByteStream>),
}

/// The TLS client configuration of `turns:` servers, if any is probed.
pub(crate) type TlsConfig = Option<Result<Arc<rustls::ClientConfig>, String>>;

impl Connection {
    /// Opens a connection to `server` over the URL's transport: a UDP socket, a TCP
    /// connection, or TLS over TCP for `turns:` (TCP and TLS each within `limit`).
    pub(crate) async fn open(
        url: &ServerUrl,
        server: SocketAddr,
        tls: &TlsConfig,
        limit: Duration,
    ) -> Result<Self, ProbeError> {
        match url.transport {
            Transport::Udp => {
                let local: SocketAddr = if server.is_ipv4() {
                    ([0, 0, 0, 0], 0).into()
                } else {
                    ([0u16; 8], 0).into()
                };
                let socket = UdpSocket::bind(local).await.map_err(ProbeError::from_io)?;
                socket.connect(server).await.map_err(ProbeError::from_io)?;
                Ok(Self::Udp(socket))
            }
            Transport::Tcp => {
                let stream = timeout(limit, TcpStream::connect(server))
                    .await
                    .map_err(|_| ProbeError::Timeout {
                        what: "TCP connect",
                        after: limit,
                    })?
                    .map_err(ProbeError::from_io)?;
                stream.set_nodelay(true).map_err(ProbeError::from_io)?;
                if url.scheme != Scheme::Turns {
                    return Ok(Self::Stream(Box::new(stream)));
                }
                let config = match tls {
                    Some(Ok(config)) => Arc::clone(config),
                    Some(Err(e)) => return Err(ProbeError::Tls(e.clone())),
                    None => return Err(ProbeError::Tls("no TLS configuration".into())),
                };
                let name = super::tls::server_name(&url.host).map_err(ProbeError::Tls)?;
                let connector = tokio_rustls::TlsConnector::from(config);
                let stream = timeout(limit, connector.connect(name, stream))
                    .await
                    .map_err(|_| ProbeError::Timeout {
                        what: "TLS handshake",
                        after: limit,
                    })?
                    .map_err(|e| ProbeError::Tls(e.to_string()))?;
                Ok(Self::Stream(Box::new(stream)))
            }
        }
    }

    /// A STUN Binding (the reachability check of [`crate::check`]; no credentials).
    pub(crate) async fn binding(&mut self, limit: Duration) -> Result<(), ProbeError> {
        let (answer, _) = self
            .exchange("STUN Binding", &stun::binding()?, limit)
            .await?;
        expect_success("STUN Binding", answer)
    }

    /// Sends `request`, waits for its answer; returns it with the round-trip time.
    async fn exchange(
        &mut self,
        what: &'static str,
        request: &Request,
        limit: Duration,
    ) -> Result<(Answer, Duration), ProbeError> {
        let start = Instant::now();
        let bytes = timeout(limit, self.round_trip(&request.bytes, request.id))
            .await
            .map_err(|_| ProbeError::Timeout { what, after: limit })??;
        let elapsed = start.elapsed();
        Ok((stun::answer(&bytes, request.id)?, elapsed))
    }

    async fn round_trip(
        &mut self,
        request: &[u8],
        id: TransactionId,
    ) -> Result<Vec<u8>, ProbeError> {
        let io = ProbeError::from_io;
        match self {
            Self::Udp(socket) => {
                socket.send(request).await.map_err(io)?;
                let mut buf = vec![0u8; 1500];
                loop {
                    let n = socket.recv(&mut buf).await.map_err(io)?;
                    // Ignore strays (late answers of an earlier request, other traffic).
                    if n >= 20 && buf[8..20] == id.0 {
                        buf.truncate(n);
                        return Ok(buf);
                    }
                }
            }
            Self::Stream(stream) => {
                stream.write_all(request).await.map_err(io)?;
                loop {
                    let mut header = [0u8; 20];
                    stream.read_exact(&mut header).await.map_err(io)?;
                    let length = stun::message_length(&header).ok_or_else(|| {
                        ProbeError::Stun("the server sent something that is not STUN".into())
                    })?;
                    let mut message = header.to_vec();
                    message.resize(length, 0);
                    stream.read_exact(&mut message[20..]).await.map_err(io)?;
                    if header[8..20] == id.0 {
                        return Ok(message);
                    }
                }
            }
        }
    }
}

impl ProbeError {
    /// A socket error; a refused connection (a TCP reset, an ICMP port unreachable on
    /// UDP) is told apart.
    fn from_io(e: std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::ConnectionRefused => Self::Refused,
            _ => Self::Io(e.to_string()),
        }
    }
}

/// The first address of the URL's host, within `limit` (the system's resolver can take
/// many seconds to give up on a dead DNS server).
pub(crate) async fn resolve(url: &ServerUrl, limit: Duration) -> Result<SocketAddr, ProbeError> {
    timeout(
        limit,
        tokio::net::lookup_host((url.host.as_str(), url.port)),
    )
    .await
    .map_err(|_| ProbeError::Timeout {
        what: "name lookup",
        after: limit,
    })?
    .map_err(|e| ProbeError::Resolve(format!("{}: {e}", url.host)))?
    .next()
    .ok_or_else(|| ProbeError::Resolve(format!("{}: no address", url.host)))
}

/// One round against `url`. A fresh connection each round, so allocations never clash.
pub(super) async fn round(
    url: &ServerUrl,
    credentials: &TurnCredentials,
    tls: &TlsConfig,
    limit: Duration,
) -> Result<RoundTimes, ProbeError> {
    let server = resolve(url, limit).await?;
    let start = Instant::now();
    let mut connection = Connection::open(url, server, tls, limit).await?;
    let connect = if url.transport == Transport::Udp {
        Duration::ZERO
    } else {
        start.elapsed()
    };

    let (answer, binding) = connection
        .exchange("STUN Binding", &stun::binding()?, limit)
        .await?;
    expect_success("STUN Binding", answer)?;
    if url.scheme == Scheme::Stun {
        return Ok(RoundTimes {
            connect,
            binding,
            challenge: Duration::ZERO,
            allocate: Duration::ZERO,
        });
    }

    let (username, password) = credentials.user_and_password()?;
    let (answer, challenge) = connection
        .exchange("TURN Allocate", &stun::allocate(None)?, limit)
        .await?;
    let (realm, mut nonce) = match answer {
        Answer::Error {
            code: 401,
            realm: Some(realm),
            nonce: Some(nonce),
            ..
        } => (realm, nonce),
        Answer::Error { code, reason, .. } => return Err(ProbeError::Rejected { code, reason }),
        Answer::Success => {
            return Err(ProbeError::Stun(
                "the server allocated without asking for credentials".into(),
            ));
        }
    };
    let mut stale_retry = true;
    loop {
        let auth = Auth {
            username: username.clone(),
            password: password.clone(),
            realm: realm.clone(),
            nonce: nonce.clone(),
        };
        let (answer, allocate) = connection
            .exchange("TURN Allocate", &stun::allocate(Some(&auth))?, limit)
            .await?;
        match answer {
            Answer::Success => {
                // Release it; a failure here does not spoil the figures, the allocation
                // then expires by itself.
                if let Ok(release) = stun::release(&auth) {
                    let _ = connection.exchange("TURN Refresh", &release, limit).await;
                }
                return Ok(RoundTimes {
                    connect,
                    binding,
                    challenge,
                    allocate,
                });
            }
            Answer::Error {
                code: 438,
                nonce: Some(fresh),
                ..
            } if stale_retry => {
                stale_retry = false;
                nonce = fresh;
            }
            Answer::Error { code: 401, .. } => return Err(ProbeError::WrongCredentials { realm }),
            Answer::Error { code, reason, .. } => {
                return Err(ProbeError::Rejected { code, reason });
            }
        }
    }
}

fn expect_success(what: &'static str, answer: Answer) -> Result<(), ProbeError> {
    match answer {
        Answer::Success => Ok(()),
        Answer::Error { code, reason, .. } => Err(ProbeError::Rejected {
            code,
            reason: format!("{what}: {reason}"),
        }),
    }
}
