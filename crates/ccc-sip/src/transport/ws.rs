//! [`WsFlow`]: one SIP flow over one WebSocket.

use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode, Uri};
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};

use super::{TlsRoots, TransportError, upgrade};

const SUBPROTOCOL: &str = "sip";

/// How much a flow buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WsLimits {
    /// The largest SIP message accepted from the peer (default 64 KiB); a larger one
    /// ends the flow with [`TransportError::MessageTooLarge`].
    pub max_message_size: usize,
    /// The read buffer (default 1 KiB: most SIP messages fit, larger ones make it
    /// grow; the WebSocket library's own default is 128 KiB, too much for thousands
    /// of idle flows).
    pub read_buffer_size: usize,
}

impl Default for WsLimits {
    fn default() -> Self {
        Self {
            max_message_size: 64 * 1024,
            read_buffer_size: 1024,
        }
    }
}

impl WsLimits {
    fn config(self) -> WebSocketConfig {
        WebSocketConfig::default()
            .read_buffer_size(self.read_buffer_size)
            .write_buffer_size(0)
            .max_write_buffer_size(self.max_message_size.saturating_mul(4).max(1))
            .max_message_size(Some(self.max_message_size))
            .max_frame_size(Some(self.max_message_size))
    }
}

/// Where and how a client flow connects.
#[derive(Debug, Clone)]
pub struct WsConnect {
    /// `ws://host:port[/path]` or `wss://host:port[/path]`.
    pub url: String,
    /// Whom a `wss://` server certificate must come from.
    pub roots: TlsRoots,
    /// Limit for TCP, TLS and the WebSocket handshake together (default 10 s).
    pub timeout: Duration,
    /// Buffer limits.
    pub limits: WsLimits,
}

impl WsConnect {
    /// Connecting to `url`, trusting the platform's certificate authorities.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            roots: TlsRoots::Platform,
            timeout: Duration::from_secs(10),
            limits: WsLimits::default(),
        }
    }

    /// The same, trusting these CA certificates (DER) instead.
    #[must_use]
    pub fn with_roots(mut self, roots: TlsRoots) -> Self {
        self.roots = roots;
        self
    }

    /// The same with another connect timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// What arrived on a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Frame {
    /// A SIP message (one per WebSocket message), as bytes.
    Message(Bytes),
    /// A CRLF keep-alive ping (`\r\n\r\n`, RFC 5626 section 3.5.1); answer with
    /// [`WsFlow::send_crlf_pong`].
    CrlfPing,
    /// A CRLF keep-alive pong (`\r\n`).
    CrlfPong,
    /// The answer to a WebSocket ping sent with [`WsFlow::ping`].
    Pong,
}

/// The connection under a client flow: TCP, or TLS over TCP. The TLS session is
/// boxed: it is large, and most flows of a fleet are plain.
#[derive(Debug)]
pub struct ClientStream(Stream);

#[derive(Debug)]
enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for ClientStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match &mut self.get_mut().0 {
            Stream::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ClientStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match &mut self.get_mut().0 {
            Stream::Plain(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match &mut self.get_mut().0 {
            Stream::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match &mut self.get_mut().0 {
            Stream::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
        }
    }
}

/// One SIP flow over one WebSocket: whole messages in and out.
#[derive(Debug)]
pub struct WsFlow<S = ClientStream> {
    socket: WebSocketStream<S>,
    local: SocketAddr,
    peer: SocketAddr,
    limits: WsLimits,
}

impl WsFlow {
    /// Connects as a client, asking for the `sip` subprotocol; a server that does not
    /// accept it is refused ([`TransportError::NoSipSubprotocol`]). TCP, TLS and the
    /// upgrade together must finish within [`WsConnect::timeout`].
    pub async fn connect(how: &WsConnect) -> Result<Self, TransportError> {
        let bad_url = || TransportError::BadUrl(how.url.clone());
        let (secure, rest) = if let Some(rest) = how.url.strip_prefix("wss://") {
            (true, rest)
        } else if let Some(rest) = how.url.strip_prefix("ws://") {
            (false, rest)
        } else {
            return Err(bad_url());
        };
        let (authority, path) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
        let uri: Uri = format!("http://{authority}{path}")
            .parse()
            .map_err(|_| bad_url())?;
        let host = uri
            .host()
            .filter(|h| !h.is_empty())
            .ok_or_else(bad_url)?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
        let target = upgrade::Target {
            host: authority,
            path: uri.path_and_query().map_or("/", |p| p.as_str()),
        };
        let tls = if secure {
            Some(how.roots.client_config()?)
        } else {
            None
        };
        let connecting = async {
            let tcp = TcpStream::connect((host.as_str(), port)).await?;
            tcp.set_nodelay(true)?;
            let (local, peer) = (tcp.local_addr()?, tcp.peer_addr()?);
            let mut stream = match tls {
                Some(config) => {
                    let name = ServerName::try_from(host.clone())
                        .map_err(|_| TransportError::Tls(format!("not a server name: {host}")))?;
                    let tls = tokio_rustls::TlsConnector::from(config)
                        .connect(name, tcp)
                        .await
                        .map_err(|e| TransportError::Tls(e.to_string()))?;
                    ClientStream(Stream::Tls(Box::new(tls)))
                }
                None => ClientStream(Stream::Plain(tcp)),
            };
            let already = upgrade::upgrade(&mut stream, &target).await?;
            let socket = WebSocketStream::from_partially_read(
                stream,
                already,
                Role::Client,
                Some(how.limits.config()),
            )
            .await;
            Ok::<_, TransportError>(Self {
                socket,
                local,
                peer,
                limits: how.limits,
            })
        };
        tokio::time::timeout(how.timeout, connecting)
            .await
            .map_err(|_| TransportError::ConnectTimeout {
                url: how.url.clone(),
                after: how.timeout,
            })?
    }
}

impl WsFlow<TcpStream> {
    /// Accepts a client on `tcp` as a server (the emulator's side). Only clients that
    /// offer the `sip` subprotocol are accepted; others get HTTP 400. The handshake must
    /// finish within `timeout`.
    pub async fn accept(
        tcp: TcpStream,
        limits: WsLimits,
        timeout: Duration,
    ) -> Result<Self, TransportError> {
        let (local, peer) = (tcp.local_addr()?, tcp.peer_addr()?);
        Self::accept_stream(tcp, local, peer, limits, timeout).await
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsFlow<S> {
    /// Accepts a client on any stream (a TLS session for `wss://`), as
    /// [`WsFlow::accept`] does on TCP.
    pub async fn accept_stream(
        stream: S,
        local: SocketAddr,
        peer: SocketAddr,
        limits: WsLimits,
        timeout: Duration,
    ) -> Result<Self, TransportError> {
        let accepting = tokio_tungstenite::accept_hdr_async_with_config(
            stream,
            require_sip_subprotocol,
            Some(limits.config()),
        );
        let socket = tokio::time::timeout(timeout, accepting)
            .await
            .map_err(|_| TransportError::ConnectTimeout {
                url: format!("ws://{local} (accepting {peer})"),
                after: timeout,
            })??;
        Ok(Self {
            socket,
            local,
            peer,
            limits,
        })
    }
}

/// The server's handshake check: the client must offer `sip`, and the answer names it.
// The signature is the WebSocket library's, large error type and all.
#[allow(clippy::result_large_err)]
fn require_sip_subprotocol(
    request: &Request,
    mut response: Response,
) -> Result<Response, ErrorResponse> {
    let offered = request
        .headers()
        .get_all("Sec-WebSocket-Protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case(SUBPROTOCOL));
    if !offered {
        let mut refusal = ErrorResponse::new(Some("the sip subprotocol is required".into()));
        *refusal.status_mut() = StatusCode::BAD_REQUEST;
        return Err(refusal);
    }
    response.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(SUBPROTOCOL),
    );
    Ok(response)
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsFlow<S> {
    /// This end's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// Sends one SIP message: a text frame when it is UTF-8 (as browsers and most
    /// servers send), else a binary frame.
    pub async fn send(&mut self, message: impl Into<Bytes>) -> Result<(), TransportError> {
        let bytes: Bytes = message.into();
        // Cloning `Bytes` shares the buffer; nothing is copied.
        let frame = match tungstenite::Utf8Bytes::try_from(bytes.clone()) {
            Ok(text) => Message::Text(text),
            Err(_) => Message::Binary(bytes),
        };
        self.socket.send(frame).await?;
        Ok(())
    }

    /// Sends a CRLF keep-alive ping (`\r\n\r\n`).
    pub async fn send_crlf_ping(&mut self) -> Result<(), TransportError> {
        self.send(Bytes::from_static(b"\r\n\r\n")).await
    }

    /// Answers a CRLF ping (`\r\n`).
    pub async fn send_crlf_pong(&mut self) -> Result<(), TransportError> {
        self.send(Bytes::from_static(b"\r\n")).await
    }

    /// Sends a WebSocket ping; its pong arrives as [`Frame::Pong`].
    pub async fn ping(&mut self) -> Result<(), TransportError> {
        self.socket.send(Message::Ping(Bytes::new())).await?;
        Ok(())
    }

    /// The next frame, or `None` once the peer closed the flow. Pings from the peer
    /// are answered inside. Bound the wait with a timeout: a silent peer is silent.
    pub async fn recv(&mut self) -> Result<Option<Frame>, TransportError> {
        loop {
            let Some(next) = self.socket.next().await else {
                return Ok(None);
            };
            let bytes = match next {
                Ok(Message::Text(text)) => Bytes::from(text),
                Ok(Message::Binary(bytes)) => bytes,
                Ok(Message::Pong(_)) => return Ok(Some(Frame::Pong)),
                Ok(Message::Close(_)) => return Ok(None),
                Ok(Message::Ping(_) | Message::Frame(_)) => continue,
                Err(tungstenite::Error::Capacity(_)) => {
                    return Err(TransportError::MessageTooLarge(
                        self.limits.max_message_size,
                    ));
                }
                Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                    return Ok(None);
                }
                Err(e) => return Err(e.into()),
            };
            return Ok(Some(match &bytes[..] {
                b"\r\n\r\n" => Frame::CrlfPing,
                b"\r\n" => Frame::CrlfPong,
                _ => Frame::Message(bytes),
            }));
        }
    }

    /// Closes the flow (a WebSocket close handshake, bounded to one second).
    pub async fn close(&mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(1), self.socket.close(None)).await;
    }
}
