//! The registrar (RFC 3261 section 10.3, with the flow binding of RFC 5626): REGISTER
//! checked by digest against the caller's accounts, bindings with expiry, removal, and
//! bindings gone with their flow.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

use super::{Accounts, FlowId, ServerConfig, ServerEvent, UnregisterReason};
use crate::auth::{Challenge, DigestAnswer};
use crate::message::{KnownHeader, Message, NameAddr, SipUri};

/// One contact bound to an address of record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The address of record, `sip:user@domain`.
    pub aor: String,
    /// The contact URI, as the user agent registered it (`sip:1001@x.invalid;transport=ws`).
    pub contact: String,
    /// The flow it registered over: requests to it go there (RFC 5626).
    pub flow: FlowId,
    /// Its `+sip.instance` (RFC 5626), without the angle brackets.
    pub instance: Option<String>,
    /// Its `reg-id` (RFC 5626).
    pub reg_id: Option<u32>,
    /// When it lapses unless refreshed.
    pub expires_at: Instant,
    /// When it was last registered or refreshed.
    pub registered_at: Instant,
    id: u64,
}

/// The bindings and the nonces of one server.
#[derive(Debug)]
pub(crate) struct Registrar {
    /// The bindings of each address of record.
    bindings: HashMap<String, Vec<Binding>>,
    /// When each binding lapses: (time, binding id, address of record).
    expiries: BTreeSet<(Instant, u64, String)>,
    next_id: u64,
    /// The key of the nonces: a nonce carries its time and a keyed hash of it, so
    /// no nonce needs to be stored.
    secret: u64,
    epoch: Instant,
}

/// Where a REGISTER's answer and events go.
pub(crate) struct Out<'a> {
    pub(crate) transmits: &'a mut VecDeque<(FlowId, Vec<u8>)>,
    pub(crate) events: &'a mut VecDeque<ServerEvent>,
}

/// One Contact of a REGISTER, read.
struct Asked {
    uri: String,
    instance: Option<String>,
    reg_id: Option<u32>,
    expires: u32,
}

impl Registrar {
    pub(crate) fn new(secret: u64, now: Instant) -> Self {
        Self {
            bindings: HashMap::new(),
            expiries: BTreeSet::new(),
            next_id: 0,
            secret,
            epoch: now,
        }
    }

    /// The bindings of `aor`.
    pub(crate) fn bindings(&self, aor: &str) -> &[Binding] {
        self.bindings.get(aor).map_or(&[], Vec::as_slice)
    }

    /// Whether `flow` carries any binding.
    pub(crate) fn flow_is_bound(&self, flow: FlowId) -> bool {
        self.bindings.values().flatten().any(|b| b.flow == flow)
    }

    /// The `+sip.instance` of a binding on `flow`.
    pub(crate) fn instance_on(&self, flow: FlowId) -> Option<&str> {
        self.bindings
            .values()
            .flatten()
            .find(|b| b.flow == flow)
            .and_then(|b| b.instance.as_deref())
    }

    /// A REGISTER on `flow`: answered, and the bindings changed as it asks.
    #[allow(clippy::too_many_lines)]
    pub(crate) fn on_register(
        &mut self,
        now: Instant,
        flow: FlowId,
        request: &Message<'_>,
        config: &ServerConfig,
        accounts: &dyn Accounts,
        out: &mut Out<'_>,
    ) {
        let mut answer = |code: u16, reason: &str, headers: &[(KnownHeader, String)]| {
            if let Some(bytes) = respond(request, code, reason, headers, config) {
                out.transmits.push_back((flow, bytes));
            }
        };
        let Some(user) = request
            .to()
            .ok()
            .and_then(|to| SipUri::parse(to.uri).ok())
            .filter(|uri| uri.host.0.eq_ignore_ascii_case(&config.domain))
            .and_then(|uri| uri.user)
            .filter(|user| !user.is_empty())
            .map(str::to_owned)
        else {
            answer(404, "Not Found", &[]);
            return;
        };
        let aor = format!("sip:{user}@{}", config.domain);
        // The credentials (RFC 3261 22.4): missing, stale or wrong get a new challenge.
        let answered = request
            .headers_named(KnownHeader::Authorization)
            .filter_map(|h| DigestAnswer::parse(h).ok())
            .find(|a| a.realm == config.realm);
        let Some(answered) = answered else {
            answer(401, "Unauthorized", &[self.challenge(now, config, false)]);
            return;
        };
        if answered.username != user {
            answer(403, "Forbidden: the user is not the To", &[]);
            out.events.push_back(ServerEvent::RegistrationRefused {
                flow,
                aor,
                code: 403,
            });
            return;
        }
        let nonce = self.check_nonce(now, &answered.nonce, config);
        // Answered as challenged: the algorithm and `qop=auth` asked for, not a weaker
        // form the client picked.
        let right = nonce.is_some()
            && answered.algorithm == config.digest_algorithm
            && answered.qop_auth()
            && answered.uri == request.request_uri().unwrap_or("")
            && accounts
                .password(&user)
                .is_some_and(|password| answered.verify("REGISTER", &password));
        if !right {
            answer(401, "Unauthorized", &[self.challenge(now, config, false)]);
            out.events.push_back(ServerEvent::RegistrationRefused {
                flow,
                aor,
                code: 401,
            });
            return;
        }
        if nonce == Some(false) {
            answer(401, "Unauthorized", &[self.challenge(now, config, true)]);
            return;
        }
        // The contacts asked for, all checked before any binding changes.
        let default_expires = match request.expires() {
            Ok(expires) => expires.unwrap_or(config.default_expires),
            Err(_) => {
                answer(400, "Bad Expires", &[]);
                return;
            }
        };
        let mut asked = Vec::new();
        let mut star = false;
        for value in request.list(KnownHeader::Contact) {
            let Ok(contact) = NameAddr::parse(value) else {
                answer(400, "Bad Contact", &[]);
                return;
            };
            if contact.is_star() {
                star = true;
                continue;
            }
            if SipUri::parse(contact.uri).is_err() {
                answer(416, "Unsupported URI Scheme", &[]);
                return;
            }
            let expires = match contact.params.value("expires") {
                Some(v) => match v.trim().parse::<u32>() {
                    Ok(e) => e,
                    Err(_) => {
                        answer(400, "Bad Contact expires", &[]);
                        return;
                    }
                },
                None => default_expires,
            };
            if expires != 0 && expires < config.min_expires {
                answer(
                    423,
                    "Interval Too Brief",
                    &[(KnownHeader::MinExpires, config.min_expires.to_string())],
                );
                return;
            }
            asked.push(Asked {
                uri: contact.uri.to_owned(),
                instance: contact.params.value("+sip.instance").map(|i| {
                    i.trim_matches(|c| c == '"' || c == '<' || c == '>')
                        .to_owned()
                }),
                reg_id: contact
                    .params
                    .value("reg-id")
                    .and_then(|r| r.trim().parse().ok()),
                expires: expires.min(config.max_expires),
            });
        }
        if star {
            // `Contact: *` removes every binding, and must stand alone with Expires: 0.
            if !asked.is_empty() || default_expires != 0 {
                answer(400, "Contact * Needs Expires: 0 Alone", &[]);
                return;
            }
            for binding in self.bindings.remove(&aor).unwrap_or_default() {
                self.expiries
                    .remove(&(binding.expires_at, binding.id, aor.clone()));
                out.events
                    .push_back(unregistered(binding, UnregisterReason::Removed));
            }
        }
        let current = self.bindings.get(&aor).map_or(0, Vec::len);
        let adding = asked
            .iter()
            .filter(|a| a.expires > 0 && self.position(&aor, a).is_none())
            .count();
        if current + adding > config.max_bindings_per_aor {
            answer(403, "Forbidden: too many bindings", &[]);
            return;
        }
        let outbound = asked
            .iter()
            .any(|a| a.instance.is_some() && a.reg_id.is_some());
        for contact in asked {
            self.apply(now, flow, &aor, contact, out.events);
        }
        let mut headers: Vec<(KnownHeader, String)> = self
            .bindings(&aor)
            .iter()
            .map(|b| (KnownHeader::Contact, contact_value(b, now)))
            .collect();
        if outbound {
            // RFC 5626 section 6: the flow binding was honoured.
            headers.push((KnownHeader::Require, "outbound".to_owned()));
        }
        answer(200, "OK", &headers);
    }

    /// The index of the binding `asked` refreshes: the same instance and reg-id (RFC
    /// 5626), else the same contact URI.
    fn position(&self, aor: &str, asked: &Asked) -> Option<usize> {
        self.bindings
            .get(aor)?
            .iter()
            .position(|b| match (&asked.instance, asked.reg_id) {
                (Some(instance), Some(reg_id)) => {
                    b.instance.as_ref() == Some(instance) && b.reg_id == Some(reg_id)
                }
                _ => b.contact == asked.uri,
            })
    }

    fn apply(
        &mut self,
        now: Instant,
        flow: FlowId,
        aor: &str,
        asked: Asked,
        events: &mut VecDeque<ServerEvent>,
    ) {
        let found = self.position(aor, &asked);
        let list = self.bindings.entry(aor.to_owned()).or_default();
        if let Some(index) = found {
            let old = list.remove(index);
            self.expiries
                .remove(&(old.expires_at, old.id, aor.to_owned()));
            if asked.expires == 0 {
                events.push_back(unregistered(old, UnregisterReason::Removed));
                if list.is_empty() {
                    self.bindings.remove(aor);
                }
                return;
            }
            if old.flow != flow {
                // The same instance over a new flow: the old flow no longer has it.
                events.push_back(unregistered(old.clone(), UnregisterReason::Replaced));
            }
        } else if asked.expires == 0 {
            if list.is_empty() {
                self.bindings.remove(aor);
            }
            return;
        }
        self.next_id += 1;
        let binding = Binding {
            aor: aor.to_owned(),
            contact: asked.uri,
            flow,
            instance: asked.instance,
            reg_id: asked.reg_id,
            expires_at: now + Duration::from_secs(u64::from(asked.expires)),
            registered_at: now,
            id: self.next_id,
        };
        self.expiries
            .insert((binding.expires_at, binding.id, aor.to_owned()));
        events.push_back(ServerEvent::Registered {
            flow,
            aor: aor.to_owned(),
            contact: binding.contact.clone(),
            expires: asked.expires,
            refreshed: found.is_some(),
            instance: binding.instance.clone(),
        });
        if let Some(list) = self.bindings.get_mut(aor) {
            list.push(binding);
        }
    }

    /// The flow is gone: so are its bindings.
    pub(crate) fn flow_closed(&mut self, flow: FlowId, events: &mut VecDeque<ServerEvent>) {
        let mut gone = Vec::new();
        self.bindings.retain(|_, list| {
            list.retain(|b| {
                if b.flow == flow {
                    gone.push(b.clone());
                    false
                } else {
                    true
                }
            });
            !list.is_empty()
        });
        for binding in gone {
            self.expiries
                .remove(&(binding.expires_at, binding.id, binding.aor.clone()));
            events.push_back(unregistered(binding, UnregisterReason::FlowClosed));
        }
    }

    /// Removes the bindings that lapsed by `now`.
    pub(crate) fn expire(&mut self, now: Instant, events: &mut VecDeque<ServerEvent>) {
        while let Some(first) = self.expiries.first().filter(|e| e.0 <= now).cloned() {
            self.expiries.remove(&first);
            let (_, id, aor) = first;
            let Some(list) = self.bindings.get_mut(&aor) else {
                continue;
            };
            if let Some(index) = list.iter().position(|b| b.id == id) {
                let binding = list.remove(index);
                events.push_back(unregistered(binding, UnregisterReason::Expired));
            }
            if list.is_empty() {
                self.bindings.remove(&aor);
            }
        }
    }

    /// When the next binding lapses.
    pub(crate) fn next_expiry(&self) -> Option<Instant> {
        self.expiries.first().map(|e| e.0)
    }

    /// A `WWW-Authenticate` with a fresh nonce.
    fn challenge(&self, now: Instant, config: &ServerConfig, stale: bool) -> (KnownHeader, String) {
        let secs = now.saturating_duration_since(self.epoch).as_secs();
        let challenge = Challenge {
            realm: config.realm.clone(),
            nonce: format!("{secs:x}.{}", self.nonce_mac(secs)),
            opaque: None,
            algorithm: config.digest_algorithm,
            qop_auth: true,
            stale,
        };
        (KnownHeader::WwwAuthenticate, challenge.header())
    }

    /// Whether `nonce` is one of ours: `Some(true)` fresh, `Some(false)` stale (the
    /// client answers again with the same password), `None` not ours.
    fn check_nonce(&self, now: Instant, nonce: &str, config: &ServerConfig) -> Option<bool> {
        let (secs, mac) = nonce.split_once('.')?;
        let secs = u64::from_str_radix(secs, 16).ok()?;
        if mac != self.nonce_mac(secs) {
            return None;
        }
        let issued = self.epoch + Duration::from_secs(secs);
        Some(now.saturating_duration_since(issued) <= config.nonce_lifetime)
    }

    fn nonce_mac(&self, secs: u64) -> String {
        let digest = Sha256::digest(format!("{:016x}:{secs:x}", self.secret).as_bytes());
        digest[..8]
            .iter()
            .fold(String::with_capacity(16), |mut s, b| {
                let _ = write!(s, "{b:02x}");
                s
            })
    }
}

fn unregistered(binding: Binding, reason: UnregisterReason) -> ServerEvent {
    ServerEvent::Unregistered {
        flow: binding.flow,
        aor: binding.aor,
        contact: binding.contact,
        reason,
    }
}

/// A binding as the 200 OK lists it, with the seconds it has left.
fn contact_value(binding: &Binding, now: Instant) -> String {
    let left = binding.expires_at.saturating_duration_since(now).as_secs();
    let mut value = format!("<{}>;expires={left}", binding.contact);
    if let Some(instance) = &binding.instance {
        let _ = write!(value, ";+sip.instance=\"<{instance}>\"");
    }
    if let Some(reg_id) = binding.reg_id {
        let _ = write!(value, ";reg-id={reg_id}");
    }
    value
}

fn respond(
    request: &Message<'_>,
    code: u16,
    reason: &str,
    headers: &[(KnownHeader, String)],
    config: &ServerConfig,
) -> Option<Vec<u8>> {
    // One To tag per registration Call-ID, the same for its every answer.
    let digest = Sha256::digest(request.call_id()?.as_bytes());
    let tag = digest[..6].iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    });
    crate::ua::response_to(request, code, reason, &tag, &config.user_agent, headers)
}
