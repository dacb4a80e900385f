//! The tokio shell around the sans-IO platform: one lock, the platform's timers on a
//! task, and the platform's outputs carried to the links.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, watch};

use super::faults::Faults;
use super::hub::{Hub, LinkFrame};
use crate::api::{Gateway, Store, TurnAccess, Urls};
use crate::platform::{Output, Platform};
use crate::token::Tokens;

/// The WebSocket close code of a platform sign-out (its reason is the guide's code,
/// `KA_register`, ...). In the range RFC 6455 leaves to applications.
pub const CLOSE_SIGNED_OUT: u16 = 4001;

/// Everything behind the lock.
#[derive(Debug)]
pub(super) struct State {
    /// The call center.
    pub platform: Platform,
    /// Keys and nonces of signed requests.
    pub gateway: Gateway,
    /// The API's own records.
    pub store: Store,
    /// Injected faults.
    pub faults: Faults,
    /// Answers so far (for request ids).
    pub answers: u64,
}

/// The shared core of a running emulator.
#[derive(Debug)]
pub(super) struct Engine {
    state: Mutex<State>,
    wake: Notify,
    /// The agent-link connections.
    pub hub: Hub,
    /// Login tokens and download links.
    pub tokens: Tokens,
    /// The emulator's addresses.
    pub urls: Urls,
    /// TURN access points.
    pub turn: Vec<TurnAccess>,
    /// Seed of request ids.
    pub seed: u64,
    /// Where recordings are written.
    pub recordings: std::path::PathBuf,
    epoch: Instant,
    epoch_ms: i64,
}

impl Engine {
    /// An engine around `state`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        state: State,
        tokens: Tokens,
        urls: Urls,
        turn: Vec<TurnAccess>,
        seed: u64,
        recordings: std::path::PathBuf,
        epoch: Instant,
        epoch_ms: i64,
    ) -> Self {
        Self {
            state: Mutex::new(state),
            wake: Notify::new(),
            hub: Hub::default(),
            tokens,
            urls,
            turn,
            seed,
            recordings,
            epoch,
            epoch_ms,
        }
    }

    /// Wall-clock milliseconds now.
    pub(super) fn now_ms(&self) -> i64 {
        let since = Instant::now()
            .saturating_duration_since(self.epoch)
            .as_millis();
        self.epoch_ms
            .saturating_add(i64::try_from(since).unwrap_or(i64::MAX))
    }

    /// Runs `f` on the state, then carries the platform's outputs to the links while
    /// still holding the lock (so every agent's snapshots leave in order).
    pub(super) fn run<R>(&self, f: impl FnOnce(&mut State, Instant) -> R) -> R {
        let result = self.locked(f);
        // A new timer may now be due sooner than the one the timer task sleeps for.
        self.wake.notify_one();
        result
    }

    fn locked<R>(&self, f: impl FnOnce(&mut State, Instant) -> R) -> R {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let result = f(&mut state, Instant::now());
        while let Some(output) = state.platform.poll_output() {
            self.deliver(output);
        }
        result
    }

    fn deliver(&self, output: Output) {
        match output {
            Output::Snapshot { user_id, snapshot } => {
                self.hub
                    .send(&user_id, None, &LinkFrame::Snapshot(snapshot), false);
            }
            Output::SignedOut {
                user_id,
                device,
                reason,
            } => {
                let frame = LinkFrame::Close {
                    code: CLOSE_SIGNED_OUT,
                    reason: reason.code().to_owned(),
                };
                self.hub.send(&user_id, device.as_deref(), &frame, true);
            }
            // SIP and media legs are carried by their own shells.
            _ => {}
        }
    }

    /// Fires the platform's timers until `shutdown` says stop.
    pub(super) async fn timers(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        loop {
            let next = self.locked(|s, _| s.platform.poll_timeout());
            let sleep = match next {
                Some(at) => tokio::time::sleep_until(at.into()),
                None => tokio::time::sleep(Duration::from_secs(3_600)),
            };
            tokio::select! {
                () = sleep => self.locked(|s, now| s.platform.handle_timeout(now)),
                () = self.wake.notified() => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}
