//! Records that only the API keeps: agent devices, fault reports, privacy-number calls.

use std::collections::VecDeque;

use crate::platform::MAX_RECORDS;

/// A device an agent signed in from (`AddAgentDevice`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AgentDevice {
    /// `AgentDeviceId`.
    pub id: i64,
    /// The agent's RAM id.
    pub ram_id: i64,
    /// The browser (or SDK) version.
    pub browser_version: String,
    /// The client's address.
    pub client_ip: String,
    /// The client's port.
    pub client_port: String,
    /// A note.
    pub remark: String,
    /// 1 while logged in on it.
    pub is_login: i64,
    /// When it was added, milliseconds since the Unix epoch.
    pub login_time: i64,
}

/// A fault report (`CreateFault`), every parameter as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Fault {
    /// When it arrived, milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// Its parameters.
    pub params: Vec<(String, String)>,
}

/// A file the upload endpoint stored (`GetRecordOssUploadParam`'s form).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Upload {
    /// The form's `key`, the file's path under the recordings directory.
    pub key: String,
    /// Its size in bytes.
    pub size: usize,
    /// When it arrived, milliseconds since the Unix epoch.
    pub at_ms: i64,
}

/// A privacy-number call (`CallOnlinePrivacyNumber`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrivacyCall {
    pub(crate) call_id: String,
    pub(crate) tel_a: String,
    pub(crate) tel_b: String,
    pub(crate) tel_x: String,
    pub(crate) contact_id: Option<String>,
}

/// The API's own records.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Store {
    /// Agent devices.
    pub devices: Vec<AgentDevice>,
    /// Fault reports.
    pub faults: VecDeque<Fault>,
    /// Uploaded files.
    pub uploads: VecDeque<Upload>,
    pub(crate) privacy: VecDeque<PrivacyCall>,
    pub(crate) seq: i64,
}

impl Store {
    pub(crate) fn next_id(&mut self) -> i64 {
        self.seq += 1;
        self.seq
    }

    pub(crate) fn add_device(&mut self, device: AgentDevice) {
        if self.devices.len() >= MAX_RECORDS {
            self.devices.remove(0);
        }
        self.devices.push(device);
    }

    pub(crate) fn add_fault(&mut self, fault: Fault) {
        if self.faults.len() >= MAX_RECORDS {
            self.faults.pop_front();
        }
        self.faults.push_back(fault);
    }

    pub(crate) fn add_upload(&mut self, upload: Upload) {
        if self.uploads.len() >= MAX_RECORDS {
            self.uploads.pop_front();
        }
        self.uploads.push_back(upload);
    }

    pub(crate) fn add_privacy(&mut self, call: PrivacyCall) {
        if self.privacy.len() >= MAX_RECORDS {
            self.privacy.pop_front();
        }
        self.privacy.push_back(call);
    }
}
