//! The 2020-07-01 actions: agent control (answers carry the agent's contexts) and the
//! login, TURN and state data the workbench needs.
//!
//! Each request is read with ccc-openapi's model of the action and each `Data` is its
//! typed one (`UserContext`, `AgentSnapshot`, `LoginDetails`, `TurnCredentials`), so a
//! field outside the model cannot be sent.

use std::time::Instant;

use base64::Engine as _;
use ccc_core::model::{AgentSnapshot, UserContext};
use ccc_openapi::v2020 as a;
use ccc_openapi::{Action, Envelope, Secret};
use ring::hmac;
use serde_json::{Value, json};

use super::v2017::plain_number;
use super::{ApiRequest, Context, TurnAuth, decode, encode, unknown_action};
use crate::platform::{Command, Platform, PlatformError, Principal, Reply, TransfereeType};

fn kind(transferee_type: Option<&str>) -> Result<Option<TransfereeType>, PlatformError> {
    transferee_type
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

/// Reads the request of `A`, answers its `Data` with `f`.
fn run<A, D>(
    req: &ApiRequest,
    f: impl FnOnce(A) -> Result<D, PlatformError>,
) -> Result<Value, PlatformError>
where
    A: Action<Response = Envelope<D>>,
    D: serde::Serialize,
{
    encode(&f(decode::<A>(req)?)?)
}

/// A state action: the command its request makes, answered with the `UserContext`.
fn state<A>(
    platform: &mut Platform,
    now: Instant,
    principal: Principal,
    req: &ApiRequest,
    command: impl FnOnce(&A) -> Result<(Option<String>, Command), PlatformError>,
) -> Result<Value, PlatformError>
where
    A: Action<Response = Envelope<UserContext>>,
{
    run(req, |r: A| {
        let (user, command) = command(&r)?;
        Ok(platform
            .command(now, principal, user.as_deref(), command)?
            .user)
    })
}

/// A call action: the command its request makes, answered with the `AgentSnapshot`.
fn call<A>(
    platform: &mut Platform,
    now: Instant,
    principal: Principal,
    req: &ApiRequest,
    command: impl FnOnce(&A) -> Result<(Option<String>, Command), PlatformError>,
) -> Result<Value, PlatformError>
where
    A: Action<Response = Envelope<AgentSnapshot>>,
{
    run(req, |r: A| {
        let (user, command) = command(&r)?;
        Ok(snapshot(platform.command(
            now,
            principal,
            user.as_deref(),
            command,
        )?))
    })
}

fn snapshot(reply: Reply) -> AgentSnapshot {
    AgentSnapshot::new(Some(reply.context_id), reply.user, reply.call)
}

/// The call the agent is in (for `UnmuteCall` without `JobId`).
fn current_job(platform: &Platform, principal: Principal, user: Option<&str>) -> Option<String> {
    platform
        .resolve(principal, user)
        .ok()
        .and_then(|a| platform.agents().into_iter().nth(a.0))
        .and_then(|a| a.job_id)
        .map(|j| j.to_string())
}

pub(super) fn handle(
    platform: &mut Platform,
    ctx: &mut Context<'_>,
    now: Instant,
    req: &ApiRequest,
) -> Result<Value, PlatformError> {
    let p = req.principal;
    match req.action.as_str() {
        "PollUserStatus" => run(req, |r: a::PollUserStatus| {
            platform.poll_user_status(now, p, r.user_id.as_deref())
        }),
        "GetLoginDetails" => run(req, |r: a::GetLoginDetails| {
            let agent = platform.resolve(p, r.user_id.as_deref())?;
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
            let empty = || Some(String::new());
            let d = a::LoginDetails {
                agent_server_url: Some(ctx.urls.agent_server.clone()),
                avatar_url: empty(),
                chat_app_id: empty(),
                chat_app_key: Some(Secret::from("")),
                chat_device_id: empty(),
                chat_login_token: Some(Secret::from("")),
                chat_server_url: empty(),
                chat_user_id: empty(),
                device_ext: empty(),
                device_id: Some(
                    info.as_ref()
                        .and_then(|i| i.device.as_deref())
                        .unwrap_or("")
                        .to_owned(),
                ),
                device_state: Some(
                    if info.as_ref().is_some_and(|i| i.sip_registered) {
                        "ONLINE"
                    } else {
                        "OFFLINE"
                    }
                    .to_owned(),
                ),
                display_name: Some(spec.display_name.clone()),
                extension: Some(spec.extension.clone()),
                nickname: Some(spec.display_name.clone()),
                signature: Some(Secret::from(token.signature)),
                // The SIP digest password of the extension (the emulator's stand-in for
                // CCC's SIP signature).
                signature2: Some(Secret::from(spec.password.clone())),
                sip_server_url: Some(ctx.urls.sip_ws.clone()),
                user_id: Some(spec.user_id.clone()),
                user_key: Some(token.sign_data),
                user_key2: Some(spec.extension.clone()),
                work_mode: Some("ON_SITE".to_owned()),
            };
            Ok(d)
        }),
        "GetTurnServerList" => run(req, |_: a::GetTurnServerList| Ok(turn_list(ctx))),
        "GetTurnCredentials" => run(req, |r: a::GetTurnCredentials| {
            let agent = platform.resolve(p, r.user_id.as_deref())?;
            let name = platform.user_id(agent).to_string();
            let (user_name, password) =
                turn_credentials(ctx.turn_auth, &name, ctx.now_ms, TURN_TTL_S);
            let c = a::TurnCredentials {
                user_name: Some(user_name),
                password: Some(Secret::from(password)),
            };
            Ok(c)
        }),
        "SignInGroup" => state(platform, now, p, req, |r: &a::SignInGroup| {
            Ok((
                r.user_id.clone(),
                Command::SignInGroup {
                    device_id: r.device_id.clone(),
                    groups: r.signed_skill_group_id_list.clone(),
                    additivity: r.additivity.unwrap_or(false),
                },
            ))
        }),
        "SignOutGroup" => state(platform, now, p, req, |r: &a::SignOutGroup| {
            Ok((r.user_id.clone(), Command::SignOutGroup))
        }),
        "ReadyForService" => state(platform, now, p, req, |r: &a::ReadyForService| {
            Ok((
                r.user_id.clone(),
                Command::ReadyForService {
                    outbound_only: r.outbound_scenario,
                },
            ))
        }),
        "TakeBreak" => state(platform, now, p, req, |r: &a::TakeBreak| {
            Ok((
                r.user_id.clone(),
                Command::TakeBreak {
                    code: r.code.clone(),
                },
            ))
        }),
        "ChangeWorkMode" => state(platform, now, p, req, |r: &a::ChangeWorkMode| {
            Ok((
                r.user_id.clone(),
                Command::ChangeWorkMode {
                    mode: r.work_mode.clone(),
                    mobile: r.mobile.clone(),
                    groups: (!r.signed_skill_group_id_list.is_empty())
                        .then(|| r.signed_skill_group_id_list.clone()),
                },
            ))
        }),
        "ResetAgentState" => state(platform, now, p, req, |r: &a::ResetAgentState| {
            Ok((r.user_id.clone(), Command::ResetAgentState))
        }),
        "MakeCall" => call(platform, now, p, req, |r: &a::MakeCall| {
            Ok((
                r.user_id.clone(),
                Command::MakeCall {
                    callee: plain_number(&r.callee),
                    caller: r.caller.clone(),
                },
            ))
        }),
        "RedialCall" => call(platform, now, p, req, |r: &a::RedialCall| {
            Ok((
                r.user_id.clone(),
                Command::RedialCall {
                    job_id: r.job_id.clone(),
                    callee: r.callee.as_deref().map(plain_number),
                    caller: r.caller.clone(),
                },
            ))
        }),
        "AnswerCall" => call(platform, now, p, req, |r: &a::AnswerCall| {
            Ok((
                r.user_id.clone(),
                Command::AnswerCall {
                    job_id: r.job_id.clone(),
                },
            ))
        }),
        "ReleaseCall" => call(platform, now, p, req, |r: &a::ReleaseCall| {
            Ok((
                r.user_id.clone(),
                Command::ReleaseCall {
                    job_id: r.job_id.clone(),
                    channel_id: r.channel_id.clone(),
                },
            ))
        }),
        "HoldCall" => call(platform, now, p, req, |r: &a::HoldCall| {
            Ok((
                r.user_id.clone(),
                Command::HoldCall {
                    job_id: r.job_id.clone(),
                    channel_id: r.channel_id.clone(),
                },
            ))
        }),
        "RetrieveCall" => call(platform, now, p, req, |r: &a::RetrieveCall| {
            Ok((
                r.user_id.clone(),
                Command::RetrieveCall {
                    job_id: r.job_id.clone(),
                    channel_id: r.channel_id.clone(),
                },
            ))
        }),
        "MuteCall" => call(platform, now, p, req, |r: &a::MuteCall| {
            Ok((
                r.user_id.clone(),
                Command::MuteCall {
                    job_id: r.job_id.clone(),
                    channel_id: r.channel_id.clone(),
                },
            ))
        }),
        "UnmuteCall" => {
            let current = |user: Option<&str>| current_job(platform, p, user);
            let job = decode::<a::UnmuteCall>(req)
                .map(|r| r.job_id.clone().or_else(|| current(r.user_id.as_deref())))?;
            call(platform, now, p, req, |r: &a::UnmuteCall| {
                Ok((
                    r.user_id.clone(),
                    Command::UnmuteCall {
                        job_id: job.ok_or_else(|| PlatformError::blank("JobId"))?,
                        channel_id: r.channel_id.clone(),
                    },
                ))
            })
        }
        "SendDtmfSignaling" => call(platform, now, p, req, |r: &a::SendDtmfSignaling| {
            Ok((
                r.user_id.clone(),
                Command::SendDtmf {
                    job_id: r.job_id.clone(),
                    channel_id: r.channel_id.clone(),
                    digits: r.dtmf.clone(),
                },
            ))
        }),
        "BlindTransfer" => call(platform, now, p, req, |r: &a::BlindTransfer| {
            Ok((
                r.user_id.clone(),
                Command::BlindTransfer {
                    job_id: r.job_id.clone(),
                    transferee: r.transferee.clone(),
                    kind: kind(r.transferee_type.as_deref())?,
                    transferor: r.transferor.clone(),
                },
            ))
        }),
        "InitiateAttendedTransfer" => {
            call(platform, now, p, req, |r: &a::InitiateAttendedTransfer| {
                Ok((
                    r.user_id.clone(),
                    Command::InitiateAttendedTransfer {
                        job_id: r.job_id.clone(),
                        transferee: r.transferee.clone(),
                        kind: kind(r.transferee_type.as_deref())?,
                        transferor: r.transferor.clone(),
                    },
                ))
            })
        }
        "CompleteAttendedTransfer" => {
            call(platform, now, p, req, |r: &a::CompleteAttendedTransfer| {
                Ok((
                    r.user_id.clone(),
                    Command::CompleteAttendedTransfer {
                        job_id: r.job_id.clone(),
                    },
                ))
            })
        }
        "CancelAttendedTransfer" => call(platform, now, p, req, |r: &a::CancelAttendedTransfer| {
            Ok((
                r.user_id.clone(),
                Command::CancelAttendedTransfer {
                    job_id: r.job_id.clone(),
                },
            ))
        }),
        "StartConference" => call(platform, now, p, req, |r: &a::StartConference| {
            Ok((
                r.user_id.clone(),
                Command::StartConference {
                    participants: r.participant_list_json.clone(),
                },
            ))
        }),
        "MonitorCall" => call(platform, now, p, req, |r: &a::MonitorCall| {
            Ok((
                r.user_id.clone(),
                Command::MonitorCall {
                    monitored_user: r.monitored_user_id.clone(),
                },
            ))
        }),
        "BargeInCall" => call(platform, now, p, req, |r: &a::BargeInCall| {
            Ok((
                r.user_id.clone(),
                Command::BargeInCall {
                    job_id: r.job_id.clone(),
                    barged_user: r.barged_user_id.clone(),
                },
            ))
        }),
        "InterceptCall" => call(platform, now, p, req, |r: &a::InterceptCall| {
            Ok((
                r.user_id.clone(),
                Command::InterceptCall {
                    job_id: r.job_id.clone(),
                    intercepted_user: r.intercepted_user_id.clone(),
                },
            ))
        }),
        "CoachCall" => call(platform, now, p, req, |r: &a::CoachCall| {
            Ok((
                r.user_id.clone(),
                Command::CoachCall {
                    job_id: r.job_id.clone(),
                    coached_user: r.coached_user_id.clone(),
                },
            ))
        }),
        "LaunchSurvey" => call(platform, now, p, req, |r: &a::LaunchSurvey| {
            Ok((
                r.user_id.clone(),
                Command::LaunchSurvey {
                    job_id: r.job_id.clone(),
                },
            ))
        }),
        action => Err(unknown_action(action)),
    }
}
