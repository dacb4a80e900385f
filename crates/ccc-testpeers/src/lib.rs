//! The independent peers the SIP and media tests run against, started for real on
//! 127.0.0.1 ports: Kamailio (registrar and proxy with WebSocket and TLS), SIPp
//! (scripted SIP endpoints) and coturn (TURN relay). Installed from Debian's packages by
//! `scripts/install-test-deps`.
//!
//! Rules of the harness:
//! - only 127.0.0.1; ports are picked free at start;
//! - every wait is bounded;
//! - every process started is stopped by its process group when its guard drops;
//! - in CI (`CI=true`) a missing peer fails the test; elsewhere the test is skipped
//!   with a loud message ([`require`]).

mod coturn;
mod kamailio;
mod ports;
mod process;
mod sipp;
mod tls;

pub use coturn::{Coturn, TurnAuth, stun_binding, stun_request};
pub use kamailio::{Kamailio, KamailioConfig, SipUser};
pub use ports::{free_tcp_port, free_udp_port};
pub use process::PeerProcess;
pub use sipp::{Sipp, SippRun, scenario_path};
pub use tls::TestCa;

use std::path::PathBuf;

/// Why a peer could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PeerError {
    /// The program is not installed.
    #[error("{0} is not installed (scripts/install-test-deps installs it)")]
    Missing(&'static str),
    /// Starting or talking to the program failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// The program did not get ready in time, or exited; its log is attached.
    #[error("{program} did not start: {reason}\n--- its log ---\n{log}")]
    NotReady {
        /// The program.
        program: &'static str,
        /// What was seen.
        reason: String,
        /// The end of its log.
        log: String,
    },
    /// A value cannot be written into the peer's configuration.
    #[error("invalid test configuration: {0}")]
    Config(String),
    /// Making the test certificates failed.
    #[error("test certificates: {0}")]
    Certificate(#[from] rcgen::Error),
}

impl PeerError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            what: what.into(),
            source,
        }
    }
}

/// Whether the tests run in CI, where a missing peer is a failure.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The path of `program`, or `None` (with a loud message) when it is not installed and
/// the tests do not run in CI. In CI a missing program panics: the test must fail.
pub fn require(program: &'static str) -> Option<PathBuf> {
    if let Some(path) = find_program(program) {
        return Some(path);
    }
    let message = format!(
        "\n!!!!! {program} is not installed: this test needs it. Run scripts/install-test-deps (as root). !!!!!\n"
    );
    assert!(!in_ci(), "{message}");
    eprintln!("{message}SKIPPED");
    None
}

fn find_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
