//! The server side, for the emulator: a registrar and call legs over the flows that
//! user agents open to it (WebSocket, secure WebSocket, or plain TCP for SIPp and
//! proxies).
//!
//! [`Server`] is sans-IO like [`UserAgent`]: tell it about flows
//! ([`Server::open_flow`], [`Server::close_flow`]), feed it what they carry
//! ([`Server::handle_message`]) and the time ([`Server::handle_timeout`]), then drain
//! [`Server::poll_transmit`] (messages, each for one flow), [`Server::poll_event`] and
//! [`Server::poll_timeout`]. Each flow has a user-agent core of its own (the same one the
//! client uses), so the server answers and places calls exactly as a phone does; on top
//! sit the registrar (digest against [`Accounts`], bindings with expiry, bound to their
//! flow) and the routing of calls to a registered address of record over the flow it
//! registered on. [`SipServer`] is the thin tokio driver.
//!
//! As a back-to-back user agent, the emulator places calls to agents with
//! [`Server::invite`] and gets the agents' own calls as [`UaEvent::IncomingCall`]; each
//! call is a [`Leg`], driven with the same verbs as a phone's call.
//!
//! A call outlives its flow (RFC 5626 flow recovery, the server's half): when a flow
//! closes with calls up, they wait [`ServerConfig::flow_grace`] for the agent to come
//! back. An in-dialog re-INVITE that arrives on another flow registered by the same
//! `+sip.instance` moves the dialogs of the old flow onto it: the [`Leg`] keeps its name
//! (the old flow's id), and what it sends goes over the new flow. All the dialogs of one
//! flow move together (one instance, one flow, as a WebSocket phone has). The old flow
//! may still be open (a black-holed connection the agent gave up on).

mod driver;
mod registrar;

pub use driver::{
    COMMAND_LIMIT, FlowFault, ListenConfig, ServerError, ServerEvents, SipServer, TlsIdentity,
};
pub use registrar::Binding;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::auth::Algorithm;
use crate::message::{Message, NameAddr, parse};
use crate::ua::{CallHandle, NewCall, UaConfig, UaEvent, UserAgent};
use registrar::{Out, Registrar};

/// One flow (one connection) to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowId(u64);

impl fmt::Display for FlowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flow-{}", self.0)
    }
}

/// One call on one flow: what the call verbs of [`Server`] and [`SipServer`] take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Leg {
    /// The flow it started on (its name for good: a call moved to the agent's new flow
    /// keeps it).
    pub flow: FlowId,
    /// The call, as that flow's user agent knows it.
    pub call: CallHandle,
}

/// How a flow carries SIP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Transport {
    /// WebSocket (RFC 7118).
    Ws,
    /// WebSocket over TLS.
    Wss,
    /// Plain TCP (RFC 3261 section 18), for SIPp and proxies.
    Tcp,
}

impl Transport {
    /// As written in a Via.
    pub const fn via_name(self) -> &'static str {
        match self {
            Self::Ws => "WS",
            Self::Wss => "WSS",
            Self::Tcp => "TCP",
        }
    }
}

/// Where the registrar finds passwords: the caller's directory of users. A closure
/// `Fn(&str) -> Option<String>` is one.
pub trait Accounts: Send + Sync {
    /// The digest password of `user` (the user part of the address of record), or
    /// `None` when there is no such user.
    fn password(&self, user: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String> + Send + Sync> Accounts for F {
    fn password(&self, user: &str) -> Option<String> {
        self(user)
    }
}

impl Accounts for HashMap<String, String> {
    fn password(&self, user: &str) -> Option<String> {
        self.get(user).cloned()
    }
}

/// What the server is and how its registrar behaves.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The SIP domain it serves (`sip:user@domain` addresses of record).
    pub domain: String,
    /// The digest realm (default: the domain).
    pub realm: String,
    /// The digest algorithm of its challenges (default MD5, what SIP phones expect).
    pub digest_algorithm: Algorithm,
    /// How long a nonce stays fresh (default 300 s); an older one is answered
    /// `stale=true`.
    pub nonce_lifetime: Duration,
    /// The shortest registration it grants (default 60 s; shorter gets 423).
    pub min_expires: u32,
    /// The longest (default 3600 s; longer is cut to it).
    pub max_expires: u32,
    /// The registration length when the REGISTER names none (default 600 s).
    pub default_expires: u32,
    /// Contacts per address of record (default 8).
    pub max_bindings_per_aor: usize,
    /// New calls from a flow that registered nothing are refused with 403 (default
    /// true); false lets a trunk or a proxy bring calls in.
    pub require_registration: bool,
    /// The user part of the server's Contact (default `ccc`).
    pub contact_user: String,
    /// The host of its Via and Contact (default: the address the flow came in on).
    pub host: Option<String>,
    /// Its `User-Agent` and `Server` header.
    pub user_agent: String,
    /// The shortest session interval it accepts when asked for a session timer.
    pub min_session_expires: u32,
    /// How long an established call waits for its agent when the agent's flow closes
    /// (default 32 s; zero ends the calls with the flow): the agent may bring it to a
    /// new flow meanwhile (see the [module docs](self)); else it ends with
    /// [`EndReason::FlowLost`](crate::ua::EndReason::FlowLost).
    pub flow_grace: Duration,
}

impl ServerConfig {
    /// Defaults for `domain`.
    pub fn new(domain: impl Into<String>) -> Self {
        let domain = domain.into();
        Self {
            realm: domain.clone(),
            domain,
            digest_algorithm: Algorithm::Md5,
            nonce_lifetime: Duration::from_secs(300),
            min_expires: 60,
            max_expires: 3600,
            default_expires: 600,
            max_bindings_per_aor: 8,
            require_registration: true,
            contact_user: "ccc".to_owned(),
            host: None,
            user_agent: concat!("ccc-rs-server/", env!("CARGO_PKG_VERSION")).to_owned(),
            min_session_expires: 90,
            flow_grace: Duration::from_secs(32),
        }
    }
}

/// Why a registration ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnregisterReason {
    /// The user agent removed it (`Expires: 0`, `Contact: *`).
    Removed,
    /// It was not refreshed in time.
    Expired,
    /// Its flow closed (RFC 5626: a binding lives on its flow).
    FlowClosed,
    /// The same instance registered again over another flow.
    Replaced,
}

/// What the server reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// A flow was opened.
    FlowOpened {
        /// The flow.
        flow: FlowId,
        /// How it carries SIP.
        transport: Transport,
        /// The other end.
        peer: SocketAddr,
    },
    /// A flow closed; its bindings went before this event, its calls being set up
    /// ended ([`EndReason::FlowLost`](crate::ua::EndReason)), its established calls
    /// wait [`ServerConfig::flow_grace`] for the agent's next flow
    /// ([`UaEvent::CallRecovering`]).
    FlowClosed {
        /// The flow.
        flow: FlowId,
    },
    /// A contact registered, or refreshed its registration.
    Registered {
        /// The flow it registered over.
        flow: FlowId,
        /// The address of record.
        aor: String,
        /// The contact URI.
        contact: String,
        /// For how long, in seconds.
        expires: u32,
        /// A refresh of a binding that was there.
        refreshed: bool,
        /// Its `+sip.instance` (RFC 5626), without the angle brackets, as in
        /// [`Binding::instance`]: the device, without asking for the bindings.
        instance: Option<String>,
    },
    /// A binding went.
    Unregistered {
        /// The flow it was on.
        flow: FlowId,
        /// The address of record.
        aor: String,
        /// The contact URI.
        contact: String,
        /// Why.
        reason: UnregisterReason,
    },
    /// A REGISTER's credentials were refused (401: wrong password or unknown user;
    /// 403: the user is not the To).
    RegistrationRefused {
        /// The flow.
        flow: FlowId,
        /// The address of record it tried.
        aor: String,
        /// The status answered.
        code: u16,
    },
    /// The user agent of a flow reports something about a call: an agent's own call
    /// ([`UaEvent::IncomingCall`]), the progress of a call placed with
    /// [`Server::invite`], hold, DTMF by INFO, transfers, the end of a call, a message
    /// that could not be read.
    Ua {
        /// The flow.
        flow: FlowId,
        /// What happened; its call is `Leg { flow, call }`.
        event: UaEvent,
    },
}

/// Why [`Server::invite`] placed no call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InviteError {
    /// Nobody is registered at this address of record.
    #[error("{0} is not registered")]
    NotRegistered(String),
    /// The From is not a name-addr without a tag (`"Name" <sip:...>`).
    #[error("not a From header: {0:?}")]
    BadFrom(String),
}

#[derive(Debug)]
struct Flow {
    ua: UserAgent,
    /// When its user agent's timer is due, as filed in `Server::timers`.
    scheduled: Option<Instant>,
    /// Its connection is open (a closed flow is kept while its calls wait).
    open: bool,
    /// The flow its dialogs moved to: what its user agent sends goes there, what
    /// arrives there for its dialogs comes here.
    carrier: Option<FlowId>,
    /// The `+sip.instance` last registered over it.
    instance: Option<String>,
}

/// The sans-IO server. See the [module docs](self).
pub struct Server {
    config: ServerConfig,
    accounts: Arc<dyn Accounts>,
    registrar: Registrar,
    flows: HashMap<FlowId, Flow>,
    next_flow: u64,
    seed: u64,
    /// The flows' user-agent timers, earliest first.
    timers: BTreeSet<(Instant, FlowId)>,
    transmits: VecDeque<(FlowId, Vec<u8>)>,
    events: VecDeque<ServerEvent>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("config", &self.config)
            .field("flows", &self.flows.len())
            .finish_non_exhaustive()
    }
}

impl Server {
    /// A server for `config` with the passwords of `accounts`; `seed` makes its tags,
    /// branches, Call-IDs and the key of its nonces (give it 64 random bits).
    pub fn new(config: ServerConfig, accounts: Arc<dyn Accounts>, seed: u64, now: Instant) -> Self {
        Self {
            registrar: Registrar::new(seed ^ 0x005E_ED0F_0000_0001, now),
            config,
            accounts,
            flows: HashMap::new(),
            next_flow: 0,
            seed,
            timers: BTreeSet::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// A flow was accepted on `local` from `peer`.
    pub fn open_flow(
        &mut self,
        transport: Transport,
        local: SocketAddr,
        peer: SocketAddr,
    ) -> FlowId {
        self.next_flow += 1;
        let flow = FlowId(self.next_flow);
        let mut ua_config = UaConfig::new(
            self.config.contact_user.clone(),
            String::new(),
            self.config.domain.clone(),
            String::new(),
        );
        ua_config.user_agent.clone_from(&self.config.user_agent);
        ua_config.min_session_expires = self.config.min_session_expires;
        ua_config.flow_grace = self.config.flow_grace;
        let host = self
            .config
            .host
            .clone()
            .unwrap_or_else(|| local.to_string());
        let seed = self
            .seed
            .wrapping_add(self.next_flow.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let ua = UserAgent::for_server(ua_config, seed, &host, transport.via_name());
        self.flows.insert(
            flow,
            Flow {
                ua,
                scheduled: None,
                open: true,
                carrier: None,
                instance: None,
            },
        );
        self.events.push_back(ServerEvent::FlowOpened {
            flow,
            transport,
            peer,
        });
        flow
    }

    /// The flow closed: its bindings go, its calls being set up end, its established
    /// calls wait [`ServerConfig::flow_grace`] for the agent's next flow.
    pub fn close_flow(&mut self, now: Instant, flow: FlowId) {
        let Some(state) = self.flows.get_mut(&flow).filter(|f| f.open) else {
            return;
        };
        state.open = false;
        let carried = state.carrier.is_some();
        // The dialogs it carried for other flows wait again: those flows' own
        // connections take them back if they are still open.
        let orphans: Vec<FlowId> = self
            .flows
            .iter()
            .filter(|(_, f)| f.carrier == Some(flow))
            .map(|(id, _)| *id)
            .collect();
        let grace = self.config.flow_grace;
        for orphan in orphans {
            if let Some(f) = self.flows.get_mut(&orphan) {
                f.carrier = None;
                if !f.open {
                    self.with_ua(orphan, |ua| ua.lose_flow(now, grace));
                }
            }
        }
        if !carried {
            // Only a registered instance can come back for its calls (a flow that
            // unregistered first, or never registered one, takes them with it).
            let grace = if self.registrar.instance_on(flow).is_some() {
                self.config.flow_grace
            } else {
                Duration::ZERO
            };
            self.with_ua(flow, |ua| ua.lose_flow(now, grace));
        }
        self.forget_if_idle(flow);
        self.transmits.retain(|(f, _)| *f != flow);
        self.registrar.flow_closed(flow, &mut self.events);
        self.events.push_back(ServerEvent::FlowClosed { flow });
    }

    /// One message from `flow`.
    pub fn handle_message(&mut self, now: Instant, flow: FlowId, bytes: &[u8]) {
        if !self.flows.get(&flow).is_some_and(|f| f.open) {
            return;
        }
        let message = match parse(bytes) {
            Ok(message) => message,
            Err(error) => {
                self.events.push_back(ServerEvent::Ua {
                    flow,
                    event: UaEvent::Malformed(error.to_string()),
                });
                return;
            }
        };
        match message.method() {
            Some("REGISTER") => {
                let mut out = Out {
                    transmits: &mut self.transmits,
                    events: &mut self.events,
                };
                self.registrar.on_register(
                    now,
                    flow,
                    &message,
                    &self.config,
                    self.accounts.as_ref(),
                    &mut out,
                );
            }
            Some("INVITE" | "REFER" | "SUBSCRIBE" | "MESSAGE")
                if self.config.require_registration
                    && message.to().ok().and_then(|t| t.tag()).is_none()
                    && !self.registrar.flow_is_bound(flow) =>
            {
                if let Some(bytes) = crate::ua::response_to(
                    &message,
                    403,
                    "Forbidden: register first",
                    &format!("{:016x}", self.seed ^ flow.0),
                    &self.config.user_agent,
                    &[],
                ) {
                    self.transmits.push_back((flow, bytes));
                }
            }
            _ => {
                let home = self.dialog_home(now, flow, &message);
                self.with_ua(home, |ua| ua.handle_parsed(now, &message));
                self.forget_if_idle(home);
            }
        }
        if message.method() == Some("REGISTER")
            && let Some(instance) = self.registrar.instance_on(flow).map(str::to_owned)
            && let Some(state) = self.flows.get_mut(&flow)
        {
            state.instance = Some(instance);
        }
    }

    /// The flow whose user agent holds the dialog of `message`, which arrived on
    /// `flow`: `flow`'s own, one whose dialogs moved to `flow`, or, for a re-INVITE of
    /// a dialog of another flow registered by the same instance, that flow, whose
    /// dialogs move to `flow` now.
    fn dialog_home(&mut self, now: Instant, flow: FlowId, message: &Message<'_>) -> FlowId {
        let Some(call_id) = message.call_id() else {
            return flow;
        };
        if self
            .flows
            .get(&flow)
            .is_some_and(|f| f.ua.has_call_id(call_id))
        {
            return flow;
        }
        let holder = |f: &Flow| f.ua.has_call_id(call_id);
        if let Some((&moved, _)) = self
            .flows
            .iter()
            .find(|(_, f)| f.carrier == Some(flow) && holder(f))
        {
            return moved;
        }
        let reinvite =
            message.method() == Some("INVITE") && message.to().ok().and_then(|t| t.tag()).is_some();
        let instance = self.registrar.instance_on(flow).map(str::to_owned);
        let (true, Some(instance)) = (reinvite, instance) else {
            return flow;
        };
        let Some((&old, _)) = self.flows.iter().find(|(id, f)| {
            **id != flow
                && f.carrier.is_none()
                && f.instance.as_deref() == Some(instance.as_str())
                && holder(f)
        }) else {
            return flow;
        };
        if let Some(state) = self.flows.get_mut(&old) {
            state.carrier = Some(flow);
        }
        // Its calls waiting for the agent are in the call again; the re-INVITE (next)
        // refreshes their target.
        self.with_ua(old, |ua| ua.adopt_flow(now));
        old
    }

    /// Drops a closed flow once none of its calls is left.
    fn forget_if_idle(&mut self, flow: FlowId) {
        if self
            .flows
            .get(&flow)
            .is_some_and(|f| !f.open && !f.ua.has_calls())
            && let Some(state) = self.flows.remove(&flow)
            && let Some(at) = state.scheduled
        {
            self.timers.remove(&(at, flow));
        }
    }

    /// Fires the timers due at `now`: the flows' calls, the bindings' expiry.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(&(at, flow)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.remove(&(at, flow));
            if let Some(state) = self.flows.get_mut(&flow) {
                state.scheduled = None;
            }
            self.with_ua(flow, |ua| ua.handle_timeout(now));
            self.forget_if_idle(flow);
        }
        self.registrar.expire(now, &mut self.events);
    }

    /// The next message to send, and the flow to send it on.
    pub fn poll_transmit(&mut self) -> Option<(FlowId, Vec<u8>)> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// When [`Server::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.timers.first().map(|t| t.0),
            self.registrar.next_expiry(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The bindings of the address of record `aor` (`sip:user@domain`).
    pub fn bindings(&self, aor: &str) -> &[Binding] {
        self.registrar.bindings(aor)
    }

    /// The address of record `sip:user@domain` of `user` in this server's domain.
    pub fn aor(&self, user: &str) -> String {
        format!("sip:{user}@{}", self.config.domain)
    }

    /// Calls the agent registered at `aor` with the SDP offer `sdp`, over the flow its
    /// latest binding registered on; `from` is whom the call shows as coming from (a
    /// name-addr, `"13800000000" <sip:13800000000@ccc.test>`). The call's progress comes
    /// as [`ServerEvent::Ua`] events of its flow.
    pub fn invite(
        &mut self,
        now: Instant,
        aor: &str,
        from: &str,
        sdp: &[u8],
    ) -> Result<Leg, InviteError> {
        let well_formed = !from.contains(['\r', '\n'])
            && NameAddr::parse(from).is_ok_and(|f| f.tag().is_none() && !f.is_star());
        if !well_formed {
            return Err(InviteError::BadFrom(from.to_owned()));
        }
        let binding = self
            .registrar
            .bindings(aor)
            .iter()
            .filter(|b| self.flows.contains_key(&b.flow))
            .max_by_key(|b| b.registered_at)
            .ok_or_else(|| InviteError::NotRegistered(aor.to_owned()))?;
        let (flow, new) = (
            binding.flow,
            NewCall {
                uri: binding.contact.clone(),
                to: format!("<{aor}>"),
                from: from.to_owned(),
                headers: Vec::new(),
            },
        );
        let call = self
            .with_ua(flow, |ua| ua.invite_with(now, new, sdp))
            .ok_or_else(|| InviteError::NotRegistered(aor.to_owned()))?;
        Ok(Leg { flow, call })
    }

    /// Sends 180 Ringing for an agent's call to the server.
    pub fn ringing(&mut self, leg: Leg) -> bool {
        self.with_ua(leg.flow, |ua| ua.ringing(leg.call))
            .unwrap_or(false)
    }

    /// Answers the leg's pending INVITE (an agent's call, or its re-INVITE) with the SDP
    /// answer.
    pub fn answer(&mut self, now: Instant, leg: Leg, sdp: &[u8]) -> bool {
        self.with_ua(leg.flow, |ua| ua.answer(now, leg.call, sdp))
            .unwrap_or(false)
    }

    /// Refuses the leg's pending INVITE.
    pub fn reject(&mut self, leg: Leg, code: u16, reason: &str) -> bool {
        self.with_ua(leg.flow, |ua| ua.reject(leg.call, code, reason))
            .unwrap_or(false)
    }

    /// Hangs the leg up (BYE, CANCEL while it rings, 486 before an answer).
    pub fn hang_up(&mut self, now: Instant, leg: Leg) -> bool {
        self.with_ua(leg.flow, |ua| ua.hang_up(now, leg.call))
            .unwrap_or(false)
    }

    /// Offers a new session on the leg (re-INVITE: hold, unhold).
    pub fn update(&mut self, now: Instant, leg: Leg, sdp: &[u8]) -> bool {
        self.with_ua(leg.flow, |ua| ua.update(now, leg.call, sdp))
            .unwrap_or(false)
    }

    /// Sends an INFO on the leg (DTMF as `application/dtmf-relay`, ...).
    pub fn send_info(&mut self, leg: Leg, content_type: &str, body: &[u8]) -> bool {
        self.with_ua(leg.flow, |ua| ua.send_info(leg.call, content_type, body))
            .unwrap_or(false)
    }

    /// Asks the agent on the leg to call `target` instead (REFER).
    pub fn refer(&mut self, now: Instant, leg: Leg, target: &str) -> bool {
        self.with_ua(leg.flow, |ua| ua.refer(now, leg.call, target, None))
            .unwrap_or(false)
    }

    /// Accepts the agent's REFER on the leg ([`UaEvent::TransferRequested`]): 202 and a
    /// NOTIFY `100 Trying`. The emulator carries the transfer out itself and reports
    /// how it goes with [`Server::transfer_progress`].
    pub fn accept_transfer(&mut self, leg: Leg) -> bool {
        self.with_ua(leg.flow, |ua| ua.accept_refer(leg.call))
            .unwrap_or(false)
    }

    /// Reports how the transfer the agent asked for goes (a NOTIFY with the status line
    /// `code reason`; 200 or any failure ends the subscription).
    pub fn transfer_progress(&mut self, leg: Leg, code: u16, reason: &str) -> bool {
        self.with_ua(leg.flow, |ua| ua.notify_transfer(leg.call, code, reason))
            .unwrap_or(false)
    }

    /// Refuses the agent's REFER on the leg.
    pub fn reject_transfer(&mut self, leg: Leg, code: u16, reason: &str) -> bool {
        self.with_ua(leg.flow, |ua| ua.reject_transfer(leg.call, code, reason))
            .unwrap_or(false)
    }

    /// Runs `f` on the user agent of `flow`, then takes what it has to send (over the
    /// flow that carries its dialogs, and nowhere while none does) and say.
    fn with_ua<R>(&mut self, flow: FlowId, f: impl FnOnce(&mut UserAgent) -> R) -> Option<R> {
        let wire = self.flows.get(&flow)?.carrier.unwrap_or(flow);
        let deliver = self.flows.get(&wire).is_some_and(|f| f.open);
        let state = self.flows.get_mut(&flow)?;
        let result = f(&mut state.ua);
        while let Some(bytes) = state.ua.poll_transmit() {
            if deliver {
                self.transmits.push_back((wire, bytes));
            }
        }
        while let Some(event) = state.ua.poll_event() {
            self.events.push_back(ServerEvent::Ua { flow, event });
        }
        let next = state.ua.poll_timeout();
        if next != state.scheduled {
            if let Some(at) = state.scheduled {
                self.timers.remove(&(at, flow));
            }
            if let Some(at) = next {
                self.timers.insert((at, flow));
            }
            state.scheduled = next;
        }
        Some(result)
    }
}

#[cfg(test)]
mod tests;
