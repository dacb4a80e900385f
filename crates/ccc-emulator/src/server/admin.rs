//! The admin API (loopback, `Authorization: Bearer <token>`): place inbound calls,
//! look at agents, calls and records, inject faults. Documented in `docs/emulator.md`.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ccc_core::SignOutReason;
use serde::Deserialize;
use serde_json::{Value, json};

use super::faults::{LinkFault, LinkKind, MediaFault};
use super::http::App;
use super::hub::LinkFrame;
use crate::platform::{InboundCall, Input, PlatformError};
use crate::scenario::CustomerScript;

pub(super) fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/agents", get(agents))
        .route("/calls", get(calls).post(place_call))
        .route("/calls/{job}/hangup", post(hang_up))
        .route("/records", get(records))
        .route("/agents/{user}/kick", post(kick))
        .route("/agents/{user}/agent-link", post(agent_link))
        .route("/agents/{user}/sip", post(sip_link))
        .route("/agents/{user}/media", post(media))
        .route("/faults", get(faults))
        .route("/faults/next-error", post(next_error))
        .route("/faults/ws-connect-slowly", post(connect_slowly))
}

/// An authenticated admin request.
struct Admin;

fn fail(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

impl FromRequestParts<Arc<App>> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Response> {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let expected = app.admin_token.as_bytes();
        let same = presented.len() == expected.len()
            && presented
                .bytes()
                .zip(expected.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same {
            Ok(Self)
        } else {
            Err(fail(
                StatusCode::UNAUTHORIZED,
                "a valid admin bearer token is required",
            ))
        }
    }
}

fn platform_error(e: &PlatformError) -> Response {
    let status = StatusCode::from_u16(e.http_status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(json!({ "error": e.message, "code": e.code }))).into_response()
}

async fn agents(_: Admin, State(app): State<Arc<App>>) -> Response {
    let list: Vec<Value> = app.engine.run(|s, _| {
        s.platform
            .agents()
            .into_iter()
            .map(|a| {
                json!({
                    "user_id": a.user_id,
                    "extension": a.extension,
                    "state": a.state.as_str(),
                    "break_code": a.break_code,
                    "job_id": a.job_id,
                    "signed_skill_groups": a.signed_groups,
                    "device": a.device,
                    "sip_registered": a.sip_registered,
                    "agent_links": app.engine.hub.count(&a.user_id),
                })
            })
            .collect()
    });
    Json(list).into_response()
}

async fn calls(_: Admin, State(app): State<Arc<App>>) -> Response {
    let list: Vec<Value> = app.engine.run(|s, _| {
        s.platform
            .calls()
            .into_iter()
            .map(|c| {
                json!({
                    "job_id": c.job_id,
                    "call_type": c.call_type.as_str(),
                    "calling": c.calling,
                    "called": c.called,
                    "queued": c.queued,
                    "legs": c.legs.iter().map(|l| json!({
                        "leg": l.leg.0,
                        "channel_id": l.channel_id,
                        "user_id": l.user_id,
                        "party": l.party,
                        "state": l.state.as_str(),
                        "call_type": l.call_type.as_str(),
                        "dtmf_received": l.dtmf_received,
                        "heard_file": app.sip.heard_file(&c.job_id, l.leg),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect()
    });
    Json(list).into_response()
}

/// The body of `POST /admin/calls`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlaceCall {
    caller: String,
    callee: String,
    #[serde(default)]
    skill_group: Option<String>,
    #[serde(default)]
    variables: Option<String>,
    #[serde(default)]
    script: Option<CustomerScript>,
}

async fn place_call(
    _: Admin,
    State(app): State<Arc<App>>,
    body: Result<Json<PlaceCall>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => return fail(StatusCode::BAD_REQUEST, e.body_text()),
    };
    let mut call = InboundCall::new(body.caller, body.callee);
    call.skill_group = body.skill_group;
    call.variables = body.variables;
    call.script = body.script;
    match app
        .engine
        .run(|s, now| s.platform.place_inbound_call(now, call))
    {
        Ok(job) => (StatusCode::CREATED, Json(json!({ "job_id": job }))).into_response(),
        Err(e) => platform_error(&e),
    }
}

async fn hang_up(_: Admin, State(app): State<Arc<App>>, Path(job): Path<String>) -> Response {
    let known = app.engine.run(|s, now| {
        let known = s.platform.calls().iter().any(|c| *c.job_id == *job);
        if known {
            s.platform.handle(
                now,
                Input::CustomerHangUp {
                    job_id: job.as_str().into(),
                },
            );
        }
        known
    });
    if known {
        Json(json!({ "job_id": job })).into_response()
    } else {
        platform_error(&PlatformError::no_job(&job))
    }
}

async fn records(_: Admin, State(app): State<Arc<App>>) -> Response {
    let body = app.engine.run(|s, _| {
        let r = s.platform.records();
        json!({
            "calls": r.calls.iter().map(|c| json!({
                "contact_id": c.contact_id,
                "contact_type": c.contact_type,
                "disposition": c.disposition,
                "calling": c.calling,
                "called": c.called,
                "start_ms": c.start_ms,
                "duration_s": c.duration_s,
                "agents": c.agents.iter().map(|a| a.user_id.clone()).collect::<Vec<_>>(),
                "satisfaction": c.satisfaction,
                "recording": c.recording.as_ref().map(|r| r.file_name.clone()),
            })).collect::<Vec<_>>(),
            "sms": r.sms.iter().map(|m| json!({
                "biz_id": m.biz_id,
                "phone_numbers": m.phone_numbers,
                "template_id": m.template_id,
                "text": m.text,
                "contact_id": m.contact_id,
                "sent_ms": m.sent_ms,
            })).collect::<Vec<_>>(),
            "appraisals": r.appraisals.iter().map(|a| json!({
                "contact_id": a.contact_id,
                "rating": a.rating,
                "channel": a.channel,
            })).collect::<Vec<_>>(),
            "uploads": s.store.uploads.iter().map(|u| json!({
                "key": u.key,
                "size": u.size,
                "path": app.engine.recordings.join(&u.key),
                "at_ms": u.at_ms,
            })).collect::<Vec<_>>(),
            "faults": s.store.faults.iter().map(|f| json!({
                "at_ms": f.at_ms,
                "params": f.params.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<serde_json::Map<String, Value>>(),
            })).collect::<Vec<_>>(),
        })
    });
    Json(body).into_response()
}

/// The body of `POST /admin/agents/{user}/kick`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Kick {
    #[serde(default)]
    reason: Option<String>,
}

async fn kick(
    _: Admin,
    State(app): State<Arc<App>>,
    Path(user): Path<String>,
    body: Option<Json<Kick>>,
) -> Response {
    let reason = match body.and_then(|Json(k)| k.reason) {
        None => SignOutReason::KaRegister,
        Some(code) => match SignOutReason::from_code(&code) {
            Some(r) => r,
            None => {
                return fail(
                    StatusCode::BAD_REQUEST,
                    format!("`{code}` is not a sign-out reason of the guide"),
                );
            }
        },
    };
    match app.engine.run(|s, now| s.platform.kick(now, &user, reason)) {
        Ok(()) => Json(json!({ "user_id": user, "reason": reason.code() })).into_response(),
        Err(e) => platform_error(&e),
    }
}

/// The body of the link-fault endpoints.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkAction {
    /// `drop`, `delay`, `black-hole` or `restore`.
    action: String,
    #[serde(default)]
    ms: u64,
}

fn known_user(app: &App, user: &str) -> bool {
    app.engine.run(|s, _| s.platform.agent_id(user).is_some())
}

async fn link_fault(app: &App, kind: LinkKind, user: &str, body: LinkAction) -> Response {
    if !known_user(app, user) {
        return platform_error(&PlatformError::no_user(user, "the instance"));
    }
    let fault = match body.action.as_str() {
        "drop" => {
            let closed = if kind == LinkKind::AgentLink {
                let before = app.engine.hub.count(user);
                app.engine.hub.send(user, None, &LinkFrame::Drop, true);
                before
            } else {
                app.sip.close_flows(user, None).await
            };
            return Json(json!({ "user_id": user, "action": "drop", "closed": closed }))
                .into_response();
        }
        "delay" => LinkFault {
            delay: Duration::from_millis(body.ms),
            black_hole: false,
        },
        "black-hole" => LinkFault {
            delay: Duration::ZERO,
            black_hole: true,
        },
        "restore" => LinkFault::default(),
        other => {
            return fail(
                StatusCode::BAD_REQUEST,
                format!("`{other}` is not drop, delay, black-hole or restore"),
            );
        }
    };
    app.engine.run(|s, _| s.faults.set_link(kind, user, fault));
    let mut answer = json!({ "user_id": user, "action": body.action, "ms": body.ms });
    if kind == LinkKind::Sip {
        // The flows registered now; later ones take the fault when they register.
        answer["flows"] = app.sip.set_fault(user, fault).await.into();
    }
    Json(answer).into_response()
}

async fn agent_link(
    _: Admin,
    State(app): State<Arc<App>>,
    Path(user): Path<String>,
    Json(body): Json<LinkAction>,
) -> Response {
    link_fault(&app, LinkKind::AgentLink, &user, body).await
}

async fn sip_link(
    _: Admin,
    State(app): State<Arc<App>>,
    Path(user): Path<String>,
    Json(body): Json<LinkAction>,
) -> Response {
    link_fault(&app, LinkKind::Sip, &user, body).await
}

/// `POST /admin/agents/{user}/media`: the agent's relayed media (its allocations on
/// the embedded TURN servers) breaks (`break`: the allocations it holds now; an ICE
/// restart's new one works), goes into a black hole (`black-hole`: every allocation,
/// now and later), or is restored (`restore`).
async fn media(
    _: Admin,
    State(app): State<Arc<App>>,
    Path(user): Path<String>,
    Json(body): Json<LinkAction>,
) -> Response {
    // The TURN users of an agent are made of its login name (what a workbench gives
    // `GetTURNCredentials`) or of its user id.
    let login_name = app.engine.run(|s, _| {
        s.platform
            .scenario()
            .agents
            .iter()
            .find(|a| a.user_id == user)
            .map(|a| a.login_name.clone())
    });
    let Some(login_name) = login_name else {
        return platform_error(&PlatformError::no_user(&user, "the instance"));
    };
    let fault = match body.action.as_str() {
        "break" => Some(MediaFault::Break {
            since: std::time::Instant::now(),
        }),
        "black-hole" => Some(MediaFault::BlackHole),
        "restore" => None,
        other => {
            return fail(
                StatusCode::BAD_REQUEST,
                format!("`{other}` is not break, black-hole or restore"),
            );
        }
    };
    app.media_faults
        .set(&user, &[user.as_str(), login_name.as_str()], fault);
    Json(json!({ "user_id": user, "action": body.action })).into_response()
}

async fn faults(_: Admin, State(app): State<Arc<App>>) -> Response {
    let mut all = app.engine.run(|s, _| s.faults.describe());
    all["media"] = app.media_faults.describe();
    Json(all).into_response()
}

/// The body of `POST /admin/faults/next-error`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NextError {
    action: String,
    #[serde(default = "one")]
    count: u32,
    code: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(default = "server_error")]
    http_status: u16,
}

fn one() -> u32 {
    1
}

fn server_error() -> u16 {
    500
}

async fn next_error(
    _: Admin,
    State(app): State<Arc<App>>,
    Json(body): Json<NextError>,
) -> Response {
    if !(400..=599).contains(&body.http_status) {
        return fail(StatusCode::BAD_REQUEST, "http_status must be 400 to 599");
    }
    let message = body
        .message
        .unwrap_or_else(|| format!("Injected error for {}.", body.action));
    let error = PlatformError::new(body.http_status, body.code.clone(), message);
    app.engine
        .run(|s, _| s.faults.fail_next(&body.action, body.count, error));
    Json(json!({ "action": body.action, "count": body.count, "code": body.code })).into_response()
}

/// The body of `POST /admin/faults/ws-connect-slowly`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Slowly {
    ms: u64,
}

async fn connect_slowly(
    _: Admin,
    State(app): State<Arc<App>>,
    Json(body): Json<Slowly>,
) -> Response {
    app.engine
        .run(|s, _| s.faults.handshake_delay = Duration::from_millis(body.ms));
    Json(json!({ "handshake_delay_ms": body.ms })).into_response()
}
