//! Access points (M33 `testTurnServers`, M34 `switchAccessPoint`, C39): time every
//! region's TURN servers, in parallel, over several rounds, and rank the regions.
//!
//! A round is a STUN Binding, then a TURN Allocate twice (the first is answered with
//! the 401 challenge that carries the realm and nonce, the second is authenticated),
//! reported apart, then a Refresh with lifetime 0 that releases the allocation. Each
//! round opens a fresh socket. `turn:` over UDP and TCP and `turns:` (TURN over TLS) are
//! probed; over TCP and TLS the time to an open connection (with the TLS handshake) is
//! reported too.
//!
//! Which of them a call can use: the media path (webrtc-rs 0.21) allocates its relay
//! over UDP only (`turn:...?transport=udp`, the default of `turn:`); it cannot relay
//! over TCP or TLS. The TCP and TLS figures say whether a relay is reachable through a
//! firewall that blocks UDP, not that a call would work there. See
//! `docs/access-points.md`.

mod credentials;
pub(crate) mod probe;
mod stun;
pub(crate) mod tls;
mod url;

use std::time::Duration;

pub use credentials::TurnCredentials;
pub use tls::TlsRoots;
pub use url::{Scheme, ServerUrl, Transport};

/// Why a probe failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// The URL cannot be read.
    #[error("not a stun:, turn: or turns: URL: {0:?}")]
    BadUrl(String),
    /// The host name did not resolve.
    #[error("cannot resolve {0}")]
    Resolve(String),
    /// No answer in time.
    #[error("{what}: no answer within {after:?}")]
    Timeout {
        /// The request.
        what: &'static str,
        /// The limit.
        after: Duration,
    },
    /// The server refused the user or password.
    #[error("the TURN server of realm {realm:?} refused the user or password")]
    WrongCredentials {
        /// The server's realm.
        realm: String,
    },
    /// Time-limited credentials past their expiry.
    #[error("the time-limited TURN credentials have expired; fetch new ones (GetTurnCredentials)")]
    CredentialsExpired,
    /// The TLS connection to a `turns:` server failed (certificate, handshake).
    #[error("TLS: {0}")]
    Tls(String),
    /// The server answered with an error.
    #[error("the server answered {code}: {reason}")]
    Rejected {
        /// The STUN error code.
        code: u16,
        /// Its reason phrase.
        reason: String,
    },
    /// A malformed or unexpected message.
    #[error("STUN: {0}")]
    Stun(String),
    /// The connection was refused: nothing listens there, or a firewall rejects it.
    #[error("connection refused")]
    Refused,
    /// A socket error.
    #[error("I/O: {0}")]
    Io(String),
    /// A cryptographic operation failed.
    #[error("crypto: {0}")]
    Crypto(String),
}

/// One region's servers, as `GetTurnServerList` lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPoint {
    /// The region (`cn-shanghai`, ...), what `switchAccessPoint` takes.
    pub region: String,
    /// Its servers' URLs.
    pub urls: Vec<String>,
}

/// How to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeOptions {
    /// Rounds per server (the guide's `currentFrequence`; default 1).
    pub rounds: u32,
    /// Limit for each exchange, and for the TCP connect and the TLS handshake (default
    /// 2 s).
    pub timeout: Duration,
    /// Whom the certificates of `turns:` servers must come from (default: the
    /// platform's certificate authorities).
    pub roots: TlsRoots,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        Self {
            rounds: 1,
            timeout: Duration::from_secs(2),
            roots: TlsRoots::Platform,
        }
    }
}

impl ProbeOptions {
    /// `rounds` rounds per server, each exchange limited to `timeout`, trusting the
    /// platform's certificate authorities.
    pub fn new(rounds: u32, timeout: Duration) -> Self {
        Self {
            rounds,
            timeout,
            ..Self::default()
        }
    }

    /// The same, trusting `roots` for `turns:` servers.
    #[must_use]
    pub fn with_roots(mut self, roots: TlsRoots) -> Self {
        self.roots = roots;
        self
    }
}

/// Minimum, median and maximum of the successful rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Fastest.
    pub min: Duration,
    /// Median (the lower middle for an even count).
    pub median: Duration,
    /// Slowest.
    pub max: Duration,
}

impl Timing {
    fn of(mut samples: Vec<Duration>) -> Option<Self> {
        samples.sort_unstable();
        Some(Self {
            min: *samples.first()?,
            median: samples[(samples.len() - 1) / 2],
            max: *samples.last()?,
        })
    }
}

/// The figures of one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerReport {
    /// The server (as given, when it could not be read).
    pub url: String,
    /// Time to an open connection: TCP connect, plus the TLS handshake for `turns:`
    /// (none over UDP).
    pub connect: Option<Timing>,
    /// STUN Binding round trip.
    pub binding: Option<Timing>,
    /// TURN Allocate, the first (401 challenge) round trip.
    pub challenge: Option<Timing>,
    /// TURN Allocate, the authenticated round trip.
    pub allocate: Option<Timing>,
    /// Successful rounds.
    pub successes: u32,
    /// Failed rounds.
    pub failures: u32,
    /// The last failure's reason.
    pub error: Option<ProbeError>,
}

impl ServerReport {
    /// The median time to a relay: challenge plus authenticated Allocate.
    pub fn median_to_relay(&self) -> Option<Duration> {
        Some(self.challenge?.median + self.allocate?.median)
    }
}

/// The figures of one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionReport {
    /// The region.
    pub region: String,
    /// Each server of it.
    pub servers: Vec<ServerReport>,
}

impl RegionReport {
    /// The region's best server: the fastest to a relay among those that never failed,
    /// else among those that worked at least once.
    pub fn best(&self) -> Option<&ServerReport> {
        let fastest = |clean: bool| {
            self.servers
                .iter()
                .filter(|s| s.successes > 0 && (!clean || s.failures == 0))
                .min_by_key(|s| s.median_to_relay().unwrap_or(Duration::MAX))
        };
        fastest(true).or_else(|| fastest(false))
    }
}

/// Probes every access point's servers, regions in parallel, and returns the regions
/// ranked best first: those whose best server never failed, by its median time to a
/// relay; then those that worked sometimes; then those that never worked.
pub async fn test_access_points(
    points: &[AccessPoint],
    credentials: &TurnCredentials,
    options: &ProbeOptions,
) -> Vec<RegionReport> {
    // Built once, and only when a `turns:` server is probed (loading the platform's
    // certificates costs milliseconds).
    let any_tls = points
        .iter()
        .flat_map(|p| &p.urls)
        .any(|u| ServerUrl::parse(u).is_ok_and(|u| u.scheme == Scheme::Turns));
    let tls: probe::TlsConfig = any_tls.then(|| options.roots.client_config());
    let probes = points
        .iter()
        .map(|point| probe_region(point, credentials, &tls, options));
    let mut reports = futures_util::future::join_all(probes).await;
    reports.sort_by_key(|report| {
        let best = report.best();
        let tier = match best {
            Some(s) if s.failures == 0 => 0,
            Some(_) => 1,
            None => 2,
        };
        (
            tier,
            best.and_then(ServerReport::median_to_relay)
                .unwrap_or(Duration::MAX),
        )
    });
    reports
}

async fn probe_region(
    point: &AccessPoint,
    credentials: &TurnCredentials,
    tls: &probe::TlsConfig,
    options: &ProbeOptions,
) -> RegionReport {
    let mut servers = Vec::with_capacity(point.urls.len());
    for text in &point.urls {
        servers.push(probe_server(text, credentials, tls, options).await);
    }
    RegionReport {
        region: point.region.clone(),
        servers,
    }
}

async fn probe_server(
    text: &str,
    credentials: &TurnCredentials,
    tls: &probe::TlsConfig,
    options: &ProbeOptions,
) -> ServerReport {
    let mut report = ServerReport {
        url: text.to_owned(),
        connect: None,
        binding: None,
        challenge: None,
        allocate: None,
        successes: 0,
        failures: 0,
        error: None,
    };
    let url = match ServerUrl::parse(text) {
        Ok(url) => url,
        Err(e) => {
            report.failures = options.rounds.max(1);
            report.error = Some(e);
            return report;
        }
    };
    let (mut binding, mut challenge, mut allocate) = (Vec::new(), Vec::new(), Vec::new());
    let mut connect = Vec::new();
    for _ in 0..options.rounds.max(1) {
        match probe::round(&url, credentials, tls, options.timeout).await {
            Ok(times) => {
                report.successes += 1;
                if url.transport != Transport::Udp {
                    connect.push(times.connect);
                }
                binding.push(times.binding);
                if url.scheme != Scheme::Stun {
                    challenge.push(times.challenge);
                    allocate.push(times.allocate);
                }
            }
            Err(e) => {
                report.failures += 1;
                report.error = Some(e);
            }
        }
    }
    report.connect = Timing::of(connect);
    report.binding = Timing::of(binding);
    report.challenge = Timing::of(challenge);
    report.allocate = Timing::of(allocate);
    report
}
