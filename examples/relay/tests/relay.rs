//! The relay end to end on 127.0.0.1: ccc-openapi's `Proxy` transport (what the SDK
//! uses) -> the relay -> a stand-in CCC that verifies the V2 signature, the timestamp
//! and the nonce of every request, and answers with CCC's JSON.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::any;
use ccc_openapi::shape::Shape;
use ccc_openapi::sign::{HttpMethod, verify_v2};
use ccc_openapi::transport::{AjaxType, Direct, Proxy, Request};
use ccc_openapi::{Client, Credentials, Params, Placement, Version, v2017, v2020};
use ccc_relay::{RelayConfig, User, router};

const INSTANCE: &str = "ccc-relay-test";

fn relay_key() -> Credentials {
    Credentials::new("relay-ak", "relay-secret")
}

#[derive(Default)]
struct Ccc {
    seen: Mutex<Vec<Vec<(String, String)>>>,
    nonces: Mutex<HashSet<String>>,
    refused: Mutex<u32>,
}

fn answer_of(action: &str, version: &str) -> Option<String> {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../crates/ccc-openapi/tests/data/answers"
    );
    std::fs::read_to_string(format!("{dir}/{version}/{action}.json")).ok()
}

/// The stand-in CCC: checks every request as CCC would, then answers.
async fn ccc_handler(
    State(ccc): State<Arc<Ccc>>,
    method: Method,
    Query(query): Query<Vec<(String, String)>>,
    body: Bytes,
) -> impl IntoResponse {
    let mut params = query;
    params.extend(form_urlencoded::parse(&body).into_owned());
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let m = if method == Method::GET {
        HttpMethod::Get
    } else {
        HttpMethod::Post
    };
    let refuse = |code: &str, message: String| {
        *ccc.refused.lock().unwrap() += 1;
        (
            StatusCode::BAD_REQUEST,
            serde_json::json!({"Code": code, "Message": message, "RequestId": "stand-in"})
                .to_string(),
        )
    };
    if let Err(e) = verify_v2(m, &params, &relay_key()) {
        return refuse("SignatureDoesNotMatch", e.to_string());
    }
    if get("AccessKeyId").as_deref() != Some("relay-ak") {
        return refuse("InvalidAccessKeyId.NotFound", String::new());
    }
    let timestamp = get("Timestamp").unwrap_or_default();
    if timestamp.len() != 20 || !timestamp.ends_with('Z') {
        return refuse("InvalidTimeStamp.Format", timestamp);
    }
    let nonce = get("SignatureNonce").unwrap_or_default();
    if !ccc.nonces.lock().unwrap().insert(nonce.clone()) {
        return refuse("SignatureNonceUsed", nonce);
    }
    ccc.seen.lock().unwrap().push(params.clone());
    let action = get("Action").unwrap_or_default();
    if action == "GetNumberRegionInfo" {
        return (
            StatusCode::NOT_FOUND,
            r#"{"Code":"NotExists.InstanceId","Message":"no such instance","RequestId":"r-404"}"#
                .to_owned(),
        );
    }
    match answer_of(&action, &get("Version").unwrap_or_default()) {
        Some(json) => (StatusCode::OK, json),
        None => refuse("InvalidApi.NotFound", action),
    }
}

struct Setup {
    relay: String,
    ccc: Arc<Ccc>,
    _tasks: Vec<tokio::task::JoinHandle<()>>,
}

async fn serve(router: Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (url, task)
}

async fn setup() -> Setup {
    let ccc = Arc::new(Ccc::default());
    let (ccc_url, ccc_task) = serve(
        Router::new()
            .route("/", any(ccc_handler))
            .with_state(ccc.clone()),
    )
    .await;
    let config = RelayConfig {
        instance_id: INSTANCE.into(),
        users: vec![
            User {
                name: "alice".into(),
                password: "alice-pw".into(),
                agent_id: "alice@ccc-relay-test".into(),
                supervisor: false,
            },
            User {
                name: "sam".into(),
                password: "sam-pw".into(),
                agent_id: "sam@ccc-relay-test".into(),
                supervisor: true,
            },
        ],
        session_key: b"a session key of at least 32 bytes!".to_vec(),
        session_ttl: Duration::from_secs(600),
        ccc: Direct::builder(relay_key())
            .endpoint(&ccc_url)
            .build()
            .unwrap(),
        shape: None,
        api_param_name: "action".into(),
    };
    let (relay, relay_task) = serve(router(config)).await;
    Setup {
        relay,
        ccc,
        _tasks: vec![ccc_task, relay_task],
    }
}

/// A client of the relay signed in as `user` (bearer token), through the SDK's proxy
/// transport.
async fn signed_in(setup: &Setup, user: &str, password: &str, shape: Shape) -> Client {
    let token = login(setup, user, password).await.expect("login");
    Client::new(
        Proxy::builder(&setup.relay)
            .path("/ccc/api")
            .header("authorization", format!("Bearer {token}"))
            .shape(shape)
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap(),
    )
}

async fn login(setup: &Setup, user: &str, password: &str) -> Option<String> {
    let body = format!("user={user}&password={password}");
    let response = raw_post(&format!("{}/login", setup.relay), &body, &[]).await;
    (response.0 == 200).then(|| {
        let json: serde_json::Value = serde_json::from_str(&response.1).unwrap();
        json["token"].as_str().unwrap().to_owned()
    })
}

/// A plain HTTP POST on a fresh connection: (status, body, set-cookie).
async fn raw_post(
    url: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> (u16, String, Option<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let cookie = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .map(|l| l.split_once(':').unwrap().1.trim().to_owned());
    (status, body.to_owned(), cookie)
}

#[tokio::test]
async fn the_relay_pins_signs_and_forwards() {
    let setup = setup().await;
    let client = signed_in(&setup, "alice", "alice-pw", Shape::Demo).await;
    // Alice asks about someone else's skill groups in someone else's instance.
    let answer = client
        .send(v2017::ListSkillGroupsOfUser::new(
            "other-instance",
            "bob@elsewhere",
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        answer.skill_levels.len(),
        1,
        "the demo-shaped answer decodes"
    );
    let seen = setup.ccc.seen.lock().unwrap().clone();
    let get = |name: &str| {
        seen[0]
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .map(str::to_owned)
    };
    assert_eq!(get("InstanceId").as_deref(), Some(INSTANCE));
    assert_eq!(get("UserId").as_deref(), Some("alice@ccc-relay-test"));
    assert_eq!(get("Action").as_deref(), Some("ListSkillGroupsOfUser"));
    assert_eq!(
        *setup.ccc.refused.lock().unwrap(),
        0,
        "every signature held"
    );
}

#[tokio::test]
async fn a_2020_call_in_the_openapi_shape_with_lists() {
    let setup = setup().await;
    let client = signed_in(&setup, "alice", "alice-pw", Shape::OpenApi).await;
    let answer = client
        .send(
            v2020::SignInGroup::new(
                "x",
                "dev-1",
                ["skg-1@ccc-relay-test", "skg-2@ccc-relay-test"],
            )
            .user_id("bob"),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(answer.data.is_some());
    let answer = client
        .send(v2020::MakeCall::new("x", "13800000000"))
        .await
        .unwrap();
    assert!(answer.data.and_then(|d| d.call_context).is_some());
    let seen = setup.ccc.seen.lock().unwrap().clone();
    let get = |i: usize, name: &str| {
        seen[i]
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        get(0, "SignedSkillGroupIdList").as_deref(),
        Some(r#"["skg-1@ccc-relay-test","skg-2@ccc-relay-test"]"#)
    );
    assert_eq!(get(0, "UserId").as_deref(), Some("alice@ccc-relay-test"));
    assert_eq!(get(0, "Version").as_deref(), Some("2020-07-01"));
    assert_eq!(get(1, "Callee").as_deref(), Some("13800000000"));
    assert_eq!(*setup.ccc.refused.lock().unwrap(), 0);
}

#[tokio::test]
async fn ccc_errors_pass_through() {
    let setup = setup().await;
    let client = signed_in(&setup, "alice", "alice-pw", Shape::Demo).await;
    let e = client
        .send(v2017::GetNumberRegionInfo::new("x", "13800000000"))
        .await
        .unwrap_err();
    let api = e.api().unwrap_or_else(|| panic!("{e}"));
    assert_eq!(
        (
            api.code.as_str(),
            api.http_status,
            api.request_id.as_deref()
        ),
        ("NotExists.InstanceId", 404, Some("r-404"))
    );
}

#[tokio::test]
async fn only_the_workbench_actions_and_only_signed_in_users() {
    let setup = setup().await;
    let alice = signed_in(&setup, "alice", "alice-pw", Shape::Demo).await;
    // An action the workbench does not use.
    let mut params = Params::new(Version::V20200701);
    params.put_raw("InstanceId", Placement::Query, "x");
    let e = alice
        .call(&Request::raw(
            "DeleteInstance",
            Version::V20200701,
            params.clone(),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), Some(403), "{e}");
    // A supervisor's action, by an agent and by a supervisor.
    let e = alice
        .send(v2020::MonitorCall::new("x", "bob@ccc-relay-test"))
        .await
        .unwrap_err();
    assert_eq!(
        e.api().map(|a| (a.http_status, a.code.as_str())),
        Some((403, "Forbidden.Action"))
    );
    let sam = signed_in(&setup, "sam", "sam-pw", Shape::Demo).await;
    sam.send(v2020::MonitorCall::new("x", "bob@ccc-relay-test"))
        .await
        .unwrap();
    // No session, a forged one, a wrong password.
    let anonymous = Client::new(
        Proxy::builder(&setup.relay)
            .path("/ccc/api")
            .build()
            .unwrap(),
    );
    let e = anonymous
        .send(v2017::RefreshToken::new("x"))
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), Some(401));
    let forged = Client::new(
        Proxy::builder(&setup.relay)
            .path("/ccc/api")
            .header("cookie", "ccc_session=v1.sam.99999999999.00")
            .build()
            .unwrap(),
    );
    assert_eq!(
        forged
            .send(v2017::RefreshToken::new("x"))
            .await
            .unwrap_err()
            .http_status(),
        Some(401)
    );
    assert!(login(&setup, "alice", "wrong").await.is_none());
    // Resetting other agents' state is a supervisor's; resetting without naming
    // anyone is not refused.
    let others = v2017::ResetUserStatus::new("x").ram_id_list([1001, 1002]);
    let e = alice.send(others.clone()).await.unwrap_err();
    assert_eq!(
        e.api().map(|a| (a.http_status, a.code.as_str())),
        Some((403, "Forbidden.Parameter"))
    );
    alice
        .send(v2017::ResetUserStatus::new("x"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    sam.send(others).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        setup.ccc.seen.lock().unwrap().len(),
        3,
        "only sam's calls and alice's own reset reached CCC"
    );
}

#[tokio::test]
async fn the_session_cookie_and_the_path_style() {
    let setup = setup().await;
    let (status, _, cookie) = raw_post(
        &format!("{}/login", setup.relay),
        "user=alice&password=alice-pw",
        &[],
    )
    .await;
    assert_eq!(status, 200);
    let cookie = cookie.unwrap();
    assert!(cookie.contains("HttpOnly"));
    let session = cookie.split(';').next().unwrap().to_owned();
    let client = Client::new(
        Proxy::builder(&setup.relay)
            .path("/ccc/api")
            .ajax_type(AjaxType::Path {
                module: "ccc".into(),
            })
            .header("cookie", session)
            .build()
            .unwrap(),
    );
    let answer = client
        .send(v2017::RequestLoginInfo::new("x"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(answer.login_info.is_some());
    // Bad requests get clear errors, not a forward.
    let (status, body, _) = raw_post(
        &format!("{}/ccc/api?action=RefreshToken", setup.relay),
        "request=%7Bnot-json",
        &[("cookie", cookie.split(';').next().unwrap())],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("InvalidParameter"));
}
