//! Calls that outlive their flow (RFC 5626 with RFC 3261 12.2.1.2's target refresh).
//!
//! A WebSocket user agent's dialogs reach it over the flow it registered on; the media
//! runs elsewhere. When that flow drops with calls up, each call that is established is
//! kept, suspended, for `UaConfig::flow_grace`; the transactions that were running on
//! the dead flow settle at once (a call still being set up ends, a BYE sent is taken as
//! done, a REFER fails with 408, the other side's pending re-INVITE or REFER is
//! forgotten: its server transaction died with the flow). When a new flow is up and
//! registered, each suspended call sends a re-INVITE carrying this side's Contact, so
//! that the other side (and every proxy on the way, which sees the new connection)
//! sends the dialog's requests over the new flow. The re-INVITE carries the program's
//! offer when it made one meanwhile (an ICE restart), else the last SDP unchanged
//! (RFC 3264 section 8: an unchanged description keeps its version; the other side
//! answers as before). A refusal (481, 408, or any failure but a first 491) or no flow
//! within the grace period ends the call with `EndReason::FlowLost`.
//!
//! The server side uses the same suspension for its legs, and resumes them without a
//! re-INVITE of its own when the agent brings the dialog to a new flow
//! ([`Calls::flow_back`] with `refresh` false).

use std::time::{Duration, Instant};

use super::{Calls, Ctx, EndReason, Purpose, State, WaitingOffer};
use crate::ua::{TIMER_F, UaEvent};

impl Calls {
    /// The flow went down: established calls are suspended until `now + grace`
    /// ([`UaEvent::CallRecovering`]); everything else settles now.
    pub(crate) fn flow_lost(&mut self, now: Instant, grace: Duration, cx: &mut Ctx<'_>) {
        let mut ended = Vec::new();
        for call in &mut self.calls {
            if call.refer.take().is_some() {
                cx.event(UaEvent::TransferFailed {
                    call: call.handle,
                    code: 408,
                });
            }
            // The other side's re-INVITE or REFER cannot be answered any more: their
            // transactions died with the flow (the other side times them out).
            call.incoming_refer = None;
            if !matches!(call.state, State::Offered) {
                call.pending = None;
                call.pending_session = None;
            }
            let waiting = call
                .waiting_offer
                .take()
                .filter(|w| matches!(w.purpose, Purpose::Offer | Purpose::GlareRetry))
                .map(|w| w.sdp);
            let offer = match &call.state {
                State::Offered | State::Calling(_) | State::Answered { initial: true, .. } => {
                    ended.push((call.handle, Some(EndReason::FlowLost)));
                    continue;
                }
                State::Ending { report, .. } => {
                    // The BYE went with the flow: the call is over here all the same.
                    ended.push((call.handle, report.clone()));
                    continue;
                }
                State::Suspended { .. } => continue,
                _ if grace.is_zero() => {
                    ended.push((call.handle, Some(EndReason::FlowLost)));
                    continue;
                }
                State::Answered { .. } | State::Confirmed => waiting,
                State::Updating { sdp, purpose, .. } => match purpose {
                    // This side's offer in flight goes again on the new flow.
                    Purpose::Offer
                    | Purpose::GlareRetry
                    | Purpose::Recover { offered: true, .. } => {
                        waiting.or_else(|| Some(sdp.clone()))
                    }
                    Purpose::Refresh | Purpose::Recover { offered: false, .. } => waiting,
                },
            };
            call.state = State::Suspended {
                until: crate::time::later(now, grace),
                offer,
                hang_up: false,
            };
            cx.event(UaEvent::CallRecovering { call: call.handle });
        }
        for (handle, report) in ended {
            self.forget(handle, report, cx);
        }
    }

    /// A new flow is up (and registered, when registration is wanted): each suspended
    /// call moves to it. With `refresh` (the user agent that lost its flow) by a
    /// re-INVITE, or by a BYE when the program hung up meanwhile; without (the server,
    /// whose agent brought the dialog over itself) it is simply in the call again, its
    /// offer made meanwhile sent once the agent's re-INVITE is answered.
    pub(crate) fn flow_back(&mut self, now: Instant, refresh: bool, cx: &mut Ctx<'_>) {
        for call in &mut self.calls {
            let State::Suspended { offer, hang_up, .. } = &mut call.state else {
                continue;
            };
            let (offer, hang_up) = (offer.take(), *hang_up);
            if hang_up {
                let branch = call.send_in_dialog("BYE", None, &[], cx);
                call.state = State::Ending {
                    branch,
                    since: now,
                    report: None,
                };
            } else if refresh {
                let offered = offer.is_some();
                let sdp = offer.unwrap_or_else(|| call.local_sdp.clone());
                call.send_reinvite(
                    now,
                    sdp,
                    Purpose::Recover {
                        offered,
                        retried: false,
                    },
                    cx,
                );
            } else {
                call.state = State::Confirmed;
                call.waiting_offer = offer.map(|sdp| WaitingOffer {
                    at: now,
                    sdp,
                    until: now + TIMER_F,
                    purpose: Purpose::Offer,
                });
            }
        }
    }

    /// Every call.
    pub(crate) fn handles(&self) -> Vec<super::CallHandle> {
        self.calls.iter().map(|c| c.handle).collect()
    }

    /// Whether there are no calls.
    pub(crate) fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// Whether a call has this Call-ID.
    pub(crate) fn has_call_id(&self, call_id: &str) -> bool {
        self.calls.iter().any(|c| c.call_id == call_id)
    }

    /// Whether a call is waiting for a new flow.
    pub(crate) fn any_suspended(&self) -> bool {
        self.calls
            .iter()
            .any(|c| matches!(c.state, State::Suspended { .. }))
    }

    /// The re-INVITE that was to move the call at `index` to the new flow failed with
    /// `code` (its ACK is sent). A first 491 (both sides offered at once) is tried again
    /// after the random wait; 481 and 408 say the dialog is gone (RFC 3261 12.2.1.2);
    /// any other refusal leaves the other side's dialog without this side's target, so
    /// it gets a BYE. Either way the call ends as lost with its flow.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn recovery_refused(
        &mut self,
        now: Instant,
        index: usize,
        code: u16,
        sdp: Vec<u8>,
        offered: bool,
        retried: bool,
        cx: &mut Ctx<'_>,
    ) {
        let call = &mut self.calls[index];
        let handle = call.handle;
        if code == 491 && !retried {
            let purpose = Purpose::Recover {
                offered,
                retried: true,
            };
            call.schedule_glare_retry(now, sdp, purpose, cx);
            return;
        }
        if matches!(code, 408 | 481) {
            self.forget(handle, Some(EndReason::FlowLost), cx);
        } else {
            self.end(now, handle, None, cx);
            cx.event(UaEvent::CallEnded {
                call: handle,
                reason: EndReason::FlowLost,
            });
        }
    }
}
