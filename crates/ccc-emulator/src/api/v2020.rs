//! The 2020-07-01 actions: agent control (answers carry the agent's contexts) and the
//! login, TURN and state data the workbench needs.

use std::time::Instant;

use base64::Engine as _;
use ccc_core::model::WorkMode;
use ring::hmac;
use serde_json::{Value, json};

use super::{ApiRequest, Context, TurnAuth, unknown_action};
use crate::platform::{Command, Platform, PlatformError, Reply, TransfereeType};

fn kind(req: &ApiRequest) -> Result<Option<TransfereeType>, PlatformError> {
    req.params
        .opt("TransfereeType")
        .map(|t| {
            TransfereeType::parse(t).ok_or_else(|| {
                PlatformError::invalid(
                    "TransfereeType",
                    format_args!("`{t}` is not AGENT, SKILL_GROUP or EXTERNAL_NUMBER"),
                )
            })
        })
        .transpose()
}

/// The agent-control action of `req`, with its parameters read.
fn command(
    req: &ApiRequest,
    current_job: Option<String>,
) -> Result<Option<Command>, PlatformError> {
    let p = &req.params;
    let job = || p.req("JobId").map(str::to_owned);
    Ok(Some(match req.action.as_str() {
        "SignInGroup" => Command::SignInGroup {
            device_id: p.req("DeviceId")?.to_owned(),
            groups: {
                p.req("SignedSkillGroupIdList")?;
                p.list("SignedSkillGroupIdList")?
            },
            additivity: p.bool("Additivity")?.unwrap_or(false),
        },
        "SignOutGroup" => Command::SignOutGroup,
        "ReadyForService" => Command::ReadyForService {
            outbound_only: p.bool("OutboundScenario")?,
        },
        "TakeBreak" => Command::TakeBreak {
            code: p.req("Code")?.to_owned(),
        },
        "ChangeWorkMode" => Command::ChangeWorkMode {
            mode: WorkMode::from(p.req("WorkMode")?),
            mobile: p.string("Mobile"),
            groups: p
                .opt("SignedSkillGroupIdList")
                .map(|_| p.list("SignedSkillGroupIdList"))
                .transpose()?,
        },
        "ResetAgentState" => Command::ResetAgentState,
        "MakeCall" => Command::MakeCall {
            callee: p.req("Callee")?.to_owned(),
            caller: p.string("Caller"),
        },
        "RedialCall" => Command::RedialCall {
            job_id: p.string("JobId"),
            callee: p.string("Callee"),
            caller: p.string("Caller"),
        },
        "AnswerCall" => Command::AnswerCall { job_id: job()? },
        "ReleaseCall" => Command::ReleaseCall {
            job_id: job()?,
            channel_id: p.string("ChannelId"),
        },
        "HoldCall" => Command::HoldCall {
            job_id: job()?,
            channel_id: p.req("ChannelId")?.to_owned(),
        },
        "RetrieveCall" => Command::RetrieveCall {
            job_id: job()?,
            channel_id: p.req("ChannelId")?.to_owned(),
        },
        "MuteCall" => Command::MuteCall {
            job_id: job()?,
            channel_id: p.string("ChannelId"),
        },
        "UnmuteCall" => Command::UnmuteCall {
            job_id: p
                .string("JobId")
                .or(current_job)
                .ok_or_else(|| PlatformError::blank("JobId"))?,
            channel_id: p.string("ChannelId"),
        },
        "SendDtmfSignaling" => Command::SendDtmf {
            job_id: job()?,
            channel_id: p.req("ChannelId")?.to_owned(),
            digits: p.req("Dtmf")?.to_owned(),
        },
        "BlindTransfer" => Command::BlindTransfer {
            job_id: job()?,
            transferee: p.req("Transferee")?.to_owned(),
            kind: kind(req)?,
            transferor: p.string("Transferor"),
        },
        "InitiateAttendedTransfer" => Command::InitiateAttendedTransfer {
            job_id: job()?,
            transferee: p.req("Transferee")?.to_owned(),
            kind: kind(req)?,
            transferor: p.string("Transferor"),
        },
        "CompleteAttendedTransfer" => Command::CompleteAttendedTransfer { job_id: job()? },
        "CancelAttendedTransfer" => Command::CancelAttendedTransfer { job_id: job()? },
        "StartConference" => Command::StartConference {
            participants: {
                p.req("ParticipantListJson")?;
                p.list("ParticipantListJson")?
            },
        },
        "MonitorCall" => Command::MonitorCall {
            monitored_user: p.req("MonitoredUserId")?.to_owned(),
        },
        "BargeInCall" => Command::BargeInCall {
            job_id: job()?,
            barged_user: p.req("BargedUserId")?.to_owned(),
        },
        "InterceptCall" => Command::InterceptCall {
            job_id: job()?,
            intercepted_user: p.req("InterceptedUserId")?.to_owned(),
        },
        "CoachCall" => Command::CoachCall {
            job_id: job()?,
            coached_user: p.req("CoachedUserId")?.to_owned(),
        },
        "LaunchSurvey" => Command::LaunchSurvey { job_id: job()? },
        _ => return Ok(None),
    }))
}

/// The `Data` of an agent-control answer: the user context alone for state actions,
/// `{CallContext, ContextId, UserContext}` for call actions.
fn reply_data(reply: Reply, with_call: bool) -> Result<Value, PlatformError> {
    let encode =
        |e: serde_json::Error| PlatformError::new(500, "InternalService.Common", e.to_string());
    let user = serde_json::to_value(&reply.user).map_err(encode)?;
    if !with_call {
        return Ok(user);
    }
    Ok(json!({
        "CallContext": serde_json::to_value(&reply.call).map_err(encode)?,
        "ContextId": reply.context_id,
        "UserContext": user,
    }))
}

/// The TURN user and password for `name`.
pub(super) fn turn_credentials(
    auth: &TurnAuth,
    name: &str,
    now_ms: i64,
    ttl_s: i64,
) -> (String, String) {
    match auth {
        TurnAuth::Static { username, password } => (username.clone(), password.clone()),
        TurnAuth::Secret(secret) => {
            let user = format!("{}:{name}", now_ms / 1_000 + ttl_s);
            let password = time_limited_password(secret, &user);
            (user, password)
        }
    }
}

/// The password of a time-limited TURN user: the base64 HMAC-SHA1 of the user name
/// under the shared secret (coturn's `use-auth-secret`).
pub(crate) fn time_limited_password(secret: &str, user: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret.as_bytes());
    let tag = hmac::sign(&key, user.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
}

/// `GetTurnServerList`'s JSON: `[{"region": .., "urls": [..]}]`.
pub(super) fn turn_list(ctx: &Context<'_>) -> String {
    let regions: Vec<Value> = ctx
        .turn
        .iter()
        .map(|t| json!({ "region": t.region, "urls": t.urls }))
        .collect();
    Value::Array(regions).to_string()
}

pub(super) const TURN_TTL_S: i64 = 24 * 3_600;

pub(super) fn handle(
    platform: &mut Platform,
    ctx: &mut Context<'_>,
    now: Instant,
    req: &ApiRequest,
) -> Result<Value, PlatformError> {
    let user = req.params.opt("UserId");
    match req.action.as_str() {
        "PollUserStatus" => {
            let snapshot = platform.poll_user_status(now, req.principal, user)?;
            serde_json::to_value(&snapshot)
                .map_err(|e| PlatformError::new(500, "InternalService.Common", e.to_string()))
        }
        "GetLoginDetails" => {
            let agent = platform.resolve(req.principal, user)?;
            let spec = platform.scenario().agents[agent.0].clone();
            let ttl_ms = i64::try_from(platform.scenario().platform.token_ttl_secs)
                .unwrap_or(i64::MAX / 2_000)
                * 1_000;
            let token = ctx.tokens.issue(
                &spec.user_id,
                &spec.extension,
                ctx.now_ms.saturating_add(ttl_ms),
            );
            let info = platform.agents().into_iter().nth(agent.0);
            Ok(json!({
                "AgentServerUrl": ctx.urls.agent_server,
                "AvatarUrl": "",
                "ChatAppId": "",
                "ChatAppKey": "",
                "ChatDeviceId": "",
                "ChatLoginToken": "",
                "ChatServerUrl": "",
                "ChatUserId": "",
                "DeviceExt": "",
                "DeviceId": info.as_ref().and_then(|i| i.device.as_deref()).unwrap_or(""),
                "DeviceState": if info.as_ref().is_some_and(|i| i.sip_registered) { "ONLINE" } else { "OFFLINE" },
                "DisplayName": spec.display_name,
                "Extension": spec.extension,
                "Nickname": spec.display_name,
                "Signature": token.signature,
                // The SIP digest password of the extension (the emulator's stand-in for
                // CCC's SIP signature).
                "Signature2": spec.password,
                "SipServerUrl": ctx.urls.sip_ws,
                "UserId": spec.user_id,
                "UserKey": token.sign_data,
                "UserKey2": spec.extension,
                "WorkMode": "ON_SITE",
            }))
        }
        "GetTurnServerList" => Ok(Value::String(turn_list(ctx))),
        "GetTurnCredentials" => {
            let agent = platform.resolve(req.principal, user)?;
            let name = platform.user_id(agent).to_string();
            let auth = ctx.turn_auth.clone();
            let (user_name, password) = turn_credentials(&auth, &name, ctx.now_ms, TURN_TTL_S);
            Ok(json!({ "UserName": user_name, "Password": password }))
        }
        action => {
            let current = platform
                .resolve(req.principal, user)
                .ok()
                .and_then(|a| platform.agents().into_iter().nth(a.0))
                .and_then(|a| a.job_id)
                .map(|j| j.to_string());
            let Some(cmd) = command(req, current)? else {
                return Err(unknown_action(action));
            };
            let with_call = !matches!(
                cmd,
                Command::SignInGroup { .. }
                    | Command::SignOutGroup
                    | Command::ReadyForService { .. }
                    | Command::TakeBreak { .. }
                    | Command::ChangeWorkMode { .. }
                    | Command::ResetAgentState
            );
            let reply = platform.command(now, req.principal, user, cmd)?;
            reply_data(reply, with_call)
        }
    }
}
