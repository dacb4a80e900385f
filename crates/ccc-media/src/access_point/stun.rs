//! The STUN and TURN requests of the probe, built and read with webrtc-rs's `rtc-stun`
//! and `rtc-turn` message types.

use std::time::Duration;

use rtc_crypto::providers::RingCrypto;
use rtc_stun::attributes::{ATTR_NONCE, ATTR_REALM, ATTR_USERNAME};
use rtc_stun::error_code::ErrorCodeAttribute;
use rtc_stun::fingerprint::FINGERPRINT;
use rtc_stun::integrity::MessageIntegrity;
use rtc_stun::message::{
    BINDING_REQUEST, CLASS_ERROR_RESPONSE, CLASS_SUCCESS_RESPONSE, Getter, Message, Setter,
    TransactionId,
};
use rtc_stun::textattrs::TextAttribute;
use rtc_turn::proto::lifetime::Lifetime;
use rtc_turn::proto::reqtrans::RequestedTransport;
use rtc_turn::proto::{PROTO_UDP, allocate_request, refresh_request};

use super::ProbeError;

/// What authenticates the requests after the server's challenge.
#[derive(Debug, Clone)]
pub(super) struct Auth {
    pub(super) username: String,
    pub(super) password: String,
    pub(super) realm: String,
    pub(super) nonce: String,
}

/// A request ready to send, and the transaction id its answer must carry.
pub(super) struct Request {
    pub(super) id: TransactionId,
    pub(super) bytes: Vec<u8>,
}

/// How the server answered.
#[derive(Debug)]
pub(super) enum Answer {
    Success,
    Error {
        code: u16,
        reason: String,
        realm: Option<String>,
        nonce: Option<String>,
    },
}

fn build(setters: Vec<Box<dyn Setter + '_>>) -> Result<Request, ProbeError> {
    let id = TransactionId::new();
    let mut message = Message::new();
    let mut all: Vec<Box<dyn Setter + '_>> = vec![Box::new(id)];
    all.extend(setters);
    message
        .build(&all)
        .map_err(|e| ProbeError::Stun(e.to_string()))?;
    Ok(Request {
        id,
        bytes: message.raw.clone(),
    })
}

pub(super) fn binding() -> Result<Request, ProbeError> {
    build(vec![Box::new(BINDING_REQUEST), Box::new(FINGERPRINT)])
}

fn authenticated<'a>(
    auth: &Auth,
    crypto: &'a RingCrypto,
) -> Result<Vec<Box<dyn Setter + 'a>>, ProbeError> {
    let integrity = MessageIntegrity::new_long_term_integrity_with_provider(
        auth.username.clone(),
        auth.realm.clone(),
        auth.password.clone(),
        crypto,
    )
    .map_err(|e| ProbeError::Stun(e.to_string()))?;
    Ok(vec![
        Box::new(TextAttribute::new(ATTR_USERNAME, auth.username.clone())),
        Box::new(TextAttribute::new(ATTR_REALM, auth.realm.clone())),
        Box::new(TextAttribute::new(ATTR_NONCE, auth.nonce.clone())),
        Box::new(integrity),
        Box::new(FINGERPRINT),
    ])
}

/// An Allocate for a UDP relay: unauthenticated first (to learn realm and nonce), then
/// with the credentials.
pub(super) fn allocate(auth: Option<&Auth>) -> Result<Request, ProbeError> {
    let crypto = RingCrypto;
    let mut setters: Vec<Box<dyn Setter + '_>> = vec![
        Box::new(allocate_request()),
        Box::new(RequestedTransport {
            protocol: PROTO_UDP,
        }),
    ];
    match auth {
        Some(auth) => setters.extend(authenticated(auth, &crypto)?),
        None => setters.push(Box::new(FINGERPRINT)),
    }
    build(setters)
}

/// A Refresh with lifetime 0: releases the allocation.
pub(super) fn release(auth: &Auth) -> Result<Request, ProbeError> {
    let crypto = RingCrypto;
    let mut setters: Vec<Box<dyn Setter + '_>> = vec![
        Box::new(refresh_request()),
        Box::new(Lifetime(Duration::ZERO)),
    ];
    setters.extend(authenticated(auth, &crypto)?);
    build(setters)
}

/// Whether `bytes` are a whole STUN message; how long it is if so (for stream framing).
pub(super) fn message_length(header: &[u8]) -> Option<usize> {
    if header.len() < 20 || header[0] & 0xC0 != 0 {
        return None;
    }
    Some(20 + usize::from(u16::from_be_bytes([header[2], header[3]])))
}

/// Reads the answer to the request with `id`.
pub(super) fn answer(bytes: &[u8], id: TransactionId) -> Result<Answer, ProbeError> {
    let mut message = Message::new();
    message
        .unmarshal_binary(bytes)
        .map_err(|e| ProbeError::Stun(format!("an unreadable answer: {e}")))?;
    if message.transaction_id != id {
        return Err(ProbeError::Stun("an answer to another request".into()));
    }
    let text = |attr| {
        TextAttribute::get_from_as(&message, attr)
            .ok()
            .map(|t| t.text)
    };
    if message.typ.class == CLASS_SUCCESS_RESPONSE {
        Ok(Answer::Success)
    } else if message.typ.class == CLASS_ERROR_RESPONSE {
        let mut code = ErrorCodeAttribute::default();
        code.get_from(&message)
            .map_err(|e| ProbeError::Stun(format!("an error answer without a code: {e}")))?;
        Ok(Answer::Error {
            code: code.code.0,
            reason: String::from_utf8_lossy(&code.reason).into_owned(),
            realm: text(ATTR_REALM),
            nonce: text(ATTR_NONCE),
        })
    } else {
        Err(ProbeError::Stun(
            "an answer that is neither success nor error".into(),
        ))
    }
}
