//! Kamailio as the SIP registrar and proxy of the tests.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::ports::{free_tcp_port, free_udp_tcp_port};
use crate::{PeerError, PeerProcess, TestCa, require};

const TEMPLATE: &str = include_str!("kamailio.kamailio.cfg");
const MODULE_PATH: &str = "/usr/lib/x86_64-linux-gnu/kamailio/modules/";

/// A SIP account Kamailio accepts.
#[derive(Debug, Clone)]
pub struct SipUser {
    /// The user part (letters, digits, `.`, `_`, `-`).
    pub user: String,
    /// The password (the same characters).
    pub password: String,
}

impl SipUser {
    /// `user` with `password`.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            password: password.into(),
        }
    }
}

/// How to run Kamailio.
#[derive(Debug, Clone)]
pub struct KamailioConfig {
    /// The SIP domain (an alias of the proxy).
    pub domain: String,
    /// The accounts.
    pub users: Vec<SipUser>,
    /// The digest algorithm of the challenges: `MD5` or `SHA-256`.
    pub digest_algorithm: &'static str,
    /// Shared memory in MiB (each WebSocket costs Kamailio about 71 KiB).
    pub shared_memory_mb: u32,
    /// Private memory per process in MiB.
    pub private_memory_mb: u32,
    /// The shortest registration Kamailio accepts (shorter gets 423).
    pub min_expires: u32,
    /// How many TCP and TLS connections it takes.
    pub max_connections: u32,
}

impl Default for KamailioConfig {
    fn default() -> Self {
        Self {
            domain: "ccc.test".to_owned(),
            users: vec![
                SipUser::new("1001", "secret1001"),
                SipUser::new("1002", "secret1002"),
            ],
            digest_algorithm: "MD5",
            shared_memory_mb: 64,
            private_memory_mb: 8,
            min_expires: 10,
            max_connections: 2048,
        }
    }
}

/// A running Kamailio on 127.0.0.1. Stopped when dropped.
#[derive(Debug)]
pub struct Kamailio {
    config: KamailioConfig,
    dir: tempfile::TempDir,
    process: Option<PeerProcess>,
    udp_port: u16,
    ws_port: u16,
    wss_port: u16,
    ca: TestCa,
}

impl Kamailio {
    /// Starts Kamailio, or returns `None` when it is not installed outside CI (see
    /// [`require`]). Errors say what failed, with Kamailio's log.
    pub fn start(config: KamailioConfig) -> Result<Option<Self>, PeerError> {
        if require("kamailio").is_none() {
            return Ok(None);
        }
        validate(&config)?;
        let ca = TestCa::new()?;
        let mut last_error = None;
        // A port picked free can be taken by someone else before Kamailio binds it.
        for _ in 0..3 {
            let mut kamailio = Self {
                config: config.clone(),
                udp_port: free_udp_tcp_port()?,
                ws_port: free_tcp_port()?,
                wss_port: free_tcp_port()?,
                process: None,
                ca: ca.clone(),
                dir: tempfile::Builder::new()
                    .prefix("ccc-kamailio-")
                    .tempdir()
                    .map_err(|e| PeerError::io("make a directory for Kamailio", e))?,
            };
            match kamailio.launch() {
                Ok(()) => return Ok(Some(kamailio)),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| PeerError::Config("no attempt made".into())))
    }

    /// Writes the configuration and starts the process; waits until it listens.
    fn launch(&mut self) -> Result<(), PeerError> {
        let cert = self.write("leaf.pem", &self.ca.leaf_pem)?;
        let key = self.write("leaf.key", &self.ca.leaf_key_pem)?;
        let tls = self.write(
            "tls.cfg",
            &format!(
                "[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\n\
                 certificate = {}\nprivate_key = {}\n",
                cert.display(),
                key.display()
            ),
        )?;
        let cfg = self.write("kamailio.cfg", &self.render(&tls))?;
        let mut command = Command::new("kamailio");
        command
            .arg("-DD")
            .arg("-E")
            .arg("-f")
            .arg(&cfg)
            .arg("-m")
            .arg(self.config.shared_memory_mb.to_string())
            .arg("-M")
            .arg(self.config.private_memory_mb.to_string())
            .arg("-P")
            .arg(self.dir.path().join("kamailio.pid"))
            .arg("-Y")
            .arg(self.dir.path());
        let log = self.dir.path().join("kamailio.log");
        let mut process = PeerProcess::spawn("kamailio", command, &log)?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if !process.is_running() {
                return Err(process.not_ready("it exited"));
            }
            if [self.ws_port, self.wss_port]
                .iter()
                .all(|port| listening(*port))
            {
                break;
            }
            if Instant::now() > deadline {
                return Err(process.not_ready("its ports did not open within 10 s"));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        self.process = Some(process);
        Ok(())
    }

    fn write(&self, name: &str, text: &str) -> Result<PathBuf, PeerError> {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text)
            .map_err(|e| PeerError::io(format!("write {}", path.display()), e))?;
        Ok(path)
    }

    fn render(&self, tls_config: &Path) -> String {
        // A flat switch: a chain of if/else nests, and Kamailio limits the nesting.
        let mut passwords = String::from("\t$var(pw) = \"-no-such-user-\";\n\tswitch($fU) {\n");
        for user in &self.config.users {
            let _ = writeln!(
                passwords,
                "\t\tcase \"{}\": $var(pw) = \"{}\"; break;",
                user.user, user.password
            );
        }
        passwords.push_str("\t}\n");
        TEMPLATE
            .replace("@UDP_PORT@", &self.udp_port.to_string())
            .replace("@WS_PORT@", &self.ws_port.to_string())
            .replace("@WSS_PORT@", &self.wss_port.to_string())
            .replace("@DOMAIN@", &self.config.domain)
            .replace(
                "@MAX_CONNECTIONS@",
                &self.config.max_connections.to_string(),
            )
            .replace("@MODULE_PATH@", MODULE_PATH)
            .replace("@TLS_CONFIG@", &tls_config.display().to_string())
            .replace("@MIN_EXPIRES@", &self.config.min_expires.to_string())
            .replace("@DIGEST_ALGORITHM@", self.config.digest_algorithm)
            .replace("@USER_PASSWORDS@", &passwords)
    }

    /// Stops Kamailio (its registrations are lost: it keeps them in memory).
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop();
        }
    }

    /// Starts it again on the same ports, after [`Kamailio::stop`].
    pub fn restart(&mut self) -> Result<(), PeerError> {
        self.stop();
        self.launch()
    }

    /// Whether it runs.
    pub fn is_running(&mut self) -> bool {
        self.process.as_mut().is_some_and(PeerProcess::is_running)
    }

    /// The SIP domain.
    pub fn domain(&self) -> &str {
        &self.config.domain
    }

    /// The SIP over UDP address (for SIPp).
    pub fn udp_addr(&self) -> SocketAddr {
        (Ipv4Addr::LOCALHOST, self.udp_port).into()
    }

    /// `ws://127.0.0.1:PORT`.
    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.ws_port)
    }

    /// `wss://127.0.0.1:PORT`.
    pub fn wss_url(&self) -> String {
        format!("wss://127.0.0.1:{}", self.wss_port)
    }

    /// The TCP port of `ws://`.
    pub fn ws_port(&self) -> u16 {
        self.ws_port
    }

    /// The TCP port of `wss://`.
    pub fn wss_port(&self) -> u16 {
        self.wss_port
    }

    /// The CA that signed the `wss://` certificate, as PEM: trust it in the client.
    pub fn ca_pem(&self) -> &str {
        &self.ca.ca_pem
    }

    /// The same CA, DER-encoded.
    pub fn ca_der(&self) -> &[u8] {
        &self.ca.ca_der
    }

    /// The end of Kamailio's log, for test failure messages.
    pub fn log_tail(&self) -> String {
        self.process
            .as_ref()
            .map(|p| p.log_tail(8000))
            .unwrap_or_default()
    }
}

fn listening(port: u16) -> bool {
    TcpStream::connect_timeout(
        &(Ipv4Addr::LOCALHOST, port).into(),
        Duration::from_millis(200),
    )
    .is_ok()
}

fn validate(config: &KamailioConfig) -> Result<(), PeerError> {
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    };
    if !plain(&config.domain) {
        return Err(PeerError::Config(format!("domain {:?}", config.domain)));
    }
    for user in &config.users {
        if !plain(&user.user) || !plain(&user.password) {
            return Err(PeerError::Config(format!(
                "user {:?}: letters, digits, . _ - only",
                user.user
            )));
        }
    }
    if !matches!(config.digest_algorithm, "MD5" | "SHA-256") {
        return Err(PeerError::Config(format!(
            "digest algorithm {}",
            config.digest_algorithm
        )));
    }
    Ok(())
}
