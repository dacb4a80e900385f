//! What the end-to-end tests share: a plain HTTP/1.1 client, a signing OpenAPI client,
//! the agent link's client side, and a ccc-core agent machine fed from it.

#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, Instant, SystemTime};

use ccc_core::config::Config;
use ccc_core::model::AgentSnapshot;
use ccc_core::{Event, Operation};
use ccc_emulator::{Emulator, EmulatorInfo};
use ccc_openapi::Credentials;
use ccc_openapi::sign::{HttpMethod, ParamStyle, percent_encode, sign_v2, v2_common_params};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// Every wait in the tests is bounded by this.
pub const WAIT: Duration = Duration::from_secs(5);

/// An HTTP answer.
#[derive(Debug)]
pub struct Http {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Http {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`).
pub async fn http(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Http {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let mut stream = tokio::time::timeout(WAIT, TcpStream::connect(host))
        .await
        .expect("connect in time")
        .expect("connect");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut raw))
        .await
        .expect("answer in time")
        .unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        })
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v == "chunked")
    {
        body = dechunk(&body);
    }
    Http {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[end + 4 + size..];
    }
    out
}

fn timestamp() -> String {
    let now = time::OffsetDateTime::from(SystemTime::now())
        .replace_nanosecond(0)
        .unwrap();
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// A client that signs its requests as the Tea SDK does (POST, API parameters in the
/// form body).
pub struct Api {
    pub url: String,
    pub credentials: Credentials,
    pub instance: String,
    nonce: u64,
}

impl Api {
    pub fn new(info: &EmulatorInfo) -> Self {
        Self::with(info, info.credentials())
    }

    pub fn with(info: &EmulatorInfo, credentials: Credentials) -> Self {
        Self {
            url: info.api_url.clone(),
            credentials,
            instance: info.instance_id.clone(),
            nonce: 0,
        }
    }

    /// Signs and sends `action` with `params` (`InstanceId` added).
    pub async fn call(
        &mut self,
        version: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> (u16, Value) {
        self.nonce += 1;
        let nonce = format!("test-{}-{}", std::process::id(), self.nonce)
            + &format!("{:?}", Instant::now());
        let common = v2_common_params(
            action,
            version,
            &self.credentials,
            ParamStyle::Tea,
            "cn-shanghai",
            &timestamp(),
            &nonce,
        );
        let mut api: Vec<(String, String)> = vec![("InstanceId".into(), self.instance.clone())];
        api.extend(
            params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let all: Vec<(String, String)> = common.iter().chain(&api).cloned().collect();
        let signed = sign_v2(HttpMethod::Post, all, &self.credentials);
        let enc = |pairs: &[(String, String)]| {
            pairs
                .iter()
                .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
                .collect::<Vec<_>>()
                .join("&")
        };
        let mut query = common.clone();
        query.push(("Signature".into(), signed.signature));
        let url = format!("{}?{}", self.url, enc(&query));
        let answer = http(
            "POST",
            &url,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            enc(&api).as_bytes(),
        )
        .await;
        (answer.status, answer.json())
    }

    pub async fn ok(&mut self, version: &str, action: &str, params: &[(&str, &str)]) -> Value {
        let (status, body) = self.call(version, action, params).await;
        assert_eq!(status, 200, "{action}: {body}");
        body
    }

    pub async fn v2020(&mut self, action: &str, params: &[(&str, &str)]) -> Value {
        self.ok("2020-07-01", action, params).await["Data"].clone()
    }
}

/// The admin API.
pub async fn admin(info: &EmulatorInfo, method: &str, path: &str, body: Value) -> (u16, Value) {
    let auth = format!("Bearer {}", info.admin_token);
    let body = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    let answer = http(
        method,
        &format!("{}{path}", info.admin_url),
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        &body,
    )
    .await;
    (
        answer.status,
        if answer.body.is_empty() {
            Value::Null
        } else {
            answer.json()
        },
    )
}

pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// Connects the agent link with the token of `RequestLoginInfo`.
pub async fn agent_link(api: &mut Api, info: &EmulatorInfo, user: &str, device: &str) -> Ws {
    let login = api
        .ok("2017-07-05", "RequestLoginInfo", &[("UserId", user)])
        .await;
    let login = &login["LoginInfo"];
    let url = format!(
        "{}?UserId={}&SignData={}&Signature={}&DeviceId={device}",
        info.agent_server_url,
        percent_encode(user),
        percent_encode(login["SignData"].as_str().unwrap()),
        percent_encode(login["Signature"].as_str().unwrap()),
    );
    let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
        .await
        .expect("connect in time")
        .expect("agent link");
    ws
}

/// The next snapshot frame (skipping pings).
pub async fn next_snapshot(ws: &mut Ws) -> AgentSnapshot {
    loop {
        let message = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a frame in time")
            .expect("open")
            .expect("a frame");
        match message {
            Message::Text(text) => {
                return serde_json::from_str(&text).expect("a PollUserStatus Data object");
            }
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// The agent machine of ccc-core, fed the agent link's frames.
pub struct Machine {
    pub agent: ccc_core::Agent,
    pub statuses: Vec<i8>,
}

impl Machine {
    pub fn new() -> Self {
        let config = Config::builder("ccc-emulator", true)
            .after_call_rule_manual()
            .build()
            .unwrap();
        let mut agent = ccc_core::Agent::new(&config);
        let now = Instant::now();
        agent.request(now, Operation::Register).unwrap();
        agent.handle(now, ccc_core::Input::SipRegistered);
        Self {
            agent,
            statuses: Vec::new(),
        }
    }

    pub fn feed(&mut self, snapshot: AgentSnapshot) {
        self.agent
            .handle(Instant::now(), ccc_core::Input::Snapshot(snapshot));
        while let Some(event) = self.agent.poll_event() {
            if let Event::StatusChange(c) = event {
                self.statuses.push(c.code.code());
            }
        }
    }

    /// Reads frames until the machine reaches `status`.
    pub async fn until(&mut self, ws: &mut Ws, status: i8) {
        while self.agent.status().code() != status {
            let snapshot = next_snapshot(ws).await;
            self.feed(snapshot);
        }
    }

    pub fn take(&mut self) -> Vec<i8> {
        std::mem::take(&mut self.statuses)
    }
}

pub async fn start() -> Emulator {
    Emulator::start(ccc_emulator::EmulatorConfig::default())
        .await
        .expect("emulator starts")
}

pub async fn close_of(ws: &mut Ws) -> Option<(u16, String)> {
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("closed in time")
        {
            Some(Ok(Message::Close(frame))) => {
                return frame.map(|f| (u16::from(f.code), f.reason.to_string()));
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return None,
        }
    }
}

pub async fn send_text(ws: &mut Ws, text: &str) {
    ws.send(Message::Text(text.to_owned().into()))
        .await
        .unwrap();
}
