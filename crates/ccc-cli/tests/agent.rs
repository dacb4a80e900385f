//! `ccc agent` (a headless agent on the embedded emulator: commands on stdin, JSON lines
//! on stdout) and `ccc ctl` (C23 through it from another process).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

struct Agent {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<Value>,
    seen: Vec<Value>,
    taken: std::collections::HashMap<String, usize>,
}

impl Agent {
    fn start(dir: &std::path::Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ccc"))
            .args(["agent", "--local-dir"])
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("ccc runs");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                let value: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not a JSON line: {line:?}: {e}"));
                if tx.send(value).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            stdin,
            lines,
            seen: Vec::new(),
            taken: std::collections::HashMap::new(),
        }
    }

    fn send(&mut self, command: &str) {
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// The first line (from the start) that matches.
    fn wait(&mut self, what: &str, f: impl Fn(&Value) -> bool) -> Value {
        if let Some(v) = self.seen.iter().find(|v| f(v)) {
            return v.clone();
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(v) => {
                    self.seen.push(v.clone());
                    if f(&v) {
                        return v;
                    }
                }
                Err(_) => panic!("no {what}; lines: {:#?}", self.seen),
            }
        }
    }

    /// The next outcome line of `command` not asked for yet.
    fn outcome(&mut self, command: &str) -> Value {
        let taken = self.taken.entry(command.to_owned()).or_insert(0);
        let want = *taken;
        *taken += 1;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let mut outcomes = self.seen.iter().filter(|v| v["command"] == command);
            if let Some(v) = outcomes.nth(want) {
                return v.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(v) => self.seen.push(v),
                Err(_) => panic!("no outcome of {command}; lines: {:#?}", self.seen),
            }
        }
    }

    fn status_codes(&self) -> Vec<i64> {
        self.seen
            .iter()
            .filter(|v| v["hook"] == "onStatusChange")
            .filter_map(|v| v["code"].as_i64())
            .collect()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ctl(dir: &std::path::Path, args: &[&str]) -> (bool, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_ccc"))
        .arg("ctl")
        .arg("--dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("ccc ctl runs");
    let line = String::from_utf8_lossy(&out.stdout);
    let value: Value = serde_json::from_str(line.trim()).unwrap_or_else(|e| {
        panic!(
            "ccc ctl printed {line:?} ({e}); stderr {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.success(), value)
}

fn local_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    dir
}

#[test]
fn a_headless_agent_takes_commands_and_prints_events_as_json_lines() {
    let dir = local_dir();
    let mut agent = Agent::start(dir.path());
    let emulator = agent.wait("the emulator line", |v| v["emulator"].is_object());
    assert_eq!(emulator["emulator"]["userId"], "alice@ccc-emulator");
    assert_eq!(agent.outcome("register")["ok"], true);
    agent.wait("onInit", |v| v["hook"] == "onInit");
    assert_eq!(agent.status_codes(), vec![0, 2, 3]);
    agent.send("break 2 lunch");
    assert_eq!(agent.outcome("break")["ok"], true);
    let brk = agent.wait("onBreak", |v| v["hook"] == "onBreak");
    assert_eq!(brk["code"], "lunch");
    agent.send("ready");
    assert_eq!(agent.outcome("ready")["ok"], true);
    agent.send("customer 13800000009");
    agent.wait("onCallComing", |v| v["hook"] == "onCallComing");
    agent.send("hangup");
    let refused = agent.outcome("hangup");
    assert_eq!(refused["ok"], false, "K6: only answer while ringing");
    assert!(
        refused["error"].as_str().unwrap().contains("status 6"),
        "{refused}"
    );
    agent.send("answer");
    assert_eq!(agent.outcome("answer")["ok"], true);
    agent.send("hold");
    agent.send("retrieve");
    agent.send("hangup");
    assert_eq!(agent.outcome("retrieve")["ok"], true);
    agent.wait("onHangUp", |v| v["hook"] == "onHangUp");
    agent.send("call 13800000001");
    let call = agent.outcome("call");
    assert_eq!(call["ok"], true, "{call}");
    assert!(call["result"]["jobId"].is_string());
    agent.send("dtmf 12#");
    agent.send("nonsense");
    assert_eq!(agent.outcome("nonsense")["ok"], false);
    agent.send("quit");
    agent.wait("onLogOut", |v| v["hook"] == "onLogOut");
    assert!(agent.child.wait().unwrap().success());
    let codes = agent.status_codes();
    assert!(codes.windows(4).any(|w| w == [6, 9, 12, 9]), "{codes:?}");
}

#[test]
fn ctl_calls_hangs_up_and_reads_the_status_through_the_agent() {
    let dir = local_dir();
    let mut agent = Agent::start(dir.path());
    assert_eq!(agent.outcome("register")["ok"], true);
    let (ok, status) = ctl(dir.path(), &["status"]);
    assert!(ok);
    assert_eq!(status["status"], 3);
    let (ok, refused) = ctl(dir.path(), &["hangup"]);
    assert!(!ok, "section 10: no hang-up at 3: {refused}");
    let (ok, dialed) = ctl(dir.path(), &["call", "13800000001"]);
    assert!(ok, "{dialed}");
    assert_eq!(dialed["status"], 8);
    agent.wait("status 10", |v| {
        v["hook"] == "onStatusChange" && v["code"] == 10
    });
    let (ok, _) = ctl(dir.path(), &["hangup"]);
    assert!(ok);
    agent.wait("onHangUp", |v| v["hook"] == "onHangUp");
    agent.send("quit");
    assert!(agent.child.wait().unwrap().success());
    let (ok, gone) = ctl(dir.path(), &["status"]);
    assert!(!ok, "{gone}");
    assert_eq!(gone["ok"], false);
}
