//! The agent link over a real WebSocket, checked through ccc-core's agent machine, and
//! each injected fault with what the client sees.

mod support;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use support::*;

const BOB: &str = "bob@ccc-emulator";
const SALES: &str = r#"["sales@ccc-emulator"]"#;

async fn ready(api: &mut Api, user: &str, device: &str) {
    api.v2020(
        "SignInGroup",
        &[
            ("UserId", user),
            ("DeviceId", device),
            ("SignedSkillGroupIdList", SALES),
        ],
    )
    .await;
    api.v2020("ReadyForService", &[("UserId", user)]).await;
}

async fn place_call(emu: &ccc_emulator::Emulator) -> String {
    let (status, placed) = admin(
        emu.info(),
        "POST",
        "/calls",
        json!({"caller": "13800000009", "callee": "02150000001"}),
    )
    .await;
    assert_eq!(status, 201, "{placed}");
    placed["job_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn snapshots_are_pushed_and_give_the_guides_statuses() {
    let emu = start().await;
    let mut api = Api::new(emu.info());
    let mut ws = agent_link(&mut api, emu.info(), BOB, "dev-1").await;
    let first = next_snapshot(&mut ws).await;
    assert_eq!(
        first.user_context.as_ref().unwrap().user_state,
        Some(ccc_core::model::UserState::Offline)
    );
    let mut m = Machine::new();
    m.feed(first);
    ready(&mut api, BOB, "dev-1").await;
    m.until(&mut ws, 3).await;
    let job = place_call(&emu).await;
    m.until(&mut ws, 6).await;
    api.v2020("AnswerCall", &[("UserId", BOB), ("JobId", &job)])
        .await;
    m.until(&mut ws, 9).await;
    api.v2020("ReleaseCall", &[("UserId", BOB), ("JobId", &job)])
        .await;
    m.until(&mut ws, 5).await;
    assert_eq!(
        m.take(),
        [0, 2, 3, 6, 9, 5],
        "registering, then the guide's sequence"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn a_bad_token_is_refused() {
    let emu = start().await;
    let url = format!(
        "{}?UserId={BOB}&SignData=bob@ccc-emulator:8002:99999999999999&Signature=AAAA",
        emu.info().agent_server_url
    );
    let err = tokio_tungstenite::connect_async(url).await.unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    let mut api = Api::new(emu.info());
    let login = api
        .ok("2017-07-05", "RequestLoginInfo", &[("UserId", BOB)])
        .await;
    let url = format!(
        "{}?UserId=alice@ccc-emulator&SignData={}&Signature={}",
        emu.info().agent_server_url,
        ccc_openapi::sign::percent_encode(login["LoginInfo"]["SignData"].as_str().unwrap()),
        ccc_openapi::sign::percent_encode(login["LoginInfo"]["Signature"].as_str().unwrap()),
    );
    let err = tokio_tungstenite::connect_async(url).await.unwrap_err();
    assert!(
        err.to_string().contains("403"),
        "another agent's token: {err}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn a_second_sign_in_closes_the_first_link_with_ka_register() {
    let emu = start().await;
    let mut api = Api::new(emu.info());
    let mut first = agent_link(&mut api, emu.info(), BOB, "tab-1").await;
    let mut second = agent_link(&mut api, emu.info(), BOB, "tab-2").await;
    ready(&mut api, BOB, "tab-1").await;
    api.v2020(
        "SignInGroup",
        &[
            ("UserId", BOB),
            ("DeviceId", "tab-2"),
            ("SignedSkillGroupIdList", SALES),
        ],
    )
    .await;
    assert_eq!(
        close_of(&mut first).await,
        Some((ccc_emulator::CLOSE_SIGNED_OUT, "KA_register".into()))
    );
    // The new device's link stays and sees the sign-in.
    let mut m = Machine::new();
    m.until(&mut second, 2).await;
    emu.shutdown().await;
}

#[tokio::test]
async fn the_admin_kick_closes_with_the_reason_given() {
    let emu = start().await;
    let mut api = Api::new(emu.info());
    let mut ws = agent_link(&mut api, emu.info(), BOB, "d").await;
    ready(&mut api, BOB, "d").await;
    let (status, _) = admin(
        emu.info(),
        "POST",
        &format!("/agents/{BOB}/kick"),
        json!({"reason": "ASM_Private"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(close_of(&mut ws).await, Some((4001, "ASM_Private".into())));
    let (status, body) = admin(
        emu.info(),
        "POST",
        &format!("/agents/{BOB}/kick"),
        json!({"reason": "nope"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    emu.shutdown().await;
}

#[tokio::test]
async fn a_dropped_link_ends_without_a_close_frame_and_polling_still_works() {
    let emu = start().await;
    let mut api = Api::new(emu.info());
    let mut ws = agent_link(&mut api, emu.info(), BOB, "d").await;
    next_snapshot(&mut ws).await;
    let (status, _) = admin(
        emu.info(),
        "POST",
        &format!("/agents/{BOB}/agent-link"),
        json!({"action": "drop"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        close_of(&mut ws).await,
        None,
        "no close frame: the connection just ends"
    );
    ready(&mut api, BOB, "d").await;
    let polled = api.v2020("PollUserStatus", &[("UserId", BOB)]).await;
    assert_eq!(
        polled["UserContext"]["UserState"], "READY",
        "the polling fallback"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn delayed_and_black_holed_links() {
    let emu = start().await;
    let mut api = Api::new(emu.info());
    let mut ws = agent_link(&mut api, emu.info(), BOB, "d").await;
    next_snapshot(&mut ws).await;
    admin(
        emu.info(),
        "POST",
        &format!("/agents/{BOB}/agent-link"),
        json!({"action": "delay", "ms": 300}),
    )
    .await;
    let t0 = Instant::now();
    api.v2020(
        "SignInGroup",
        &[
            ("UserId", BOB),
            ("DeviceId", "d"),
            ("SignedSkillGroupIdList", SALES),
        ],
    )
    .await;
    next_snapshot(&mut ws).await;
    assert!(
        t0.elapsed() >= Duration::from_millis(300),
        "the frame waited"
    );
    admin(
        emu.info(),
        "POST",
        &format!("/agents/{BOB}/agent-link"),
        json!({"action": "black-hole"}),
    )
    .await;
    api.v2020("ReadyForService", &[("UserId", BOB)]).await;
    let silent = tokio::time::timeout(Duration::from_millis(400), ws.next()).await;
    assert!(
        silent.is_err(),
        "nothing arrives while black-holed: {silent:?}"
    );
    admin(
        emu.info(),
        "POST",
        &format!("/agents/{BOB}/agent-link"),
        json!({"action": "restore"}),
    )
    .await;
    api.v2020("TakeBreak", &[("UserId", BOB), ("Code", "lunch")])
        .await;
    let snapshot = next_snapshot(&mut ws).await;
    assert_eq!(
        snapshot.user_context.unwrap().break_code.as_deref(),
        Some("lunch"),
        "frames flow again (the dropped one is gone)"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn the_next_calls_of_an_action_fail_as_asked() {
    let emu = start().await;
    let mut api = Api::new(emu.info());
    ready(&mut api, BOB, "d").await;
    let (status, _) = admin(
        emu.info(),
        "POST",
        "/faults/next-error",
        json!({"action": "MakeCall", "count": 2, "code": "Throttling.User", "http_status": 503, "message": "slow down"}),
    )
    .await;
    assert_eq!(status, 200);
    for _ in 0..2 {
        let (status, body) = api
            .call(
                "2020-07-01",
                "MakeCall",
                &[("UserId", BOB), ("Callee", "13800000001")],
            )
            .await;
        assert_eq!(
            (status, body["Code"].as_str(), body["Message"].as_str()),
            (503, Some("Throttling.User"), Some("slow down"))
        );
    }
    let (status, _) = api
        .call(
            "2020-07-01",
            "MakeCall",
            &[("UserId", BOB), ("Callee", "13800000001")],
        )
        .await;
    assert_eq!(status, 200, "the plan ran out");
    emu.shutdown().await;
}

#[tokio::test]
async fn a_slow_websocket_handshake() {
    let emu = start().await;
    let mut api = Api::new(emu.info());
    admin(
        emu.info(),
        "POST",
        "/faults/ws-connect-slowly",
        json!({"ms": 400}),
    )
    .await;
    let t0 = Instant::now();
    let mut ws = agent_link(&mut api, emu.info(), BOB, "d").await;
    assert!(
        t0.elapsed() >= Duration::from_millis(400),
        "the handshake waited"
    );
    next_snapshot(&mut ws).await;
    // A client with a shorter connect timeout gives up: that is WSConnectSlowly.
    let login = api
        .ok("2017-07-05", "RequestLoginInfo", &[("UserId", BOB)])
        .await;
    let url = format!(
        "{}?UserId={BOB}&SignData={}&Signature={}",
        emu.info().agent_server_url,
        ccc_openapi::sign::percent_encode(login["LoginInfo"]["SignData"].as_str().unwrap()),
        ccc_openapi::sign::percent_encode(login["LoginInfo"]["Signature"].as_str().unwrap()),
    );
    let gave_up = tokio::time::timeout(
        Duration::from_millis(150),
        tokio_tungstenite::connect_async(url),
    )
    .await;
    assert!(gave_up.is_err());
    emu.shutdown().await;
}

#[tokio::test]
async fn the_admin_api_wants_its_token_and_lists_agents_and_calls() {
    let emu = start().await;
    let denied = http(
        "GET",
        &format!("{}/agents", emu.info().admin_url),
        &[("Authorization", "Bearer nope")],
        b"",
    )
    .await;
    assert_eq!(denied.status, 401);
    let mut api = Api::new(emu.info());
    let _ws = agent_link(&mut api, emu.info(), BOB, "d").await;
    ready(&mut api, BOB, "d").await;
    let job = place_call(&emu).await;
    let (_, agents) = admin(emu.info(), "GET", "/agents", serde_json::Value::Null).await;
    let bob = agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["user_id"] == BOB)
        .unwrap()
        .clone();
    assert_eq!(bob["state"], "RINGING");
    assert_eq!(bob["agent_links"], 1);
    let (_, calls) = admin(emu.info(), "GET", "/calls", serde_json::Value::Null).await;
    assert_eq!(calls[0]["job_id"], job.as_str());
    let (status, _) = admin(
        emu.info(),
        "POST",
        &format!("/calls/{job}/hangup"),
        serde_json::Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    let (_, records) = admin(emu.info(), "GET", "/records", serde_json::Value::Null).await;
    assert_eq!(records["calls"][0]["disposition"], "Abandoned");
    let (status, _) = admin(
        emu.info(),
        "POST",
        "/calls",
        json!({"caller": "1", "callee": "01050000002"}),
    )
    .await;
    assert_eq!(status, 400, "an outbound-only number is no hotline");
    emu.shutdown().await;
}
