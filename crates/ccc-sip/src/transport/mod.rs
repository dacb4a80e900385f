//! The SIP flow over a WebSocket (RFC 7118), client and server side.
//!
//! One WebSocket message carries exactly one SIP message; on plain TCP ([`TcpFlow`], the
//! server side's way in for SIPp and proxies) the `Content-Length` frames them. [`WsFlow`] moves whole
//! messages as bytes; parsing them is the message layer's job. It bounds what a peer can
//! make it buffer ([`WsLimits`]), keeps its buffers small so that thousands of idle
//! flows fit in little memory, and never waits without a limit: connecting and the
//! handshake have a timeout, and the caller bounds each `recv` (the driver sends
//! keep-alives and gives up on a silent peer).

mod tcp;
mod tls;
mod upgrade;
mod ws;

pub use tcp::{StreamFramer, TcpFlow};
pub use tls::{TlsIdentity, TlsRoots};
pub use ws::{ClientStream, Frame, WsConnect, WsFlow, WsLimits};

/// What can go wrong on a flow.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The URL is not `ws://host:port[/path]` or `wss://...`.
    #[error("not a WebSocket URL: {0}")]
    BadUrl(String),
    /// Connecting (TCP, TLS and the WebSocket handshake) took too long.
    #[error("connecting to {url} timed out after {after:?}")]
    ConnectTimeout {
        /// Where.
        url: String,
        /// After how long.
        after: std::time::Duration,
    },
    /// The WebSocket upgrade failed: the server refused it or answered wrongly.
    #[error("WebSocket upgrade: {0}")]
    Handshake(String),
    /// The peer does not speak the `sip` subprotocol.
    #[error("the peer did not accept the `sip` WebSocket subprotocol")]
    NoSipSubprotocol,
    /// A message from the peer exceeds [`WsLimits::max_message_size`].
    #[error("the peer sent a message of more than {0} bytes")]
    MessageTooLarge(usize),
    /// A stream of SIP messages (plain TCP) cannot be cut into messages.
    #[error("SIP over TCP: {0}")]
    Framing(&'static str),
    /// The TLS setup failed (bad roots, no usable certificate).
    #[error("TLS: {0}")]
    Tls(String),
    /// The WebSocket failed: refused connection, TLS error, protocol error, reset.
    #[error("WebSocket: {0}")]
    WebSocket(#[from] tokio_tungstenite::tungstenite::Error),
    /// A socket operation failed.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}
