//! SIPp, the scripted SIP endpoint, playing the other side of a test.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use crate::ports::free_udp_port;
use crate::{PeerError, PeerProcess, require};

/// The path of a scenario shipped in this crate's `scenarios/` directory.
pub fn scenario_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

/// A SIPp instance, in the background until [`Sipp::wait`].
#[derive(Debug)]
pub struct Sipp {
    process: PeerProcess,
    dir: tempfile::TempDir,
    port: u16,
}

/// How a SIPp run ended.
#[derive(Debug)]
pub struct SippRun {
    /// SIPp's exit status: 0 when every call of the scenario succeeded.
    pub status: Option<ExitStatus>,
    /// Whether it had to be stopped because it ran past its time.
    pub timed_out: bool,
    /// The SIP messages it sent and received.
    pub messages: String,
    /// Its own output and error log.
    pub log: String,
}

impl SippRun {
    /// Whether every call of the scenario succeeded.
    pub fn succeeded(&self) -> bool {
        !self.timed_out && self.status.is_some_and(|s| s.success())
    }
}

impl Sipp {
    /// Starts SIPp with `scenario` on a free UDP port of 127.0.0.1, sending to `remote`
    /// (for a UAC; a UAS may pass any address it will not use). `args` are more SIPp
    /// options (`-s`, `-au`, `-ap`, `-m`, ...). Returns `None` when SIPp is not installed
    /// outside CI.
    pub fn start(
        scenario: &Path,
        remote: SocketAddr,
        args: &[&str],
    ) -> Result<Option<Self>, PeerError> {
        if require("sipp").is_none() {
            return Ok(None);
        }
        let dir = tempfile::Builder::new()
            .prefix("ccc-sipp-")
            .tempdir()
            .map_err(|e| PeerError::io("make a directory for SIPp", e))?;
        let port = free_udp_port()?;
        let mut command = Command::new("sipp");
        command
            .arg(remote.to_string())
            .arg("-sf")
            .arg(scenario)
            .args([
                "-i",
                "127.0.0.1",
                "-mi",
                "127.0.0.1",
                "-bind_local",
                "-nostdin",
            ])
            .args(["-p", &port.to_string()])
            .args(["-timeout", "30s", "-timeout_error"])
            .arg("-trace_msg")
            .arg("-message_file")
            .arg(dir.path().join("messages.log"))
            .arg("-trace_err")
            .arg("-error_file")
            .arg(dir.path().join("errors.log"))
            .args(args)
            .current_dir(dir.path());
        let process = PeerProcess::spawn("sipp", command, &dir.path().join("sipp.log"))?;
        Ok(Some(Self { process, dir, port }))
    }

    /// The address SIPp listens on.
    pub fn addr(&self) -> SocketAddr {
        (Ipv4Addr::LOCALHOST, self.port).into()
    }

    /// Waits for SIPp to finish, at most `limit`; stops it after that.
    pub fn wait(mut self, limit: Duration) -> SippRun {
        let deadline = Instant::now() + limit;
        let mut timed_out = false;
        while self.process.is_running() {
            if Instant::now() > deadline {
                timed_out = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let status = self.process.exit_status();
        self.process.stop();
        let read =
            |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        SippRun {
            status,
            timed_out,
            messages: read("messages.log"),
            log: format!("{}{}", self.process.log_tail(6000), read("errors.log")),
        }
    }
}
