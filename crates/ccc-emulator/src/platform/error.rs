//! The errors the platform answers with, as CCC names them.
//!
//! Codes and messages from Alibaba's API pages where they publish them
//! (`Parameter.Blank`, `Parameter.Null`, `Parameter.Minimum`, `Parameter.Maximum`,
//! `InvalidOperation.UserState`, `NotExists.InstanceId`, `NotExists.UserId`); the
//! others follow the same families and are listed in `docs/emulator.md`.

use std::borrow::Cow;
use std::fmt;

/// An error answer: the HTTP status, CCC's code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlatformError {
    /// The HTTP status of the answer.
    pub http_status: u16,
    /// The error code (`InvalidOperation.UserState`).
    pub code: Cow<'static, str>,
    /// The message.
    pub message: String,
}

impl fmt::Display for PlatformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.http_status, self.message)
    }
}

impl std::error::Error for PlatformError {}

impl PlatformError {
    /// An error of any code.
    pub fn new(
        http_status: u16,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            http_status,
            code: code.into(),
            message: message.into(),
        }
    }

    /// A required parameter is missing or blank.
    pub fn blank(param: &str) -> Self {
        Self::new(
            400,
            "Parameter.Blank",
            format!("The parameter {param} may not be null or blank."),
        )
    }

    /// A parameter's value cannot be read or is not one of the allowed values.
    pub fn invalid(param: &str, why: impl fmt::Display) -> Self {
        Self::new(
            400,
            "Parameter.Invalid",
            format!("The parameter {param} is invalid: {why}."),
        )
    }

    /// A number below its minimum.
    pub fn minimum(param: &str, min: i64) -> Self {
        Self::new(
            400,
            "Parameter.Minimum",
            format!("The parameter {param} must be greater than or equal to {min}."),
        )
    }

    /// A number above its maximum.
    pub fn maximum(param: &str, max: i64) -> Self {
        Self::new(
            400,
            "Parameter.Maximum",
            format!("The parameter {param} must be less than or equal to {max}."),
        )
    }

    /// The agent's state does not allow the operation.
    pub fn user_state(actual: &str, expected: &str) -> Self {
        Self::new(
            400,
            "InvalidOperation.UserState",
            format!(
                "The operation is not allowed. User state ({actual}) does not meet expectations ({expected})."
            ),
        )
    }

    /// The call leg's state does not allow the operation.
    pub fn channel_state(actual: &str, expected: &str) -> Self {
        Self::new(
            400,
            "InvalidOperation.ChannelState",
            format!(
                "The operation is not allowed. Channel state ({actual}) does not meet expectations ({expected})."
            ),
        )
    }

    /// The operation does not fit the call as it is now.
    pub fn call_state(why: impl fmt::Display) -> Self {
        Self::new(
            400,
            "InvalidOperation.CallState",
            format!("The operation is not allowed: {why}."),
        )
    }

    /// Another device signed in while the agent is in a call (the guide's 8020).
    pub fn agent_in_call(user: &str) -> Self {
        Self::new(
            403,
            "Forbidden.AgentInCall",
            format!("The user {user} is in a call on another device."),
        )
    }

    /// The caller may not do this (an agent acting on another agent's data).
    pub fn forbidden(why: impl fmt::Display) -> Self {
        Self::new(
            403,
            "Forbidden.NoPermission",
            format!("You are not authorized to perform this operation: {why}."),
        )
    }

    /// The instance does not exist.
    pub fn no_instance(instance: &str) -> Self {
        Self::new(
            404,
            "NotExists.InstanceId",
            format!("The specified instance {instance} does not exist."),
        )
    }

    /// The user does not exist.
    pub fn no_user(user: &str, instance: &str) -> Self {
        Self::new(
            404,
            "NotExists.UserId",
            format!("The user {user} does not exist in instance {instance}."),
        )
    }

    /// The skill group does not exist, or the agent is not in it.
    pub fn no_skill_group(group: &str) -> Self {
        Self::new(
            404,
            "NotExists.SkillGroupId",
            format!("The skill group {group} does not exist or the user is not a member."),
        )
    }

    /// The call does not exist (any more).
    pub fn no_job(job: &str) -> Self {
        Self::new(
            404,
            "NotExists.JobId",
            format!("The job {job} does not exist."),
        )
    }

    /// The call leg does not exist in the call.
    pub fn no_channel(channel: &str) -> Self {
        Self::new(
            404,
            "NotExists.ChannelId",
            format!("The channel {channel} does not exist."),
        )
    }

    /// The number is not one the agent may call from.
    pub fn no_number(number: &str) -> Self {
        Self::new(
            404,
            "NotExists.Number",
            format!("The number {number} is not an outbound number of the user."),
        )
    }

    /// A record or file that is not there.
    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(
            404,
            "NotExists.Resource",
            format!("The {what} {id} does not exist."),
        )
    }
}
