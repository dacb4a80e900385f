//! Free ports on 127.0.0.1.

use std::net::{Ipv4Addr, TcpListener, UdpSocket};

use crate::PeerError;

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_tcp_port() -> Result<u16, PeerError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| PeerError::io("pick a free TCP port", e))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| PeerError::io("pick a free TCP port", e))
}

/// A UDP port on 127.0.0.1 that was free a moment ago.
pub fn free_udp_port() -> Result<u16, PeerError> {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| PeerError::io("pick a free UDP port", e))?;
    socket
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| PeerError::io("pick a free UDP port", e))
}

/// A port free for both UDP and TCP (Kamailio listens on both for its SIP port).
pub(crate) fn free_udp_tcp_port() -> Result<u16, PeerError> {
    for _ in 0..50 {
        let port = free_udp_port()?;
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return Ok(port);
        }
    }
    Err(PeerError::Config(
        "no port free for both UDP and TCP".into(),
    ))
}
