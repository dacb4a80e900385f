//! An integrator backend for the workbench (the guide's section 6), with axum.
//!
//! The browser (or any client using ccc-openapi's `Proxy` transport) sends its OpenAPI
//! calls here in the workbench's `ajax*` conventions: `POST /ccc/api?action=<Action>`
//! (or `/ccc/api/<module>/<Action>`), form body `request=<JSON of the parameters>`,
//! plus `product=CloudCallCenter&version=2020-07-01&region=..` for 2020 actions.
//! For each call the relay:
//!
//! 1. authenticates its own user: the `ccc_session` cookie `POST /login` sets, or the
//!    same token as `Authorization: Bearer` (401 otherwise);
//! 2. allows only the workbench's actions, the supervisor ones only to supervisors
//!    (403 otherwise);
//! 3. keeps only the parameters the action's model knows and pins `InstanceId` and
//!    `UserId` to the user, so no agent can act as another (parameters that name other
//!    agents, `ResetUserStatus`'s `RamIdList`, are a supervisor's: 403 otherwise);
//! 4. signs with its AccessKey and forwards to CCC;
//! 5. passes CCC's JSON back, in the shape the caller uses (C3 `useOpenApiSdk`: the
//!    request's keys tell, unless configured).

mod allow;
mod session;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use ccc_openapi::decode::Body;
use ccc_openapi::shape::{Shape, demo_shape, request_to_wire};
use ccc_openapi::transport::{Direct, Request, Transport};
use ccc_openapi::{ActionModel, Params, Placement, Version, WireParams, models};
use serde_json::{Value, json};

pub use allow::{SUPERVISOR_ONLY, WORKBENCH_2017, WORKBENCH_2020};
use session::Sessions;

/// One user of the relay. `Debug` hides the password.
#[derive(Clone)]
pub struct User {
    /// The login name.
    pub name: String,
    /// The password (an example: a real backend checks its own user store).
    pub password: String,
    /// The agent this user is in CCC (`agent@ccc-test`): pinned as `UserId`.
    pub agent_id: String,
    /// Whether the user may monitor, barge in, intercept and coach.
    pub supervisor: bool,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("password", &"<redacted>")
            .field("agent_id", &self.agent_id)
            .field("supervisor", &self.supervisor)
            .finish()
    }
}

/// What the relay needs.
pub struct RelayConfig {
    /// The CCC instance, pinned as `InstanceId`.
    pub instance_id: String,
    /// The users.
    pub users: Vec<User>,
    /// The key that signs session tokens (32 bytes or more).
    pub session_key: Vec<u8>,
    /// How long a session lasts.
    pub session_ttl: Duration,
    /// The signed transport to CCC (the relay's AccessKey).
    pub ccc: Direct,
    /// The answer shape; `None`: per request, from the case of its keys.
    pub shape: Option<Shape>,
    /// C17 `ajaxApiParamName`.
    pub api_param_name: String,
}

struct Relay {
    instance_id: String,
    users: HashMap<String, User>,
    sessions: Sessions,
    ccc: Direct,
    shape: Option<Shape>,
    api_param_name: String,
}

/// The relay's routes: `POST /login`, `/ccc/api` and `/ccc/api/{module}/{action}`.
pub fn router(config: RelayConfig) -> Router {
    let relay = Relay {
        instance_id: config.instance_id,
        users: config
            .users
            .into_iter()
            .map(|u| (u.name.clone(), u))
            .collect(),
        sessions: Sessions::new(&config.session_key, config.session_ttl),
        ccc: config.ccc,
        shape: config.shape,
        api_param_name: config.api_param_name,
    };
    Router::new()
        .route("/login", post(login))
        .route("/ccc/api", any(by_param))
        .route("/ccc/api/{module}/{action}", any(by_path))
        .with_state(Arc::new(relay))
}

/// A JSON error in CCC's shape.
fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"Code": code, "Message": message, "Success": false});
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn login(State(relay): State<Arc<Relay>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = url_pairs(&body).into_iter().collect();
    let (Some(name), Some(password)) = (form.get("user"), form.get("password")) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "MissingParameter",
            "user and password",
        );
    };
    let Some(user) = relay
        .users
        .get(name)
        .filter(|u| relay.sessions.same_secret(password, &u.password))
    else {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "wrong user or password",
        );
    };
    let token = relay.sessions.issue(&user.name, SystemTime::now());
    let cookie = format!("ccc_session={token}; Path=/; HttpOnly; SameSite=Strict");
    (
        StatusCode::OK,
        [
            (header::SET_COOKIE, cookie),
            (header::CONTENT_TYPE, "application/json".to_owned()),
        ],
        json!({"token": token}).to_string(),
    )
        .into_response()
}

async fn by_param(
    State(relay): State<Arc<Relay>>,
    method: Method,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let action = query
        .iter()
        .find(|(k, _)| *k == relay.api_param_name)
        .map(|(_, v)| v.clone());
    match action {
        Some(action) => {
            relay
                .forward(&action, &method, &query, &headers, &body)
                .await
        }
        None => refuse(
            StatusCode::BAD_REQUEST,
            "MissingParameter",
            &format!("the query names no action ({})", relay.api_param_name),
        ),
    }
}

async fn by_path(
    State(relay): State<Arc<Relay>>,
    Path((_module, action)): Path<(String, String)>,
    method: Method,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    relay
        .forward(&action, &method, &query, &headers, &body)
        .await
}

/// The pairs of an `application/x-www-form-urlencoded` body.
fn url_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes).into_owned().collect()
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl Relay {
    fn user(&self, headers: &HeaderMap) -> Option<&User> {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let token = bearer.or_else(|| cookie(headers, "ccc_session"))?;
        let name = self.sessions.check(token.trim(), SystemTime::now())?;
        self.users.get(&name)
    }

    async fn forward(
        &self,
        action: &str,
        method: &Method,
        query: &[(String, String)],
        headers: &HeaderMap,
        body: &[u8],
    ) -> Response {
        let Some(user) = self.user(headers) else {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "sign in to the relay first",
            );
        };
        let version = match query.iter().find(|(k, _)| k == "version") {
            None => Version::V20170705,
            Some((_, v)) => match Version::parse(v) {
                Some(version) => version,
                None => return refuse(StatusCode::BAD_REQUEST, "InvalidVersion", v),
            },
        };
        let model = match (
            allow::verdict(version, action, user.supervisor),
            models::find(version, action),
        ) {
            (allow::Verdict::Allowed, Some(model)) => model,
            (allow::Verdict::SupervisorOnly, _) => {
                return refuse(
                    StatusCode::FORBIDDEN,
                    "Forbidden.Action",
                    "a supervisor's action",
                );
            }
            _ => {
                return refuse(
                    StatusCode::FORBIDDEN,
                    "Forbidden.Action",
                    &format!("{action} ({version}) is not an action of the workbench"),
                );
            }
        };
        let pairs = if *method == Method::GET {
            query.to_vec()
        } else {
            url_pairs(body)
        };
        let Some(request) = pairs.iter().find(|(k, _)| k == "request").map(|(_, v)| v) else {
            return refuse(StatusCode::BAD_REQUEST, "MissingParameter", "request");
        };
        let request: Value = match serde_json::from_str(request) {
            Ok(value @ Value::Object(_)) => value,
            _ => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    "InvalidParameter",
                    "request is not a JSON object",
                );
            }
        };
        let shape = self.shape.unwrap_or_else(|| shape_of(&request));
        let wire = request_to_wire(&request, version);
        if !user.supervisor
            && let Some((name, _)) = wire
                .pairs()
                .iter()
                .find(|(name, _)| !allow::agent_may_send(version, action, name))
        {
            return refuse(
                StatusCode::FORBIDDEN,
                "Forbidden.Parameter",
                &format!("{name} names other agents: a supervisor's parameter"),
            );
        }
        let params = self.pinned(model, &wire, user);
        tracing::info!(user = %user.name, action, %version, "relay");
        let call = Request::raw(action, version, params);
        match self.ccc.call(&call).await {
            Ok(reply) => answer(reply.http_status, reply.body, shape),
            Err(e) => {
                let status = if matches!(e, ccc_openapi::Error::Timeout { .. }) {
                    StatusCode::GATEWAY_TIMEOUT
                } else {
                    StatusCode::BAD_GATEWAY
                };
                refuse(status, "RelayError", &e.to_string())
            }
        }
    }

    /// The parameters the model knows, with `InstanceId` and `UserId` pinned.
    fn pinned(&self, model: &ActionModel, wire: &WireParams, user: &User) -> Params {
        let mut params = Params::new(model.version);
        for (name, value) in wire.pairs() {
            if name == "InstanceId" || name == "UserId" {
                continue;
            }
            if let Some(p) = model.param(name) {
                params.put_raw(name.as_str(), p.placement, value.as_str());
            }
        }
        let placement = |name| model.param(name).map_or(Placement::Query, |p| p.placement);
        if model.param("InstanceId").is_some() {
            params.put_raw(
                "InstanceId",
                placement("InstanceId"),
                self.instance_id.as_str(),
            );
        }
        if model.param("UserId").is_some() {
            params.put_raw("UserId", placement("UserId"), user.agent_id.as_str());
        }
        params
    }
}

/// C3 by the request's keys: PascalCase means the caller uses the OpenAPI SDK shape.
fn shape_of(request: &Value) -> Shape {
    let upper = request
        .as_object()
        .and_then(|m| m.keys().next())
        .is_some_and(|k| k.starts_with(|c: char| c.is_ascii_uppercase()));
    Shape::from_use_openapi_sdk(upper)
}

fn answer(status: u16, body: Body, shape: Shape) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let value = match body {
        Body::Json(value) => Some(value),
        Body::Bytes(bytes) => serde_json::from_slice::<Value>(&bytes).ok(),
    };
    match value {
        Some(value) => {
            let value = match shape {
                Shape::OpenApi => value,
                Shape::Demo => demo_shape(value),
            };
            (
                status,
                [(header::CONTENT_TYPE, "application/json")],
                value.to_string(),
            )
                .into_response()
        }
        None => refuse(
            StatusCode::BAD_GATEWAY,
            "RelayError",
            &format!(
                "CCC answered HTTP {} with a body that is not JSON",
                status.as_u16()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_password_stays_out_of_debug() {
        let user = User {
            name: "alice".into(),
            password: "alice-password".into(),
            agent_id: "alice@ccc-test".into(),
            supervisor: false,
        };
        let debug = format!("{user:?}");
        assert!(
            debug.contains("alice@ccc-test") && !debug.contains("alice-password"),
            "{debug}"
        );
    }
}
