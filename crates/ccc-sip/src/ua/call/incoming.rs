//! Calls this side answers (the UAS side of RFC 3261 13.3 and 14.2): the INVITE server
//! transaction, the dialog it makes, the 2xx resent until the ACK, CANCEL, re-INVITEs
//! and UPDATEs from the other side, and INVITEs that replace a call (RFC 3891).

use std::time::Instant;

use super::session_timer::{self, Offer};
use super::{
    Call, Calls, Ctx, DialogId, EndReason, Handled, Received, State, T1, name_addr_text, sdp_origin,
};
use crate::message::{KnownHeader, Message};
use crate::ua::UaEvent;
use crate::ua::config::{ALLOW, SUPPORTED};

/// What an INVITE with `Replaces` names (RFC 3891 section 6.1).
struct Replaces<'a> {
    call_id: &'a str,
    to_tag: &'a str,
    from_tag: &'a str,
    early_only: bool,
}

impl<'a> Replaces<'a> {
    fn parse(value: &'a str) -> Option<Self> {
        let mut parts = value.split(';').map(str::trim);
        let call_id = parts.next().filter(|c| !c.is_empty())?;
        let (mut to_tag, mut from_tag, mut early_only) = (None, None, false);
        for part in parts {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            match name.trim().to_ascii_lowercase().as_str() {
                "to-tag" => to_tag = Some(value.trim()),
                "from-tag" => from_tag = Some(value.trim()),
                "early-only" => early_only = true,
                _ => {}
            }
        }
        Some(Self {
            call_id,
            to_tag: to_tag?,
            from_tag: from_tag?,
            early_only,
        })
    }
}

impl Calls {
    pub(super) fn on_invite(
        &mut self,
        now: Instant,
        request: &Message<'_>,
        id: &DialogId<'_>,
        cx: &mut Ctx<'_>,
    ) -> Handled {
        let branch = request.via().ok().and_then(|v| v.branch()).unwrap_or("");
        // A retransmission of an INVITE being answered: the same answer again.
        if let Some(call) = self.calls.iter().find(|c| {
            c.call_id == id.call_id && c.pending.as_ref().is_some_and(|p| p.branch == branch)
        }) {
            if let Some(last) = call.pending.as_ref().and_then(|p| p.last_response.clone()) {
                cx.out.push_back(last);
            }
            return Handled::Yes;
        }
        let Some(local_tag) = id.local_tag else {
            return self.new_call(request, id, cx);
        };
        let Some(index) = self.dialog(id.call_id, local_tag, id.remote_tag) else {
            return Handled::No;
        };
        let call = &mut self.calls[index];
        if !call.is_idle() {
            // RFC 3261 14.2: an INVITE while one is pending either way gets 491.
            cx.respond(request, 491, "Request Pending", local_tag);
            return Handled::Yes;
        }
        let session = match session_timer::offered(request, cx.config.min_session_expires) {
            Offer::TooBrief(min) => {
                respond_too_brief(request, local_tag, min, cx);
                return Handled::Yes;
            }
            Offer::Asked(asked) => Some(asked),
            Offer::None => None,
        };
        call.pending = Some(Received::of(request));
        call.pending_session = session;
        if let Some(target) = request.contacts().next().and_then(Result::ok) {
            call.remote_target = target.uri.to_owned();
        }
        let unchanged = !call.local_sdp.is_empty()
            && sdp_origin(request.body).is_some()
            && sdp_origin(request.body) == call.remote_origin.as_deref();
        call.note_remote(request);
        if unchanged {
            // The same offer again (a session refresh): the same answer, no question
            // to the program (RFC 3264 section 8).
            let sdp = call.local_sdp.clone();
            call.answer_pending(now, &sdp, cx);
        } else {
            cx.event(UaEvent::CallUpdate {
                call: call.handle,
                sdp: request.body.to_vec(),
            });
        }
        Handled::Yes
    }

    fn new_call(&mut self, request: &Message<'_>, id: &DialogId<'_>, cx: &mut Ctx<'_>) -> Handled {
        let (Ok(from), Ok(to)) = (request.from(), request.to()) else {
            return Handled::No;
        };
        let local_tag = cx.ids.token(10);
        let Some(contact) = request.contacts().next().and_then(Result::ok) else {
            cx.respond(request, 400, "Missing Contact", &local_tag);
            return Handled::Yes;
        };
        if id.remote_tag.is_empty() || request.cseq().is_err() || id.call_id.is_empty() {
            cx.respond(request, 400, "Bad Request", &local_tag);
            return Handled::Yes;
        }
        if self.calls.len() >= super::MAX_CALLS {
            // A flood of INVITEs (or a program that answers none) holds no more memory.
            let retry = [(KnownHeader::RetryAfter, "10".to_owned())];
            cx.respond_with(request, 503, "Too Many Calls", &local_tag, &retry);
            return Handled::Yes;
        }
        let replaces = match self.replaced_by(request) {
            Ok(replaces) => replaces,
            Err((code, reason)) => {
                cx.respond(request, code, reason, &local_tag);
                return Handled::Yes;
            }
        };
        let session = match session_timer::offered(request, cx.config.min_session_expires) {
            Offer::TooBrief(min) => {
                respond_too_brief(request, &local_tag, min, cx);
                return Handled::Yes;
            }
            Offer::Asked(asked) => Some(asked),
            Offer::None => None,
        };
        let handle = self.next_handle();
        let mut call = Call::new(handle, id.call_id.to_owned(), false);
        call.local_tag = local_tag;
        id.remote_tag.clone_into(&mut call.remote_tag);
        contact.uri.clone_into(&mut call.remote_target);
        call.route_set = request
            .list(KnownHeader::RecordRoute)
            .map(str::to_owned)
            .collect();
        call.local_uri = name_addr_text(&to);
        call.remote_uri = name_addr_text(&from);
        call.pending = Some(Received::of(request));
        call.pending_session = session;
        call.replaces = replaces;
        call.note_remote(request);
        cx.event(UaEvent::IncomingCall {
            call: handle,
            from: request.header(KnownHeader::From).unwrap_or("").to_owned(),
            to: request.header(KnownHeader::To).unwrap_or("").to_owned(),
            sdp: request.body.to_vec(),
            replaces,
        });
        self.calls.push(call);
        Handled::Yes
    }

    /// The call an INVITE's `Replaces` header names, or the refusal RFC 3891 section 3
    /// gives.
    fn replaced_by(
        &self,
        request: &Message<'_>,
    ) -> Result<Option<super::CallHandle>, (u16, &'static str)> {
        let mut headers = request.headers_named(KnownHeader::Replaces);
        let Some(value) = headers.next() else {
            return Ok(None);
        };
        if headers.next().is_some() {
            return Err((400, "More Than One Replaces"));
        }
        let replaces = Replaces::parse(value).ok_or((400, "Bad Replaces"))?;
        // Matched from this side's view: the to-tag is ours, the from-tag theirs.
        let Some(index) = self.dialog(replaces.call_id, replaces.to_tag, replaces.from_tag) else {
            return Err((481, "Call/Transaction Does Not Exist"));
        };
        let call = &self.calls[index];
        match call.state {
            State::Ending { .. } => Err((603, "Declined")),
            // An early dialog this side did not start cannot be replaced.
            State::Offered => Err((481, "Call/Transaction Does Not Exist")),
            State::Calling(_) => Ok(Some(call.handle)),
            _ if replaces.early_only => Err((486, "Busy Here")),
            _ => Ok(Some(call.handle)),
        }
    }

    pub(super) fn on_ack(&mut self, now: Instant, id: &DialogId<'_>, cx: &mut Ctx<'_>) {
        let Some(local_tag) = id.local_tag else {
            return;
        };
        let Some(index) = self.dialog(id.call_id, local_tag, id.remote_tag) else {
            return;
        };
        let call = &mut self.calls[index];
        // The ACK of a refused INVITE ends nothing: it only confirms that answer.
        let State::Answered { initial, .. } = call.state else {
            return;
        };
        call.state = State::Confirmed;
        call.pending = None;
        call.send_waiting_offer(now, cx);
        if !initial {
            return;
        }
        let handle = call.handle;
        cx.event(UaEvent::CallEstablished { call: handle });
        if let Some(replaced) = call.replaces.take() {
            // RFC 3891: the new call is up, the one it replaces ends.
            if self.end(now, replaced, None, cx) {
                cx.event(UaEvent::CallEnded {
                    call: replaced,
                    reason: EndReason::Replaced,
                });
            }
        }
    }

    pub(super) fn on_cancel(&mut self, request: &Message<'_>, cx: &mut Ctx<'_>) -> Handled {
        let call_id = request.call_id().unwrap_or("");
        let branch = request.via().ok().and_then(|v| v.branch()).unwrap_or("");
        let Some(index) = self.calls.iter().position(|c| {
            c.call_id == call_id
                && matches!(c.state, State::Offered)
                && c.pending.as_ref().is_some_and(|p| p.branch == branch)
        }) else {
            return Handled::No;
        };
        let call = self.calls.remove(index);
        cx.respond(request, 200, "OK", &call.local_tag);
        if let Some(pending) = &call.pending {
            cx.out.push_back(pending.response(
                487,
                "Request Terminated",
                &call.local_tag,
                &[],
                None,
            ));
        }
        cx.event(UaEvent::CallEnded {
            call: call.handle,
            reason: EndReason::Cancelled,
        });
        Handled::Yes
    }

    /// An UPDATE (RFC 3311) in the call: a session refresh without a body, or an
    /// unchanged offer, is answered here; a new offer is refused with 488 (offers go by
    /// re-INVITE in this user agent).
    pub(super) fn on_update(
        &mut self,
        now: Instant,
        index: usize,
        request: &Message<'_>,
        cx: &mut Ctx<'_>,
    ) {
        let call = &mut self.calls[index];
        let tag = call.local_tag.clone();
        if !call.is_up() {
            cx.respond(request, 491, "Request Pending", &tag);
            return;
        }
        let changed =
            !request.body.is_empty() && sdp_origin(request.body) != call.remote_origin.as_deref();
        if changed {
            cx.respond(request, 488, "Not Acceptable Here", &tag);
            return;
        }
        let asked = match session_timer::offered(request, cx.config.min_session_expires) {
            Offer::TooBrief(min) => {
                respond_too_brief(request, &tag, min, cx);
                return;
            }
            Offer::Asked(asked) => Some(asked),
            Offer::None => None,
        };
        let mut headers = vec![(KnownHeader::Contact, cx.ids.contact().to_owned())];
        call.session_timer = asked.map(|asked| {
            headers.extend(asked.response_headers());
            asked.start(now)
        });
        let body = (!request.body.is_empty()).then_some(("application/sdp", &call.local_sdp[..]));
        let received = Received::of(request);
        cx.out
            .push_back(received.response(200, "OK", &tag, &headers, body));
    }

    /// Sends a provisional response (180 Ringing, 183 Session Progress) to the pending
    /// INVITE. False when the call has none.
    pub(crate) fn provisional(
        &mut self,
        handle: super::CallHandle,
        code: u16,
        reason: &str,
        cx: &mut Ctx<'_>,
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
        let response = pending.response(code, reason, &tag, &[], None);
        pending.last_response = Some(response.clone());
        cx.out.push_back(response);
        true
    }

    /// Answers the pending INVITE (the first, or a re-INVITE) with 200 OK and `sdp`.
    pub(crate) fn answer(
        &mut self,
        now: Instant,
        handle: super::CallHandle,
        sdp: &[u8],
        cx: &mut Ctx<'_>,
    ) -> bool {
        let Some(call) = self.find_mut(handle) else {
            return false;
        };
        if call.pending.is_none() || matches!(call.state, State::Answered { .. }) {
            return false;
        }
        call.answer_pending(now, sdp, cx);
        true
    }

    /// Refuses the pending INVITE with `code` (486 Busy Here, 603 Decline, 488 for a
    /// re-INVITE it cannot take, ...).
    pub(crate) fn reject(
        &mut self,
        handle: super::CallHandle,
        code: u16,
        reason: &str,
        cx: &mut Ctx<'_>,
    ) -> bool {
        let Some(index) = self.index_of(handle) else {
            return false;
        };
        let call = &mut self.calls[index];
        if matches!(call.state, State::Answered { .. }) {
            return false;
        }
        let Some(pending) = call.pending.take() else {
            return false;
        };
        call.pending_session = None;
        cx.out
            .push_back(pending.response(code, reason, &call.local_tag, &[], None));
        if matches!(call.state, State::Offered) {
            self.calls.remove(index);
            cx.event(UaEvent::CallEnded {
                call: handle,
                reason: EndReason::Rejected(code),
            });
        }
        true
    }
}

impl Call {
    /// Answers the pending INVITE with 200 OK and `sdp`, resent until the ACK.
    fn answer_pending(&mut self, now: Instant, sdp: &[u8], cx: &mut Ctx<'_>) {
        let Some(pending) = self.pending.as_mut() else {
            return;
        };
        let initial = matches!(self.state, State::Offered);
        let mut headers = vec![
            (KnownHeader::Contact, cx.ids.contact().to_owned()),
            (KnownHeader::Allow, ALLOW.to_owned()),
            (KnownHeader::Supported, SUPPORTED.to_owned()),
        ];
        // The session timer the other side asked for (RFC 4028 section 9); none when
        // its request had no Session-Expires.
        let asked = self.pending_session.take();
        if let Some(asked) = &asked {
            headers.extend(asked.response_headers());
        }
        headers.push((KnownHeader::UserAgent, cx.config.user_agent.clone()));
        let response = pending.response(
            200,
            "OK",
            &self.local_tag,
            &headers,
            Some(("application/sdp", sdp)),
        );
        pending.last_response = Some(response.clone());
        cx.out.push_back(response.clone());
        self.session_timer = asked.map(|asked| asked.start(now));
        sdp.clone_into(&mut self.local_sdp);
        self.state = State::Answered {
            response,
            since: now,
            next: now + T1,
            interval: T1,
            initial,
        };
    }
}

/// 422 Session Interval Too Small, with this side's minimum (RFC 4028 section 9).
fn respond_too_brief(request: &Message<'_>, tag: &str, min: u32, cx: &mut Ctx<'_>) {
    let received = Received::of(request);
    cx.out.push_back(received.response(
        422,
        "Session Interval Too Small",
        tag,
        &[(KnownHeader::MinSe, min.to_string())],
        None,
    ));
}
