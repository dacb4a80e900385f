//! coturn as the TURN server (an "access point") of the media tests.

use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::ports::free_udp_tcp_port;
use crate::{PeerError, PeerProcess, require};

/// How coturn authenticates. One process serves one mode, so tests start one per mode.
#[derive(Debug, Clone)]
pub enum TurnAuth {
    /// Long-term credentials: a fixed user and password.
    Static {
        /// The user.
        user: String,
        /// The password.
        password: String,
    },
    /// Time-limited credentials (TURN REST API): user `expiry:name`, password the
    /// base64 HMAC-SHA1 of the user under this shared secret.
    Secret(String),
}

/// A running coturn on 127.0.0.1 that relays only to 127.0.0.1. Stopped when dropped.
#[derive(Debug)]
pub struct Coturn {
    _dir: tempfile::TempDir,
    process: PeerProcess,
    port: u16,
    realm: String,
    auth: TurnAuth,
}

impl Coturn {
    /// Starts coturn with `auth` in `realm`, or returns `None` when it is not installed
    /// outside CI (see [`require`]).
    pub fn start(auth: TurnAuth, realm: &str) -> Result<Option<Self>, PeerError> {
        let plain = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        };
        let values_ok = plain(realm)
            && match &auth {
                TurnAuth::Static { user, password } => plain(user) && plain(password),
                TurnAuth::Secret(secret) => plain(secret),
            };
        if !values_ok {
            return Err(PeerError::Config(
                "realm, user, password and secret: letters, digits, . _ - only".into(),
            ));
        }
        if require("turnserver").is_none() {
            return Ok(None);
        }
        let mut last_error = None;
        for _ in 0..3 {
            match Self::launch(&auth, realm) {
                Ok(coturn) => return Ok(Some(coturn)),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| PeerError::Config("no attempt made".into())))
    }

    fn launch(auth: &TurnAuth, realm: &str) -> Result<Self, PeerError> {
        let dir = tempfile::Builder::new()
            .prefix("ccc-coturn-")
            .tempdir()
            .map_err(|e| PeerError::io("make a directory for coturn", e))?;
        let port = free_udp_tcp_port()?;
        // Relay ports from a range of this instance's own, so parallel instances differ.
        let relay_low = 20_000 + (port % 400) * 100;
        let mut command = Command::new("turnserver");
        command
            .arg("-n")
            .args(["--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1"])
            .args(["--listening-port", &port.to_string()])
            .args([
                "--min-port",
                &relay_low.to_string(),
                "--max-port",
                &(relay_low + 99).to_string(),
            ])
            .args(["--realm", realm, "--fingerprint"])
            .args(["--no-cli", "--no-tls", "--no-dtls", "--no-multicast-peers"])
            // Relay to 127.0.0.1 and nowhere else.
            .arg("--allow-loopback-peers")
            .arg("--denied-peer-ip=0.0.0.0-255.255.255.255")
            .arg("--allowed-peer-ip=127.0.0.1")
            .args(["--log-file", "stdout", "--simple-log"])
            .arg("--pidfile")
            .arg(dir.path().join("turnserver.pid"));
        match auth {
            TurnAuth::Static { user, password } => {
                command
                    .arg("--lt-cred-mech")
                    .arg(format!("--user={user}:{password}"));
            }
            TurnAuth::Secret(secret) => {
                command
                    .arg("--use-auth-secret")
                    .arg(format!("--static-auth-secret={secret}"));
            }
        }
        let mut process =
            PeerProcess::spawn("turnserver", command, &dir.path().join("turnserver.log"))?;
        let addr: SocketAddr = (Ipv4Addr::LOCALHOST, port).into();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if !process.is_running() {
                return Err(process.not_ready("it exited"));
            }
            if stun_binding(addr, Duration::from_millis(200)).is_ok()
                && TcpStream::connect(addr).is_ok()
            {
                break;
            }
            if Instant::now() > deadline {
                return Err(process.not_ready("no STUN answer within 10 s"));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        Ok(Self {
            _dir: dir,
            process,
            port,
            realm: realm.to_owned(),
            auth: auth.clone(),
        })
    }

    /// The UDP (and TCP) address.
    pub fn addr(&self) -> SocketAddr {
        (Ipv4Addr::LOCALHOST, self.port).into()
    }

    /// `turn:127.0.0.1:PORT?transport=udp`.
    pub fn turn_url(&self) -> String {
        format!("turn:127.0.0.1:{}?transport=udp", self.port)
    }

    /// `stun:127.0.0.1:PORT`.
    pub fn stun_url(&self) -> String {
        format!("stun:127.0.0.1:{}", self.port)
    }

    /// The realm.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// How it authenticates.
    pub fn auth(&self) -> &TurnAuth {
        &self.auth
    }

    /// The end of its log, for test failure messages.
    pub fn log_tail(&self) -> String {
        self.process.log_tail(8000)
    }
}

/// Sends a STUN Binding request (RFC 8489) and returns the raw response.
pub fn stun_binding(server: SocketAddr, wait: Duration) -> std::io::Result<Vec<u8>> {
    stun_request(server, 0x0001, &[], wait)
}

/// Sends a STUN request of `method` with the given attributes (already encoded) and
/// returns the raw response.
pub fn stun_request(
    server: SocketAddr,
    method: u16,
    attributes: &[u8],
    wait: Duration,
) -> std::io::Result<Vec<u8>> {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    socket.set_read_timeout(Some(wait))?;
    let mut request = Vec::with_capacity(20 + attributes.len());
    request.extend_from_slice(&method.to_be_bytes());
    let length = u16::try_from(attributes.len()).map_err(|_| std::io::ErrorKind::InvalidInput)?;
    request.extend_from_slice(&length.to_be_bytes());
    request.extend_from_slice(&0x2112_A442_u32.to_be_bytes());
    let id: [u8; 12] =
        std::array::from_fn(|i| u8::try_from(i * 17 % 256).unwrap_or(0) ^ (server.port() as u8));
    request.extend_from_slice(&id);
    request.extend_from_slice(attributes);
    socket.send_to(&request, server)?;
    let mut buf = vec![0u8; 1500];
    let (n, _) = socket.recv_from(&mut buf)?;
    buf.truncate(n);
    if buf.len() < 20 || buf[8..20] != id {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not an answer to this request",
        ));
    }
    Ok(buf)
}
