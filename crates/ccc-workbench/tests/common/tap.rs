//! A transport in front of the emulator's OpenAPI: it records every request the
//! workbench sends (so tests assert what went out, in order) and may rewrite answers
//! (to point a link at a test-side proxy, or add what the emulator does not send).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ccc_openapi::decode::{Body, Reply};
use ccc_openapi::transport::{BoxFuture, Direct, Request, Transport};
use serde_json::Value;

type Rewrite = Box<dyn Fn(&mut Value) + Send + Sync>;

/// One request as the workbench sent it: the action and its parameters.
#[derive(Debug, Clone)]
pub struct Sent {
    pub action: String,
    pub params: Vec<(String, String)>,
}

impl Sent {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Shared {
    sent: Mutex<Vec<Sent>>,
    rewrites: Mutex<HashMap<String, Rewrite>>,
    delays: Mutex<HashMap<String, std::time::Duration>>,
}

/// The handle a test keeps; the transport itself is [`TapTransport`].
#[derive(Clone, Default)]
pub struct Tap {
    shared: Arc<Shared>,
}

impl Tap {
    /// Every answer of `action` passes through `f` before the workbench reads it.
    pub fn rewrite(&self, action: &str, f: impl Fn(&mut Value) + Send + Sync + 'static) {
        self.shared
            .rewrites
            .lock()
            .unwrap()
            .insert(action.to_owned(), Box::new(f));
    }

    /// Every answer of `action` reaches the workbench `by` late.
    pub fn delay(&self, action: &str, by: std::time::Duration) {
        self.shared
            .delays
            .lock()
            .unwrap()
            .insert(action.to_owned(), by);
    }

    /// Every request sent so far.
    pub fn sent(&self) -> Vec<Sent> {
        self.shared.sent.lock().unwrap().clone()
    }

    /// The requests of `action`.
    pub fn sent_of(&self, action: &str) -> Vec<Sent> {
        self.sent()
            .into_iter()
            .filter(|s| s.action == action)
            .collect()
    }

    /// The actions sent after the first `after`, in order.
    pub fn actions_after(&self, after: usize) -> Vec<String> {
        self.sent()
            .into_iter()
            .skip(after)
            .map(|s| s.action)
            .collect()
    }

    pub fn count(&self) -> usize {
        self.shared.sent.lock().unwrap().len()
    }

    pub fn transport(&self, inner: Direct) -> TapTransport {
        TapTransport {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

pub struct TapTransport {
    inner: Direct,
    shared: Arc<Shared>,
}

impl Transport for TapTransport {
    fn call<'a>(
        &'a self,
        request: &'a Request,
    ) -> BoxFuture<'a, Result<Reply, ccc_openapi::Error>> {
        Box::pin(async move {
            self.shared.sent.lock().unwrap().push(Sent {
                action: request.action.to_string(),
                params: request
                    .params
                    .to_wire()
                    .into_iter()
                    .map(|(k, v, _)| (k, v))
                    .collect(),
            });
            let mut reply = self.inner.call(request).await?;
            let delay = self
                .shared
                .delays
                .lock()
                .unwrap()
                .get(request.action.as_ref())
                .copied();
            if let Some(by) = delay {
                tokio::time::sleep(by).await;
            }
            let rewrites = self.shared.rewrites.lock().unwrap();
            if let Some(f) = rewrites.get(request.action.as_ref())
                && let Body::Bytes(bytes) = &reply.body
                && let Ok(mut json) = serde_json::from_slice::<Value>(bytes)
            {
                f(&mut json);
                reply.body = Body::Bytes(serde_json::to_vec(&json).unwrap());
            }
            Ok(reply)
        })
    }
}
