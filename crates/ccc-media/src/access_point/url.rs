//! `turn:`, `turns:` and `stun:` URLs (RFC 7064, RFC 7065).

use std::fmt;

use super::ProbeError;

/// Which protocol a server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scheme {
    /// `stun:`: binding only.
    Stun,
    /// `turn:`: relay over UDP or TCP.
    Turn,
    /// `turns:`: relay over TLS.
    Turns,
}

/// How the client reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Transport {
    /// UDP (the default of `stun:` and `turn:`).
    Udp,
    /// TCP (`?transport=tcp`, and always under `turns:`).
    Tcp,
}

/// A parsed server URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerUrl {
    /// The scheme.
    pub scheme: Scheme,
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// Port (3478 by default, 5349 for `turns:`).
    pub port: u16,
    /// Transport to the server.
    pub transport: Transport,
}

impl ServerUrl {
    /// Parses `turn:host[:port][?transport=udp|tcp]`, `turns:...` or `stun:...`.
    ///
    /// ```
    /// use ccc_media::access_point::{ServerUrl, Scheme, Transport};
    /// let url = ServerUrl::parse("turn:10.0.0.1:3479?transport=tcp").unwrap();
    /// assert_eq!((url.scheme, url.port, url.transport), (Scheme::Turn, 3479, Transport::Tcp));
    /// ```
    pub fn parse(text: &str) -> Result<Self, ProbeError> {
        let bad = || ProbeError::BadUrl(text.to_owned());
        let (scheme, rest) = text.split_once(':').ok_or_else(bad)?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "stun" => Scheme::Stun,
            "turn" => Scheme::Turn,
            "turns" => Scheme::Turns,
            _ => return Err(bad()),
        };
        let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(bad)?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() || host.contains(['/', '@', ' ']) {
            return Err(bad());
        }
        let default_port = if scheme == Scheme::Turns { 5349 } else { 3478 };
        let port = match port {
            Some(p) => p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(bad)?,
            None => default_port,
        };
        let mut transport = if scheme == Scheme::Turns {
            Transport::Tcp
        } else {
            Transport::Udp
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("transport", "udp")) if scheme != Scheme::Turns => transport = Transport::Udp,
                Some(("transport", "tcp")) => transport = Transport::Tcp,
                _ => return Err(bad()),
            }
        }
        Ok(Self {
            scheme,
            host: host.to_owned(),
            port,
            transport,
        })
    }
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Stun => "stun",
            Scheme::Turn => "turn",
            Scheme::Turns => "turns",
        };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(f, "{scheme}:{host}:{}", self.port)?;
        if self.scheme != Scheme::Turns {
            let t = if self.transport == Transport::Tcp {
                "tcp"
            } else {
                "udp"
            };
            write!(f, "?transport={t}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = ServerUrl::parse("turn:127.0.0.1").unwrap();
        assert_eq!((u.port, u.transport), (3478, Transport::Udp));
        let s = ServerUrl::parse("turns:relay.example.com").unwrap();
        assert_eq!(
            (s.scheme, s.port, s.transport),
            (Scheme::Turns, 5349, Transport::Tcp)
        );
        let v6 = ServerUrl::parse("stun:[::1]:19302").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 19302));
        assert_eq!(v6.to_string(), "stun:[::1]:19302?transport=udp");
        for bad in [
            "",
            "http://x",
            "turn:",
            "turn:host:0",
            "turn:host:99999",
            "turn:h?transport=sctp",
            "turns:h?transport=udp",
            "turn:a b",
        ] {
            assert!(ServerUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
