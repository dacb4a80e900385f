//! `ccc agent`: a headless agent. It registers, then acts on one command per line of
//! standard input (`ready`, `break 2 lunch`, `call 13800000000`, `answer`, `hold`,
//! `retrieve`, `dtmf 12#`, `transfer 8002`, `hangup`, `logout`, ...; `help` lists them)
//! and prints every event of the workbench, and every command's outcome, as one JSON
//! object per line on standard output.
//!
//! With `--config FILE` it signs in to a real deployment: a JSON file with the guide's
//! options in camelCase (`instanceId`, `useOpenApiSdk`, `afterCallRule`, `ajaxOrigin`,
//! ...) and, beside them, `userId` (the agent), `transport` (`proxy`: the integrator's
//! backend of `ajaxOrigin` + `ajaxPath`; `direct`: signed requests with the AccessKey of
//! the environment, to `endpoint` or the region's), `region`, `accessPoint`,
//! `skillGroups` and `sipDevice` (the file `ccc_workbench::deployment` reads). Without
//! one it starts the embedded emulator and signs in as its first agent (with C23 on, so `ccc ctl` can act through it; and the
//! `customer NUMBER` command has a simulated customer call in).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use ccc_emulator::{Emulator, EmulatorConfig};
use ccc_openapi::Client;
use ccc_openapi::transport::Direct;
use ccc_workbench::config::Config;
use ccc_workbench::deployment::Deployment;
use ccc_workbench::{CallRequest, LoginSkillGroup, Workbench, WorkbenchBuilder};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

/// Arguments of `ccc agent`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The agent's configuration (JSON); without it, the embedded emulator.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where the per-agent lock and the control socket live (default
    /// `$XDG_RUNTIME_DIR/ccc-rs`).
    #[arg(long, value_name = "DIR")]
    local_dir: Option<PathBuf>,
    /// Do not register at start (send `register` when you like).
    #[arg(long)]
    no_register: bool,
}

/// What the agent signs in with, and the emulator when it is the embedded one.
struct Setup {
    builder: WorkbenchBuilder,
    access_point: String,
    groups: Option<Vec<LoginSkillGroup>>,
    emulator: Option<Emulator>,
}

fn from_file(path: &Path) -> Result<Setup, String> {
    let deployment = Deployment::from_file(path).map_err(|e| e.to_string())?;
    Ok(Setup {
        builder: deployment.builder().map_err(|e| e.to_string())?,
        access_point: deployment.access_point,
        groups: deployment.skill_groups,
        emulator: None,
    })
}

async fn embedded() -> Result<Setup, String> {
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .map_err(|e| format!("the embedded emulator: {e}"))?;
    let info = emulator.info();
    let agent = info
        .agents
        .first()
        .ok_or("the emulator's scenario has no agent")?
        .user_id
        .clone();
    let direct = Direct::builder(info.credentials())
        .endpoint(info.api_url.clone())
        .build()
        .map_err(|e| e.to_string())?;
    let config = Config::builder(info.instance_id.clone(), true)
        .use_local_storage_to_call(true)
        .after_call_rule_seconds(5)
        .build()
        .map_err(|e| e.to_string())?;
    println!(
        "{}",
        json!({"emulator": {"apiUrl": info.api_url, "agentServerUrl": info.agent_server_url, "sipWsUrl": info.sip_ws_url, "instanceId": info.instance_id, "userId": agent}})
    );
    let sip = info.sip_ws_url.is_some();
    let mut call = ccc_media::call::CallConfig::loopback();
    call.connect_timeout = Duration::from_secs(5);
    Ok(Setup {
        builder: Workbench::builder(config, Client::new(direct), agent)
            .sip_device(sip)
            .call_config(call),
        access_point: "default".to_owned(),
        groups: None,
        emulator: Some(emulator),
    })
}

/// Runs the agent until `quit` or the end of standard input.
pub(crate) async fn run(args: Args) -> Result<ExitCode, String> {
    let mut setup = match &args.config {
        Some(path) => from_file(path)?,
        None => embedded().await?,
    };
    if let Some(dir) = &args.local_dir {
        setup.builder = setup.builder.local_dir(dir.clone());
    }
    let Setup {
        builder,
        access_point,
        groups,
        emulator,
    } = setup;
    let builder = builder.event_buffer(1024);
    let mut events = builder.events();
    let workbench = builder.build().await.map_err(|e| e.to_string())?;
    // Events are printed as they come; a command runs to its end, then the events it
    // caused (the workbench sends them before it answers) and its outcome are printed,
    // so the lines keep the order things happened in.
    if !args.no_register {
        let outcome = workbench
            .register(groups.clone(), &access_point)
            .await
            .map(|()| Value::Null)
            .map_err(|e| e.to_string());
        print_outcome(&mut events, "register", outcome).await;
    }
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(event) => print_event(&event),
                None => break,
            },
            line = lines.next_line() => {
                let Ok(Some(line)) = line else { break };
                let words: Vec<&str> = line.split_whitespace().collect();
                let Some((&command, rest)) = words.split_first() else {
                    continue;
                };
                if matches!(command, "quit" | "exit") {
                    break;
                }
                let outcome = act(
                    &workbench,
                    emulator.as_ref(),
                    command,
                    rest,
                    (&groups, &access_point),
                )
                .await;
                print_outcome(&mut events, command, outcome).await;
            }
        }
    }
    let _ = workbench.shutdown().await;
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_millis(200), events.recv()).await
    {
        print_event(&event);
    }
    if let Some(emulator) = emulator {
        emulator.shutdown().await;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_event(event: &ccc_workbench::Event) {
    println!("{}", event.to_json());
}

/// The events already sent, then the command's outcome.
async fn print_outcome(
    events: &mut ccc_workbench::EventStream,
    command: &str,
    outcome: Result<Value, String>,
) {
    while let Ok(Some(event)) = tokio::time::timeout(Duration::ZERO, events.recv()).await {
        print_event(&event);
    }
    let line = match outcome {
        Ok(Value::Null) => json!({"command": command, "ok": true}),
        Ok(result) => json!({"command": command, "ok": true, "result": result}),
        Err(error) => json!({"command": command, "ok": false, "error": error}),
    };
    println!("{line}");
}

const HELP: &str = "register [ACCESS_POINT] | login | logout | ready | break ID [NAME] | \
call NUMBER [CALLER|auto] | redial | answer | hangup | hold | retrieve | dtmf DIGITS | \
transfer TARGET [CALLER] | group NAME TARGET | consult TARGET [CALLER] | consult-transfer | \
consult-cancel | conference | drop PARTY | agent EXTENSION | mute | volume 0..1 | \
offline MOBILE | online | call-only on|off | monitor EXTENSION | survey | sms-survey | \
sms-missed | records [PAGE] | recordings CONTACT_ID | status | reset | check-network | \
test-turn [ACCESS_POINT] [ROUNDS] | switch-ap ACCESS_POINT | customer NUMBER [HOTLINE] | \
help | quit";

fn arg<'a>(rest: &[&'a str], i: usize, what: &str) -> Result<&'a str, String> {
    rest.get(i)
        .copied()
        .ok_or_else(|| format!("missing {what}"))
}

async fn act(
    wb: &Workbench,
    emulator: Option<&Emulator>,
    command: &str,
    rest: &[&str],
    (groups, access_point): (&Option<Vec<LoginSkillGroup>>, &str),
) -> Result<Value, String> {
    let done =
        |r: Result<(), ccc_workbench::Error>| r.map(|()| Value::Null).map_err(|e| e.to_string());
    match command {
        "help" => Ok(Value::from(HELP)),
        "register" => done(
            wb.register(
                groups.clone(),
                rest.first().copied().unwrap_or(access_point),
            )
            .await,
        ),
        "login" => done(wb.log_in(None).await),
        "logout" => done(wb.log_out().await),
        "ready" => done(wb.ready().await),
        "break" => {
            let id: i64 = arg(rest, 0, "the break id (1-5)")?
                .parse()
                .map_err(|_| "the break id is a number from 1 to 5".to_owned())?;
            done(
                wb.apply_for_break(id, &rest.get(1..).unwrap_or_default().join(" "))
                    .await,
            )
        }
        "call" => {
            let callee = arg(rest, 0, "the number")?;
            let caller = rest.get(1).copied().unwrap_or("");
            let dialed = wb
                .call(CallRequest::new(callee).caller(caller))
                .await
                .map_err(|e| e.to_string())?;
            Ok(
                json!({"jobId": dialed.job_id.as_deref(), "caller": dialed.caller, "callee": dialed.callee}),
            )
        }
        "redial" => done(wb.redial().await),
        "answer" => done(wb.answer().await),
        "hangup" => done(wb.hang_up().await),
        "hold" => done(wb.call_hold().await),
        "retrieve" => done(wb.call_retrieve().await),
        "dtmf" => done(wb.send_dtmf(arg(rest, 0, "the digits")?).await),
        "transfer" => done(
            wb.third_call_transfer(
                arg(rest, 0, "the target")?,
                rest.get(1).copied().unwrap_or(""),
                false,
                None,
            )
            .await,
        ),
        "group" => done(
            wb.third_call_transfer(
                arg(rest, 1, "the routing point")?,
                "",
                false,
                Some(arg(rest, 0, "the skill group's name")?),
            )
            .await,
        ),
        "consult" => done(
            wb.conference_init(
                arg(rest, 0, "the target")?,
                rest.get(1).copied().unwrap_or(""),
            )
            .await,
        ),
        "consult-transfer" => done(wb.third_call_transfer_finished().await),
        "consult-cancel" => done(wb.third_call_retrieve().await),
        "conference" => done(wb.conference_finished().await),
        "drop" => done(wb.third_call_hangup_third(arg(rest, 0, "the party")?).await),
        "agent" => wb
            .agent_to_agent(arg(rest, 0, "the extension")?)
            .await
            .map(|d| json!({"jobId": d.job_id.as_deref()}))
            .map_err(|e| e.to_string()),
        "mute" => wb
            .toggle_mute_in_call()
            .await
            .map(|m| json!({"muted": m}))
            .map_err(|e| e.to_string()),
        "volume" => {
            let v: f64 = arg(rest, 0, "the volume (0 to 1)")?
                .parse()
                .map_err(|_| "the volume is a number from 0 to 1".to_owned())?;
            done(wb.change_volume_in_call(v).await)
        }
        "offline" => done(
            wb.offline(arg(rest, 0, "the mobile number")?, rest.get(1).copied())
                .await,
        ),
        "online" => done(wb.online().await),
        "call-only" => done(
            wb.apply_for_call_only(arg(rest, 0, "on or off")? == "on")
                .await,
        ),
        "monitor" => done(wb.monitor(arg(rest, 0, "the extension")?).await),
        "survey" => done(wb.transfer_satisfaction().await),
        "sms-survey" => done(wb.launch_short_message_appraise().await),
        "sms-missed" => done(wb.launch_short_message_missed_call().await),
        "records" => {
            let page = rest.first().and_then(|p| p.parse().ok()).unwrap_or(1);
            let log = wb
                .recent_call_records(page, 10)
                .await
                .map_err(|e| e.to_string())?;
            Ok(json!({
                "totalCount": log.total_count,
                "records": serde_json::to_value(&log.records).unwrap_or_default(),
            }))
        }
        "recordings" => {
            let list = wb
                .download_record(arg(rest, 0, "the contact id")?, true)
                .await
                .map_err(|e| e.to_string())?;
            Ok(Value::Array(
                list.into_iter()
                    .map(|r| json!({"fileName": r.file_name, "url": r.url}))
                    .collect(),
            ))
        }
        "status" => {
            let code = wb.status_code().await;
            Ok(
                json!({"code": code.code.code(), "lastCode": code.last_code.code(), "status": wb.status().await.as_str()}),
            )
        }
        "reset" => done(wb.reset_user_status().await),
        "check-network" => {
            let report = wb.check_network().await.map_err(|e| e.to_string())?;
            Ok(Value::Array(
                report
                    .targets
                    .iter()
                    .map(|t| json!({"url": t.target.url, "reachable": t.outcome.is_reachable(), "outcome": format!("{:?}", t.outcome)}))
                    .collect(),
            ))
        }
        "test-turn" => {
            let rounds = rest.get(1).and_then(|r| r.parse().ok());
            let reports = wb
                .test_turn_servers(rest.first().copied(), rounds)
                .await
                .map_err(|e| e.to_string())?;
            Ok(Value::Array(
                reports
                    .iter()
                    .map(|r| {
                        let best = r.best();
                        json!({
                            "region": r.region,
                            "toRelayMs": best.and_then(ccc_media::access_point::ServerReport::median_to_relay).map(|d| d.as_secs_f64() * 1000.0),
                        })
                    })
                    .collect(),
            ))
        }
        "switch-ap" => done(
            wb.switch_access_point(arg(rest, 0, "the access point")?)
                .await,
        ),
        "customer" => {
            let Some(emulator) = emulator else {
                return Err("customer: only with the embedded emulator".to_owned());
            };
            let caller = arg(rest, 0, "the customer's number")?.to_owned();
            let hotline = rest.get(1).copied().unwrap_or("02150000001").to_owned();
            emulator
                .with_platform(|p, now| {
                    p.place_inbound_call(
                        now,
                        ccc_emulator::platform::InboundCall::new(caller, hotline),
                    )
                })
                .map(|job| json!({"jobId": &*job}))
                .map_err(|e| e.to_string())
        }
        other => Err(format!("unknown command {other:?}; {HELP}")),
    }
}
