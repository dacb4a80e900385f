//! The sans-IO user agent: registration (RFC 3261 section 10 over a WebSocket flow, with
//! the RFC 7118 and RFC 5626 details), digest authentication, incoming calls (ring,
//! answer, reject, CANCEL, BYE both ways, INFO, re-INVITE), and the answers a user agent
//! owes any request it does not handle.
//!
//! In the manner of quinn-proto: feed it with [`UserAgent::handle_message`],
//! [`UserAgent::handle_flow`] and [`UserAgent::handle_timeout`], drive it with
//! [`UserAgent::register`] and [`UserAgent::unregister`], then drain
//! [`UserAgent::poll_transmit`] (messages to send on the flow), [`UserAgent::poll_event`]
//! and [`UserAgent::poll_timeout`]. No I/O, no clock, no locks inside: every rule is tested
//! with simulated time.

mod call;
mod config;
mod ids;
mod register;

pub(crate) use call::NewCall;
pub use call::{CallHandle, EndReason};
pub use config::UaConfig;
pub use register::RegistrationError;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::message::{Builder, KnownHeader, Message, parse, split_list};
use call::{Calls, Ctx, Handled};
use ids::Ids;
use register::Registration;

/// How long a non-INVITE client transaction waits for its final response (Timer F =
/// 64 x T1 = 32 s; on a reliable flow no retransmission happens before it).
pub const TIMER_F: Duration = Duration::from_secs(32);

/// What the user agent reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UaEvent {
    /// Registered (or refreshed) for `expires` seconds.
    Registered {
        /// What the registrar granted.
        expires: u32,
    },
    /// The registration failed. While it is wanted, a transient failure (no answer
    /// within Timer F, 408, 480, 5xx) is tried again by itself, after the registrar's
    /// `Retry-After` or after 30 s doubling with each failure up to 30 minutes (RFC 5626
    /// section 4.5), and at once when the flow comes back; a refusal (credentials,
    /// 403, 404, a challenge it cannot answer) is not.
    RegistrationFailed(RegistrationError),
    /// Unregistered (an answer to [`UserAgent::unregister`]).
    Unregistered,
    /// The registration was lost with the flow; it is renewed when the flow is back.
    RegistrationLost,
    /// A message could not be read; it was dropped (or answered with 400).
    Malformed(String),
    /// A call arrives: answer it with [`UserAgent::answer`] (after
    /// [`UserAgent::ringing`]), or refuse it with [`UserAgent::reject`].
    IncomingCall {
        /// The call.
        call: CallHandle,
        /// The `From` header, as written.
        from: String,
        /// The `To` header, as written.
        to: String,
        /// The SDP offer (empty when the caller offers none).
        sdp: Vec<u8>,
        /// The call this one replaces (an INVITE with `Replaces`, RFC 3891: the end of
        /// an attended transfer). Answer it as the same conversation; the replaced call
        /// ends with [`EndReason::Replaced`] once this one is up.
        replaces: Option<CallHandle>,
    },
    /// The caller acknowledged the answer: the call is up.
    CallEstablished {
        /// The call.
        call: CallHandle,
    },
    /// The other side changed the session (a re-INVITE: hold, unhold, new media);
    /// answer with [`UserAgent::answer`] or refuse with [`UserAgent::reject`].
    CallUpdate {
        /// The call.
        call: CallHandle,
        /// The new SDP offer.
        sdp: Vec<u8>,
    },
    /// An INFO arrived in a call (DTMF as `application/dtmf-relay`, ...).
    Info {
        /// The call.
        call: CallHandle,
        /// Its content type.
        content_type: String,
        /// Its body.
        body: Vec<u8>,
    },
    /// This side's call progresses (180 Ringing, 183 Session Progress with early media).
    CallProgress {
        /// The call.
        call: CallHandle,
        /// The provisional status.
        code: u16,
        /// Early-media SDP, if the answer carried one.
        sdp: Vec<u8>,
    },
    /// This side's call was answered, with the other side's SDP answer.
    CallAnswered {
        /// The call.
        call: CallHandle,
        /// The SDP answer.
        sdp: Vec<u8>,
    },
    /// This side's re-INVITE was accepted with this SDP answer.
    CallUpdated {
        /// The call.
        call: CallHandle,
        /// The SDP answer.
        sdp: Vec<u8>,
    },
    /// This side's re-INVITE was refused (491 on glare, ...); the session is unchanged.
    CallUpdateFailed {
        /// The call.
        call: CallHandle,
        /// The status.
        code: u16,
    },
    /// The other party accepted this side's REFER (202).
    TransferAccepted {
        /// The call.
        call: CallHandle,
    },
    /// The other party refused this side's REFER.
    TransferFailed {
        /// The call.
        call: CallHandle,
        /// The status.
        code: u16,
    },
    /// The other party asks this side to call `target` instead (an incoming REFER):
    /// follow it with [`UserAgent::accept_transfer`] or refuse it with
    /// [`UserAgent::reject_transfer`] (it is refused with 603 after 16 s).
    TransferRequested {
        /// The call the REFER came in.
        call: CallHandle,
        /// Whom to call (a SIP URI, without URI headers).
        target: String,
        /// The new call is to replace a call of the target's (attended transfer).
        replaces: bool,
    },
    /// How the transfer goes, from the other party's NOTIFY (100 trying, 200 done, ...).
    TransferProgress {
        /// The call.
        call: CallHandle,
        /// The status line of the message/sipfrag body.
        code: u16,
    },
    /// The flow went down with this call up: its dialog is kept for
    /// [`UaConfig::flow_grace`] and moved to the next flow once it is registered (a
    /// re-INVITE with this side's Contact), then [`UaEvent::CallRecovered`]; with no
    /// flow in time, or a refusal, [`UaEvent::CallEnded`] with [`EndReason::FlowLost`].
    /// The media need not wait: it does not ride on the flow. Meanwhile
    /// [`UserAgent::update`] keeps its offer for that re-INVITE (an ICE restart, when
    /// the media broke too; its answer comes as [`UaEvent::CallUpdated`]), and
    /// [`UserAgent::hang_up`] ends the call at once (its BYE goes if a flow comes back
    /// in time); INFO and REFER are refused.
    CallRecovering {
        /// The call.
        call: CallHandle,
    },
    /// The call moved to the new flow: the other side accepted the re-INVITE, and its
    /// requests in the call now come over this flow.
    CallRecovered {
        /// The call.
        call: CallHandle,
    },
    /// The call ended.
    CallEnded {
        /// The call.
        call: CallHandle,
        /// Why.
        reason: EndReason,
    },
}

/// The user agent. See the [module docs](self).
#[derive(Debug)]
pub struct UserAgent {
    config: UaConfig,
    ids: Ids,
    flow_up: bool,
    registration: Registration,
    calls: Calls,
    transmits: VecDeque<Vec<u8>>,
    events: VecDeque<UaEvent>,
}

/// The calls' view of the user agent, borrowing its fields apart.
macro_rules! cx {
    ($ua:expr) => {
        &mut Ctx {
            config: &$ua.config,
            ids: &mut $ua.ids,
            out: &mut $ua.transmits,
            events: &mut $ua.events,
        }
    };
}

impl UserAgent {
    /// A user agent for `config`; `seed` makes its tags, branches and Call-IDs (give it
    /// 64 random bits; tests give a constant).
    pub fn new(config: UaConfig, seed: u64) -> Self {
        let ids = Ids::new(seed, &config.user);
        Self::with_ids(config, ids)
    }

    /// A user agent on the server side of one accepted flow: it names itself by the
    /// server's `host` and the flow's `transport` (`WS`, `WSS`, `TCP`), not by an
    /// `.invalid` host, and never registers.
    pub(crate) fn for_server(
        config: UaConfig,
        seed: u64,
        host: &str,
        transport: &'static str,
    ) -> Self {
        let ids = Ids::for_server(seed, &config.user, host, transport);
        let mut ua = Self::with_ids(config, ids);
        ua.flow_up = true;
        ua
    }

    fn with_ids(config: UaConfig, mut ids: Ids) -> Self {
        let registration = Registration::new(&config, &mut ids);
        Self {
            config,
            ids,
            flow_up: false,
            registration,
            calls: Calls::default(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// Says that the flow is a secure WebSocket (`wss://`): this side's Via then names
    /// `WSS` (RFC 7118 section 5.2). [`SipClient`](crate::client::SipClient) does it from
    /// the URL.
    pub fn set_secure_flow(&mut self) {
        self.ids.set_secure();
    }

    /// The configuration.
    pub fn config(&self) -> &UaConfig {
        &self.config
    }

    /// The configuration, to change in tests (another instance, ...).
    #[cfg(test)]
    pub(crate) fn config_mut(&mut self) -> &mut UaConfig {
        &mut self.config
    }

    /// Whether the registration is current.
    pub fn is_registered(&self) -> bool {
        self.registration.is_registered()
    }

    /// The flow came up (`true`) or went down (`false`). Going down loses the
    /// registration (the registrar bound it to the flow, RFC 5626) and the calls being
    /// set up; established calls wait [`UaConfig::flow_grace`] for the next flow
    /// ([`UaEvent::CallRecovering`]). Coming back up renews the registration if one
    /// was wanted, and then moves those calls to the new flow.
    pub fn handle_flow(&mut self, now: Instant, up: bool) {
        if self.flow_up == up {
            return;
        }
        self.flow_up = up;
        if up {
            if self.registration.wanted() {
                self.registration
                    .start(now, &self.config, &mut self.ids, &mut self.transmits);
            } else {
                self.calls.flow_back(now, true, cx!(self));
            }
        } else {
            self.lose_flow(now, self.config.flow_grace);
        }
    }

    /// The flow went down; established calls wait `grace` for the next one.
    pub(crate) fn lose_flow(&mut self, now: Instant, grace: Duration) {
        self.flow_up = false;
        self.calls.flow_lost(now, grace, cx!(self));
        if self.registration.lose() {
            self.events.push_back(UaEvent::RegistrationLost);
        }
    }

    /// Hangs up every call (a client shutting down: its calls must not wait for a flow
    /// that will not come back).
    pub(crate) fn hang_up_all(&mut self, now: Instant) {
        for call in self.calls.handles() {
            self.calls.hang_up(now, call, cx!(self));
        }
    }

    /// The server side's user agent of a closed flow whose agent came back on another:
    /// its suspended calls are in the call again (the agent's re-INVITE, arriving next,
    /// refreshes their target), without a re-INVITE of this side's.
    pub(crate) fn adopt_flow(&mut self, now: Instant) {
        self.flow_up = true;
        self.calls.flow_back(now, false, cx!(self));
    }

    /// Whether it has any call at all.
    pub(crate) fn has_calls(&self) -> bool {
        !self.calls.is_empty()
    }

    /// Whether one of its calls has this Call-ID.
    pub(crate) fn has_call_id(&self, call_id: &str) -> bool {
        self.calls.has_call_id(call_id)
    }

    /// Registers now (and keeps the registration refreshed) once the flow is up.
    pub fn register(&mut self, now: Instant) {
        self.registration.want(true);
        if self.flow_up {
            self.registration
                .start(now, &self.config, &mut self.ids, &mut self.transmits);
        }
    }

    /// Removes the registration (`Expires: 0`) and stops refreshing it.
    pub fn unregister(&mut self, now: Instant) {
        self.registration.want(false);
        if self.flow_up {
            self.registration
                .remove(now, &self.config, &mut self.ids, &mut self.transmits);
        } else {
            self.registration.forget();
        }
    }

    /// One message from the flow.
    pub fn handle_message(&mut self, now: Instant, bytes: &[u8]) {
        let message = match parse(bytes) {
            Ok(message) => message,
            Err(error) => {
                self.events.push_back(UaEvent::Malformed(error.to_string()));
                return;
            }
        };
        self.handle_parsed(now, &message);
    }

    /// One message from the flow, parsed already (the server reads each message once).
    pub(crate) fn handle_parsed(&mut self, now: Instant, message: &Message<'_>) {
        if message.status().is_some() {
            let registration = self.registration.on_response(
                now,
                message,
                &self.config,
                &mut self.ids,
                &mut self.transmits,
            );
            match registration {
                Some(event) => {
                    let registered = matches!(event, UaEvent::Registered { .. });
                    self.events.push_back(event);
                    if registered && self.calls.any_suspended() {
                        // Registered on the new flow: the calls that waited move to it.
                        self.calls.flow_back(now, true, cx!(self));
                    }
                }
                // Answers to requests in calls; anything else answers no transaction of
                // ours and is dropped (RFC 3261 17.1.3).
                None => self.calls.on_response(now, message, cx!(self)),
            }
            return;
        }
        if let Some(unsupported) = unsupported_requirements(message) {
            // RFC 3261 8.2.2.3: an extension the request requires and this side does
            // not support (`100rel`, ...) gets 420 naming it; never for ACK and CANCEL.
            if let Some(response) = response_to(
                message,
                420,
                "Bad Extension",
                &self.ids.tag_for(message),
                &self.config.user_agent,
                &[(KnownHeader::Unsupported, unsupported)],
            ) {
                self.transmits.push_back(response);
            }
            return;
        }
        if matches!(self.calls.on_request(now, message, cx!(self)), Handled::No) {
            self.answer_request(message);
        }
    }

    /// Sends 180 Ringing for an incoming call. False when the call is unknown or
    /// already answered.
    pub fn ringing(&mut self, call: CallHandle) -> bool {
        self.calls.provisional(call, 180, "Ringing", cx!(self))
    }

    /// Answers the call's pending INVITE (the first one, or a re-INVITE) with 200 OK
    /// and the SDP answer; resent until the ACK comes. When the INVITE asked for a
    /// session timer (RFC 4028), the answer grants it and the session is refreshed or
    /// ended as agreed.
    pub fn answer(&mut self, now: Instant, call: CallHandle, sdp: &[u8]) -> bool {
        self.calls.answer(now, call, sdp, cx!(self))
    }

    /// Refuses the call's pending INVITE with `code` and `reason`.
    pub fn reject(&mut self, call: CallHandle, code: u16, reason: &str) -> bool {
        self.calls.reject(call, code, reason, cx!(self))
    }

    /// Hangs up the call (BYE; 486 Busy Here before the answer; CANCEL while calling).
    pub fn hang_up(&mut self, now: Instant, call: CallHandle) -> bool {
        self.calls.hang_up(now, call, cx!(self))
    }

    /// Calls `target` (a SIP URI, `sip:1002@ccc.test`) with the SDP offer `sdp`.
    pub fn invite(&mut self, now: Instant, target: &str, sdp: &[u8]) -> CallHandle {
        let new = NewCall {
            uri: target.to_owned(),
            to: format!("<{target}>"),
            from: format!("<{}>", self.config.aor()),
            headers: Vec::new(),
        };
        self.invite_with(now, new, sdp)
    }

    /// Places a call as `new` says (the server's legs name their own From and To).
    pub(crate) fn invite_with(&mut self, now: Instant, new: NewCall, sdp: &[u8]) -> CallHandle {
        self.calls.invite(now, new, sdp, cx!(self))
    }

    /// Offers a new session in the call (re-INVITE: hold, unhold). False when the call
    /// is not up or an offer is pending. Refused with 491 (both sides offered at once),
    /// the offer is sent once more after the random wait of RFC 3261 14.1; a second
    /// refusal is reported as [`UaEvent::CallUpdateFailed`].
    pub fn update(&mut self, now: Instant, call: CallHandle, sdp: &[u8]) -> bool {
        self.calls.update(now, call, sdp, cx!(self))
    }

    /// Transfers the other party to `target` (blind: `replaces` is `None`), or, attended,
    /// to the far end of the call `replaces` (REFER with `Replaces`). False when the
    /// call is not up, a REFER is pending, or `target` is not a SIP URI without URI
    /// headers. The answer comes as [`UaEvent::TransferAccepted`] or
    /// [`UaEvent::TransferFailed`] (408 when none came within Timer F).
    pub fn refer(
        &mut self,
        now: Instant,
        call: CallHandle,
        target: &str,
        replaces: Option<CallHandle>,
    ) -> bool {
        self.calls.refer(now, call, target, replaces, cx!(self))
    }

    /// Follows the other party's REFER in `call` ([`UaEvent::TransferRequested`]):
    /// answers 202 and calls the target with the SDP offer `sdp`; that call's progress
    /// goes back to the other party as NOTIFYs. The new call, or `None` when no REFER
    /// waits in `call`.
    pub fn accept_transfer(
        &mut self,
        now: Instant,
        call: CallHandle,
        sdp: &[u8],
    ) -> Option<CallHandle> {
        self.calls.accept_transfer(now, call, sdp, cx!(self))
    }

    /// Accepts the other party's REFER in `call` without placing the call here (202 and
    /// a NOTIFY `100 Trying`): the server side carries transfers out itself.
    pub(crate) fn accept_refer(&mut self, call: CallHandle) -> bool {
        self.calls.accept_refer(call, cx!(self)).is_some()
    }

    /// Reports a transfer's progress in `call` by NOTIFY (see [`Self::accept_refer`]).
    pub(crate) fn notify_transfer(&mut self, call: CallHandle, code: u16, reason: &str) -> bool {
        self.calls.notify_transfer(call, code, reason, cx!(self))
    }

    /// Refuses the other party's REFER in `call` with `code` (603 Decline, ...).
    pub fn reject_transfer(&mut self, call: CallHandle, code: u16, reason: &str) -> bool {
        self.calls.reject_transfer(call, code, reason, cx!(self))
    }

    /// Sends an INFO in the call.
    pub fn send_info(&mut self, call: CallHandle, content_type: &str, body: &[u8]) -> bool {
        self.calls.info(call, content_type, body, cx!(self))
    }

    /// The answers a user agent gives to requests it does not otherwise handle.
    fn answer_request(&mut self, request: &Message<'_>) {
        let Some(method) = request.method() else {
            return;
        };
        if method == "ACK" {
            return;
        }
        let in_dialog = request.to().ok().and_then(|to| to.tag()).is_some();
        let (code, reason) = match method {
            "OPTIONS" if !in_dialog => (200, "OK"),
            _ if in_dialog => (481, "Call/Transaction Does Not Exist"),
            // A CANCEL that matched no pending INVITE (RFC 3261 9.2).
            "CANCEL" => (481, "Call/Transaction Does Not Exist"),
            "INVITE" | "BYE" | "INFO" | "REFER" | "NOTIFY" | "MESSAGE" | "UPDATE" | "PRACK"
            | "REGISTER" => (405, "Method Not Allowed"),
            _ => (501, "Not Implemented"),
        };
        if let Some(response) = response_to(
            request,
            code,
            reason,
            &self.ids.tag_for(request),
            &self.config.user_agent,
            &[],
        ) {
            self.transmits.push_back(response);
        }
    }

    /// Fires the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(event) = self.registration.on_timeout(
            now,
            self.flow_up,
            &self.config,
            &mut self.ids,
            &mut self.transmits,
        ) {
            self.events.push_back(event);
        }
        self.calls.on_timeout(now, cx!(self));
    }

    /// The next message to send on the flow.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        // A message that could not be written (the program's text with a line break
        // in it) is left empty: it is not sent.
        let next = std::iter::from_fn(|| self.transmits.pop_front()).find(|m| !m.is_empty());
        if next.is_none() {
            // Drained: an idle agent keeps no queue (thousands of them in one process).
            self.transmits = VecDeque::new();
        }
        next
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<UaEvent> {
        let next = self.events.pop_front();
        if next.is_none() {
            self.events = VecDeque::new();
        }
        next
    }

    /// When [`UserAgent::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.registration.timeout(), self.calls.timeout()]
            .into_iter()
            .flatten()
            .min()
    }
}

/// The option tags `request` requires that this side does not support, comma-separated
/// (`None` when there are none, and for ACK and CANCEL, which cannot be refused).
fn unsupported_requirements(request: &Message<'_>) -> Option<String> {
    if matches!(request.method(), Some("ACK" | "CANCEL") | None) {
        return None;
    }
    let unsupported: Vec<&str> = request
        .list(KnownHeader::Require)
        .filter(|tag| {
            !split_list(config::SUPPORTED).any(|supported| supported.eq_ignore_ascii_case(tag))
        })
        .collect();
    (!unsupported.is_empty()).then(|| unsupported.join(", "))
}

/// A response to `request`: its Via, From, To (with `tag` added when it has none),
/// Call-ID and CSeq copied, as RFC 3261 8.2.6.2 says, then `extra` headers and
/// `Server: server`. `None` when the request lacks one of those headers.
pub(crate) fn response_to(
    request: &Message<'_>,
    code: u16,
    reason: &str,
    tag: &str,
    server: &str,
    extra: &[(KnownHeader, String)],
) -> Option<Vec<u8>> {
    let mut b = Builder::response(code, reason);
    for via in request.headers_named(KnownHeader::Via) {
        b = b.header(KnownHeader::Via, via);
    }
    b = b.header(KnownHeader::From, request.header(KnownHeader::From)?);
    let to = request.header(KnownHeader::To)?;
    let has_tag = request.to().ok().and_then(|t| t.tag()).is_some();
    b = b.header(
        KnownHeader::To,
        if has_tag || code == 100 {
            to.to_owned()
        } else {
            format!("{to};tag={tag}")
        },
    );
    b = b
        .header(KnownHeader::CallId, request.call_id()?)
        .header(KnownHeader::CSeq, request.header(KnownHeader::CSeq)?);
    if code == 405 || request.method() == Some("OPTIONS") {
        b = b.header(KnownHeader::Allow, config::ALLOW);
    }
    if request.method() == Some("OPTIONS") {
        b = b
            .header(KnownHeader::Accept, "application/sdp")
            .header(KnownHeader::Supported, config::SUPPORTED);
    }
    for (name, value) in extra {
        b = b.header(*name, value.clone());
    }
    b.header(KnownHeader::Server, server).build().ok()
}

#[cfg(test)]
mod tests;
