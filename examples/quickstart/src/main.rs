//! The quickstart: one agent's day in a few seconds, against the embedded emulator.
//!
//! ```text
//! cargo run -p quickstart
//! ```
//!
//! It needs nothing but the Rust toolchain: the emulator (`ccc-emulator`) starts inside
//! the process on loopback ports, and every call carries real WebRTC audio (ICE,
//! DTLS-SRTP, Opus) between the agent's [`Workbench`] and the emulator's simulated
//! customers. The story, with the status codes of the guide:
//!
//! 1. The agent registers: `0` registering, `2` signed in, `3` ready (M2).
//! 2. A customer calls the hotline, playing 1000 Hz: `6` ringing (H23); the agent lets
//!    it ring a moment and answers, `9` inbound call (M8). The agent plays 600 Hz. It must hear the
//!    customer's tone, and the customer's recording of what it heard must hold the
//!    agent's: audio both ways.
//! 3. Hold and retrieve: `12` hold, `9` (M13, M14).
//! 4. The agent hangs up: `5` after-call work, which ends by itself after a second
//!    (`afterCallRule`, C10), `3` ready.
//! 5. The agent calls a customer: `8` dialing, `10` outbound call (M11); it hears the
//!    callee's 800 Hz and sends DTMF `12#` (M12), which the emulator's customer leg
//!    must receive. (Table K gives DTMF to outbound and internal calls only, so the
//!    inbound call cannot send it.)
//! 6. The agent hangs up: `5`, then `3`; `shutdown` signs out.
//!
//! Every event is printed on one line with the status code at the time it came, and the
//! steps between them. At the end the status codes seen must be exactly the guide's
//! sequence `0 2 3 6 9 12 9 5 3 8 10 5 3`. Every wait is bounded (5 s a step, 60 s in
//! all): the run ends by itself, with exit status 0 when every step passed and 1, with
//! the failing step on standard error, when any did not.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use ccc_emulator::platform::InboundCall;
use ccc_emulator::scenario::{CustomerScript, Playback};
use ccc_emulator::{Emulator, EmulatorConfig, Scenario};
use ccc_media::audio::{AudioFrame, AudioSink, AudioSource, Tone, WavSource};
use ccc_media::call::{CallAudio, CallConfig};
use ccc_media::dsp::dominant_tone;
use ccc_openapi::Client;
use ccc_openapi::transport::Direct;
use ccc_workbench::{CallAudioInfo, Config, Event, EventStream, Status, Workbench};

/// What the agent plays.
const AGENT_HZ: u32 = 600;
/// What the customer who calls in plays.
const CUSTOMER_HZ: u32 = 1000;
/// What the customer the agent calls plays.
const CALLEE_HZ: u32 = 800;
/// The tones told apart in what each side hears.
const TONES: [u32; 3] = [AGENT_HZ, CUSTOMER_HZ, CALLEE_HZ];
/// Frames of 20 ms in which a tone must dominate to count as heard: half a second.
const HEARD_FRAMES: u32 = 25;

/// The emulator's hotline (it routes to the Sales group, which the agent is in).
const HOTLINE: &str = "02150000001";
/// The customer who calls in.
const CUSTOMER: &str = "13800000042";
/// The customer the agent calls (a number with no line of its own in the scenario: the
/// default customer, scripted in [`scenario`]).
const CALLEE: &str = "13800000077";
/// The digits the agent sends.
const DIGITS: &str = "12#";

/// The status codes the story must go through, in the guide's order.
const GUIDE_SEQUENCE: [i8; 13] = [0, 2, 3, 6, 9, 12, 9, 5, 3, 8, 10, 5, 3];

/// The longest any one step may take.
const STEP: Duration = Duration::from_secs(5);
/// The longest the whole run may take.
const RUN: Duration = Duration::from_secs(60);

type Step<T> = Result<T, String>;

#[tokio::main]
async fn main() -> ExitCode {
    let started = Instant::now();
    let outcome = tokio::time::timeout(RUN, run())
        .await
        .unwrap_or_else(|_| Err(format!("the run took longer than {RUN:?}")));
    match outcome {
        Ok(()) => {
            println!(
                "quickstart: every step passed in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("quickstart: FAILED: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Step<()> {
    let emulator = Emulator::start(EmulatorConfig::new(scenario()))
        .await
        .map_err(|e| format!("the emulator did not start: {e}"))?;
    let info = emulator.info().clone();
    let sip = info
        .sip_ws_url
        .clone()
        .ok_or("the emulator serves no SIP: there would be no call audio")?;
    let agent = info
        .agents
        .first()
        .ok_or("the emulator's scenario has no agent")?;
    println!(
        "quickstart: the emulator serves the OpenAPI at {}, the agent link at {} and SIP at {sip}",
        info.api_url, info.agent_server_url
    );
    println!(
        "quickstart: agent {} (extension {})",
        agent.user_id, agent.extension
    );

    let direct = Direct::builder(info.credentials())
        .endpoint(info.api_url.clone())
        .timeout(STEP)
        .build()
        .map_err(|e| format!("the OpenAPI client: {e}"))?;
    let config = Config::builder(info.instance_id.clone(), true)
        .after_call_rule_seconds(1)
        .build()
        .map_err(|e| format!("the config: {e}"))?;
    let ear = Arc::new(Ear::default());
    // The lock of "one workbench per agent per machine" (guide section 10) in a
    // directory of this run's own, so a quickstart never meets another one's lock.
    let local = std::env::temp_dir().join(format!("ccc-quickstart-{}", std::process::id()));
    let builder = Workbench::builder(config, Client::new(direct), agent.user_id.clone())
        .call_config(CallConfig::loopback())
        .audio(AgentAudio(Arc::clone(&ear)))
        .local_dir(local.clone())
        .method_timeout(STEP)
        .register_timeout(STEP)
        .event_buffer(256);
    let mut story = Story {
        events: builder.events(),
        status: Status::Unregistered,
        statuses: Vec::new(),
        media_up: false,
        emulator: &emulator,
        ear,
    };
    let result = match bounded("building the workbench", builder.build()).await {
        Ok(workbench) => {
            let told = story.tell(&workbench, &info.recordings_dir).await;
            let shut = bounded("shutdown", workbench.shutdown()).await;
            story.print_remaining().await;
            told.and(shut)
        }
        Err(e) => Err(e),
    };
    if tokio::time::timeout(STEP, emulator.shutdown())
        .await
        .is_err()
    {
        eprintln!("quickstart: the emulator took longer than {STEP:?} to stop");
    }
    let _ = std::fs::remove_dir_all(local);
    result
}

/// The built-in scenario, with the line the agent calls scripted: it answers after
/// 300 ms and plays [`CALLEE_HZ`].
fn scenario() -> Scenario {
    let mut scenario = Scenario::default();
    let mut callee = CustomerScript::default();
    callee.answer_after_ms = 300;
    callee.play = Playback::Tone { hz: CALLEE_HZ };
    callee.record = false;
    scenario.default_customer = callee;
    scenario
}

/// The inbound customer's script: answers at once, plays [`CUSTOMER_HZ`] and records
/// what it hears.
fn inbound_customer() -> InboundCall {
    let mut script = CustomerScript::default();
    script.play = Playback::Tone { hz: CUSTOMER_HZ };
    script.record = true;
    let mut call = InboundCall::new(CUSTOMER, HOTLINE);
    call.script = Some(script);
    call
}

/// The story and what it has seen so far.
struct Story<'a> {
    events: EventStream,
    /// The status after the last event printed.
    status: Status,
    /// Every status change, in order.
    statuses: Vec<i8>,
    /// Whether the current call's audio flows (`mediaConnected` came, `onCallRelease`
    /// not yet).
    media_up: bool,
    emulator: &'a Emulator,
    ear: Arc<Ear>,
}

impl Story<'_> {
    async fn tell(&mut self, wb: &Workbench, recordings: &Path) -> Step<()> {
        self.act("register", wb.register(None, "default")).await?;
        self.status(Status::Ready).await?;

        println!("---- a customer calls {HOTLINE} from {CUSTOMER}, playing {CUSTOMER_HZ} Hz");
        let job = self
            .emulator
            .with_platform(|p, now| p.place_inbound_call(now, inbound_customer()))
            .map_err(|e| format!("the inbound call was not placed: {e}"))?
            .to_string();
        self.status(Status::Ringing).await?;
        // Answered the moment it rings: answer() waits for the platform's INVITE to
        // reach this device, so the call is taken here, with this device's audio.
        self.act("answer", wb.answer()).await?;
        self.status(Status::InboundCall).await?;
        self.media_connected().await?;
        self.hears(CUSTOMER_HZ).await?;
        self.act("callHold", wb.call_hold()).await?;
        self.status(Status::Hold).await?;
        self.act("callRetrieve", wb.call_retrieve()).await?;
        self.status(Status::InboundCall).await?;
        self.hears(CUSTOMER_HZ).await?;
        self.act("hangUp", wb.hang_up()).await?;
        self.status(Status::AfterCallWork).await?;
        self.status(Status::Ready).await?;
        self.customer_heard_the_agent(recordings, &job).await?;

        let dialed = self.act("call", wb.call(CALLEE)).await?;
        let job = dialed.job_id.ok_or("call gave no job id")?;
        self.status(Status::Dialing).await?;
        self.status(Status::OutboundCall).await?;
        self.media_connected().await?;
        self.hears(CALLEE_HZ).await?;
        self.act("sendDtmf", wb.send_dtmf(DIGITS)).await?;
        self.customer_got_the_digits(&job).await?;
        self.act("hangUp", wb.hang_up()).await?;
        self.status(Status::AfterCallWork).await?;
        self.status(Status::Ready).await?;
        self.print_ready_events().await?;

        let seen: Vec<String> = self.statuses.iter().map(ToString::to_string).collect();
        if self.statuses != GUIDE_SEQUENCE {
            return Err(format!(
                "the status codes were {}, the guide's sequence is {GUIDE_SEQUENCE:?}",
                seen.join(" ")
            ));
        }
        println!(
            "  ok  status codes {}: the guide's sequence",
            seen.join(" ")
        );
        Ok(())
    }

    /// Runs one method, bounded, and prints the events it caused before its outcome.
    async fn act<T>(
        &mut self,
        name: &str,
        method: impl Future<Output = Result<T, ccc_workbench::Error>>,
    ) -> Step<T> {
        self.print_ready_events().await?;
        println!("---- {name}");
        let started = Instant::now();
        let value = bounded(name, method).await?;
        // The workbench sends a method's events before it answers: print them first.
        self.print_ready_events().await?;
        println!("  ok  {name} ({} ms)", started.elapsed().as_millis());
        Ok(value)
    }

    /// Waits for the status to become `code` (at once when it is already).
    async fn status(&mut self, code: Status) -> Step<()> {
        if self.status == code {
            return Ok(());
        }
        self.wait(
            &format!("status {code}"),
            |e| matches!(e, Event::StatusChange(s) if s.code == code),
        )
        .await
        .map(drop)
    }

    /// Waits for the current call's audio to flow (at once when it does).
    async fn media_connected(&mut self) -> Step<()> {
        if self.media_up {
            return Ok(());
        }
        self.wait("the call's audio", |e| {
            matches!(e, Event::MediaConnected { .. })
        })
        .await
        .map(drop)
    }

    /// Waits until the agent has heard `hz` for [`HEARD_FRAMES`] frames.
    async fn hears(&mut self, hz: u32) -> Step<()> {
        let what = format!("the agent hears {hz} Hz");
        let deadline = Instant::now() + STEP;
        let start = self.ear.frames(hz);
        loop {
            self.print_ready_events().await?;
            let frames = self.ear.frames(hz) - start;
            if frames >= HEARD_FRAMES {
                println!("  ok  {what} ({frames} frames of 20 ms)");
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!("{what}: {frames} frames of 20 ms in {STEP:?}"));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// What the customer heard, as the emulator recorded it: the agent's tone.
    async fn customer_heard_the_agent(&mut self, recordings: &Path, job: &str) -> Step<()> {
        let what = format!("the customer heard the agent's {AGENT_HZ} Hz");
        let deadline = Instant::now() + STEP;
        let mut last = String::from("no recording yet");
        loop {
            self.print_ready_events().await?;
            match heard_file(recordings, job).map(|file| tone_frames(&file, AGENT_HZ)) {
                Some(Ok(frames)) if frames >= HEARD_FRAMES => {
                    println!("  ok  {what} ({frames} frames of 20 ms in its recording)");
                    return Ok(());
                }
                Some(Ok(frames)) => last = format!("{frames} frames of 20 ms"),
                Some(Err(e)) => last = e,
                None => {}
            }
            if Instant::now() >= deadline {
                return Err(format!("{what}: {last} in {}", recordings.display()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The emulator's customer leg of call `job` received [`DIGITS`].
    async fn customer_got_the_digits(&mut self, job: &str) -> Step<()> {
        let deadline = Instant::now() + STEP;
        loop {
            let got = self.emulator.with_platform(|p, _| {
                p.calls()
                    .into_iter()
                    .find(|c| &*c.job_id == job)
                    .and_then(|c| c.legs.into_iter().find(|l| l.user_id.is_none()))
                    .map(|leg| leg.dtmf_received.to_string())
            });
            let got = got.ok_or_else(|| format!("call {job} has no customer leg"))?;
            if got == DIGITS {
                println!("  ok  the customer's leg received {got}");
                return Ok(());
            }
            if Instant::now() >= deadline || !DIGITS.starts_with(&got) {
                return Err(format!(
                    "the agent sent {DIGITS}, the customer's leg received {got:?}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The next event that matches, printing every event on the way. An
    /// `onErrorNotify`, a lost event or the end of the stream fails the step.
    async fn wait(&mut self, what: &str, matches: impl Fn(&Event) -> bool) -> Step<Event> {
        let deadline = tokio::time::Instant::now() + STEP;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) => {
                    self.note(&event)?;
                    if matches(&event) {
                        return Ok(event);
                    }
                }
                Ok(None) => return Err(format!("the workbench stopped before {what}")),
                Err(_) => {
                    return Err(format!(
                        "waited {STEP:?} for {what}, in status {}",
                        self.status
                    ));
                }
            }
        }
    }

    /// Prints the events already there, without waiting.
    async fn print_ready_events(&mut self) -> Step<()> {
        // A zero timeout still polls `recv` once: it gives what is there. Cancelling
        // `recv` loses nothing (the stream keeps its pending read).
        while let Ok(next) = tokio::time::timeout(Duration::ZERO, self.events.recv()).await {
            match next {
                Some(event) => self.note(&event)?,
                None => return Ok(()),
            }
        }
        Ok(())
    }

    /// Prints an event and keeps the status; an error or a lost event fails the story.
    fn note(&mut self, event: &Event) -> Step<()> {
        if let Event::StatusChange(change) = event {
            self.status = change.code;
            self.statuses.push(change.code.code());
        }
        match event {
            Event::MediaConnected { .. } => self.media_up = true,
            Event::CallRelease(_) => self.media_up = false,
            _ => {}
        }
        println!("{:>4}  {}", self.status.code(), describe(event));
        match event {
            Event::ErrorNotify(e) => Err(format!(
                "onErrorNotify from {}: {} {}",
                e.api,
                e.code.as_str(),
                e.msg
            )),
            Event::Lagged { missed } => Err(format!("{missed} events were lost")),
            _ => Ok(()),
        }
    }

    /// Prints what comes after the story (the sign-out of `shutdown`).
    async fn print_remaining(&mut self) {
        while let Ok(Some(event)) =
            tokio::time::timeout(Duration::from_millis(200), self.events.recv()).await
        {
            if let Event::StatusChange(change) = &event {
                self.status = change.code;
            }
            println!("{:>4}  {}", self.status.code(), describe(&event));
        }
    }
}

/// Runs `future` for at most [`STEP`].
async fn bounded<T>(
    name: &str,
    future: impl Future<Output = Result<T, ccc_workbench::Error>>,
) -> Step<T> {
    match tokio::time::timeout(STEP, future).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(format!("{name}: {e}")),
        Err(_) => Err(format!("{name}: no answer within {STEP:?}")),
    }
}

/// One readable line for an event: the guide's hook name and what it carries.
fn describe(event: &Event) -> String {
    let text = |t: &Option<Arc<str>>| t.as_deref().unwrap_or("-").to_owned();
    let details = match event {
        Event::StatusChange(s) => format!(
            "{} {}, was {} {}",
            s.code.code(),
            s.code.meaning(),
            s.last_code.code(),
            s.last_code.meaning()
        ),
        Event::Ready { kind } => match kind {
            ccc_workbench::event::ReadyKind::Offline => "offline".to_owned(),
            _ => String::new(),
        },
        Event::Register(info) => format!(
            "extension {} registered at {}",
            info.extension, info.web_rtc_url
        ),
        Event::CallComing(c) => format!(
            "{} calls {}, contact {}",
            text(&c.caller),
            text(&c.callee),
            text(&c.contact_id)
        ),
        Event::CallDialing(c) => format!(
            "{} -> {}, contact {}",
            text(&c.caller),
            text(&c.callee),
            text(&c.contact_id)
        ),
        Event::CallEstablish(d) | Event::CallRelease(d) => format!(
            "with {}, contact {}",
            text(&d.caller),
            text(&d.private_data.acid)
        ),
        Event::HangUp { kind } => kind.as_str().to_owned(),
        Event::Break { code } => text(code),
        Event::Dtmf { digit } => digit.to_string(),
        Event::MediaConnected { codec } => codec.clone().unwrap_or_default(),
        other => {
            // Whatever else the workbench reports, with the guide's names.
            let mut json = other.to_json();
            if let Some(map) = json.as_object_mut() {
                map.remove("hook");
            }
            if json.as_object().is_some_and(serde_json::Map::is_empty) {
                String::new()
            } else {
                json.to_string()
            }
        }
    };
    format!("{:<16} {details}", event.hook_name())
        .trim_end()
        .to_owned()
}

/// What the agent hears, tone by tone: 20 ms frames in which each of [`TONES`]
/// dominates.
#[derive(Debug, Default)]
struct Ear {
    frames: [AtomicU32; TONES.len()],
}

impl Ear {
    fn frames(&self, hz: u32) -> u32 {
        TONES
            .iter()
            .position(|t| *t == hz)
            .map_or(0, |i| self.frames[i].load(Ordering::Relaxed))
    }
}

/// The agent's side of every call: it plays [`AGENT_HZ`] and listens with the [`Ear`].
struct AgentAudio(Arc<Ear>);

impl ccc_workbench::AudioFactory for AgentAudio {
    fn audio(&self, _call: &CallAudioInfo) -> CallAudio {
        CallAudio::new(
            Tone::new(f64::from(AGENT_HZ), 0.3),
            Listener(Arc::clone(&self.0)),
        )
    }
}

/// The sink of a call's incoming audio: tells the tones apart, frame by frame.
struct Listener(Arc<Ear>);

impl AudioSink for Listener {
    fn write(&mut self, frame: &AudioFrame) {
        if let Some(i) = dominant(frame) {
            self.0.frames[i].fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Which of [`TONES`] dominates `frame`, by index.
fn dominant(frame: &AudioFrame) -> Option<usize> {
    let candidates = TONES.map(f64::from);
    let hz = dominant_tone(frame.samples(), frame.rate(), &candidates)?;
    candidates.iter().position(|c| *c == hz)
}

/// The emulator's recording of what the customer heard in call `job`
/// (`<job>-leg<N>-<number>-heard.wav`).
fn heard_file(dir: &Path, job: &str) -> Option<PathBuf> {
    let prefix = format!("{job}-leg");
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with(&prefix) && name.ends_with("-heard.wav"))
        })
}

/// The 20 ms frames of `file` in which `hz` dominates.
fn tone_frames(file: &Path, hz: u32) -> Step<u32> {
    let mut source = WavSource::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let wanted = TONES
        .iter()
        .position(|t| *t == hz)
        .ok_or_else(|| format!("{hz} Hz is not one of the tones told apart"))?;
    let mut frame = AudioFrame::silent(8000);
    let mut frames = 0;
    while source.fill(&mut frame) {
        if dominant(&frame) == Some(wanted) {
            frames += 1;
        }
    }
    Ok(frames)
}
