//! The voice bot against the embedded emulator (real SIP and WebRTC audio on
//! loopback): callers served in turn with their digits collected, the prompt heard by
//! each caller, the digit rules (terminator, count, timeout, a caller who hangs up), a
//! queued call served exactly once, and the binary's own run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ccc_emulator::platform::InboundCall;
use ccc_emulator::scenario::{CustomerScript, Playback};
use ccc_emulator::{Emulator, EmulatorConfig};
use ccc_media::audio::{AudioFrame, AudioSource, WavSource};
use ccc_media::dsp::dominant_tone;
use ccc_workbench::{Event, Workbench};
use voice_bot::setup::{self, simulated_caller};
use voice_bot::{CHIME_HZ, CallOutcome, DigitRules, Ended, Prompt, VoiceBot};

const HOTLINE: &str = "02150000001";
/// The longest any test's serving may take.
const LIMIT: Duration = Duration::from_secs(30);

/// An emulator and a registered workbench whose calls play the chime, with every
/// status change recorded.
struct Rig {
    emulator: Emulator,
    workbench: Workbench,
    events: Option<ccc_workbench::EventStream>,
    statuses: Arc<Mutex<Vec<i8>>>,
    /// Every event with its time, for the message of a test that fails.
    hooks: Arc<Mutex<Vec<String>>>,
    prompt: Prompt,
    local: PathBuf,
}

impl Rig {
    async fn start(name: &str) -> Self {
        // `RUST_LOG=ccc_workbench=debug` shows what the workbench did (the test's output).
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let emulator = Emulator::start(EmulatorConfig::default())
            .await
            .expect("the emulator starts");
        let prompt = Prompt::chime().expect("the chime");
        let local = std::env::temp_dir().join(format!("voice-bot-{name}-{}", std::process::id()));
        let setup = setup::for_emulator(emulator.info()).expect("a setup");
        let builder = setup
            .builder
            .audio(prompt.audio())
            .local_dir(local.clone())
            .event_buffer(1024);
        let events = builder.events();
        let mut watch = builder.events();
        let statuses = Arc::new(Mutex::new(Vec::new()));
        let hooks = Arc::new(Mutex::new(Vec::new()));
        let (seen, heard) = (Arc::clone(&statuses), Arc::clone(&hooks));
        let t0 = std::time::Instant::now();
        tokio::spawn(async move {
            while let Some(event) = watch.recv().await {
                let at = t0.elapsed().as_millis();
                if let Event::StatusChange(s) = &event {
                    seen.lock().unwrap().push(s.code.code());
                    heard
                        .lock()
                        .unwrap()
                        .push(format!("{at}ms {}", s.code.code()));
                } else {
                    heard
                        .lock()
                        .unwrap()
                        .push(format!("{at}ms {}", event.hook_name()));
                }
            }
        });
        let workbench = builder.build().await.expect("the workbench builds");
        workbench.register(None, "default").await.expect("register");
        Self {
            emulator,
            workbench,
            events: Some(events),
            statuses,
            hooks,
            prompt,
            local,
        }
    }

    fn call_in(&self, call: InboundCall) -> String {
        self.emulator
            .with_platform(|p, now| p.place_inbound_call(now, call))
            .expect("the call is placed")
            .to_string()
    }

    /// Serves `calls` calls; `next` is told of each outcome (to place the next caller).
    async fn serve(
        &mut self,
        bot: &VoiceBot,
        calls: usize,
        mut next: impl FnMut(&Self, &CallOutcome),
    ) -> Vec<CallOutcome> {
        let events = self.events.take().expect("served once");
        let mut outcomes = Vec::new();
        let this = &*self;
        let served = tokio::time::timeout(
            LIMIT,
            bot.serve(&this.workbench, events, Some(calls), |call| {
                outcomes.push(call.clone());
                next(this, call);
            }),
        )
        .await
        .unwrap_or_else(|_| {
            panic!(
                "not served in {LIMIT:?}: events {:?}; calls at the platform {:?}",
                this.hooks.lock().unwrap(),
                this.emulator.with_platform(|p, _| p.calls())
            )
        })
        .expect("served");
        assert_eq!(served, calls);
        outcomes
    }

    fn statuses(&self) -> Vec<i8> {
        self.statuses.lock().unwrap().clone()
    }

    async fn stop(self) {
        self.workbench.shutdown().await.expect("shutdown");
        self.emulator.shutdown().await;
        let _ = std::fs::remove_dir_all(&self.local);
    }
}

/// A caller who presses `keys` once the prompt has played (the emulator's callers
/// count from when they call: the ring, then the prompt).
fn press(number: &str, keys: &str, prompt: &Prompt) -> InboundCall {
    simulated_caller(
        number,
        HOTLINE,
        keys,
        prompt.duration() + Duration::from_millis(200),
    )
}

/// A caller who presses `keys` during the prompt (300 ms in), as callers who know the
/// menu do.
fn barge_in(number: &str, keys: &str) -> InboundCall {
    simulated_caller(number, HOTLINE, keys, Duration::from_millis(300))
}

/// Frames of 20 ms in which each chime note dominates what the caller of `job` heard.
fn chime_heard(dir: &Path, job: &str) -> [u32; 2] {
    let prefix = format!("{job}-leg");
    let file = std::fs::read_dir(dir)
        .expect("the recordings directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with("-heard.wav"))
        })
        .unwrap_or_else(|| panic!("no recording of what the caller of {job} heard"));
    let mut source = WavSource::open(&file).expect("a WAV file");
    let candidates = CHIME_HZ.map(f64::from);
    let mut frame = AudioFrame::silent(8000);
    let mut frames = [0; 2];
    while source.fill(&mut frame) {
        match dominant_tone(frame.samples(), 8000, &candidates) {
            Some(hz) if hz == candidates[0] => frames[0] += 1,
            Some(hz) if hz == candidates[1] => frames[1] += 1,
            _ => {}
        }
    }
    frames
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_are_served_in_turn_hear_the_prompt_and_their_digits_are_collected() {
    let mut rig = Rig::start("in-turn").await;
    let first = rig.call_in(press("13800000101", "42#", &rig.prompt));
    let second = Arc::new(Mutex::new(None));
    let placed = Arc::clone(&second);
    let outcomes = rig
        .serve(&VoiceBot::default(), 2, move |rig, _| {
            let mut placed = placed.lock().unwrap();
            if placed.is_none() {
                *placed = Some(rig.call_in(press("13800000102", "7*9#", &rig.prompt)));
            }
        })
        .await;
    let second = second.lock().unwrap().clone().expect("the second caller");
    let got: Vec<_> = outcomes
        .iter()
        .map(|o| {
            (
                o.contact_id.as_deref().unwrap_or_default().to_owned(),
                o.caller.as_deref().unwrap_or_default().to_owned(),
                o.digits.clone(),
                o.ended.clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                first.clone(),
                "13800000101".into(),
                "42".into(),
                Ended::Terminator
            ),
            (
                second.clone(),
                "13800000102".into(),
                "7*9".into(),
                Ended::Terminator
            ),
        ]
    );
    // Each caller heard both notes of the prompt (20 and 30 frames long), through the
    // call's real audio.
    let dir = rig.emulator.info().recordings_dir.clone();
    rig.workbench.shutdown().await.expect("shutdown");
    for job in [&first, &second] {
        let [high, low] = chime_heard(&dir, job);
        assert!(high >= 10 && low >= 15, "{job}: {high} and {low} frames");
    }
    rig.emulator.shutdown().await;
    let _ = std::fs::remove_dir_all(&rig.local);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_digit_rules_a_count_a_caller_who_hangs_up_and_a_timeout() {
    let mut rig = Rig::start("rules").await;
    let rules = DigitRules {
        max_digits: 3,
        first_digit: Duration::from_millis(800),
        ..DigitRules::default()
    };
    rig.call_in(barge_in("13800000111", "12345#"));
    let mut next = 0;
    let outcomes = rig
        .serve(&VoiceBot::new(rules), 3, move |rig, _| {
            next += 1;
            let call = if next == 1 {
                // Presses 9, then hangs up before pressing anything else.
                let mut script = CustomerScript::default();
                script.play = Playback::Silence;
                script.dtmf = Some("9".into());
                script.dtmf_after_ms = 700;
                script.hangup_after_ms = Some(1300);
                let mut call = InboundCall::new("13800000112", HOTLINE);
                call.script = Some(script);
                call
            } else if next == 2 {
                // Says nothing.
                let mut call = InboundCall::new("13800000113", HOTLINE);
                let mut script = CustomerScript::default();
                script.play = Playback::Silence;
                call.script = Some(script);
                call
            } else {
                return;
            };
            rig.call_in(call);
        })
        .await;
    let got: Vec<_> = outcomes
        .iter()
        .map(|o| (o.digits.as_str(), o.ended.clone()))
        .collect();
    assert_eq!(
        got,
        [
            ("123", Ended::MaxDigits),
            ("9", Ended::CallerHungUp),
            ("", Ended::Timeout),
        ]
    );
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_waiting_in_the_queue_rings_once_when_the_bot_is_ready_again() {
    let mut rig = Rig::start("queue").await;
    let rules = DigitRules {
        first_digit: Duration::from_millis(800),
        ..DigitRules::default()
    };
    // Both call at once: the second waits in the queue while the first is served, and
    // is offered the moment the bot goes ready (the ready's push, the ringing's push,
    // then the ready's answer). It says nothing: the bot times its input out.
    let first = rig.call_in(barge_in("13800000121", "5#"));
    let mut silent = InboundCall::new("13800000122", HOTLINE);
    let mut script = CustomerScript::default();
    script.play = Playback::Silence;
    silent.script = Some(script);
    let second = rig.call_in(silent);
    let outcomes = rig.serve(&VoiceBot::new(rules), 2, |_, _| {}).await;
    let got: Vec<_> = outcomes
        .iter()
        .map(|o| {
            (
                o.contact_id.as_deref().unwrap_or_default().to_owned(),
                o.digits.clone(),
                o.ended.clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (first, "5".into(), Ended::Terminator),
            (second, String::new(), Ended::Timeout),
        ]
    );
    // One ring per call: the answer of the ready did not end the second call's ringing.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(rig.statuses(), [0, 2, 3, 6, 9, 5, 3, 6, 9, 5, 3]);
    rig.stop().await;
}

#[test]
fn the_binary_serves_its_simulated_callers_and_passes() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_voice_bot"))
        .args(["--calls", "2"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the voice bot starts");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("the voice bot's status") {
            break status;
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the voice bot ran longer than 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().expect("its output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(status.success(), "{status}\n{stdout}\n{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let digits: Vec<_> = lines
        .iter()
        .map(|l| (l["digits"].as_str(), l["ended"].as_str()))
        .collect();
    assert_eq!(
        digits,
        [
            (Some("42"), Some("terminator")),
            (Some("1"), Some("terminator"))
        ],
        "{stdout}"
    );
    assert!(stderr.contains("every caller's digits were collected as pressed"));
}
