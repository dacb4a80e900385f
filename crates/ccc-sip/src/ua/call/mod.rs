//! Calls (RFC 3261 sections 12-15): dialogs, the INVITE transactions of both sides, and
//! what happens inside a call.
//!
//! - [`incoming`]: calls this side answers: the INVITE server transaction, the 2xx
//!   resent until the ACK (13.3.1.4), CANCEL, re-INVITEs from the other side, INVITEs
//!   that replace a call (RFC 3891);
//! - [`outgoing`]: calls this side places: challenges, provisional answers, the ACK of
//!   every final answer, CANCEL, and this side's re-INVITEs with the glare retry of 14.1;
//! - [`transfer`]: REFER both ways (RFC 3515) and the NOTIFY progress reports;
//! - [`session_timer`]: session expiry when the other side asks for it (RFC 4028);
//! - [`recovery`]: calls kept through the loss of their flow and moved to the next one
//!   (RFC 5626 flows, a target refresh by re-INVITE).
//!
//! BYE and INFO, both ways, are here.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::config::UaConfig;
use super::ids::Ids;
use super::{TIMER_F, UaEvent};
use crate::message::{Builder, KnownHeader, Message, NameAddr};

mod incoming;
mod outgoing;
mod recovery;
mod session_timer;
mod transfer;

pub(crate) use outgoing::NewCall;
use session_timer::SessionTimer;
use transfer::IncomingRefer;

/// RFC 3261 T1 and T2: the 2xx retransmission interval starts at T1 and doubles up to T2.
const T1: Duration = Duration::from_millis(500);
const T2: Duration = Duration::from_secs(4);

/// A call, as the user agent's caller knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallHandle(pub(crate) u32);

/// Why a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndReason {
    /// The other side hung up (BYE).
    RemoteHangup,
    /// This side hung up.
    LocalHangup,
    /// The caller gave up before the answer (CANCEL).
    Cancelled,
    /// This side refused the call with this status.
    Rejected(u16),
    /// The caller never acknowledged the answer (no ACK in 32 s).
    NoAck,
    /// The flow went down with the call, and the call could not be moved to a new
    /// flow in time (see [`UaConfig::flow_grace`](crate::ua::UaConfig::flow_grace)).
    FlowLost,
    /// This side's call was refused with this status and reason (486 Busy Here, ...).
    Failed(u16, String),
    /// This side's call got no answer in time (32 s without any, 3 minutes ringing).
    Timeout,
    /// Another call took its place (an INVITE with `Replaces`, RFC 3891: the end of an
    /// attended transfer); this side sent the BYE.
    Replaced,
    /// The session expired without a refresh (RFC 4028); this side sent the BYE.
    SessionExpired,
}

/// A request this side still answers (an INVITE, a REFER): what its responses copy.
#[derive(Debug, Clone)]
struct Received {
    vias: Vec<String>,
    /// Copied into the responses that make the dialog (RFC 3261 12.1.1).
    record_routes: Vec<String>,
    call_id: String,
    from: String,
    to: String,
    cseq: String,
    branch: String,
    /// The last response sent, for a retransmitted request.
    last_response: Option<Vec<u8>>,
}

/// This side's INVITE: what its CANCEL, its ACK for a failure and its retries need.
#[derive(Debug, Clone)]
struct OutgoingInvite {
    branch: String,
    cseq: u32,
    /// The Request-URI.
    target: String,
    sdp: Vec<u8>,
    /// More headers of the request (Replaces, Referred-By, Session-Expires).
    headers: Vec<(KnownHeader, String)>,
    since: Instant,
    /// A provisional answer came (a CANCEL may be sent only then, RFC 3261 9.1).
    provisional: bool,
    /// The program hung up before the final answer.
    cancelled: bool,
    /// Challenges answered; a second one means the password is wrong.
    answered: u8,
    /// A 422 was answered with a longer session interval already.
    interval_raised: bool,
    progress_reported: Option<u16>,
}

/// The most calls one user agent keeps at once; a new INVITE beyond gets 503.
pub(crate) const MAX_CALLS: usize = 1024;

/// How long this side's INVITE may wait: 32 s for any answer (Timer B), 3 minutes once
/// a provisional answer (100 Trying included) came.
const RING_LIMIT: Duration = Duration::from_secs(180);

#[derive(Debug, Clone)]
enum State {
    /// The initial INVITE waits for the program's answer.
    Offered,
    /// A 2xx was sent; it is resent until the ACK comes.
    Answered {
        response: Vec<u8>,
        since: Instant,
        next: Instant,
        interval: Duration,
        initial: bool,
    },
    /// In the call.
    Confirmed,
    /// This side's INVITE waits for its final answer.
    Calling(Box<OutgoingInvite>),
    /// This side's re-INVITE (or UPDATE, for a session refresh) waits for its answer.
    Updating {
        branch: String,
        cseq: u32,
        since: Instant,
        /// The offer, kept for a retry after 491.
        sdp: Vec<u8>,
        purpose: Purpose,
    },
    /// The flow went down with the call up: the dialog waits for the next flow until
    /// `until`, then moves to it with a re-INVITE carrying `offer` (the program's, made
    /// meanwhile) or the last SDP again; or, when the program hung up meanwhile
    /// (`hang_up`, reported already), with a BYE.
    Suspended {
        until: Instant,
        offer: Option<Vec<u8>>,
        hang_up: bool,
    },
    /// A BYE was sent; `report` is the end still to report when it is answered (`None`
    /// when it was reported already).
    Ending {
        branch: String,
        since: Instant,
        report: Option<EndReason>,
    },
}

/// Why this side's re-INVITE or UPDATE was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// The program's offer (hold, unhold).
    Offer,
    /// The program's offer once more, after a 491: a second 491 is reported.
    GlareRetry,
    /// A session refresh (RFC 4028): its answer is not reported.
    Refresh,
    /// The target refresh that moves the call to a new flow: its answer is
    /// [`UaEvent::CallRecovered`] (and [`UaEvent::CallUpdated`] too when it carries the
    /// program's offer, `offered`); a failure ends the call ([`EndReason::FlowLost`]),
    /// but a first 491 is tried again (`retried`).
    Recover { offered: bool, retried: bool },
}

/// An offer of this side's that waits to be sent: refused with 491, to be tried once
/// more (RFC 3261 14.1); or made while the other side's ACK was still on its way.
#[derive(Debug, Clone)]
struct WaitingOffer {
    at: Instant,
    sdp: Vec<u8>,
    /// Past this, it is given up (the call stayed busy).
    until: Instant,
    /// What it is sent as: [`Purpose::GlareRetry`] or, when queued, [`Purpose::Offer`].
    purpose: Purpose,
}

#[derive(Debug, Clone)]
struct Call {
    handle: CallHandle,
    call_id: String,
    /// This side made the Call-ID (it placed the call): its glare retry waits longer.
    owns_call_id: bool,
    local_tag: String,
    remote_tag: String,
    /// The other side's Contact URI: where in-dialog requests go.
    remote_target: String,
    /// The route set, in the order requests carry it.
    route_set: Vec<String>,
    /// The From and To of this side's own requests in the dialog.
    local_uri: String,
    remote_uri: String,
    local_cseq: u32,
    /// The INVITE waiting for this side's answer (the first, or a re-INVITE).
    pending: Option<Received>,
    /// The session timer that INVITE asks for, set up when it is answered.
    pending_session: Option<session_timer::Asked>,
    state: State,
    /// The ACK of this side's last answered INVITE, resent for a retransmitted 2xx.
    last_ack: Option<(u32, Vec<u8>)>,
    /// This side's REFER waiting for its answer: its branch, and since when.
    refer: Option<(String, Instant)>,
    /// The SDP this side sent last (offer or answer): a session refresh repeats it.
    local_sdp: Vec<u8>,
    /// The `o=` line of the other side's last SDP: an offer with the same one is
    /// unchanged (RFC 3264 section 8) and answered as before, without the program.
    remote_origin: Option<String>,
    /// The other side's `Allow` lists UPDATE.
    peer_allows_update: bool,
    session_timer: Option<SessionTimer>,
    waiting_offer: Option<WaitingOffer>,
    /// The other side's REFER that the program has yet to accept or refuse.
    incoming_refer: Option<IncomingRefer>,
    /// This call was placed to follow that call's REFER: its progress is reported there.
    notify: Option<CallHandle>,
    /// This incoming call replaces that call (RFC 3891): it ends once this one is up.
    replaces: Option<CallHandle>,
}

/// The calls of one user agent.
#[derive(Debug, Default)]
pub(crate) struct Calls {
    calls: Vec<Call>,
    next_handle: u32,
    /// The last challenge a request of this side's got, answered pre-emptively after.
    challenge: Option<(crate::auth::Challenge, bool)>,
}

/// What happened to a request, for the user agent to answer it otherwise.
pub(crate) enum Handled {
    Yes,
    No,
}

/// What the calls need of their user agent: who it is, and where output goes.
pub(crate) struct Ctx<'a> {
    pub(crate) config: &'a UaConfig,
    pub(crate) ids: &'a mut Ids,
    pub(crate) out: &'a mut VecDeque<Vec<u8>>,
    pub(crate) events: &'a mut VecDeque<UaEvent>,
}

impl Ctx<'_> {
    /// Sends `request`'s answer, copied as RFC 3261 8.2.6.2 says.
    fn respond(&mut self, request: &Message<'_>, code: u16, reason: &str, tag: &str) {
        self.respond_with(request, code, reason, tag, &[]);
    }

    /// [`Ctx::respond`] with more headers.
    fn respond_with(
        &mut self,
        request: &Message<'_>,
        code: u16,
        reason: &str,
        tag: &str,
        extra: &[(KnownHeader, String)],
    ) {
        if let Some(response) =
            super::response_to(request, code, reason, tag, &self.config.user_agent, extra)
        {
            self.out.push_back(response);
        }
    }

    fn event(&mut self, event: UaEvent) {
        self.events.push_back(event);
    }
}

/// The dialog a request names: Call-ID, To tag (ours), From tag (theirs).
struct DialogId<'m> {
    call_id: &'m str,
    local_tag: Option<&'m str>,
    remote_tag: &'m str,
}

impl<'m> DialogId<'m> {
    fn of(request: &Message<'m>) -> Self {
        Self {
            call_id: request.call_id().unwrap_or(""),
            local_tag: request.to().ok().and_then(|t| t.tag()),
            remote_tag: request.from().ok().and_then(|f| f.tag()).unwrap_or(""),
        }
    }
}

impl Calls {
    /// Takes a request meant for calls.
    pub(crate) fn on_request(
        &mut self,
        now: Instant,
        request: &Message<'_>,
        cx: &mut Ctx<'_>,
    ) -> Handled {
        let Some(method) = request.method() else {
            return Handled::No;
        };
        let id = DialogId::of(request);
        match method {
            "INVITE" => self.on_invite(now, request, &id, cx),
            "ACK" => {
                self.on_ack(now, &id, cx);
                Handled::Yes
            }
            "CANCEL" => self.on_cancel(request, cx),
            _ => {
                let Some(local_tag) = id.local_tag else {
                    return Handled::No;
                };
                let Some(index) = self.dialog(id.call_id, local_tag, id.remote_tag) else {
                    return Handled::No;
                };
                match method {
                    "BYE" => {
                        cx.respond(request, 200, "OK", local_tag);
                        let call = self.calls.remove(index);
                        let reported = matches!(
                            call.state,
                            State::Suspended { hang_up: true, .. }
                                | State::Ending { report: None, .. }
                        );
                        if let (State::Offered, Some(pending)) = (&call.state, &call.pending) {
                            // A BYE in the early dialog ends its INVITE too.
                            cx.out.push_back(pending.response(
                                487,
                                "Request Terminated",
                                local_tag,
                                &[],
                                None,
                            ));
                        }
                        if !reported {
                            cx.event(UaEvent::CallEnded {
                                call: call.handle,
                                reason: EndReason::RemoteHangup,
                            });
                        }
                    }
                    "INFO" => {
                        cx.respond(request, 200, "OK", local_tag);
                        cx.event(UaEvent::Info {
                            call: self.calls[index].handle,
                            content_type: request.content_type().unwrap_or("").to_owned(),
                            body: request.body.to_vec(),
                        });
                    }
                    "UPDATE" => self.on_update(now, index, request, cx),
                    "REFER" => self.on_refer(now, index, request, cx),
                    "NOTIFY" if transfer::is_refer_event(request) => {
                        self.on_notify(index, request, cx);
                    }
                    // Other methods in a dialog that exists: not supported, but the
                    // dialog is not unknown, so 405 rather than 481.
                    _ => cx.respond(request, 405, "Method Not Allowed", local_tag),
                }
                Handled::Yes
            }
        }
    }

    fn dialog(&self, call_id: &str, local_tag: &str, remote_tag: &str) -> Option<usize> {
        self.calls.iter().position(|c| {
            c.call_id == call_id && c.local_tag == local_tag && c.remote_tag == remote_tag
        })
    }

    fn index_of(&self, handle: CallHandle) -> Option<usize> {
        self.calls.iter().position(|c| c.handle == handle)
    }

    fn find_mut(&mut self, handle: CallHandle) -> Option<&mut Call> {
        self.calls.iter_mut().find(|c| c.handle == handle)
    }

    fn next_handle(&mut self) -> CallHandle {
        self.next_handle += 1;
        CallHandle(self.next_handle)
    }

    /// Sends an INFO in the call (DTMF as `application/dtmf-relay`, ...).
    pub(crate) fn info(
        &mut self,
        handle: CallHandle,
        content_type: &str,
        body: &[u8],
        cx: &mut Ctx<'_>,
    ) -> bool {
        let Some(call) = self.find_mut(handle).filter(|c| c.is_up()) else {
            return false;
        };
        call.send_in_dialog("INFO", Some((content_type, body)), &[], cx);
        true
    }

    /// Hangs up: BYE in a call, 486 before the answer, CANCEL while calling.
    pub(crate) fn hang_up(&mut self, now: Instant, handle: CallHandle, cx: &mut Ctx<'_>) -> bool {
        self.end(now, handle, Some(EndReason::LocalHangup), cx)
    }

    /// Ends the call with a BYE (or its early equivalent), reporting `report` when it
    /// is done (`None`: reported already).
    fn end(
        &mut self,
        now: Instant,
        handle: CallHandle,
        report: Option<EndReason>,
        cx: &mut Ctx<'_>,
    ) -> bool {
        let Some(index) = self.index_of(handle) else {
            return false;
        };
        let call = &mut self.calls[index];
        match call.state {
            State::Offered => self.reject(handle, 486, "Busy Here", cx),
            State::Answered { .. } | State::Confirmed | State::Updating { .. } => {
                if let Some(refer) = call.incoming_refer.take() {
                    refer.refuse(603, "Decline", cx);
                }
                let branch = call.send_in_dialog("BYE", None, &[], cx);
                call.state = State::Ending {
                    branch,
                    since: now,
                    report,
                };
                true
            }
            State::Calling(_) => {
                Self::cancel(call, cx);
                true
            }
            State::Suspended {
                ref mut hang_up, ..
            } => {
                // No flow for the BYE: the call ends here now, and the BYE goes if a
                // flow comes back in time (the other side's dialog ends either way).
                if !std::mem::replace(hang_up, true)
                    && let Some(reason) = report
                {
                    cx.event(UaEvent::CallEnded {
                        call: handle,
                        reason,
                    });
                }
                true
            }
            State::Ending { .. } => true,
        }
    }

    /// A response to one of this side's requests in a call.
    pub(crate) fn on_response(&mut self, now: Instant, response: &Message<'_>, cx: &mut Ctx<'_>) {
        if self.on_invite_response(now, response, cx)
            || self.on_update_response(now, response, cx)
            || self.on_refer_response(response, cx)
        {
            return;
        }
        let branch = response.via().ok().and_then(|v| v.branch()).unwrap_or("");
        let code = response.status().unwrap_or(0);
        let Some(index) = self
            .calls
            .iter()
            .position(|c| matches!(&c.state, State::Ending { branch: b, .. } if b == branch))
        else {
            // INFO and NOTIFY answers, and strays: nothing to do.
            return;
        };
        if code >= 200 {
            let call = self.calls.remove(index);
            if let State::Ending {
                report: Some(reason),
                ..
            } = call.state
            {
                cx.event(UaEvent::CallEnded {
                    call: call.handle,
                    reason,
                });
            }
        }
    }

    /// Fires the timers due at `now`: 2xx resent, missing ACKs and answers given up,
    /// glare retries, session refreshes and expiry, transfers left undecided.
    pub(crate) fn on_timeout(&mut self, now: Instant, cx: &mut Ctx<'_>) {
        let mut ended = Vec::new();
        let mut expired = Vec::new();
        for call in &mut self.calls {
            if call
                .incoming_refer
                .as_ref()
                .is_some_and(|r| r.deadline() <= now)
                && let Some(refer) = call.incoming_refer.take()
            {
                // The program did not decide in time: the REFER is refused.
                refer.refuse(603, "Decline", cx);
            }
            if call
                .refer
                .as_ref()
                .is_some_and(|(_, since)| *since + TIMER_F <= now)
            {
                // No answer to this side's REFER (Timer F): it failed.
                call.refer = None;
                cx.event(UaEvent::TransferFailed {
                    call: call.handle,
                    code: 408,
                });
            }
            call.send_waiting_offer(now, cx);
            if call.session_timer_due(now, cx) {
                expired.push(call.handle);
            }
            match &mut call.state {
                State::Answered {
                    response,
                    since,
                    next,
                    interval,
                    ..
                } if *next <= now => {
                    if *since + TIMER_F <= now {
                        // RFC 3261 13.3.1.4: no ACK for 64 x T1: end the dialog with a BYE.
                        let branch = call.send_in_dialog("BYE", None, &[], cx);
                        call.state = State::Ending {
                            branch,
                            since: now,
                            report: None,
                        };
                        cx.event(UaEvent::CallEnded {
                            call: call.handle,
                            reason: EndReason::NoAck,
                        });
                        continue;
                    }
                    cx.out.push_back(response.clone());
                    *interval = (*interval * 2).min(T2);
                    // Wake at the give-up time too, not only at the next resend.
                    *next = (now + *interval).min(*since + TIMER_F);
                }
                State::Ending { since, report, .. } if *since + TIMER_F <= now => {
                    ended.push((call.handle, report.take()));
                }
                State::Calling(invite) if invite.deadline() <= now => {
                    ended.push((call.handle, Some(EndReason::Timeout)));
                }
                State::Suspended { until, hang_up, .. } if *until <= now => {
                    // No flow came back in time.
                    ended.push((call.handle, (!*hang_up).then_some(EndReason::FlowLost)));
                }
                State::Updating {
                    since,
                    purpose: Purpose::Recover { .. },
                    ..
                } if *since + TIMER_F <= now => {
                    // The call could not be moved to the new flow (408).
                    ended.push((call.handle, Some(EndReason::FlowLost)));
                }
                State::Updating { since, purpose, .. } if *since + TIMER_F <= now => {
                    // No answer to the re-INVITE: the session stays as it was.
                    if *purpose != Purpose::Refresh {
                        cx.event(UaEvent::CallUpdateFailed {
                            call: call.handle,
                            code: 408,
                        });
                    }
                    call.state = State::Confirmed;
                }
                _ => {}
            }
        }
        for (handle, report) in ended {
            self.forget(handle, report, cx);
        }
        for handle in expired {
            self.expire_session(now, handle, cx);
        }
    }

    /// The session of `handle` expired (RFC 4028 section 10): BYE, reported at once.
    fn expire_session(&mut self, now: Instant, handle: CallHandle, cx: &mut Ctx<'_>) {
        if let Some(call) = self.find_mut(handle) {
            call.session_timer = None;
        }
        self.end(now, handle, None, cx);
        cx.event(UaEvent::CallEnded {
            call: handle,
            reason: EndReason::SessionExpired,
        });
    }

    /// Removes a call, reporting its end if `report` says how; tells the call whose
    /// transfer it followed how that went.
    fn forget(&mut self, handle: CallHandle, report: Option<EndReason>, cx: &mut Ctx<'_>) {
        let Some(index) = self.index_of(handle) else {
            return;
        };
        let call = self.calls.remove(index);
        if let (Some(transferred), Some(EndReason::Timeout)) = (call.notify, &report) {
            self.notify_transfer(transferred, 408, "Request Timeout", cx);
        }
        if let Some(reason) = report {
            cx.event(UaEvent::CallEnded {
                call: handle,
                reason,
            });
        }
    }

    /// The next timer of any call.
    pub(crate) fn timeout(&self) -> Option<Instant> {
        self.calls.iter().filter_map(Call::timeout).min()
    }
}

impl Call {
    /// A dialog made by this side's INVITE or by the other side's.
    fn new(handle: CallHandle, call_id: String, owns_call_id: bool) -> Self {
        Self {
            handle,
            call_id,
            owns_call_id,
            local_tag: String::new(),
            remote_tag: String::new(),
            remote_target: String::new(),
            route_set: Vec::new(),
            local_uri: String::new(),
            remote_uri: String::new(),
            local_cseq: 0,
            pending: None,
            pending_session: None,
            state: State::Offered,
            last_ack: None,
            refer: None,
            local_sdp: Vec::new(),
            remote_origin: None,
            peer_allows_update: false,
            session_timer: None,
            waiting_offer: None,
            incoming_refer: None,
            notify: None,
            replaces: None,
        }
    }

    /// Whether the session is established (requests may be sent in it).
    fn is_up(&self) -> bool {
        matches!(
            self.state,
            State::Confirmed | State::Answered { .. } | State::Updating { .. }
        )
    }

    /// Whether an offer may start now: in the call, nothing pending either way.
    fn is_idle(&self) -> bool {
        matches!(self.state, State::Confirmed) && self.pending.is_none()
    }

    fn timeout(&self) -> Option<Instant> {
        let state = match &self.state {
            State::Answered { next, .. } => Some(*next),
            State::Ending { since, .. } | State::Updating { since, .. } => Some(*since + TIMER_F),
            State::Calling(invite) => Some(invite.deadline()),
            State::Suspended { until, .. } => Some(*until),
            State::Offered | State::Confirmed => None,
        };
        [
            state,
            self.waiting_offer.as_ref().map(|r| r.at),
            self.session_timer.as_ref().map(SessionTimer::deadline),
            self.incoming_refer.as_ref().map(IncomingRefer::deadline),
            self.refer.as_ref().map(|(_, since)| *since + TIMER_F),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Notes what the other side's SDP and headers say about the session.
    fn note_remote(&mut self, message: &Message<'_>) {
        if let Some(origin) = sdp_origin(message.body) {
            self.remote_origin = Some(origin.to_owned());
        }
        if message.header(KnownHeader::Allow).is_some() {
            self.peer_allows_update = message
                .list(KnownHeader::Allow)
                .any(|m| m.eq_ignore_ascii_case("UPDATE"));
        }
    }

    /// The start of a request in the dialog (RFC 3261 12.2.1.1): to the remote target,
    /// through the route set, with the dialog's tags and Call-ID.
    fn dialog_request(&self, method: &str, cseq: u32, branch: &str, ids: &Ids) -> Builder {
        let mut b = Builder::request(method, &self.remote_target)
            .header(KnownHeader::Via, ids.via(branch))
            .header(KnownHeader::MaxForwards, "70");
        for route in &self.route_set {
            b = b.header(KnownHeader::Route, route.clone());
        }
        b.header(
            KnownHeader::From,
            format!("{};tag={}", self.local_uri, self.local_tag),
        )
        .header(
            KnownHeader::To,
            format!("{};tag={}", self.remote_uri, self.remote_tag),
        )
        .header(KnownHeader::CallId, self.call_id.clone())
        .header(KnownHeader::CSeq, format!("{cseq} {method}"))
    }

    /// Sends a request in the dialog with this side's next CSeq; returns its branch.
    fn send_in_dialog(
        &mut self,
        method: &str,
        body: Option<(&str, &[u8])>,
        headers: &[(KnownHeader, String)],
        cx: &mut Ctx<'_>,
    ) -> String {
        self.local_cseq += 1;
        let branch = cx.ids.branch();
        let mut b = self.dialog_request(method, self.local_cseq, &branch, cx.ids);
        for (name, value) in headers {
            b = b.header(*name, value.clone());
        }
        b = b.header(KnownHeader::UserAgent, cx.config.user_agent.clone());
        if let Some((content_type, body)) = body {
            b = b.body(content_type, body.to_vec());
        }
        if let Ok(bytes) = b.build() {
            cx.out.push_back(bytes);
        }
        branch
    }
}

impl Received {
    fn of(request: &Message<'_>) -> Self {
        Self {
            vias: request
                .headers_named(KnownHeader::Via)
                .map(str::to_owned)
                .collect(),
            record_routes: if request.method() == Some("INVITE") {
                request
                    .headers_named(KnownHeader::RecordRoute)
                    .map(str::to_owned)
                    .collect()
            } else {
                Vec::new()
            },
            call_id: request.call_id().unwrap_or("").to_owned(),
            from: request.header(KnownHeader::From).unwrap_or("").to_owned(),
            to: request.header(KnownHeader::To).unwrap_or("").to_owned(),
            cseq: request.header(KnownHeader::CSeq).unwrap_or("").to_owned(),
            branch: request
                .via()
                .ok()
                .and_then(|v| v.branch())
                .unwrap_or("")
                .to_owned(),
            last_response: None,
        }
    }

    /// A response to the request: Vias, From, To (with `tag` added when it has none),
    /// Call-ID and CSeq copied; the Record-Routes for a dialog-making one; then
    /// `headers` and the body.
    fn response(
        &self,
        code: u16,
        reason: &str,
        tag: &str,
        headers: &[(KnownHeader, String)],
        body: Option<(&str, &[u8])>,
    ) -> Vec<u8> {
        let mut b = Builder::response(code, reason);
        for via in &self.vias {
            b = b.header(KnownHeader::Via, via.clone());
        }
        if (101..300).contains(&code) {
            for route in &self.record_routes {
                b = b.header(KnownHeader::RecordRoute, route.clone());
            }
        }
        let has_tag = NameAddr::parse(&self.to)
            .ok()
            .and_then(|t| t.tag())
            .is_some();
        let to = if has_tag {
            self.to.clone()
        } else {
            format!("{};tag={tag}", self.to)
        };
        b = b
            .header(KnownHeader::From, self.from.clone())
            .header(KnownHeader::To, to)
            .header(KnownHeader::CallId, self.call_id.clone())
            .header(KnownHeader::CSeq, self.cseq.clone());
        for (name, value) in headers {
            b = b.header(*name, value.clone());
        }
        if let Some((content_type, body)) = body {
            b = b.body(content_type, body.to_vec());
        }
        b.build().unwrap_or_default()
    }
}

/// The name-addr without its parameters (the tag is added when writing).
fn name_addr_text(addr: &NameAddr<'_>) -> String {
    match addr.display {
        Some(display) => format!("\"{display}\" <{}>", addr.uri),
        None => format!("<{}>", addr.uri),
    }
}

/// The `o=` line of an SDP body (RFC 4566 5.2), without its line end.
fn sdp_origin(body: &[u8]) -> Option<&str> {
    std::str::from_utf8(body)
        .ok()?
        .lines()
        .find(|l| l.starts_with("o="))
        .map(str::trim_end)
}

/// The reason phrase of a response.
fn reason_of(response: &Message<'_>) -> String {
    match response.start {
        crate::message::StartLine::Response { reason, .. } => reason.to_owned(),
        crate::message::StartLine::Request { .. } => String::new(),
    }
}
