//! The registration: REGISTER, its challenges, refreshes and removal.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::config::{ALLOW, SUPPORTED, UaConfig};
use super::ids::Ids;
use super::{TIMER_F, UaEvent};
use crate::auth::{Challenge, DigestClient};
use crate::message::{Builder, KnownHeader, Message};

/// Why a registration failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationError {
    /// The registrar refused the user or password.
    #[error("the registrar refused the user or password (realm {realm:?})")]
    WrongCredentials {
        /// The realm of the challenge.
        realm: String,
    },
    /// The registrar's challenge cannot be answered.
    #[error("cannot answer the registrar's challenge: {0}")]
    BadChallenge(String),
    /// The registrar answered with another failure.
    #[error("the registrar answered {code} {reason}")]
    Rejected {
        /// Status code.
        code: u16,
        /// Reason phrase.
        reason: String,
    },
    /// No final answer within Timer F (32 s).
    #[error("the registrar did not answer within 32 s")]
    Timeout,
}

#[derive(Debug, Clone)]
enum State {
    Idle,
    Pending {
        branch: String,
        since: Instant,
        removing: bool,
    },
    Registered {
        refresh_at: Instant,
    },
}

/// One registration binding (one Call-ID, one From tag, rising CSeq, RFC 3261 10.2).
#[derive(Debug)]
pub(crate) struct Registration {
    call_id: String,
    from_tag: String,
    cseq: u32,
    wanted: bool,
    state: State,
    digest: DigestClient,
    challenge: Option<(Challenge, bool)>,
    /// Challenges answered since the last success; a second non-stale one means the
    /// password is wrong.
    answered: u8,
    asked_expires: u32,
    interval_too_brief: bool,
    /// Stale challenges answered in a row; a registrar that never stops sending them
    /// is given up on.
    stale_answered: u8,
    /// Transient failures in a row (no answer, 408, 480, 5xx), for the backoff.
    failures: u32,
    /// When a transiently failed registration is tried again.
    retry_at: Option<Instant>,
}

/// Stale challenges answered in a row before the registrar is given up on.
const MAX_STALE: u8 = 3;

/// RFC 5626 section 4.5: the first wait after a failure, doubling after each, and the
/// longest.
const RETRY_BASE: Duration = Duration::from_secs(30);
const RETRY_MAX: Duration = Duration::from_secs(1800);

impl Registration {
    pub(crate) fn new(config: &UaConfig, ids: &mut Ids) -> Self {
        Self {
            call_id: ids.token(24),
            from_tag: ids.token(10),
            cseq: 0,
            wanted: false,
            state: State::Idle,
            digest: DigestClient::new(config.auth_user(), config.password.clone()),
            challenge: None,
            answered: 0,
            asked_expires: config.expires,
            interval_too_brief: false,
            stale_answered: 0,
            failures: 0,
            retry_at: None,
        }
    }

    pub(crate) fn is_registered(&self) -> bool {
        matches!(self.state, State::Registered { .. })
    }

    pub(crate) fn wanted(&self) -> bool {
        self.wanted
    }

    pub(crate) fn want(&mut self, wanted: bool) {
        self.wanted = wanted;
    }

    /// The flow is gone: so is the binding. Whether there was one to lose.
    pub(crate) fn lose(&mut self) -> bool {
        let had = !matches!(self.state, State::Idle);
        self.state = State::Idle;
        self.challenge = None;
        // The flow's return registers at once.
        self.retry_at = None;
        had
    }

    pub(crate) fn forget(&mut self) {
        self.state = State::Idle;
        self.retry_at = None;
    }

    /// Sends a REGISTER unless one is in flight.
    pub(crate) fn start(
        &mut self,
        now: Instant,
        config: &UaConfig,
        ids: &mut Ids,
        out: &mut VecDeque<Vec<u8>>,
    ) {
        if matches!(self.state, State::Pending { .. }) {
            return;
        }
        self.retry_at = None;
        self.send(now, self.asked_expires, false, config, ids, out);
    }

    /// Sends the REGISTER that removes the binding.
    pub(crate) fn remove(
        &mut self,
        now: Instant,
        config: &UaConfig,
        ids: &mut Ids,
        out: &mut VecDeque<Vec<u8>>,
    ) {
        self.send(now, 0, true, config, ids, out);
    }

    fn send(
        &mut self,
        now: Instant,
        expires: u32,
        removing: bool,
        config: &UaConfig,
        ids: &mut Ids,
        out: &mut VecDeque<Vec<u8>>,
    ) {
        self.cseq += 1;
        let branch = ids.branch();
        let host = ids.host();
        let uri = format!("sip:{}", config.domain);
        let aor = format!("<{}>", config.aor());
        let mut b = Builder::request("REGISTER", &uri)
            .header(KnownHeader::Via, ids.via(&branch))
            .header(KnownHeader::MaxForwards, "70")
            .header(KnownHeader::To, aor.clone())
            .header(KnownHeader::From, format!("{aor};tag={}", self.from_tag))
            .header(KnownHeader::CallId, self.call_id.clone())
            .header(KnownHeader::CSeq, format!("{} REGISTER", self.cseq))
            .header(
                KnownHeader::Contact,
                format!(
                    "<sip:{}@{host};transport=ws>;+sip.instance=\"<{}>\";reg-id=1;expires={expires}",
                    config.user, config.instance
                ),
            )
            .header(KnownHeader::Expires, expires.to_string())
            .header(KnownHeader::Supported, SUPPORTED)
            .header(KnownHeader::Allow, ALLOW)
            .header(KnownHeader::UserAgent, config.user_agent.clone());
        if let Some((challenge, proxy)) = &self.challenge {
            // A fresh client nonce per request.
            let cnonce = ids.token(16);
            let answer = self.digest.authorize(challenge, "REGISTER", &uri, &cnonce);
            let name = if *proxy {
                KnownHeader::ProxyAuthorization
            } else {
                KnownHeader::Authorization
            };
            b = b.header(name, answer.header);
        }
        if let Ok(bytes) = b.build() {
            out.push_back(bytes);
        }
        self.state = State::Pending {
            branch,
            since: now,
            removing,
        };
    }

    /// A response; the event it leads to, if it is an answer to this registration.
    pub(crate) fn on_response(
        &mut self,
        now: Instant,
        response: &Message<'_>,
        config: &UaConfig,
        ids: &mut Ids,
        out: &mut VecDeque<Vec<u8>>,
    ) -> Option<UaEvent> {
        let State::Pending {
            branch, removing, ..
        } = &self.state
        else {
            return None;
        };
        let removing = *removing;
        let ours = response.via().ok().and_then(|v| v.branch()) == Some(branch.as_str())
            && response
                .cseq()
                .is_ok_and(|c| c.method == "REGISTER" && c.seq == self.cseq);
        let code = response.status()?;
        if !ours || code < 200 {
            return None;
        }
        let expires = if removing { 0 } else { self.asked_expires };
        match code {
            200..=299 => {
                self.answered = 0;
                self.stale_answered = 0;
                self.failures = 0;
                self.interval_too_brief = false;
                if removing {
                    self.state = State::Idle;
                    return Some(UaEvent::Unregistered);
                }
                let granted = granted_expires(response, ids.host())
                    .unwrap_or(expires)
                    .max(1);
                self.state = State::Registered {
                    refresh_at: now + refresh_after(granted),
                };
                Some(UaEvent::Registered { expires: granted })
            }
            401 | 407 => {
                let header = if code == 401 {
                    KnownHeader::WwwAuthenticate
                } else {
                    KnownHeader::ProxyAuthenticate
                };
                let challenge = match Challenge::select(response.headers_named(header)) {
                    Ok(challenge) => challenge,
                    Err(e) => {
                        return Some(self.fail(RegistrationError::BadChallenge(e.to_string())));
                    }
                };
                if !challenge.stale && self.answered >= 1 {
                    return Some(self.fail(RegistrationError::WrongCredentials {
                        realm: challenge.realm,
                    }));
                }
                if challenge.stale {
                    if self.stale_answered >= MAX_STALE {
                        return Some(self.fail(RegistrationError::BadChallenge(format!(
                            "{MAX_STALE} stale nonces in a row"
                        ))));
                    }
                    self.stale_answered += 1;
                } else {
                    self.answered += 1;
                    self.stale_answered = 0;
                }
                self.challenge = Some((challenge, code == 407));
                self.state = State::Idle;
                self.send(now, expires, removing, config, ids, out);
                None
            }
            423 if !removing && !self.interval_too_brief => {
                let minimum = response
                    .header(KnownHeader::MinExpires)
                    .and_then(|v| v.trim().parse::<u32>().ok());
                let Some(minimum) = minimum else {
                    return Some(self.fail(RegistrationError::Rejected {
                        code,
                        reason: "423 without Min-Expires".into(),
                    }));
                };
                self.interval_too_brief = true;
                self.asked_expires = self.asked_expires.max(minimum);
                self.state = State::Idle;
                self.send(now, self.asked_expires, false, config, ids, out);
                None
            }
            _ => {
                let reason = match response.start {
                    crate::message::StartLine::Response { reason, .. } => reason.to_owned(),
                    crate::message::StartLine::Request { .. } => String::new(),
                };
                let event = self.fail(RegistrationError::Rejected { code, reason });
                if matches!(code, 408 | 480 | 500..=599) {
                    let retry_after = response
                        .header(KnownHeader::RetryAfter)
                        .and_then(|v| v.split([';', '(']).next()?.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    self.retry_later(now, retry_after, ids);
                }
                Some(event)
            }
        }
    }

    /// A failure that ends this attempt: nothing is retried unless
    /// [`Registration::retry_later`] says so.
    fn fail(&mut self, error: RegistrationError) -> UaEvent {
        self.state = State::Idle;
        self.answered = 0;
        self.stale_answered = 0;
        self.challenge = None;
        UaEvent::RegistrationFailed(error)
    }

    /// After a transient failure, while the registration is wanted: try again after the
    /// registrar's `Retry-After`, else after 30 s doubling with each failure up to
    /// 30 minutes, less up to half at random (RFC 5626 section 4.5).
    fn retry_later(&mut self, now: Instant, retry_after: Option<Duration>, ids: &mut Ids) {
        if !self.wanted {
            return;
        }
        let wait = retry_after.unwrap_or_else(|| {
            let ceiling = RETRY_BASE
                .saturating_mul(1 << self.failures.min(6))
                .min(RETRY_MAX);
            let permille = u32::try_from(500 + ids.below(501)).unwrap_or(1000);
            ceiling * permille / 1000
        });
        self.failures = self.failures.saturating_add(1);
        self.retry_at = Some(now + wait.clamp(Duration::from_secs(1), RETRY_MAX));
    }

    pub(crate) fn on_timeout(
        &mut self,
        now: Instant,
        flow_up: bool,
        config: &UaConfig,
        ids: &mut Ids,
        out: &mut VecDeque<Vec<u8>>,
    ) -> Option<UaEvent> {
        match &self.state {
            State::Pending { since, .. } if *since + TIMER_F <= now => {
                let event = self.fail(RegistrationError::Timeout);
                self.retry_later(now, None, ids);
                Some(event)
            }
            State::Idle if self.retry_at.is_some_and(|at| at <= now) => {
                self.retry_at = None;
                if self.wanted && flow_up {
                    self.send(now, self.asked_expires, false, config, ids, out);
                }
                None
            }
            State::Registered { refresh_at } if *refresh_at <= now && self.wanted && flow_up => {
                self.send(now, self.asked_expires, false, config, ids, out);
                None
            }
            _ => None,
        }
    }

    pub(crate) fn timeout(&self) -> Option<Instant> {
        match &self.state {
            State::Idle => self.retry_at.filter(|_| self.wanted),
            State::Pending { since, .. } => Some(*since + TIMER_F),
            State::Registered { refresh_at } => self.wanted.then_some(*refresh_at),
        }
    }
}

/// Refresh before the binding expires: at 90 %, and at least 5 s early.
fn refresh_after(expires: u32) -> Duration {
    let early = (expires / 10).max(5);
    Duration::from_secs(u64::from(expires.saturating_sub(early).max(1)))
}

/// What the registrar granted our contact: its `expires` parameter, else `Expires`.
fn granted_expires(response: &Message<'_>, host: &str) -> Option<u32> {
    let ours = response
        .contacts()
        .filter_map(Result::ok)
        .find(|c| c.uri.contains(host));
    ours.and_then(|c| c.params.value("expires"))
        .or_else(|| response.header(KnownHeader::Expires))
        .and_then(|v| v.trim().parse().ok())
}
