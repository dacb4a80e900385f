//! The panel's data and the status-independent methods against the emulator: the call
//! log (A3), recordings (M18), SMS (M21, M22), agents and states (A12, A13), "my work"
//! (A15), the device record (A22-A24), the environment and network checks (M19, M20),
//! and the access points (M33, M34) against a real coturn.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ccc_workbench::{Error, Status};
use common::{Rig, WAIT};

const ALICE: &str = "alice@ccc-emulator";

/// Alice registered, one inbound call answered and hung up; its contact id.
async fn one_call(rig: &Rig) -> (ccc_workbench::Workbench, common::Recorder, String) {
    let config = rig.config().after_call_rule_seconds(0).build().unwrap();
    let (wb, rec) = rig.ready_agent(ALICE, config).await;
    let job = rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    wb.answer().await.unwrap();
    wb.hang_up().await.unwrap();
    rec.wait_status(Status::AfterCallWork).await;
    (wb, rec, job)
}

#[tokio::test]
async fn the_call_log_totals_on_page_one_only() {
    let rig = Rig::start().await;
    let (wb, _rec, job) = one_call(&rig).await;
    let page = wb.recent_call_records(1, 10).await.expect("call log");
    assert!(
        page.records
            .iter()
            .any(|r| r.contact_id.as_deref() == Some(job.as_str())),
        "the call is in the log"
    );
    assert!(page.total_count.is_some_and(|n| n >= 1));
    let page2 = wb.recent_call_records(2, 10).await.unwrap();
    assert_eq!(
        page2.total_count, None,
        "the guide: totalCount on page 1 only"
    );
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn recordings_of_a_call_with_their_addresses() {
    let rig = Rig::start().await;
    let (wb, _rec, job) = one_call(&rig).await;
    let recordings = wb
        .download_record(&job, true)
        .await
        .expect("downloadRecord");
    assert_eq!(recordings.len(), 1, "{recordings:?}");
    let r = &recordings[0];
    assert!(r.url.contains(&r.file_name), "{}", r.url);
    assert!(r.data.is_none(), "onlyPlay does not fetch");
    assert!(
        wb.download_record("job-none", true)
            .await
            .unwrap()
            .is_empty()
    );
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn sms_survey_and_missed_call_reach_the_customer() {
    let rig = Rig::start().await;
    let (wb, _rec, job) = one_call(&rig).await;
    wb.launch_short_message_appraise()
        .await
        .expect("SMS survey");
    wb.launch_short_message_missed_call()
        .await
        .expect("missed-call SMS");
    let sms = rig.emulator.with_platform(|p, _| {
        p.records()
            .sms
            .iter()
            .map(|m| {
                (
                    m.phone_numbers
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>(),
                    m.contact_id.clone(),
                )
            })
            .collect::<Vec<_>>()
    });
    assert_eq!(sms.len(), 2, "{sms:?}");
    assert!(
        sms.iter()
            .all(|(numbers, _)| numbers == &vec!["13800000009".to_owned()])
    );
    assert!(
        sms.iter()
            .any(|(_, contact)| contact.as_deref() == Some(job.as_str()))
    );
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_sms_before_any_call_is_refused_clearly() {
    let rig = Rig::start().await;
    let (wb, _rec) = rig.ready_agent(ALICE, rig.config().build().unwrap()).await;
    let err = wb.launch_short_message_appraise().await.unwrap_err();
    assert!(matches!(err, Error::Unavailable { .. }), "{err}");
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn agents_states_my_work_and_devices() {
    let rig = Rig::start().await;
    let (wb, _rec, _job) = one_call(&rig).await;
    let agents = wb.real_time_agents().await.expect("ListRealTimeAgent");
    assert!(agents.iter().any(|a| a.dn.as_deref() == Some("8001")));
    let states = wb.agent_states(1, 50).await.expect("ListAgentStates");
    assert!(states.list.iter().any(|a| a.dn.as_deref() == Some("8001")));
    let groups = wb.skill_groups().await.unwrap();
    assert_eq!(groups.len(), 2);
    let numbers = wb.outbound_numbers().await.unwrap();
    assert!(!numbers.is_empty());
    let report = wb
        .my_work_report()
        .await
        .expect("GenerateAgentStatisticReport");
    let json = serde_json::to_string(&report).unwrap();
    assert!(json.contains("alice") || json.contains("Alice"), "{json}");
    // A22: the device record was saved at sign-in, with this end's address.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let devices = wb.agent_devices().await.expect("ListAgentDevices");
        if devices
            .iter()
            .any(|d| d.client_ip.as_deref() == Some("127.0.0.1"))
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no device record: {devices:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn environment_and_network_checks() {
    let rig = Rig::start().await;
    let (wb, _rec) = rig.ready_agent(ALICE, rig.config().build().unwrap()).await;
    let env = wb.check_environment().await;
    assert!(env.is_compatible(), "{:?}", env.problems);
    let report = wb.check_network().await.expect("checkNetwork");
    assert!(
        report.service_reachable(ccc_media::check::Service::AgentLink),
        "{report:?}"
    );
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn access_points_are_timed_and_switched_against_coturn() {
    use ccc_testpeers::{Coturn, TurnAuth};
    let auth = TurnAuth::Static {
        user: "agent".into(),
        password: "turn-secret".into(),
    };
    let Some(coturn) = Coturn::start(auth, "ccc.test").expect("coturn starts") else {
        return;
    };
    let url = coturn.turn_url();
    let region: ccc_emulator::scenario::TurnRegion = serde_json::from_value(serde_json::json!({
        "region": "cn-hangzhou",
        "urls": [url],
        "username": "agent",
        "password": "turn-secret",
    }))
    .unwrap();
    let rig = Rig::with(|s| s.turn_regions = vec![region]).await;
    let (wb, _rec) = rig.ready_agent(ALICE, rig.config().build().unwrap()).await;
    let reports = wb
        .test_turn_servers(None, Some(3))
        .await
        .expect("testTurnServers");
    assert_eq!(reports.len(), 1);
    let best = reports[0].best().expect("the relay answered");
    assert_eq!(best.successes, 3, "{best:?}");
    assert!(best.median_to_relay().is_some());
    assert!(matches!(
        wb.test_turn_servers(Some("cn-nowhere"), None).await,
        Err(Error::Unavailable { .. })
    ));
    wb.switch_access_point("cn-hangzhou").await.unwrap();
    assert_eq!(wb.access_point(), "cn-hangzhou");
    assert!(wb.switch_access_point("cn-nowhere").await.is_err());
    wb.shutdown().await.unwrap();
}

/// One form the upload address received: its text fields, and the file's name and bytes.
#[derive(Debug, Clone, Default)]
struct Upload {
    fields: Vec<(String, String)>,
    file_name: Option<String>,
    file: Vec<u8>,
}

impl Upload {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The parts of a `multipart/form-data` body (written here: the test needs only to
/// read what the workbench sent).
fn parse_form(content_type: &str, body: &[u8]) -> Upload {
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .expect("a boundary")
        .trim_matches('"');
    let delimiter = format!("--{boundary}");
    let text = body;
    let mut upload = Upload::default();
    let mut rest = text;
    while let Some(start) = find(rest, delimiter.as_bytes()) {
        rest = &rest[start + delimiter.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        let rest_part = rest.strip_prefix(b"\r\n").unwrap_or(rest);
        let Some(head_end) = find(rest_part, b"\r\n\r\n") else {
            break;
        };
        let head = String::from_utf8_lossy(&rest_part[..head_end]).into_owned();
        let content = &rest_part[head_end + 4..];
        let end = find(content, format!("\r\n{delimiter}").as_bytes()).unwrap_or(content.len());
        let value = &content[..end];
        let attr = |name: &str| {
            head.split(';')
                .find_map(|p| p.trim().strip_prefix(&format!("{name}=\"")))
                .and_then(|v| v.split('"').next())
                .map(str::to_owned)
        };
        let name = attr("name").unwrap_or_default();
        if let Some(file_name) = attr("filename") {
            upload.file_name = Some(file_name);
            upload.file = value.to_vec();
        } else {
            upload
                .fields
                .push((name, String::from_utf8_lossy(value).into_owned()));
        }
        rest = &content[end..];
    }
    upload
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// An object-store stand-in on 127.0.0.1 that answers every form with `status`.
async fn upload_server(status: u16) -> (String, Arc<Mutex<Vec<Upload>>>) {
    use axum::http::{HeaderMap, StatusCode};
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = Arc::clone(&got);
    let app = axum::Router::new().route(
        "/oss",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let g = Arc::clone(&g);
            async move {
                let content_type = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                g.lock().unwrap().push(parse_form(&content_type, &body));
                StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/oss", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, got)
}

/// A recorded call (C12) through one upload address; the directory of its recordings.
async fn recorded_call(
    rig: &Rig,
    upload_url: Option<String>,
) -> (
    ccc_workbench::Workbench,
    std::path::PathBuf,
    common::Recorder,
) {
    // With an address, the test's server stands in for the object store the
    // emulator's answer names.
    if let Some(upload_url) = upload_url {
        rig.tap.rewrite("GetRecordOssUploadParam", move |answer| {
            answer["Host"] = upload_url.clone().into();
        });
    }
    let dir = rig.dir.path().join("recordings");
    let config = rig
        .config()
        .enable_record(true)
        .after_call_rule_manual()
        .build()
        .unwrap();
    let (wb, rec) = common::build(rig.builder(ALICE, config).record_dir(&dir)).await;
    wb.register(None, "default").await.unwrap();
    rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    wb.answer().await.unwrap();
    rec.wait_for("mediaConnected", |e| {
        matches!(e, ccc_workbench::Event::MediaConnected { .. })
    })
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    wb.hang_up().await.unwrap();
    rec.wait_status(Status::AfterCallWork).await;
    (wb, dir, rec)
}

fn files_in(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_emulators_object_store_takes_the_agent_side_recording() {
    // The emulator's OSS-style endpoint checks the form against the policy it signed
    // (key under Dir, size, expiry, signature): a wrong form would be refused.
    let rig = Rig::start().await;
    let (wb, dir, rec) = recorded_call(&rig, None).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    let upload = loop {
        let records = rig.admin_get("/records").await;
        if let Some(u) = records["uploads"]
            .as_array()
            .and_then(|u| u.first())
            .cloned()
        {
            break u;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no upload: {:?}",
            rec.events()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let key = upload["key"].as_str().unwrap();
    assert!(key.starts_with(&format!("uploads/{ALICE}/")), "{key}");
    assert!(key.ends_with(".wav"), "{key}");
    let stored = std::fs::read(upload["path"].as_str().unwrap()).unwrap();
    assert_eq!(&stored[..4], b"RIFF");
    assert_eq!(
        u64::try_from(stored.len()).unwrap(),
        upload["size"].as_u64().unwrap()
    );
    assert!(stored.len() > 4_000, "{} bytes", stored.len());
    common::wait_until("the local copy removed", || files_in(&dir).is_empty()).await;
    assert!(
        !rec.events().iter().any(
            |e| matches!(e, ccc_workbench::Event::ErrorNotify(n) if &*n.api == "enableRecord")
        ),
        "{:?}",
        rec.events()
    );
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn agent_side_recordings_are_uploaded_where_get_record_oss_upload_param_says() {
    let rig = Rig::start().await;
    let (url, got) = upload_server(200).await;
    let (wb, dir, _rec) = recorded_call(&rig, Some(url)).await;
    common::wait_until("the upload", || !got.lock().unwrap().is_empty()).await;
    let upload = got.lock().unwrap()[0].clone();
    let file_name = upload.file_name.clone().expect("a file part");
    assert!(file_name.ends_with(".wav"), "{file_name}");
    assert!(
        file_name.contains("8001"),
        "named by the extension: {file_name}"
    );
    // The form is the one GetRecordOssUploadParam asked for: key = Dir + name.
    let asked = rig.tap.sent_of("GetRecordOssUploadParam");
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].get("FileName"), Some(file_name.as_str()));
    assert_eq!(
        upload.field("key"),
        Some(format!("uploads/{ALICE}/{file_name}").as_str())
    );
    assert_eq!(upload.field("OSSAccessKeyId"), Some("emulator-oss"));
    assert!(upload.field("policy").is_some_and(|p| !p.is_empty()));
    assert!(upload.field("Signature").is_some_and(|p| !p.is_empty()));
    assert_eq!(upload.field("success_action_status"), Some("200"));
    // A WAV of the call, stereo at 16 kHz: well beyond its header after 0.4 s.
    assert_eq!(&upload.file[..4], b"RIFF");
    assert!(upload.file.len() > 4_000, "{} bytes", upload.file.len());
    // Uploaded, the local copy is gone.
    common::wait_until("the local copy removed", || files_in(&dir).is_empty()).await;
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_refused_upload_keeps_the_recording_and_says_where() {
    let rig = Rig::start().await;
    let (url, got) = upload_server(403).await;
    let (wb, dir, rec) = recorded_call(&rig, Some(url)).await;
    let notify = rec
        .wait_for(
            "onErrorNotify(enableRecord)",
            |e| matches!(e, ccc_workbench::Event::ErrorNotify(n) if &*n.api == "enableRecord"),
        )
        .await;
    assert_eq!(got.lock().unwrap().len(), 1, "one attempt");
    let ccc_workbench::Event::ErrorNotify(n) = notify else {
        unreachable!()
    };
    assert!(n.msg.contains("HTTP 403"), "{n:?}");
    let kept = files_in(&dir);
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(n.msg.contains(&*kept[0].to_string_lossy()), "{n:?}");
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_recording_that_cannot_be_written_does_not_cost_the_call() {
    let rig = Rig::start().await;
    let blocker = rig.dir.path().join("a-file");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let config = rig
        .config()
        .enable_record(true)
        .after_call_rule_manual()
        .build()
        .unwrap();
    let builder = rig.builder(ALICE, config).record_dir(blocker.join("rec"));
    let (wb, rec) = common::build(builder).await;
    wb.register(None, "default").await.unwrap();
    rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    wb.answer().await.expect("answered without a recording");
    rec.wait_for("onErrorNotify(enableRecord)", |e| {
        matches!(e, ccc_workbench::Event::ErrorNotify(n) if &*n.api == "enableRecord"
            && n.msg.contains("not recorded"))
    })
    .await;
    rec.wait_for("mediaConnected", |e| {
        matches!(e, ccc_workbench::Event::MediaConnected { .. })
    })
    .await;
    wb.hang_up().await.unwrap();
    rec.wait_status(Status::AfterCallWork).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(rig.tap.sent_of("GetRecordOssUploadParam").is_empty());
    wb.shutdown().await.unwrap();
}
