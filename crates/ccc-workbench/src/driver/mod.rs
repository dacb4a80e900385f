//! The driver: one task per workbench that owns the agent machine of ccc-core and the
//! links, and moves bytes and events between them.
//!
//! Nothing is shared under a lock: the [`Workbench`](crate::Workbench) handle sends
//! [`Command`]s with a reply channel; the driver checks each against table K on the
//! machine, starts the requests it needs as jobs (futures polled by the driver itself,
//! so their answers come back here in order), feeds what the links report into the
//! machine, and drains the machine's events (to the subscribers) and actions (go ready,
//! answer, take a break) after every step. Timers are the machine's `poll_timeout`, the
//! waiting methods' deadlines and the token refresh.

pub(crate) mod command;
mod leg;
mod ops;
mod order;
pub(crate) mod session;

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use ccc_core::config::Config;
use ccc_core::helpers::LoginSkillGroup;
use ccc_core::{
    Action, Agent, ErrorCode, ErrorNotify, Input, Link, Operation, SignOutReason, Status,
};
use ccc_sip::client::{ClientEvent, SipClient};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::agent_link::{AgentLink, LinkEvent};
use crate::api::Api;
use crate::builder::Settings;
use crate::error::Error;
use crate::event::{Event, RegisterInfo};
use crate::types::StatusCode;
use command::{Command, Output, Reply, Until};
use leg::Leg;
use session::{Access, Data, Login, Number, Prepared, Token, View};

/// A job: requests in flight, whose outcome comes back to the driver.
type Job = Pin<Box<dyn std::future::Future<Output = Done> + Send>>;

/// How a job ended.
pub(crate) enum Done {
    /// A method's requests: feed these into the machine, then answer.
    Op(OpDone),
    /// `register`'s first step.
    Prepared {
        result: Result<Box<Prepared>, Error>,
        reply: Reply,
    },
    /// `register`'s second step, gathered beside the links.
    Data(Result<Box<Data>, Error>),
    /// A call leg's media answered an offer (first INVITE or re-INVITE).
    MediaAnswer(Box<leg::MediaAnswer>),
    /// A call leg's media made an offer (ICE restart).
    MediaOffer(leg::MediaOffer),
    /// `RefreshToken` came back.
    Token(Result<Token, ErrorNotify>),
    /// `AddAgentDevice` came back.
    Device(Option<i64>),
    /// Nothing to do.
    Nothing,
}

/// A method's requests finished.
pub(crate) struct OpDone {
    pub(crate) method: &'static str,
    pub(crate) feed: Vec<Input>,
    pub(crate) result: Result<Output, Error>,
    pub(crate) reply: Option<Reply>,
    /// Wait for this before answering (a success only).
    pub(crate) until: Option<Until>,
    /// An own-dial request (its agent leg is answered at once) is over.
    pub(crate) own_dial: bool,
}

impl OpDone {
    pub(crate) fn new(method: &'static str, reply: Option<Reply>) -> Self {
        Self {
            method,
            feed: Vec::new(),
            result: Ok(Output::Unit),
            reply,
            until: None,
            own_dial: false,
        }
    }

    /// The outcome of one request: its inputs on success, its error both ways on failure.
    pub(crate) fn outcome(mut self, outcome: Result<Vec<Input>, Error>) -> Self {
        match outcome {
            Ok(feed) => self.feed.extend(feed),
            Err(e) => self.fail(e),
        }
        self
    }

    pub(crate) fn fail(&mut self, e: Error) {
        if let Some(notify) = e.notify() {
            self.feed.push(Input::Error(notify.clone()));
        } else if let Error::Input { source, .. } = &e
            && let Some(code) = source.code()
        {
            self.feed.push(Input::Error(ErrorNotify::new(
                self.method,
                code,
                source.to_string(),
            )));
        }
        self.result = Err(e);
    }
}

/// A method waiting for the platform to show it done.
struct Waiter {
    method: &'static str,
    until: Until,
    deadline: Instant,
    reply: Reply,
    result: Option<Output>,
}

/// `register` between its steps.
struct Registering {
    reply: Option<Reply>,
    deadline: Instant,
    /// The skill groups asked for (`None`: all of the agent's), until gathered.
    groups: Option<Vec<LoginSkillGroup>>,
    signing_in: bool,
    /// `SignInGroup` answered: from here the state is the sign-in's and what follows.
    signed_in: bool,
}

/// What the driver holds once `register` has the login info.
pub(crate) struct Session {
    pub(crate) login: Arc<Login>,
    pub(crate) token: watch::Sender<Token>,
    pub(crate) groups: Arc<Vec<LoginSkillGroup>>,
    pub(crate) numbers: Arc<Vec<Number>>,
    pub(crate) access: Arc<Access>,
    pub(crate) access_point: String,
    pub(crate) info: Arc<RegisterInfo>,
    pub(crate) sip: Option<SipClient>,
    pub(crate) link: Option<AgentLink>,
    pub(crate) link_rx: Option<mpsc::Receiver<LinkEvent>>,
    pub(crate) leg: Option<Leg>,
    pub(crate) sip_registered: bool,
    pub(crate) link_up: bool,
    /// `register`'s second step is in (groups, numbers, access points): the sign-in
    /// may go, and `onRegister` has what it reports.
    pub(crate) data_ready: bool,
    pub(crate) agent_device_id: Option<i64>,
    pub(crate) device_reported: bool,
    /// This end's address on the device's link (SIP, or the agent link without a SIP
    /// device), for the device record.
    pub(crate) device_local: Option<std::net::SocketAddr>,
    pub(crate) sip_local: Option<std::net::SocketAddr>,
    pub(crate) next_refresh: Instant,
    pub(crate) refreshing: bool,
    pub(crate) muted: bool,
    pub(crate) volume: f32,
    pub(crate) own_dials: u32,
    pub(crate) last_job: Option<Arc<str>>,
    pub(crate) last_customer: Option<Arc<str>>,
    pub(crate) last_inbound: bool,
    /// Held for as long as the session lives: the machine-wide lock and the control
    /// socket (released as soon as the session ends, before its links have closed).
    #[cfg(unix)]
    pub(crate) local: Option<(crate::local::LocalLock, Option<crate::local::ControlServer>)>,
}

impl Session {
    /// Lets go of the machine-wide lock and the control socket.
    fn release_local(&mut self) {
        #[cfg(unix)]
        drop(self.local.take());
    }
}

/// One step of the loop.
enum Step {
    Command(Option<Box<Command>>),
    Job(Done),
    Link(Option<LinkEvent>),
    Sip(Option<ClientEvent>),
    Media(Option<ccc_media::call::MediaEvent>),
    Timer,
}

/// The driver of one workbench.
pub(crate) struct Driver {
    s: Arc<Settings>,
    api: Api,
    agent: Agent,
    events: broadcast::Sender<Event>,
    status: watch::Sender<StatusCode>,
    view: watch::Sender<Arc<View>>,
    commands: mpsc::Receiver<Box<Command>>,
    control: mpsc::WeakSender<Box<Command>>,
    jobs: FuturesUnordered<Job>,
    waiters: Vec<Waiter>,
    registering: Option<Registering>,
    session: Option<Session>,
    /// The shutdown's reply, once asked.
    stopping: Option<Option<oneshot::Sender<()>>>,
    /// Which agent-link snapshots an action answer has made stale.
    order: order::Order,
    /// The ring timeout's break, due once the platform has had its moment.
    ring_backstop: Option<(Instant, &'static str)>,
    /// The ring timeout's break code, once this device refused the call: taken when
    /// the platform shows the call gone.
    break_after_refusal: Option<&'static str>,
    /// `answer()` before the platform's INVITE reached this device: until when it is
    /// awaited (then the platform answers), and the method's reply.
    invite_wait: Option<(Instant, Option<Reply>)>,
}

/// How long after the ring timeout the workbench acts in the platform's place.
const RING_GRACE: Duration = Duration::from_secs(2);

/// Everything the handle keeps of the driver.
pub(crate) struct Handle {
    pub(crate) commands: mpsc::Sender<Box<Command>>,
    pub(crate) status: watch::Receiver<StatusCode>,
    pub(crate) view: watch::Receiver<Arc<View>>,
}

impl Driver {
    /// Starts the driver task; `onInit` goes out before this returns.
    pub(crate) fn start(s: Arc<Settings>, api: Api, events: broadcast::Sender<Event>) -> Handle {
        let mut agent = Agent::new(&s.config);
        while let Some(event) = agent.poll_event() {
            let _ = events.send(Event::from(event));
        }
        // Boxed: a channel block holds 32 of them from the start, idle or not.
        let (commands_tx, commands) = mpsc::channel(8);
        let (status_tx, status) = watch::channel(StatusCode::default());
        let (view_tx, view) = watch::channel(Arc::new(View::default()));
        let driver = Self {
            s,
            api,
            agent,
            events,
            status: status_tx,
            view: view_tx,
            commands,
            control: commands_tx.downgrade(),
            jobs: FuturesUnordered::new(),
            waiters: Vec::new(),
            registering: None,
            session: None,
            stopping: None,
            order: order::Order::default(),
            ring_backstop: None,
            break_after_refusal: None,
            invite_wait: None,
        };
        tokio::spawn(driver.run());
        Handle {
            commands: commands_tx,
            status,
            view,
        }
    }

    fn now() -> std::time::Instant {
        Instant::now().into_std()
    }

    async fn run(mut self) {
        loop {
            self.pump();
            self.end_stale_leg().await;
            if let Some(reply) = &mut self.stopping
                && self.session.is_none()
                && self.jobs.is_empty()
            {
                if let Some(reply) = reply.take() {
                    let _ = reply.send(());
                }
                break;
            }
            let deadline = self.next_deadline();
            let step = self.next_step(deadline).await;
            // Each step's future is boxed: inline, the largest of them (a shutdown with
            // its requests, a SIP answer) would stay in the task's state all the time.
            match step {
                Step::Command(Some(command)) => Box::pin(self.command(*command)).await,
                Step::Command(None) => {
                    // Every handle is gone: release everything.
                    if self.stopping.is_none() {
                        self.stopping = Some(None);
                        Box::pin(self.shut_down()).await;
                    }
                }
                Step::Job(done) => Box::pin(self.done(done)).await,
                Step::Link(event) => Box::pin(self.link_event(event)).await,
                Step::Sip(event) => Box::pin(self.sip_event(event)).await,
                Step::Media(event) => Box::pin(self.media_event(event)).await,
                Step::Timer => Box::pin(self.timers()).await,
            }
        }
        // Whatever still waits gets its answer now.
        for waiter in self.waiters.drain(..) {
            let _ = waiter.reply.send(Err(Error::Closed));
        }
    }

    async fn next_step(&mut self, deadline: Option<Instant>) -> Step {
        let Self {
            commands,
            jobs,
            session,
            stopping,
            ..
        } = self;
        let (sip, link, media) = match session {
            Some(s) => (
                s.sip.as_mut(),
                s.link_rx.as_mut(),
                s.leg.as_mut().and_then(|l| l.media_events.as_mut()),
            ),
            None => (None, None, None),
        };
        let accept = stopping.is_none();
        tokio::select! {
            command = commands.recv(), if accept => Step::Command(command),
            Some(done) = jobs.next(), if !jobs.is_empty() => Step::Job(done),
            event = next_or_pending(link.map(mpsc::Receiver::recv)) => Step::Link(event),
            event = next_or_pending(sip.map(SipClient::next_event)) => Step::Sip(event),
            event = next_or_pending(media.map(ccc_media::call::MediaEvents::recv)) => Step::Media(event),
            () = sleep_or_pending(deadline) => Step::Timer,
        }
    }

    /// The earliest timer: the machine's, a waiter's, the register deadline, the token
    /// refresh.
    fn next_deadline(&self) -> Option<Instant> {
        let machine = self.agent.poll_timeout().map(Instant::from_std);
        let waiters = self.waiters.iter().map(|w| w.deadline);
        let register = self.registering.as_ref().map(|r| r.deadline);
        let refresh = self
            .session
            .as_ref()
            .filter(|s| !s.refreshing)
            .map(|s| s.next_refresh);
        let order = self.order.deadline().map(Instant::from_std);
        let backstop = self.ring_backstop.map(|(at, _)| at);
        let invite = self.invite_wait.as_ref().map(|(at, _)| *at);
        machine
            .into_iter()
            .chain(waiters)
            .chain(register)
            .chain(refresh)
            .chain(order)
            .chain(backstop)
            .chain(invite)
            .min()
    }

    // ----- the machine -----

    /// Feeds the machine.
    fn feed(&mut self, inputs: impl IntoIterator<Item = Input>) {
        let now = Self::now();
        for input in inputs {
            let mut confirmed = None;
            match &input {
                Input::UserContext(user) => {
                    let current = self.agent.user_context();
                    match self.order.answered_user(user, current, now) {
                        order::Answer::Apply => {}
                        order::Answer::Confirmed(push) => confirmed = Some(push),
                        // Its push came first, and a newer one since: skip it.
                        order::Answer::Stale => continue,
                    }
                }
                Input::Snapshot(_) => self.order.answered_snapshot(),
                _ => {}
            }
            self.agent.handle(now, input);
            if let Some(push) = confirmed {
                self.agent.handle(now, Input::Snapshot(*push));
            }
        }
    }

    /// Drains the machine's events and actions, publishes the status, settles waiters.
    fn pump(&mut self) {
        // What one step feeds may make more (a status change feeds the machine again):
        // drain until it is quiet, a bounded number of rounds.
        for _ in 0..16 {
            let mut changes = Vec::new();
            let mut events = Vec::new();
            let mut busy = false;
            while let Some(event) = self.agent.poll_event() {
                busy = true;
                let event = match event {
                    ccc_core::Event::Register => match &self.session {
                        Some(s) => Event::Register(Arc::clone(&s.info)),
                        None => continue,
                    },
                    ccc_core::Event::Init => continue,
                    ccc_core::Event::StatusChange(change) => {
                        changes.push((change.last_code, change.code));
                        Event::StatusChange(change)
                    }
                    other => Event::from(other),
                };
                events.push(event);
            }
            // The status first: a subscriber told of a change finds `status_now` says it.
            let code = StatusCode {
                code: self.agent.status(),
                last_code: self.agent.last_status(),
            };
            if *self.status.borrow() != code {
                self.status.send_replace(code);
            }
            for event in events {
                let _ = self.events.send(event);
            }
            for (from, to) in changes {
                self.status_changed(from, to);
            }
            while let Some(action) = self.agent.poll_action() {
                busy = true;
                self.action(action);
            }
            if !busy {
                break;
            }
        }
    }

    /// What a status change means for the driver: waiters, the call leg, the session.
    fn status_changed(&mut self, before: Status, now: Status) {
        if before == Status::Ringing
            && now != Status::Ringing
            && let Some((_, Some(reply))) = self.invite_wait.take()
        {
            let _ = reply.send(if Until::Talking.reached(now) {
                Ok(Output::Unit)
            } else {
                Err(Error::unavailable(
                    "answer",
                    format!("the call stopped ringing before it was answered (status {now})"),
                ))
            });
        }
        if before == Status::Ringing {
            self.ring_backstop = None;
            if let Some(code) = self.break_after_refusal.take() {
                self.spawn(ops::ring_timeout_job(
                    self.api.clone(),
                    &self.s,
                    None,
                    code.to_owned(),
                ));
            }
        }
        let mut keep = Vec::with_capacity(self.waiters.len());
        for waiter in self.waiters.drain(..) {
            if waiter.until.reached(now) {
                let _ = waiter.reply.send(Ok(waiter.result.unwrap_or(Output::Unit)));
            } else if waiter.until == Until::Talking && before == Status::Ringing {
                // The call that rang is gone (hung up, timed out, taken elsewhere).
                let _ = waiter.reply.send(Err(Error::unavailable(
                    waiter.method,
                    format!("the call stopped ringing before it was connected (status {now})"),
                )));
            } else if matches!(now, Status::Unregistered | Status::SignedOut)
                && waiter.until != Until::Ready
                || now == Status::Unregistered
            {
                let _ = waiter.reply.send(Err(Error::unavailable(
                    waiter.method,
                    format!("the agent was signed out (status {now})"),
                )));
            } else {
                keep.push(waiter);
            }
        }
        self.waiters = keep;
        if now == Status::Ready
            && let Some(r) = self.registering.take_if(|r| r.signed_in)
            && let Some(reply) = r.reply
        {
            let _ = reply.send(Ok(Output::Unit));
        }
        self.remember_call();
        self.leg_status_changed(now);
        if now == Status::Ringing && !self.s.sip_device {
            // No SIP device to wait for: the call rings at the agent's other device.
            self.feed([Input::SipIncoming]);
        }
        if now == Status::Unregistered && before != Status::Unregistered && self.session.is_some() {
            // Signed out for good (link loss, kick-out, failed registration): the guide
            // says register again; release the links now.
            self.end_session();
        }
        self.publish_view();
    }

    /// Notes the current call's id and customer for the SMS and survey methods.
    fn remember_call(&mut self) {
        let (Some(session), Some(user), Some(call)) = (
            self.session.as_mut(),
            self.agent.user_context(),
            self.agent.call_context(),
        ) else {
            return;
        };
        let Some(view) = ccc_core::CallView::new(user, call) else {
            return;
        };
        if let Some(job) = view.job_id() {
            session.last_job = Some(Arc::clone(job));
        }
        let remote = view.remote();
        let inbound = view.direction() == ccc_core::Direction::Incoming;
        let number = if inbound {
            remote.originator.clone()
        } else {
            remote.destination.clone()
        };
        if remote.user_id.as_deref().is_none_or(str::is_empty)
            && let Some(number) = number
        {
            session.last_customer = Some(number);
            session.last_inbound = inbound;
        }
    }

    fn publish_view(&self) {
        let view = match &self.session {
            Some(s) => View {
                login: Some(Arc::clone(&s.login)),
                access: Some(Arc::clone(&s.access)),
                access_point: s.access_point.clone(),
                job_id: s.last_job.clone(),
                customer: s.last_customer.clone(),
                inbound: s.last_inbound,
                link_check: {
                    let params = crate::agent_link::Params {
                        url: s.login.agent_server_url.clone(),
                        user_id: self.s.user_id.clone(),
                        device_id: self.s.device_id.clone(),
                        options: self.s.links.clone(),
                    };
                    crate::agent_link::link_url(&params, &s.token.borrow())
                        .ok()
                        .map(|u| session::Redacted(u.to_string()))
                },
            },
            None => View::default(),
        };
        self.view.send_replace(Arc::new(view));
    }

    /// Carries out what the machine decided.
    fn action(&mut self, action: Action) {
        match action {
            Action::GoReady if self.session.is_some() => {
                let outbound_only = self.outbound_only();
                self.spawn(ops::ready_job(
                    self.api.clone(),
                    &self.s,
                    outbound_only,
                    None,
                    "ready",
                ));
            }
            Action::Answer { .. } => self.answer_now(None),
            Action::TakeBreak { code } => {
                // The ring timeout. The platform has its own (it puts the agent on
                // break with `RingingTimeout` and requeues the call), normally as long
                // as the guide's: give it a moment to act first, then act in its place.
                self.ring_backstop = Some((Instant::now() + RING_GRACE, code));
            }
            _ => {}
        }
    }

    pub(crate) fn spawn(&self, job: impl std::future::Future<Output = Done> + Send + 'static) {
        self.jobs.push(Box::pin(job));
    }

    // ----- commands -----

    async fn command(&mut self, command: Command) {
        match command {
            Command::Register {
                groups,
                access_point,
                reply,
            } => self.register(groups, access_point, reply),
            Command::Op { op, reply } => self.op(op, reply).await,
            Command::SwitchAccessPoint { region, reply } => {
                let _ = reply.send(self.switch_access_point(region));
            }
            Command::Shutdown { reply } => {
                self.stopping = Some(Some(reply));
                self.shut_down().await;
            }
            Command::Report(notify) => self.feed([Input::Error(notify)]),
            Command::Release => {
                if self.session.is_some() {
                    // Another process of this agent takes over: this one is kicked out,
                    // as a second sign-in in the browser kicks out the first.
                    self.feed([Input::SignedOut(SignOutReason::KaRegister)]);
                    self.end_session();
                }
            }
        }
    }

    fn register(
        &mut self,
        groups: Option<Vec<LoginSkillGroup>>,
        access_point: String,
        reply: Reply,
    ) {
        if let Err(e) = ccc_core::check(self.agent.status(), Operation::Register) {
            let _ = reply.send(Err(e.into()));
            return;
        }
        let now = Self::now();
        if let Err(e) = self.agent.request(now, Operation::Register) {
            let _ = reply.send(Err(e.into()));
            return;
        }
        self.registering = Some(Registering {
            reply: None,
            deadline: crate::time::after(self.s.register_timeout),
            groups,
            signing_in: false,
            signed_in: false,
        });
        // Until the sign-in answers, pushes describe the state it replaces (a session
        // of an earlier run, say): showing them would show 3 before the guide's 2.
        self.order.hold_for_sign_in();
        let api = self.api.clone();
        let s = Arc::clone(&self.s);
        self.spawn(async move {
            let result = ops::prepare_register(api, s, access_point).await;
            Done::Prepared { result, reply }
        });
    }

    fn switch_access_point(&mut self, region: String) -> Result<Output, Error> {
        let Some(s) = &mut self.session else {
            return Err(Error::unavailable("switchAccessPoint", "not registered"));
        };
        if region != "default" && s.access.urls(&region).is_none() {
            let known: Vec<&str> = s.access.points.iter().map(|p| p.region.as_str()).collect();
            return Err(Error::unavailable(
                "switchAccessPoint",
                format!("no access point {region:?}; GetTurnServerList lists {known:?}"),
            ));
        }
        s.access_point = region;
        self.publish_view();
        Ok(Output::Unit)
    }

    /// The guide's reload: sign out when signed in, unregister, close every link.
    async fn shut_down(&mut self) {
        self.registering = None;
        if self.session.is_none() {
            return;
        }
        if self.agent.status().is_signed_in() {
            let request = ccc_openapi::v2020::SignOutGroup::new(self.api.instance())
                .user_id(self.api.user())
                .device_id(self.s.device_id.clone());
            let _ = tokio::time::timeout(Duration::from_secs(3), self.api.send(request)).await;
        }
        // Taken first: the sign-out below must not close it in the background.
        let session = self.session.take();
        self.feed([Input::Unregistered]);
        self.pump();
        if let Some(session) = session {
            close_session(session, &self.api).await;
        }
        self.publish_view();
    }

    /// Drops the session's links without waiting (a sign-out the platform decided).
    fn end_session(&mut self) {
        self.registering = None;
        self.order.clear();
        if let Some(mut session) = self.session.take() {
            session.release_local();
            let api = self.api.clone();
            tokio::spawn(async move { close_session(session, &api).await });
        }
    }

    // ----- jobs -----

    async fn done(&mut self, done: Done) {
        match done {
            Done::Op(op) => self.op_done(op).await,
            Done::Prepared { result, reply } => self.prepared(result, reply),
            Done::Data(result) => self.gathered(result),
            Done::MediaAnswer(answer) => self.media_answered(*answer).await,
            Done::MediaOffer(offer) => self.media_offered(offer).await,
            Done::Token(result) => {
                let every = self.s.token_refresh;
                if let Some(s) = &mut self.session {
                    s.refreshing = false;
                    s.next_refresh = crate::time::after(every);
                    match result {
                        Ok(mut token) => {
                            token
                                .sip_password
                                .clone_from(&s.token.borrow().sip_password);
                            s.token.send_replace(token);
                        }
                        Err(e) => {
                            // Try again sooner; the old token may still be valid.
                            s.next_refresh = crate::time::after(every.min(Duration::from_secs(30)));
                            self.feed([Input::Error(e)]);
                        }
                    }
                }
            }
            Done::Device(id) => match &mut self.session {
                Some(s) => s.agent_device_id = id,
                // The session ended while the record was being made: it is over too.
                None => {
                    if let Some(id) = id {
                        let api = self.api.clone();
                        self.spawn(async move {
                            ops::device_logged_out(&api, id).await;
                            Done::Nothing
                        });
                    }
                }
            },
            Done::Nothing => {}
        }
    }

    async fn op_done(&mut self, done: OpDone) {
        let OpDone {
            method,
            feed,
            result,
            reply,
            until,
            own_dial,
        } = done;
        if own_dial && let Some(s) = &mut self.session {
            s.own_dials = s.own_dials.saturating_sub(1);
        }
        if method == "register" && reply.is_none() {
            // register's sign-in step.
            match result {
                Err(e) if self.registering.is_some() => self.register_failed(e),
                _ => {
                    if let Some(r) = &mut self.registering {
                        r.signed_in = true;
                    }
                    self.feed(feed);
                }
            }
            return;
        }
        self.feed(feed);
        // Events first, so a waiter sees the status the answer carried.
        self.pump();
        let Some(reply) = reply else { return };
        match (result, until) {
            (Ok(output), Some(until)) if !until.reached(self.agent.status()) => {
                self.waiters.push(Waiter {
                    method,
                    until,
                    deadline: crate::time::after(self.s.method_timeout),
                    reply,
                    result: Some(output),
                });
            }
            (result, _) => {
                let _ = reply.send(result);
            }
        }
    }

    fn prepared(&mut self, result: Result<Box<Prepared>, Error>, reply: Reply) {
        let Some(registering) = &mut self.registering else {
            // Shut down meanwhile.
            let _ = reply.send(Err(Error::Closed));
            return;
        };
        match result {
            Ok(prepared) => {
                registering.reply = Some(reply);
                self.start_session(*prepared);
                self.publish_view();
            }
            Err(e) => {
                self.registering = None;
                self.order.clear();
                let notify = e.notify().cloned().unwrap_or_else(|| {
                    ErrorNotify::new("register", ErrorCode::NetworkError, e.to_string())
                });
                self.feed([Input::RegisterFailed(notify)]);
                let _ = reply.send(Err(e));
            }
        }
    }

    /// `register` failed after its first step: back to -1, links released.
    fn register_failed(&mut self, e: Error) {
        let notify = e.notify().cloned().unwrap_or_else(|| {
            ErrorNotify::new("register", ErrorCode::NetworkError, e.to_string())
        });
        if let Some(r) = self.registering.take()
            && let Some(reply) = r.reply
        {
            let _ = reply.send(Err(e));
        }
        self.feed([Input::RegisterFailed(notify)]);
        self.end_session();
    }

    /// `register`'s second step came back: the session has its groups, numbers and
    /// access points; `onRegister` and the sign-in may follow.
    fn gathered(&mut self, result: Result<Box<Data>, Error>) {
        if self.registering.is_none() || self.session.is_none() {
            return;
        }
        let data = match result {
            Ok(data) => *data,
            Err(e) => {
                self.register_failed(e);
                return;
            }
        };
        let Some(s) = &mut self.session else { return };
        let Data {
            groups,
            numbers,
            access,
        } = data;
        let mut info = (*s.info).clone();
        info.skill_groups.clone_from(&groups);
        s.info = Arc::new(info);
        s.groups = Arc::new(groups);
        s.numbers = Arc::new(numbers);
        s.access = Arc::new(access);
        s.data_ready = true;
        let registered = s.sip_registered;
        self.publish_view();
        if registered {
            self.feed([Input::SipRegistered]);
        }
        self.try_sign_in();
    }

    /// A22: the device record of the sign-in, with this end's address (its first
    /// link's): sent beside `SignInGroup`, not as soon as the address is known, where
    /// it would compete with the links' requests for the platform's time.
    pub(super) fn report_device(&mut self) {
        if self.registering.as_ref().is_some_and(|r| !r.signing_in) {
            return;
        }
        let Some(s) = &mut self.session else { return };
        let Some(local) = s.device_local.filter(|_| !s.device_reported) else {
            return;
        };
        s.device_reported = true;
        self.spawn(ops::add_device(
            self.api.clone(),
            self.s.browser_version.clone(),
            local,
        ));
    }

    /// The device is registered (SIP, or the agent link without a SIP device):
    /// `onRegister`, once `register` has gathered what it reports.
    pub(super) fn registered(&mut self) {
        if self.session.as_ref().is_some_and(|s| s.data_ready) {
            self.feed([Input::SipRegistered]);
        }
    }

    /// Once SIP is registered and the agent link is up, sign in.
    fn try_sign_in(&mut self) {
        let (Some(r), Some(s)) = (&mut self.registering, &self.session) else {
            return;
        };
        let sip_ready = s.sip_registered || !self.s.sip_device;
        if r.signing_in || !sip_ready || !s.link_up || !s.data_ready {
            return;
        }
        r.signing_in = true;
        let groups: Vec<String> = s.groups.iter().map(|g| g.group_name.clone()).collect();
        self.spawn(ops::sign_in_job(
            self.api.clone(),
            &self.s,
            groups,
            "register",
            None,
        ));
        self.report_device();
    }

    // ----- timers -----

    async fn timers(&mut self) {
        let now = Instant::now();
        self.agent.handle_timeout(now.into_std());
        if let Some((_, code)) = self.ring_backstop.take_if(|(at, _)| *at <= now) {
            self.ring_timed_out(code).await;
        }
        if let Some((_, Some(reply))) = self.invite_wait.take_if(|(at, _)| *at <= now) {
            // No INVITE reached this device: the call still rings at the platform.
            let registered = self.session.as_ref().is_some_and(|s| s.sip_registered);
            let _ = reply.send(Err(Error::unavailable(
                "answer",
                format!(
                    "the call's INVITE did not reach this device within {:?} (its SIP link {}); the call still rings",
                    self.s.method_timeout,
                    if registered { "is registered" } else { "is down" }
                ),
            )));
        }
        match self.order.expire(now.into_std()) {
            order::Release::Apply(snapshot) => self.feed([Input::Snapshot(*snapshot)]),
            order::Release::Poll if self.session.is_some() => {
                // The push that confirms an action answer did not come: read the state.
                self.spawn(ops::poll_job(self.api.clone(), &self.s));
            }
            _ => {}
        }
        let mut keep = Vec::with_capacity(self.waiters.len());
        for waiter in self.waiters.drain(..) {
            if waiter.deadline <= now {
                let _ = waiter.reply.send(Err(Error::Timeout {
                    method: waiter.method,
                    after: self.s.method_timeout,
                    status: self.agent.status(),
                }));
            } else {
                keep.push(waiter);
            }
        }
        self.waiters = keep;
        if self.registering.as_ref().is_some_and(|r| r.deadline <= now) {
            let status = self.agent.status();
            let e = Error::Timeout {
                method: "register",
                after: self.s.register_timeout,
                status,
            };
            self.register_failed(e);
        }
        let refresh_due = self
            .session
            .as_ref()
            .is_some_and(|s| !s.refreshing && s.next_refresh <= now);
        if refresh_due && let Some(s) = &mut self.session {
            s.refreshing = true;
            let api = self.api.clone();
            self.jobs.push(Box::pin(async move {
                let answer = api
                    .send(ccc_openapi::v2017::RefreshToken::new(api.instance()))
                    .await;
                Done::Token(answer.and_then(|a| {
                    let token = a.token.ok_or_else(|| {
                        ErrorNotify::new(
                            "RefreshToken",
                            ErrorCode::ReloadConfig,
                            "no Token in the answer",
                        )
                    })?;
                    Ok(Token {
                        sign_data: token.sign_data.unwrap_or_default(),
                        signature: token
                            .signature
                            .map(|s| s.expose().to_owned())
                            .unwrap_or_default(),
                        sip_password: None,
                    })
                }))
            }));
        }
    }

    /// The call rang past the ring timeout and the platform did nothing: refuse it as a
    /// phone would (486 from the SIP device; `ReleaseCall` without one), which gives
    /// it back to its queue, and go on break with the guide's code.
    async fn ring_timed_out(&mut self, code: &'static str) {
        if self.agent.status() != Status::Ringing {
            return;
        }
        let job = self.agent.call_context().and_then(|c| c.job_id.clone());
        let refused = match &self.session {
            Some(s) => match (&s.sip, &s.leg) {
                (Some(sip), Some(leg)) if leg.offer.is_some() => tokio::time::timeout(
                    Duration::from_secs(2),
                    sip.reject(leg.handle, 486, "Busy Here"),
                )
                .await
                .unwrap_or(false),
                _ => false,
            },
            None => return,
        };
        if refused {
            // The break follows once the platform has taken the refusal.
            self.break_after_refusal = Some(code);
        } else {
            self.spawn(ops::ring_timeout_job(
                self.api.clone(),
                &self.s,
                job,
                code.to_owned(),
            ));
        }
    }

    // ----- the agent link -----

    async fn link_event(&mut self, event: Option<LinkEvent>) {
        match event {
            Some(LinkEvent::Snapshot(snapshot)) => {
                let now = Self::now();
                if let Some(snapshot) = self.order.admit(snapshot, now) {
                    self.agent.handle(now, Input::Snapshot(*snapshot));
                }
            }
            Some(LinkEvent::Slow(took)) => {
                let notify = ErrorNotify::new(
                    "agentLink",
                    ErrorCode::SignOut(SignOutReason::WsConnectSlowly),
                    format!("the agent link took {took:?} to connect"),
                );
                self.feed([Input::Error(notify)]);
            }
            Some(LinkEvent::Up { push, local }) => {
                tracing::debug!(user = %self.s.user_id, push, "agent link up");
                if let Some(local) = local
                    && !self.s.sip_device
                    && let Some(s) = &mut self.session
                {
                    s.device_local.get_or_insert(local);
                    self.report_device();
                }
                let first = self
                    .session
                    .as_mut()
                    .is_some_and(|s| !std::mem::replace(&mut s.link_up, true) && !s.sip_registered);
                self.feed([Input::LinkUp(Link::AgentLink)]);
                if first && !self.s.sip_device {
                    // No SIP device: the agent link is this device's registration.
                    if let Some(s) = &mut self.session {
                        s.sip_registered = true;
                    }
                    self.registered();
                }
                self.try_sign_in();
            }
            Some(LinkEvent::Down(why)) => {
                tracing::info!(user = %self.s.user_id, %why, "agent link down");
                if let Some(s) = &mut self.session {
                    s.link_up = false;
                }
                self.feed([Input::LinkDown(Link::AgentLink)]);
            }
            Some(LinkEvent::SignedOut(reason)) => {
                self.signed_out(reason);
            }
            None => {
                if let Some(s) = &mut self.session {
                    s.link_rx = None;
                }
            }
        }
    }

    /// The platform signed the agent out (`KA_register`: signed in elsewhere).
    fn signed_out(&mut self, reason: SignOutReason) {
        if self.registering.is_some() {
            self.register_failed(Error::Operation(ErrorNotify::sign_out(reason)));
            return;
        }
        let explain = self
            .session
            .as_ref()
            .map(|s| (s.login.extension.clone(), s.sip_local));
        self.feed([Input::SignedOut(reason)]);
        if reason == SignOutReason::KaRegister
            && let Some((extension, _)) = explain
        {
            self.spawn(ops::explain_kick_out(self.api.clone(), extension));
        }
        self.end_session();
    }
}

/// Releases a session: hang up the leg, unregister SIP, close the agent link, mark
/// the device logged out. Bounded. The machine-wide lock goes first, so that
/// `register` may follow at once.
async fn close_session(mut session: Session, api: &Api) {
    session.release_local();
    if let Some(leg) = session.leg.take() {
        leg.close().await;
    }
    let sip = session.sip.take();
    let link = session.link.take();
    let device = session.agent_device_id;
    let unregister = async {
        if let Some(sip) = sip {
            sip.shutdown().await;
        }
    };
    let close_link = async {
        if let Some(link) = link {
            link.close().await;
        }
    };
    let device = async {
        if let Some(id) = device {
            ops::device_logged_out(api, id).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::join!(unregister, close_link, device)
    })
    .await;
}

async fn next_or_pending<F, T>(future: Option<F>) -> Option<T>
where
    F: std::future::Future<Output = Option<T>>,
{
    match future {
        Some(f) => f.await,
        None => std::future::pending().await,
    }
}

async fn sleep_or_pending(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The merged rules: the integrator's config first, the platform's settings below it
/// (`ListConfig`): `AutoAnswer` when the integrator set no `autoAnswerCall`.
pub(crate) fn merged_config(config: &Config, platform: &[(String, String)]) -> Option<Config> {
    if config.auto_answer_call().is_some() {
        return None;
    }
    let value = platform
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("AutoAnswer"))
        .map(|(_, v)| v.trim().to_ascii_lowercase())?;
    let seconds = match value.as_str() {
        "true" | "1" | "on" => 1,
        other => other.parse::<i64>().ok().filter(|s| *s >= 1)?,
    };
    with_auto_answer(config, seconds)
}

/// `config` with `autoAnswerCall` set, every other option kept.
fn with_auto_answer(config: &Config, seconds: i64) -> Option<Config> {
    use ccc_core::config::{AfterCallRule, AjaxMethod, AjaxType};
    let ajax = config.ajax();
    let mut b = Config::builder(config.instance_id(), config.use_open_api_sdk())
        .auto_answer_call_seconds(seconds)
        .enable_record(config.enable_record())
        .ajax_type(match ajax.ajax_type {
            AjaxType::Path => "path",
            _ => "param",
        })
        .ajax_path(ajax.path.clone())
        .with_credentials(ajax.with_credentials)
        .ajax_api_param_name(ajax.api_param_name.clone())
        .ajax_method(match ajax.method {
            AjaxMethod::Get => "get",
            _ => "post",
        })
        .export_error_of_api(config.export_error_of_api())
        .use_local_storage_to_call(config.use_local_storage_to_call())
        .disable_save_stats(config.disable_save_stats())
        .enable_switch_adapter(config.enable_switch_adapter())
        .ring_timeout(config.ring_timeout())
        .link_timeout(config.link_timeout())
        .inbound_hang_up(config.inbound_hang_up());
    b = match config.after_call_rule() {
        AfterCallRule::Manual => b.after_call_rule_manual(),
        AfterCallRule::After(d) => {
            b.after_call_rule_seconds(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        }
    };
    if let Some(origin) = &ajax.origin {
        b = b.ajax_origin(origin.clone());
    }
    for (k, v) in &ajax.other_params {
        b = b.ajax_other_param(k.clone(), v.clone());
    }
    for (k, v) in &ajax.headers {
        b = b.ajax_header(k.clone(), v.clone());
    }
    b.build().ok()
}
