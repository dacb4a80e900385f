//! [`Client`]: sends typed actions through a transport and decodes the answers.

use std::sync::Arc;

use crate::action::Action;
use crate::decode::decode;
use crate::error::Error;
use crate::transport::{Request, Transport};

/// Sends actions: `client.send(action).await` gives the typed answer or an [`Error`].
/// Cheap to clone; one client serves many tasks.
///
/// ```no_run
/// # async fn run() -> Result<(), ccc_openapi::Error> {
/// use ccc_openapi::{Client, Credentials, transport::Direct, v2020::MakeCall};
/// let direct = Direct::builder(Credentials::from_env().expect("AccessKey")).build()?;
/// let client = Client::new(direct);
/// let answer = client.send(MakeCall::new("ccc-test", "13800000000").user_id("agent@ccc-test")).await?;
/// let job = answer.data.and_then(|d| d.call_context).and_then(|c| c.job_id);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    transport: Arc<dyn Transport>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

impl Client {
    /// A client over `transport`.
    pub fn new(transport: impl Transport) -> Self {
        Self {
            transport: Arc::new(transport),
        }
    }

    /// A client over a shared transport.
    pub fn from_arc(transport: Arc<dyn Transport>) -> Self {
        Self { transport }
    }

    /// Sends `action` and decodes its answer.
    pub async fn send<A: Action>(&self, action: A) -> Result<A::Response, Error> {
        let request = Request::of(&action);
        let reply = self.transport.call(&request).await?;
        decode::<A::Response>(A::NAME, reply)
    }

    /// Sends a request by name and returns the answer's JSON as CCC sent it (errors
    /// are typed as for [`send`](Self::send)).
    pub async fn call(&self, request: &Request) -> Result<serde_json::Value, Error> {
        let reply = self.transport.call(request).await?;
        decode::<serde_json::Value>(&request.action, reply)
    }
}
