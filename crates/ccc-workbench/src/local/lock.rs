//! The exclusive lock that makes one process the registered workbench of an agent.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use super::client::{ControlClient, ControlError};
use super::dir::LocalDir;

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// Another process is the registered workbench of this agent on this machine. Ask it
    /// through `socket` ([`ControlClient`]), or take over with [`LocalLock::take_over`].
    #[error("agent {user_id} is already registered by process {pid} on this machine (control socket {socket})", pid = pid.map_or_else(|| "?".to_owned(), |p| p.to_string()))]
    Held {
        /// The agent.
        user_id: String,
        /// The holder's process id, as it wrote it in the lock file.
        pid: Option<u32>,
        /// The holder's control socket (there only if it serves C23).
        socket: PathBuf,
    },
    /// The holder did not let go in time.
    #[error("the registered workbench of agent {user_id} did not let go within {waited:?}")]
    TakeOverTimedOut {
        /// The agent.
        user_id: String,
        /// How long this process waited.
        waited: Duration,
    },
    /// The holder could not be asked to let go.
    #[error("asking the registered workbench to let go: {0}")]
    TakeOver(#[from] ControlError),
    /// The lock file could not be opened or written.
    #[error("lock file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
}

/// This process is the registered workbench of one agent on this machine, for as long as
/// the value lives: an exclusive `flock(2)` on the agent's lock file, released on drop
/// (and by the kernel if the process dies).
#[derive(Debug)]
pub struct LocalLock {
    _file: Flock<File>,
    lock_path: PathBuf,
    socket_path: PathBuf,
}

impl LocalLock {
    /// Takes the lock of `user_id` of `instance_id`, or says who holds it.
    pub fn acquire(dir: &LocalDir, instance_id: &str, user_id: &str) -> Result<Self, LockError> {
        let lock_path = dir.lock_path(instance_id, user_id);
        let socket_path = dir.socket_path(instance_id, user_id);
        let io_error = |source| LockError::Io {
            path: lock_path.clone(),
            source,
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&lock_path)
            .map_err(io_error)?;
        let mut file = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(locked) => locked,
            Err((mut file, Errno::EWOULDBLOCK)) => {
                return Err(LockError::Held {
                    user_id: user_id.to_owned(),
                    pid: read_pid(&mut file),
                    socket: socket_path,
                });
            }
            Err((_, errno)) => return Err(io_error(io::Error::from(errno))),
        };
        file.set_len(0).map_err(io_error)?;
        file.rewind().map_err(io_error)?;
        writeln!(file, "{}", std::process::id()).map_err(io_error)?;
        Ok(Self {
            _file: file,
            lock_path,
            socket_path,
        })
    }

    /// Takes the lock, asking the process that holds it to let go first (as a second
    /// sign-in kicks out the first in the browser). The holder must serve the control
    /// channel (C23); it shuts its workbench down and exits its lock. Waits at most
    /// `timeout`.
    pub async fn take_over(
        dir: &LocalDir,
        instance_id: &str,
        user_id: &str,
        timeout: Duration,
    ) -> Result<Self, LockError> {
        let socket = match Self::acquire(dir, instance_id, user_id) {
            Err(LockError::Held { socket, .. }) => socket,
            other => return other,
        };
        let started = tokio::time::Instant::now();
        let mut client = ControlClient::connect(&socket).await?;
        client.release().await?;
        loop {
            match Self::acquire(dir, instance_id, user_id) {
                Err(LockError::Held { .. }) if started.elapsed() < timeout => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err(LockError::Held { .. }) => {
                    return Err(LockError::TakeOverTimedOut {
                        user_id: user_id.to_owned(),
                        waited: started.elapsed(),
                    });
                }
                other => return other,
            }
        }
    }

    /// The lock file.
    pub fn lock_path(&self) -> &Path {
        &self.lock_path
    }

    /// Where this process serves the control channel when C23 is on.
    pub fn socket_path(&self) -> &Path {
        &self.socket_path
    }
}

/// The holder's pid from the lock file; `None` if it is not there (yet) or not a number.
fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.take(32).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}
