//! The arguments and answers of the workbench's methods.

use std::sync::Arc;

use ccc_core::Status;
use serde::{Deserialize, Serialize};

/// M10 `getStatusCode()`: `{code, lastCode}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusCode {
    /// The status now.
    pub code: Status,
    /// The status before the last change.
    pub last_code: Status,
}

impl Default for StatusCode {
    fn default() -> Self {
        Self {
            code: Status::Unregistered,
            last_code: Status::Unregistered,
        }
    }
}

/// The arguments of M11 `call(callee, caller, publicKey, useVirNumCall)`, also what
/// another process sends through the control channel (`workbenchSdkCall`, C23).
///
/// ```
/// use ccc_workbench::CallRequest;
/// let request = CallRequest::new("13800000000").caller("auto");
/// assert_eq!(request.caller, "auto");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRequest {
    /// The number to call; with a public key, the number encrypted with it.
    pub callee: String,
    /// The calling number: empty for the default (the first number of the agent's skill
    /// groups), `auto` (a number of the callee's region, else a random one), or one of
    /// the agent's outbound numbers.
    #[serde(default)]
    pub caller: String,
    /// Set when `callee` is encrypted (the `Encrypt` action) with this public key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// Call through the virtual (privacy) number bound to the caller, when it has one.
    #[serde(default)]
    pub use_vir_num_call: bool,
    /// The number as the agent may see it (`138****5678`), for the platform to show
    /// instead of the callee (`MaskedCallee`). An encrypted callee cannot be masked
    /// here: without this it shows as `****`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub masked_callee: Option<String>,
}

impl CallRequest {
    /// A call to `callee` from the default number.
    pub fn new(callee: impl Into<String>) -> Self {
        Self {
            callee: callee.into(),
            ..Self::default()
        }
    }

    /// From this calling number: `""`, `"auto"` or a number.
    #[must_use]
    pub fn caller(mut self, caller: impl Into<String>) -> Self {
        self.caller = caller.into();
        self
    }

    /// The callee is encrypted with this public key.
    #[must_use]
    pub fn public_key(mut self, key: impl Into<String>) -> Self {
        self.public_key = Some(key.into());
        self
    }

    /// Call through the caller's virtual number.
    #[must_use]
    pub fn use_vir_num_call(mut self, on: bool) -> Self {
        self.use_vir_num_call = on;
        self
    }

    /// What the platform shows the agent instead of the callee.
    #[must_use]
    pub fn masked_callee(mut self, masked: impl Into<String>) -> Self {
        self.masked_callee = Some(masked.into());
        self
    }
}

impl From<&str> for CallRequest {
    fn from(callee: &str) -> Self {
        Self::new(callee)
    }
}

impl From<String> for CallRequest {
    fn from(callee: String) -> Self {
        Self::new(callee)
    }
}

/// What `call` (and `agent_to_agent`) dialed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Dialed {
    /// The call (contact) id, for call records.
    pub job_id: Option<Arc<str>>,
    /// The number the call shows (empty for an internal call).
    pub caller: String,
    /// The number dialed, after `onBeforeCallDialing`.
    pub callee: String,
    /// The virtual number, when the call went through one.
    pub virtual_number: Option<String>,
}

/// One recording of a call (M18 `downloadRecord`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recording {
    /// The file name on the platform.
    pub file_name: String,
    /// The signed address to play or fetch it from.
    pub url: String,
    /// Its bytes, when it was downloaded (`only_play` false).
    pub data: Option<Vec<u8>>,
    /// Which party the file holds, when the platform says (`Channel`).
    pub channel: Option<String>,
    /// Its length in seconds, when known.
    pub duration: Option<i64>,
}

/// The guide's call log page (`ListRecentCallRecords`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CallLogPage {
    /// The records, newest first.
    pub records: Vec<ccc_openapi::v2017::list_recent_call_records::CallDetailRecord>,
    /// The total: CCC sends it on page 1 only (the guide's changelog 0.4.5).
    pub total_count: Option<i64>,
    /// The page.
    pub page_number: i64,
}

/// M19 `isAvailBroswer()`: whether this process can run the softphone.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EnvironmentReport {
    /// What stands in the way (empty when everything is there).
    pub problems: Vec<String>,
    /// Whether a sound device can be opened (the `device` feature), or `None` when the
    /// build has none and calls use the program's own audio.
    pub sound_device: Option<bool>,
}

impl EnvironmentReport {
    /// Whether nothing stands in the way.
    pub fn is_compatible(&self) -> bool {
        self.problems.is_empty()
    }
}
