//! The OpenAPI over HTTP: signed and proxied requests, answer shapes, errors.

mod support;

use ccc_openapi::Credentials;
use serde_json::json;
use support::*;

const BOB: &str = "bob@ccc-emulator";

#[tokio::test]
async fn signed_2017_answers_have_cccs_shape() {
    let emu = start().await;
    let mut api = Api::new(emu.info());
    let login = api
        .ok("2017-07-05", "RequestLoginInfo", &[("UserId", BOB)])
        .await;
    assert_eq!(login["Success"], true);
    assert_eq!(login["Code"], "OK");
    assert_eq!(login["HttpStatusCode"], 200);
    assert!(login["RequestId"].as_str().unwrap().len() == 36);
    let info = &login["LoginInfo"];
    assert_eq!(info["Extension"], "8002");
    assert_eq!(info["AgentServerUrl"], emu.info().agent_server_url);
    assert_eq!(info["Roles"]["Role"][0]["RoleId"], "Agent");
    assert!(
        info["SignData"]
            .as_str()
            .unwrap()
            .starts_with("bob@ccc-emulator:8002:")
    );

    let groups = api
        .ok("2017-07-05", "ListSkillGroupsOfUser", &[("UserId", BOB)])
        .await;
    let level = &groups["SkillLevels"]["SkillLevel"][0];
    assert_eq!(level["Level"], 8);
    assert_eq!(level["Skill"]["SkillGroupId"], "sales@ccc-emulator");
    assert_eq!(
        level["Skill"]["OutboundPhoneNumbers"]["PhoneNumber"][0]["Number"],
        "02150000001"
    );

    let numbers = api
        .ok(
            "2017-07-05",
            "ListOutboundPhoneNumberOfUser",
            &[("UserId", BOB)],
        )
        .await;
    assert_eq!(
        numbers["NumberList"]["Number"],
        json!(["02150000001", "01050000002"])
    );

    let config = api
        .ok(
            "2017-07-05",
            "ListConfig",
            &[("ConfigItem.1", "AutoAnswer")],
        )
        .await;
    assert_eq!(
        config["ConfigItems"]["ConfigItem"],
        json!([{"Name": "AutoAnswer", "Value": "false"}])
    );

    let empty = api
        .ok(
            "2017-07-05",
            "GetServiceExtensions",
            &[("ServiceType", "Nothing")],
        )
        .await;
    assert_eq!(
        empty["ServiceExtensions"],
        json!({"ServiceExtension": []}),
        "empty lists stay wrapped"
    );

    let pick = api
        .ok(
            "2017-07-05",
            "PickGlobalOutboundNumbers",
            &[
                ("CalleeNumber", "13810001234"),
                ("SkillGroupId.1", "sales@ccc-emulator"),
            ],
        )
        .await;
    assert_eq!(
        pick["DialNumberPairs"]["DialNumberPair"][0]["Caller"]["Number"], "01050000002",
        "the Beijing number for a Beijing callee"
    );
    let region = api
        .ok(
            "2017-07-05",
            "GetNumberRegionInfo",
            &[("Number", "13820001234")],
        )
        .await;
    assert_eq!(
        region["PhoneNumber"],
        json!({"City": "Hangzhou", "Number": "13820001234", "Province": "Zhejiang"})
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn a_wrong_signature_gets_cccs_error_json() {
    let emu = start().await;
    let mut bad = Api::with(
        emu.info(),
        Credentials::new(emu.info().access_key_id.clone(), "wrong-secret"),
    );
    let (status, body) = bad
        .call("2017-07-05", "RequestLoginInfo", &[("UserId", BOB)])
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["Code"], "SignatureDoesNotMatch");
    let message = body["Message"].as_str().unwrap();
    assert!(message.starts_with("Specified signature is not matched with our calculation. server string to sign is:POST&%2F&AccessKeyId%3D"), "{message}");
    for key in ["RequestId", "HostId", "Recommend"] {
        assert!(body[key].is_string(), "{key} in {body}");
    }
    let mut stranger = Api::with(emu.info(), Credentials::new("LTAInobody", "x"));
    let (status, body) = stranger.call("2017-07-05", "RequestLoginInfo", &[]).await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (404, Some("InvalidAccessKeyId.NotFound"))
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn business_errors_keep_each_versions_shape() {
    let emu = start().await;
    let mut api = Api::new(emu.info());
    let (status, body) = api
        .call("2020-07-01", "ReadyForService", &[("UserId", BOB)])
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["Code"], "InvalidOperation.UserState");
    assert_eq!(body["HttpStatusCode"], 400);
    assert_eq!(body["Params"], json!([]));
    let (status, body) = api
        .call(
            "2017-07-05",
            "ListSkillGroupsOfUser",
            &[("UserId", "nobody@x")],
        )
        .await;
    assert_eq!(
        (status, body["Code"].as_str(), body["Success"].as_bool()),
        (404, Some("NotExists.UserId"), Some(false))
    );
    let (status, body) = api.call("2017-07-05", "ListSkillGroupsOfUser", &[]).await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("Parameter.Blank"))
    );
    let (status, body) = api.call("2020-07-01", "NoSuchAction", &[]).await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (404, Some("InvalidAction.NotFound"))
    );
    api.instance = "other".into();
    let (status, body) = api
        .call("2020-07-01", "PollUserStatus", &[("UserId", BOB)])
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (404, Some("NotExists.InstanceId"))
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn agent_control_answers_carry_the_contexts() {
    let emu = start().await;
    let mut api = Api::new(emu.info());
    let data = api
        .v2020(
            "SignInGroup",
            &[
                ("UserId", BOB),
                ("DeviceId", "d1"),
                ("SignedSkillGroupIdList", r#"["sales@ccc-emulator"]"#),
            ],
        )
        .await;
    assert_eq!(data["UserState"], "BREAK");
    assert_eq!(data["BreakCode"], "Warm-up");
    assert_eq!(
        data["SignedSkillGroupIdList"],
        json!(["sales@ccc-emulator"])
    );
    api.v2020("ReadyForService", &[("UserId", BOB)]).await;
    let call = api
        .v2020("MakeCall", &[("UserId", BOB), ("Callee", "13800000001")])
        .await;
    assert!(call["ContextId"].as_i64().unwrap() > 0);
    assert_eq!(call["UserContext"]["UserState"], "DIALING");
    assert_eq!(call["CallContext"]["CallType"], "OUTBOUND");
    let polled = api.v2020("PollUserStatus", &[("UserId", BOB)]).await;
    assert!(polled["ContextId"].as_i64() >= call["ContextId"].as_i64());
    assert_eq!(polled["UserContext"]["UserId"], BOB);
    emu.shutdown().await;
}

#[tokio::test]
async fn proxied_requests_in_the_demo_shape_and_the_openapi_shape() {
    let emu = start().await;
    let url = format!("{}?action=ListSkillGroupsOfUser", emu.info().proxy_url);
    let body = format!(
        "request={}",
        ccc_openapi::sign::percent_encode(
            r#"{"instanceId":"ccc-emulator","userId":"bob@ccc-emulator"}"#
        )
    );
    let answer = http(
        "POST",
        &url,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    )
    .await;
    assert_eq!(answer.status, 200);
    let demo = answer.json();
    assert_eq!(demo["success"], true);
    assert_eq!(
        demo["skillLevels"][0]["skill"]["skillGroupId"], "sales@ccc-emulator",
        "{demo}"
    );
    assert_eq!(
        demo["skillLevels"][0]["skill"]["outboundPhoneNumbers"][0]["number"],
        "02150000001"
    );

    let url = format!(
        "{}/CloudCallCenter/SignInGroup?product=CloudCallCenter&version=2020-07-01&region=cn-shanghai",
        emu.info().proxy_url
    );
    let request = r#"{"InstanceId":"ccc-emulator","UserId":"bob@ccc-emulator","DeviceId":"web","SignedSkillGroupIdList":["sales@ccc-emulator"]}"#;
    let body = format!("request={}", ccc_openapi::sign::percent_encode(request));
    let answer = http(
        "POST",
        &url,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    )
    .await;
    let open = answer.json();
    assert_eq!(answer.status, 200, "{open}");
    assert_eq!(open["Data"]["UserState"], "BREAK");
    assert_eq!(
        open["Data"]["SignedSkillGroupIdList"],
        json!(["sales@ccc-emulator"])
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn recent_call_records_count_only_on_page_one() {
    let emu = start().await;
    let mut api = Api::new(emu.info());
    api.v2020(
        "SignInGroup",
        &[
            ("UserId", BOB),
            ("DeviceId", "d1"),
            ("SignedSkillGroupIdList", r#"["sales@ccc-emulator"]"#),
        ],
    )
    .await;
    api.v2020("ReadyForService", &[("UserId", BOB)]).await;
    for _ in 0..3 {
        let (status, placed) = admin(
            emu.info(),
            "POST",
            "/calls",
            json!({"caller": "13800000009", "callee": "02150000001"}),
        )
        .await;
        assert_eq!(status, 201, "{placed}");
        let job = placed["job_id"].as_str().unwrap().to_owned();
        api.v2020("AnswerCall", &[("UserId", BOB), ("JobId", &job)])
            .await;
        api.v2020("ReleaseCall", &[("UserId", BOB), ("JobId", &job)])
            .await;
        api.v2020("ReadyForService", &[("UserId", BOB)]).await;
    }
    let first = api
        .ok(
            "2017-07-05",
            "ListRecentCallRecords",
            &[("PageNumber", "1"), ("PageSize", "2")],
        )
        .await;
    let records = &first["CallDetailRecords"];
    assert_eq!(records["TotalCount"], 3);
    assert_eq!(
        records["List"]["CallDetailRecord"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let record = &records["List"]["CallDetailRecord"][0];
    assert_eq!(record["ContactDisposition"], "Success");
    assert_eq!(record["Agents"]["CallDetailAgent"][0]["AgentId"], BOB);
    let second = api
        .ok(
            "2017-07-05",
            "ListRecentCallRecords",
            &[("PageNumber", "2"), ("PageSize", "2")],
        )
        .await;
    assert!(
        second["CallDetailRecords"].get("TotalCount").is_none(),
        "{second}"
    );
    assert_eq!(
        second["CallDetailRecords"]["List"]["CallDetailRecord"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let detail = api
        .ok(
            "2017-07-05",
            "ListCallDetailRecords",
            &[("PageNumber", "2"), ("PageSize", "2")],
        )
        .await;
    assert_eq!(detail["CallDetailRecords"]["TotalCount"], 3);

    let contact = record["ContactId"].as_str().unwrap().to_owned();
    let recordings = api
        .ok(
            "2017-07-05",
            "ListRecordingsByContactId",
            &[("ContactId", &contact)],
        )
        .await;
    let file = recordings["Recordings"]["Recording"][0]["FileName"]
        .as_str()
        .unwrap()
        .to_owned();
    let link = api
        .ok("2017-07-05", "DownloadRecording", &[("FileName", &file)])
        .await;
    let url = link["MediaDownloadParam"]["SignatureUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.starts_with(&format!("{}recordings/{file}?Expires=", emu.info().api_url)));
    let forged = url.replace("Signature=", "Signature=x");
    assert_eq!(http("GET", &forged, &[], b"").await.status, 403);

    let report = api
        .ok(
            "2017-07-05",
            "GenerateAgentStatisticReport",
            &[
                ("AgentId", BOB),
                ("StartDate", "20000101"),
                ("EndDate", "29991231"),
                ("PageNumber", "1"),
                ("PageSize", "10"),
            ],
        )
        .await;
    let stats = &report["DataList"]["List"]["GenerateAgentStatistic"][0];
    assert_eq!(stats["Inbound"]["CallsOffered"], 3);
    assert_eq!(stats["Inbound"]["CallsHandled"], 3);
    emu.shutdown().await;
}

#[tokio::test]
async fn sms_and_turn() {
    let emu = start().await;
    let mut api = Api::new(emu.info());
    let sms = api
        .ok(
            "2017-07-05",
            "SendPredefinedShortMessage",
            &[
                ("ConfigId", "2"),
                ("PhoneNumbers", "13800000009"),
                ("TemplateParam", r#"{"time":"9"}"#),
            ],
        )
        .await;
    assert!(sms["BizId"].is_string());
    let (_, records) = admin(emu.info(), "GET", "/records", serde_json::Value::Null).await;
    assert_eq!(
        records["sms"][0]["text"],
        "Sorry we missed your call. We will call you back at 9."
    );
    let sms_config = api
        .ok("2017-07-05", "GetSmsConfig", &[("Scenario.1", "1")])
        .await;
    assert_eq!(
        sms_config["SmsConfigs"]["SmsConfig"][0]["TemplateCode"],
        "SMS_100000001"
    );
    let turn = api.ok("2017-07-05", "GetTURNServerList", &[]).await;
    let list: serde_json::Value =
        serde_json::from_str(turn["TurnServerListConfig"].as_str().unwrap()).unwrap();
    assert!(list.is_array());
    emu.shutdown().await;
}

#[tokio::test]
async fn v3_signed_requests_from_ccc_openapis_client() {
    use ccc_openapi::transport::{Direct, SignatureVersion};
    use ccc_openapi::{Client, Error, v2017, v2020};
    let emu = start().await;
    let info = emu.info();
    let client = |secret: &str| {
        Client::new(
            Direct::builder(Credentials::new(info.access_key_id.clone(), secret))
                .endpoint(info.api_url.clone())
                .signature(SignatureVersion::V3)
                .retries(0, std::time::Duration::ZERO, std::time::Duration::ZERO)
                .build()
                .unwrap(),
        )
    };
    let good = client(&info.access_key_secret);
    let details = good
        .send(v2020::GetLoginDetails::new(&info.instance_id).user_id(BOB))
        .await
        .unwrap();
    assert_eq!(
        details.data.and_then(|d| d.extension).as_deref(),
        Some("8002")
    );
    let groups = good
        .send(v2017::ListSkillGroupsOfUser::new(&info.instance_id, BOB))
        .await
        .unwrap();
    assert!(!groups.skill_levels.is_empty());
    let wrong = client("wrong-secret")
        .send(v2020::GetLoginDetails::new(&info.instance_id).user_id(BOB))
        .await
        .unwrap_err();
    let Error::Api(e) = wrong else {
        panic!("{wrong}")
    };
    assert_eq!(
        (e.http_status, e.code.as_str()),
        (400, "SignatureDoesNotMatch")
    );
    assert!(
        e.message
            .contains("server string to sign is:ACS3-HMAC-SHA256\n"),
        "{}",
        e.message
    );
    emu.shutdown().await;
}

/// A multipart body with `fields` then `file`, as an OSS PostObject form is sent.
fn post_form(fields: &[(&str, &str)], file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "ccc-emulator-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn an_agent_recording_uploads_to_the_oss_form_it_was_given() {
    let emu = start().await;
    let info = emu.info();
    let mut api = Api::new(info);
    let (_, answer) = api
        .call(
            "2017-07-05",
            "GetRecordOssUploadParam",
            &[("UserId", BOB), ("FileName", "side.wav")],
        )
        .await;
    let text = |k: &str| answer[k].as_str().unwrap_or_default().to_owned();
    assert_eq!(text("Dir"), format!("uploads/{BOB}/"));
    assert_eq!(text("Host"), format!("{}oss", info.api_url));
    let key = format!("{}{}", text("Dir"), text("OssFileName"));
    let (policy, key_id, signature) = (text("Policy"), text("OssAccessKeyId"), text("Signature"));
    let wav = b"RIFF....WAVEfmt agent side";
    let (content_type, body) = post_form(
        &[
            ("key", &key),
            ("policy", &policy),
            ("OSSAccessKeyId", &key_id),
            ("Signature", &signature),
            ("success_action_status", "200"),
        ],
        wav,
    );
    let up = http(
        "POST",
        &text("Host"),
        &[("Content-Type", &content_type)],
        &body,
    )
    .await;
    assert_eq!(up.status, 200, "{}", String::from_utf8_lossy(&up.body));
    assert_eq!(
        std::fs::read(info.recordings_dir.join(&key)).unwrap(),
        wav.as_slice()
    );
    let (_, records) = admin(info, "GET", "/records", serde_json::Value::Null).await;
    assert_eq!(records["uploads"][0]["key"], key.as_str());
    assert_eq!(records["uploads"][0]["size"], wav.len());

    // Outside the policy's directory, or with a forged signature: OSS's 403 XML.
    let other = format!("uploads/alice@ccc-emulator/{}", text("OssFileName"));
    let (content_type, body) = post_form(
        &[
            ("key", &other),
            ("policy", &policy),
            ("OSSAccessKeyId", &key_id),
            ("Signature", &signature),
        ],
        wav,
    );
    let refused = http(
        "POST",
        &text("Host"),
        &[("Content-Type", &content_type)],
        &body,
    )
    .await;
    assert_eq!(refused.status, 403);
    assert!(String::from_utf8_lossy(&refused.body).contains("<Code>AccessDenied</Code>"));
    let (content_type, body) = post_form(
        &[
            ("key", &key),
            ("policy", &policy),
            ("OSSAccessKeyId", &key_id),
            ("Signature", "AAAA"),
        ],
        wav,
    );
    let forged = http(
        "POST",
        &text("Host"),
        &[("Content-Type", &content_type)],
        &body,
    )
    .await;
    assert_eq!(forged.status, 403);
    // No file at all.
    let missing = http(
        "POST",
        &text("Host"),
        &[("Content-Type", "multipart/form-data; boundary=x")],
        b"--x--\r\n",
    )
    .await;
    assert_eq!(missing.status, 400);
    emu.shutdown().await;
}

#[tokio::test]
async fn an_encrypted_callee_is_dialed_as_its_number() {
    let emu = start().await;
    let info = emu.info();
    let mut api = Api::new(info);
    let sealed = api
        .ok("2017-07-05", "Encrypt", &[("PlainText.1", "13800000001")])
        .await;
    let cypher = sealed["CypherContents"]["CypherContent"][0]["CypherText"]
        .as_str()
        .expect("a cypher text")
        .to_owned();
    assert_ne!(cypher, "13800000001");
    api.v2020(
        "SignInGroup",
        &[
            ("UserId", BOB),
            ("DeviceId", "d"),
            ("SignedSkillGroupIdList", r#"["sales@ccc-emulator"]"#),
        ],
    )
    .await;
    api.v2020("ReadyForService", &[("UserId", BOB)]).await;
    api.v2020(
        "MakeCall",
        &[
            ("UserId", BOB),
            ("Callee", &cypher),
            ("MaskedCallee", "138****0001"),
        ],
    )
    .await;
    let (_, calls) = admin(info, "GET", "/calls", serde_json::Value::Null).await;
    assert_eq!(calls[0]["called"], "13800000001", "{calls}");
    emu.shutdown().await;
}
