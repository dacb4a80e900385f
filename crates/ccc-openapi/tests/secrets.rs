//! Secrets never print: the AccessKey secret and STS token, signatures, and the secret
//! fields of answers (SIP signatures, chat tokens, TURN passwords, signed URLs).

use ccc_openapi::transport::{Direct, Request};
use ccc_openapi::{Credentials, Secret, v2017, v2020};

#[test]
fn answers_keep_their_secrets_out_of_debug() {
    let login: v2020::GetLoginDetailsResponse =
        serde_json::from_str(include_str!("data/answers/2020-07-01/GetLoginDetails.json")).unwrap();
    let data = login.data.as_ref().unwrap();
    let secrets = [
        &data.signature,
        &data.signature2,
        &data.chat_login_token,
        &data.chat_app_key,
    ];
    let debug = format!("{login:?}");
    for secret in secrets {
        let value = secret.as_ref().map(Secret::expose).unwrap();
        assert!(!debug.contains(value), "{value} printed");
    }
    // Written back to JSON they are intact (the emulator and the relay send them).
    let json = serde_json::to_value(&login).unwrap();
    assert_eq!(
        json["Data"]["Signature2"],
        data.signature2.as_ref().unwrap().expose()
    );
    for (json, field) in [
        (
            include_str!("data/answers/2020-07-01/GetTurnCredentials.json"),
            "Password",
        ),
        (
            include_str!("data/answers/2017-07-05/GetTURNCredentials.json"),
            "Password",
        ),
        (
            include_str!("data/answers/2017-07-05/DownloadRecording.json"),
            "SignatureUrl",
        ),
        (
            include_str!("data/answers/2017-07-05/RequestLoginInfo.json"),
            "Signature",
        ),
    ] {
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        let secret = find(&value, field).unwrap();
        let debug = match field {
            "SignatureUrl" => format!(
                "{:?}",
                serde_json::from_str::<v2017::DownloadRecordingResponse>(json).unwrap()
            ),
            "Signature" => format!(
                "{:?}",
                serde_json::from_str::<v2017::RequestLoginInfoResponse>(json).unwrap()
            ),
            _ if json.contains("\"Data\"") => {
                format!(
                    "{:?}",
                    serde_json::from_str::<v2020::GetTurnCredentialsResponse>(json).unwrap()
                )
            }
            _ => format!(
                "{:?}",
                serde_json::from_str::<v2017::GetTURNCredentialsResponse>(json).unwrap()
            ),
        };
        assert!(!debug.contains(&secret), "{field}: {debug}");
        assert!(debug.contains("<redacted>"));
    }
}

fn find(value: &serde_json::Value, key: &str) -> Option<String> {
    match value {
        serde_json::Value::Object(map) => map
            .get(key)
            .and_then(|v| v.as_str().map(str::to_owned))
            .or_else(|| map.values().find_map(|v| find(v, key))),
        serde_json::Value::Array(items) => items.iter().find_map(|v| find(v, key)),
        _ => None,
    }
}

#[test]
fn transports_and_signed_requests_keep_the_key_out_of_debug() {
    let credentials =
        Credentials::new("LTAI-id", "the-secret-value").with_security_token("sts-token-value");
    let direct = Direct::builder(credentials)
        .endpoint("http://127.0.0.1:9")
        .build()
        .unwrap();
    let prepared = direct.prepare(
        &Request::of(&v2017::RefreshToken::new("i")),
        "2024-01-02T03:04:05Z",
        "n",
    );
    for debug in [format!("{direct:?}"), format!("{prepared:?}")] {
        for secret in [
            "the-secret-value",
            "sts-token-value",
            prepared.signature.as_str(),
        ] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
    }
}

/// The proxy's `ajaxHeaders` and `ajaxOtherParams` carry the integrator's tokens (a
/// bearer, a CSRF token): their values never print.
#[test]
fn proxy_headers_and_params_keep_their_values_out_of_debug() {
    let builder = ccc_openapi::transport::Proxy::builder("https://crm.example.com")
        .header("authorization", "Bearer relay-session-token")
        .other_param("csrf", "csrf-token-value");
    let builder_debug = format!("{builder:?}");
    let proxy = builder.build().unwrap();
    for debug in [builder_debug, format!("{proxy:?}")] {
        assert!(
            debug.contains("authorization") && debug.contains("csrf"),
            "{debug}"
        );
        for secret in ["relay-session-token", "csrf-token-value"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
    }
}
