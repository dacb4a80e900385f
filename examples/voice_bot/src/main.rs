//! `voice_bot`: answers every call, plays a WAV prompt, collects the caller's DTMF
//! digits and hangs up (see the [library docs](voice_bot)).
//!
//! ```text
//! cargo run -p voice_bot [-- --calls N] [--wav FILE] [--max-digits N] [--config FILE]
//! ```
//!
//! Without `--config` it starts the embedded emulator, signs in as its first agent and
//! has `--calls` simulated customers (3 by default) call the hotline one after another,
//! each pressing its own digits and `#` after the prompt. It
//! exits 0 when every caller's digits were collected as pressed, 1 otherwise (every
//! wait is bounded). With `--config FILE` (the JSON file of `ccc agent --config`) it
//! serves a real deployment until Ctrl-C, or until `--calls` calls have ended.
//!
//! Each call's outcome is one JSON object per line on standard output
//! (`{"contactId":..,"caller":..,"digits":"42","ended":"terminator"}`); progress goes to
//! standard error.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use ccc_emulator::{Emulator, EmulatorConfig};
use clap::Parser;
use serde_json::json;
use voice_bot::setup::{self, Setup};
use voice_bot::{CallOutcome, DigitRules, Ended, Prompt, VoiceBot};

/// The emulator's hotline (it routes to the Sales group, the first agent's).
const HOTLINE: &str = "02150000001";
/// What the simulated callers press, in turn (each followed by `#`).
const KEYS: [&str; 4] = ["42", "1", "7*9", "2025"];
/// The longest the embedded run may take per call.
const PER_CALL: Duration = Duration::from_secs(15);

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(about = "A voice bot: answers every call, plays a WAV, collects DTMF digits, hangs up")]
struct Args {
    /// The agent's configuration (the JSON file of `ccc agent --config`); without it,
    /// the embedded emulator with simulated callers.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The prompt to play (a WAV file); a chime made in memory when left out.
    #[arg(long, value_name = "FILE")]
    wav: Option<PathBuf>,
    /// How many calls to serve: with the emulator, how many callers call (default 3);
    /// with `--config`, stop after that many (default: until Ctrl-C).
    #[arg(long, value_name = "N")]
    calls: Option<usize>,
    /// At most this many digits per call.
    #[arg(long, value_name = "N", default_value_t = 16)]
    max_digits: usize,
    /// Where the per-agent lock lives (default `$XDG_RUNTIME_DIR/ccc-rs`; with the
    /// emulator, a directory of this run's own).
    #[arg(long, value_name = "DIR")]
    local_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("voice_bot: FAILED: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let prompt = match &args.wav {
        Some(path) => Prompt::open(path).map_err(|e| e.to_string())?,
        None => Prompt::chime().map_err(|e| e.to_string())?,
    };
    let rules = DigitRules {
        max_digits: args.max_digits.max(1),
        ..DigitRules::default()
    };
    let bot = VoiceBot::new(rules);
    match &args.config {
        Some(path) => {
            let setup = setup::from_file(path).map_err(|e| e.to_string())?;
            serve_deployment(&bot, &prompt, setup, &args).await
        }
        None => serve_emulator(&bot, &prompt, &args).await,
    }
}

/// A real deployment: serve until Ctrl-C or `--calls`.
async fn serve_deployment(
    bot: &VoiceBot,
    prompt: &Prompt,
    setup: Setup,
    args: &Args,
) -> Result<(), String> {
    let mut builder = setup.builder.audio(prompt.audio()).event_buffer(1024);
    if let Some(dir) = &args.local_dir {
        builder = builder.local_dir(dir.clone());
    }
    let events = builder.events();
    let workbench = builder.build().await.map_err(|e| e.to_string())?;
    workbench
        .register(setup.skill_groups, &setup.access_point)
        .await
        .map_err(|e| format!("register: {e}"))?;
    eprintln!(
        "voice_bot: {} is ready; the prompt lasts {:.1} s",
        workbench.user_id(),
        prompt.duration().as_secs_f64()
    );
    let served = tokio::select! {
        served = bot.serve(&workbench, events, args.calls, print_outcome) => {
            served.map_err(|e| e.to_string())
        }
        _ = tokio::signal::ctrl_c() => Ok(0),
    };
    let shut = workbench.shutdown().await.map_err(|e| e.to_string());
    served.and(shut).map(drop)
}

/// The embedded emulator and its simulated callers; every caller's digits must come
/// out as pressed.
async fn serve_emulator(bot: &VoiceBot, prompt: &Prompt, args: &Args) -> Result<(), String> {
    let calls = args.calls.unwrap_or(3);
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .map_err(|e| format!("the emulator did not start: {e}"))?;
    let setup = setup::for_emulator(emulator.info()).map_err(|e| e.to_string())?;
    let local = args.local_dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("ccc-voice-bot-{}", std::process::id()))
    });
    let builder = setup
        .builder
        .audio(prompt.audio())
        .local_dir(local.clone())
        .event_buffer(1024);
    let events = builder.events();
    let limit = PER_CALL * u32::try_from(calls.max(1)).unwrap_or(u32::MAX);
    let outcome = tokio::time::timeout(limit, async {
        let workbench = builder.build().await.map_err(|e| e.to_string())?;
        let result = serve_callers(bot, prompt, &emulator, &workbench, events, calls).await;
        let shut = workbench.shutdown().await.map_err(|e| e.to_string());
        result.and(shut)
    })
    .await
    .unwrap_or_else(|_| Err(format!("{calls} calls took longer than {limit:?}")));
    emulator.shutdown().await;
    if args.local_dir.is_none() {
        let _ = std::fs::remove_dir_all(local);
    }
    outcome
}

async fn serve_callers(
    bot: &VoiceBot,
    prompt: &Prompt,
    emulator: &Emulator,
    workbench: &ccc_workbench::Workbench,
    events: ccc_workbench::EventStream,
    calls: usize,
) -> Result<(), String> {
    workbench
        .register(None, "default")
        .await
        .map_err(|e| format!("register: {e}"))?;
    eprintln!(
        "voice_bot: {} is ready; {calls} callers call {HOTLINE}, one after another",
        workbench.user_id()
    );
    // Each caller listens to the prompt, then presses its keys (the emulator's callers
    // press them a fixed time after someone answers), and calls when the one before
    // is done.
    let press_after = prompt.duration() + Duration::from_millis(200);
    let mut expected = HashMap::new();
    let (job, keys) = place_caller(emulator, 0, press_after)?;
    expected.insert(job, keys);
    let mut placed = 1;
    let mut wrong = Vec::new();
    let served = bot
        .serve(workbench, events, Some(calls), |call| {
            print_outcome(call);
            let contact = call.contact_id.as_deref().unwrap_or_default();
            let pressed = expected.get(contact).copied();
            if pressed != Some(call.digits.as_str()) || call.ended != Ended::Terminator {
                wrong.push(format!(
                    "call {contact}: pressed {pressed:?} and #, the bot collected {:?} ({})",
                    call.digits,
                    call.ended.as_str()
                ));
            }
            if placed < calls {
                match place_caller(emulator, placed, press_after) {
                    Ok((job, keys)) => {
                        expected.insert(job, keys);
                    }
                    Err(e) => wrong.push(e),
                }
                placed += 1;
            }
        })
        .await
        .map_err(|e| e.to_string())?;
    if served != calls {
        return Err(format!("{served} of {calls} calls were served"));
    }
    if !wrong.is_empty() {
        return Err(wrong.join("; "));
    }
    eprintln!("voice_bot: every caller's digits were collected as pressed");
    Ok(())
}

/// The `i`th simulated caller calls the hotline; its call's id and the keys it will
/// press (then `#`).
fn place_caller(
    emulator: &Emulator,
    i: usize,
    press_after: Duration,
) -> Result<(String, &'static str), String> {
    let keys = KEYS[i % KEYS.len()];
    let number = format!("1380000{:04}", 100 + i % 9000);
    let caller = setup::simulated_caller(&number, HOTLINE, &format!("{keys}#"), press_after);
    let job = emulator
        .with_platform(|p, now| p.place_inbound_call(now, caller))
        .map_err(|e| format!("caller {number}: {e}"))?;
    Ok((job.to_string(), keys))
}

fn print_outcome(call: &CallOutcome) {
    let mut line = json!({
        "contactId": call.contact_id.as_deref(),
        "caller": call.caller.as_deref(),
        "digits": call.digits,
        "ended": call.ended.as_str(),
    });
    if let Ended::NotAnswered(reason) = &call.ended {
        line["reason"] = reason.as_str().into();
    }
    println!("{line}");
}
