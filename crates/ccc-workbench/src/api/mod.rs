//! The OpenAPI link: typed actions sent through the integrator's transport, their
//! errors turned into the guide's `onErrorNotify` payloads.

use std::sync::Arc;

use ccc_core::ErrorNotify;
use ccc_openapi::{Action, Client};

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
        self.client.send(action).await.map_err(|e| e.to_notify())
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
