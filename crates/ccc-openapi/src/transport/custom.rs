//! [`Custom`]: the caller's own request function (C41 `apiAxiosFunc`).

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::{BoxFuture, Request, Transport};
use crate::decode::{Body, Reply};
use crate::error::Error;
use crate::shape::{Shape, request_json};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Function = dyn Fn(String, Value) -> BoxFuture<'static, Result<Value, BoxError>> + Send + Sync;

/// Calls a function of the caller's, `(action, params) -> JSON`, as C41 `apiAxiosFunc`
/// does: `params` is the JSON object the workbench would send (in the [`Shape`] of C3),
/// the answer is CCC's JSON, with keys in either case of their first letter.
///
/// ```
/// # async fn run() -> Result<(), ccc_openapi::Error> {
/// use ccc_openapi::{Client, transport::Custom, v2017::GetNumberRegionInfo};
/// let custom = Custom::new(|action, params| async move {
///     assert_eq!(action, "GetNumberRegionInfo");
///     assert_eq!(params["number"], "13800000000");
///     Ok::<_, std::io::Error>(serde_json::json!({
///         "success": true, "code": "OK",
///         "phoneNumber": {"number": "13800000000", "province": "浙江", "city": "杭州"}
///     }))
/// });
/// let answer = Client::new(custom)
///     .send(GetNumberRegionInfo::new("ccc-test", "13800000000"))
///     .await?;
/// assert_eq!(answer.phone_number.unwrap().city.as_deref(), Some("杭州"));
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(run()).unwrap();
/// ```
#[derive(Clone)]
pub struct Custom {
    function: Arc<Function>,
    shape: Shape,
    timeout: Duration,
}

impl fmt::Debug for Custom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Custom")
            .field("shape", &self.shape)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Custom {
    /// The transport calling `function`, with parameters in the demo shape and a
    /// 10 s timeout.
    pub fn new<F, Fut, E>(function: F) -> Self
    where
        F: Fn(String, Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        let function =
            move |action: String, params: Value| -> BoxFuture<'static, Result<Value, BoxError>> {
                let future = function(action, params);
                Box::pin(async move { future.await.map_err(Into::into) })
            };
        Self {
            function: Arc::new(function),
            shape: Shape::Demo,
            timeout: Duration::from_secs(10),
        }
    }

    /// The shape of the parameters handed to the function (C3).
    #[must_use]
    pub fn shape(mut self, shape: Shape) -> Self {
        self.shape = shape;
        self
    }

    /// The time the function may take.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

impl Transport for Custom {
    fn call<'a>(&'a self, request: &'a Request) -> BoxFuture<'a, Result<Reply, Error>> {
        Box::pin(async move {
            let params = request_json(&request.params, request.model, self.shape);
            let future = (self.function)(request.action.to_string(), params);
            match tokio::time::timeout(self.timeout, future).await {
                Err(_) => Err(Error::Timeout {
                    action: request.action.to_string(),
                    after: self.timeout,
                }),
                Ok(Err(e)) => Err(Error::Request {
                    action: request.action.to_string(),
                    message: format!("the request function failed: {e}"),
                }),
                Ok(Ok(answer)) => Ok(Reply {
                    http_status: 200,
                    body: Body::Json(answer),
                    shape: Shape::Demo,
                }),
            }
        })
    }
}
