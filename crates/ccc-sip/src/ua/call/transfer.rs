//! Transfers (RFC 3515, RFC 5589): this side's REFER (blind, or attended with
//! `Replaces`) and the NOTIFY progress it gets back; the other side's REFER, followed by
//! a new call when the program accepts it, with NOTIFY progress sent back.

use std::time::{Duration, Instant};

use super::outgoing::NewCall;
use super::{CallHandle, Calls, Ctx, Received, State};
use crate::message::{KnownHeader, Message, NameAddr, SipUri};
use crate::ua::{TIMER_F, UaEvent};

/// How long the program has to accept or refuse a REFER before it is refused for it
/// (well within the other side's Timer F).
const DECIDE_LIMIT: Duration = Duration::from_secs(TIMER_F.as_secs() / 2);

/// The other side's REFER, waiting for the program.
#[derive(Debug, Clone)]
pub(crate) struct IncomingRefer {
    request: Received,
    tag: String,
    since: Instant,
    /// The Refer-To URI without its headers.
    target: String,
    /// The `Replaces` value the new INVITE carries (attended transfer).
    replaces: Option<String>,
    referred_by: Option<String>,
}

impl IncomingRefer {
    pub(super) fn deadline(&self) -> Instant {
        self.since + DECIDE_LIMIT
    }

    /// Answers the REFER with a failure.
    pub(super) fn refuse(self, code: u16, reason: &str, cx: &mut Ctx<'_>) {
        cx.out
            .push_back(self.request.response(code, reason, &self.tag, &[], None));
    }
}

/// Whether a NOTIFY is about a REFER (`Event: refer`, maybe with an `id`).
pub(super) fn is_refer_event(request: &Message<'_>) -> bool {
    request.header(KnownHeader::Event).is_some_and(|e| {
        e.split(';')
            .next()
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("refer"))
    })
}

impl Calls {
    /// Transfers the other party of `handle` to `target` (REFER, RFC 3515); with
    /// `replaces`, the call `replaces` takes the place of the new one (attended
    /// transfer, RFC 3891).
    pub(crate) fn refer(
        &mut self,
        now: Instant,
        handle: CallHandle,
        target: &str,
        replaces: Option<CallHandle>,
        cx: &mut Ctx<'_>,
    ) -> bool {
        // The target goes inside `<...>` with URI headers after it: a SIP URI of its
        // own, without headers, or the REFER would say something else.
        let plain_sip_uri = SipUri::parse(target).is_ok_and(|uri| uri.headers.is_none())
            && !target.contains(['<', '>', '"', ',', ' ', '\r', '\n']);
        if !plain_sip_uri {
            return false;
        }
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
        let headers = [
            (
                KnownHeader::ReferTo,
                format!("<{target}{}>", replaces.unwrap_or_default()),
            ),
            (KnownHeader::ReferredBy, format!("<{}>", cx.config.aor())),
            (KnownHeader::Contact, cx.ids.contact().to_owned()),
        ];
        let branch = call.send_in_dialog("REFER", None, &headers, cx);
        call.refer = Some((branch, now));
        true
    }

    /// The answer to this side's REFER. Whether it was one.
    pub(super) fn on_refer_response(&mut self, response: &Message<'_>, cx: &mut Ctx<'_>) -> bool {
        let branch = response.via().ok().and_then(|v| v.branch());
        let Some(call) = self
            .calls
            .iter_mut()
            .find(|c| c.refer.as_ref().map(|(b, _)| b.as_str()) == branch && branch.is_some())
        else {
            return false;
        };
        let code = response.status().unwrap_or(0);
        if code >= 200 {
            call.refer = None;
            cx.event(if (200..300).contains(&code) {
                UaEvent::TransferAccepted { call: call.handle }
            } else {
                UaEvent::TransferFailed {
                    call: call.handle,
                    code,
                }
            });
        }
        true
    }

    /// A NOTIFY about this side's REFER: its message/sipfrag body says how it goes.
    pub(super) fn on_notify(&mut self, index: usize, request: &Message<'_>, cx: &mut Ctx<'_>) {
        let call = &self.calls[index];
        cx.respond(request, 200, "OK", &call.local_tag);
        let status = std::str::from_utf8(request.body)
            .ok()
            .and_then(|b| b.strip_prefix("SIP/2.0 "))
            .and_then(|b| b.get(..3))
            .and_then(|c| c.parse().ok());
        if let Some(code) = status {
            cx.event(UaEvent::TransferProgress {
                call: call.handle,
                code,
            });
        }
    }

    /// The other side's REFER: checked, then offered to the program.
    pub(super) fn on_refer(
        &mut self,
        now: Instant,
        index: usize,
        request: &Message<'_>,
        cx: &mut Ctx<'_>,
    ) {
        let call = &mut self.calls[index];
        let tag = call.local_tag.clone();
        if !call.is_up() {
            cx.respond(request, 403, "Not In A Call", &tag);
            return;
        }
        if call.incoming_refer.is_some() {
            cx.respond(request, 491, "Request Pending", &tag);
            return;
        }
        let mut refer_to = request.list(KnownHeader::ReferTo);
        let (Some(value), None) = (refer_to.next(), refer_to.next()) else {
            cx.respond(request, 400, "One Refer-To Expected", &tag);
            return;
        };
        let Some((target, replaces)) = refer_target(value) else {
            cx.respond(request, 400, "Bad Refer-To", &tag);
            return;
        };
        let referred_by = request.header(KnownHeader::ReferredBy).map(str::to_owned);
        cx.event(UaEvent::TransferRequested {
            call: call.handle,
            target: target.clone(),
            replaces: replaces.is_some(),
        });
        call.incoming_refer = Some(IncomingRefer {
            request: Received::of(request),
            tag,
            since: now,
            target,
            replaces,
            referred_by,
        });
    }

    /// Accepts the other side's REFER of `handle`: 202, a NOTIFY `100 Trying`, and the
    /// new call to the Refer-To target with the SDP offer `sdp` (with `Replaces` and
    /// `Referred-By` when the REFER asked for them); the new call's progress goes back
    /// as NOTIFYs. The new call, or `None` when no REFER waits.
    pub(crate) fn accept_transfer(
        &mut self,
        now: Instant,
        handle: CallHandle,
        sdp: &[u8],
        cx: &mut Ctx<'_>,
    ) -> Option<CallHandle> {
        let refer = self.accept_refer(handle, cx)?;
        let mut headers = Vec::new();
        if let Some(replaces) = refer.replaces {
            headers.push((KnownHeader::Replaces, replaces));
        }
        if let Some(by) = refer.referred_by {
            headers.push((KnownHeader::ReferredBy, by));
        }
        let new = NewCall {
            to: format!("<{}>", refer.target),
            uri: refer.target,
            from: format!("<{}>", cx.config.aor()),
            headers,
        };
        let placed = self.invite(now, new, sdp, cx);
        if let Some(call) = self.find_mut(placed) {
            call.notify = Some(handle);
        }
        Some(placed)
    }

    /// Answers the other side's REFER of `handle` with 202 and a NOTIFY `100 Trying`;
    /// the REFER, for the caller to follow.
    pub(crate) fn accept_refer(
        &mut self,
        handle: CallHandle,
        cx: &mut Ctx<'_>,
    ) -> Option<IncomingRefer> {
        let refer = self.find_mut(handle)?.incoming_refer.take()?;
        let contact = [(KnownHeader::Contact, cx.ids.contact().to_owned())];
        cx.out.push_back(
            refer
                .request
                .response(202, "Accepted", &refer.tag, &contact, None),
        );
        self.notify_transfer(handle, 100, "Trying", cx);
        Some(refer)
    }

    /// Refuses the other side's REFER of `handle` with `code`. False when none waits.
    pub(crate) fn reject_transfer(
        &mut self,
        handle: CallHandle,
        code: u16,
        reason: &str,
        cx: &mut Ctx<'_>,
    ) -> bool {
        let Some(refer) = self.find_mut(handle).and_then(|c| c.incoming_refer.take()) else {
            return false;
        };
        refer.refuse(code, reason, cx);
        true
    }

    /// Reports the progress of a transfer this side follows on the call `transferred`
    /// (a NOTIFY with a message/sipfrag status line, RFC 3515 section 2.4.5). False
    /// when that call is gone.
    pub(crate) fn notify_transfer(
        &mut self,
        transferred: CallHandle,
        code: u16,
        reason: &str,
        cx: &mut Ctx<'_>,
    ) -> bool {
        let Some(call) = self.find_mut(transferred).filter(|c| c.is_up()) else {
            return false;
        };
        let state = if code >= 200 {
            "terminated;reason=noresource"
        } else {
            "active;expires=60"
        };
        let headers = [
            (KnownHeader::Event, "refer".to_owned()),
            (KnownHeader::SubscriptionState, state.to_owned()),
            (KnownHeader::Contact, cx.ids.contact().to_owned()),
        ];
        let reason: String = reason.chars().filter(|c| !c.is_control()).collect();
        let fragment = format!("SIP/2.0 {code} {reason}\r\n");
        call.send_in_dialog(
            "NOTIFY",
            Some(("message/sipfrag;version=2.0", fragment.as_bytes())),
            &headers,
            cx,
        );
        true
    }
}

/// The Refer-To target without its URI headers, and the unescaped `Replaces` header
/// among them. `None` unless it is a SIP or SIPS URI.
fn refer_target(value: &str) -> Option<(String, Option<String>)> {
    let addr = NameAddr::parse(value).ok()?;
    let uri = SipUri::parse(addr.uri).ok()?;
    let (bare, headers) = match uri.headers {
        Some(headers) => (addr.uri.split_once('?')?.0, headers),
        None => (addr.uri, ""),
    };
    let replaces = headers
        .split('&')
        .filter_map(|h| h.split_once('='))
        .find(|(name, _)| name.eq_ignore_ascii_case("Replaces"))
        .and_then(|(_, value)| unescape(value));
    Some((bare.to_owned(), replaces))
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

/// Undoes `%XY` escapes; `None` when they are malformed or the result is not UTF-8
/// without line breaks (it becomes a header value).
fn unescape(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .ok()
        .filter(|s| !s.contains(['\r', '\n']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refer_targets_and_their_replaces() {
        assert_eq!(
            refer_target("<sip:1002@ccc.test>"),
            Some(("sip:1002@ccc.test".to_owned(), None))
        );
        assert_eq!(
            refer_target("<sip:1002@ccc.test?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>"),
            Some((
                "sip:1002@ccc.test".to_owned(),
                Some("abc@h;to-tag=1;from-tag=2".to_owned())
            ))
        );
        assert_eq!(refer_target("<tel:+861380000>"), None);
        assert_eq!(
            refer_target("<sip:a@b?Replaces=%0D%0Ax>").map(|t| t.1),
            Some(None)
        );
        assert_eq!(
            refer_target("<sip:a@b?Replaces=%4>").map(|t| t.1),
            Some(None)
        );
        let escaped = escape_header_value("x@y;to-tag=a b");
        assert_eq!(unescape(&escaped).as_deref(), Some("x@y;to-tag=a b"));
    }
}
