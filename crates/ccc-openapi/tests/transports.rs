//! The transports against a local HTTP server on 127.0.0.1: signatures checked on the
//! server side, every bad answer of the issue, retries, the proxy conventions (C13-C20)
//! with cookies, and the custom function (C41).

mod support;

use std::time::Duration;

use ccc_openapi::shape::Shape;
use ccc_openapi::sign::{HttpMethod, ParamStyle, verify_v2};
use ccc_openapi::transport::{AjaxType, Custom, Direct, Proxy, Request, SignatureVersion};
use ccc_openapi::v2017::{ListSkillGroupsOfUser, PickGlobalOutboundNumbers};
use ccc_openapi::v2020::{MakeCall, SignInGroup};
use ccc_openapi::{Client, Credentials, Error, Params, Version};
use support::{Answer, Received, Server};

const SKILLS: &str = include_str!("data/answers/2017-07-05/ListSkillGroupsOfUser.json");
const MAKE_CALL: &str = include_str!("data/answers/2020-07-01/MakeCall.json");

fn credentials() -> Credentials {
    Credentials::new("testid", "testsecret")
}

fn direct(url: &str) -> Direct {
    Direct::builder(credentials())
        .endpoint(url)
        .timeout(Duration::from_millis(500))
        .retries(2, Duration::from_millis(5), Duration::from_millis(20))
        .build()
        .expect("direct")
}

/// Query and body together, as CCC checks them.
fn signed_params(r: &Received) -> Vec<(String, String)> {
    let mut all = r.query();
    all.extend(r.form());
    all
}

fn method(r: &Received) -> HttpMethod {
    if r.method == "GET" {
        HttpMethod::Get
    } else {
        HttpMethod::Post
    }
}

/// A stand-in CCC answering `body` to every request whose V2 signature holds.
async fn ccc(body: &'static str) -> Server {
    Server::start(move |_, r| match verify_v2(method(r), &signed_params(r), &credentials()) {
        Ok(()) => Answer::json(200, body),
        Err(e) => Answer::json(
            400,
            &serde_json::json!({"Code": "SignatureDoesNotMatch", "Message": e.to_string(), "RequestId": "r"})
                .to_string(),
        ),
    })
    .await
}

#[tokio::test]
async fn direct_v2_every_style_and_method_is_accepted() {
    let server = ccc(SKILLS).await;
    for (style, m) in [
        (ParamStyle::Tea, HttpMethod::Post),
        (ParamStyle::Core, HttpMethod::Post),
        (ParamStyle::Tea, HttpMethod::Get),
        (ParamStyle::Core, HttpMethod::Get),
    ] {
        let d = Direct::builder(credentials().with_security_token("sts+/="))
            .endpoint(&server.url)
            .style(style)
            .method(m)
            .build()
            .unwrap();
        let answer = Client::new(d)
            .send(ListSkillGroupsOfUser::new("ccc-test", "agent@ccc-test"))
            .await
            .unwrap_or_else(|e| panic!("{style:?} {m:?}: {e}"));
        assert_eq!(answer.skill_levels.len(), 1);
    }
    let seen = server.received();
    assert_eq!(seen.len(), 4);
    // Tea POST: API parameters in the body, common ones in the query.
    assert!(
        seen[0]
            .form()
            .iter()
            .any(|(k, v)| k == "UserId" && v == "agent@ccc-test")
    );
    assert!(
        seen[0]
            .query()
            .iter()
            .any(|(k, v)| k == "SecurityToken" && v == "sts+/=")
    );
    assert_eq!(
        seen[0].header("x-acs-action"),
        Some("ListSkillGroupsOfUser")
    );
    // Core: RegionId and the empty SignatureType.
    assert!(
        seen[1]
            .query()
            .iter()
            .any(|(k, v)| k == "SignatureType" && v.is_empty())
    );
    assert!(
        seen[1]
            .query()
            .iter()
            .any(|(k, v)| k == "RegionId" && v == "cn-shanghai")
    );
    assert_eq!(seen[2].method, "GET");
    assert!(seen[2].body.is_empty());
}

#[tokio::test]
async fn direct_lists_go_on_the_wire_per_version() {
    let server = ccc(MAKE_CALL).await;
    let client = Client::new(direct(&server.url));
    client
        .send(PickGlobalOutboundNumbers::new(
            "ccc-test",
            "13800000000",
            (1..=11).map(|i| format!("skg-{i}")),
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    client
        .send(SignInGroup::new("ccc-test", "dev-1", ["skg-1@ccc-test"]))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let seen = server.received();
    let pick = seen[0].form();
    assert!(
        pick.iter()
            .any(|(k, v)| k == "SkillGroupId.11" && v == "skg-11")
    );
    let sign_in = seen[1].query();
    assert!(
        sign_in
            .iter()
            .any(|(k, v)| k == "SignedSkillGroupIdList" && v == r#"["skg-1@ccc-test"]"#)
    );
    assert!(
        sign_in
            .iter()
            .any(|(k, v)| k == "Version" && v == "2020-07-01")
    );
}

#[tokio::test]
async fn direct_v3_sends_what_it_signed() {
    let server = Server::start(|_, _| Answer::json(200, MAKE_CALL)).await;
    let d = Direct::builder(credentials())
        .endpoint(&server.url)
        .signature(SignatureVersion::V3)
        .build()
        .unwrap();
    let answer = Client::new(d)
        .send(MakeCall::new("ccc-test", "13800000000"))
        .await
        .unwrap();
    assert!(answer.data.is_some());
    let r = &server.received()[0];
    let auth = r.header("authorization").unwrap();
    assert!(auth.starts_with("ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=accept;host;"));
    // Re-sign what arrived: the same authorization.
    let signed_names: Vec<&str> = auth
        .split("SignedHeaders=")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .split(';')
        .filter(|n| *n != "x-acs-content-sha256")
        .collect();
    let headers: Vec<(String, String)> = signed_names
        .iter()
        .map(|n| ((*n).to_owned(), r.header(n).unwrap().to_owned()))
        .collect();
    let again = ccc_openapi::sign::sign_v3(
        HttpMethod::Post,
        &r.query(),
        headers,
        r.body.as_bytes(),
        &credentials(),
    );
    assert_eq!(again.authorization, auth);
}

async fn skills_from(
    answer: Answer,
) -> Result<ccc_openapi::v2017::ListSkillGroupsOfUserResponse, Error> {
    let server = Server::start(move |_, _| answer.clone()).await;
    Client::new(direct(&server.url))
        .send(ListSkillGroupsOfUser::new("i", "u"))
        .await
}

#[tokio::test]
async fn every_bad_answer_is_a_typed_error() {
    let e = skills_from(Answer::json(200, r#"{"SkillLevels": {"SkillLevel": [ "#))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Decode { body, .. } if body.starts_with(r#"{"SkillLevels""#)),
        "{e}"
    );
    let e = skills_from(Answer::Http(
        200,
        vec![],
        "<html><body>login</body></html>".into(),
    ))
    .await
    .unwrap_err();
    assert!(
        matches!(&e, Error::Decode { reason, .. } if reason.contains("HTML")),
        "{e}"
    );
    let e = skills_from(Answer::Http(200, vec![], String::new()))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Decode { reason, .. } if reason == "empty body"),
        "{e}"
    );
    let e = skills_from(Answer::json(
        403,
        r#"{"RequestId":"r-9","HostId":"ccc.cn-shanghai.aliyuncs.com","Code":"Forbidden.RAM","Message":"denied","Recommend":"https://api.aliyun.com/troubleshoot?q=Forbidden.RAM"}"#,
    ))
    .await
    .unwrap_err();
    let api = e.api().expect("api error");
    assert_eq!(
        (
            api.code.as_str(),
            api.http_status,
            api.request_id.as_deref()
        ),
        ("Forbidden.RAM", 403, Some("r-9"))
    );
    assert!(api.recommend.is_some());
    let e = skills_from(Answer::Http(404, vec![], "Not Found".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Status { http_status: 404, body, .. } if body == "Not Found"),
        "{e}"
    );
    let e = skills_from(Answer::json(
        500,
        r#"{"Code":"InternalError","Message":"boom","RequestId":"x"}"#,
    ))
    .await
    .unwrap_err();
    assert_eq!(e.api().map(|a| a.http_status), Some(500));
    let e = skills_from(Answer::Http(502, vec![], "<html>Bad Gateway</html>".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Status {
                http_status: 502,
                ..
            }
        ),
        "{e}"
    );
    let e = skills_from(Answer::Hang).await.unwrap_err();
    assert!(
        matches!(&e, Error::Timeout { after, .. } if *after == Duration::from_millis(500)),
        "{e}"
    );
    let e = skills_from(Answer::Close).await.unwrap_err();
    assert!(matches!(&e, Error::Transport { .. }), "{e}");
    // The URL (with the signature) is never in the message.
    assert!(!e.to_string().contains("Signature"), "{e}");
    let fine = skills_from(Answer::json(
        200,
        r#"{"RequestId":"r","Success":true,"Code":"OK"}"#,
    ))
    .await
    .unwrap();
    assert!(fine.skill_levels.is_empty() && fine.message.is_none());
    let failed = skills_from(Answer::json(
        200,
        r#"{"Success":false,"Code":"NoPermission","Message":"m"}"#,
    ))
    .await
    .unwrap_err();
    assert_eq!(failed.api().map(|a| a.code.as_str()), Some("NoPermission"));
}

#[tokio::test]
async fn retries_only_throttling_and_5xx_with_a_fresh_signature() {
    let server = Server::start(|i, _| match i {
        0 => Answer::Http(503, vec![], "busy".into()),
        1 => Answer::json(400, r#"{"Code":"Throttling.User","Message":"slow down"}"#),
        _ => Answer::json(200, SKILLS),
    })
    .await;
    let answer = Client::new(direct(&server.url))
        .send(ListSkillGroupsOfUser::new("i", "u"))
        .await
        .unwrap();
    assert_eq!(answer.skill_levels.len(), 1);
    let seen = server.received();
    assert_eq!(seen.len(), 3);
    let nonce = |r: &Received| {
        r.query()
            .into_iter()
            .find(|(k, _)| k == "SignatureNonce")
            .unwrap()
            .1
    };
    assert_ne!(nonce(&seen[0]), nonce(&seen[1]));
    assert_ne!(nonce(&seen[1]), nonce(&seen[2]));

    let always = Server::start(|_, _| Answer::Http(503, vec![], "busy".into())).await;
    let e = Client::new(direct(&always.url))
        .send(ListSkillGroupsOfUser::new("i", "u"))
        .await
        .unwrap_err();
    assert!(matches!(
        e,
        Error::Status {
            http_status: 503,
            ..
        }
    ));
    assert_eq!(always.received().len(), 3, "two retries, then the error");

    let client_error =
        Server::start(|_, _| Answer::json(400, r#"{"Code":"InvalidParameter","Message":"x"}"#))
            .await;
    let e = Client::new(direct(&client_error.url))
        .send(ListSkillGroupsOfUser::new("i", "u"))
        .await
        .unwrap_err();
    assert_eq!(e.api().map(|a| a.code.as_str()), Some("InvalidParameter"));
    assert_eq!(client_error.received().len(), 1, "no retry");

    let retry_after = Server::start(|i, _| match i {
        0 => Answer::Http(
            200,
            vec![("x-acs-retry-after".into(), "10".into())],
            "{}".into(),
        ),
        _ => Answer::json(200, SKILLS),
    })
    .await;
    Client::new(direct(&retry_after.url))
        .send(ListSkillGroupsOfUser::new("i", "u"))
        .await
        .unwrap();
    assert_eq!(retry_after.received().len(), 2);
}

#[tokio::test]
async fn a_call_that_may_have_dialed_is_not_sent_again() {
    // A 5xx after MakeCall may hide a call already placed: no second try.
    let failed = Server::start(|_, _| Answer::Http(503, vec![], "busy".into())).await;
    let e = Client::new(direct(&failed.url))
        .send(MakeCall::new("ccc-test", "13800000000"))
        .await
        .unwrap_err();
    assert!(matches!(
        e,
        Error::Status {
            http_status: 503,
            ..
        }
    ));
    assert_eq!(
        failed.received().len(),
        1,
        "MakeCall is not repeated after a 5xx"
    );

    // Throttling means nothing was done: it is tried again.
    let throttled = Server::start(|i, _| match i {
        0 => Answer::json(400, r#"{"Code":"Throttling.User","Message":"slow down"}"#),
        _ => Answer::json(200, MAKE_CALL),
    })
    .await;
    Client::new(direct(&throttled.url))
        .send(MakeCall::new("ccc-test", "13800000000"))
        .await
        .unwrap();
    assert_eq!(throttled.received().len(), 2);

    assert!(ccc_openapi::transport::safe_to_repeat(
        "ListRecentCallRecords"
    ));
    assert!(ccc_openapi::transport::safe_to_repeat("ReadyForService"));
    for action in [
        "MakeCall",
        "SendDtmfSignaling",
        "BlindTransfer",
        "SendPredefinedShortMessage",
    ] {
        assert!(!ccc_openapi::transport::safe_to_repeat(action), "{action}");
    }
}

#[tokio::test]
async fn raw_calls_return_ccc_json() {
    let server = ccc(SKILLS).await;
    let client = Client::new(direct(&server.url));
    let mut params = Params::new(Version::V20170705);
    params.put_raw("InstanceId", ccc_openapi::Placement::Query, "i");
    params.put_raw("NotInTheModel", ccc_openapi::Placement::Query, "x");
    let json = client
        .call(&Request::raw(
            "ListSkillGroupsOfUser",
            Version::V20170705,
            params,
        ))
        .await
        .unwrap();
    assert_eq!(
        json,
        serde_json::from_str::<serde_json::Value>(SKILLS).unwrap()
    );
    assert!(
        server.received()[0]
            .form()
            .iter()
            .any(|(k, _)| k == "NotInTheModel")
    );
}

#[tokio::test]
async fn proxy_param_style_post_with_cookies() {
    let server = Server::start(|i, r| {
        if i == 0 {
            Answer::Http(
                200,
                vec![("set-cookie".into(), "session=abc; Path=/".into())],
                r#"{"success":true,"code":"OK","skillLevels":[{"level":5,"skill":{"skillGroupId":"s1","outboundPhoneNumbers":[]}}]}"#.into(),
            )
        } else {
            let cookie = r.header("cookie").unwrap_or_default().to_owned();
            Answer::json(200, &serde_json::json!({"success": true, "code": "OK", "message": cookie}).to_string())
        }
    })
    .await;
    let proxy = Proxy::builder(&server.url)
        .path("/aliyun/ccc/api")
        .ajax_type(AjaxType::Param {
            api_param_name: "api".into(),
        })
        .with_credentials(true)
        .header("x-csrf-token", "tok")
        .other_param("tenant", "t-1")
        .build()
        .unwrap();
    let client = Client::new(proxy);
    let answer = client
        .send(ListSkillGroupsOfUser::new("ccc-test", "agent@ccc-test"))
        .await
        .unwrap();
    assert_eq!(answer.skill_levels[0].level, Some(5));
    assert_eq!(
        answer.skill_levels[0]
            .skill
            .as_ref()
            .and_then(|s| s.skill_group_id.as_deref()),
        Some("s1")
    );
    let second = client
        .send(ListSkillGroupsOfUser::new("ccc-test", "agent@ccc-test"))
        .await
        .unwrap();
    assert_eq!(
        second.message.as_deref(),
        Some("session=abc"),
        "withCredentials sends the cookie back"
    );
    let r = &server.received()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.target, "/aliyun/ccc/api?api=ListSkillGroupsOfUser");
    assert_eq!(r.header("x-csrf-token"), Some("tok"));
    let form = r.form();
    assert_eq!(form[0].0, "request");
    let request: serde_json::Value = serde_json::from_str(&form[0].1).unwrap();
    assert_eq!(
        request,
        serde_json::json!({"instanceId": "ccc-test", "userId": "agent@ccc-test"})
    );
    assert_eq!(form[1], ("tenant".to_owned(), "t-1".to_owned()));
}

#[tokio::test]
async fn proxy_without_credentials_keeps_no_cookie() {
    let server = Server::start(|_, r| {
        let cookie = r.header("cookie").unwrap_or("none").to_owned();
        Answer::Http(
            200,
            vec![("set-cookie".into(), "session=abc".into())],
            serde_json::json!({"Code": "OK", "Message": cookie}).to_string(),
        )
    })
    .await;
    let client = Client::new(Proxy::builder(&server.url).build().unwrap());
    client
        .send(ListSkillGroupsOfUser::new("i", "u"))
        .await
        .unwrap();
    let second = client
        .send(ListSkillGroupsOfUser::new("i", "u"))
        .await
        .unwrap();
    assert_eq!(second.message.as_deref(), Some("none"));
}

#[tokio::test]
async fn proxy_path_style_get_2020_with_openapi_shape() {
    let server = Server::start(|_, _| Answer::json(200, MAKE_CALL)).await;
    let proxy = Proxy::builder(&server.url)
        .ajax_type(AjaxType::Path {
            module: "ccc".into(),
        })
        .method(HttpMethod::Get)
        .shape(Shape::OpenApi)
        .region("cn-hangzhou")
        .build()
        .unwrap();
    let answer = Client::new(proxy)
        .send(SignInGroup::new("ccc-test", "dev-1", ["skg-1@ccc-test"]))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(answer.data.is_some());
    let r = &server.received()[0];
    assert_eq!(r.method, "GET");
    assert_eq!(r.path(), "/data/api.json/ccc/SignInGroup");
    let query = r.query();
    for (k, v) in [
        ("product", "CloudCallCenter"),
        ("version", "2020-07-01"),
        ("region", "cn-hangzhou"),
    ] {
        assert!(query.iter().any(|(qk, qv)| qk == k && qv == v), "{k}");
    }
    let request = &query.iter().find(|(k, _)| k == "request").unwrap().1;
    let request: serde_json::Value = serde_json::from_str(request).unwrap();
    assert_eq!(request["SignedSkillGroupIdList"], r#"["skg-1@ccc-test"]"#);
}

#[tokio::test]
async fn proxy_bad_answers() {
    for (answer, check) in [
        (
            Answer::Http(200, vec![], "<html>login page</html>".into()),
            "Decode",
        ),
        (Answer::Http(401, vec![], String::new()), "Status"),
        (
            Answer::json(
                500,
                r#"{"code":"InternalError","message":"m","requestId":"q"}"#,
            ),
            "Api",
        ),
        (Answer::Hang, "Timeout"),
    ] {
        let server = Server::start(move |_, _| answer.clone()).await;
        let proxy = Proxy::builder(&server.url)
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let e = Client::new(proxy)
            .send(ListSkillGroupsOfUser::new("i", "u"))
            .await
            .unwrap_err();
        let kind = match e {
            Error::Decode { .. } => "Decode",
            Error::Status { .. } => "Status",
            Error::Api(_) => "Api",
            Error::Timeout { .. } => "Timeout",
            _ => "other",
        };
        assert_eq!(kind, check, "{e}");
    }
}

#[tokio::test]
async fn custom_function_answers_errors_and_timeouts() {
    let ok = Custom::new(|action, params| async move {
        Ok::<_, std::io::Error>(
            serde_json::json!({"code": "OK", "message": format!("{action} {params}")}),
        )
    });
    let answer = Client::new(ok)
        .send(ListSkillGroupsOfUser::new("i", "u"))
        .await
        .unwrap();
    assert_eq!(
        answer.message.as_deref(),
        Some(r#"ListSkillGroupsOfUser {"instanceId":"i","userId":"u"}"#)
    );
    let failing = Custom::new(|_, _| async {
        Err::<serde_json::Value, _>(std::io::Error::other("backend down"))
    });
    let e = Client::new(failing)
        .send(ListSkillGroupsOfUser::new("i", "u"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Request { message, .. } if message.contains("backend down")),
        "{e}"
    );
    let slow = Custom::new(|_, _| async {
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok::<_, std::io::Error>(serde_json::json!({}))
    })
    .timeout(Duration::from_millis(50));
    let e = Client::new(slow)
        .send(ListSkillGroupsOfUser::new("i", "u"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }));
    let api_error = Custom::new(|_, _| async {
        Ok::<_, std::io::Error>(
            serde_json::json!({"code": "Forbidden.NoPermission", "message": "no", "requestId": "r"}),
        )
    });
    let e = Client::new(api_error)
        .send(MakeCall::new("i", "1"))
        .await
        .unwrap_err();
    let notify = e.to_notify();
    assert_eq!(
        (notify.code.as_str(), notify.request_id.as_deref()),
        ("Forbidden.NoPermission", Some("r"))
    );
}
