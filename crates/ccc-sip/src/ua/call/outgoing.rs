//! Calls this side places (the UAC side of RFC 3261 sections 13 and 17.1.1): the INVITE
//! with its challenges, provisional answers, the ACK of any final answer, CANCEL, and
//! re-INVITEs from this side (hold, unhold).

use std::collections::VecDeque;
use std::time::Instant;

use super::{Call, CallHandle, Calls, EndReason, OutgoingInvite, RING_LIMIT, State};
use crate::auth::{Challenge, DigestClient};
use crate::message::{Builder, KnownHeader, Message};
use crate::ua::config::{ALLOW, SUPPORTED, UaConfig};
use crate::ua::ids::Ids;
use crate::ua::{TIMER_F, UaEvent};

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
    /// Calls `target` (a SIP URI) with the SDP offer `sdp`.
    pub(crate) fn invite(
        &mut self,
        now: Instant,
        target: &str,
        sdp: &[u8],
        config: &UaConfig,
        ids: &mut Ids,
        out: &mut VecDeque<Vec<u8>>,
    ) -> CallHandle {
        self.next_handle += 1;
        let handle = CallHandle(self.next_handle);
        let mut call = Call {
            handle,
            call_id: ids.token(24),
            local_tag: ids.token(10),
            remote_tag: String::new(),
            remote_target: target.to_owned(),
            route_set: Vec::new(),
            local_uri: format!("<{}>", config.aor()),
            remote_uri: format!("<{target}>"),
            local_cseq: 0,
            pending: None,
            state: State::Confirmed,
            last_ack: None,
            refer: None,
        };
        let invite = self.send_invite(&mut call, now, target, sdp, config, ids, out);
        call.state = State::Calling(invite);
        self.calls.push(call);
        handle
    }

    /// Sends an INVITE outside any dialog (the first, or its retry with credentials).
    #[allow(clippy::too_many_arguments)]
    fn send_invite(
        &self,
        call: &mut Call,
        now: Instant,
        target: &str,
        sdp: &[u8],
        config: &UaConfig,
        ids: &mut Ids,
        out: &mut VecDeque<Vec<u8>>,
    ) -> OutgoingInvite {
        call.local_cseq += 1;
        let branch = ids.branch();
        let mut b = Builder::request("INVITE", target)
            .header(
                KnownHeader::Via,
                format!("SIP/2.0/WS {};branch={branch}", ids.host()),
            )
            .header(KnownHeader::MaxForwards, "70")
            .header(
                KnownHeader::From,
                format!("{};tag={}", call.local_uri, call.local_tag),
            )
            .header(KnownHeader::To, call.remote_uri.clone())
            .header(KnownHeader::CallId, call.call_id.clone())
            .header(KnownHeader::CSeq, format!("{} INVITE", call.local_cseq))
            .header(
                KnownHeader::Contact,
                format!("<sip:{}@{};transport=ws;ob>", config.user, ids.host()),
            )
            .header(KnownHeader::Allow, ALLOW)
            .header(KnownHeader::Supported, SUPPORTED)
            .header(KnownHeader::UserAgent, config.user_agent.clone());
        if let Some((challenge, proxy)) = &self.challenge {
            let mut digest = DigestClient::new(config.auth_user(), config.password.clone());
            let answer = digest.authorize(challenge, "INVITE", target, &ids.token(16));
            let name = if *proxy {
                KnownHeader::ProxyAuthorization
            } else {
                KnownHeader::Authorization
            };
            b = b.header(name, answer.header);
        }
        if let Ok(bytes) = b.body("application/sdp", sdp.to_vec()).build() {
            out.push_back(bytes);
        }
        OutgoingInvite {
            branch,
            cseq: call.local_cseq,
            target: target.to_owned(),
            sdp: sdp.to_vec(),
            since: now,
            provisional: false,
            cancelled: false,
            answered: 0,
            progress_reported: None,
        }
    }

    /// CANCEL for an INVITE still waiting: at once if it rang, else when it does.
    pub(super) fn cancel(
        call: &mut Call,
        config: &UaConfig,
        ids: &Ids,
        out: &mut VecDeque<Vec<u8>>,
    ) {
        let State::Calling(invite) = &mut call.state else {
            return;
        };
        invite.cancelled = true;
        if invite.provisional {
            out.push_back(cancel_request(call, config, ids));
        }
    }

    /// Sends a re-INVITE with a new offer (hold: `a=sendonly`; unhold: `a=sendrecv`).
    pub(crate) fn update(
        &mut self,
        now: Instant,
        handle: CallHandle,
        sdp: &[u8],
        config: &UaConfig,
        ids: &mut Ids,
        out: &mut VecDeque<Vec<u8>>,
    ) -> bool {
        let Some(call) = self
            .find_mut(handle)
            .filter(|c| matches!(c.state, State::Confirmed) && c.pending.is_none())
        else {
            return false;
        };
        let contact = format!("<sip:{}@{};transport=ws;ob>", config.user, ids.host());
        let branch = call.send_in_dialog(
            "INVITE",
            Some(("application/sdp", sdp)),
            Some(contact),
            config,
            ids,
            out,
        );
        call.state = State::Updating {
            branch,
            cseq: call.local_cseq,
            since: now,
        };
        true
    }

    /// Answers to this side's INVITEs and re-INVITEs. Whether it was one.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_outgoing_response(
        &mut self,
        now: Instant,
        response: &Message<'_>,
        config: &UaConfig,
        ids: &mut Ids,
        out: &mut VecDeque<Vec<u8>>,
        events: &mut VecDeque<UaEvent>,
    ) -> bool {
        let Ok(cseq) = response.cseq() else {
            return false;
        };
        if cseq.method != "INVITE" {
            return false;
        }
        let branch = response
            .via()
            .ok()
            .and_then(|v| v.branch())
            .unwrap_or("")
            .to_owned();
        let code = response.status().unwrap_or(0);
        let call_id = response.call_id().unwrap_or("");
        let Some(index) = self.calls.iter().position(|c| match &c.state {
            State::Calling(invite) => invite.branch == branch,
            State::Updating { branch: b, .. } => *b == branch,
            _ => c.call_id == call_id && c.last_ack.as_ref().is_some_and(|(n, _)| *n == cseq.seq),
        }) else {
            return false;
        };
        let state = self.calls[index].state.clone();
        match state {
            State::Calling(invite) => {
                self.on_invite_answer(now, index, invite, response, code, config, ids, out, events);
            }
            State::Updating { cseq: n, .. } if code >= 200 => {
                let call = &mut self.calls[index];
                call.state = State::Confirmed;
                if (200..300).contains(&code) {
                    call.ack_2xx(n, response, ids, out);
                    events.push_back(UaEvent::CallUpdated {
                        call: call.handle,
                        sdp: response.body.to_vec(),
                    });
                } else {
                    // The re-INVITE failed: its transaction's ACK; the old session stays.
                    out.push_back(call.ack_failure(&branch, n, response, ids));
                    events.push_back(UaEvent::CallUpdateFailed {
                        call: call.handle,
                        code,
                    });
                }
            }
            State::Updating { .. } => {}
            // A retransmitted 2xx: the same ACK again.
            _ => {
                if let Some((_, ack)) = &self.calls[index].last_ack {
                    out.push_back(ack.clone());
                }
            }
        }
        true
    }

    #[allow(clippy::too_many_arguments)]
    fn on_invite_answer(
        &mut self,
        now: Instant,
        index: usize,
        mut invite: OutgoingInvite,
        response: &Message<'_>,
        code: u16,
        config: &UaConfig,
        ids: &mut Ids,
        out: &mut VecDeque<Vec<u8>>,
        events: &mut VecDeque<UaEvent>,
    ) {
        let handle = self.calls[index].handle;
        if let Some(tag) = response.to().ok().and_then(|t| t.tag()) {
            self.calls[index].remote_tag = tag.to_owned();
        }
        if code < 200 {
            if code > 100 {
                let first_ring = !invite.provisional;
                invite.provisional = true;
                if invite.progress_reported != Some(code) {
                    invite.progress_reported = Some(code);
                    events.push_back(UaEvent::CallProgress {
                        call: handle,
                        code,
                        sdp: response.body.to_vec(),
                    });
                }
                self.calls[index].state = State::Calling(invite);
                if first_ring
                    && matches!(&self.calls[index].state, State::Calling(i) if i.cancelled)
                {
                    out.push_back(cancel_request(&self.calls[index], config, ids));
                }
                return;
            }
            self.calls[index].state = State::Calling(invite);
            return;
        }
        let call = &mut self.calls[index];
        if (200..300).contains(&code) {
            // The dialog: the other side's Contact, the Record-Route reversed (12.1.2).
            if let Some(contact) = response.contacts().next().and_then(Result::ok) {
                call.remote_target = contact.uri.to_owned();
            }
            let mut routes: Vec<String> = response
                .list(KnownHeader::RecordRoute)
                .map(str::to_owned)
                .collect();
            routes.reverse();
            call.route_set = routes;
            call.ack_2xx(invite.cseq, response, ids, out);
            call.state = State::Confirmed;
            events.push_back(UaEvent::CallAnswered {
                call: handle,
                sdp: response.body.to_vec(),
            });
            if invite.cancelled {
                // Answered while the CANCEL crossed it: end the call properly.
                let branch = call.send_request("BYE", config, ids, out);
                call.state = State::Ending {
                    branch,
                    since: now,
                    reported: false,
                };
            }
            return;
        }
        out.push_back(call.ack_failure(&invite.branch, invite.cseq, response, ids));
        if (code == 401 || code == 407) && invite.answered == 0 && !invite.cancelled {
            let header = if code == 401 {
                KnownHeader::WwwAuthenticate
            } else {
                KnownHeader::ProxyAuthenticate
            };
            if let Some(Ok(challenge)) = response.headers_named(header).map(Challenge::parse).next()
            {
                self.challenge = Some((challenge, code == 407));
                let mut call = self.calls.remove(index);
                let mut retry = self.send_invite(
                    &mut call,
                    now,
                    &invite.target,
                    &invite.sdp,
                    config,
                    ids,
                    out,
                );
                retry.answered = 1;
                call.state = State::Calling(retry);
                self.calls.insert(index, call);
                return;
            }
        }
        let reason = match response.start {
            crate::message::StartLine::Response { reason, .. } => reason.to_owned(),
            crate::message::StartLine::Request { .. } => String::new(),
        };
        let end = if invite.cancelled {
            EndReason::LocalHangup
        } else {
            EndReason::Failed(code, reason)
        };
        self.calls.remove(index);
        events.push_back(UaEvent::CallEnded {
            call: handle,
            reason: end,
        });
    }
}

impl Call {
    /// The ACK of a 2xx: a new transaction in the dialog, remembered for retransmitted
    /// 2xx (RFC 3261 13.2.2.4).
    fn ack_2xx(
        &mut self,
        cseq: u32,
        _response: &Message<'_>,
        ids: &mut Ids,
        out: &mut VecDeque<Vec<u8>>,
    ) {
        let branch = ids.branch();
        let ack = self
            .dialog_request("ACK", cseq, &branch, ids)
            .build()
            .unwrap_or_default();
        out.push_back(ack.clone());
        self.last_ack = Some((cseq, ack));
    }

    /// The ACK of a failure: part of the INVITE transaction (RFC 3261 17.1.1.3), same
    /// branch, the response's To.
    fn ack_failure(&self, branch: &str, cseq: u32, response: &Message<'_>, ids: &Ids) -> Vec<u8> {
        let target = match &self.state {
            State::Calling(invite) => invite.target.as_str(),
            _ => self.remote_target.as_str(),
        };
        let mut b = Builder::request("ACK", target)
            .header(
                KnownHeader::Via,
                format!("SIP/2.0/WS {};branch={branch}", ids.host()),
            )
            .header(KnownHeader::MaxForwards, "70");
        if !matches!(self.state, State::Calling(_)) {
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
fn cancel_request(call: &Call, config: &UaConfig, ids: &Ids) -> Vec<u8> {
    let State::Calling(invite) = &call.state else {
        return Vec::new();
    };
    Builder::request("CANCEL", &invite.target)
        .header(
            KnownHeader::Via,
            format!("SIP/2.0/WS {};branch={}", ids.host(), invite.branch),
        )
        .header(KnownHeader::MaxForwards, "70")
        .header(
            KnownHeader::From,
            format!("{};tag={}", call.local_uri, call.local_tag),
        )
        .header(KnownHeader::To, call.remote_uri.clone())
        .header(KnownHeader::CallId, call.call_id.clone())
        .header(KnownHeader::CSeq, format!("{} CANCEL", invite.cseq))
        .header(KnownHeader::UserAgent, config.user_agent.clone())
        .build()
        .unwrap_or_default()
}
