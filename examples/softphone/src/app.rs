//! The panel's state: a plain struct driven by the workbench's events
//! ([`App::on_event`]), the user's keys ([`App::on_key`]) and the answers to what it
//! asked ([`App::on_outcome`]). Each of them may return [`Command`]s for the workbench
//! bridge to carry out. Time enters as an argument, so everything here is tested
//! without a terminal, a clock or a network.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ccc_core::config::{AfterCallRule, Config};
use ccc_core::helpers::SkillGroupOfUser;
use ccc_core::{ErrorNotify, Operation, OperationSet, Status, allowed_in};
use ccc_media::access_point::RegionReport;
use ccc_openapi::v2017;
use ccc_workbench::event::ReadyKind;
use ccc_workbench::{CallLogPage, Event, Recording};
use ratatui::crossterm::event::KeyEvent;

use crate::command::{Command, DeviceCheck, Failure, Outcome, Payload};
use crate::keys::{self, Intent};
use crate::options::{HeaderAction, NavItem, PanelOptions};

/// How long a message stays in the panel's footer.
pub const TOAST_FOR: Duration = Duration::from_secs(6);
/// How many messages the panel keeps ([`App::messages`]).
pub const MESSAGES: usize = 50;
/// The longest number the dial pad takes.
pub const MAX_DIGITS: usize = 32;
/// How many calls the call log asks for per page.
pub const CALL_LOG_PAGE: i64 = 20;

/// The break kinds the break prompt offers (M6: id 1-5 and a name).
pub const BREAKS: [(i64, &str); 5] = [
    (1, "Rest"),
    (2, "Meeting"),
    (3, "Lunch"),
    (4, "Errand"),
    (5, "Training"),
];

/// What the panel needs of the guide's non-UI options, and of where it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// C10.
    pub after_call: AfterCallRule,
    /// C11.
    pub auto_answer: Option<Duration>,
    /// The ring timeout (30 s in the guide).
    pub ring_timeout: Duration,
    /// C21: errors show their code, API and request id.
    pub export_error_of_api: bool,
    /// C39: calls relay through access points.
    pub switch_adapter: bool,
    /// The customer the `i` key makes call in, with the embedded emulator:
    /// `(caller, hotline)`; `None` against a real deployment.
    pub customer: Option<(String, String)>,
}

impl Rules {
    /// The rules of `config`; `customer` when an embedded emulator can place calls.
    pub fn new(config: &Config, customer: Option<(String, String)>) -> Self {
        Self {
            after_call: config.after_call_rule(),
            auto_answer: config.auto_answer_call(),
            ring_timeout: config.ring_timeout(),
            export_error_of_api: config.export_error_of_api(),
            switch_adapter: config.enable_switch_adapter(),
            customer,
        }
    }
}

/// Who the agent is (H22's configuration).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Agent {
    /// `agent@instance`.
    pub user_id: String,
    /// The name to show.
    pub display_name: Option<String>,
    /// The SIP extension.
    pub extension: Option<String>,
}

/// What kind of call the agent is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// A customer called (H23).
    Inbound,
    /// The agent dialed (H24).
    Outbound,
    /// Agent to agent (status 11).
    Internal,
    /// Listening to another agent's call (status 21).
    Monitor,
}

impl CallKind {
    /// A word for the panel.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Inbound => "inbound",
            Self::Outbound => "outbound",
            Self::Internal => "internal",
            Self::Monitor => "monitoring",
        }
    }
}

/// The current call, or the last one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Its kind.
    pub kind: CallKind,
    /// `connid`.
    pub connid: Option<String>,
    /// The calling number.
    pub caller: Option<String>,
    /// The called number.
    pub callee: Option<String>,
    /// `contactId` (for the call log and recordings).
    pub contact_id: Option<String>,
    /// The skill group it came through.
    pub skill_group: Option<String>,
    /// The IVR's associated data (H26 `privateData.data`).
    pub ivr_data: Option<String>,
    /// The codec of its audio, once it flows.
    pub codec: Option<String>,
    /// Keys the far end pressed.
    pub heard_dtmf: String,
    /// Keys the agent sent.
    pub sent_dtmf: String,
    /// The third party of a consultation or conference.
    pub third: Option<String>,
    /// When it began to ring or dial.
    pub began: Instant,
    /// When it was connected (H26).
    pub connected: Option<Instant>,
    /// When it ended, and how (H33's type).
    pub ended: Option<(Instant, &'static str)>,
}

impl Call {
    fn new(kind: CallKind, now: Instant) -> Self {
        Self {
            kind,
            connid: None,
            caller: None,
            callee: None,
            contact_id: None,
            skill_group: None,
            ivr_data: None,
            codec: None,
            heard_dtmf: String::new(),
            sent_dtmf: String::new(),
            third: None,
            began: now,
            connected: None,
            ended: None,
        }
    }

    /// The far end's number: the caller of an inbound call, else the callee.
    pub fn far_end(&self) -> Option<&str> {
        match self.kind {
            CallKind::Inbound => self.caller.as_deref(),
            _ => self.callee.as_deref(),
        }
    }

    /// How long it has been talking (or talked).
    pub fn talk_time(&self, now: Instant) -> Option<Duration> {
        let end = self.ended.map_or(now, |(t, _)| t);
        self.connected.map(|c| end.saturating_duration_since(c))
    }
}

/// Data the panel loads, and where the loading stands.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Loadable<T> {
    /// Not asked for yet.
    #[default]
    Idle,
    /// Asked for.
    Loading,
    /// Here.
    Ready(T),
    /// Could not be had.
    Failed(String),
}

impl<T> Loadable<T> {
    /// The data, when it is here.
    pub fn get(&self) -> Option<&T> {
        match self {
            Self::Ready(t) => Some(t),
            _ => None,
        }
    }
}

/// The lists and reports of the side-navigation views.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Lists {
    /// The call log's current page.
    pub call_log: Loadable<CallLogPage>,
    /// Its total (CCC sends it with page 1 only).
    pub call_log_total: Option<i64>,
    /// Agents (transfer and conference targets).
    pub agents: Loadable<Vec<v2017::list_real_time_agent::User>>,
    /// The agent's skill groups (transfer targets, listed after the agents).
    pub groups: Loadable<Vec<SkillGroupOfUser>>,
    /// Agent states (monitor targets).
    pub states: Loadable<v2017::list_agent_states::AgentStatePage>,
    /// Today's figures.
    pub my_work: Loadable<Box<v2017::GenerateAgentStatisticReportResponse>>,
    /// The device check.
    pub device: Loadable<Box<DeviceCheck>>,
    /// The access points, timed.
    pub access_points: Loadable<Vec<RegionReport>>,
    /// The recordings of one call.
    pub recordings: Option<(String, Loadable<Vec<Recording>>)>,
}

/// A question the panel is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// Which break (1-5).
    Break,
    /// The mobile number to answer on (M15).
    Mobile(String),
    /// The keys.
    Help,
}

/// A message in the footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    /// The text.
    pub text: String,
    /// Whether it reports an error.
    pub error: bool,
    /// When it goes.
    pub until: Instant,
}

/// The softphone panel's whole state.
#[derive(Debug, Clone)]
pub struct App {
    /// The UI options (C4-C40).
    pub options: PanelOptions,
    /// The other options it honours.
    pub rules: Rules,
    /// Who is signed in.
    pub agent: Agent,
    /// The status (table S).
    pub status: Status,
    /// The status before.
    pub last_status: Status,
    /// When the status last changed.
    pub since: Instant,
    /// The current or last call.
    pub call: Option<Call>,
    /// The view shown.
    pub nav: NavItem,
    /// The dial pad's number field.
    pub entry: String,
    /// The agent's outbound numbers (A1).
    pub callers: Vec<String>,
    /// The calling number chosen: 0 the default, 1 `auto`, then each of `callers`.
    pub caller_index: usize,
    /// The headset volume the panel applies (0-1).
    pub volume: f64,
    /// Whether the microphone is muted.
    pub muted: bool,
    /// Outbound only (M29).
    pub call_only: bool,
    /// Answering on this mobile (M15).
    pub mobile: Option<String>,
    /// The access point calls use.
    pub access_point: String,
    /// M0: the panel is shown.
    pub visible: bool,
    /// C38: the panel is minimised.
    pub minimised: bool,
    /// A question being asked.
    pub prompt: Option<Prompt>,
    /// The footer's message.
    pub toast: Option<Toast>,
    /// The last hook, for the footer.
    pub last_event: Option<String>,
    /// Every message shown, the last [`MESSAGES`] of them, oldest first.
    pub messages: std::collections::VecDeque<String>,
    /// The views' data.
    pub lists: Lists,
    /// The selected row of each list view.
    pub selected: HashMap<NavItem, usize>,
    /// The call-log page shown.
    pub call_log_page: i64,
    /// What was asked and has not answered yet.
    pub in_flight: Vec<&'static str>,
    /// The user asked to quit.
    pub quit: bool,
    bell: bool,
}

impl App {
    /// A panel at its start: unregistered, on the first view.
    pub fn new(options: PanelOptions, rules: Rules, now: Instant) -> Self {
        let nav = options.nav()[0];
        Self {
            visible: options.default_visible,
            options,
            rules,
            agent: Agent::default(),
            status: Status::Unregistered,
            last_status: Status::Unregistered,
            since: now,
            call: None,
            nav,
            entry: String::new(),
            callers: Vec::new(),
            caller_index: 0,
            volume: 1.0,
            muted: false,
            call_only: false,
            mobile: None,
            access_point: "default".to_owned(),
            minimised: false,
            prompt: None,
            toast: None,
            last_event: None,
            messages: std::collections::VecDeque::new(),
            lists: Lists::default(),
            selected: HashMap::new(),
            call_log_page: 1,
            in_flight: Vec::new(),
            quit: false,
            bell: false,
        }
    }

    /// What the panel asks at start: the first sign-in (the guide's FAQ: `register`
    /// from `onInit` for a sign-in the agent does not see).
    pub fn start(&mut self) -> Vec<Command> {
        vec![Command::Register]
    }

    /// What the current status allows (table K).
    pub fn allowed(&self) -> OperationSet {
        allowed_in(self.status)
    }

    fn allows(&self, op: Operation) -> bool {
        self.allowed().contains(op)
    }

    /// How long the agent has been in this status.
    pub fn in_status(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.since)
    }

    /// In after-call work with C10 in seconds: how long until ready.
    pub fn after_call_left(&self, now: Instant) -> Option<Duration> {
        match (self.status, self.rules.after_call) {
            (Status::AfterCallWork, AfterCallRule::After(d)) => {
                Some(d.saturating_sub(self.in_status(now)))
            }
            _ => None,
        }
    }

    /// While ringing with C11: how long until the call is answered by itself.
    pub fn auto_answer_left(&self, now: Instant) -> Option<Duration> {
        match (self.status, self.rules.auto_answer) {
            (Status::Ringing, Some(d)) => Some(d.saturating_sub(self.in_status(now))),
            _ => None,
        }
    }

    /// While ringing: how long until the ring timeout puts the agent on break.
    pub fn ring_left(&self, now: Instant) -> Option<Duration> {
        (self.status == Status::Ringing)
            .then(|| self.rules.ring_timeout.saturating_sub(self.in_status(now)))
    }

    /// The calling number chosen, as `call` takes it: `""`, `"auto"` or a number.
    pub fn caller(&self) -> &str {
        match self.caller_index {
            0 => "",
            1 => "auto",
            n => self.callers.get(n - 2).map_or("", String::as_str),
        }
    }

    /// The selected row of the current view.
    pub fn selection(&self) -> usize {
        self.selected.get(&self.nav).copied().unwrap_or(0)
    }

    /// Whether a notification (the terminal bell) is due, once.
    pub fn take_bell(&mut self) -> bool {
        std::mem::take(&mut self.bell)
    }

    /// The footer's message, while it lasts.
    pub fn toast(&self, now: Instant) -> Option<&Toast> {
        self.toast.as_ref().filter(|t| t.until > now)
    }

    fn say(&mut self, now: Instant, text: impl Into<String>) {
        self.tell(now, text.into(), false);
    }

    fn warn(&mut self, now: Instant, text: impl Into<String>) {
        self.tell(now, text.into(), true);
    }

    fn tell(&mut self, now: Instant, text: String, error: bool) {
        if self.messages.len() == MESSAGES {
            self.messages.pop_front();
        }
        self.messages.push_back(text.clone());
        let lasts = if error {
            TOAST_FOR + TOAST_FOR
        } else {
            TOAST_FOR
        };
        self.toast = Some(Toast {
            text,
            error,
            until: now + lasts,
        });
    }

    /// An operation error as the panel shows it: the guide's tip, and with C21
    /// (`exportErrorOfApi`) the message, code, API and request id.
    pub fn error_text(&self, e: &ErrorNotify) -> String {
        if self.rules.export_error_of_api {
            format!(
                "{} | {} | ErrorCode {} | ApiName {} | RequestId {}",
                e.msg_tip,
                e.msg,
                e.code.as_str(),
                e.api,
                e.request_id.as_deref().unwrap_or("-")
            )
        } else {
            e.msg_tip.to_string()
        }
    }

    // ----- the workbench's events -----

    /// A workbench event.
    pub fn on_event(&mut self, now: Instant, event: &Event) -> Vec<Command> {
        self.last_event = Some(event.hook_name().to_owned());
        let mut commands = Vec::new();
        match event {
            Event::Register(info) => {
                self.agent = Agent {
                    user_id: info.user_id.clone(),
                    display_name: info.display_name.clone(),
                    extension: Some(info.extension.clone()),
                };
                self.access_point.clone_from(&info.access_point);
                if self.callers.is_empty() {
                    commands.push(Command::LoadCallers);
                }
            }
            Event::StatusChange(change) => self.set_status(now, change.code, change.last_code),
            Event::CallComing(c) => {
                let mut call = Call::new(CallKind::Inbound, now);
                call.connid = text(c.connid.as_deref());
                call.caller = text(c.caller.as_deref());
                call.callee = text(c.callee.as_deref());
                call.contact_id = text(c.contact_id.as_deref());
                call.skill_group = text(c.skillgroup_id.as_deref());
                let from = call.caller.clone().unwrap_or_else(|| "unknown".into());
                self.call = Some(call);
                self.show(NavItem::Inbound);
                if !self.options.customized_notification {
                    self.bell = true;
                    self.say(now, format!("Incoming call from {from}"));
                }
            }
            Event::CallDialing(c) => {
                let consulting = matches!(
                    self.status,
                    Status::Hold | Status::ConsultInitiated | Status::ConsultCall
                );
                match self.call.as_mut() {
                    Some(call) if consulting && call.ended.is_none() => {
                        if call.third.is_none() {
                            call.third = text(c.callee.as_deref());
                        }
                    }
                    _ => {
                        let mut call = Call::new(CallKind::Outbound, now);
                        call.connid = text(c.connid.as_deref());
                        call.caller = text(c.caller.as_deref());
                        call.callee = text(c.callee.as_deref());
                        call.contact_id = text(c.contact_id.as_deref());
                        self.call = Some(call);
                        if self.nav != NavItem::Monitor {
                            self.show(NavItem::Outbound);
                        }
                    }
                }
            }
            Event::CallEstablish(d) => {
                if let Some(call) = self.call.as_mut() {
                    call.connected.get_or_insert(now);
                    if call.contact_id.is_none() {
                        call.contact_id = text(d.private_data.acid.as_deref());
                    }
                    if let Some(data) = text(d.private_data.data.as_deref()) {
                        call.ivr_data = Some(data);
                    }
                    if let Some(group) = text(d.private_data.skillgroupname.as_deref()) {
                        call.skill_group = Some(group);
                    }
                }
                if (self.volume - 1.0).abs() > f64::EPSILON {
                    commands.push(Command::Volume(self.volume));
                }
            }
            Event::CallRelease(_) => {
                self.muted = false;
                if let Some(call) = self.call.as_mut() {
                    call.ended.get_or_insert((now, "released"));
                }
            }
            Event::HangUp { kind } => {
                if let Some(call) = self.call.as_mut() {
                    call.ended = Some((now, kind.as_str()));
                }
                self.muted = false;
            }
            Event::ErrorNotify(e) => {
                let text = self.error_text(e);
                self.warn(now, text);
            }
            Event::LogOut { reason } if reason.code() != "AB_normal" => {
                self.warn(now, format!("Signed out: {}", reason.code()));
            }
            Event::Break { code } if code.as_deref() == Some("RingingTimeout") => {
                self.warn(
                    now,
                    "The call rang unanswered: on break (ring timeout). r: ready",
                );
            }
            Event::Ready { kind } if *kind == ReadyKind::Offline && self.mobile.is_none() => {
                self.mobile = Some(String::new());
            }
            Event::Dtmf { digit } => {
                if let Some(call) = self.call.as_mut() {
                    call.heard_dtmf.push(*digit);
                }
            }
            Event::MediaConnected { codec } => {
                if let Some(call) = self.call.as_mut() {
                    call.codec.clone_from(codec);
                }
            }
            _ => {}
        }
        commands
    }

    /// The status is now `code` (after `last`): from an event, or read after the
    /// events stream fell behind.
    pub fn set_status(&mut self, now: Instant, code: Status, last: Status) {
        if code == self.status {
            return;
        }
        self.status = code;
        self.last_status = last;
        self.since = now;
        if let Some(call) = self.call.as_mut().filter(|c| c.ended.is_none()) {
            match code {
                Status::InternalCall => call.kind = CallKind::Internal,
                Status::Monitoring => call.kind = CallKind::Monitor,
                _ => {}
            }
        }
        if code == Status::Ringing {
            self.show(NavItem::Inbound);
        }
    }

    /// Shows `item` if the panel has it.
    fn show(&mut self, item: NavItem) {
        if self.options.nav().contains(&item) {
            self.nav = item;
        }
    }

    // ----- keys -----

    /// A key press.
    pub fn on_key(&mut self, now: Instant, key: KeyEvent) -> Vec<Command> {
        keys::intent(key).map_or_else(Vec::new, |i| self.on_intent(now, i))
    }

    /// What a key asked for.
    pub fn on_intent(&mut self, now: Instant, intent: Intent) -> Vec<Command> {
        if let Some(prompt) = self.prompt.take() {
            return self.on_prompt(now, prompt, intent);
        }
        if !self.visible && !matches!(intent, Intent::ToggleVisible | Intent::Quit) {
            return Vec::new();
        }
        use Intent as I;
        let one = |c: Command| vec![c];
        match intent {
            I::Digit(c) => self.digit(c),
            I::Backspace => {
                self.entry.pop();
                Vec::new()
            }
            I::Escape => {
                self.entry.clear();
                self.toast = None;
                self.lists.recordings = None;
                Vec::new()
            }
            I::Confirm => self.confirm(now),
            I::NextView | I::PrevView | I::View(_) => {
                let nav = self.options.nav();
                let at = nav.iter().position(|n| *n == self.nav).unwrap_or(0);
                let to = match intent {
                    I::NextView => (at + 1) % nav.len(),
                    I::PrevView => (at + nav.len() - 1) % nav.len(),
                    I::View(n) if n < nav.len() => n,
                    _ => at,
                };
                self.nav = nav[to];
                self.load_view(false)
            }
            I::Up | I::Down => {
                let len = self.list_len();
                let at = self.selection();
                let to = match intent {
                    I::Up => at.saturating_sub(1),
                    _ => (at + 1).min(len.saturating_sub(1)),
                };
                self.selected.insert(self.nav, to);
                Vec::new()
            }
            I::PageUp | I::PageDown if self.nav == NavItem::CallLog => {
                let page = if intent == I::PageUp {
                    (self.call_log_page - 1).max(1)
                } else {
                    self.call_log_page + 1
                };
                self.call_log_page = page;
                self.selected.insert(NavItem::CallLog, 0);
                self.lists.call_log = Loadable::Loading;
                one(Command::LoadCallLog { page })
            }
            I::PageUp | I::PageDown => Vec::new(),
            I::PrevCaller | I::NextCaller => {
                let n = self.callers.len() + 2;
                self.caller_index = if intent == I::NextCaller {
                    (self.caller_index + 1) % n
                } else {
                    (self.caller_index + n - 1) % n
                };
                Vec::new()
            }
            I::Answer => one(Command::Answer),
            I::HangUp => one(Command::HangUp),
            I::HoldOrRetrieve => {
                if self.allows(Operation::CallRetrieve) {
                    one(Command::Retrieve)
                } else {
                    one(Command::Hold)
                }
            }
            I::Mute => one(Command::ToggleMute),
            I::Ready => one(Command::Ready),
            I::Redial => one(Command::Redial),
            I::Dial => self.dial(now),
            I::OnlyOutbound => self.header(now, HeaderAction::OnlyCall, |app| {
                vec![Command::CallOnly(!app.call_only)]
            }),
            I::MobileAnswer => self.header(now, HeaderAction::MobilePhoneAnswer, |app| {
                if app.mobile.is_some() {
                    vec![Command::Online]
                } else {
                    app.prompt = Some(Prompt::Mobile(String::new()));
                    Vec::new()
                }
            }),
            I::Break => self.header(now, HeaderAction::Break, |app| {
                app.prompt = Some(Prompt::Break);
                Vec::new()
            }),
            I::Offline => self.header(now, HeaderAction::Offline, |app| match app.status {
                Status::Unregistered => vec![Command::Register],
                Status::SignedOut => vec![Command::LogIn],
                Status::Registering => Vec::new(),
                _ => vec![Command::LogOut],
            }),
            I::VolumeDown | I::VolumeUp => {
                let step = if intent == I::VolumeUp { 0.1 } else { -0.1 };
                self.header(now, HeaderAction::AdjustVolume, |app| {
                    app.volume = ((app.volume + step) * 10.0).round().clamp(0.0, 10.0) / 10.0;
                    if app.allows(Operation::ChangeVolumeInCall) {
                        vec![Command::Volume(app.volume)]
                    } else {
                        let percent = (app.volume * 100.0).round();
                        app.say(now, format!("Volume {percent}%: for the next call"));
                        Vec::new()
                    }
                })
            }
            I::Transfer => self.transfer(now),
            I::Consult => self.consult(now),
            I::FinishTransfer => one(Command::FinishTransfer),
            I::CancelConsult => one(Command::CancelConsult),
            I::JoinConference => one(Command::Conference),
            I::DropThird => {
                let third = self.call.as_ref().and_then(|c| c.third.clone());
                match third.or_else(|| self.target()) {
                    Some(party) => one(Command::DropThird { party }),
                    None => {
                        self.warn(now, "No third party: type one or pick an agent");
                        Vec::new()
                    }
                }
            }
            I::CallAgent => self.with_target(now, |extension| Command::AgentToAgent { extension }),
            I::Survey => one(Command::Survey),
            I::SmsSurvey => one(Command::SmsSurvey),
            I::SmsMissedCall => one(Command::SmsMissedCall),
            I::Recordings => self.recordings(now),
            I::Refresh => self.load_view(true),
            I::Reset => one(Command::Reset),
            I::CustomerCallsIn => match self.rules.customer.clone() {
                Some((caller, hotline)) => one(Command::CustomerCallsIn { caller, hotline }),
                None => {
                    self.warn(now, "Customers call in only with the embedded emulator");
                    Vec::new()
                }
            },
            I::Minimise => {
                if self.options.reduce_panel {
                    self.minimised = !self.minimised;
                } else {
                    self.warn(now, "This panel cannot be minimised (reducePanel, C38)");
                }
                Vec::new()
            }
            I::ToggleVisible => {
                self.visible = !self.visible;
                Vec::new()
            }
            I::Help => {
                self.prompt = Some(Prompt::Help);
                Vec::new()
            }
            I::Quit => {
                self.quit = true;
                Vec::new()
            }
        }
    }

    fn on_prompt(&mut self, now: Instant, prompt: Prompt, intent: Intent) -> Vec<Command> {
        match (prompt, intent) {
            (Prompt::Break, Intent::Digit(c)) => {
                match BREAKS
                    .iter()
                    .find(|(id, _)| c.to_digit(10) == u32::try_from(*id).ok())
                {
                    Some((id, name)) => vec![Command::Break {
                        id: *id,
                        name: (*name).to_owned(),
                    }],
                    None => {
                        self.prompt = Some(Prompt::Break);
                        Vec::new()
                    }
                }
            }
            (Prompt::Mobile(mut number), Intent::Digit(c)) => {
                if number.len() < MAX_DIGITS && (c.is_ascii_digit() || c == '+') {
                    number.push(c);
                }
                self.prompt = Some(Prompt::Mobile(number));
                Vec::new()
            }
            (Prompt::Mobile(mut number), Intent::Backspace) => {
                number.pop();
                self.prompt = Some(Prompt::Mobile(number));
                Vec::new()
            }
            (Prompt::Mobile(number), Intent::Confirm) => {
                if number.is_empty() {
                    self.warn(now, "Type the mobile number to answer on");
                    self.prompt = Some(Prompt::Mobile(number));
                    Vec::new()
                } else {
                    vec![Command::Offline { mobile: number }]
                }
            }
            (Prompt::Help, _) | (_, Intent::Escape) => Vec::new(),
            (Prompt::Mobile(_), Intent::Quit) | (Prompt::Break, Intent::Quit) => {
                self.quit = true;
                Vec::new()
            }
            (prompt, _) => {
                self.prompt = Some(prompt);
                Vec::new()
            }
        }
    }

    /// A header action: only when the header (C4) shows it (C22).
    fn header(
        &mut self,
        now: Instant,
        action: HeaderAction,
        then: impl FnOnce(&mut Self) -> Vec<Command>,
    ) -> Vec<Command> {
        if self.options.has_action(action) {
            then(self)
        } else {
            self.warn(
                now,
                format!(
                    "{} is not in this panel's header (header C4, moreActionList C22)",
                    action.guide_name()
                ),
            );
            Vec::new()
        }
    }

    fn digit(&mut self, c: char) -> Vec<Command> {
        if self.nav == NavItem::Outbound && c != '+' && self.allows(Operation::SendDtmf) {
            if let Some(call) = self.call.as_mut() {
                call.sent_dtmf.push(c);
            }
            return vec![Command::Dtmf(c.to_string())];
        }
        if !matches!(
            self.nav,
            NavItem::Outbound | NavItem::Transfer | NavItem::Conference | NavItem::Monitor
        ) {
            self.show(NavItem::Outbound);
        }
        if self.entry.len() < MAX_DIGITS {
            self.entry.push(c);
        }
        Vec::new()
    }

    fn dial(&mut self, now: Instant) -> Vec<Command> {
        if self.entry.is_empty() {
            self.warn(now, "Type a number first");
            return Vec::new();
        }
        vec![Command::Call {
            callee: self.entry.clone(),
            caller: self.caller().to_owned(),
        }]
    }

    /// The number field, else the selected agent's extension.
    fn target(&self) -> Option<String> {
        if !self.entry.is_empty() {
            return Some(self.entry.clone());
        }
        let at = self.selection();
        match self.nav {
            NavItem::Transfer | NavItem::Conference => self
                .lists
                .agents
                .get()
                .and_then(|a| a.get(at))
                .and_then(|u| u.dn.clone()),
            NavItem::Monitor => self
                .lists
                .states
                .get()
                .and_then(|s| s.list.get(at))
                .and_then(|s| s.dn.clone()),
            _ => None,
        }
    }

    fn with_target(&mut self, now: Instant, make: impl FnOnce(String) -> Command) -> Vec<Command> {
        match self.target() {
            Some(target) => vec![make(target)],
            None => {
                self.warn(now, "Type a number or pick an agent first");
                Vec::new()
            }
        }
    }

    /// M23 to the number field, else to the selected agent or, below the agents in the
    /// transfer view, the selected skill group.
    fn transfer(&mut self, now: Instant) -> Vec<Command> {
        if self.entry.is_empty()
            && self.nav == NavItem::Transfer
            && let Some(group) = self.selected_group()
        {
            return vec![Command::Transfer {
                target: group.skill_group_id.clone(),
                skill_group: Some(group.skill_group_name.clone()),
            }];
        }
        self.with_target(now, |target| Command::Transfer {
            target,
            skill_group: None,
        })
    }

    /// The transfer view's selected row, when it is one of the skill groups.
    fn selected_group(&self) -> Option<&SkillGroupOfUser> {
        let agents = self.lists.agents.get().map_or(0, Vec::len);
        let at = self.selection().checked_sub(agents)?;
        self.lists.groups.get()?.get(at)
    }

    fn consult(&mut self, now: Instant) -> Vec<Command> {
        let commands = self.with_target(now, |target| Command::Consult { target });
        if let (Some(Command::Consult { target }), Some(call)) =
            (commands.first(), self.call.as_mut())
        {
            call.third = Some(target.clone());
        }
        commands
    }

    fn confirm(&mut self, now: Instant) -> Vec<Command> {
        match self.nav {
            NavItem::Inbound => {
                if self.status == Status::Ringing {
                    vec![Command::Answer]
                } else {
                    Vec::new()
                }
            }
            NavItem::Outbound => self.dial(now),
            NavItem::CallLog => {
                let record = self
                    .lists
                    .call_log
                    .get()
                    .and_then(|p| p.records.get(self.selection()));
                match record.and_then(record_far_end) {
                    Some(number) => vec![Command::Call {
                        callee: number,
                        caller: self.caller().to_owned(),
                    }],
                    None => Vec::new(),
                }
            }
            NavItem::Transfer => self.transfer(now),
            NavItem::Conference => self.consult(now),
            NavItem::Monitor => self.with_target(now, |extension| Command::Monitor { extension }),
            NavItem::MyWork | NavItem::DeviceCheck => self.load_view(true),
            NavItem::AccessPoints => {
                if !self.rules.switch_adapter {
                    self.warn(now, "Access points are off (isEnableSwitchAdapter, C39)");
                    return Vec::new();
                }
                // Row 0 is `default`, then the platform's regions (M34 takes either).
                let region = match self.selection() {
                    0 => Some("default".to_owned()),
                    n => self
                        .lists
                        .access_points
                        .get()
                        .and_then(|r| r.get(n - 1))
                        .map(|r| r.region.clone()),
                };
                region.map_or_else(Vec::new, |r| vec![Command::SwitchAccessPoint(r)])
            }
        }
    }

    fn recordings(&mut self, now: Instant) -> Vec<Command> {
        let from_log = (self.nav == NavItem::CallLog)
            .then(|| {
                self.lists
                    .call_log
                    .get()
                    .and_then(|p| p.records.get(self.selection()))
                    .and_then(|r| r.contact_id.clone())
            })
            .flatten();
        let contact = from_log.or_else(|| self.call.as_ref().and_then(|c| c.contact_id.clone()));
        match contact {
            Some(contact_id) => {
                self.lists.recordings = Some((contact_id.clone(), Loadable::Loading));
                vec![Command::Recordings { contact_id }]
            }
            None => {
                self.warn(now, "No call to fetch recordings of");
                Vec::new()
            }
        }
    }

    /// What the current view loads when it is shown (`force`: again).
    fn load_view(&mut self, force: bool) -> Vec<Command> {
        let lists = &mut self.lists;
        let idle = |l: bool| force || l;
        let command = match self.nav {
            NavItem::CallLog if idle(matches!(lists.call_log, Loadable::Idle)) => {
                lists.call_log = Loadable::Loading;
                Some(Command::LoadCallLog {
                    page: self.call_log_page,
                })
            }
            NavItem::Transfer | NavItem::Conference
                if idle(matches!(lists.agents, Loadable::Idle)) =>
            {
                lists.agents = Loadable::Loading;
                Some(Command::LoadAgents)
            }
            NavItem::Monitor if idle(matches!(lists.states, Loadable::Idle)) => {
                lists.states = Loadable::Loading;
                Some(Command::LoadStates)
            }
            NavItem::MyWork if idle(matches!(lists.my_work, Loadable::Idle)) => {
                lists.my_work = Loadable::Loading;
                Some(Command::LoadMyWork)
            }
            NavItem::DeviceCheck if force => {
                lists.device = Loadable::Loading;
                Some(Command::DeviceCheck)
            }
            NavItem::AccessPoints
                if self.rules.switch_adapter
                    && idle(matches!(lists.access_points, Loadable::Idle)) =>
            {
                lists.access_points = Loadable::Loading;
                Some(Command::TestAccessPoints)
            }
            NavItem::Outbound if force => Some(Command::LoadCallers),
            _ => None,
        };
        // The transfer view lists the agent's skill groups below the agents.
        let groups = (self.nav == NavItem::Transfer
            && idle(matches!(lists.groups, Loadable::Idle)))
        .then(|| {
            lists.groups = Loadable::Loading;
            Command::LoadGroups
        });
        command.into_iter().chain(groups).collect()
    }

    fn list_len(&self) -> usize {
        match self.nav {
            NavItem::CallLog => self.lists.call_log.get().map_or(0, |p| p.records.len()),
            NavItem::Transfer => {
                self.lists.agents.get().map_or(0, Vec::len)
                    + self.lists.groups.get().map_or(0, Vec::len)
            }
            NavItem::Conference => self.lists.agents.get().map_or(0, Vec::len),
            NavItem::Monitor => self.lists.states.get().map_or(0, |s| s.list.len()),
            NavItem::AccessPoints => self.lists.access_points.get().map_or(0, |r| r.len() + 1),
            _ => 0,
        }
    }

    // ----- answers -----

    /// A command was handed to the bridge.
    pub fn sent(&mut self, command: &Command) {
        self.in_flight.push(command.label());
    }

    /// A command's answer.
    pub fn on_outcome(&mut self, now: Instant, outcome: Outcome) -> Vec<Command> {
        let label = outcome.command.label();
        if let Some(i) = self.in_flight.iter().position(|l| *l == label) {
            self.in_flight.remove(i);
        }
        match outcome.result {
            Ok(payload) => self.done(now, outcome.command, payload),
            Err(failure) => {
                self.failed(now, &outcome.command, failure);
                Vec::new()
            }
        }
    }

    fn done(&mut self, now: Instant, command: Command, payload: Payload) -> Vec<Command> {
        match (command, payload) {
            (Command::Call { .. }, Payload::Dialed(d)) => {
                self.entry.clear();
                if let (Some(call), Some(job)) = (self.call.as_mut(), d.job_id.as_deref()) {
                    call.contact_id.get_or_insert_with(|| job.to_owned());
                }
            }
            (_, Payload::Muted(m)) => self.muted = m,
            (Command::Offline { mobile }, Payload::Done) => {
                self.say(now, format!("Answering on {mobile}"));
                self.mobile = Some(mobile);
            }
            (Command::Online, Payload::Done) => {
                self.mobile = None;
                self.say(now, "Answering on this device");
            }
            (Command::CallOnly(on), Payload::Done) => {
                self.call_only = on;
                self.say(now, if on { "Outbound only" } else { "Taking calls" });
            }
            (
                Command::Transfer {
                    target,
                    skill_group,
                },
                Payload::Done,
            ) => {
                self.entry.clear();
                let to = skill_group.unwrap_or(target);
                self.say(now, format!("Transferred to {to}"));
            }
            (Command::Consult { .. } | Command::Monitor { .. }, Payload::Done) => {
                self.entry.clear();
            }
            (_, Payload::CallLog(page)) => {
                if page.page_number <= 1 {
                    self.lists.call_log_total = page.total_count;
                }
                self.lists.call_log = Loadable::Ready(page);
            }
            (_, Payload::Callers(numbers)) => {
                self.callers = numbers;
                self.caller_index = self.caller_index.min(self.callers.len() + 1);
            }
            (_, Payload::Agents(mut agents)) => {
                // Not oneself: an agent does not transfer to, or conference in, itself.
                if let Some(me) = &self.agent.extension {
                    agents.retain(|a| a.dn.as_ref() != Some(me));
                }
                self.lists.agents = Loadable::Ready(agents);
            }
            (_, Payload::Groups(groups)) => self.lists.groups = Loadable::Ready(groups),
            (_, Payload::States(mut states)) => {
                // Not oneself: an agent does not listen to its own calls.
                if let Some(me) = &self.agent.extension {
                    states.list.retain(|s| s.dn.as_ref() != Some(me));
                }
                self.lists.states = Loadable::Ready(states);
            }
            (_, Payload::MyWork(report)) => self.lists.my_work = Loadable::Ready(report),
            (_, Payload::DeviceCheck(check)) => self.lists.device = Loadable::Ready(check),
            (_, Payload::AccessPoints(reports)) => {
                self.lists.access_points = Loadable::Ready(reports);
            }
            (_, Payload::AccessPoint(region)) => {
                self.say(now, format!("Calls now relay through {region}"));
                self.access_point = region;
            }
            (Command::Recordings { contact_id }, Payload::Recordings(list)) => {
                self.lists.recordings = Some((contact_id, Loadable::Ready(list)));
            }
            (Command::CustomerCallsIn { caller, hotline }, Payload::CustomerCall(job)) => {
                self.say(now, format!("{caller} calls {hotline} (contact {job})"));
            }
            (Command::Survey, _) => self.say(now, "The customer went to the survey"),
            (Command::SmsSurvey | Command::SmsMissedCall, _) => self.say(now, "SMS sent"),
            (Command::Reset, _) => self.say(now, "Status reset"),
            _ => {}
        }
        Vec::new()
    }

    fn failed(&mut self, now: Instant, command: &Command, failure: Failure) {
        let text = match &failure.notify {
            Some(notify) => self.error_text(notify),
            None => failure.message,
        };
        match command {
            Command::LoadCallLog { .. } => self.lists.call_log = Loadable::Failed(text.clone()),
            Command::LoadAgents => self.lists.agents = Loadable::Failed(text.clone()),
            Command::LoadGroups => self.lists.groups = Loadable::Failed(text.clone()),
            Command::LoadStates => self.lists.states = Loadable::Failed(text.clone()),
            Command::LoadMyWork => self.lists.my_work = Loadable::Failed(text.clone()),
            Command::DeviceCheck => self.lists.device = Loadable::Failed(text.clone()),
            Command::TestAccessPoints => self.lists.access_points = Loadable::Failed(text.clone()),
            Command::Recordings { contact_id } => {
                self.lists.recordings = Some((contact_id.clone(), Loadable::Failed(text.clone())));
            }
            Command::Consult { .. } => {
                if let Some(call) = self.call.as_mut() {
                    call.third = None;
                }
            }
            _ => {}
        }
        self.warn(now, format!("{}: {text}", command.label()));
    }
}

fn text(value: Option<&str>) -> Option<String> {
    value.filter(|v| !v.is_empty()).map(str::to_owned)
}

/// The customer's number of a call-log record: the caller of an inbound call, the
/// callee of an outbound one.
pub fn record_far_end(
    record: &v2017::list_recent_call_records::CallDetailRecord,
) -> Option<String> {
    let inbound = record
        .contact_type
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("inbound"));
    if inbound {
        record.calling_number.clone()
    } else {
        record.called_number.clone()
    }
}
