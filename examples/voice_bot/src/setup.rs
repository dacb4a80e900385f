//! Where the bot signs in: a real deployment described by a config file, or the
//! embedded emulator (and its simulated callers).

use std::path::Path;
use std::time::Duration;

use ccc_emulator::EmulatorInfo;
use ccc_emulator::platform::InboundCall;
use ccc_emulator::scenario::{CustomerScript, Playback};
use ccc_media::call::CallConfig;
use ccc_openapi::Client;
use ccc_openapi::transport::Direct;
use ccc_workbench::config::{Config, ConfigError};
use ccc_workbench::deployment::{Deployment, DeploymentError};
use ccc_workbench::{LoginSkillGroup, Workbench, WorkbenchBuilder};

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
    /// The deployment file cannot be used.
    #[error(transparent)]
    Deployment(#[from] DeploymentError),
    /// The emulator's options do not hold together.
    #[error("the emulator's options: {0}")]
    Config(#[from] ConfigError),
    /// The OpenAPI client could not be made.
    #[error("the OpenAPI client: {0}")]
    Client(String),
    /// The emulator has no agent to sign in as.
    #[error("the emulator's scenario has no agent")]
    NoAgent,
}

/// A real deployment: the JSON file `ccc agent --config` takes (the guide's options in
/// camelCase and `userId`, `transport`, `endpoint`, `region`, `accessPoint`,
/// `skillGroups`; see `ccc_workbench::deployment`).
pub fn from_file(path: &Path) -> Result<Setup, SetupError> {
    let deployment = Deployment::from_file(path)?;
    Ok(Setup {
        builder: deployment.builder()?,
        access_point: deployment.access_point,
        skill_groups: deployment.skill_groups,
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
        .build()?;
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

    fn file(name: &str, text: &str) -> std::path::PathBuf {
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
        assert!(
            matches!(e, SetupError::Deployment(DeploymentError::Json { .. }))
                && e.to_string().contains("bad.json")
        );
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
        assert!(
            matches!(e, SetupError::Deployment(DeploymentError::Client(_))),
            "{e}"
        );
        assert!(e.to_string().contains("ajaxOrigin"), "{e}");
        let e = from_file(Path::new("/nonexistent/bot.json")).unwrap_err();
        assert!(
            matches!(e, SetupError::Deployment(DeploymentError::Read { .. })),
            "{e}"
        );
    }
}
