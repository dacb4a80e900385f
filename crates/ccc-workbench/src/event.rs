//! What a workbench reports: the guide's hooks H21-H34 as [`Event`]s on an async
//! [`EventStream`], which any number of subscribers may listen to.
//!
//! H25 `onBeforeCallDialing` is not an event: it is a question the integrator answers
//! before a call is dialed ([`crate::hook`]).

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use ccc_core::helpers::LoginSkillGroup;
use ccc_core::{ErrorNotify, SignOutReason};
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio_util::sync::ReusableBoxFuture;

pub use ccc_core::{
    CallComing, CallData, CallDialing, HangUpKind, PrivateData, ReadyKind, StatusChange,
};

/// A hook event of the guide (MAP.md H21-H34) with its payload, or one of the few
/// events beyond the guide a program without a panel needs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// H21 `onInit`: the workbench is built.
    Init,
    /// H22 `onRegister(config)`: the SIP registration succeeded (also again after a
    /// reconnect), with the call-center configuration the agent registered with.
    Register(Arc<RegisterInfo>),
    /// H23 `onCallComing(connid, caller, callee, contactId, skillgroupId)`: an inbound
    /// call rings. Unanswered within the ring timeout (30 s) the agent goes on break.
    CallComing(CallComing),
    /// H24 `onCallDialing(connid, caller, callee, contactId)`: an outbound call dials.
    CallDialing(CallDialing),
    /// H26 `onCallEstablish(connid, caller, privateData)`: the call is connected.
    CallEstablish(CallData),
    /// H27 `onCallRelease(connid, caller, privateData)`: the call ended.
    CallRelease(CallData),
    /// H28 `onErrorNotify(error)`: an operation error or a sign-out event.
    ErrorNotify(ErrorNotify),
    /// H29 `onLogOut()`: signed out, with the guide's reason (`AB_normal` when normal).
    LogOut {
        /// Why.
        reason: SignOutReason,
    },
    /// H30 `onLogIn()`: signed in.
    LogIn,
    /// H31 `onBreak()`: on break, with the break code.
    Break {
        /// The break code (`RingingTimeout` after an unanswered call).
        code: Option<Arc<str>>,
    },
    /// H32 `onReady(type)`: ready; `offline` when answering on the mobile (M15).
    Ready {
        /// The guide's `type`.
        kind: ReadyKind,
    },
    /// H33 `onHangUp(type)`: a call was hung up.
    HangUp {
        /// The guide's `type`: ringing, dialing, inbound or outbound.
        kind: HangUpKind,
    },
    /// H34 `onStatusChange(code, lastCode, context)`: every status change, once, before
    /// the other events of the same change.
    StatusChange(StatusChange),
    /// Beyond the guide: the far end pressed a key during the call (RFC 4733 telephone
    /// event on the agent's media), which a voice bot collects.
    Dtmf {
        /// `0`-`9`, `*`, `#`, `A`-`D`.
        digit: char,
    },
    /// Beyond the guide: the call's audio is flowing (ICE and DTLS up).
    MediaConnected {
        /// The codec the agent sends (`opus`, `PCMU`, `PCMA`).
        codec: Option<String>,
    },
    /// Beyond the guide: the call's audio path was lost (nothing heard on it for
    /// ccc-media's `ice_disconnected_timeout`); the workbench restarts ICE, with a
    /// re-INVITE carrying fresh candidates. [`Event::MediaReconnected`] follows when the
    /// path is back; if it does not come back, `onErrorNotify` (`get_lo_failed`) and
    /// the call is released.
    MediaDisconnected,
    /// Beyond the guide: the call's audio path is back after
    /// [`Event::MediaDisconnected`].
    MediaReconnected,
    /// Beyond the guide: this subscriber fell behind and missed `missed` events. The
    /// status is still right: ask [`Workbench::status_code`](crate::Workbench::status_code).
    Lagged {
        /// How many events were lost for this subscriber.
        missed: u64,
    },
}

impl Event {
    /// The guide's hook name (`onStatusChange`, ...), or this crate's name for the
    /// events beyond the guide (`dtmf`, `mediaConnected`, `lagged`).
    pub const fn hook_name(&self) -> &'static str {
        match self {
            Self::Init => "onInit",
            Self::Register(_) => "onRegister",
            Self::CallComing(_) => "onCallComing",
            Self::CallDialing(_) => "onCallDialing",
            Self::CallEstablish(_) => "onCallEstablish",
            Self::CallRelease(_) => "onCallRelease",
            Self::ErrorNotify(_) => "onErrorNotify",
            Self::LogOut { .. } => "onLogOut",
            Self::LogIn => "onLogIn",
            Self::Break { .. } => "onBreak",
            Self::Ready { .. } => "onReady",
            Self::HangUp { .. } => "onHangUp",
            Self::StatusChange(_) => "onStatusChange",
            Self::Dtmf { .. } => "dtmf",
            Self::MediaConnected { .. } => "mediaConnected",
            Self::MediaDisconnected => "mediaDisconnected",
            Self::MediaReconnected => "mediaReconnected",
            Self::Lagged { .. } => "lagged",
        }
    }

    /// The event as one JSON object with the guide's names: `hook` and the hook's
    /// arguments (`{"hook":"onStatusChange","code":3,"lastCode":2,"context":{"connid":null}}`).
    /// Secrets are never in events; phone numbers are, as the hooks carry them.
    pub fn to_json(&self) -> Value {
        let mut v = match self {
            Self::Init | Self::LogIn => json!({}),
            Self::Register(info) => json!({ "config": info.to_json() }),
            Self::CallComing(c) => json!({
                "connid": c.connid.as_deref(),
                "caller": c.caller.as_deref(),
                "callee": c.callee.as_deref(),
                "contactId": c.contact_id.as_deref(),
                "skillgroupId": c.skillgroup_id.as_deref(),
            }),
            Self::CallDialing(c) => json!({
                "connid": c.connid.as_deref(),
                "caller": c.caller.as_deref(),
                "callee": c.callee.as_deref(),
                "contactId": c.contact_id.as_deref(),
            }),
            Self::CallEstablish(d) | Self::CallRelease(d) => call_data_json(d),
            Self::ErrorNotify(e) => json!({ "error": error_json(e) }),
            Self::LogOut { reason } => json!({ "reason": reason.code() }),
            Self::Break { code } => json!({ "code": code.as_deref() }),
            Self::Ready { kind } => json!({
                "type": match kind {
                    ReadyKind::Offline => Some("offline"),
                    ReadyKind::Normal => None,
                }
            }),
            Self::HangUp { kind } => json!({ "type": kind.as_str() }),
            Self::StatusChange(s) => json!({
                "code": s.code.code(),
                "lastCode": s.last_code.code(),
                "context": { "connid": s.connid.as_deref() },
            }),
            Self::Dtmf { digit } => json!({ "digit": digit.to_string() }),
            Self::MediaConnected { codec } => json!({ "codec": codec }),
            Self::MediaDisconnected | Self::MediaReconnected => json!({}),
            Self::Lagged { missed } => json!({ "missed": missed }),
        };
        if let Value::Object(map) = &mut v {
            map.insert("hook".to_owned(), Value::from(self.hook_name()));
        }
        v
    }
}

impl fmt::Display for Event {
    /// The event's JSON on one line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_json())
    }
}

impl From<ccc_core::Event> for Event {
    /// The core's events, except `Register`, whose payload the workbench adds.
    fn from(event: ccc_core::Event) -> Self {
        use ccc_core::Event as E;
        match event {
            E::CallComing(c) => Self::CallComing(c),
            E::CallDialing(c) => Self::CallDialing(c),
            E::CallEstablish(d) => Self::CallEstablish(d),
            E::CallRelease(d) => Self::CallRelease(d),
            E::ErrorNotify(e) => Self::ErrorNotify(e),
            E::LogOut { reason } => Self::LogOut { reason },
            E::LogIn => Self::LogIn,
            E::Break { code } => Self::Break { code },
            E::Ready { kind } => Self::Ready { kind },
            E::HangUp { kind } => Self::HangUp { kind },
            E::StatusChange(s) => Self::StatusChange(s),
            // `Init`, `Register` and any later core event: the workbench emits `Init`
            // itself and attaches the configuration to `Register`.
            _ => Self::Init,
        }
    }
}

fn call_data_json(d: &CallData) -> Value {
    json!({
        "connid": d.connid.as_deref(),
        "caller": d.caller.as_deref(),
        "privateData": {
            "acid": d.private_data.acid.as_deref(),
            "adacc": d.private_data.adacc.as_deref(),
            "dnis": d.private_data.dnis.as_deref(),
            "data": d.private_data.data.as_deref(),
            "skillgroupname": d.private_data.skillgroupname.as_deref(),
        },
    })
}

/// `onErrorNotify`'s `error` object with the guide's keys.
pub(crate) fn error_json(e: &ErrorNotify) -> Value {
    json!({
        "errorApi": &*e.api,
        "errorCode": e.code.as_str(),
        "errorMsg": &*e.msg,
        "errorMsgTip": &*e.msg_tip,
        "requestId": e.request_id.as_deref(),
    })
}

/// H22's `config`: what the agent registered with (no secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegisterInfo {
    /// The agent (`agent@instance`).
    pub user_id: String,
    /// The instance.
    pub instance_id: String,
    /// `UserName` of the login info.
    pub user_name: Option<String>,
    /// `DisplayName`.
    pub display_name: Option<String>,
    /// The SIP extension the device registered as.
    pub extension: String,
    /// `Region`.
    pub region: Option<String>,
    /// The agent's role names.
    pub roles: Vec<String>,
    /// The SIP-over-WebSocket gateway (`WebRtcUrl`).
    pub web_rtc_url: String,
    /// The agent link (`AgentServerUrl`).
    pub agent_server_url: String,
    /// The device the agent signed in on.
    pub device_id: String,
    /// The access point (TURN region) the calls use, `default` when none was chosen.
    pub access_point: String,
    /// The skill groups the agent signs in to.
    pub skill_groups: Vec<LoginSkillGroup>,
    /// The platform settings read at start (`ListConfig`), name and value.
    pub platform_config: Vec<(String, String)>,
}

impl RegisterInfo {
    /// The configuration as JSON with the guide's camelCase names.
    pub fn to_json(&self) -> Value {
        json!({
            "userId": self.user_id,
            "instanceId": self.instance_id,
            "userName": self.user_name,
            "displayName": self.display_name,
            "extension": self.extension,
            "region": self.region,
            "roles": self.roles,
            "webRtcUrl": self.web_rtc_url,
            "agentServerUrl": self.agent_server_url,
            "deviceId": self.device_id,
            "accessPoint": self.access_point,
            "skillGroups": self.skill_groups,
            "platformConfig": self.platform_config.iter()
                .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                .collect::<serde_json::Map<_, _>>(),
        })
    }
}

type Recv = (
    Result<Event, broadcast::error::RecvError>,
    broadcast::Receiver<Event>,
);

async fn recv(mut rx: broadcast::Receiver<Event>) -> Recv {
    let item = rx.recv().await;
    (item, rx)
}

/// The events of one workbench for one subscriber, in order: a
/// [`Stream`](futures_core::Stream) of [`Event`], also readable with
/// [`EventStream::recv`]. It ends when the workbench has stopped and every event was
/// read. A subscriber that falls more than the buffer behind gets [`Event::Lagged`].
pub struct EventStream {
    inner: ReusableBoxFuture<'static, Recv>,
    done: bool,
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl EventStream {
    pub(crate) fn new(rx: broadcast::Receiver<Event>) -> Self {
        Self {
            inner: ReusableBoxFuture::new(recv(rx)),
            done: false,
        }
    }

    /// The next event; `None` once the workbench has stopped.
    pub async fn recv(&mut self) -> Option<Event> {
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        if self.done {
            return Poll::Ready(None);
        }
        let (item, rx) = std::task::ready!(self.inner.poll(cx));
        let out = match item {
            Ok(event) => Some(event),
            Err(broadcast::error::RecvError::Lagged(missed)) => Some(Event::Lagged { missed }),
            Err(broadcast::error::RecvError::Closed) => None,
        };
        if out.is_none() {
            self.done = true;
        } else {
            self.inner.set(recv(rx));
        }
        Poll::Ready(out)
    }
}

impl futures_core::Stream for EventStream {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.get_mut().poll_event(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ccc_core::Status;

    #[test]
    fn json_has_the_guides_names() {
        let e = Event::StatusChange(StatusChange {
            code: Status::Ready,
            last_code: Status::SignedIn,
            connid: None,
        });
        assert_eq!(
            e.to_json().to_string(),
            r#"{"code":3,"context":{"connid":null},"hook":"onStatusChange","lastCode":2}"#
        );
        let e = Event::Ready {
            kind: ReadyKind::Offline,
        };
        assert_eq!(e.to_json()["type"], "offline");
        let e = Event::ErrorNotify(ErrorNotify::sign_out(SignOutReason::AsmSip));
        assert_eq!(e.to_json()["error"]["errorCode"], "ASM_SIP");
        assert_eq!(e.hook_name(), "onErrorNotify");
    }

    #[tokio::test]
    async fn every_subscriber_sees_every_event_and_a_slow_one_is_told() {
        let (tx, _) = broadcast::channel(4);
        let mut a = EventStream::new(tx.subscribe());
        let mut b = EventStream::new(tx.subscribe());
        tx.send(Event::Init).unwrap();
        tx.send(Event::LogIn).unwrap();
        assert_eq!(a.recv().await, Some(Event::Init));
        assert_eq!(a.recv().await, Some(Event::LogIn));
        for _ in 0..6 {
            tx.send(Event::Dtmf { digit: '1' }).unwrap();
        }
        assert_eq!(b.recv().await, Some(Event::Lagged { missed: 4 }));
        drop(tx);
        let mut n = 0;
        while let Some(e) = b.recv().await {
            assert_eq!(e, Event::Dtmf { digit: '1' });
            n += 1;
        }
        assert_eq!(n, 4);
        assert_eq!(b.recv().await, None);
    }
}
