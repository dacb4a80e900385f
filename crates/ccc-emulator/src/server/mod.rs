//! The running emulator: [`Emulator::start`] binds its listeners on loopback, starts
//! its tasks and answers with its URLs and credentials; dropping it (or
//! [`Emulator::shutdown`]) stops everything.

mod admin;
mod agent_link;
mod engine;
mod faults;
mod http;
mod hub;
mod media;
mod sip;
mod turn;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use ccc_media::call::CallConfig;
use ccc_openapi::Credentials;
use ccc_sip::server::{ListenConfig, ServerConfig, SipServer};
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
    /// The SIP-over-WebSocket server's address.
    pub sip_listen: SocketAddr,
    /// How the emulator's side of each agent leg's WebRTC session is set up (host
    /// candidates on loopback and the fast connect profile by default; set the codecs
    /// to offer here).
    pub media: CallConfig,
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
    /// The address of the embedded TURN servers (one per scenario region without
    /// external URLs, each on a free port, UDP and TCP); their relay sockets are bound
    /// there too. Loopback unless `allow_remote`.
    pub turn_ip: IpAddr,
    /// Let the embedded TURN servers relay to peers off loopback (off by default: they
    /// relay between loopback addresses only).
    pub turn_relay_remote: bool,
    /// How long an agent's call waits for the agent's phone when its SIP flow closes
    /// (default 32 s): a phone that comes back on a new flow and moves the call there
    /// (a re-INVITE, RFC 5626 flow recovery) keeps it, and the platform sees no break;
    /// past this the leg is hung up as before. Zero hangs up at once.
    pub sip_call_grace: std::time::Duration,
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
            sip_listen: any,
            media: CallConfig::loopback(),
            allow_remote: false,
            admin_token: None,
            proxy_path: "/data/api.json".into(),
            api_param: "action".into(),
            recordings_dir: None,
            turn_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            turn_relay_remote: false,
            sip_call_grace: std::time::Duration::from_secs(32),
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
    /// The SIP server did not start.
    #[error("the SIP server did not start: {0}")]
    Sip(#[from] ccc_sip::server::ServerError),
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
    /// The SIP-over-WebSocket server (`WebRtcUrl`).
    pub sip_ws_url: Option<String>,
    /// The SIP domain (`sip:EXTENSION@DOMAIN`): the host of the SIP URL.
    pub sip_domain: String,
    /// Where recordings and what the customers heard are written.
    pub recordings_dir: PathBuf,
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
            "sip_domain": self.sip_domain,
            "recordings_dir": self.recordings_dir,
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
    sip: Option<SipServer>,
    turn: Vec<turn::EmbeddedTurn>,
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

/// How `GetTURNCredentials` makes credentials: the scheme of the first region that names
/// one (every region should share it), else the time-limited scheme under `secret`.
fn turn_scheme(scenario: &Scenario, secret: String) -> TurnAuth {
    scenario
        .turn_regions
        .iter()
        .find_map(|t| match (&t.username, &t.password, &t.secret) {
            (Some(u), Some(p), _) => Some(TurnAuth::Static {
                username: u.clone(),
                password: p.clone(),
            }),
            (_, _, Some(secret)) => Some(TurnAuth::Secret(secret.clone())),
            _ => None,
        })
        .unwrap_or(TurnAuth::Secret(secret))
}

/// Who may use the embedded servers: the credentials of `scheme`, and every region's
/// static user.
fn embedded_users(scenario: &Scenario, scheme: &TurnAuth) -> turn::TurnUsers {
    let mut users = turn::TurnUsers::default();
    match scheme {
        TurnAuth::Secret(secret) => users.secret = Some(secret.clone()),
        TurnAuth::Static { username, password } => {
            users.fixed.push((username.clone(), password.clone()));
        }
    }
    for t in &scenario.turn_regions {
        if let (Some(u), Some(p)) = (&t.username, &t.password) {
            users.fixed.push((u.clone(), p.clone()));
        }
    }
    users
}

/// Starts an embedded TURN server for every region without external URLs, and lists
/// every region's access point in the scenario's order.
async fn start_turn(
    scenario: &Scenario,
    scheme: &TurnAuth,
    ip: IpAddr,
    relay_remote: bool,
    faults: &Arc<faults::MediaFaults>,
    stopped: &watch::Receiver<bool>,
) -> Result<(Vec<TurnAccess>, Vec<turn::EmbeddedTurn>), StartError> {
    let users = embedded_users(scenario, scheme);
    let policy = if relay_remote {
        turn::RelayPolicy::Any
    } else {
        turn::RelayPolicy::LoopbackOnly
    };
    let mut access = Vec::new();
    let mut embedded = Vec::new();
    for t in &scenario.turn_regions {
        let auth = match (&t.username, &t.password, &t.secret) {
            (Some(u), Some(p), _) => TurnAuth::Static {
                username: u.clone(),
                password: p.clone(),
            },
            (_, _, Some(secret)) => TurnAuth::Secret(secret.clone()),
            _ => scheme.clone(),
        };
        let urls = if t.urls.is_empty() {
            let server = turn::EmbeddedTurn::start(
                ip,
                users.clone(),
                policy,
                faults.clone(),
                stopped.clone(),
            )
            .await;
            let server = match server {
                Ok(server) => server,
                Err(e) => {
                    embedded.iter().for_each(turn::EmbeddedTurn::abort);
                    return Err(e);
                }
            };
            let urls = server.urls();
            embedded.push(server);
            urls
        } else {
            t.urls.clone()
        };
        access.push(TurnAccess {
            region: t.region.clone(),
            urls,
            auth,
        });
    }
    Ok((access, embedded))
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
        let turn_secret = hex(&random::<16>(&rng)?);
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
        if !config.allow_remote && !config.sip_listen.ip().is_loopback() {
            return Err(StartError::NotLoopback(config.sip_listen));
        }
        if !config.allow_remote && !config.turn_ip.is_loopback() {
            return Err(StartError::NotLoopback(SocketAddr::new(config.turn_ip, 0)));
        }
        let scenario = config.scenario;
        let passwords: std::collections::HashMap<String, String> = scenario
            .agents
            .iter()
            .map(|a| (a.extension.clone(), a.password.clone()))
            .collect();
        let sip_domain = config.sip_listen.ip().to_string();
        let mut sip_config = ServerConfig::new(sip_domain.clone());
        sip_config.flow_grace = config.sip_call_grace;
        let (sip, sip_events) = SipServer::start(
            sip_config,
            ListenConfig::ws(config.sip_listen),
            Arc::new(passwords),
            seed ^ 0x51_9000,
        )
        .await?;
        let sip_ws = sip.ws_url().unwrap_or_default();
        let urls = Urls {
            api: format!("http://{api_addr}/"),
            agent_server: format!("ws://{link_addr}/"),
            sip_ws: sip_ws.clone(),
        };

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
        let (stop, stopped) = watch::channel(false);
        let turn_auth = turn_scheme(&scenario, turn_secret);
        let media_faults = Arc::new(faults::MediaFaults::default());
        let (turn, embedded_turn) = start_turn(
            &scenario,
            &turn_auth,
            config.turn_ip,
            config.turn_relay_remote,
            &media_faults,
            &stopped,
        )
        .await?;
        let (legs_tx, legs_rx) = tokio::sync::mpsc::unbounded_channel();
        let (dtmf_tx, dtmf_rx) = tokio::sync::mpsc::unbounded_channel();
        let media = Arc::new(media::MediaHub::new(
            recordings.clone(),
            scenario.platform.record_calls,
            dtmf_tx,
        ));
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
            turn_auth,
            seed,
            recordings.clone(),
            epoch,
            epoch_ms,
            legs_tx,
        ));
        let shell = Arc::new(sip::SipShell::new(
            sip.clone(),
            sip_domain.clone(),
            media.clone(),
            config.media.clone(),
        ));

        let app = Arc::new(http::App {
            engine: engine.clone(),
            admin_token: admin_token.clone(),
            proxy_path: config.proxy_path.clone(),
            api_param: config.api_param.clone(),
            sip: shell.clone(),
            media_faults,
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
        let timers = tokio::spawn(engine.clone().timers(stopped.clone()));
        let commands = tokio::spawn(shell.clone().run_commands(
            engine.clone(),
            legs_rx,
            dtmf_rx,
            stopped.clone(),
        ));
        let sip_events = tokio::spawn(shell.clone().run_events(engine.clone(), sip_events));
        let mixer = tokio::spawn(media.run(stopped));

        let info = EmulatorInfo {
            proxy_url: format!("http://{api_addr}{}", config.proxy_path),
            api_url: urls.api.clone(),
            agent_server_url: urls.agent_server.clone(),
            sip_ws_url: Some(sip_ws),
            sip_domain,
            recordings_dir: recordings,
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
            tasks: vec![serve_api, serve_link, timers, commands, sip_events, mixer],
            temp_dir,
            sip: Some(sip),
            turn: embedded_turn,
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
        if let Some(sip) = self.sip.take() {
            sip.shutdown().await;
        }
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
        for server in std::mem::take(&mut self.turn) {
            server.join().await;
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
        self.turn.iter().for_each(turn::EmbeddedTurn::abort);
        self.remove_temp_dir();
    }
}
