//! What the emulated call center holds: its instance, agents, skill groups, numbers,
//! survey extension, SMS templates, simulated customers and timers.
//!
//! [`Scenario::default`] is the built-in one; `scenario.toml` at the root of this crate
//! is the same as an editable file (a test keeps the two equal), read with
//! [`Scenario::from_toml_str`]. Every scenario is checked before use
//! ([`Scenario::validate`]): a problem names the field and says what is wrong.

mod builtin;
mod validate;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use validate::{Problem, ScenarioError};

/// Everything the emulated call center knows before it starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Scenario {
    /// The CCC instance.
    pub instance: Instance,
    /// Timers and platform rules.
    #[serde(default)]
    pub platform: PlatformRules,
    /// The skill groups.
    #[serde(default, rename = "skill_group")]
    pub skill_groups: Vec<SkillGroup>,
    /// The agents (and supervisors).
    #[serde(default, rename = "agent")]
    pub agents: Vec<Agent>,
    /// The instance's phone numbers (hotlines and outbound numbers).
    #[serde(default, rename = "number")]
    pub numbers: Vec<PhoneNumber>,
    /// Where phone numbers belong, by prefix (`GetNumberRegionInfo`).
    #[serde(default, rename = "number_region")]
    pub number_regions: Vec<NumberRegion>,
    /// Service extensions such as the satisfaction survey (`GetServiceExtensions`).
    #[serde(default, rename = "service_extension")]
    pub service_extensions: Vec<ServiceExtension>,
    /// SMS templates (`GetSmsConfig`, `SendPredefinedShortMessage`).
    #[serde(default, rename = "sms_template")]
    pub sms_templates: Vec<SmsTemplate>,
    /// Instance settings (`ListConfig`).
    #[serde(default, rename = "config_item")]
    pub config_items: Vec<ConfigItem>,
    /// TURN access points by region (`GetTURNServerList`).
    #[serde(default, rename = "turn_region")]
    pub turn_regions: Vec<TurnRegion>,
    /// Simulated customers: how the line of each number behaves when called.
    #[serde(default, rename = "customer")]
    pub customers: Vec<Customer>,
    /// How a number without its own [`Customer`] entry behaves.
    #[serde(default)]
    pub default_customer: CustomerScript,
}

/// The CCC instance and the AccessKey of its administrator.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Instance {
    /// The instance id (`InstanceId`).
    pub id: String,
    /// The region it lives in (`cn-shanghai`).
    pub region: String,
    /// The tenant (Alibaba Cloud account) id of `RequestLoginInfo`.
    pub tenant_id: String,
    /// The administrator's AccessKey id: acts on any agent, reads every record.
    pub access_key_id: String,
    /// Its secret.
    pub access_key_secret: String,
}

impl fmt::Debug for Instance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Instance")
            .field("id", &self.id)
            .field("region", &self.region)
            .field("tenant_id", &self.tenant_id)
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .finish()
    }
}

/// Timers and rules of the platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct PlatformRules {
    /// How long an offered call rings at an agent before the agent is put on break
    /// (`RingingTimeout`) and the call goes back to its queue. The guide: 30 s.
    pub ring_timeout_ms: u64,
    /// How long the platform waits for a called customer to answer before giving up.
    pub no_answer_timeout_ms: u64,
    /// How long login tokens (`Signature`/`SignData`) stay valid.
    pub token_ttl_secs: u64,
    /// Agents without a registered SIP device still get calls: their leg is answered
    /// by `AnswerCall` (inbound) or at once (the agent leg of `MakeCall`). Turn off to
    /// route only to agents with a registered device, as CCC does.
    pub virtual_devices: bool,
    /// Record every answered call (`ListRecordingsByContactId`, `DownloadRecording`).
    pub record_calls: bool,
}

impl Default for PlatformRules {
    fn default() -> Self {
        Self {
            ring_timeout_ms: 30_000,
            no_answer_timeout_ms: 45_000,
            token_ttl_secs: 3_600,
            virtual_devices: true,
            record_calls: true,
        }
    }
}

/// A skill group: a queue of inbound calls and a pool of outbound numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SkillGroup {
    /// Its id (`skill@instance`).
    pub id: String,
    /// Its name.
    pub name: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// The outbound numbers of the group, by number (each one of [`Scenario::numbers`]).
    #[serde(default)]
    pub outbound_numbers: Vec<String>,
}

/// The role of a user of the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Role {
    /// Takes and places calls.
    Agent,
    /// Also monitors, barges in, intercepts and coaches (M32).
    Supervisor,
    /// Also reads every agent's records.
    Admin,
}

impl Role {
    /// The role id of `RequestLoginInfo`'s `Roles`.
    pub const fn id(self) -> &'static str {
        match self {
            Self::Agent => "Agent",
            Self::Supervisor => "SkillGroupAdmin",
            Self::Admin => "Admin",
        }
    }
}

/// An agent: a user of the instance with an extension.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Agent {
    /// The agent id (`UserId`, `name@instance`).
    pub user_id: String,
    /// The login name (`UserName`).
    pub login_name: String,
    /// The name shown to others.
    pub display_name: String,
    /// The SIP extension the agent's device registers as.
    pub extension: String,
    /// The SIP digest password of that extension.
    pub password: String,
    /// The numeric RAM user id (`ResetUserStatus`'s `RamIdList`).
    pub ram_id: i64,
    /// The agent's mobile phone, for off-site work and `RequestLoginInfo`.
    #[serde(default)]
    pub mobile: Option<String>,
    /// The roles; `Agent` when left out.
    #[serde(default = "default_roles")]
    pub roles: Vec<Role>,
    /// The skill groups the agent belongs to, with levels.
    #[serde(default, rename = "skill")]
    pub skills: Vec<SkillLevel>,
    /// An AccessKey mapped to this agent: requests signed with it act as the agent
    /// when they name no `UserId`, and may act only on the agent's own data.
    #[serde(default)]
    pub access_key_id: Option<String>,
    /// Its secret.
    #[serde(default)]
    pub access_key_secret: Option<String>,
}

fn default_roles() -> Vec<Role> {
    vec![Role::Agent]
}

impl Agent {
    /// Whether the agent may monitor, barge in, intercept and coach.
    pub fn is_supervisor(&self) -> bool {
        self.roles
            .iter()
            .any(|r| matches!(r, Role::Supervisor | Role::Admin))
    }

    /// Whether the agent may read every agent's data.
    pub fn is_admin(&self) -> bool {
        self.roles.contains(&Role::Admin)
    }
}

impl fmt::Debug for Agent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Agent")
            .field("user_id", &self.user_id)
            .field("login_name", &self.login_name)
            .field("display_name", &self.display_name)
            .field("extension", &self.extension)
            .field("password", &"<redacted>")
            .field("ram_id", &self.ram_id)
            .field("mobile", &self.mobile)
            .field("roles", &self.roles)
            .field("skills", &self.skills)
            .field("access_key_id", &self.access_key_id)
            .field(
                "access_key_secret",
                &self.access_key_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// An agent's level in a skill group: 1 (lowest) to 10 (highest). Inbound calls go to
/// the highest level first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SkillLevel {
    /// The skill group's id.
    pub skill_group: String,
    /// The level.
    pub level: u8,
}

/// What a phone number of the instance is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum NumberUsage {
    /// Inbound (a hotline) and outbound.
    Bidirection,
    /// Inbound only.
    Inbound,
    /// Outbound only.
    Outbound,
}

impl NumberUsage {
    /// Whether calls may be placed from the number.
    pub const fn allows_outbound(self) -> bool {
        !matches!(self, Self::Inbound)
    }
}

/// A phone number of the instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PhoneNumber {
    /// The number.
    pub number: String,
    /// Its province.
    pub province: String,
    /// Its city.
    pub city: String,
    /// What it is for.
    pub usage: NumberUsage,
    /// A note.
    #[serde(default)]
    pub description: String,
    /// The skill group whose queue calls to this number reach (hotlines).
    #[serde(default)]
    pub inbound_skill_group: Option<String>,
}

/// Where the numbers starting with `prefix` belong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct NumberRegion {
    /// The leading digits (the longest matching prefix wins).
    pub prefix: String,
    /// The province.
    pub province: String,
    /// The city.
    pub city: String,
}

/// A service extension (`GetServiceExtensions`), such as the satisfaction survey IVR
/// that `LaunchAppraise` transfers the customer to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ServiceExtension {
    /// The service type asked for (`Satisfaction`).
    pub service_type: String,
    /// Its name.
    pub name: String,
    /// Its number.
    pub number: String,
}

/// An SMS template (`GetSmsConfig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SmsTemplate {
    /// The config id (`SendPredefinedShortMessage`'s `ConfigId`).
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The scenario it serves: 1 satisfaction survey, 2 missed call (`GetSmsConfig`'s
    /// `Scenario`).
    pub scenario: i64,
    /// The SMS signature.
    pub sign_name: String,
    /// The SMS service's template code.
    pub template_code: String,
    /// The text, with `${name}` parameters.
    pub text: String,
    /// A note.
    #[serde(default)]
    pub description: String,
}

/// One instance setting (`ListConfig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ConfigItem {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: String,
}

/// The TURN servers of one region (`GetTURNServerList`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TurnRegion {
    /// The region, what `switchAccessPoint` takes.
    pub region: String,
    /// External TURN server URLs (`turn:host:port?transport=udp`). When empty, the
    /// emulator starts an embedded TURN server for the region.
    #[serde(default)]
    pub urls: Vec<String>,
    /// The static user of the external servers (with `password`); without it the
    /// time-limited scheme with `secret` is used.
    #[serde(default)]
    pub username: Option<String>,
    /// The static password.
    #[serde(default)]
    pub password: Option<String>,
    /// The shared secret of the time-limited scheme (`expiry:user`, HMAC-SHA1).
    #[serde(default)]
    pub secret: Option<String>,
}

/// A simulated customer line: a number and how it behaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Customer {
    /// The number.
    pub number: String,
    /// Its behaviour.
    #[serde(flatten)]
    pub script: CustomerScript,
}

/// What a called customer line does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Outcome {
    /// Rings, then answers after `answer_after_ms`.
    Answer,
    /// Busy at once (`486 Busy Here`).
    Busy,
    /// Rings until the platform gives up (`480`).
    NoAnswer,
    /// Rings, then rejects after `answer_after_ms` (`603 Decline`).
    Reject,
}

/// What a customer plays into the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
#[non_exhaustive]
pub enum Playback {
    /// Silence.
    Silence,
    /// A sine tone of `hz` hertz.
    Tone {
        /// The frequency.
        hz: u32,
    },
    /// A WAV file, looped.
    Wav {
        /// Its path.
        path: String,
    },
}

/// The script of a simulated customer: how the line answers, what it plays and sends,
/// when it hangs up, whether it records what it hears.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct CustomerScript {
    /// What happens when the line is called.
    pub outcome: Outcome,
    /// Ringing time before answering (or rejecting).
    pub answer_after_ms: u64,
    /// Hang up this long after answering; never when left out.
    pub hangup_after_ms: Option<u64>,
    /// What the customer plays.
    pub play: Playback,
    /// DTMF digits the customer sends once connected.
    pub dtmf: Option<String>,
    /// When to send them, after answering.
    pub dtmf_after_ms: u64,
    /// Record what the customer hears.
    pub record: bool,
    /// The rating the customer gives in a satisfaction survey (1-5).
    pub survey_rating: u8,
}

impl Default for CustomerScript {
    fn default() -> Self {
        Self {
            outcome: Outcome::Answer,
            answer_after_ms: 1_000,
            hangup_after_ms: None,
            play: Playback::Tone { hz: 440 },
            dtmf: None,
            dtmf_after_ms: 500,
            record: true,
            survey_rating: 5,
        }
    }
}

impl Scenario {
    /// Reads and checks a scenario in TOML.
    pub fn from_toml_str(text: &str) -> Result<Self, ScenarioError> {
        let scenario: Self = toml::from_str(text).map_err(ScenarioError::syntax)?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// The scenario as TOML, in the form [`Scenario::from_toml_str`] reads.
    pub fn to_toml_string(&self) -> Result<String, ScenarioError> {
        toml::to_string_pretty(self).map_err(|e| ScenarioError::syntax_message(e.to_string()))
    }

    /// The agent with this id.
    pub fn agent(&self, user_id: &str) -> Option<&Agent> {
        self.agents.iter().find(|a| a.user_id == user_id)
    }

    /// The skill group with this id.
    pub fn skill_group(&self, id: &str) -> Option<&SkillGroup> {
        self.skill_groups.iter().find(|g| g.id == id)
    }

    /// The phone number of the instance spelled `number`.
    pub fn number(&self, number: &str) -> Option<&PhoneNumber> {
        self.numbers.iter().find(|n| n.number == number)
    }

    /// The region of `number`: the instance's own numbers first, then the longest
    /// matching prefix of [`Scenario::number_regions`].
    pub fn region_of(&self, number: &str) -> Option<(&str, &str)> {
        if let Some(own) = self.number(number) {
            return Some((&own.province, &own.city));
        }
        self.number_regions
            .iter()
            .filter(|r| number.starts_with(&r.prefix))
            .max_by_key(|r| r.prefix.len())
            .map(|r| (r.province.as_str(), r.city.as_str()))
    }

    /// The script of the customer line `number`.
    pub fn customer_script(&self, number: &str) -> &CustomerScript {
        self.customers
            .iter()
            .find(|c| c.number == number)
            .map_or(&self.default_customer, |c| &c.script)
    }
}

#[cfg(test)]
mod tests;
