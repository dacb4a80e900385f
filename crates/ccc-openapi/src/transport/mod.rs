//! How requests reach CCC: one [`Transport`] trait and its three kinds.
//!
//! - [`Direct`]: signed HTTPS to `ccc.<region>.aliyuncs.com` (or any base URL, such as
//!   the emulator's), for backends and tools that hold an AccessKey.
//! - [`Proxy`]: through the integrator's own backend in the workbench's `ajax*`
//!   conventions (C13-C20), which signs and forwards; the way the browser SDK works.
//! - [`Custom`]: a function the caller supplies, `(action, params) -> JSON` (C41).

mod custom;
mod direct;
mod http;
mod proxy;

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

pub use custom::Custom;
pub use direct::{Direct, DirectBuilder, Prepared, SignatureVersion, safe_to_repeat};
pub use http::TlsRoots;
pub use proxy::{AjaxType, Proxy, ProxyBuilder};

use crate::action::{Action, ActionModel, Params, Version};
use crate::decode::Reply;
use crate::error::Error;
use crate::models;

/// A boxed future that is `Send`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One call of an action, as a transport sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The action name.
    pub action: Cow<'static, str>,
    /// The version.
    pub version: Version,
    /// The parameters.
    pub params: Params,
    /// The action's model, when this crate knows the action.
    pub model: Option<&'static ActionModel>,
}

impl Request {
    /// The request of a typed action.
    pub fn of<A: Action>(action: &A) -> Self {
        Self {
            action: Cow::Borrowed(A::NAME),
            version: A::VERSION,
            params: action.params(),
            model: Some(A::MODEL),
        }
    }

    /// A request by name, with parameters as given; the model is looked up.
    pub fn raw(action: impl Into<String>, version: Version, params: Params) -> Self {
        let action = action.into();
        let model = models::find(version, &action);
        Self {
            action: Cow::Owned(action),
            version,
            params,
            model,
        }
    }
}

/// Sends requests and returns the answers as they came; [`Client`](crate::Client)
/// decodes them.
///
/// Every call settles: with the answer, or an error, within the transport's timeout.
pub trait Transport: Send + Sync + 'static {
    /// Sends `request`.
    fn call<'a>(&'a self, request: &'a Request) -> BoxFuture<'a, Result<Reply, Error>>;
}

impl<T: Transport + ?Sized> Transport for std::sync::Arc<T> {
    fn call<'a>(&'a self, request: &'a Request) -> BoxFuture<'a, Result<Reply, Error>> {
        (**self).call(request)
    }
}
