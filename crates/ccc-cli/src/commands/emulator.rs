//! `ccc emulator`: a local Call Center for other languages' clients and for demos.
//!
//! Prints one JSON object on standard output (its URLs and credentials, as
//! `EmulatorInfo::to_json`) once it serves, then runs until interrupted (Ctrl-C) or
//! until standard input closes, whichever comes first.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use ccc_emulator::{Emulator, EmulatorConfig, Scenario};
use tokio::io::AsyncReadExt;

/// Arguments of `ccc emulator`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A scenario in TOML (the built-in one when left out; see `--print-scenario`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where the OpenAPI (and admin API) listen; port 0 picks a free port. The agent
    /// link listens on the same address, any free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Print the built-in scenario as TOML (a file to edit) and exit.
    #[arg(long)]
    print_scenario: bool,
    /// Keep running when standard input closes (only Ctrl-C stops it).
    #[arg(long)]
    detach_stdin: bool,
}

/// Runs the emulator.
pub(crate) async fn run(args: Args) -> Result<ExitCode, String> {
    if args.print_scenario {
        let text = Scenario::default()
            .to_toml_string()
            .map_err(|e| e.to_string())?;
        print!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    let scenario = match &args.config {
        None => Scenario::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            Scenario::from_toml_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
    };
    let mut config = EmulatorConfig::new(scenario);
    config.listen = args.listen;
    config.agent_link_listen = SocketAddr::new(args.listen.ip(), 0);
    let emulator = Emulator::start(config).await.map_err(|e| e.to_string())?;
    println!("{}", emulator.info().to_json());
    let stdin_closed = async {
        if args.detach_stdin {
            std::future::pending::<()>().await;
        }
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 256];
        while matches!(stdin.read(&mut buf).await, Ok(n) if n > 0) {}
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = stdin_closed => {}
    }
    emulator.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
