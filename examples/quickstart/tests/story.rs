//! Runs the quickstart as the README says (the built binary) and checks that it tells
//! the whole story and passes: the guide's status sequence, audio both ways, the DTMF
//! received by the customer's leg, and exit status 0, all within a bounded time.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Far more than the run needs (about 5 s); the quickstart bounds itself at 60 s.
const LIMIT: Duration = Duration::from_secs(90);

fn read_all(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

/// Waits for `child` at most [`LIMIT`], killing it after that.
fn wait(child: &mut Child) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_quickstart_tells_the_whole_story_and_passes() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the quickstart starts");
    let stdout = read_all(child.stdout.take().expect("stdout"));
    let stderr = read_all(child.stderr.take().expect("stderr"));
    let status = wait(&mut child);
    let stdout = stdout.join().expect("stdout read");
    let stderr = stderr.join().expect("stderr read");
    let status = status
        .unwrap_or_else(|| panic!("the quickstart ran longer than {LIMIT:?}\n{stdout}\n{stderr}"));
    assert!(
        status.success(),
        "the quickstart failed ({status}):\n{stdout}\n{stderr}"
    );
    for line in [
        "ok  register",
        "ok  answer",
        "ok  the agent hears 1000 Hz",
        "ok  callHold",
        "ok  callRetrieve",
        "ok  the customer heard the agent's 600 Hz",
        "ok  the agent hears 800 Hz",
        "ok  sendDtmf",
        "ok  the customer's leg received 12#",
        "ok  status codes 0 2 3 6 9 12 9 5 3 8 10 5 3: the guide's sequence",
        "quickstart: every step passed",
    ] {
        assert!(stdout.contains(line), "no `{line}` in:\n{stdout}");
    }
    // Every status change printed, in the guide's order, each with its code.
    let codes: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("onStatusChange"))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let guide = [
        "0", "2", "3", "6", "9", "12", "9", "5", "3", "8", "10", "5", "3",
    ];
    assert!(codes.starts_with(&guide), "{codes:?} in:\n{stdout}");
}
