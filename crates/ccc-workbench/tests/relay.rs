//! The SDK in proxy mode (the browser's way, C13-C20) through the example relay
//! (`examples/relay`, the guide's section 6 backend) to the emulator: the relay signs
//! with its AccessKey and pins the agent.

mod common;

use std::time::Duration;

use ccc_openapi::transport::Direct;
use ccc_relay::{RelayConfig, User, router};
use ccc_workbench::{Error, Status, Workbench, proxy_client};
use common::{Recorder, Rig};

const ALICE: &str = "alice@ccc-emulator";

/// Starts the relay in front of the emulator; its URL.
async fn relay(rig: &Rig) -> String {
    let info = rig.emulator.info();
    let ccc = Direct::builder(info.credentials())
        .endpoint(info.api_url.clone())
        .build()
        .unwrap();
    let config = RelayConfig {
        instance_id: info.instance_id.clone(),
        users: vec![User {
            name: "alice".into(),
            password: "alice-pw".into(),
            agent_id: ALICE.into(),
            supervisor: false,
        }],
        session_key: b"0123456789abcdef0123456789abcdef".to_vec(),
        session_ttl: Duration::from_secs(3600),
        ccc,
        shape: None,
        api_param_name: "action".into(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router(config)).await;
    });
    url
}

/// Signs in to the relay as its user; the session token.
async fn relay_login(url: &str) -> String {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .unwrap();
    let answer: serde_json::Value = client
        .post(format!("{url}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("user=alice&password=alice-pw")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_workbench_through_the_relay_signs_in_and_takes_a_call() {
    let rig = Rig::start().await;
    let url = relay(&rig).await;
    let token = relay_login(&url).await;
    for use_open_api_sdk in [false, true] {
        let config = ccc_workbench::Config::builder(
            rig.emulator.info().instance_id.clone(),
            use_open_api_sdk,
        )
        .ajax_origin(url.clone())
        .ajax_path("/ccc/api")
        .ajax_header("Authorization", format!("Bearer {token}"))
        .after_call_rule_seconds(0)
        .build()
        .unwrap();
        let client = proxy_client(&config, &rig.emulator.info().region).unwrap();
        let builder = Workbench::builder(config, client, ALICE)
            .sip_device(rig.emulator.info().sip_ws_url.is_some())
            .local_dir(rig.dir.path().join("local"));
        let rec = Recorder::attach(builder.events());
        let wb = builder.build().await.unwrap();
        wb.register(None, "default")
            .await
            .expect("register through the relay");
        rig.call_in("13800000009", "02150000001");
        rec.wait_status(Status::Ringing).await;
        wb.answer().await.unwrap();
        wb.hang_up().await.unwrap();
        rec.wait_status(Status::Ready).await;
        let dialed = wb
            .call("13800000001")
            .await
            .expect("call through the relay");
        assert!(dialed.job_id.is_some());
        wb.hang_up().await.unwrap();
        // The relay forwards only what the user may do: monitoring is a supervisor's.
        rec.wait_status(Status::Ready).await;
        let err = wb.monitor("8002").await.unwrap_err();
        assert!(
            matches!(&err, Error::Operation(n) if n.code.as_str() == "Forbidden.Action"),
            "{err}"
        );
        wb.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn without_a_relay_session_nothing_gets_through() {
    let rig = Rig::start().await;
    let url = relay(&rig).await;
    let config = ccc_workbench::Config::builder(rig.emulator.info().instance_id.clone(), false)
        .ajax_origin(url)
        .ajax_path("/ccc/api")
        .build()
        .unwrap();
    let client = proxy_client(&config, "cn-shanghai").unwrap();
    let wb = Workbench::builder(config, client, ALICE)
        .sip_device(false)
        .without_local_lock()
        .build()
        .await
        .unwrap();
    let err = wb.register(None, "default").await.unwrap_err();
    assert!(
        matches!(&err, Error::Operation(n) if n.code.as_str() == "Unauthorized"),
        "{err}"
    );
    assert_eq!(wb.status_code().await.code, Status::Unregistered);
}
