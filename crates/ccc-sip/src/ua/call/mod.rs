//! Calls this user agent answers (the UAS side of RFC 3261 sections 12-15): the INVITE
//! server transaction, the dialog, the 2xx retransmission until ACK (13.3.1.4), CANCEL,
//! BYE both ways, INFO, and re-INVITEs (hold, unhold) answered like the first.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::config::{ALLOW, SUPPORTED, UaConfig};
use super::ids::Ids;
use super::{TIMER_F, UaEvent};
use crate::message::{Builder, KnownHeader, Message, NameAddr};

mod outgoing;

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
    /// The flow went down with the call.
    FlowLost,
    /// This side's call was refused with this status and reason (486 Busy Here, ...).
    Failed(u16, String),
    /// This side's call got no answer in time (32 s without any, 3 minutes ringing).
    Timeout,
}

/// An INVITE waiting for this side's answer: what its responses copy.
#[derive(Debug, Clone)]
struct PendingInvite {
    vias: Vec<String>,
    /// Copied into the responses that make the dialog (RFC 3261 12.1.1).
    record_routes: Vec<String>,
    call_id: String,
    from: String,
    to: String,
    cseq: String,
    branch: String,
    /// The last response sent, for a retransmitted INVITE.
    last_response: Option<Vec<u8>>,
}

/// This side's INVITE: what its CANCEL, its ACK for a failure and its retry with
/// credentials need.
#[derive(Debug, Clone)]
struct OutgoingInvite {
    branch: String,
    cseq: u32,
    target: String,
    sdp: Vec<u8>,
    since: Instant,
    /// A provisional answer came (a CANCEL may be sent only then, RFC 3261 9.1).
    provisional: bool,
    /// The program hung up before the final answer.
    cancelled: bool,
    /// Challenges answered; a second one means the password is wrong.
    answered: u8,
    progress_reported: Option<u16>,
}

/// How long this side's INVITE may wait: 32 s for any answer (Timer B), 3 minutes once
/// it rings.
const RING_LIMIT: Duration = Duration::from_secs(180);

#[derive(Debug, Clone)]
enum State {
    /// The initial INVITE waits for an answer.
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
    Calling(OutgoingInvite),
    /// This side's re-INVITE waits for its answer.
    Updating {
        branch: String,
        cseq: u32,
        since: Instant,
    },
    /// A BYE was sent; `reported` when the end was already reported (no ACK).
    Ending {
        branch: String,
        since: Instant,
        reported: bool,
    },
}

#[derive(Debug, Clone)]
struct Call {
    handle: CallHandle,
    call_id: String,
    local_tag: String,
    remote_tag: String,
    /// The other side's Contact URI: where in-dialog requests go.
    remote_target: String,
    /// Record-Route values, in the order received (the UAS keeps that order).
    route_set: Vec<String>,
    /// The From and To of this side's own requests in the dialog.
    local_uri: String,
    remote_uri: String,
    local_cseq: u32,
    pending: Option<PendingInvite>,
    state: State,
    /// The ACK of this side's last answered INVITE, resent for a retransmitted 2xx.
    last_ack: Option<(u32, Vec<u8>)>,
    /// The branch of this side's REFER waiting for its answer.
    refer: Option<String>,
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

impl Calls {
    /// Takes a request meant for calls (INVITE, ACK, CANCEL, BYE, INFO within a dialog).
    pub(crate) fn on_request(
        &mut self,
        request: &Message<'_>,
        config: &UaConfig,
        ids: &mut Ids,
        out: &mut VecDeque<Vec<u8>>,
        events: &mut VecDeque<UaEvent>,
    ) -> Handled {
        let Some(method) = request.method() else {
            return Handled::No;
        };
        let call_id = request.call_id().unwrap_or("");
        let branch = request
            .via()
            .ok()
            .and_then(|v| v.branch())
            .unwrap_or("")
            .to_owned();
        let to_tag = request.to().ok().and_then(|t| t.tag()).map(str::to_owned);
        let from_tag = request
            .from()
            .ok()
            .and_then(|f| f.tag())
            .unwrap_or("")
            .to_owned();
        match method {
            "INVITE" => {
                // A retransmission of an INVITE we are answering: the same answer again.
                if let Some(call) = self.calls.iter().find(|c| {
                    c.call_id == call_id && c.pending.as_ref().is_some_and(|p| p.branch == branch)
                }) {
                    if let Some(last) = call.pending.as_ref().and_then(|p| p.last_response.clone())
                    {
                        out.push_back(last);
                    }
                    return Handled::Yes;
                }
                match to_tag {
                    None => self.new_call(request, &branch, &from_tag, config, ids, out, events),
                    Some(tag) => {
                        let Some(call) = self.dialog_mut(call_id, &tag, &from_tag) else {
                            return Handled::No;
                        };
                        if call.pending.is_some() || !matches!(call.state, State::Confirmed) {
                            // RFC 3261 14.2: an INVITE while one is pending gets 500 (or 491).
                            push_response(out, request, 491, "Request Pending", &tag, config);
                            return Handled::Yes;
                        }
                        call.pending = Some(PendingInvite::of(request, &branch));
                        if let Some(target) = request.contacts().next().and_then(Result::ok) {
                            call.remote_target = target.uri.to_owned();
                        }
                        events.push_back(UaEvent::CallUpdate {
                            call: call.handle,
                            sdp: request.body.to_vec(),
                        });
                        Handled::Yes
                    }
                }
            }
            "ACK" => {
                let Some(tag) = to_tag else {
                    return Handled::Yes;
                };
                if let Some(call) = self.dialog_mut(call_id, &tag, &from_tag)
                    && let State::Answered { initial, .. } = call.state
                {
                    call.state = State::Confirmed;
                    call.pending = None;
                    if initial {
                        events.push_back(UaEvent::CallEstablished { call: call.handle });
                    }
                }
                // The ACK of a refused INVITE ends nothing: it only confirms our answer.
                Handled::Yes
            }
            "CANCEL" => {
                let Some(index) = self.calls.iter().position(|c| {
                    c.call_id == call_id
                        && matches!(c.state, State::Offered)
                        && c.pending.as_ref().is_some_and(|p| p.branch == branch)
                }) else {
                    return Handled::No;
                };
                let call = self.calls.remove(index);
                push_response(out, request, 200, "OK", &call.local_tag, config);
                if let Some(pending) = &call.pending {
                    out.push_back(pending.response(
                        487,
                        "Request Terminated",
                        &call.local_tag,
                        config,
                        None,
                    ));
                }
                events.push_back(UaEvent::CallEnded {
                    call: call.handle,
                    reason: EndReason::Cancelled,
                });
                Handled::Yes
            }
            "NOTIFY"
                if request
                    .header(KnownHeader::Event)
                    .is_some_and(|e| e.trim().to_ascii_lowercase().starts_with("refer")) =>
            {
                let Some(tag) = to_tag else {
                    return Handled::No;
                };
                let Some(call) = self.calls.iter().find(|c| {
                    c.call_id == call_id && c.local_tag == tag && c.remote_tag == from_tag
                }) else {
                    return Handled::No;
                };
                push_response(out, request, 200, "OK", &tag, config);
                // The body is a message/sipfrag: its status line says how the transfer goes.
                let status = std::str::from_utf8(request.body)
                    .ok()
                    .and_then(|b| b.strip_prefix("SIP/2.0 "))
                    .and_then(|b| b.get(..3))
                    .and_then(|c| c.parse().ok());
                if let Some(code) = status {
                    events.push_back(UaEvent::TransferProgress {
                        call: call.handle,
                        code,
                    });
                }
                Handled::Yes
            }
            "BYE" | "INFO" => {
                let Some(tag) = to_tag else {
                    return Handled::No;
                };
                let Some(index) = self.calls.iter().position(|c| {
                    c.call_id == call_id && c.local_tag == tag && c.remote_tag == from_tag
                }) else {
                    return Handled::No;
                };
                push_response(out, request, 200, "OK", &tag, config);
                let handle = self.calls[index].handle;
                if method == "BYE" {
                    self.calls.remove(index);
                    events.push_back(UaEvent::CallEnded {
                        call: handle,
                        reason: EndReason::RemoteHangup,
                    });
                } else {
                    events.push_back(UaEvent::Info {
                        call: handle,
                        content_type: request.content_type().unwrap_or("").to_owned(),
                        body: request.body.to_vec(),
                    });
                }
                Handled::Yes
            }
            // Other methods in a dialog that exists: not supported here (yet), but the
            // dialog is not unknown, so 405 rather than 481.
            _ => {
                let Some(tag) = to_tag else {
                    return Handled::No;
                };
                let known = self.calls.iter().any(|c| {
                    c.call_id == call_id && c.local_tag == tag && c.remote_tag == from_tag
                });
                if !known {
                    return Handled::No;
                }
                push_response(out, request, 405, "Method Not Allowed", &tag, config);
                Handled::Yes
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn new_call(
        &mut self,
        request: &Message<'_>,
        branch: &str,
        from_tag: &str,
        config: &UaConfig,
        ids: &mut Ids,
        out: &mut VecDeque<Vec<u8>>,
        events: &mut VecDeque<UaEvent>,
    ) -> Handled {
        let (Ok(from), Ok(to), Some(call_id)) = (request.from(), request.to(), request.call_id())
        else {
            return Handled::No;
        };
        let local_tag = ids.token(10);
        let Some(contact) = request.contacts().next().and_then(Result::ok) else {
            push_response(out, request, 400, "Missing Contact", &local_tag, config);
            return Handled::Yes;
        };
        if from_tag.is_empty() || request.cseq().is_err() {
            push_response(out, request, 400, "Bad Request", &local_tag, config);
            return Handled::Yes;
        }
        self.next_handle += 1;
        let handle = CallHandle(self.next_handle);
        let call = Call {
            handle,
            call_id: call_id.to_owned(),
            local_tag,
            remote_tag: from_tag.to_owned(),
            remote_target: contact.uri.to_owned(),
            route_set: request
                .list(KnownHeader::RecordRoute)
                .map(str::to_owned)
                .collect(),
            local_uri: name_addr_text(&to),
            remote_uri: name_addr_text(&from),
            local_cseq: 0,
            pending: Some(PendingInvite::of(request, branch)),
            state: State::Offered,
            last_ack: None,
            refer: None,
        };
        events.push_back(UaEvent::IncomingCall {
            call: handle,
            from: request.header(KnownHeader::From).unwrap_or("").to_owned(),
            to: request.header(KnownHeader::To).unwrap_or("").to_owned(),
            sdp: request.body.to_vec(),
        });
        self.calls.push(call);
        Handled::Yes
    }

    fn dialog_mut(
        &mut self,
        call_id: &str,
        local_tag: &str,
        remote_tag: &str,
    ) -> Option<&mut Call> {
        self.calls.iter_mut().find(|c| {
            c.call_id == call_id && c.local_tag == local_tag && c.remote_tag == remote_tag
        })
    }

    fn find_mut(&mut self, handle: CallHandle) -> Option<&mut Call> {
        self.calls.iter_mut().find(|c| c.handle == handle)
    }

    /// Sends a provisional response (180 Ringing, 183 Session Progress) to the pending
    /// INVITE. False when the call has none.
    pub(crate) fn provisional(
        &mut self,
        handle: CallHandle,
        code: u16,
        reason: &str,
        config: &UaConfig,
        out: &mut VecDeque<Vec<u8>>,
    ) -> bool {
        let Some(call) = self.find_mut(handle) else {
            return false;
        };
        let tag = call.local_tag.clone();
        let Some(pending) = call
            .pending
            .as_mut()
            .filter(|_| matches!(call.state, State::Offered))
        else {
            return false;
        };
        let response = pending.response(code, reason, &tag, config, None);
        pending.last_response = Some(response.clone());
        out.push_back(response);
        true
    }

    /// Answers the pending INVITE (the first, or a re-INVITE) with 200 OK and `sdp`.
    pub(crate) fn answer(
        &mut self,
        now: Instant,
        handle: CallHandle,
        sdp: &[u8],
        config: &UaConfig,
        ids: &Ids,
        out: &mut VecDeque<Vec<u8>>,
    ) -> bool {
        let Some(call) = self.find_mut(handle) else {
            return false;
        };
        let tag = call.local_tag.clone();
        let initial = matches!(call.state, State::Offered);
        let Some(pending) = call.pending.as_mut() else {
            return false;
        };
        let contact = format!("<sip:{}@{};transport=ws;ob>", config.user, ids.host());
        let response = pending.response(200, "OK", &tag, config, Some((&contact, sdp)));
        pending.last_response = Some(response.clone());
        out.push_back(response.clone());
        call.state = State::Answered {
            response,
            since: now,
            next: now + T1,
            interval: T1,
            initial,
        };
        true
    }

    /// Refuses the pending INVITE with `code` (486 Busy Here, 603 Decline, 488 for a
    /// re-INVITE it cannot take, ...).
    pub(crate) fn reject(
        &mut self,
        handle: CallHandle,
        code: u16,
        reason: &str,
        config: &UaConfig,
        out: &mut VecDeque<Vec<u8>>,
        events: &mut VecDeque<UaEvent>,
    ) -> bool {
        let Some(index) = self.calls.iter().position(|c| c.handle == handle) else {
            return false;
        };
        let call = &mut self.calls[index];
        let Some(pending) = call.pending.take() else {
            return false;
        };
        out.push_back(pending.response(code, reason, &call.local_tag, config, None));
        if matches!(call.state, State::Offered) {
            self.calls.remove(index);
            events.push_back(UaEvent::CallEnded {
                call: handle,
                reason: EndReason::Rejected(code),
            });
        }
        true
    }

    /// Hangs up: BYE in a call, 486 before the answer.
    pub(crate) fn hang_up(
        &mut self,
        now: Instant,
        handle: CallHandle,
        config: &UaConfig,
        ids: &mut Ids,
        out: &mut VecDeque<Vec<u8>>,
        events: &mut VecDeque<UaEvent>,
    ) -> bool {
        let Some(call) = self.find_mut(handle) else {
            return false;
        };
        match call.state {
            State::Offered => self.reject(handle, 486, "Busy Here", config, out, events),
            State::Answered { .. } | State::Confirmed | State::Updating { .. } => {
                let branch = call.send_request("BYE", config, ids, out);
                call.state = State::Ending {
                    branch,
                    since: now,
                    reported: false,
                };
                true
            }
            State::Calling(_) => {
                Self::cancel(call, config, ids, out);
                true
            }
            State::Ending { .. } => true,
        }
    }

    /// Transfers the other party of `handle` to `target` (REFER, RFC 3515); with
    /// `replaces`, the call `replaces` takes the place of the new one (attended
    /// transfer, RFC 3891).
    pub(crate) fn refer(
        &mut self,
        handle: CallHandle,
        target: &str,
        replaces: Option<CallHandle>,
        config: &UaConfig,
        ids: &mut Ids,
        out: &mut VecDeque<Vec<u8>>,
    ) -> bool {
        let replaces = match replaces {
            Some(other) => match self
                .calls
                .iter()
                .find(|c| c.handle == other && matches!(c.state, State::Confirmed))
            {
                // The consulted call, from its far end: its Call-ID, its remote tag as
                // the to-tag and ours as the from-tag.
                Some(c) => Some(format!(
                    "?Replaces={}%3Bto-tag%3D{}%3Bfrom-tag%3D{}",
                    escape_header_value(&c.call_id),
                    escape_header_value(&c.remote_tag),
                    escape_header_value(&c.local_tag)
                )),
                None => return false,
            },
            None => None,
        };
        let Some(call) = self
            .find_mut(handle)
            .filter(|c| matches!(c.state, State::Confirmed) && c.refer.is_none())
        else {
            return false;
        };
        let refer_to = format!("<{target}{}>", replaces.unwrap_or_default());
        call.local_cseq += 1;
        let branch = ids.branch();
        let request = call
            .dialog_request("REFER", call.local_cseq, &branch, ids)
            .header(KnownHeader::ReferTo, refer_to)
            .header(KnownHeader::ReferredBy, format!("<{}>", config.aor()))
            .header(
                KnownHeader::Contact,
                format!("<sip:{}@{};transport=ws;ob>", config.user, ids.host()),
            )
            .header(KnownHeader::UserAgent, config.user_agent.clone())
            .build();
        if let Ok(bytes) = request {
            out.push_back(bytes);
        }
        call.refer = Some(branch);
        true
    }

    /// Sends an INFO in the call (DTMF as `application/dtmf-relay`, ...).
    pub(crate) fn info(
        &mut self,
        handle: CallHandle,
        content_type: &str,
        body: &[u8],
        config: &UaConfig,
        ids: &mut Ids,
        out: &mut VecDeque<Vec<u8>>,
    ) -> bool {
        let Some(call) = self
            .find_mut(handle)
            .filter(|c| matches!(c.state, State::Confirmed | State::Answered { .. }))
        else {
            return false;
        };
        call.send_request_with("INFO", Some((content_type, body)), config, ids, out);
        true
    }

    /// A response to one of this side's requests in a call.
    pub(crate) fn on_response(
        &mut self,
        now: Instant,
        response: &Message<'_>,
        config: &UaConfig,
        ids: &mut Ids,
        out: &mut VecDeque<Vec<u8>>,
        events: &mut VecDeque<UaEvent>,
    ) -> bool {
        if self.on_outgoing_response(now, response, config, ids, out, events) {
            return true;
        }
        if let Some(call) = self.calls.iter_mut().find(|c| {
            c.refer.is_some() && c.refer.as_deref() == response.via().ok().and_then(|v| v.branch())
        }) {
            let code = response.status().unwrap_or(0);
            if code >= 200 {
                call.refer = None;
                events.push_back(if (200..300).contains(&code) {
                    UaEvent::TransferAccepted { call: call.handle }
                } else {
                    UaEvent::TransferFailed {
                        call: call.handle,
                        code,
                    }
                });
            }
            return true;
        }
        let branch = response.via().ok().and_then(|v| v.branch()).unwrap_or("");
        let code = response.status().unwrap_or(0);
        let Some(index) = self
            .calls
            .iter()
            .position(|c| matches!(&c.state, State::Ending { branch: b, .. } if b == branch))
        else {
            // INFO answers and strays: nothing to do.
            return false;
        };
        if code >= 200 {
            let call = self.calls.remove(index);
            if matches!(
                call.state,
                State::Ending {
                    reported: false,
                    ..
                }
            ) {
                events.push_back(UaEvent::CallEnded {
                    call: call.handle,
                    reason: EndReason::LocalHangup,
                });
            }
        }
        true
    }

    /// Resends unacknowledged 2xx answers; gives up on missing ACKs and BYE answers.
    pub(crate) fn on_timeout(
        &mut self,
        now: Instant,
        config: &UaConfig,
        ids: &mut Ids,
        out: &mut VecDeque<Vec<u8>>,
        events: &mut VecDeque<UaEvent>,
    ) {
        let mut ended = Vec::new();
        for call in &mut self.calls {
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
                        let branch = call.send_request("BYE", config, ids, out);
                        call.state = State::Ending {
                            branch,
                            since: now,
                            reported: true,
                        };
                        events.push_back(UaEvent::CallEnded {
                            call: call.handle,
                            reason: EndReason::NoAck,
                        });
                        continue;
                    }
                    out.push_back(response.clone());
                    *interval = (*interval * 2).min(T2);
                    // Wake at the give-up time too, not only at the next resend.
                    *next = (now + *interval).min(*since + TIMER_F);
                }
                State::Ending {
                    since, reported, ..
                } if *since + TIMER_F <= now => {
                    ended.push((call.handle, *reported, EndReason::LocalHangup));
                }
                State::Calling(invite) if invite.deadline() <= now => {
                    ended.push((call.handle, false, EndReason::Timeout));
                }
                State::Updating { since, .. } if *since + TIMER_F <= now => {
                    // No answer to the re-INVITE: the session stays as it was.
                    events.push_back(UaEvent::CallUpdateFailed {
                        call: call.handle,
                        code: 408,
                    });
                    call.state = State::Confirmed;
                }
                _ => {}
            }
        }
        for (handle, reported, reason) in ended {
            self.calls.retain(|c| c.handle != handle);
            if !reported {
                events.push_back(UaEvent::CallEnded {
                    call: handle,
                    reason,
                });
            }
        }
    }

    /// The next timer of any call.
    pub(crate) fn timeout(&self) -> Option<Instant> {
        self.calls
            .iter()
            .filter_map(|c| match &c.state {
                State::Answered { next, .. } => Some(*next),
                State::Ending { since, .. } | State::Updating { since, .. } => {
                    Some(*since + TIMER_F)
                }
                State::Calling(invite) => Some(invite.deadline()),
                _ => None,
            })
            .min()
    }

    /// The flow is gone: every call with it.
    pub(crate) fn lose_all(&mut self, events: &mut VecDeque<UaEvent>) {
        for call in self.calls.drain(..) {
            events.push_back(UaEvent::CallEnded {
                call: call.handle,
                reason: EndReason::FlowLost,
            });
        }
    }
}

impl Call {
    fn send_request(
        &mut self,
        method: &str,
        config: &UaConfig,
        ids: &mut Ids,
        out: &mut VecDeque<Vec<u8>>,
    ) -> String {
        self.send_request_with(method, None, config, ids, out)
    }

    fn send_request_with(
        &mut self,
        method: &str,
        body: Option<(&str, &[u8])>,
        config: &UaConfig,
        ids: &mut Ids,
        out: &mut VecDeque<Vec<u8>>,
    ) -> String {
        self.send_in_dialog(method, body, None, config, ids, out)
    }

    /// The start of a request in the dialog (RFC 3261 12.2.1.1): to the remote target,
    /// through the route set, with the dialog's tags and Call-ID.
    fn dialog_request(&self, method: &str, cseq: u32, branch: &str, ids: &Ids) -> Builder {
        let mut b = Builder::request(method, &self.remote_target)
            .header(
                KnownHeader::Via,
                format!("SIP/2.0/WS {};branch={branch}", ids.host()),
            )
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

    /// A request in the dialog with this side's next CSeq.
    fn send_in_dialog(
        &mut self,
        method: &str,
        body: Option<(&str, &[u8])>,
        contact: Option<String>,
        config: &UaConfig,
        ids: &mut Ids,
        out: &mut VecDeque<Vec<u8>>,
    ) -> String {
        self.local_cseq += 1;
        let branch = ids.branch();
        let mut b = self
            .dialog_request(method, self.local_cseq, &branch, ids)
            .header(KnownHeader::UserAgent, config.user_agent.clone());
        if let Some(contact) = contact {
            b = b.header(KnownHeader::Contact, contact);
        }
        if let Some((content_type, body)) = body {
            b = b.body(content_type, body.to_vec());
        }
        if let Ok(bytes) = b.build() {
            out.push_back(bytes);
        }
        branch
    }
}

impl PendingInvite {
    fn of(request: &Message<'_>, branch: &str) -> Self {
        Self {
            vias: request
                .headers_named(KnownHeader::Via)
                .map(str::to_owned)
                .collect(),
            record_routes: request
                .headers_named(KnownHeader::RecordRoute)
                .map(str::to_owned)
                .collect(),
            call_id: request.call_id().unwrap_or("").to_owned(),
            from: request.header(KnownHeader::From).unwrap_or("").to_owned(),
            to: request.header(KnownHeader::To).unwrap_or("").to_owned(),
            cseq: request.header(KnownHeader::CSeq).unwrap_or("").to_owned(),
            branch: branch.to_owned(),
            last_response: None,
        }
    }

    fn response(
        &self,
        code: u16,
        reason: &str,
        tag: &str,
        config: &UaConfig,
        answer: Option<(&str, &[u8])>,
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
        if let Some((contact, sdp)) = answer {
            b = b
                .header(KnownHeader::Contact, contact.to_owned())
                .header(KnownHeader::Allow, ALLOW)
                .header(KnownHeader::Supported, SUPPORTED)
                .header(KnownHeader::UserAgent, config.user_agent.clone())
                .body("application/sdp", sdp.to_vec());
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

fn push_response(
    out: &mut VecDeque<Vec<u8>>,
    request: &Message<'_>,
    code: u16,
    reason: &str,
    tag: &str,
    config: &UaConfig,
) {
    if let Some(response) = super::response_to(request, code, reason, tag, config) {
        out.push_back(response);
    }
}

/// Escapes a value for a URI header (`?Replaces=...`): `;`, `=`, `@`, `%`, `?`, `&` and
/// anything outside unreserved ASCII become `%XY`.
fn escape_header_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
