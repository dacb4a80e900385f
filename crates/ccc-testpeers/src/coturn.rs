//! coturn as the TURN server (an "access point") of the media tests.

use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::ports::{free_tcp_port, free_udp_tcp_port};
use crate::{PeerError, PeerProcess, TestCa, require};

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
    tls: Option<(u16, TestCa)>,
}

impl Coturn {
    /// Starts coturn with `auth` in `realm`, or returns `None` when it is not installed
    /// outside CI (see [`require`]).
    pub fn start(auth: TurnAuth, realm: &str) -> Result<Option<Self>, PeerError> {
        Self::start_inner(auth, realm, false)
    }

    /// Starts coturn as [`Coturn::start`] does, and also as a TURN server over TLS
    /// (`turns:`) on a port of its own, with a certificate for `127.0.0.1` signed by a
    /// CA made for this instance ([`Coturn::ca`]; clients trust it, rustls refuses a
    /// self-signed server certificate).
    pub fn start_with_tls(auth: TurnAuth, realm: &str) -> Result<Option<Self>, PeerError> {
        Self::start_inner(auth, realm, true)
    }

    fn start_inner(auth: TurnAuth, realm: &str, tls: bool) -> Result<Option<Self>, PeerError> {
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
        let ca = if tls { Some(TestCa::new()?) } else { None };
        let mut last_error = None;
        for _ in 0..3 {
            match Self::launch(&auth, realm, ca.as_ref()) {
                Ok(coturn) => return Ok(Some(coturn)),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| PeerError::Config("no attempt made".into())))
    }

    fn launch(auth: &TurnAuth, realm: &str, ca: Option<&TestCa>) -> Result<Self, PeerError> {
        let dir = tempfile::Builder::new()
            .prefix("ccc-coturn-")
            .tempdir()
            .map_err(|e| PeerError::io("make a directory for coturn", e))?;
        let port = free_udp_tcp_port()?;
        let tls = match ca {
            Some(ca) => Some((free_tcp_port()?, ca.clone())),
            None => None,
        };
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
            .args(["--no-cli", "--no-dtls", "--no-multicast-peers"])
            // Relay to 127.0.0.1 and nowhere else.
            .arg("--allow-loopback-peers")
            .arg("--denied-peer-ip=0.0.0.0-255.255.255.255")
            .arg("--allowed-peer-ip=127.0.0.1")
            .args(["--log-file", "stdout", "--simple-log"])
            .arg("--pidfile")
            .arg(dir.path().join("turnserver.pid"));
        match &tls {
            Some((tls_port, ca)) => {
                let write = |name: &str, text: &str| {
                    let path = dir.path().join(name);
                    std::fs::write(&path, text)
                        .map_err(|e| PeerError::io(format!("write {}", path.display()), e))?;
                    Ok::<_, PeerError>(path)
                };
                let cert = write("leaf.pem", &ca.leaf_pem)?;
                let key = write("leaf.key", &ca.leaf_key_pem)?;
                command
                    .args(["--tls-listening-port", &tls_port.to_string()])
                    .arg("--cert")
                    .arg(cert)
                    .arg("--pkey")
                    .arg(key);
            }
            None => {
                command.arg("--no-tls");
            }
        }
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
            let tls_ready = tls.as_ref().is_none_or(|(tls_port, _)| {
                TcpStream::connect((Ipv4Addr::LOCALHOST, *tls_port)).is_ok()
            });
            if stun_binding(addr, Duration::from_millis(200)).is_ok()
                && TcpStream::connect(addr).is_ok()
                && tls_ready
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
            tls,
        })
    }

    /// `turns:127.0.0.1:PORT`, when started with [`Coturn::start_with_tls`].
    pub fn turns_url(&self) -> Option<String> {
        self.tls
            .as_ref()
            .map(|(port, _)| format!("turns:127.0.0.1:{port}"))
    }

    /// The TLS address, when started with [`Coturn::start_with_tls`].
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls
            .as_ref()
            .map(|(port, _)| (Ipv4Addr::LOCALHOST, *port).into())
    }

    /// The CA that signed the TLS certificate, when started with
    /// [`Coturn::start_with_tls`].
    pub fn ca(&self) -> Option<&TestCa> {
        self.tls.as_ref().map(|(_, ca)| ca)
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
