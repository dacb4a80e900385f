//! Session timers (RFC 4028), when the other side asks for them: the interval and who
//! refreshes, taken from its request or its answer; refreshes by UPDATE (when it allows
//! UPDATE) or by re-INVITE with the same SDP; a BYE when the session expires.

use std::time::{Duration, Instant};

use super::{Call, Ctx, Purpose, State};
use crate::message::{KnownHeader, Message, Params};

/// What a request says about the session timer.
pub(super) enum Offer {
    /// Nothing: no session timer.
    None,
    /// It asks for one.
    Asked(Asked),
    /// Its interval is below this side's minimum: answer 422 with this `Min-SE`.
    TooBrief(u32),
}

/// A session timer asked for in a request this side answers.
#[derive(Debug, Clone)]
pub(super) struct Asked {
    interval: u32,
    /// The side that sent the request refreshes (`refresher=uac`).
    requester_refreshes: bool,
    /// The requester supports the extension (so the answer may require it).
    requester_supports: bool,
}

/// A running session timer.
#[derive(Debug, Clone)]
pub(super) struct SessionTimer {
    interval: u32,
    we_refresh: bool,
    /// When this side sends its refresh (half the interval), if it is the refresher.
    refresh_at: Option<Instant>,
    /// When this side ends the session if no refresh came: the interval less
    /// min(32 s, a third of it) (RFC 4028 section 10).
    bye_at: Instant,
}

/// The `Session-Expires` value: the interval and its `refresher` parameter.
fn session_expires(message: &Message<'_>) -> Option<(u32, Option<bool>)> {
    let value = message.header(KnownHeader::SessionExpires)?;
    let (delta, params) = value.split_once(';').unwrap_or((value, ""));
    let interval = delta.trim().parse::<u32>().ok()?;
    let params = format!(";{params}");
    let refresher = Params::new(&params)
        .value("refresher")
        .map(|r| r.eq_ignore_ascii_case("uac"));
    Some((interval, refresher))
}

fn supports_timer(message: &Message<'_>) -> bool {
    message
        .list(KnownHeader::Supported)
        .chain(message.list(KnownHeader::Require))
        .any(|o| o.eq_ignore_ascii_case("timer"))
}

/// What `request` (an INVITE, re-INVITE or UPDATE to this side) asks; `min` is this
/// side's shortest acceptable interval.
pub(super) fn offered(request: &Message<'_>, min: u32) -> Offer {
    let Some((interval, refresher)) = session_expires(request) else {
        return Offer::None;
    };
    let their_min = request
        .header(KnownHeader::MinSe)
        .and_then(|v| v.split(';').next()?.trim().parse::<u32>().ok())
        .unwrap_or(0);
    if interval < min || interval == 0 {
        return Offer::TooBrief(min.max(their_min).max(1));
    }
    let requester_supports = supports_timer(request);
    Offer::Asked(Asked {
        interval,
        // Without a choice, this side picks the requester when it can refresh.
        requester_refreshes: refresher.unwrap_or(requester_supports),
        requester_supports,
    })
}

/// The session timer a 2xx to this side's INVITE, re-INVITE or UPDATE sets up (`None`:
/// none, RFC 4028 section 7.2).
pub(super) fn answered(response: &Message<'_>, now: Instant) -> Option<SessionTimer> {
    let (interval, refresher) = session_expires(response)?;
    // This side sent the request: `uac` is this side (and the default).
    Some(SessionTimer::start(
        interval.max(1),
        refresher.unwrap_or(true),
        now,
    ))
}

impl Asked {
    /// The headers of this side's 2xx.
    pub(super) fn response_headers(&self) -> Vec<(KnownHeader, String)> {
        let refresher = if self.requester_refreshes {
            "uac"
        } else {
            "uas"
        };
        let mut headers = vec![(
            KnownHeader::SessionExpires,
            format!("{};refresher={refresher}", self.interval),
        )];
        if self.requester_supports {
            headers.push((KnownHeader::Require, "timer".to_owned()));
        }
        headers
    }

    /// The timer once the 2xx is sent.
    pub(super) fn start(&self, now: Instant) -> SessionTimer {
        SessionTimer::start(self.interval, !self.requester_refreshes, now)
    }
}

impl SessionTimer {
    fn start(interval: u32, we_refresh: bool, now: Instant) -> Self {
        let whole = Duration::from_secs(u64::from(interval));
        Self {
            interval,
            we_refresh,
            refresh_at: we_refresh.then(|| now + whole / 2),
            bye_at: now + whole - (whole / 3).min(Duration::from_secs(32)),
        }
    }

    pub(super) fn deadline(&self) -> Instant {
        self.refresh_at.map_or(self.bye_at, |r| r.min(self.bye_at))
    }

    /// The `Session-Expires` of this side's re-INVITE or UPDATE in the session: the
    /// same interval and the same refresher.
    pub(super) fn request_headers(&self) -> Vec<(KnownHeader, String)> {
        let refresher = if self.we_refresh { "uac" } else { "uas" };
        vec![
            (
                KnownHeader::SessionExpires,
                format!("{};refresher={refresher}", self.interval),
            ),
            (KnownHeader::Supported, "timer".to_owned()),
        ]
    }
}

/// While the call is busy with another offer, a due refresh waits this long.
const BUSY_WAIT: Duration = Duration::from_millis(500);

impl Call {
    /// Runs the session timer at `now`: sends the refresh when due; true when the
    /// session expired (the caller ends the call).
    pub(super) fn session_timer_due(&mut self, now: Instant, cx: &mut Ctx<'_>) -> bool {
        let busy = !self.is_idle() || self.waiting_offer.is_some();
        let Some(timer) = &mut self.session_timer else {
            return false;
        };
        if timer.bye_at <= now {
            self.session_timer = None;
            return true;
        }
        let Some(at) = timer.refresh_at.filter(|at| *at <= now) else {
            return false;
        };
        if busy {
            timer.refresh_at = Some((at + BUSY_WAIT).min(timer.bye_at).max(now + BUSY_WAIT));
            return false;
        }
        timer.refresh_at = None;
        let mut headers = timer.request_headers();
        headers.push((KnownHeader::Contact, cx.ids.contact().to_owned()));
        let sdp = self.local_sdp.clone();
        let (branch, body) = if self.peer_allows_update {
            (
                self.send_in_dialog("UPDATE", None, &headers, cx),
                Vec::new(),
            )
        } else {
            let body = Some(("application/sdp", &sdp[..]));
            (self.send_in_dialog("INVITE", body, &headers, cx), sdp)
        };
        self.state = State::Updating {
            branch,
            cseq: self.local_cseq,
            since: now,
            sdp: body,
            purpose: Purpose::Refresh,
        };
        false
    }
}
