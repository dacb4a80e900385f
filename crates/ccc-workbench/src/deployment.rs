//! A deployment described by a file: the one JSON format that `ccc agent --config`, the
//! voice bot and the softphone read.
//!
//! The file is one JSON object: the guide's options in camelCase (`instanceId`,
//! `useOpenApiSdk`, `afterCallRule`, `ajaxOrigin`, `ajaxPath`, ... as
//! [`ConfigSource`] reads them) and, beside them, what a program needs that a browser
//! page had from its surroundings:
//!
//! | key | meaning | default |
//! |---|---|---|
//! | `userId` | the agent (`agent@instance`) | required |
//! | `transport` | `proxy`: the integrator's backend at `ajaxOrigin` + `ajaxPath` (the browser SDK's way); `direct`: requests signed with the AccessKey of the environment (`ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET`, `ALIBABA_CLOUD_SECURITY_TOKEN`) | `proxy` |
//! | `endpoint` | with `direct`: the OpenAPI endpoint | the region's |
//! | `region` | the region of the instance | `cn-shanghai` |
//! | `accessPoint` | the access point (TURN region) for `register` | `default` |
//! | `skillGroups` | the skill groups to sign in to (`[{"groupName": .., "groupLevel": .., "skillGroupName": ..}]`, as `register` takes them) | all of the agent's |
//! | `sipDevice` | whether this program is the agent's phone (SIP + WebRTC) | `true` |
//!
//! Other keys are left to the program (the softphone reads its panel options from the
//! same object).
//!
//! ```
//! use ccc_workbench::deployment::{Deployment, Transport};
//!
//! let file = r#"{
//!     "instanceId": "ccc-test",
//!     "useOpenApiSdk": true,
//!     "ajaxOrigin": "https://backend.example.com",
//!     "ajaxPath": "/api/ccc",
//!     "userId": "agent@ccc-test",
//!     "accessPoint": "cn-shanghai"
//! }"#;
//! let deployment = Deployment::from_json(file)?;
//! assert_eq!(deployment.user_id, "agent@ccc-test");
//! assert_eq!(deployment.transport, Transport::Proxy);
//! let builder = deployment.builder()?; // then .build().await and register
//! # Ok::<(), ccc_workbench::deployment::DeploymentError>(())
//! ```

use std::path::Path;

use ccc_openapi::transport::Direct;
use ccc_openapi::{Client, Credentials};
use serde::Deserialize;

use crate::config::{Config, ConfigError, ConfigSource};
use crate::{LoginSkillGroup, Workbench, WorkbenchBuilder};

/// How the OpenAPI is reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Transport {
    /// The integrator's backend at `ajaxOrigin` + `ajaxPath` (the browser SDK's way).
    #[default]
    Proxy,
    /// Requests signed with the AccessKey of the environment.
    Direct,
}

/// A deployment: the guide's options and where and as whom to sign in.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Deployment {
    /// The guide's options.
    pub config: Config,
    /// The agent (`agent@instance`).
    pub user_id: String,
    /// How the OpenAPI is reached.
    pub transport: Transport,
    /// With [`Transport::Direct`]: the OpenAPI endpoint (the region's when `None`).
    pub endpoint: Option<String>,
    /// The region of the instance.
    pub region: String,
    /// The access point (TURN region) for [`Workbench::register`].
    pub access_point: String,
    /// The skill groups for [`Workbench::register`]; all of the agent's when `None`.
    pub skill_groups: Option<Vec<LoginSkillGroup>>,
    /// Whether this program is the agent's phone (SIP + WebRTC).
    pub sip_device: bool,
}

/// Why a deployment file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeploymentError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The text is not the JSON object expected.
    #[error("{origin}: {source}")]
    Json {
        /// The file, or `the deployment` for text given in code.
        origin: String,
        /// Why.
        source: serde_json::Error,
    },
    /// The guide's options do not hold together.
    #[error("{origin}: {source}")]
    Config {
        /// The file, or `the deployment`.
        origin: String,
        /// Why.
        source: ConfigError,
    },
    /// `userId` is missing or empty.
    #[error("{origin}: userId (the agent, agent@instance) is required")]
    NoUser {
        /// The file, or `the deployment`.
        origin: String,
    },
    /// The OpenAPI client could not be made (no AccessKey in the environment for
    /// `direct`, no `ajaxOrigin` for `proxy`, a bad endpoint).
    #[error("the OpenAPI client: {0}")]
    Client(String),
}

/// The file's own keys, beside the guide's options.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Keys {
    #[serde(default)]
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
    #[serde(default = "yes")]
    sip_device: bool,
}

fn default_region() -> String {
    "cn-shanghai".to_owned()
}

fn default_access_point() -> String {
    "default".to_owned()
}

fn yes() -> bool {
    true
}

const IN_CODE: &str = "the deployment";

impl Deployment {
    /// Reads a deployment file.
    pub fn from_file(path: &Path) -> Result<Self, DeploymentError> {
        let text = std::fs::read_to_string(path).map_err(|source| DeploymentError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Reads a deployment from JSON text.
    pub fn from_json(text: &str) -> Result<Self, DeploymentError> {
        Self::parse(text, IN_CODE)
    }

    /// Reads a deployment from a JSON object already parsed.
    pub fn from_value(value: &serde_json::Value) -> Result<Self, DeploymentError> {
        Self::read(value, IN_CODE)
    }

    fn parse(text: &str, origin: &str) -> Result<Self, DeploymentError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|source| DeploymentError::Json {
                origin: origin.to_owned(),
                source,
            })?;
        Self::read(&value, origin)
    }

    fn read(value: &serde_json::Value, origin: &str) -> Result<Self, DeploymentError> {
        let json = |source| DeploymentError::Json {
            origin: origin.to_owned(),
            source,
        };
        if !value.is_object() {
            return Err(json(serde::de::Error::custom(
                "a deployment is a JSON object",
            )));
        }
        // Both views read the same object; `Value` deserializes by reference.
        let options = ConfigSource::deserialize(value).map_err(json)?;
        let keys = Keys::deserialize(value).map_err(json)?;
        if keys.user_id.trim().is_empty() {
            return Err(DeploymentError::NoUser {
                origin: origin.to_owned(),
            });
        }
        let config = Config::try_from(options).map_err(|source| DeploymentError::Config {
            origin: origin.to_owned(),
            source,
        })?;
        Ok(Self {
            config,
            user_id: keys.user_id,
            transport: keys.transport,
            endpoint: keys.endpoint,
            region: keys.region,
            access_point: keys.access_point,
            skill_groups: keys.skill_groups,
            sip_device: keys.sip_device,
        })
    }

    /// The OpenAPI client the deployment names.
    pub fn client(&self) -> Result<Client, DeploymentError> {
        let failed = |e: &dyn std::fmt::Display| DeploymentError::Client(e.to_string());
        match self.transport {
            Transport::Proxy => {
                crate::proxy_client(&self.config, &self.region).map_err(|e| failed(&e))
            }
            Transport::Direct => {
                let credentials = Credentials::from_env().map_err(|e| failed(&e))?;
                let mut direct = Direct::builder(credentials).region(self.region.clone());
                if let Some(endpoint) = &self.endpoint {
                    direct = direct.endpoint(endpoint.clone());
                }
                Ok(Client::new(direct.build().map_err(|e| failed(&e))?))
            }
        }
    }

    /// A workbench builder for the agent, with the client and the phone setting; add
    /// the audio, the hooks and the local directory, then build and
    /// [`Workbench::register`] with [`Self::skill_groups`] and [`Self::access_point`].
    pub fn builder(&self) -> Result<WorkbenchBuilder, DeploymentError> {
        Ok(
            Workbench::builder(self.config.clone(), self.client()?, self.user_id.clone())
                .sip_device(self.sip_device),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{
        "instanceId": "ccc-test",
        "useOpenApiSdk": false,
        "ajaxOrigin": "http://127.0.0.1:9",
        "userId": "agent@ccc-test",
        "transport": "direct",
        "endpoint": "http://127.0.0.1:9",
        "region": "cn-beijing",
        "accessPoint": "cn-beijing",
        "skillGroups": [{"groupName": "sg-1", "groupLevel": 5, "skillGroupName": "Support"}],
        "sipDevice": false,
        "somethingOfTheProgram": 1
    }"#;

    #[test]
    fn every_key_is_read() {
        let d = Deployment::from_json(FILE).unwrap();
        assert_eq!(d.config.instance_id(), "ccc-test");
        assert_eq!(d.user_id, "agent@ccc-test");
        assert_eq!(d.transport, Transport::Direct);
        assert_eq!(d.endpoint.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(d.region, "cn-beijing");
        assert_eq!(d.access_point, "cn-beijing");
        assert_eq!(d.skill_groups.as_ref().map(Vec::len), Some(1));
        assert!(!d.sip_device);
    }

    #[test]
    fn defaults() {
        let d =
            Deployment::from_json(r#"{"instanceId": "i", "useOpenApiSdk": true, "userId": "a@i", "ajaxOrigin": "http://127.0.0.1:9"}"#)
                .unwrap();
        assert_eq!(d.transport, Transport::Proxy);
        assert_eq!(d.region, "cn-shanghai");
        assert_eq!(d.access_point, "default");
        assert!(d.skill_groups.is_none());
        assert!(d.sip_device);
        assert!(d.client().is_ok());
    }

    #[test]
    fn bad_files_are_clear_errors() {
        let no_user = Deployment::from_json(r#"{"instanceId": "i"}"#).unwrap_err();
        assert!(no_user.to_string().contains("userId"), "{no_user}");
        let not_json = Deployment::from_json("{").unwrap_err();
        assert!(matches!(not_json, DeploymentError::Json { .. }));
        let wrong_type =
            Deployment::from_json(r#"{"instanceId": "i", "useOpenApiSdk": true, "userId": 5}"#)
                .unwrap_err();
        assert!(
            matches!(wrong_type, DeploymentError::Json { .. }),
            "{wrong_type}"
        );
        let array = Deployment::from_json("[]").unwrap_err();
        assert!(matches!(array, DeploymentError::Json { .. }), "{array}");
        let missing = Deployment::from_file(Path::new("/nonexistent/ccc.json")).unwrap_err();
        assert!(
            missing.to_string().contains("/nonexistent/ccc.json"),
            "{missing}"
        );
        let no_c3 = Deployment::from_json(r#"{"instanceId": "i", "userId": "a@i"}"#).unwrap_err();
        assert!(matches!(no_c3, DeploymentError::Config { .. }), "{no_c3}");
        // A proxy without an origin cannot reach a backend from a program.
        let no_origin =
            Deployment::from_json(r#"{"instanceId": "i", "useOpenApiSdk": true, "userId": "a@i"}"#)
                .unwrap()
                .builder()
                .unwrap_err();
        assert!(
            matches!(no_origin, DeploymentError::Client(_)),
            "{no_origin}"
        );
    }
}
