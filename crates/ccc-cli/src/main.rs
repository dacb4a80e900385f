//! `ccc`: the command-line tool of ccc-rs.
//!
//! Its subcommands (`api`, `phone`, `turn-test`, `emulator`, `agent`, `ctl`) arrive with the
//! issues that build the crates behind them; today it only answers `--version` and `--help`.

use std::process::ExitCode;

const USAGE: &str =
    "usage: ccc [--version | --help]\n\nNo subcommands are available in this build yet.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--version" | "-V") => {
            println!("ccc {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        None | Some("--help" | "-h") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("ccc: unknown command `{other}`\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
