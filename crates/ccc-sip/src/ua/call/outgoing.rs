//! Calls this side places (the UAC side of RFC 3261 sections 13 and 17.1.1): the INVITE
//! with its challenges, provisional answers, the ACK of any final answer, CANCEL; and
//! this side's re-INVITEs (hold, unhold) with the glare retry of 14.1.

use std::time::{Duration, Instant};

use super::session_timer;
use super::{
    Call, CallHandle, Calls, Ctx, EndReason, OutgoingInvite, Purpose, RING_LIMIT, State,
    WaitingOffer, reason_of,
};
use crate::auth::{Challenge, DigestClient};
use crate::message::{Builder, KnownHeader, Message};
use crate::ua::config::{ALLOW, SUPPORTED};
use crate::ua::{TIMER_F, UaEvent};

/// Who a new call goes to and who it comes from.
#[derive(Debug, Clone)]
pub(crate) struct NewCall {
    /// The Request-URI.
    pub(crate) uri: String,
    /// The To header (without a tag), `<sip:...>`.
    pub(crate) to: String,
    /// The From header (without a tag).
    pub(crate) from: String,
    /// More headers of the INVITE.
    pub(crate) headers: Vec<(KnownHeader, String)>,
}

impl OutgoingInvite {
    pub(super) fn deadline(&self) -> Instant {
        // Timer B (64 x T1) for any answer; once it rings, the ring limit.
        self.since
            + if self.provisional {
                RING_LIMIT
            } else {
                TIMER_F
            }
    }
}

impl Calls {
    /// Places a call with the SDP offer `sdp`.
    pub(crate) fn invite(
        &mut self,
        now: Instant,
        new: NewCall,
        sdp: &[u8],
        cx: &mut Ctx<'_>,
    ) -> CallHandle {
        let handle = self.next_handle();
        let mut call = Call::new(handle, cx.ids.token(24), true);
        call.local_tag = cx.ids.token(10);
        call.remote_target.clone_from(&new.uri);
        call.local_uri = new.from;
        call.remote_uri = new.to;
        sdp.clone_into(&mut call.local_sdp);
        let invite = self.send_invite(&mut call, now, new.uri, sdp.to_vec(), new.headers, cx);
        call.state = State::Calling(Box::new(invite));
        self.calls.push(call);
        handle
    }

    /// Sends an INVITE outside any dialog (the first, or a retry with credentials or a
    /// longer session interval).
    fn send_invite(
        &self,
        call: &mut Call,
        now: Instant,
        target: String,
        sdp: Vec<u8>,
        headers: Vec<(KnownHeader, String)>,
        cx: &mut Ctx<'_>,
    ) -> OutgoingInvite {
        call.local_cseq += 1;
        let branch = cx.ids.branch();
        let mut b = Builder::request("INVITE", &target)
            .header(KnownHeader::Via, cx.ids.via(&branch))
            .header(KnownHeader::MaxForwards, "70")
            .header(
                KnownHeader::From,
                format!("{};tag={}", call.local_uri, call.local_tag),
            )
            .header(KnownHeader::To, call.remote_uri.clone())
            .header(KnownHeader::CallId, call.call_id.clone())
            .header(KnownHeader::CSeq, format!("{} INVITE", call.local_cseq))
            .header(KnownHeader::Contact, cx.ids.contact().to_owned())
            .header(KnownHeader::Allow, ALLOW)
            .header(KnownHeader::Supported, SUPPORTED)
            .header(KnownHeader::UserAgent, cx.config.user_agent.clone());
        for (name, value) in &headers {
            b = b.header(*name, value.clone());
        }
        if let Some((challenge, proxy)) = &self.challenge {
            let mut digest = DigestClient::new(cx.config.auth_user(), cx.config.password.clone());
            let answer = digest.authorize(challenge, "INVITE", &target, &cx.ids.token(16));
            let name = if *proxy {
                KnownHeader::ProxyAuthorization
            } else {
                KnownHeader::Authorization
            };
            b = b.header(name, answer.header);
        }
        if let Ok(bytes) = b.body("application/sdp", sdp.clone()).build() {
            cx.out.push_back(bytes);
        }
        OutgoingInvite {
            branch,
            cseq: call.local_cseq,
            target,
            sdp,
            headers,
            since: now,
            provisional: false,
            cancelled: false,
            answered: 0,
            interval_raised: false,
            progress_reported: None,
        }
    }

    /// CANCEL for an INVITE still waiting: at once if it rang, else when it does.
    pub(super) fn cancel(call: &mut Call, cx: &mut Ctx<'_>) {
        let State::Calling(invite) = &mut call.state else {
            return;
        };
        invite.cancelled = true;
        if invite.provisional {
            cx.out.push_back(cancel_request(call, cx));
        }
    }

    /// Sends a re-INVITE with a new offer (hold: `a=sendonly`; unhold: `a=sendrecv`);
    /// right after this side answered an INVITE, once its ACK is in. False when the
    /// call is not up, an offer is pending either way, or one waits already.
    pub(crate) fn update(
        &mut self,
        now: Instant,
        handle: CallHandle,
        sdp: &[u8],
        cx: &mut Ctx<'_>,
    ) -> bool {
        let Some(call) = self.find_mut(handle).filter(|c| c.waiting_offer.is_none()) else {
            return false;
        };
        if let State::Suspended {
            offer,
            hang_up: false,
            ..
        } = &mut call.state
        {
            // No flow: the offer goes with the re-INVITE that moves the call to the
            // next one (the latest offer wins).
            *offer = Some(sdp.to_vec());
        } else if call.is_idle() {
            call.send_reinvite(now, sdp.to_vec(), Purpose::Offer, cx);
        } else if matches!(call.state, State::Answered { .. }) {
            // RFC 3261 14.1: not while that INVITE's transaction runs; at its ACK.
            call.waiting_offer = Some(WaitingOffer {
                at: now + Duration::from_millis(100),
                sdp: sdp.to_vec(),
                until: now + TIMER_F,
                purpose: Purpose::Offer,
            });
        } else {
            return false;
        }
        true
    }

    /// Answers to this side's INVITEs and re-INVITEs. Whether it was one.
    pub(super) fn on_invite_response(
        &mut self,
        now: Instant,
        response: &Message<'_>,
        cx: &mut Ctx<'_>,
    ) -> bool {
        let Ok(cseq) = response.cseq() else {
            return false;
        };
        if cseq.method != "INVITE" {
            return false;
        }
        let branch = response.via().ok().and_then(|v| v.branch()).unwrap_or("");
        let code = response.status().unwrap_or(0);
        let call_id = response.call_id().unwrap_or("");
        let Some(index) = self.calls.iter().position(|c| match &c.state {
            State::Calling(invite) => invite.branch == branch,
            State::Updating { branch: b, .. } => b == branch,
            _ => c.call_id == call_id && c.last_ack.as_ref().is_some_and(|(n, _)| *n == cseq.seq),
        }) else {
            return false;
        };
        let call = &mut self.calls[index];
        match &call.state {
            State::Calling(_) => {
                let State::Calling(invite) = std::mem::replace(&mut call.state, State::Confirmed)
                else {
                    return true;
                };
                self.on_invite_answer(now, index, *invite, response, code, cx);
            }
            State::Updating { .. } if code >= 200 => {
                let State::Updating {
                    cseq: n,
                    sdp,
                    purpose,
                    branch,
                    ..
                } = std::mem::replace(&mut call.state, State::Confirmed)
                else {
                    return true;
                };
                let refresh = purpose == Purpose::Refresh;
                if (200..300).contains(&code) {
                    call.ack_2xx(n, cx);
                    call.note_remote(response);
                    call.session_timer = session_timer::answered(response, now);
                    call.local_sdp = sdp;
                    let (updated, recovered) = match purpose {
                        Purpose::Refresh => (false, false),
                        Purpose::Recover { offered, .. } => (offered, true),
                        Purpose::Offer | Purpose::GlareRetry => (true, false),
                    };
                    if updated {
                        cx.event(UaEvent::CallUpdated {
                            call: call.handle,
                            sdp: response.body.to_vec(),
                        });
                    }
                    if recovered {
                        cx.event(UaEvent::CallRecovered { call: call.handle });
                    }
                    return true;
                }
                // The re-INVITE failed: its transaction's ACK; the old session stays.
                cx.out.push_back(call.ack_failure(&branch, n, response, cx));
                if let Purpose::Recover { offered, retried } = purpose {
                    self.recovery_refused(now, index, code, sdp, offered, retried, cx);
                    return true;
                }
                let first_glare = code == 491 && purpose == Purpose::Offer;
                if first_glare {
                    call.schedule_glare_retry(now, sdp, Purpose::GlareRetry, cx);
                } else if refresh && matches!(code, 408 | 481) {
                    // RFC 4028 section 10: a refresh that finds no session ends it.
                    let handle = call.handle;
                    self.expire_session(now, handle, cx);
                } else if !refresh {
                    cx.event(UaEvent::CallUpdateFailed {
                        call: call.handle,
                        code,
                    });
                }
            }
            State::Updating { .. } => {}
            // A retransmitted 2xx: the same ACK again.
            _ => {
                if let Some((_, ack)) = &call.last_ack {
                    cx.out.push_back(ack.clone());
                }
            }
        }
        true
    }

    /// Answers to this side's UPDATE (a session refresh). Whether it was one.
    pub(super) fn on_update_response(
        &mut self,
        now: Instant,
        response: &Message<'_>,
        cx: &mut Ctx<'_>,
    ) -> bool {
        if response.cseq().map(|c| c.method) != Ok("UPDATE") {
            return false;
        }
        let branch = response.via().ok().and_then(|v| v.branch()).unwrap_or("");
        let Some(index) = self
            .calls
            .iter()
            .position(|c| matches!(&c.state, State::Updating { branch: b, .. } if b == branch))
        else {
            return true;
        };
        let code = response.status().unwrap_or(0);
        if code < 200 {
            return true;
        }
        let call = &mut self.calls[index];
        call.state = State::Confirmed;
        if (200..300).contains(&code) {
            call.session_timer = session_timer::answered(response, now);
        } else if matches!(code, 408 | 481) {
            let handle = call.handle;
            self.expire_session(now, handle, cx);
        }
        true
    }

    fn on_invite_answer(
        &mut self,
        now: Instant,
        index: usize,
        mut invite: OutgoingInvite,
        response: &Message<'_>,
        code: u16,
        cx: &mut Ctx<'_>,
    ) {
        let call = &mut self.calls[index];
        let handle = call.handle;
        if let Some(tag) = response.to().ok().and_then(|t| t.tag()) {
            tag.clone_into(&mut call.remote_tag);
        }
        if code < 200 {
            // Any provisional answer, 100 Trying included, ends Timer B (the
            // transaction proceeds, RFC 3261 17.1.1.2) and lets a CANCEL go (9.1);
            // only the other side's own (180, 183) are reported.
            let first_provisional = !invite.provisional;
            invite.provisional = true;
            let progress = code > 100 && invite.progress_reported != Some(code);
            if progress {
                invite.progress_reported = Some(code);
                cx.event(UaEvent::CallProgress {
                    call: handle,
                    code,
                    sdp: response.body.to_vec(),
                });
            }
            let cancel_now = first_provisional && invite.cancelled;
            call.state = State::Calling(Box::new(invite));
            if cancel_now {
                cx.out.push_back(cancel_request(call, cx));
            }
            if let Some(transferred) = call.notify.filter(|_| code > 100) {
                self.notify_transfer(transferred, code, &reason_of(response), cx);
            }
            return;
        }
        if (200..300).contains(&code) {
            // The dialog: the other side's Contact, the Record-Route reversed (12.1.2).
            if let Some(contact) = response.contacts().next().and_then(Result::ok) {
                contact.uri.clone_into(&mut call.remote_target);
            }
            let mut routes: Vec<String> = response
                .list(KnownHeader::RecordRoute)
                .map(str::to_owned)
                .collect();
            routes.reverse();
            call.route_set = routes;
            call.ack_2xx(invite.cseq, cx);
            call.state = State::Confirmed;
            call.note_remote(response);
            call.session_timer = session_timer::answered(response, now);
            cx.event(UaEvent::CallAnswered {
                call: handle,
                sdp: response.body.to_vec(),
            });
            if let Some(transferred) = call.notify.take() {
                self.notify_transfer(transferred, code, &reason_of(response), cx);
            }
            if invite.cancelled {
                // Answered while the CANCEL crossed it: end the call properly.
                self.hang_up(now, handle, cx);
            }
            return;
        }
        // A failure: its ACK, then maybe a retry of the same INVITE.
        call.state = State::Calling(Box::new(invite.clone()));
        cx.out
            .push_back(call.ack_failure(&invite.branch, invite.cseq, response, cx));
        if !invite.cancelled && self.retry_invite(now, index, &invite, response, code, cx) {
            return;
        }
        let end = if invite.cancelled {
            EndReason::LocalHangup
        } else {
            EndReason::Failed(code, reason_of(response))
        };
        if let Some(transferred) = self.calls[index].notify {
            self.notify_transfer(transferred, code, &reason_of(response), cx);
        }
        self.calls.remove(index);
        cx.event(UaEvent::CallEnded {
            call: handle,
            reason: end,
        });
    }

    /// Sends the INVITE again after a challenge (401/407, once) or a 422 (once, with
    /// the other side's Min-SE). Whether it did.
    fn retry_invite(
        &mut self,
        now: Instant,
        index: usize,
        invite: &OutgoingInvite,
        response: &Message<'_>,
        code: u16,
        cx: &mut Ctx<'_>,
    ) -> bool {
        let mut headers = invite.headers.clone();
        let (mut answered, mut interval_raised) = (invite.answered, invite.interval_raised);
        match code {
            401 | 407 if answered == 0 => {
                let header = if code == 401 {
                    KnownHeader::WwwAuthenticate
                } else {
                    KnownHeader::ProxyAuthenticate
                };
                let Ok(challenge) = Challenge::select(response.headers_named(header)) else {
                    return false;
                };
                self.challenge = Some((challenge, code == 407));
                answered = 1;
            }
            422 if !interval_raised => {
                let Some(min) = response
                    .header(KnownHeader::MinSe)
                    .and_then(|v| v.split(';').next()?.trim().parse::<u32>().ok())
                else {
                    return false;
                };
                headers.retain(|(h, _)| {
                    !matches!(h, KnownHeader::SessionExpires | KnownHeader::MinSe)
                });
                headers.push((KnownHeader::SessionExpires, min.to_string()));
                headers.push((KnownHeader::MinSe, min.to_string()));
                interval_raised = true;
            }
            _ => return false,
        }
        let mut call = self.calls.remove(index);
        let mut retry = self.send_invite(
            &mut call,
            now,
            invite.target.clone(),
            invite.sdp.clone(),
            headers,
            cx,
        );
        retry.answered = answered;
        retry.interval_raised = interval_raised;
        call.state = State::Calling(Box::new(retry));
        self.calls.insert(index, call);
        true
    }
}

impl Call {
    /// Sends a re-INVITE with `sdp` in the call (the program's offer, or a refresh).
    pub(super) fn send_reinvite(
        &mut self,
        now: Instant,
        sdp: Vec<u8>,
        purpose: Purpose,
        cx: &mut Ctx<'_>,
    ) {
        let mut headers = vec![(KnownHeader::Contact, cx.ids.contact().to_owned())];
        if let Some(timer) = &self.session_timer {
            headers.extend(timer.request_headers());
        }
        let branch = self.send_in_dialog("INVITE", Some(("application/sdp", &sdp)), &headers, cx);
        self.state = State::Updating {
            branch,
            cseq: self.local_cseq,
            since: now,
            sdp,
            purpose,
        };
    }

    /// After a 491: once more (as `purpose`) after a random wait, 2.1 to 4 s when this
    /// side made the Call-ID, else up to 2 s, in steps of 10 ms (RFC 3261 14.1).
    pub(super) fn schedule_glare_retry(
        &mut self,
        now: Instant,
        sdp: Vec<u8>,
        purpose: Purpose,
        cx: &mut Ctx<'_>,
    ) {
        let steps = if self.owns_call_id {
            210 + cx.ids.below(191)
        } else {
            cx.ids.below(201)
        };
        self.waiting_offer = Some(WaitingOffer {
            at: now + Duration::from_millis(steps * 10),
            sdp,
            until: now + TIMER_F,
            purpose,
        });
    }

    /// Sends the waiting offer when its time came and the call is free (a queued offer
    /// goes as soon as the call is free); gives it up after Timer F of a busy call.
    pub(super) fn send_waiting_offer(&mut self, now: Instant, cx: &mut Ctx<'_>) {
        let idle = self.is_idle();
        let due = |r: &WaitingOffer| r.at <= now || (idle && r.purpose == Purpose::Offer);
        if !self.waiting_offer.as_ref().is_some_and(due) {
            return;
        }
        let Some(retry) = self.waiting_offer.as_mut() else {
            return;
        };
        if !idle {
            if retry.until <= now {
                self.waiting_offer = None;
                cx.event(UaEvent::CallUpdateFailed {
                    call: self.handle,
                    code: 491,
                });
            } else {
                // The other side's offer is being answered: try once it is done.
                retry.at = now + Duration::from_millis(100);
            }
            return;
        }
        if let Some(retry) = self.waiting_offer.take() {
            self.send_reinvite(now, retry.sdp, retry.purpose, cx);
        }
    }

    /// The ACK of a 2xx: a new transaction in the dialog, remembered for retransmitted
    /// 2xx (RFC 3261 13.2.2.4).
    fn ack_2xx(&mut self, cseq: u32, cx: &mut Ctx<'_>) {
        let branch = cx.ids.branch();
        let ack = self
            .dialog_request("ACK", cseq, &branch, cx.ids)
            .build()
            .unwrap_or_default();
        cx.out.push_back(ack.clone());
        self.last_ack = Some((cseq, ack));
    }

    /// The ACK of a failure: part of the INVITE transaction (RFC 3261 17.1.1.3), same
    /// branch, the response's To.
    fn ack_failure(
        &self,
        branch: &str,
        cseq: u32,
        response: &Message<'_>,
        cx: &Ctx<'_>,
    ) -> Vec<u8> {
        let calling = matches!(self.state, State::Calling(_));
        let target = match &self.state {
            State::Calling(invite) => invite.target.as_str(),
            _ => self.remote_target.as_str(),
        };
        let mut b = Builder::request("ACK", target)
            .header(KnownHeader::Via, cx.ids.via(branch))
            .header(KnownHeader::MaxForwards, "70");
        if !calling {
            for route in &self.route_set {
                b = b.header(KnownHeader::Route, route.clone());
            }
        }
        b.header(
            KnownHeader::From,
            format!("{};tag={}", self.local_uri, self.local_tag),
        )
        .header(
            KnownHeader::To,
            response.header(KnownHeader::To).unwrap_or("").to_owned(),
        )
        .header(KnownHeader::CallId, self.call_id.clone())
        .header(KnownHeader::CSeq, format!("{cseq} ACK"))
        .build()
        .unwrap_or_default()
    }
}

/// The CANCEL of the INVITE of `call` (RFC 3261 9.1: same Request-URI, Call-ID, From,
/// To, Via branch and CSeq number as the INVITE).
fn cancel_request(call: &Call, cx: &Ctx<'_>) -> Vec<u8> {
    let State::Calling(invite) = &call.state else {
        return Vec::new();
    };
    Builder::request("CANCEL", &invite.target)
        .header(KnownHeader::Via, cx.ids.via(&invite.branch))
        .header(KnownHeader::MaxForwards, "70")
        .header(
            KnownHeader::From,
            format!("{};tag={}", call.local_uri, call.local_tag),
        )
        .header(KnownHeader::To, call.remote_uri.clone())
        .header(KnownHeader::CallId, call.call_id.clone())
        .header(KnownHeader::CSeq, format!("{} CANCEL", invite.cseq))
        .header(KnownHeader::UserAgent, cx.config.user_agent.clone())
        .build()
        .unwrap_or_default()
}
