//! The OpenAPI link: typed actions sent through the integrator's transport, their
//! errors turned into the guide's `onErrorNotify` payloads.

use std::sync::Arc;

use ccc_core::{ErrorCode, ErrorNotify};
use ccc_openapi::transport::Request;
use ccc_openapi::{Action, Client, Placement, Version};

/// 2017 actions whose model names no agent but which act for one (its token, its
/// device, its recordings, its call log, its faults). A backend that signs with an
/// administrator's AccessKey learns the agent from `UserId`; a proxy that pins the
/// agent overrides it. Sent beside the model's parameters.
const FOR_THE_AGENT: [&str; 6] = [
    "RefreshToken",
    "AddAgentDevice",
    "ModifyAgentDevice",
    "GetRecordOssUploadParam",
    "ListRecentCallRecords",
    "CreateFault",
];

/// The client with the instance and the agent every request names.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    client: Client,
    pub(crate) instance: Arc<str>,
    pub(crate) user: Arc<str>,
}

impl Api {
    pub(crate) fn new(client: Client, instance: &str, user: &str) -> Self {
        Self {
            client,
            instance: instance.into(),
            user: user.into(),
        }
    }

    /// Sends `action`: its typed answer, or the error as `onErrorNotify` carries it.
    pub(crate) async fn send<A: Action>(&self, action: A) -> Result<A::Response, ErrorNotify> {
        let for_the_agent = A::VERSION == Version::V20170705
            && FOR_THE_AGENT.contains(&A::NAME)
            && A::MODEL.param("UserId").is_none();
        if !for_the_agent {
            return self.client.send(action).await.map_err(|e| e.to_notify());
        }
        let mut params = action.params();
        params.put("UserId", Placement::Query, &self.user.to_string());
        let request = Request::raw(A::NAME, A::VERSION, params);
        let answer = self
            .client
            .call(&request)
            .await
            .map_err(|e| e.to_notify())?;
        serde_json::from_value(answer).map_err(|e| {
            ErrorNotify::new(
                A::NAME,
                ErrorCode::NetworkError,
                format!("the answer does not decode: {e}"),
            )
        })
    }

    /// The instance, owned (action constructors take `impl Into<String>`).
    pub(crate) fn instance(&self) -> String {
        self.instance.to_string()
    }

    /// The agent, owned.
    pub(crate) fn user(&self) -> String {
        self.user.to_string()
    }
}
