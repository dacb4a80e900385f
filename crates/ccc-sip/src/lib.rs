//! SIP over WebSocket (RFC 7118) user agent for ccc-rs: a sans-IO core and a tokio
//! driver that owns the WebSocket.
//!
//! - [`transport`]: the SIP flow over a WebSocket, client (`ws://`, `wss://` with rustls
//!   and the ring provider) and server side, with bounded buffers and waits;
//! - [`link`]: a flow kept up by itself: reconnect with backoff, keep-alive, dead-link
//!   detection, all reported as events.

pub mod link;
pub mod transport;
