//! The agent-link connections of each agent, and what goes to them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use ccc_core::model::AgentSnapshot;
use tokio::sync::mpsc;

/// Frames queued for one connection before it counts as too slow and is dropped.
pub const CONNECTION_QUEUE: usize = 256;

/// What a connection task is told to do.
#[derive(Debug, Clone)]
pub(super) enum LinkFrame {
    /// Send this snapshot.
    Snapshot(Arc<AgentSnapshot>),
    /// Close with this WebSocket close code and reason (a sign-out: `KA_register`).
    Close {
        /// The close code.
        code: u16,
        /// The reason (a sign-out code of the guide).
        reason: String,
    },
    /// Drop the TCP connection without a close frame (an injected link failure).
    Drop,
}

struct Conn {
    id: u64,
    device: Option<String>,
    tx: mpsc::Sender<LinkFrame>,
}

/// Every agent's live connections.
#[derive(Default)]
pub(super) struct Hub {
    inner: Mutex<HashMap<String, Vec<Conn>>>,
    next: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("agents", &self.lock().len())
            .finish()
    }
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Conn>>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a connection of `user` from `device`; returns its id and receiver.
    pub(super) fn join(
        &self,
        user: &str,
        device: Option<String>,
    ) -> (u64, mpsc::Receiver<LinkFrame>) {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(CONNECTION_QUEUE);
        self.lock()
            .entry(user.to_owned())
            .or_default()
            .push(Conn { id, device, tx });
        (id, rx)
    }

    /// Forgets a connection.
    pub(super) fn leave(&self, user: &str, id: u64) {
        let mut map = self.lock();
        if let Some(list) = map.get_mut(user) {
            list.retain(|c| c.id != id);
            if list.is_empty() {
                map.remove(user);
            }
        }
    }

    /// Queues `frame` for the agent's connections (of `device` only, when given);
    /// a connection whose queue is full is dropped (the client resynchronizes when it
    /// reconnects). With `remove`, the connections are forgotten after.
    pub(super) fn send(&self, user: &str, device: Option<&str>, frame: &LinkFrame, remove: bool) {
        let mut map = self.lock();
        let Some(list) = map.get_mut(user) else {
            return;
        };
        list.retain(|c| {
            let matches = device.is_none_or(|d| c.device.as_deref() == Some(d));
            if !matches {
                return true;
            }
            c.tx.try_send(frame.clone()).is_ok() && !remove
        });
        if list.is_empty() {
            map.remove(user);
        }
    }

    /// How many connections the agent has.
    pub(super) fn count(&self, user: &str) -> usize {
        self.lock().get(user).map_or(0, Vec::len)
    }
}
