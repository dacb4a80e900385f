//! The end-to-end rig: an emulator started in-process on loopback ports of its own, and
//! workbenches signed in to it through the OpenAPI (signed, direct), the agent link
//! and (once the emulator serves it) SIP.

#![allow(dead_code, unreachable_pub)]

pub mod proxy;
pub mod tap;
pub mod tones;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ccc_emulator::{Emulator, EmulatorConfig, Scenario};
use ccc_openapi::Client;
use ccc_openapi::transport::Direct;
use ccc_workbench::{Config, Event, Status, Workbench, WorkbenchBuilder};
use tokio::sync::Notify;

/// How long any one wait in a test may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);

pub struct Rig {
    pub emulator: Emulator,
    pub dir: tempfile::TempDir,
    /// Every OpenAPI request of the workbenches this rig builds, and answers rewritten.
    pub tap: tap::Tap,
}

impl Rig {
    pub async fn start() -> Self {
        Self::with(|_| {}).await
    }

    pub async fn with(tweak: impl FnOnce(&mut Scenario)) -> Self {
        Self::with_config(|config| tweak(&mut config.scenario)).await
    }

    /// A rig whose emulator starts with `tweak`'s changes to the default config.
    pub async fn with_config(tweak: impl FnOnce(&mut EmulatorConfig)) -> Self {
        let mut config = EmulatorConfig::new(Scenario::default());
        tweak(&mut config);
        let emulator = Emulator::start(config).await.expect("the emulator starts");
        Self {
            emulator,
            dir: tempfile::tempdir().expect("a temporary directory"),
            tap: tap::Tap::default(),
        }
    }

    pub fn client(&self) -> Client {
        let info = self.emulator.info();
        let direct = Direct::builder(info.credentials())
            .endpoint(info.api_url.clone())
            .timeout(Duration::from_secs(5))
            .build()
            .expect("a direct transport");
        Client::new(self.tap.transport(direct))
    }

    pub fn config(&self) -> ccc_core::config::ConfigBuilder {
        Config::builder(self.emulator.info().instance_id.clone(), true)
    }

    /// A builder for `user` with the test defaults: the SIP device on (the emulator
    /// serves SIP), loopback media, the lock in this rig's own directory, short timeouts.
    pub fn builder(&self, user: &str, config: Config) -> WorkbenchBuilder {
        Workbench::builder(config, self.client(), user)
            .sip_device(self.emulator.info().sip_ws_url.is_some())
            .call_config(ccc_media::call::CallConfig::loopback())
            .local_dir(self.dir.path().join("local"))
            .method_timeout(Duration::from_secs(5))
            .register_timeout(Duration::from_secs(8))
    }

    /// Places an inbound call from `caller` to the hotline `callee`.
    pub fn call_in(&self, caller: &str, callee: &str) -> String {
        self.emulator
            .with_platform(|p, now| {
                p.place_inbound_call(
                    now,
                    ccc_emulator::platform::InboundCall::new(caller, callee),
                )
            })
            .expect("the call is placed")
            .to_string()
    }

    /// A customer calls the hotline from `caller`, acting by `script` (a customer script
    /// in JSON: outcome, play, dtmf, record, ...); the call's job id.
    pub fn customer_calls_in(&self, caller: &str, script: serde_json::Value) -> String {
        let mut call = ccc_emulator::platform::InboundCall::new(caller, "02150000001");
        call.script = Some(serde_json::from_value(script).expect("a customer script"));
        self.emulator
            .with_platform(|p, now| p.place_inbound_call(now, call))
            .expect("the call is placed")
            .to_string()
    }

    /// The agent's state at the platform.
    pub fn platform_state(&self, user: &str) -> Option<String> {
        self.emulator.with_platform(|p, _| {
            p.agents()
                .into_iter()
                .find(|a| &*a.user_id == user)
                .map(|a| a.state.as_str().to_owned())
        })
    }
}

/// Every event of one workbench, in order, and a way to wait for one. Waits go
/// forward: each looks at the events after the one the previous wait matched.
#[derive(Clone, Default)]
pub struct Recorder {
    events: Arc<Mutex<Vec<Event>>>,
    changed: Arc<Notify>,
    cursor: Arc<Mutex<usize>>,
}

impl Recorder {
    pub fn attach(mut stream: ccc_workbench::EventStream) -> Self {
        let recorder = Self::default();
        let r = recorder.clone();
        tokio::spawn(async move {
            while let Some(event) = stream.recv().await {
                r.events.lock().unwrap().push(event);
                r.changed.notify_waiters();
            }
        });
        recorder
    }

    pub fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }

    pub fn hooks(&self) -> Vec<&'static str> {
        self.events().iter().map(Event::hook_name).collect()
    }

    /// The status codes of every onStatusChange, in order.
    pub fn statuses(&self) -> Vec<i8> {
        self.events()
            .iter()
            .filter_map(|e| match e {
                Event::StatusChange(s) => Some(s.code.code()),
                _ => None,
            })
            .collect()
    }

    /// Waits until an event after the last one waited for matches.
    pub async fn wait_for(&self, what: &str, f: impl Fn(&Event) -> bool) -> Event {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let notified = self.changed.notified();
            let from = *self.cursor.lock().unwrap();
            let found = self
                .events()
                .into_iter()
                .enumerate()
                .skip(from)
                .find(|(_, e)| f(e));
            if let Some((i, e)) = found {
                *self.cursor.lock().unwrap() = i + 1;
                return e;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "no {what} within {WAIT:?}; events: {:?}",
                    self.hooks_and_codes()
                );
            }
        }
    }

    /// Waits for an onStatusChange to `code`.
    pub async fn wait_status(&self, code: Status) {
        self.wait_for(
            &format!("status {code}"),
            |e| matches!(e, Event::StatusChange(s) if s.code == code),
        )
        .await;
    }

    /// Waits for the sign-out the guide reports twice: `onLogOut` with `reason`, then
    /// `onErrorNotify` with the same reason as its code.
    pub async fn wait_signed_out(&self, reason: ccc_core::SignOutReason) {
        let out = self
            .wait_for("onLogOut", |e| matches!(e, Event::LogOut { .. }))
            .await;
        assert!(
            matches!(&out, Event::LogOut { reason: r } if *r == reason),
            "{out:?}"
        );
        self.wait_for(&format!("onErrorNotify({reason:?})"), |e| {
            matches!(e, Event::ErrorNotify(n) if n.code == ccc_core::ErrorCode::SignOut(reason))
        })
        .await;
    }

    /// Forgets what was recorded.
    pub fn clear(&self) {
        self.events.lock().unwrap().clear();
        *self.cursor.lock().unwrap() = 0;
    }

    pub fn hooks_and_codes(&self) -> Vec<String> {
        self.events()
            .iter()
            .map(|e| match e {
                Event::StatusChange(s) => format!("{}", s.code.code()),
                other => other.hook_name().to_owned(),
            })
            .collect()
    }
}

/// Builds a workbench and records its events from onInit on.
pub async fn build(builder: WorkbenchBuilder) -> (Workbench, Recorder) {
    let recorder = Recorder::attach(builder.events());
    let workbench = builder.build().await.expect("the workbench builds");
    (workbench, recorder)
}

fn admin_client() -> reqwest::Client {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .unwrap()
}

impl Rig {
    /// `GET path` of the emulator's admin API.
    pub async fn admin_get(&self, path: &str) -> serde_json::Value {
        let info = self.emulator.info();
        let response = admin_client()
            .get(format!("{}{path}", info.admin_url))
            .bearer_auth(&info.admin_token)
            .send()
            .await
            .expect("the admin API answers");
        assert!(
            response.status().is_success(),
            "admin {path}: {}",
            response.status()
        );
        response.json().await.expect("admin JSON")
    }

    /// The fault reports (`CreateFault`) the emulator received: their parameters.
    pub async fn fault_reports(&self) -> Vec<serde_json::Value> {
        let records = self.admin_get("/records").await;
        records["faults"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|f| f["params"].clone())
            .collect()
    }

    /// The SIP link, the agent link, or both, through proxies of their own that a
    /// test can cut: `RequestLoginInfo` names the proxies instead of the emulator.
    pub async fn proxied_links(&self, sip: bool, agent_link: bool) -> Proxies {
        let info = self.emulator.info();
        let target = |url: &str| {
            let u = url::Url::parse(url).unwrap();
            std::net::SocketAddr::new(
                u.host_str().unwrap().parse().unwrap(),
                u.port_or_known_default().unwrap(),
            )
        };
        let sip_url = info.sip_ws_url.clone().expect("the emulator serves SIP");
        let link_url = info.agent_server_url.clone();
        let sip = match sip {
            true => Some(proxy::LinkProxy::start(target(&sip_url)).await),
            false => None,
        };
        let agent_link = match agent_link {
            true => Some(proxy::LinkProxy::start(target(&link_url)).await),
            false => None,
        };
        let sip_via = sip.as_ref().map(|p| p.url_for(&sip_url));
        let link_via = agent_link.as_ref().map(|p| p.url_for(&link_url));
        self.tap.rewrite("RequestLoginInfo", move |answer| {
            let info = &mut answer["LoginInfo"];
            if let Some(url) = &sip_via {
                info["WebRtcUrl"] = url.clone().into();
            }
            if let Some(url) = &link_via {
                info["AgentServerUrl"] = url.clone().into();
            }
        });
        Proxies { sip, agent_link }
    }

    /// A request to the emulator's admin API (faults): `POST path` with `body`.
    pub async fn admin(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let info = self.emulator.info();
        let response = admin_client()
            .post(format!("{}{path}", info.admin_url))
            .bearer_auth(&info.admin_token)
            .json(&body)
            .send()
            .await
            .expect("the admin API answers");
        assert!(
            response.status().is_success(),
            "admin {path}: {}",
            response.status()
        );
        response.json().await.expect("admin JSON")
    }

    /// The customer of call `job` hangs up.
    pub fn customer_hangs_up(&self, job: &str) {
        self.emulator.with_platform(|p, now| {
            p.handle(
                now,
                ccc_emulator::platform::Input::CustomerHangUp { job_id: job.into() },
            );
        });
    }

    /// The live calls at the platform.
    pub fn calls(&self) -> Vec<ccc_emulator::platform::CallInfo> {
        self.emulator.with_platform(|p, _| p.calls())
    }

    /// An agent registered and ready, with its events recorded from there on.
    pub async fn ready_agent(&self, user: &str, config: Config) -> (Workbench, Recorder) {
        let (wb, rec) = build(self.builder(user, config)).await;
        wb.register(None, "default").await.expect("register");
        rec.wait_status(Status::Ready).await;
        rec.clear();
        (wb, rec)
    }
}

/// The proxies of [`Rig::proxied_links`].
pub struct Proxies {
    pub sip: Option<proxy::LinkProxy>,
    pub agent_link: Option<proxy::LinkProxy>,
}

/// Waits until `done` holds.
pub async fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {what} within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Fast link timings for the fault tests.
pub fn fast_links() -> ccc_workbench::LinkOptions {
    let mut links = ccc_workbench::LinkOptions::default();
    links.poll_every = Duration::from_millis(150);
    links.dead_after = Duration::from_millis(600);
    links.heartbeat_every = Duration::from_millis(200);
    links.min_backoff = Duration::from_millis(100);
    links.max_backoff = Duration::from_millis(400);
    links.slow_connect = Duration::from_millis(300);
    links.connect_timeout = Duration::from_millis(500);
    links
}
