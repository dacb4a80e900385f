//! The running emulator: [`Emulator::start`] binds its listeners on loopback, starts
//! its tasks and answers with its URLs and credentials; dropping it (or
//! [`Emulator::shutdown`]) stops everything.

mod admin;
mod agent_link;
mod engine;
mod faults;
mod http;
mod hub;

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use ccc_openapi::Credentials;
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::{Gateway, Key, Store, TurnAccess, TurnAuth, Urls};
use crate::platform::{AgentId, Platform, Principal};
use crate::scenario::{Scenario, ScenarioError};
use crate::token::Tokens;
pub use agent_link::{PING_EVERY, SILENCE_LIMIT};
pub use engine::CLOSE_SIGNED_OUT;
use engine::{Engine, State};
pub use faults::{LinkFault, LinkKind};
pub use hub::CONNECTION_QUEUE;

/// How to start an emulator.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EmulatorConfig {
    /// The call center to emulate.
    pub scenario: Scenario,
    /// The OpenAPI (and admin API) address; port 0 picks a free one.
    pub listen: SocketAddr,
    /// The agent link's address.
    pub agent_link_listen: SocketAddr,
    /// Allow addresses other than loopback (off by default: the emulator has fixed
    /// credentials and an admin API).
    pub allow_remote: bool,
    /// The admin API's bearer token; a random one when left out.
    pub admin_token: Option<String>,
    /// The proxy path of the guide's `ajaxPath` (C15).
    pub proxy_path: String,
    /// The query key naming the action in proxied requests (C17 `ajaxApiParamName`).
    pub api_param: String,
    /// Where recordings go; a fresh temporary directory (removed at stop) when left out.
    pub recordings_dir: Option<PathBuf>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self::new(Scenario::default())
    }
}

impl EmulatorConfig {
    /// The defaults for `scenario`: loopback, any free ports.
    pub fn new(scenario: Scenario) -> Self {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            scenario,
            listen: any,
            agent_link_listen: any,
            allow_remote: false,
            admin_token: None,
            proxy_path: "/data/api.json".into(),
            api_param: "action".into(),
            recordings_dir: None,
        }
    }
}

/// Why an emulator did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The scenario does not hold together.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A listen address is not loopback and `allow_remote` is off.
    #[error("{0} is not a loopback address; set allow_remote to listen there")]
    NotLoopback(SocketAddr),
    /// A listener could not be bound.
    #[error("cannot listen for the {what} on {addr}: {source}")]
    Bind {
        /// Which listener.
        what: &'static str,
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The operating system's random source failed.
    #[error("the system random source failed")]
    Random,
    /// The recordings directory could not be made.
    #[error("cannot create the recordings directory {path}: {source}")]
    Recordings {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The proxy path is not a path.
    #[error("the proxy path `{0}` must start with / and not be /")]
    ProxyPath(String),
}

/// An agent's login, for the CLI and the tests.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AgentLogin {
    /// `UserId`.
    pub user_id: String,
    /// The SIP extension.
    pub extension: String,
    /// The SIP password.
    pub password: String,
}

impl fmt::Debug for AgentLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentLogin")
            .field("user_id", &self.user_id)
            .field("extension", &self.extension)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// What a started emulator offers: its URLs and credentials.
#[derive(Clone)]
#[non_exhaustive]
pub struct EmulatorInfo {
    /// The OpenAPI endpoint (signed requests), ending in `/`.
    pub api_url: String,
    /// The proxy-style endpoint (the guide's `ajaxOrigin` + `ajaxPath`).
    pub proxy_url: String,
    /// The agent link (`AgentServerUrl`).
    pub agent_server_url: String,
    /// The SIP-over-WebSocket server (`WebRtcUrl`), when this build serves SIP.
    pub sip_ws_url: Option<String>,
    /// TURN access points by region.
    pub turn_servers: Vec<TurnAccess>,
    /// The instance.
    pub instance_id: String,
    /// Its region.
    pub region: String,
    /// The administrator's AccessKey id.
    pub access_key_id: String,
    /// Its secret.
    pub access_key_secret: String,
    /// The agents.
    pub agents: Vec<AgentLogin>,
    /// The admin API.
    pub admin_url: String,
    /// Its bearer token.
    pub admin_token: String,
}

impl fmt::Debug for EmulatorInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorInfo")
            .field("api_url", &self.api_url)
            .field("agent_server_url", &self.agent_server_url)
            .field("sip_ws_url", &self.sip_ws_url)
            .field("instance_id", &self.instance_id)
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .field("agents", &self.agents)
            .field("admin_url", &self.admin_url)
            .field("admin_token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl EmulatorInfo {
    /// The administrator's credentials.
    pub fn credentials(&self) -> Credentials {
        Credentials::new(self.access_key_id.clone(), self.access_key_secret.clone())
    }

    /// Everything as one JSON object (what `ccc emulator` prints), secrets included.
    pub fn to_json(&self) -> Value {
        json!({
            "api_url": self.api_url,
            "proxy_url": self.proxy_url,
            "agent_server_url": self.agent_server_url,
            "sip_ws_url": self.sip_ws_url,
            "turn_servers": self.turn_servers.iter().map(|t| {
                let mut v = json!({ "region": t.region, "urls": t.urls });
                match &t.auth {
                    TurnAuth::Static { username, password } => {
                        v["username"] = username.as_str().into();
                        v["password"] = password.as_str().into();
                    }
                    TurnAuth::Secret(secret) => v["secret"] = secret.as_str().into(),
                }
                v
            }).collect::<Vec<_>>(),
            "instance_id": self.instance_id,
            "region": self.region,
            "access_key_id": self.access_key_id,
            "access_key_secret": self.access_key_secret,
            "agents": self.agents.iter().map(|a| json!({
                "user_id": a.user_id,
                "extension": a.extension,
                "password": a.password,
            })).collect::<Vec<_>>(),
            "admin_url": self.admin_url,
            "admin_token": self.admin_token,
        })
    }
}

/// A running emulator. Dropping it stops it; [`Emulator::shutdown`] stops it and
/// waits for its tasks.
pub struct Emulator {
    info: EmulatorInfo,
    engine: Arc<Engine>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    temp_dir: Option<PathBuf>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

fn random<const N: usize>(rng: &SystemRandom) -> Result<[u8; N], StartError> {
    let mut bytes = [0u8; N];
    rng.fill(&mut bytes).map_err(|_| StartError::Random)?;
    Ok(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn bind(
    what: &'static str,
    addr: SocketAddr,
    allow_remote: bool,
) -> Result<TcpListener, StartError> {
    if !allow_remote && !addr.ip().is_loopback() {
        return Err(StartError::NotLoopback(addr));
    }
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { what, addr, source })
}

fn local(
    listener: &TcpListener,
    what: &'static str,
    addr: SocketAddr,
) -> Result<SocketAddr, StartError> {
    listener
        .local_addr()
        .map_err(|source| StartError::Bind { what, addr, source })
}

/// The TURN access points of the scenario that name their servers.
fn external_turn(scenario: &Scenario) -> Vec<TurnAccess> {
    scenario
        .turn_regions
        .iter()
        .filter(|t| !t.urls.is_empty())
        .map(|t| TurnAccess {
            region: t.region.clone(),
            urls: t.urls.clone(),
            auth: match (&t.username, &t.password, &t.secret) {
                (Some(u), Some(p), _) => TurnAuth::Static {
                    username: u.clone(),
                    password: p.clone(),
                },
                (_, _, secret) => TurnAuth::Secret(secret.clone().unwrap_or_default()),
            },
        })
        .collect()
}

impl Emulator {
    /// Starts an emulator: checks the scenario, binds the listeners (loopback unless
    /// allowed otherwise) and starts serving.
    pub async fn start(config: EmulatorConfig) -> Result<Self, StartError> {
        config.scenario.validate()?;
        if !config.proxy_path.starts_with('/') || config.proxy_path == "/" {
            return Err(StartError::ProxyPath(config.proxy_path));
        }
        let rng = SystemRandom::new();
        let token_secret: [u8; 32] = random(&rng)?;
        let seed = u64::from_le_bytes(random(&rng)?);
        let admin_token = match config.admin_token.clone() {
            Some(t) => t,
            None => hex(&random::<16>(&rng)?),
        };
        let (recordings, temp_dir) = match config.recordings_dir.clone() {
            Some(dir) => (dir, None),
            None => {
                let dir = std::env::temp_dir().join(format!(
                    "ccc-emulator-{}-{}",
                    std::process::id(),
                    hex(&random::<6>(&rng)?)
                ));
                (dir.clone(), Some(dir))
            }
        };
        std::fs::create_dir_all(&recordings).map_err(|source| StartError::Recordings {
            path: recordings.clone(),
            source,
        })?;

        let api = bind("OpenAPI", config.listen, config.allow_remote).await?;
        let link = bind("agent link", config.agent_link_listen, config.allow_remote).await?;
        let api_addr = local(&api, "OpenAPI", config.listen)?;
        let link_addr = local(&link, "agent link", config.agent_link_listen)?;
        let urls = Urls {
            api: format!("http://{api_addr}/"),
            agent_server: format!("ws://{link_addr}/"),
            sip_ws: String::new(),
        };

        let scenario = config.scenario;
        let epoch = Instant::now();
        let epoch_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let platform = Platform::new(scenario.clone(), epoch, epoch_ms)?;
        let mut keys = vec![Key {
            principal: Principal::Admin,
            credentials: Credentials::new(
                scenario.instance.access_key_id.clone(),
                scenario.instance.access_key_secret.clone(),
            ),
        }];
        for (i, a) in scenario.agents.iter().enumerate() {
            if let (Some(id), Some(secret)) = (&a.access_key_id, &a.access_key_secret) {
                keys.push(Key {
                    principal: Principal::Agent(AgentId(i)),
                    credentials: Credentials::new(id.clone(), secret.clone()),
                });
            }
        }
        let turn = external_turn(&scenario);
        let state = State {
            platform,
            gateway: Gateway::new(keys),
            store: Store::default(),
            faults: faults::Faults::default(),
            answers: 0,
        };
        let engine = Arc::new(Engine::new(
            state,
            Tokens::new(&token_secret),
            urls.clone(),
            turn.clone(),
            seed,
            recordings,
            epoch,
            epoch_ms,
        ));

        let (stop, stopped) = watch::channel(false);
        let app = Arc::new(http::App {
            engine: engine.clone(),
            admin_token: admin_token.clone(),
            proxy_path: config.proxy_path.clone(),
            api_param: config.api_param.clone(),
        });
        let router = http::router(app);
        let mut on_stop = stopped.clone();
        let serve_api = tokio::spawn(async move {
            let shutdown = async move {
                let _ = on_stop.changed().await;
            };
            let _ = axum::serve(api, router)
                .with_graceful_shutdown(shutdown)
                .await;
        });
        let serve_link = tokio::spawn(agent_link::serve(engine.clone(), link, stopped.clone()));
        let timers = tokio::spawn(engine.clone().timers(stopped));

        let info = EmulatorInfo {
            proxy_url: format!("http://{api_addr}{}", config.proxy_path),
            api_url: urls.api.clone(),
            agent_server_url: urls.agent_server.clone(),
            sip_ws_url: None,
            turn_servers: turn,
            instance_id: scenario.instance.id.clone(),
            region: scenario.instance.region.clone(),
            access_key_id: scenario.instance.access_key_id.clone(),
            access_key_secret: scenario.instance.access_key_secret.clone(),
            agents: scenario
                .agents
                .iter()
                .map(|a| AgentLogin {
                    user_id: a.user_id.clone(),
                    extension: a.extension.clone(),
                    password: a.password.clone(),
                })
                .collect(),
            admin_url: format!("http://{api_addr}/admin"),
            admin_token,
        };
        Ok(Self {
            info,
            engine,
            stop,
            tasks: vec![serve_api, serve_link, timers],
            temp_dir,
        })
    }

    /// Its URLs and credentials.
    pub fn info(&self) -> &EmulatorInfo {
        &self.info
    }

    /// Runs `f` on the platform (for tests and the load harness: look, or act as the
    /// admin API does); outputs are delivered as after any request.
    pub fn with_platform<R>(&self, f: impl FnOnce(&mut Platform, Instant) -> R) -> R {
        self.engine.run(|s, now| f(&mut s.platform, now))
    }

    /// Stops serving and waits until every task has ended.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
        self.remove_temp_dir();
    }

    fn remove_temp_dir(&mut self) {
        if let Some(dir) = self.temp_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for task in &self.tasks {
            task.abort();
        }
        self.remove_temp_dir();
    }
}
