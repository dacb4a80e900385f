//! The HTTP endpoint: the OpenAPI (signed at `/`, proxied at the proxy path), the
//! recording downloads, and the admin API.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use super::admin;
use super::engine::Engine;
use crate::api::upload::{self, UploadError};
use crate::api::{self, Answer, Context, Incoming};
use crate::platform::PlatformError;

/// Bodies above this are refused (CCC's requests are small).
pub(super) const MAX_BODY: usize = 1 << 20;

/// What the HTTP handlers share.
#[derive(Debug)]
pub(super) struct App {
    /// The engine.
    pub engine: Arc<Engine>,
    /// The admin API's bearer token.
    pub admin_token: String,
    /// The proxy path (C15 `ajaxPath`).
    pub proxy_path: String,
    /// The query key naming the action in proxied requests (C17).
    pub api_param: String,
    /// The SIP link.
    pub sip: Arc<super::sip::SipShell>,
    /// The media faults, which the embedded TURN servers apply.
    pub media_faults: Arc<super::faults::MediaFaults>,
}

/// The router of the endpoint.
pub(super) fn router(app: Arc<App>) -> Router {
    let proxy = app.proxy_path.trim_end_matches('/').to_owned();
    Router::new()
        .route("/", any(signed))
        .route(&proxy, any(proxied))
        .route(&format!("{proxy}/{{*rest}}"), any(proxied))
        .route("/recordings/{file}", axum::routing::get(recording))
        .route(
            "/oss",
            axum::routing::post(upload_file)
                .layer(DefaultBodyLimit::max(upload::MAX_UPLOAD + (64 << 10))),
        )
        .nest("/admin", admin::router())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(app)
}

fn pairs(text: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn incoming(method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Incoming {
    let form_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|t| t.starts_with("application/x-www-form-urlencoded"));
    Incoming {
        post: method == Method::POST,
        path: uri.path().to_owned(),
        query: uri.query().map(pairs).unwrap_or_default(),
        form: if form_body {
            pairs(&String::from_utf8_lossy(body))
        } else {
            Vec::new()
        },
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
    }
}

fn json(answer: Answer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, answer.body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=utf-8"),
    );
    response
}

fn gateway_error(e: &PlatformError, request_id: &str) -> Answer {
    Answer {
        status: e.http_status,
        body: api::error_body(e, None, request_id),
    }
}

/// Runs a request that came through the gateway.
fn answer(app: &App, incoming: &Incoming, proxied: bool) -> Answer {
    let engine = &app.engine;
    let now_ms = engine.now_ms();
    engine.run(|state, now| {
        state.answers += 1;
        let request_id = api::request_id(engine.seed, state.answers);
        let request = if proxied {
            state.gateway.proxied(incoming, &app.api_param)
        } else {
            state.gateway.signed(incoming, now_ms)
        };
        let request = match request {
            Ok(r) => r,
            Err(e) => return gateway_error(&e, &request_id),
        };
        if let Some(e) = state.faults.take_error(&request.action) {
            let body = api::error_body(&e, Some(request.version), &request_id);
            return Answer {
                status: e.http_status,
                body,
            };
        }
        let mut ctx = Context {
            urls: &engine.urls,
            tokens: &engine.tokens,
            turn: &engine.turn,
            turn_auth: &engine.turn_auth,
            store: &mut state.store,
            now_ms,
            request_id,
        };
        api::dispatch(&mut state.platform, &mut ctx, now, &request)
    })
}

/// CCC's answer to a method other than GET and POST, if it is one.
fn method_refused(method: &Method) -> Option<Response> {
    if method == Method::GET || method == Method::POST {
        return None;
    }
    let e = PlatformError::new(
        405,
        "UnsupportedHTTPMethod",
        "This http method is not supported.",
    );
    Some(json(gateway_error(&e, "")))
}

async fn signed(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = method_refused(&method) {
        return refused;
    }
    let incoming = incoming(&method, &uri, &headers, &body);
    json(answer(&app, &incoming, false))
}

async fn proxied(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = method_refused(&method) {
        return refused;
    }
    let incoming = incoming(&method, &uri, &headers, &body);
    let mut response = json(answer(&app, &incoming, true));
    // The browser SDK calls its proxy from its own page; allow it from anywhere local.
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LinkQuery {
    expires: i64,
    signature: String,
}

/// Whether a recording's file name is one the emulator writes (no path tricks).
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

async fn recording(
    State(app): State<Arc<App>>,
    Path(file): Path<String>,
    query: Result<Query<LinkQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let denied = || {
        let e = PlatformError::new(
            403,
            "Forbidden.Signature",
            "The download link is not valid or has expired.",
        );
        json(gateway_error(&e, ""))
    };
    let Ok(Query(link)) = query else {
        return denied();
    };
    let now_s = app.engine.now_ms() / 1_000;
    if !safe_name(&file)
        || !app
            .engine
            .tokens
            .check_link(&file, link.expires, &link.signature, now_s)
    {
        return denied();
    }
    let path = app.engine.recordings.join(&file);
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            let mut response = (StatusCode::OK, bytes).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
            response
        }
        Err(_) => json(gateway_error(
            &PlatformError::not_found("recording file", &file),
            "",
        )),
    }
}

fn oss_error(e: &UploadError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = (status, e.xml()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    response
}

/// The upload of `GetRecordOssUploadParam`'s form (an OSS PostObject): checked against
/// its policy, stored under the recordings directory at its `key`.
async fn upload_file(
    State(app): State<Arc<App>>,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let Ok(mut form) = form else {
        return oss_error(&UploadError::Missing("file"));
    };
    let mut fields = Vec::new();
    let mut file = None;
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                if name.eq_ignore_ascii_case("file") {
                    match field.bytes().await {
                        Ok(bytes) => file = Some(bytes),
                        Err(_) => return oss_error(&UploadError::TooLarge(upload::MAX_UPLOAD + 1)),
                    }
                    // OSS ignores what follows the file.
                    break;
                }
                match field.text().await {
                    Ok(text) => fields.push((name, text)),
                    Err(_) => return oss_error(&UploadError::BadPolicy),
                }
            }
            Ok(None) => break,
            Err(_) => return oss_error(&UploadError::Missing("file")),
        }
    }
    let Some(file) = file else {
        return oss_error(&UploadError::Missing("file"));
    };
    let now_ms = app.engine.now_ms();
    let key = match upload::check(&app.engine.tokens, &fields, file.len(), now_ms / 1_000) {
        Ok(key) => key,
        Err(e) => return oss_error(&e),
    };
    let path = app.engine.recordings.join(&key);
    let written = async {
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        tokio::fs::write(&path, &file).await
    };
    if let Err(e) = written.await {
        let e = PlatformError::new(500, "InternalError", format!("cannot store the file: {e}"));
        return json(gateway_error(&e, ""));
    }
    let size = file.len();
    app.engine.run(|s, _| {
        s.store.add_upload(api::Upload {
            key: key.clone(),
            size,
            at_ms: now_ms,
        });
    });
    let status = fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("success_action_status"))
        .map(|(_, v)| v.as_str());
    match status {
        Some("200") => StatusCode::OK.into_response(),
        Some("201") => {
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse>\n  <Bucket>{}</Bucket>\n  <Key>{key}</Key>\n</PostResponse>\n",
                upload::BUCKET
            );
            let mut response = (StatusCode::CREATED, body).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/xml"),
            );
            response
        }
        _ => StatusCode::NO_CONTENT.into_response(),
    }
}

async fn not_found(uri: Uri) -> Response {
    let e = PlatformError::new(
        404,
        "InvalidApi.NotFound",
        format!("Nothing is served at {}.", uri.path()),
    );
    json(gateway_error(&e, ""))
}
