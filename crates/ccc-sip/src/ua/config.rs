//! Who the user agent is and how it registers.

use std::fmt;
use std::time::Duration;

/// The methods this user agent allows.
pub(crate) const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY, REFER, UPDATE";
/// The extensions it supports.
pub(crate) const SUPPORTED: &str = "path, outbound, replaces, timer";

/// Who the user agent is. `Debug` hides the password.
#[derive(Clone)]
pub struct UaConfig {
    /// The SIP user (the agent's extension).
    pub user: String,
    /// The digest password.
    pub password: String,
    /// The SIP domain (the registrar's realm usually).
    pub domain: String,
    /// The digest user, when it differs from `user`.
    pub auth_user: Option<String>,
    /// How long to register for, in seconds (default 600).
    pub expires: u32,
    /// The `+sip.instance` URN (RFC 5626): stable for this device, `urn:uuid:...`.
    pub instance: String,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// The shortest session interval accepted when the other side asks for a session
    /// timer (RFC 4028 `Min-SE`, default 90 s); a shorter one gets 422.
    pub min_session_expires: u32,
    /// How long an established call outlives its flow (RFC 5626 flow recovery): the
    /// dialog is kept for this long after the flow drops, then moved to the next flow
    /// by a re-INVITE once it is registered; with no flow by then the call ends with
    /// [`EndReason::FlowLost`](crate::ua::EndReason::FlowLost). Default 32 s (64 x T1,
    /// the scale of RFC 3261's transaction timers); zero ends the calls with the flow.
    pub flow_grace: Duration,
}

impl fmt::Debug for UaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UaConfig")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("domain", &self.domain)
            .field("auth_user", &self.auth_user)
            .field("expires", &self.expires)
            .field("instance", &self.instance)
            .field("min_session_expires", &self.min_session_expires)
            .field("flow_grace", &self.flow_grace)
            .finish_non_exhaustive()
    }
}

impl UaConfig {
    /// `user@domain` with `password`, registering for 600 s, with an instance URN.
    pub fn new(
        user: impl Into<String>,
        password: impl Into<String>,
        domain: impl Into<String>,
        instance: impl Into<String>,
    ) -> Self {
        Self {
            user: user.into(),
            password: password.into(),
            domain: domain.into(),
            auth_user: None,
            expires: 600,
            instance: instance.into(),
            user_agent: concat!("ccc-rs/", env!("CARGO_PKG_VERSION")).to_owned(),
            min_session_expires: 90,
            flow_grace: Duration::from_secs(32),
        }
    }

    /// The address of record, `sip:user@domain`.
    pub fn aor(&self) -> String {
        format!("sip:{}@{}", self.user, self.domain)
    }

    pub(crate) fn auth_user(&self) -> &str {
        self.auth_user.as_deref().unwrap_or(&self.user)
    }
}
