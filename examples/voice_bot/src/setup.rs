//! Where the bot signs in: a real deployment described by a config file, or the
//! embedded emulator (and its simulated callers).

use std::path::{Path, PathBuf};
use std::time::Duration;

use ccc_emulator::EmulatorInfo;
use ccc_emulator::platform::InboundCall;
use ccc_emulator::scenario::{CustomerScript, Playback};
use ccc_media::call::CallConfig;
use ccc_openapi::transport::Direct;
use ccc_openapi::{Client, Credentials};
use ccc_workbench::config::{Config, ConfigError, ConfigSource};
use ccc_workbench::{LoginSkillGroup, Workbench, WorkbenchBuilder};
use serde::Deserialize;

/// What the bot signs in with: a builder (add the audio and the local directory), the
/// access point and the skill groups for `register`.
#[derive(Debug)]
#[non_exhaustive]
pub struct Setup {
    /// The workbench's builder.
    pub builder: WorkbenchBuilder,
    /// The access point (TURN region) for `register`, `default` when none is named.
    pub access_point: String,
    /// The skill groups to sign in to; all of the agent's when `None`.
    pub skill_groups: Option<Vec<LoginSkillGroup>>,
}

/// Why there is no setup.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not the JSON expected.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// The guide's options in the file do not hold together.
    #[error("{path}: {source}")]
    Config {
        /// The file.
        path: PathBuf,
        /// Why.
        source: ConfigError,
    },
    /// The OpenAPI client could not be made (no AccessKey for `direct`, no
    /// `ajaxOrigin` for `proxy`, a bad endpoint).
    #[error("the OpenAPI client: {0}")]
    Client(String),
    /// The emulator has no agent to sign in as.
    #[error("the emulator's scenario has no agent")]
    NoAgent,
}

/// The file's own keys, beside the guide's options: the same file as `ccc agent
/// --config` takes.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BotFile {
    user_id: String,
    #[serde(default)]
    transport: Transport,
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default = "default_region")]
    region: String,
    #[serde(default = "default_access_point")]
    access_point: String,
    #[serde(default)]
    skill_groups: Option<Vec<LoginSkillGroup>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Transport {
    /// The integrator's backend at `ajaxOrigin` + `ajaxPath` (the browser SDK's way).
    #[default]
    Proxy,
    /// Requests signed with the AccessKey of the environment
    /// (`ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET`).
    Direct,
}

fn default_region() -> String {
    "cn-shanghai".to_owned()
}

fn default_access_point() -> String {
    "default".to_owned()
}

/// A real deployment: a JSON file with the guide's options in camelCase
/// (`instanceId`, `useOpenApiSdk`, `afterCallRule`, `ajaxOrigin`, `ajaxPath`, ...) and
/// `userId` (the agent), `transport` (`proxy`, the default, or `direct`), `endpoint`,
/// `region`, `accessPoint`, `skillGroups`.
pub fn from_file(path: &Path) -> Result<Setup, SetupError> {
    let text = std::fs::read_to_string(path).map_err(|source| SetupError::Read {
        path: path.to_owned(),
        source,
    })?;
    let json = |source| SetupError::Json {
        path: path.to_owned(),
        source,
    };
    let options: ConfigSource = serde_json::from_str(&text).map_err(json)?;
    let file: BotFile = serde_json::from_str(&text).map_err(json)?;
    let config = Config::try_from(options).map_err(|source| SetupError::Config {
        path: path.to_owned(),
        source,
    })?;
    let client = match file.transport {
        Transport::Proxy => ccc_workbench::proxy_client(&config, &file.region)
            .map_err(|e| SetupError::Client(e.to_string()))?,
        Transport::Direct => {
            let credentials =
                Credentials::from_env().map_err(|e| SetupError::Client(e.to_string()))?;
            let mut direct = Direct::builder(credentials).region(file.region.clone());
            if let Some(endpoint) = &file.endpoint {
                direct = direct.endpoint(endpoint.clone());
            }
            Client::new(
                direct
                    .build()
                    .map_err(|e| SetupError::Client(e.to_string()))?,
            )
        }
    };
    Ok(Setup {
        builder: Workbench::builder(config, client, file.user_id),
        access_point: file.access_point,
        skill_groups: file.skill_groups,
    })
}

/// The emulator's first agent, with after-call work left to the bot (`afterCallRule`
/// manual: it is ready again as soon as a call ends) and media on loopback.
pub fn for_emulator(info: &EmulatorInfo) -> Result<Setup, SetupError> {
    let agent = info.agents.first().ok_or(SetupError::NoAgent)?;
    let direct = Direct::builder(info.credentials())
        .endpoint(info.api_url.clone())
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| SetupError::Client(e.to_string()))?;
    let config = Config::builder(info.instance_id.clone(), true)
        .after_call_rule_manual()
        .build()
        .map_err(|source| SetupError::Config {
            path: PathBuf::from("<emulator>"),
            source,
        })?;
    Ok(Setup {
        builder: Workbench::builder(config, Client::new(direct), agent.user_id.clone())
            .call_config(CallConfig::loopback()),
        access_point: "default".to_owned(),
        skill_groups: None,
    })
}

/// A simulated caller of the emulator: it calls `hotline` from `number`, listens (and
/// records what it hears) and presses `keys` `press_after` after the bot answers.
pub fn simulated_caller(
    number: &str,
    hotline: &str,
    keys: &str,
    press_after: Duration,
) -> InboundCall {
    let mut script = CustomerScript::default();
    script.play = Playback::Silence;
    script.dtmf = Some(keys.to_owned());
    script.dtmf_after_ms = u64::try_from(press_after.as_millis()).unwrap_or(u64::MAX);
    script.record = true;
    let mut call = InboundCall::new(number, hotline);
    call.script = Some(script);
    call
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("voice-bot-setup-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn a_file_for_the_integrators_backend() {
        let path = file(
            "proxy.json",
            r#"{"instanceId": "my-instance", "useOpenApiSdk": true,
                "ajaxOrigin": "https://backend.example", "afterCallRule": 5,
                "userId": "agent@my-instance", "accessPoint": "cn-hangzhou"}"#,
        );
        let setup = from_file(&path).unwrap();
        assert_eq!(setup.access_point, "cn-hangzhou");
        assert_eq!(setup.skill_groups, None);
    }

    #[test]
    fn bad_files_are_refused_with_their_name() {
        let e = from_file(&file("bad.json", "{")).unwrap_err();
        assert!(matches!(e, SetupError::Json { .. }) && e.to_string().contains("bad.json"));
        let e = from_file(&file(
            "no-user.json",
            r#"{"instanceId": "i", "useOpenApiSdk": true}"#,
        ))
        .unwrap_err();
        assert!(e.to_string().contains("userId"), "{e}");
        // The proxy transport needs the backend's origin.
        let e = from_file(&file(
            "no-origin.json",
            r#"{"instanceId": "i", "useOpenApiSdk": true, "userId": "a@i"}"#,
        ))
        .unwrap_err();
        assert!(matches!(e, SetupError::Client(_)), "{e}");
        assert!(e.to_string().contains("ajaxOrigin"), "{e}");
        let e = from_file(Path::new("/nonexistent/bot.json")).unwrap_err();
        assert!(matches!(e, SetupError::Read { .. }), "{e}");
    }
}
