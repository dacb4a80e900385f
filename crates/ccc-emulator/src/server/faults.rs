//! Faults a test or a demo injects through the admin API.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

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

/// What happens to one agent's relayed media: the packets between its WebRTC sessions
/// and the embedded TURN servers (its allocations there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum MediaFault {
    /// Every allocation of the agent, those it holds now and any it makes later: each
    /// packet from it and each packet the server would send it is dropped. An ICE
    /// restart cannot get the path back.
    BlackHole,
    /// The allocations the agent holds at `since` only (the path of the call in
    /// progress broke); allocations made later work, so an ICE restart, which gathers
    /// a new one, gets the call's path back.
    Break {
        /// When the fault was put on.
        since: Instant,
    },
}

/// One agent's media fault, and how many packets it has dropped.
#[derive(Debug, Clone, Copy)]
struct MediaEntry {
    fault: MediaFault,
    dropped: u64,
}

/// The media faults in force, shared by the admin API and the embedded TURN servers
/// (which look at it for each packet of an agent's allocation).
#[derive(Debug, Default)]
pub(super) struct MediaFaults {
    inner: Mutex<MediaInner>,
}

#[derive(Debug, Default)]
struct MediaInner {
    /// By the agent's user id.
    agents: HashMap<String, MediaEntry>,
    /// The TURN names of the faulted agents (`GetTURNCredentials` makes its users of the
    /// name it is given: the login name, or the user id), to their user ids.
    names: HashMap<String, String>,
}

impl MediaFaults {
    /// Sets (or, with `None`, clears) the media fault of `user`, whose TURN users are
    /// made of `names`.
    pub(super) fn set(&self, user: &str, names: &[&str], fault: Option<MediaFault>) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.names.retain(|_, u| u != user);
        match fault {
            Some(fault) => {
                inner
                    .agents
                    .insert(user.to_owned(), MediaEntry { fault, dropped: 0 });
                for name in names {
                    inner.names.insert((*name).to_owned(), user.to_owned());
                }
            }
            None => {
                inner.agents.remove(user);
            }
        }
    }

    /// Whether a packet of the allocation made at `allocated` by the TURN user made of
    /// `name` is dropped (and counted).
    pub(super) fn drops(&self, name: &str, allocated: Instant) -> bool {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let MediaInner { agents, names } = &mut *inner;
        let Some(entry) = names.get(name).and_then(|user| agents.get_mut(user)) else {
            return false;
        };
        let drop = match entry.fault {
            MediaFault::BlackHole => true,
            MediaFault::Break { since } => allocated <= since,
        };
        if drop {
            entry.dropped += 1;
        }
        drop
    }

    /// Every media fault as JSON, for the admin API.
    pub(super) fn describe(&self) -> serde_json::Value {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner
            .agents
            .iter()
            .map(|(user, e)| {
                let action = match e.fault {
                    MediaFault::BlackHole => "black-hole",
                    MediaFault::Break { .. } => "break",
                };
                (
                    user.clone(),
                    serde_json::json!({ "action": action, "dropped_packets": e.dropped }),
                )
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    }
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

    #[test]
    fn a_break_takes_the_allocations_made_before_it_a_black_hole_all() {
        let media = MediaFaults::default();
        let before = Instant::now();
        assert!(!media.drops("a", before), "no fault, no drop");
        let since = before + Duration::from_millis(5);
        media.set("a", &["a", "al"], Some(MediaFault::Break { since }));
        assert!(
            media.drops("a", before),
            "an allocation of before the break"
        );
        assert!(media.drops("al", before), "by its login name");
        assert!(
            !media.drops("a", since + Duration::from_millis(1)),
            "a new one"
        );
        assert!(!media.drops("b", before), "another agent");
        assert_eq!(
            media.describe()["a"],
            serde_json::json!({"action": "break", "dropped_packets": 2})
        );
        media.set("a", &["a"], Some(MediaFault::BlackHole));
        assert!(!media.drops("al", before), "names are replaced");
        assert!(media.drops("a", since + Duration::from_secs(1)));
        assert_eq!(media.describe()["a"]["action"], "black-hole");
        media.set("a", &[], None);
        assert!(!media.drops("a", before));
        assert_eq!(media.describe(), serde_json::json!({}));
    }
}
