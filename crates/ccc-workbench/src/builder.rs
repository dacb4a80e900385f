//! [`WorkbenchBuilder`]: `new WorkbenchSdk(config)` in Rust.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ccc_core::config::Config;
use ccc_media::call::CallConfig;
use ccc_sip::transport::TlsRoots;
use tokio::sync::broadcast;

use crate::audio::{AudioFactory, SharedAudio, SilentAudio};
use crate::error::Error;
use crate::event::{Event, EventStream};
use crate::hook::{BeforeCallDialing, BeforeDialHook, Dial};
use crate::workbench::Workbench;
use ccc_openapi::Client;

/// How the SIP device authenticates to `WebRtcUrl`.
#[derive(Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SipAuth {
    /// As the platform hands it out: the extension as the digest user and
    /// `GetLoginDetails`' `Signature2` (the signature for SIP registration) as the
    /// password; the login token's `Signature` when that action gives none.
    #[default]
    Platform,
    /// The extension as the digest user, with this password (a deployment that gives
    /// agents SIP passwords of their own).
    Password(String),
}

impl std::fmt::Debug for SipAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Platform => f.write_str("Platform"),
            Self::Password(_) => f.write_str("Password(<redacted>)"),
        }
    }
}

/// The links' timings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LinkOptions {
    /// Poll `PollUserStatus` this often while the agent link's push WebSocket is down
    /// (default 2 s).
    pub poll_every: Duration,
    /// Send a heartbeat frame on the agent link this often (default 10 s).
    pub heartbeat_every: Duration,
    /// A link that heard nothing for this long is dead and reconnected (default 30 s).
    pub dead_after: Duration,
    /// First reconnect delay, doubling up to `max_backoff` (default 250 ms).
    pub min_backoff: Duration,
    /// Longest reconnect delay (default 10 s).
    pub max_backoff: Duration,
    /// Limit for one connection attempt, TLS and handshake included (default 10 s).
    pub connect_timeout: Duration,
    /// A connection that takes longer than this is reported as `WSConnectSlowly`
    /// (default 3 s).
    pub slow_connect: Duration,
    /// Whom `wss://` servers' certificates must come from.
    pub roots: TlsRoots,
    /// How the SIP device authenticates.
    pub sip_auth: SipAuth,
    /// SIP registration lifetime asked for, in seconds (default 600).
    pub sip_expires: u32,
    /// How long a call outlives its SIP link (default 32 s): the SIP client keeps the
    /// call's dialog, reconnects, registers again and moves the call to the new link
    /// (RFC 5626 flow recovery) while the media goes on; past this, or when the
    /// platform no longer knows the call, it is released with `onErrorNotify` and a
    /// fault report. Zero releases it with the link.
    pub sip_call_grace: Duration,
}

impl Default for LinkOptions {
    fn default() -> Self {
        Self {
            poll_every: Duration::from_secs(2),
            heartbeat_every: Duration::from_secs(10),
            dead_after: Duration::from_secs(30),
            min_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            slow_connect: Duration::from_secs(3),
            roots: TlsRoots::Platform,
            sip_auth: SipAuth::Platform,
            sip_expires: 600,
            sip_call_grace: Duration::from_secs(32),
        }
    }
}

/// Everything the driver needs, fixed at build time.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) config: Config,
    pub(crate) user_id: String,
    pub(crate) device_id: String,
    pub(crate) audio: SharedAudio,
    pub(crate) call: CallConfig,
    pub(crate) hook: Option<BeforeDialHook>,
    pub(crate) method_timeout: Duration,
    pub(crate) register_timeout: Duration,
    pub(crate) token_refresh: Duration,
    pub(crate) links: LinkOptions,
    pub(crate) local: LocalOptions,
    pub(crate) record_dir: Option<PathBuf>,
    pub(crate) browser_version: String,
    pub(crate) sip_device: bool,
}

/// One registered workbench per agent per machine (section 10).
#[derive(Debug, Clone, Default)]
pub(crate) struct LocalOptions {
    /// Off: no lock, no control endpoint (tests that run many agents of one user).
    pub(crate) disabled: bool,
    /// Where the lock files and sockets live; the user's default when `None`.
    pub(crate) dir: Option<PathBuf>,
    /// Take over from a registered process instead of failing.
    pub(crate) take_over: bool,
}

/// Builds a [`Workbench`]: the guide's config (C2-C41) as a typed [`Config`], the
/// OpenAPI client (C13-C20 proxy, C41 custom function, or direct), the agent, and
/// what a Rust program adds: audio, media settings, timeouts, the H25 hook.
///
/// ```no_run
/// # async fn run(client: ccc_openapi::Client) -> Result<(), ccc_workbench::Error> {
/// use ccc_core::config::Config;
/// use ccc_workbench::Workbench;
///
/// let config = Config::builder("ccc-test", false).after_call_rule_seconds(5).build().unwrap();
/// let builder = Workbench::builder(config, client, "agent@ccc-test");
/// let mut events = builder.events(); // subscribed before build: sees onInit
/// let workbench = builder.build().await?;
/// workbench.register(None, "default").await?;
/// # let _ = events.recv().await;
/// # Ok(()) }
/// ```
#[must_use]
pub struct WorkbenchBuilder {
    config: Config,
    client: Client,
    user_id: String,
    device_id: Option<String>,
    audio: Arc<dyn AudioFactory>,
    call: CallConfig,
    hook: Option<BeforeDialHook>,
    method_timeout: Duration,
    register_timeout: Duration,
    token_refresh: Duration,
    links: LinkOptions,
    local: LocalOptions,
    record_dir: Option<PathBuf>,
    sip_device: bool,
    events: broadcast::Sender<Event>,
}

impl std::fmt::Debug for WorkbenchBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkbenchBuilder")
            .field("config", &self.config)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// The default event buffer per subscriber (a call ends with five events, a consultation
/// with a dozen; every slot is allocated at build time, so it is not larger).
const EVENT_BUFFER: usize = 32;

/// How long H25 may take by default.
const HOOK_TIMEOUT: Duration = Duration::from_secs(30);

impl WorkbenchBuilder {
    pub(crate) fn new(config: Config, client: Client, user_id: impl Into<String>) -> Self {
        Self {
            config,
            client,
            user_id: user_id.into(),
            device_id: None,
            audio: Arc::new(SilentAudio),
            call: CallConfig::default(),
            hook: None,
            method_timeout: Duration::from_secs(15),
            register_timeout: Duration::from_secs(30),
            token_refresh: Duration::from_secs(20 * 60),
            links: LinkOptions::default(),
            local: LocalOptions::default(),
            record_dir: None,
            sip_device: true,
            events: broadcast::channel(EVENT_BUFFER).0,
        }
    }

    /// A stream of the workbench's events, from the first (`onInit`) on. Streams taken
    /// from the [`Workbench`] later start with the next event.
    pub fn events(&self) -> EventStream {
        EventStream::new(self.events.subscribe())
    }

    /// How many events each subscriber may fall behind before it gets
    /// [`Event::Lagged`] (default 32). Call it before [`events`](Self::events).
    pub fn event_buffer(mut self, events: usize) -> Self {
        if self.events.receiver_count() == 0 {
            self.events = broadcast::channel(events.max(1)).0;
        }
        self
    }

    /// Each call's audio (default: silence out, nothing in).
    pub fn audio(mut self, factory: impl AudioFactory) -> Self {
        self.audio = Arc::new(factory);
        self
    }

    /// The media settings of each call: codecs, host candidates, ICE profile, jitter
    /// buffer. The ICE servers come from the access point; recording (C12) and stats
    /// (C37) from the config.
    pub fn call_config(mut self, call: CallConfig) -> Self {
        self.call = call;
        self
    }

    /// H25 `onBeforeCallDialing`: asked before every `call`; the call goes on only when
    /// it answers [`Dial::Proceed`] or [`Dial::ProceedWith`] within 30 s.
    pub fn before_call_dialing<F, Fut>(self, hook: F) -> Self
    where
        F: Fn(BeforeCallDialing) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Dial> + Send + 'static,
    {
        self.before_call_dialing_within(HOOK_TIMEOUT, hook)
    }

    /// H25 with its own timeout.
    pub fn before_call_dialing_within<F, Fut>(mut self, timeout: Duration, hook: F) -> Self
    where
        F: Fn(BeforeCallDialing) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Dial> + Send + 'static,
    {
        self.hook = Some(BeforeDialHook::new(hook, timeout));
        self
    }

    /// The device id the agent signs in on (default: one made from the instance, the
    /// agent and the machine, stable across restarts). Another device signing in as the
    /// same agent kicks this one out (`KA_register`).
    pub fn device_id(mut self, id: impl Into<String>) -> Self {
        self.device_id = Some(id.into());
        self
    }

    /// How long a method may take to settle (default 15 s); `register` has its own.
    pub fn method_timeout(mut self, timeout: Duration) -> Self {
        self.method_timeout = timeout;
        self
    }

    /// How long `register` may take to reach ready (default 30 s).
    pub fn register_timeout(mut self, timeout: Duration) -> Self {
        self.register_timeout = timeout;
        self
    }

    /// Renew the login token (`RefreshToken`) this often (default 20 minutes).
    pub fn token_refresh(mut self, every: Duration) -> Self {
        self.token_refresh = every;
        self
    }

    /// The links' timings, TLS roots and SIP authentication.
    pub fn links(mut self, links: LinkOptions) -> Self {
        self.links = links;
        self
    }

    /// Where the per-agent lock and control socket live (default
    /// `$XDG_RUNTIME_DIR/ccc-rs`).
    pub fn local_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.local.dir = Some(dir.into());
        self
    }

    /// When another process is this agent's registered workbench, ask it to let go
    /// instead of failing (as a second sign-in in the browser kicks out the first).
    pub fn take_over(mut self, on: bool) -> Self {
        self.local.take_over = on;
        self
    }

    /// No machine-wide lock and no control endpoint (many workbenches of one agent in
    /// tests; C23 is then unavailable).
    pub fn without_local_lock(mut self) -> Self {
        self.local.disabled = true;
        self
    }

    /// Where agent-side recordings (C12) are written before upload (default: the
    /// system's temporary directory).
    pub fn record_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.record_dir = Some(dir.into());
        self
    }

    /// Whether this workbench is the agent's phone (default true): it registers the
    /// extension over SIP at `WebRtcUrl` and carries each call's audio. Off, it controls
    /// the agent only: the calls ring on the agent's other device (a desk phone, the
    /// mobile, or a platform that answers for virtual devices), `answer` goes through
    /// the platform (`AnswerCall`), and `onRegister` comes when the agent link is up.
    pub fn sip_device(mut self, on: bool) -> Self {
        self.sip_device = on;
        self
    }

    /// Builds the workbench and starts its driver; `onInit` (H21) is the first event.
    /// Must run inside a tokio runtime.
    pub async fn build(self) -> Result<Workbench, Error> {
        if self.user_id.trim().is_empty() {
            return Err(Error::unavailable(
                "new WorkbenchSdk",
                "the agent's UserId is empty",
            ));
        }
        let device_id = self
            .device_id
            .unwrap_or_else(|| default_device_id(self.config.instance_id(), &self.user_id));
        let settings = Settings {
            config: self.config,
            user_id: self.user_id,
            device_id,
            audio: SharedAudio(self.audio),
            call: self.call,
            hook: self.hook,
            method_timeout: self.method_timeout,
            register_timeout: self.register_timeout,
            token_refresh: self.token_refresh,
            links: self.links,
            local: self.local,
            record_dir: self.record_dir,
            sip_device: self.sip_device,
            browser_version: concat!("ccc-rs/", env!("CARGO_PKG_VERSION")).to_owned(),
        };
        Ok(Workbench::start(
            Arc::new(settings),
            self.client,
            self.events,
        ))
    }
}

/// A device id stable for this instance, agent and machine.
fn default_device_id(instance_id: &str, user_id: &str) -> String {
    let machine = std::fs::read_to_string("/etc/machine-id")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .unwrap_or_default();
    // FNV-1a by hand: std's hasher is not promised to stay the same across releases.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in instance_id
        .bytes()
        .chain([0])
        .chain(user_id.bytes())
        .chain([0])
        .chain(machine.trim().bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // A URN, so that the same id serves as the SIP registration's `+sip.instance`
    // (RFC 5626), and a kick-out of the device closes exactly its links.
    let hex = format!("{h:016x}{:016x}", h.rotate_left(29) ^ 0x9e37_79b9_7f4a_7c15);
    format!(
        "urn:uuid:{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_ids_are_stable_and_differ_per_agent() {
        let a = default_device_id("ccc-test", "alice@ccc-test");
        assert_eq!(a, default_device_id("ccc-test", "alice@ccc-test"));
        assert_ne!(a, default_device_id("ccc-test", "bob@ccc-test"));
        assert!(a.starts_with("urn:uuid:") && a.len() == 45, "{a}");
    }
}
