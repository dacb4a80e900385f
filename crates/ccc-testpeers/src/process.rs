//! A started peer process, stopped with its whole process group when dropped.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::PeerError;

/// A running peer. Its output goes to a log file; dropping it stops it (SIGTERM to its
/// process group, then SIGKILL after two seconds) and waits for it.
#[derive(Debug)]
pub struct PeerProcess {
    program: &'static str,
    child: Option<Child>,
    log: PathBuf,
}

impl PeerProcess {
    /// Starts `command` in its own process group, its stdout and stderr to `log`.
    pub fn spawn(
        program: &'static str,
        mut command: Command,
        log: &Path,
    ) -> Result<Self, PeerError> {
        use std::os::unix::process::CommandExt;
        let out =
            File::create(log).map_err(|e| PeerError::io(format!("create {}", log.display()), e))?;
        let err = out
            .try_clone()
            .map_err(|e| PeerError::io("clone the log file", e))?;
        command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let child = command
            .spawn()
            .map_err(|e| PeerError::io(format!("start {program}"), e))?;
        Ok(Self {
            program,
            child: Some(child),
            log: log.to_owned(),
        })
    }

    /// The process id (also its process group id).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether it still runs.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// How it exited, if it did.
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// The last `max` bytes of its log.
    pub fn log_tail(&self, max: usize) -> String {
        let text = std::fs::read(&self.log).unwrap_or_default();
        let start = text.len().saturating_sub(max);
        String::from_utf8_lossy(&text[start..]).into_owned()
    }

    /// A [`PeerError::NotReady`] with the log attached.
    pub fn not_ready(&self, reason: impl Into<String>) -> PeerError {
        PeerError::NotReady {
            program: self.program,
            reason: reason.into(),
            log: self.log_tail(4000),
        }
    }

    /// Stops the process group and waits for it (bounded): the main process first
    /// (SIGTERM, then SIGKILL after two seconds), then every process left in the group.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let Ok(pid) = i32::try_from(child.id()) else {
            return;
        };
        let group = Pid::from_raw(pid);
        let _ = killpg(group, Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline && !matches!(child.try_wait(), Ok(Some(_))) {
            std::thread::sleep(Duration::from_millis(20));
        }
        // Forking servers leave workers behind for a moment: no one may keep a port.
        let _ = killpg(group, Signal::SIGKILL);
        let _ = child.wait();
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline && group_has_live_members(pid) {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Whether a process of group `pgid` still runs (zombies do not count: they hold no
/// sockets any more, and only their new parent can reap them).
fn group_has_live_members(pgid: i32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.filter_map(Result::ok).any(|entry| {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            return false;
        };
        // After the command name: state, ppid, pgrp.
        let mut fields = stat.rsplit(')').next().unwrap_or("").split_whitespace();
        let state = fields.next();
        let pgrp = fields.nth(1).and_then(|f| f.parse::<i32>().ok());
        pgrp == Some(pgid) && state != Some("Z") && state != Some("X")
    })
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
