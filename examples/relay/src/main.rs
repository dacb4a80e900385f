//! `ccc-relay`: the example integrator backend, configured from the environment.
//!
//! ```text
//! ALIBABA_CLOUD_ACCESS_KEY_ID=... ALIBABA_CLOUD_ACCESS_KEY_SECRET=... \
//! CCC_INSTANCE_ID=ccc-test CCC_RELAY_SESSION_KEY=<32+ bytes> \
//! CCC_RELAY_USERS='alice:pw:alice@ccc-test,bob:pw2:bob@ccc-test:supervisor' \
//! cargo run -p ccc-relay
//! ```
//! Optional: `CCC_RELAY_LISTEN` (default `127.0.0.1:8080`), `CCC_REGION`
//! (`cn-shanghai`), `CCC_ENDPOINT` (a base URL, e.g. the emulator's).

use std::process::ExitCode;
use std::time::Duration;

use ccc_openapi::Credentials;
use ccc_openapi::transport::Direct;
use ccc_relay::{RelayConfig, User, router};

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name}"))
}

fn users(spec: &str) -> Result<Vec<User>, String> {
    spec.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|entry| {
            let parts: Vec<&str> = entry.trim().split(':').collect();
            match parts.as_slice() {
                [name, password, agent] | [name, password, agent, _] => Ok(User {
                    name: (*name).to_owned(),
                    password: (*password).to_owned(),
                    agent_id: (*agent).to_owned(),
                    supervisor: parts.get(3) == Some(&"supervisor"),
                }),
                _ => Err(format!(
                    "CCC_RELAY_USERS: {entry:?} is not name:password:agent[:supervisor]"
                )),
            }
        })
        .collect()
}

async fn run() -> Result<(), String> {
    let credentials = Credentials::from_env().map_err(|e| e.to_string())?;
    let session_key = env("CCC_RELAY_SESSION_KEY")?.into_bytes();
    if session_key.len() < 32 {
        return Err("CCC_RELAY_SESSION_KEY: use 32 bytes or more".into());
    }
    let mut ccc = Direct::builder(credentials)
        .region(std::env::var("CCC_REGION").unwrap_or_else(|_| "cn-shanghai".into()));
    if let Ok(endpoint) = std::env::var("CCC_ENDPOINT") {
        ccc = ccc.endpoint(endpoint);
    }
    let config = RelayConfig {
        instance_id: env("CCC_INSTANCE_ID")?,
        users: users(&env("CCC_RELAY_USERS")?)?,
        session_key,
        session_ttl: Duration::from_secs(8 * 3600),
        ccc: ccc.build().map_err(|e| e.to_string())?,
        shape: None,
        api_param_name: "action".into(),
    };
    let listen = std::env::var("CCC_RELAY_LISTEN").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|e| format!("listen on {listen}: {e}"))?;
    eprintln!("ccc-relay: listening on http://{listen}");
    axum::serve(listener, router(config))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("ccc-relay: {message}");
            ExitCode::FAILURE
        }
    }
}
