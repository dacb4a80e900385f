//! DTMF with a real phone, both ways: a customer's scripted digits reach the agent's
//! phone as RFC 4733 events; the phone's digits (RFC 4733 in its media, or SIP INFO)
//! reach the customer's leg.

mod support;

use std::time::{Duration, Instant};

use ccc_media::call::MediaEvent;
use serde_json::{Value, json};
use support::phone::Phone;
use support::*;

const BOB: &str = "bob@ccc-emulator";
const SALES: &str = r#"["sales@ccc-emulator"]"#;

/// The digits the customer's leg of the one live call has received.
async fn customer_got(info: &ccc_emulator::EmulatorInfo) -> String {
    let (_, calls) = admin(info, "GET", "/calls", Value::Null).await;
    calls[0]["legs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| !l["heard_file"].is_null())
        .and_then(|l| l["dtmf_received"].as_str())
        .unwrap_or_default()
        .to_owned()
}

async fn wait_customer_got(info: &ccc_emulator::EmulatorInfo, want: &str) {
    let t0 = Instant::now();
    let mut got = customer_got(info).await;
    while got != want && t0.elapsed() < WAIT {
        tokio::time::sleep(Duration::from_millis(20)).await;
        got = customer_got(info).await;
    }
    assert_eq!(got, want, "the digits the customer's leg received");
}

#[tokio::test]
async fn dtmf_crosses_between_the_customer_and_the_agents_phone_both_ways() {
    let emu = start().await;
    let info = emu.info().clone();
    let mut phone = Phone::register(&info, "8002", "pass-8002").await;
    let mut api = Api::new(&info);
    api.v2020(
        "SignInGroup",
        &[
            ("UserId", BOB),
            ("DeviceId", &phone.device),
            ("SignedSkillGroupIdList", SALES),
        ],
    )
    .await;
    api.v2020("ReadyForService", &[("UserId", BOB)]).await;
    admin(
        &info,
        "POST",
        "/calls",
        json!({
            "caller": "13800000009",
            "callee": "02150000001",
            "script": {"dtmf": "12#", "dtmf_after_ms": 300},
        }),
    )
    .await;
    let mut call = phone.answer(1_000.0).await;

    // The customer's script: its digits arrive at the phone as telephone-events.
    let mut digits = String::new();
    let t0 = Instant::now();
    while digits.len() < 3 && t0.elapsed() < WAIT {
        match tokio::time::timeout(WAIT, call.events.recv()).await {
            Ok(Some(MediaEvent::Dtmf { digit })) => digits.push(digit),
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    assert_eq!(digits, "12#", "the phone heard the customer's digits");

    // The phone's digits: RFC 4733 in its media, then a SIP INFO.
    call.session.send_dtmf("4*").await.expect("DTMF queued");
    wait_customer_got(&info, "4*").await;
    assert!(
        phone
            .client
            .send_info(
                call.call,
                "application/dtmf-relay",
                b"Signal=9\r\nDuration=160\r\n".to_vec()
            )
            .await
    );
    wait_customer_got(&info, "4*9").await;
    emu.shutdown().await;
}
