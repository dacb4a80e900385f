//! Calls against the emulator: outbound with the caller rules, H25, number checks,
//! DTMF, mute, volume, auto-answer, the ring timeout, answering on mobile, outbound
//! only, reset, redial.

mod common;

use std::time::Duration;

use ccc_core::ErrorCode;
use ccc_workbench::{CallRequest, Dial, Error, Event, Status};
use common::{Rig, build};

const ALICE: &str = "alice@ccc-emulator";

#[tokio::test]
async fn outbound_call_dials_connects_sends_dtmf_and_hangs_up() {
    let rig = Rig::start().await;
    let (wb, rec) = rig
        .ready_agent(
            ALICE,
            rig.config().after_call_rule_manual().build().unwrap(),
        )
        .await;
    let dialed = wb.call("13800000001").await.expect("call");
    assert_eq!(
        dialed.caller, "02150000001",
        "'' is the first number of the groups"
    );
    assert!(dialed.job_id.is_some());
    let dialing = rec
        .wait_for("onCallDialing", |e| matches!(e, Event::CallDialing(_)))
        .await;
    let Event::CallDialing(d) = dialing else {
        unreachable!()
    };
    assert_eq!(d.callee.as_deref(), Some("13800000001"));
    assert_eq!(d.contact_id.as_deref(), dialed.job_id.as_deref());
    // K8: only hangUp while dialing.
    assert!(matches!(wb.send_dtmf("1").await, Err(Error::NotAllowed(_))));
    rec.wait_status(Status::OutboundCall).await;
    wb.send_dtmf("12#").await.expect("dtmf");
    assert!(matches!(
        wb.send_dtmf("12a").await,
        Err(Error::Input {
            method: "sendDtmf",
            ..
        })
    ));
    let job = dialed.job_id.clone().unwrap();
    let heard: String = rig
        .calls()
        .into_iter()
        .find(|c| *c.job_id == *job)
        .map(|c| c.legs.iter().map(|l| l.dtmf_received.to_string()).collect())
        .unwrap_or_default();
    assert_eq!(heard, "12#", "the customer's leg got the digits");
    assert!(wb.toggle_mute_in_call().await.unwrap());
    assert!(!wb.toggle_mute_in_call().await.unwrap());
    // The platform was told too, for the agent's own leg.
    let mute = rig.tap.sent_of("MuteCall");
    let unmute = rig.tap.sent_of("UnmuteCall");
    assert_eq!((mute.len(), unmute.len()), (1, 1));
    assert_eq!(mute[0].get("JobId"), Some(&*job));
    assert!(mute[0].get("ChannelId").is_some_and(|c| c.contains("8001")));
    wb.change_volume_in_call(0.5).await.unwrap();
    assert!(matches!(
        wb.change_volume_in_call(1.5).await,
        Err(Error::Input { .. })
    ));
    wb.hang_up().await.unwrap();
    rec.wait_status(Status::AfterCallWork).await;
    assert_eq!(rec.statuses(), vec![8, 10, 5]);
    let hang_up = rec
        .wait_for("onHangUp", |e| matches!(e, Event::HangUp { .. }))
        .await;
    assert!(matches!(hang_up, Event::HangUp { kind } if kind.as_str() == "outbound"));
    // afterCallRule "manual": stays in 5 until ready.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(wb.status_code().await.code, Status::AfterCallWork);
    wb.redial().await.expect("redial from after-call work (K5)");
    rec.wait_status(Status::OutboundCall).await;
    wb.hang_up().await.unwrap();
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn caller_auto_explicit_and_out_of_range() {
    let rig = Rig::start().await;
    let (wb, rec) = rig
        .ready_agent(
            ALICE,
            rig.config().after_call_rule_seconds(0).build().unwrap(),
        )
        .await;
    // 1381000xxxx is a Beijing number: 'auto' picks the agent's Beijing number.
    let dialed = wb
        .call(CallRequest::new("13810000001").caller("auto"))
        .await
        .expect("call");
    assert_eq!(dialed.caller, "01050000002");
    wb.hang_up().await.unwrap();
    rec.wait_status(Status::Ready).await;
    let explicit = wb
        .call(CallRequest::new("13800000001").caller("057150000003"))
        .await
        .unwrap();
    assert_eq!(explicit.caller, "057150000003");
    wb.hang_up().await.unwrap();
    rec.wait_status(Status::AfterCallWork).await;
    rec.wait_for("ready again", |_| true).await;
    let err = wb
        .call(CallRequest::new("13800000001").caller("099999"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Input { method: "call", .. }), "{err}");
    let notify = rec
        .wait_for("onErrorNotify", |e| matches!(e, Event::ErrorNotify(_)))
        .await;
    let Event::ErrorNotify(n) = notify else {
        unreachable!()
    };
    assert_eq!(n.code, ErrorCode::CallerOutOfRange);
    let err = wb.call("  ").await.unwrap_err();
    assert!(err.to_string().contains("no number to call"), "{err}");
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn before_call_dialing_prefixes_declines_and_times_out() {
    let rig = Rig::start().await;
    let config = rig.config().after_call_rule_seconds(0).build().unwrap();
    let builder = rig.builder(ALICE, config).before_call_dialing_within(
        Duration::from_millis(300),
        |p| async move {
            match p.callee.as_str() {
                "3800000001" => Dial::ProceedWith(format!("1{}", p.callee)),
                "13800000005" => Dial::Decline,
                "13800000006" => std::future::pending().await,
                _ => Dial::Proceed,
            }
        },
    );
    let (wb, rec) = build(builder).await;
    wb.register(None, "default").await.unwrap();
    let dialed = wb.call("3800000001").await.expect("the hook prefixes");
    assert_eq!(dialed.callee, "13800000001");
    let called: Vec<String> = rig.calls().iter().map(|c| c.called.to_string()).collect();
    assert!(called.contains(&"13800000001".to_owned()), "{called:?}");
    wb.hang_up().await.unwrap();
    rec.wait_status(Status::AfterCallWork).await;
    rec.wait_for("ready", |e| matches!(e, Event::Ready { .. }))
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(matches!(
        wb.call("13800000005").await,
        Err(Error::DialDeclined)
    ));
    assert!(matches!(
        wb.call("13800000006").await,
        Err(Error::HookTimedOut(_))
    ));
    assert_eq!(
        wb.status_code().await.code,
        Status::Ready,
        "nothing was dialed"
    );
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_number_the_platform_refuses_is_not_dialed() {
    let rig = Rig::start().await;
    let (wb, rec) = rig.ready_agent(ALICE, rig.config().build().unwrap()).await;
    // CheckNumberAvaliable refuses callees shorter than three digits.
    let err = wb.call("12").await.unwrap_err();
    let notify = err.notify().expect("an operation error").clone();
    assert_eq!(notify.api.as_ref(), "CheckNumberAvaliable");
    rec.wait_for("onErrorNotify", |e| matches!(e, Event::ErrorNotify(_)))
        .await;
    assert!(rig.calls().is_empty());
    assert_eq!(wb.status_code().await.code, Status::Ready);
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn auto_answer_answers_after_its_seconds() {
    let rig = Rig::start().await;
    let config = rig.config().auto_answer_call_seconds(1).build().unwrap();
    let (wb, rec) = rig.ready_agent(ALICE, config).await;
    rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    rec.wait_status(Status::InboundCall).await;
    assert_eq!(rec.statuses(), vec![6, 9]);
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn ringing_unanswered_puts_the_agent_on_break() {
    // The platform's ring timeout (the guide's 30 s, shortened here) acts first.
    let rig = Rig::with(|s| s.platform.ring_timeout_ms = 600).await;
    let (wb, rec) = rig.ready_agent(ALICE, rig.config().build().unwrap()).await;
    rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    rec.wait_status(Status::Break).await;
    let hang = rec
        .wait_for("onHangUp", |e| matches!(e, Event::HangUp { .. }))
        .await;
    assert!(matches!(hang, Event::HangUp { kind } if kind.as_str() == "ringing"));
    let brk = rec
        .wait_for("onBreak", |e| matches!(e, Event::Break { .. }))
        .await;
    assert!(
        matches!(&brk, Event::Break { code: Some(c) } if &**c == "RingingTimeout"),
        "{brk:?}"
    );
    assert_eq!(rec.statuses(), vec![6, 4]);
    assert!(
        rig.calls().iter().all(|c| c.queued),
        "the call went back to its queue"
    );
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_workbench_ring_timeout_backs_up_the_platform() {
    // A platform that lets a call ring longer than the workbench allows.
    let rig = Rig::with(|s| s.platform.ring_timeout_ms = 60_000).await;
    let config = rig
        .config()
        .ring_timeout(Duration::from_millis(600))
        .build()
        .unwrap();
    let (wb, rec) = rig.ready_agent(ALICE, config).await;
    rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    rec.wait_status(Status::Break).await;
    // Without a SIP device the offer is released through the platform first, which
    // shows ready for a moment before the break.
    let statuses = rec.statuses();
    assert_eq!(statuses.first(), Some(&6), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&4), "{statuses:?}");
    assert!(
        rig.calls().iter().all(|c| c.queued),
        "the call went back to its queue"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let code = rig.emulator.with_platform(|p, _| {
        p.agents()
            .into_iter()
            .find(|a| &*a.user_id == ALICE)
            .and_then(|a| a.break_code)
    });
    assert_eq!(code.as_deref(), Some("RingingTimeout"));
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn answering_on_mobile_and_back() {
    let rig = Rig::start().await;
    let (wb, rec) = rig.ready_agent(ALICE, rig.config().build().unwrap()).await;
    wb.offline("13900008001", None).await.expect("offline");
    let ready = rec
        .wait_for("onReady('offline')", |e| {
            matches!(e, Event::Ready { kind } if *kind == ccc_workbench::event::ReadyKind::Offline)
        })
        .await;
    assert!(matches!(ready, Event::Ready { .. }));
    assert_eq!(wb.status_code().await.code, Status::Ready);
    assert_eq!(
        rig.emulator
            .with_platform(|p, _| p.snapshot(ALICE))
            .and_then(|s| s.user_context)
            .and_then(|u| u.work_mode)
            .map(|m| m.as_str().to_owned())
            .as_deref(),
        Some("OFF_SITE")
    );
    // Off-site answering: a customer's call rings the agent's mobile, which answers
    // (the platform's simulated line); this device gets no INVITE.
    rec.clear();
    let job = rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    rec.wait_status(Status::InboundCall).await;
    assert!(!rec.hooks().contains(&"mediaConnected"));
    assert_eq!(rec.statuses(), vec![6, 9], "answered on the mobile");
    rig.customer_hangs_up(&job);
    rec.wait_status(Status::AfterCallWork).await;
    wb.ready().await.unwrap();
    wb.online().await.expect("online");
    assert_eq!(
        rig.emulator
            .with_platform(|p, _| p.snapshot(ALICE))
            .and_then(|s| s.user_context)
            .and_then(|u| u.work_mode)
            .map(|m| m.as_str().to_owned())
            .as_deref(),
        Some("ON_SITE")
    );
    assert!(matches!(
        wb.offline(" ", None).await,
        Err(Error::Input { .. })
    ));
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn outbound_only_takes_no_inbound_calls() {
    let rig = Rig::start().await;
    let (wb, rec) = rig.ready_agent(ALICE, rig.config().build().unwrap()).await;
    wb.apply_for_call_only(true).await.unwrap();
    rig.call_in("13800000009", "02150000001");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!rec.statuses().contains(&6), "{:?}", rec.statuses());
    assert!(
        rig.calls().iter().all(|c| c.queued),
        "the call waits in the queue"
    );
    // Dialing still works.
    wb.call("13800000001").await.unwrap();
    wb.hang_up().await.unwrap();
    rec.wait_status(Status::AfterCallWork).await;
    // Ready again after the call: still outbound only.
    wb.ready().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!rec.statuses().contains(&6), "{:?}", rec.statuses());
    // Back to taking calls: the one that waited rings now.
    wb.apply_for_call_only(false).await.unwrap();
    rec.wait_status(Status::Ringing).await;
    let sent = rig.tap.sent_of("ReadyForService");
    let scenarios: Vec<Option<&str>> = sent.iter().map(|s| s.get("OutboundScenario")).collect();
    assert!(scenarios.contains(&Some("true")), "{scenarios:?}");
    assert!(scenarios.contains(&Some("false")), "{scenarios:?}");
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn reset_user_status_out_of_a_call() {
    let rig = Rig::start().await;
    let (wb, rec) = rig.ready_agent(ALICE, rig.config().build().unwrap()).await;
    rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    wb.answer().await.unwrap();
    wb.reset_user_status().await.expect("reset");
    assert_eq!(wb.status_code().await.code, Status::Ready);
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn calls_back_to_back_faster_than_the_phone_hears_of_them() {
    // The agent acts the moment the status shows each call, before (or while) the
    // platform's INVITE reaches its phone; a leg of a call that is over must never keep
    // the next call out (no 486, no break).
    let rig = Rig::start().await;
    let config = rig.config().after_call_rule_seconds(0).build().unwrap();
    let (wb, rec) = rig.ready_agent(ALICE, config).await;
    for _ in 0..4 {
        rig.call_in("13800000009", "02150000001");
        rec.wait_status(Status::Ringing).await;
        wb.answer().await.expect("answer");
        wb.hang_up().await.expect("hang up the inbound call");
        rec.wait_status(Status::Ready).await;
        wb.call("13800000001").await.expect("call");
        wb.hang_up().await.expect("hang up while dialing");
        rec.wait_status(Status::Ready).await;
    }
    assert_eq!(rec.statuses(), [6, 9, 5, 3, 8, 5, 3].repeat(4));
    assert!(
        !rec.hooks().contains(&"onErrorNotify"),
        "{:?}",
        rec.events()
    );
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_dialer_calls_again_the_moment_a_call_ends() {
    // A dialer's loop: each call connected, hung up, and the next dialed at once from
    // after-call work (K: call is allowed in 5), with no pause for the old leg to go.
    let rig = Rig::start().await;
    let config = rig.config().after_call_rule_manual().build().unwrap();
    let (wb, rec) = rig.ready_agent(ALICE, config).await;
    for _ in 0..4 {
        wb.call("13800000001").await.expect("call");
        rec.wait_status(Status::OutboundCall).await;
        wb.hang_up().await.expect("hang up the connected call");
        rec.wait_status(Status::AfterCallWork).await;
    }
    assert_eq!(rec.statuses(), [8, 10, 5].repeat(4));
    assert!(
        !rec.hooks().contains(&"onErrorNotify"),
        "{:?}",
        rec.events()
    );
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_encrypted_callee_is_dialed_as_given_and_never_looked_up() {
    let rig = Rig::start().await;
    let config = rig.config().after_call_rule_seconds(0).build().unwrap();
    let (wb, rec) = rig.ready_agent(ALICE, config).await;
    // The integrator's backend encrypts the number (the platform's `Encrypt`, the
    // guide's EncryptRequest); the workbench gets only the ciphertext and the key.
    let encrypted = rig
        .client()
        .send(ccc_openapi::v2017::Encrypt::new(["13800000001"]))
        .await
        .unwrap();
    let key = encrypted.public_key.clone().unwrap();
    let cipher = encrypted.cypher_contents[0].cypher_text.clone().unwrap();
    let before = rig.tap.count();
    let dialed = wb
        .call(
            CallRequest::new(cipher.clone())
                .caller("auto")
                .public_key(key),
        )
        .await
        .expect("call with an encrypted callee");
    assert_eq!(dialed.callee, cipher);
    rec.wait_status(Status::Dialing).await;
    let sent = rig.tap.actions_after(before);
    // Nothing can read a ciphertext: no number check, no region lookup ('auto' falls
    // back to a number of the agent's).
    for action in [
        "CheckNumberAvaliable",
        "GetNumberRegionInfo",
        "PickGlobalOutboundNumbers",
    ] {
        assert!(!sent.iter().any(|a| a == action), "{action} in {sent:?}");
    }
    let make = rig.tap.sent_of("MakeCall");
    let make = make.last().unwrap();
    assert_eq!(make.get("Callee"), Some(cipher.as_str()));
    assert_eq!(make.get("MaskedCallee"), Some("****"));
    // The platform reads the ciphertext and dials the number behind it.
    let called: Vec<String> = rig.calls().iter().map(|c| c.called.to_string()).collect();
    assert_eq!(called, vec!["13800000001".to_owned()]);
    wb.hang_up().await.unwrap();
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_virtual_number_call_binds_the_numbers_and_names_the_contact() {
    let rig = Rig::start().await;
    // The emulator's numbers have no virtual number bound: this one gets one here,
    // as CCC lists it (`PrivacyNumber` of the agent's outbound number).
    rig.tap.rewrite("ListOutboundPhoneNumberOfUser", |answer| {
        if let Some(first) = answer["OutboundPhoneNumbers"]["PhoneNumber"].get_mut(0) {
            first["PrivacyNumber"] = serde_json::json!({
                "TelX": "17100000001", "PhoneNumber": "17100000001", "Type": "AXB"
            });
        }
    });
    let config = rig.config().after_call_rule_seconds(0).build().unwrap();
    let (wb, rec) = rig.ready_agent(ALICE, config).await;
    let numbers = wb.outbound_numbers().await.unwrap();
    let bound = numbers[0].number.clone().unwrap();
    // Without useVirNumCall the caller's own number calls the callee directly.
    wb.call(CallRequest::new("13800000001").caller(bound.clone()))
        .await
        .unwrap();
    assert!(rig.tap.sent_of("CallOnlinePrivacyNumber").is_empty());
    wb.hang_up().await.unwrap();
    rec.wait_status(Status::Ready).await;
    // With it: A (the caller) and B (the callee) bound through X, the call goes to X,
    // and the privacy call's record names the contact.
    let dialed = wb
        .call(
            CallRequest::new("13800000001")
                .caller(bound.clone())
                .use_vir_num_call(true),
        )
        .await
        .expect("call through the virtual number");
    let bind = rig.tap.sent_of("CallOnlinePrivacyNumber");
    assert_eq!(bind.len(), 1);
    assert_eq!(bind[0].get("TelA"), Some(bound.as_str()));
    assert_eq!(bind[0].get("TelB"), Some("13800000001"));
    let x = dialed.virtual_number.clone().expect("the virtual number");
    let make = rig.tap.sent_of("MakeCall");
    assert_eq!(make.last().unwrap().get("Callee"), Some(x.as_str()));
    let job = dialed.job_id.clone().unwrap();
    let detail = rig.tap.sent_of("ModifyPrivacyNumberCallDetail");
    assert_eq!(detail.len(), 1);
    assert_eq!(detail[0].get("ContactId"), Some(&*job));
    assert!(
        detail[0]
            .get("CallId")
            .is_some_and(|c| c.starts_with("privacy-"))
    );
    assert!(
        !rec.hooks().contains(&"onErrorNotify"),
        "{:?}",
        rec.events()
    );
    wb.hang_up().await.unwrap();
    wb.shutdown().await.unwrap();
}
