//! M20 `checkNetwork`: can the softphone's services be reached from here, or does a
//! firewall block them?
//!
//! Each address is tried the way its service is used, in parallel, each within one
//! limit:
//! - the SIP WebSocket (`ws://` or `wss://`, the `WebRtcUrl` of the login info): TCP,
//!   TLS for `wss://`, and the WebSocket upgrade asking for the `sip` subprotocol
//!   (RFC 7118), which the server must grant;
//! - the agent link (`ws://` or `wss://`, `AgentServerUrl`): the same, without a
//!   subprotocol;
//! - each TURN server (`turn:`, `turns:`, `stun:`): a STUN Binding over the URL's
//!   transport (UDP, TCP or TLS), which needs no credentials.
//!
//! The report says for each address whether it was reached, and if not, at which stage
//! and why: refused (a closed port, or a firewall that rejects), timed out (a firewall
//! that drops, a dead host), or failed (a name that does not resolve, a certificate not
//! trusted, something that answers but not as the service does).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::{HeaderValue, Uri};

use crate::access_point::probe::{self, ByteStream, TlsConfig};
use crate::access_point::{ProbeError, Scheme, ServerUrl, TlsRoots, tls};

/// What an address is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Service {
    /// The SIP WebSocket (`WebRtcUrl`).
    Sip,
    /// The agent link (`AgentServerUrl`).
    AgentLink,
    /// A TURN (or STUN) server of an access point.
    Turn,
}

/// One address to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// What it is for.
    pub service: Service,
    /// `ws://` / `wss://` for the SIP and agent links; `turn:`, `turns:` or `stun:` for
    /// TURN servers.
    pub url: String,
}

impl Target {
    /// The SIP WebSocket at `url`.
    pub fn sip(url: impl Into<String>) -> Self {
        Self {
            service: Service::Sip,
            url: url.into(),
        }
    }

    /// The agent link at `url`.
    pub fn agent_link(url: impl Into<String>) -> Self {
        Self {
            service: Service::AgentLink,
            url: url.into(),
        }
    }

    /// A TURN or STUN server at `url`.
    pub fn turn(url: impl Into<String>) -> Self {
        Self {
            service: Service::Turn,
            url: url.into(),
        }
    }
}

/// How long and whom to trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkCheckOptions {
    /// The limit for each address, all stages together (default 5 s). The whole check
    /// takes no longer, since the addresses are tried in parallel.
    pub timeout: Duration,
    /// Whom `wss://` and `turns:` certificates must come from (default: the platform's
    /// certificate authorities).
    pub roots: TlsRoots,
}

impl Default for NetworkCheckOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            roots: TlsRoots::Platform,
        }
    }
}

/// How far a try got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Stage {
    /// Looking the host name up.
    Resolve,
    /// Opening the connection (TCP; for UDP, sending).
    Connect,
    /// The TLS handshake.
    Tls,
    /// The service's own answer: the WebSocket upgrade, the STUN Binding.
    Answer,
}

/// Whether an address was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Reached, and it answered as the service does.
    Reachable {
        /// The time to the service's answer (connection and handshakes included).
        after: Duration,
    },
    /// Refused: a TCP reset or an ICMP port unreachable (nothing listens there, or a
    /// firewall rejects).
    Refused {
        /// Where.
        stage: Stage,
    },
    /// No answer within the limit (a firewall that drops packets, a dead host, a server
    /// that accepts and then says nothing).
    TimedOut {
        /// The stage that got no answer.
        stage: Stage,
        /// The limit.
        after: Duration,
    },
    /// Something else went wrong: the name does not resolve, the certificate is not
    /// trusted, or what answered is not the service.
    Failed {
        /// Where.
        stage: Stage,
        /// What happened.
        reason: String,
    },
    /// The URL cannot be used for its service.
    BadUrl(String),
}

impl Outcome {
    /// Whether the service was reached.
    pub fn is_reachable(&self) -> bool {
        matches!(self, Self::Reachable { .. })
    }
}

/// One address and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetReport {
    /// The address.
    pub target: Target,
    /// How it went.
    pub outcome: Outcome,
}

/// The answer of [`check_network`], in the order of the targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkReport {
    /// Each address.
    pub targets: Vec<TargetReport>,
}

impl NetworkReport {
    /// The addresses that were not reached.
    pub fn blocked(&self) -> impl Iterator<Item = &TargetReport> {
        self.targets.iter().filter(|t| !t.outcome.is_reachable())
    }

    /// Whether `service` can be used: at least one of its addresses was reached (false
    /// when none was given).
    pub fn service_reachable(&self, service: Service) -> bool {
        self.targets
            .iter()
            .any(|t| t.target.service == service && t.outcome.is_reachable())
    }

    /// Whether every address was reached.
    pub fn all_reachable(&self) -> bool {
        self.blocked().next().is_none()
    }
}

/// Tries every target, in parallel, each within `options.timeout`.
pub async fn check_network(targets: &[Target], options: &NetworkCheckOptions) -> NetworkReport {
    let needs_tls = targets.iter().any(|t| {
        t.url.starts_with("wss:")
            || ServerUrl::parse(&t.url).is_ok_and(|u| u.scheme == Scheme::Turns)
    });
    let tls: TlsConfig = needs_tls.then(|| options.roots.client_config());
    let checks = targets.iter().map(|target| {
        let tls = &tls;
        async move {
            TargetReport {
                target: target.clone(),
                outcome: check_one(target, tls, options.timeout).await,
            }
        }
    });
    NetworkReport {
        targets: futures_util::future::join_all(checks).await,
    }
}

async fn check_one(target: &Target, tls: &TlsConfig, limit: Duration) -> Outcome {
    let mut stage = Stage::Resolve;
    let start = Instant::now();
    let outcome = match target.service {
        Service::Sip => bounded(limit, websocket(&target.url, Some("sip"), tls, &mut stage)).await,
        Service::AgentLink => bounded(limit, websocket(&target.url, None, tls, &mut stage)).await,
        Service::Turn => bounded(limit, turn(&target.url, tls, limit, &mut stage)).await,
    };
    match outcome {
        Some(Ok(())) => Outcome::Reachable {
            after: start.elapsed(),
        },
        Some(Err(outcome)) => outcome,
        None => Outcome::TimedOut {
            stage,
            after: limit,
        },
    }
}

/// `future`, or `None` when `limit` passes first.
async fn bounded<T>(limit: Duration, future: impl Future<Output = T>) -> Option<T> {
    tokio::time::timeout(limit, future).await.ok()
}

/// TCP, TLS for `wss://`, and the WebSocket upgrade; `stage` follows the progress so
/// that a timeout can say where it struck.
async fn websocket(
    url: &str,
    subprotocol: Option<&str>,
    tls: &TlsConfig,
    stage: &mut Stage,
) -> Result<(), Outcome> {
    let bad = |why: &str| Outcome::BadUrl(format!("{url}: {why}"));
    let uri: Uri = url.parse().map_err(|_| bad("not a URL"))?;
    let secure = match uri.scheme_str() {
        Some("wss") => true,
        Some("ws") => false,
        _ => return Err(bad("not a ws:// or wss:// URL")),
    };
    let host = uri.host().ok_or_else(|| bad("no host"))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let mut request = url.into_client_request().map_err(|e| bad(&e.to_string()))?;
    if let Some(protocol) = subprotocol {
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_str(protocol).map_err(|e| bad(&e.to_string()))?,
        );
    }

    *stage = Stage::Resolve;
    let address = tokio::net::lookup_host((host.as_str(), port))
        .await
        .ok()
        .and_then(|mut found| found.next())
        .ok_or_else(|| Outcome::Failed {
            stage: Stage::Resolve,
            reason: format!("{host} does not resolve"),
        })?;
    *stage = Stage::Connect;
    let tcp = TcpStream::connect(address)
        .await
        .map_err(|e| io_outcome(Stage::Connect, &e))?;
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn ByteStream> = if secure {
        *stage = Stage::Tls;
        let config = tls_config(tls)?;
        let name = tls::server_name(&host).map_err(|reason| Outcome::Failed {
            stage: Stage::Tls,
            reason,
        })?;
        let stream = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::ConnectionReset => {
                    io_outcome(Stage::Tls, &e)
                }
                _ => Outcome::Failed {
                    stage: Stage::Tls,
                    reason: e.to_string(),
                },
            })?;
        Box::new(stream)
    } else {
        Box::new(tcp)
    };
    *stage = Stage::Answer;
    let (socket, response) = tokio_tungstenite::client_async_with_config(request, stream, None)
        .await
        .map_err(|e| match e {
            tungstenite::Error::Io(e) => io_outcome(Stage::Answer, &e),
            tungstenite::Error::Http(response) => Outcome::Failed {
                stage: Stage::Answer,
                reason: format!(
                    "answered HTTP {} instead of a WebSocket upgrade",
                    response.status()
                ),
            },
            other => Outcome::Failed {
                stage: Stage::Answer,
                reason: other.to_string(),
            },
        })?;
    drop(socket);
    if let Some(protocol) = subprotocol {
        let granted = response
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok());
        if granted != Some(protocol) {
            return Err(Outcome::Failed {
                stage: Stage::Answer,
                reason: format!("the WebSocket server did not grant the {protocol:?} subprotocol"),
            });
        }
    }
    Ok(())
}

fn tls_config(tls: &TlsConfig) -> Result<Arc<rustls::ClientConfig>, Outcome> {
    match tls {
        Some(Ok(config)) => Ok(Arc::clone(config)),
        Some(Err(reason)) => Err(Outcome::Failed {
            stage: Stage::Tls,
            reason: reason.clone(),
        }),
        None => Err(Outcome::Failed {
            stage: Stage::Tls,
            reason: "no TLS configuration".into(),
        }),
    }
}

fn io_outcome(stage: Stage, e: &std::io::Error) -> Outcome {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => Outcome::Refused { stage },
        std::io::ErrorKind::TimedOut => Outcome::TimedOut {
            stage,
            after: Duration::ZERO,
        },
        _ => Outcome::Failed {
            stage,
            reason: e.to_string(),
        },
    }
}

/// A STUN Binding over the URL's transport; `stage` follows the progress.
async fn turn(
    url: &str,
    tls: &TlsConfig,
    limit: Duration,
    stage: &mut Stage,
) -> Result<(), Outcome> {
    let start = Instant::now();
    // Each step gets what is left of the limit, so that its own timeout (which names
    // the step) strikes before the outer one.
    let left = || limit.saturating_sub(start.elapsed());
    let parsed = ServerUrl::parse(url).map_err(|e| Outcome::BadUrl(e.to_string()))?;
    *stage = Stage::Resolve;
    let server = probe::resolve(&parsed, left())
        .await
        .map_err(|e| probe_outcome(e, Stage::Resolve))?;
    *stage = Stage::Connect;
    let mut connection = probe::Connection::open(&parsed, server, tls, left())
        .await
        .map_err(|e| probe_outcome(e, Stage::Connect))?;
    *stage = Stage::Answer;
    connection
        .binding(left())
        .await
        .map_err(|e| probe_outcome(e, Stage::Answer))
}

/// What a probe error at `stage` means for reachability.
fn probe_outcome(e: ProbeError, stage: Stage) -> Outcome {
    match e {
        ProbeError::Refused => Outcome::Refused { stage },
        ProbeError::Timeout { what, after } => Outcome::TimedOut {
            stage: match what {
                "name lookup" => Stage::Resolve,
                "TCP connect" => Stage::Connect,
                "TLS handshake" => Stage::Tls,
                _ => Stage::Answer,
            },
            after,
        },
        ProbeError::Resolve(reason) => Outcome::Failed {
            stage: Stage::Resolve,
            reason,
        },
        ProbeError::Tls(reason) => Outcome::Failed {
            stage: Stage::Tls,
            reason,
        },
        ProbeError::BadUrl(url) => Outcome::BadUrl(url),
        other => Outcome::Failed {
            stage,
            reason: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_urls_are_named() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let targets = [
            Target::sip("http://127.0.0.1/"),
            Target::agent_link("not a url"),
            Target::turn("turn:"),
            Target::sip("ws:///nohost"),
        ];
        let report = rt.block_on(check_network(&targets, &NetworkCheckOptions::default()));
        assert_eq!(report.targets.len(), 4);
        for t in &report.targets {
            assert!(matches!(t.outcome, Outcome::BadUrl(_)), "{t:?}");
        }
        assert!(!report.all_reachable());
        assert!(!report.service_reachable(Service::Sip));
        assert_eq!(report.blocked().count(), 4);
    }
}
