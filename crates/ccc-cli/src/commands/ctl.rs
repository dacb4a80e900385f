//! `ccc ctl`: act through the registered workbench of an agent on this machine (C23,
//! the guide's section 10): `call NUMBER [--caller C]`, `hangup`, `status`.
//!
//! The workbench is found by its control socket: `--socket PATH`, or `--instance` and
//! `--user`, or the only one in the local directory. The guide's rules hold: a call
//! only at status 3, 4 or 5, a hang-up only at 8, 9, 10, 11, 12 or 21; the workbench
//! must have C23 (`useLocalStorageToCall`) on to take calls and hang-ups.

use std::path::PathBuf;
use std::process::ExitCode;

use ccc_workbench::CallRequest;
use ccc_workbench::local::{ControlClient, LocalDir};
use serde_json::json;

/// Arguments of `ccc ctl`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The control socket of the registered workbench.
    #[arg(long, value_name = "PATH", global = true)]
    socket: Option<PathBuf>,
    /// The instance of the agent (with `--user`).
    #[arg(long, global = true)]
    instance: Option<String>,
    /// The agent (`agent@instance`, with `--instance`).
    #[arg(long, global = true)]
    user: Option<String>,
    /// The local directory of locks and sockets (default `$XDG_RUNTIME_DIR/ccc-rs`).
    #[arg(long, value_name = "DIR", global = true)]
    dir: Option<PathBuf>,
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Dial (`workbenchSdkCall`); allowed at status 3, 4 or 5.
    Call {
        /// The number to call.
        number: String,
        /// The calling number: a number of the agent's, or `auto`.
        #[arg(long, default_value = "")]
        caller: String,
        /// The callee is encrypted with this public key.
        #[arg(long)]
        public_key: Option<String>,
        /// Call through the caller's virtual number.
        #[arg(long)]
        use_vir_num_call: bool,
    },
    /// Hang up (`workbenchSdkHangup`); allowed at status 8, 9, 10, 11, 12 or 21.
    Hangup,
    /// The status code (`workbenchSdkStatus`).
    Status,
}

fn socket(args: &Args) -> Result<PathBuf, String> {
    if let Some(path) = &args.socket {
        return Ok(path.clone());
    }
    let dir = match &args.dir {
        Some(path) => LocalDir::at(path.clone()),
        None => LocalDir::default_for_user(),
    }
    .map_err(|e| e.to_string())?;
    if let (Some(instance), Some(user)) = (&args.instance, &args.user) {
        return Ok(dir.socket_path(instance, user));
    }
    let sockets: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .map_err(|e| format!("{}: {e}", dir.path().display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|p| p.extension().is_some_and(|e| e == "sock"))
        .collect();
    match sockets.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(format!(
            "no registered workbench serves in {} (start one, e.g. `ccc agent`)",
            dir.path().display()
        )),
        many => Err(format!(
            "{} workbenches serve in {}: name one with --instance and --user, or --socket",
            many.len(),
            dir.path().display()
        )),
    }
}

/// Sends one request and prints the answer as one JSON object; a refusal or no
/// registered workbench is `{"ok":false,"error":..}` and exit status 1.
pub(crate) async fn run(args: Args) -> Result<ExitCode, String> {
    let path = match socket(&args) {
        Ok(path) => path,
        Err(e) => return Ok(failed(&e)),
    };
    let mut client = match ControlClient::connect(&path).await {
        Ok(client) => client,
        Err(e) => return Ok(failed(&e.to_string())),
    };
    let outcome = match args.action {
        Action::Call {
            number,
            caller,
            public_key,
            use_vir_num_call,
        } => {
            let mut request = CallRequest::new(number)
                .caller(caller)
                .use_vir_num_call(use_vir_num_call);
            if let Some(key) = public_key {
                request = request.public_key(key);
            }
            client.call(request).await
        }
        Action::Hangup => client.hang_up().await,
        Action::Status => client.status().await,
    };
    match outcome {
        Ok(status) => {
            println!(
                "{}",
                json!({"ok": true, "status": status.code(), "description": status.description().as_str()})
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(failed(&e.to_string())),
    }
}

fn failed(error: &str) -> ExitCode {
    println!("{}", json!({"ok": false, "error": error}));
    ExitCode::FAILURE
}
