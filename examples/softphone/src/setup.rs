//! Where the softphone signs in: the embedded emulator (the default), or a real
//! deployment described by a configuration file in the format of `ccc agent --config`.
//!
//! The file is one JSON object: the guide's options in camelCase (the workbench's
//! `instanceId`, `useOpenApiSdk`, `afterCallRule`, `autoAnswerCall`, `ajax*`, ... and
//! the panel's `header`, `width`, `height`, `defaultVisible`, `offlineImage`,
//! `breakImage`, `moreActionList`, `sideNavList`, `reducePanel`,
//! `customizedNotification`) and, beside them, as for `ccc agent`: `userId` (the
//! agent), `transport` (`proxy`: the integrator's backend of `ajaxOrigin` +
//! `ajaxPath`; `direct`: requests signed with the AccessKey of the environment,
//! `ALIBABA_CLOUD_ACCESS_KEY_ID` and `ALIBABA_CLOUD_ACCESS_KEY_SECRET`, to `endpoint` or
//! the region's), `region`, `accessPoint`, `skillGroups`, `sipDevice`. With
//! `"emulator": true` the file's options apply to the embedded emulator instead
//! (`instanceId`, `useOpenApiSdk`, `userId` and the transport are then the emulator's).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ccc_emulator::scenario::NumberUsage;
use ccc_emulator::{Emulator, EmulatorConfig, Scenario};
use ccc_openapi::Client;
use ccc_openapi::transport::Direct;
use ccc_workbench::config::{Config, ConfigSource};
use ccc_workbench::deployment::Deployment;
use ccc_workbench::{LoginSkillGroup, Workbench, WorkbenchBuilder};
use serde::Deserialize;
use serde_json::Value;

use crate::app::Rules;
use crate::options::PanelOptions;

/// The number the embedded emulator's customer calls from (`i`): one the scenario
/// has no script for, so the customer stays on the line until the agent hangs up.
pub const CUSTOMER: &str = "13800000009";

/// What the softphone signs in with.
pub struct Setup {
    /// The workbench, not built yet.
    pub builder: WorkbenchBuilder,
    /// M2's access point.
    pub access_point: String,
    /// M2's skill groups (`None`: all of the agent's).
    pub groups: Option<Vec<LoginSkillGroup>>,
    /// The embedded emulator, when it is the platform.
    pub emulator: Option<Arc<Emulator>>,
    /// The panel's options.
    pub panel: PanelOptions,
    /// The other options the panel honours.
    pub rules: Rules,
}

impl std::fmt::Debug for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setup")
            .field("access_point", &self.access_point)
            .field("embedded", &self.emulator.is_some())
            .field("panel", &self.panel)
            .finish_non_exhaustive()
    }
}

/// The file's own key, beside those of a deployment (`ccc_workbench::deployment`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileKeys {
    #[serde(default)]
    emulator: bool,
}

impl Setup {
    /// From a configuration file (see the module docs).
    pub async fn from_file(path: &Path) -> Result<Self, String> {
        let at = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let json: Value = serde_json::from_str(&text).map_err(|e| at(&e))?;
        if !json.is_object() {
            return Err(at(&"the configuration must be a JSON object"));
        }
        let keys: FileKeys = serde_json::from_value(json.clone()).map_err(|e| at(&e))?;
        if keys.emulator {
            return Self::embedded(&json).await.map_err(|e| at(&e));
        }
        Self::deployment(&json).map_err(|e| at(&e))
    }

    fn deployment(json: &Value) -> Result<Self, String> {
        let panel = PanelOptions::from_json(json).map_err(|e| e.to_string())?;
        let deployment = Deployment::from_value(json).map_err(|e| e.to_string())?;
        let rules = Rules::new(&deployment.config, None);
        let builder = deployment.builder().map_err(|e| e.to_string())?;
        Ok(Self {
            builder: crate::audio::with_audio(builder),
            access_point: deployment.access_point,
            groups: deployment.skill_groups,
            emulator: None,
            panel,
            rules,
        })
    }

    /// The embedded emulator (its default scenario) and its first agent, with the
    /// guide's options of `options` (a JSON object; `{}` for the guide's defaults).
    pub async fn embedded(options: &Value) -> Result<Self, String> {
        Self::embedded_in(options, Scenario::default()).await
    }

    /// The embedded emulator with `scenario`, signed in as its first agent.
    pub async fn embedded_in(options: &Value, scenario: Scenario) -> Result<Self, String> {
        let panel = PanelOptions::from_json(options).map_err(|e| e.to_string())?;
        let agent = scenario
            .agents
            .first()
            .ok_or("the emulator's scenario has no agent")?;
        let hotline = hotline_of(&scenario, &agent.skills).ok_or_else(|| {
            format!(
                "the emulator's scenario has no hotline for {}'s skill groups",
                agent.user_id
            )
        })?;
        let user_id = agent.user_id.clone();
        let emulator = Emulator::start(EmulatorConfig::new(scenario))
            .await
            .map_err(|e| format!("the embedded emulator: {e}"))?;
        let info = emulator.info();
        let mut source: ConfigSource = if options.is_object() {
            serde_json::from_value(options.clone()).map_err(|e| e.to_string())?
        } else {
            ConfigSource::default()
        };
        source.instance_id = Some(info.instance_id.clone());
        source.use_open_api_sdk = Some(true);
        let config = Config::try_from(source).map_err(|e| e.to_string())?;
        let direct = Direct::builder(info.credentials())
            .endpoint(info.api_url.clone())
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| e.to_string())?;
        let mut call = ccc_media::call::CallConfig::loopback();
        call.connect_timeout = Duration::from_secs(5);
        let rules = Rules::new(&config, Some((CUSTOMER.to_owned(), hotline)));
        let builder = Workbench::builder(config, Client::new(direct), user_id)
            .sip_device(info.sip_ws_url.is_some())
            .call_config(call);
        Ok(Self {
            builder: crate::audio::with_audio(builder),
            access_point: "default".to_owned(),
            groups: None,
            emulator: Some(Arc::new(emulator)),
            panel,
            rules,
        })
    }
}

/// The first inbound number that routes to one of the agent's skill groups.
fn hotline_of(
    scenario: &Scenario,
    skills: &[ccc_emulator::scenario::SkillLevel],
) -> Option<String> {
    scenario
        .numbers
        .iter()
        .filter(|n| matches!(n.usage, NumberUsage::Bidirection | NumberUsage::Inbound))
        .find(|n| {
            n.inbound_skill_group
                .as_ref()
                .is_some_and(|g| skills.iter().any(|s| &s.skill_group == g))
        })
        .map(|n| n.number.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_scenario_has_a_hotline_for_its_first_agent() {
        let scenario = Scenario::default();
        let alice = &scenario.agents[0];
        assert_eq!(
            hotline_of(&scenario, &alice.skills).as_deref(),
            Some("02150000001")
        );
        assert!(hotline_of(&scenario, &[]).is_none());
    }

    #[tokio::test]
    async fn a_bad_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.json");
        let e = Setup::from_file(&missing).await.unwrap_err();
        assert!(e.contains("cannot read"), "{e}");
        let path = dir.path().join("bad.json");
        std::fs::write(&path, "[1, 2]").unwrap();
        let e = Setup::from_file(&path).await.unwrap_err();
        assert!(e.contains("JSON object"), "{e}");
        std::fs::write(&path, r#"{"instanceId": "x", "useOpenApiSdk": false}"#).unwrap();
        let e = Setup::from_file(&path).await.unwrap_err();
        assert!(e.contains("userId"), "{e}");
        std::fs::write(
            &path,
            r#"{"instanceId": "x", "useOpenApiSdk": false, "userId": "a@x", "sideNavList": ["nope"]}"#,
        )
        .unwrap();
        let e = Setup::from_file(&path).await.unwrap_err();
        assert!(e.contains("sideNavList"), "{e}");
        std::fs::write(
            &path,
            r#"{"instanceId": "x", "useOpenApiSdk": false, "userId": "a@x", "afterCallRule": -1}"#,
        )
        .unwrap();
        let e = Setup::from_file(&path).await.unwrap_err();
        assert!(e.contains("afterCallRule"), "{e}");
    }

    #[tokio::test]
    async fn a_deployment_file_reads_the_guides_options() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.json");
        std::fs::write(
            &path,
            r#"{"instanceId": "ccc-x", "useOpenApiSdk": true, "userId": "alice@ccc-x",
                "ajaxOrigin": "https://crm.example", "ajaxPath": "/ccc/api",
                "afterCallRule": "manual", "autoAnswerCall": 3, "exportErrorOfApi": true,
                "header": false, "accessPoint": "cn-hangzhou"}"#,
        )
        .unwrap();
        let setup = Setup::from_file(&path).await.unwrap();
        assert!(setup.emulator.is_none());
        assert!(!setup.panel.header);
        assert_eq!(setup.access_point, "cn-hangzhou");
        assert_eq!(
            setup.rules.after_call,
            ccc_core::config::AfterCallRule::Manual
        );
        assert_eq!(setup.rules.auto_answer, Some(Duration::from_secs(3)));
        assert!(setup.rules.export_error_of_api);
        assert!(setup.rules.customer.is_none());
    }
}
