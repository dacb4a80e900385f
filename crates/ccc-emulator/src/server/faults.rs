//! Faults a test or a demo injects through the admin API.

use std::collections::HashMap;
use std::time::Duration;

use crate::platform::PlatformError;

/// What happens to one agent's link (the agent link, or the SIP link).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinkFault {
    /// Every frame to the agent waits this long first.
    pub delay: Duration,
    /// Frames to the agent are dropped and nothing from it is read; the connection
    /// stays open, silent (the client's keep-alive must notice).
    pub black_hole: bool,
}

/// The next calls of an action fail with an error.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ErrorPlan {
    remaining: u32,
    error: PlatformError,
}

/// Every fault in force.
#[derive(Debug, Default)]
pub(super) struct Faults {
    agent_link: HashMap<String, LinkFault>,
    sip: HashMap<String, LinkFault>,
    errors: HashMap<String, ErrorPlan>,
    /// Agent-link WebSocket handshakes wait this long (the client's `WSConnectSlowly`).
    pub handshake_delay: Duration,
}

/// Which link a fault concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// The agent link.
    AgentLink,
    /// The SIP link.
    Sip,
}

impl Faults {
    fn map(&mut self, kind: LinkKind) -> &mut HashMap<String, LinkFault> {
        match kind {
            LinkKind::AgentLink => &mut self.agent_link,
            LinkKind::Sip => &mut self.sip,
        }
    }

    /// The fault on the agent's link of `kind`.
    pub(super) fn link(&self, kind: LinkKind, user: &str) -> LinkFault {
        let map = match kind {
            LinkKind::AgentLink => &self.agent_link,
            LinkKind::Sip => &self.sip,
        };
        map.get(user).copied().unwrap_or_default()
    }

    /// Sets (or, with the default, clears) the fault on the agent's link of `kind`.
    pub(super) fn set_link(&mut self, kind: LinkKind, user: &str, fault: LinkFault) {
        if fault == LinkFault::default() {
            self.map(kind).remove(user);
        } else {
            self.map(kind).insert(user.to_owned(), fault);
        }
    }

    /// The next `count` calls of `action` fail with `error`.
    pub(super) fn fail_next(&mut self, action: &str, count: u32, error: PlatformError) {
        if count == 0 {
            self.errors.remove(action);
        } else {
            self.errors.insert(
                action.to_owned(),
                ErrorPlan {
                    remaining: count,
                    error,
                },
            );
        }
    }

    /// The error this call of `action` must fail with, if a plan says so.
    pub(super) fn take_error(&mut self, action: &str) -> Option<PlatformError> {
        let plan = self.errors.get_mut(action)?;
        plan.remaining -= 1;
        let error = plan.error.clone();
        if plan.remaining == 0 {
            self.errors.remove(action);
        }
        Some(error)
    }

    /// Every fault as JSON, for the admin API.
    pub(super) fn describe(&self) -> serde_json::Value {
        let links = |map: &HashMap<String, LinkFault>| {
            map.iter()
                .map(|(user, f)| {
                    (
                        user.clone(),
                        serde_json::json!({
                            "delay_ms": f.delay.as_millis() as u64,
                            "black_hole": f.black_hole,
                        }),
                    )
                })
                .collect::<serde_json::Map<_, _>>()
        };
        let errors: serde_json::Map<_, _> = self
            .errors
            .iter()
            .map(|(action, plan)| {
                (
                    action.clone(),
                    serde_json::json!({
                        "remaining": plan.remaining,
                        "code": plan.error.code,
                        "http_status": plan.error.http_status,
                    }),
                )
            })
            .collect();
        serde_json::json!({
            "agent_link": links(&self.agent_link),
            "sip": links(&self.sip),
            "next_errors": errors,
            "handshake_delay_ms": self.handshake_delay.as_millis() as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_plans_run_out() {
        let mut f = Faults::default();
        f.fail_next(
            "MakeCall",
            2,
            PlatformError::new(503, "ServiceUnavailable", "x"),
        );
        assert!(f.take_error("AnswerCall").is_none());
        assert_eq!(f.take_error("MakeCall").unwrap().http_status, 503);
        assert!(f.take_error("MakeCall").is_some());
        assert!(f.take_error("MakeCall").is_none());
        f.set_link(
            LinkKind::AgentLink,
            "a",
            LinkFault {
                black_hole: true,
                ..LinkFault::default()
            },
        );
        assert!(f.link(LinkKind::AgentLink, "a").black_hole);
        assert!(!f.link(LinkKind::Sip, "a").black_hole);
        f.set_link(LinkKind::AgentLink, "a", LinkFault::default());
        assert_eq!(f.describe()["agent_link"], serde_json::json!({}));
    }
}
