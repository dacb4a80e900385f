//! `ccc`: the command-line tool of ccc-rs.
//!
//! Subcommands arrive with the crates behind them: today `api` (one OpenAPI call),
//! `turn-test` (ccc-media's access-point speed test), `emulator` (ccc-emulator), `phone`
//! (ccc-sip and ccc-media), `agent` (a headless ccc-workbench agent) and `ctl` (C23
//! through a registered workbench).

mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Tools for the Alibaba Cloud Call Center agent SDK.
#[derive(Debug, Parser)]
#[command(name = "ccc", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Call one CCC OpenAPI action with the AccessKey of the environment, or show the
    /// signed request (`--dry-run`).
    Api(commands::api::Args),
    /// Time the TURN access points of each region and rank them (M33 testTurnServers).
    TurnTest(commands::turn_test::Args),
    /// Run a local Call Center (OpenAPI, agent link) and print its URLs and credentials.
    Emulator(commands::emulator::Args),
    /// A SIP WebRTC phone for any SIP-over-WebSocket server; one JSON event per line.
    Phone(Box<commands::phone::Args>),
    /// A headless agent: commands on stdin, every event as a JSON line on stdout.
    Agent(commands::agent::Args),
    /// Call, hang up or read the status through this machine's registered workbench.
    #[cfg(unix)]
    Ctl(commands::ctl::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("ccc: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Api(args) => commands::api::run(args).await,
            Command::TurnTest(args) => commands::turn_test::run(args).await,
            Command::Emulator(args) => commands::emulator::run(args).await,
            Command::Phone(args) => commands::phone::run(*args).await,
            Command::Agent(args) => commands::agent::run(args).await,
            #[cfg(unix)]
            Command::Ctl(args) => commands::ctl::run(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("ccc: {message}");
            ExitCode::from(2)
        }
    }
}
