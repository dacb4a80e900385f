//! `softphone`: the terminal softphone (see the library's docs for the keys).
//!
//! ```text
//! cargo run -p ccc-softphone [-- --config FILE] [--local-dir DIR]
//! ```

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use ccc_softphone::{Setup, Softphone};
use clap::Parser;
use ratatui::crossterm::event::{self, Event as TermEvent, KeyEvent};
use tokio::sync::mpsc;

/// An interactive terminal softphone: the workbench guide's panel.
#[derive(Debug, Parser)]
#[command(name = "softphone")]
struct Args {
    /// The guide's options as JSON (the format of `ccc agent --config`); without it,
    /// the embedded emulator and its first agent.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where the per-agent lock and the control socket live (default
    /// `$XDG_RUNTIME_DIR/ccc-rs`).
    #[arg(long, value_name = "DIR")]
    local_dir: Option<PathBuf>,
}

/// How often the panel is drawn again without an event (its timers).
const TICK: Duration = Duration::from_millis(250);

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("softphone: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let mut setup = match &args.config {
        Some(path) => Setup::from_file(path).await?,
        None => Setup::embedded(&serde_json::json!({})).await?,
    };
    if let Some(dir) = &args.local_dir {
        setup.builder = setup.builder.local_dir(dir.clone());
    }
    let mut softphone = Softphone::start(setup).await?;
    let mut terminal = ratatui::try_init().map_err(|e| format!("the terminal: {e}"))?;
    let mut keys = read_keys();
    let mut tick = tokio::time::interval(TICK);
    let mut seen = (softphone.app.status, false);
    let outcome = loop {
        // With sound devices, ALSA may write to the terminal when a device opens (a
        // call starts, the device check runs): the panel is then drawn anew, whole.
        let now_seen = (
            softphone.app.status,
            softphone.app.lists.device.get().is_some(),
        );
        if cfg!(feature = "device") && now_seen != seen {
            let _ = terminal.clear();
        }
        seen = now_seen;
        if let Err(e) = terminal.draw(|frame| softphone.draw(frame)) {
            break Err(format!("drawing: {e}"));
        }
        if softphone.app.take_bell() {
            // The built-in incoming-call notification (not with C40).
            let mut out = std::io::stdout();
            let _ = out.write_all(b"\x07").and_then(|()| out.flush());
        }
        if softphone.app.quit {
            break Ok(());
        }
        tokio::select! {
            key = keys.recv() => match key {
                Some(Ok(key)) => softphone.key(key),
                Some(Err(e)) => break Err(format!("reading the keyboard: {e}")),
                None => break Ok(()),
            },
            alive = softphone.step() => if !alive {
                break Err("the workbench stopped".to_owned());
            },
            _ = tick.tick() => {}
        }
    };
    ratatui::restore();
    drop(keys);
    softphone.shutdown().await;
    outcome
}

/// Key presses, read on a thread of their own (crossterm's reads block).
fn read_keys() -> mpsc::Receiver<std::io::Result<KeyEvent>> {
    let (tx, rx) = mpsc::channel(64);
    std::thread::spawn(move || {
        while !tx.is_closed() {
            match event::poll(Duration::from_millis(200)) {
                Ok(false) => {}
                Ok(true) => match event::read() {
                    Ok(TermEvent::Key(key)) => {
                        if tx.blocking_send(Ok(key)).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e));
                        return;
                    }
                },
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
    });
    rx
}
