//! SIP over WebSocket (RFC 7118) user agent for ccc-rs: a sans-IO core and a tokio
//! driver that owns the WebSocket.
//!
//! - [`message`]: the borrowing parser and the owned builder of SIP messages;
//! - [`ua`]: the sans-IO user agent: registration, challenges, refresh, the answers owed
//!   to any request;
//! - [`client`]: the tokio driver: the user agent on a self-keeping link;
//! - [`auth`]: digest authentication (MD5, SHA-256, qop=auth), challenge and answer;
//! - [`transport`]: the SIP flow over a WebSocket, client (`ws://`, `wss://` with rustls
//!   and the ring provider) and server side, with bounded buffers and waits;
//! - [`link`]: a flow kept up by itself: reconnect with backoff, keep-alive, dead-link
//!   detection, all reported as events;
//! - [`server`]: the server side for the emulator: a registrar and call legs over the
//!   flows of many user agents, sans-IO, with the tokio driver [`server::SipServer`].

pub mod auth;
pub mod client;
pub mod link;
pub mod message;
pub mod server;
mod time;
pub mod transport;
pub mod ua;
