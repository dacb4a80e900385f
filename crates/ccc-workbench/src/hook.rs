//! H25 `onBeforeCallDialing`: the integrator's say before `call` dials.
//!
//! In the browser the hook gets `{callee, userName, callback}` and the call goes on only
//! when it invokes `callback(callee?)`, optionally with a prefixed callee. Here the hook
//! is an async function returning a [`Dial`] decision; one that does not answer within
//! its timeout fails the call with [`Error::HookTimedOut`],
//! so a forgotten callback never leaves `call` hanging.
//!
//! ```
//! use ccc_workbench::hook::{BeforeCallDialing, Dial};
//!
//! async fn only_local_numbers(payload: BeforeCallDialing) -> Dial {
//!     if payload.callee.starts_with('0') {
//!         Dial::Proceed
//!     } else {
//!         // The guide's example use: a trunk prefix in front of the callee.
//!         Dial::ProceedWith(format!("9{}", payload.callee))
//!     }
//! }
//! # let _ = only_local_numbers;
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;

/// What H25 receives: `payload{callee, userName}`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BeforeCallDialing {
    /// The number `call` was asked to dial (after `onBeforeCallDialing` nothing else
    /// rewrites it).
    pub callee: String,
    /// The agent's user name (`UserName` of the login info; the guide's `userName`).
    pub user_name: String,
}

/// The hook's answer: the guide's `callback()`, `callback(callee)`, or no callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dial {
    /// `callback()`: dial the callee as given.
    Proceed,
    /// `callback(callee)`: dial this callee instead (a prefix and the number).
    ProceedWith(String),
    /// Do not dial: `call` fails with [`Error::DialDeclined`].
    Decline,
}

type HookFn = dyn Fn(BeforeCallDialing) -> Pin<Box<dyn Future<Output = Dial> + Send>> + Send + Sync;

/// An installed H25 hook and how long it may take.
#[derive(Clone)]
pub(crate) struct BeforeDialHook {
    f: Arc<HookFn>,
    timeout: Duration,
}

impl fmt::Debug for BeforeDialHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BeforeDialHook")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl BeforeDialHook {
    pub(crate) fn new<F, Fut>(f: F, timeout: Duration) -> Self
    where
        F: Fn(BeforeCallDialing) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Dial> + Send + 'static,
    {
        Self {
            f: Arc::new(move |payload| Box::pin(f(payload))),
            timeout,
        }
    }

    /// Asks the hook; the callee to dial, or why not.
    pub(crate) async fn ask(&self, payload: BeforeCallDialing) -> Result<String, Error> {
        let callee = payload.callee.clone();
        match tokio::time::timeout(self.timeout, (self.f)(payload)).await {
            Ok(Dial::Proceed) => Ok(callee),
            Ok(Dial::ProceedWith(rewritten)) => Ok(rewritten),
            Ok(Dial::Decline) => Err(Error::DialDeclined),
            Err(_) => Err(Error::HookTimedOut(self.timeout)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(callee: &str) -> BeforeCallDialing {
        BeforeCallDialing {
            callee: callee.into(),
            user_name: "alice".into(),
        }
    }

    #[tokio::test]
    async fn the_hook_decides_and_may_prefix() {
        let hook = BeforeDialHook::new(
            |p: BeforeCallDialing| async move {
                match p.callee.as_str() {
                    "1" => Dial::Proceed,
                    "2" => Dial::ProceedWith(format!("9{}", p.callee)),
                    _ => Dial::Decline,
                }
            },
            Duration::from_secs(1),
        );
        assert_eq!(hook.ask(payload("1")).await.unwrap(), "1");
        assert_eq!(hook.ask(payload("2")).await.unwrap(), "92");
        assert!(matches!(
            hook.ask(payload("3")).await,
            Err(Error::DialDeclined)
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_hook_that_never_answers_times_out() {
        let hook = BeforeDialHook::new(
            |_p: BeforeCallDialing| std::future::pending::<Dial>(),
            Duration::from_secs(5),
        );
        let err = hook.ask(payload("1")).await.unwrap_err();
        assert!(matches!(err, Error::HookTimedOut(d) if d == Duration::from_secs(5)));
        assert!(err.to_string().contains("onBeforeCallDialing"));
    }
}
