//! The tokio driver: a [`UserAgent`] on a self-keeping flow.
//!
//! One task per client owns both the user agent and its WebSocket flow (the machinery
//! of [`Link`](crate::link::Link), without a task of its own): it feeds the user agent
//! what arrives, sends what the user agent transmits, fires the timers of both with one
//! sleep, and reports both layers' events. It registers as soon as the flow is up,
//! re-registers by itself after every reconnect, and unregisters on
//! [`SipClient::shutdown`]. Commands and events cross their channels boxed, so that an
//! idle client's channels hold a few hundred bytes rather than blocks of whole events.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::link::{FlowKeeper, LinkConfig, LinkEvent};
use crate::ua::{CallHandle, UaConfig, UaEvent, UserAgent};

/// What the client reports.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientEvent {
    /// The flow's events (connected, disconnected, connect failures); SIP messages
    /// go to the user agent instead.
    Link(LinkEvent),
    /// The user agent's events.
    Ua(UaEvent),
}

enum Command {
    Shutdown(oneshot::Sender<()>),
    Call(CallCommand, oneshot::Sender<bool>),
    Invite(String, Vec<u8>, oneshot::Sender<CallHandle>),
    AcceptTransfer(CallHandle, Vec<u8>, oneshot::Sender<Option<CallHandle>>),
}

/// What the program asks of a call.
enum CallCommand {
    Ringing(CallHandle),
    Answer(CallHandle, Vec<u8>),
    Reject(CallHandle, u16, String),
    HangUp(CallHandle),
    Info(CallHandle, String, Vec<u8>),
    Update(CallHandle, Vec<u8>),
    Refer(CallHandle, String, Option<CallHandle>),
    RejectTransfer(CallHandle, u16, String),
}

/// A running SIP client. Dropping it stops the task (without unregistering; use
/// [`SipClient::shutdown`] for that).
#[derive(Debug)]
pub struct SipClient {
    commands: mpsc::Sender<Box<Command>>,
    events: mpsc::Receiver<Box<ClientEvent>>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Shutdown(_) => "Shutdown",
            Self::Call(..) => "Call",
            Self::Invite(..) => "Invite",
            Self::AcceptTransfer(..) => "AcceptTransfer",
        })
    }
}

/// How long a command ([`SipClient::answer`], ...) may wait for the client's task.
pub const COMMAND_LIMIT: Duration = Duration::from_secs(10);

/// How long shutdown waits for the registrar to confirm the unregistration.
const UNREGISTER_WAIT: Duration = Duration::from_secs(2);

impl SipClient {
    /// Starts the client on the current tokio runtime: it connects and registers.
    /// `seed` makes the user agent's identifiers (64 random bits).
    pub fn spawn(link: LinkConfig, ua: UaConfig, seed: u64) -> Self {
        let (commands, command_rx) = mpsc::channel(8);
        let (event_tx, events) = mpsc::channel(256);
        let mut agent = UserAgent::new(ua, seed);
        if link.connect.url.starts_with("wss://") {
            agent.set_secure_flow();
        }
        agent.register(std::time::Instant::now());
        let state = Box::new(State {
            keeper: FlowKeeper::new(link),
            ua: agent,
        });
        tokio::spawn(run(state, command_rx, event_tx));
        Self { commands, events }
    }

    /// Hands `command` to the task and waits for its answer, at most
    /// [`COMMAND_LIMIT`] (the task waits for room in the event stream: a program that
    /// reads no events and waits on a command gets `None` rather than a hang).
    async fn ask<T>(&self, command: Command, answer: oneshot::Receiver<T>) -> Option<T> {
        tokio::time::timeout(COMMAND_LIMIT, async {
            self.commands.send(Box::new(command)).await.ok()?;
            answer.await.ok()
        })
        .await
        .ok()
        .flatten()
    }

    async fn call(&self, command: CallCommand) -> bool {
        let (reply, answer) = oneshot::channel();
        self.ask(Command::Call(command, reply), answer)
            .await
            .unwrap_or(false)
    }

    /// Calls `target` (a SIP URI) with the SDP offer; `None` when the client stopped
    /// (or did not answer within [`COMMAND_LIMIT`]).
    pub async fn invite(&self, target: impl Into<String>, sdp: Vec<u8>) -> Option<CallHandle> {
        let (reply, answer) = oneshot::channel();
        self.ask(Command::Invite(target.into(), sdp, reply), answer)
            .await
    }

    /// Offers a new session in the call (re-INVITE: hold, unhold).
    pub async fn update(&self, call: CallHandle, sdp: Vec<u8>) -> bool {
        self.call(CallCommand::Update(call, sdp)).await
    }

    /// Transfers the other party of `call` to `target` (REFER); with `replaces`,
    /// attended, to the far end of that call.
    pub async fn refer(
        &self,
        call: CallHandle,
        target: impl Into<String>,
        replaces: Option<CallHandle>,
    ) -> bool {
        self.call(CallCommand::Refer(call, target.into(), replaces))
            .await
    }

    /// Follows the other party's REFER in `call` ([`UaEvent::TransferRequested`]): 202,
    /// then a call to the target with the SDP offer `sdp`, whose progress goes back as
    /// NOTIFYs. The new call; `None` when no REFER waits or the client stopped.
    pub async fn accept_transfer(&self, call: CallHandle, sdp: Vec<u8>) -> Option<CallHandle> {
        let (reply, answer) = oneshot::channel();
        self.ask(Command::AcceptTransfer(call, sdp, reply), answer)
            .await
            .flatten()
    }

    /// Refuses the other party's REFER in `call` (603 Decline, ...).
    pub async fn reject_transfer(
        &self,
        call: CallHandle,
        code: u16,
        reason: impl Into<String>,
    ) -> bool {
        self.call(CallCommand::RejectTransfer(call, code, reason.into()))
            .await
    }

    /// Sends 180 Ringing for an incoming call.
    pub async fn ringing(&self, call: CallHandle) -> bool {
        self.call(CallCommand::Ringing(call)).await
    }

    /// Answers the call's pending INVITE with this SDP answer.
    pub async fn answer(&self, call: CallHandle, sdp: Vec<u8>) -> bool {
        self.call(CallCommand::Answer(call, sdp)).await
    }

    /// Refuses the call's pending INVITE.
    pub async fn reject(&self, call: CallHandle, code: u16, reason: impl Into<String>) -> bool {
        self.call(CallCommand::Reject(call, code, reason.into()))
            .await
    }

    /// Hangs up the call.
    pub async fn hang_up(&self, call: CallHandle) -> bool {
        self.call(CallCommand::HangUp(call)).await
    }

    /// Sends an INFO in the call.
    pub async fn send_info(
        &self,
        call: CallHandle,
        content_type: impl Into<String>,
        body: Vec<u8>,
    ) -> bool {
        self.call(CallCommand::Info(call, content_type.into(), body))
            .await
    }

    /// The next event; `None` once the client has stopped.
    pub async fn next_event(&mut self) -> Option<ClientEvent> {
        self.events.recv().await.map(|event| *event)
    }

    /// Unregisters (waiting at most two seconds for the answer), closes the flow and
    /// stops.
    pub async fn shutdown(self) {
        let (done, stopped) = oneshot::channel();
        if self
            .commands
            .send(Box::new(Command::Shutdown(done)))
            .await
            .is_ok()
        {
            let _ = tokio::time::timeout(UNREGISTER_WAIT + Duration::from_secs(5), stopped).await;
        }
    }
}

/// What the task owns, boxed: an async fn keeps its arguments twice in its future
/// (rust-lang/rust#62958), so they are passed as one pointer.
struct State {
    keeper: FlowKeeper,
    ua: UserAgent,
}

async fn run(
    mut state: Box<State>,
    mut commands: mpsc::Receiver<Box<Command>>,
    events: mpsc::Sender<Box<ClientEvent>>,
) {
    let State { keeper, ua } = &mut *state;
    let mut stopping: Option<(oneshot::Sender<()>, Instant)> = None;
    // One timer for the user agent, the flow's keep-alive and reconnect, and the
    // shutdown's wait.
    let timer = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(timer);
    loop {
        // Send what the user agent has to send, report what it has to say.
        while let Some(bytes) = ua.poll_transmit() {
            // A failed send means the flow is down; the keeper reports that itself.
            let _ = keeper.send(bytes.into()).await;
        }
        while let Some(event) = ua.poll_event() {
            let unregistered = matches!(event, UaEvent::Unregistered);
            if events.send(Box::new(ClientEvent::Ua(event))).await.is_err() {
                keeper.close().await;
                return;
            }
            if unregistered && let Some((done, _)) = stopping.take() {
                keeper.close().await;
                let _ = done.send(());
                return;
            }
        }
        let deadline = [
            ua.poll_timeout().map(Instant::from_std),
            keeper.deadline(),
            stopping.as_ref().map(|(_, at)| *at),
        ]
        .into_iter()
        .flatten()
        .min();
        if let Some(at) = deadline {
            timer.as_mut().reset(at);
        }
        tokio::select! {
            event = keeper.next_event() => {
                let now = std::time::Instant::now();
                match event {
                    LinkEvent::Message(bytes) => ua.handle_message(now, &bytes),
                    event => {
                        match &event {
                            LinkEvent::Connected { .. } => ua.handle_flow(now, true),
                            LinkEvent::Disconnected(_) => ua.handle_flow(now, false),
                            _ => {}
                        }
                        if events.send(Box::new(ClientEvent::Link(event))).await.is_err() {
                            keeper.close().await;
                            return;
                        }
                    }
                }
            }
            () = &mut timer, if deadline.is_some() => {
                let now = Instant::now();
                if stopping.as_ref().is_some_and(|(_, at)| *at <= now) {
                    keeper.close().await;
                    if let Some((done, _)) = stopping.take() {
                        let _ = done.send(());
                    }
                    return;
                }
                keeper.handle_deadline(now).await;
                ua.handle_timeout(now.into_std());
            }
            command = commands.recv(), if stopping.is_none() => {
                let Some(command) = command else {
                    keeper.close().await;
                    return;
                };
                let now = std::time::Instant::now();
                match *command {
                    Command::Call(command, reply) => {
                        let done = match command {
                            CallCommand::Ringing(call) => ua.ringing(call),
                            CallCommand::Answer(call, sdp) => ua.answer(now, call, &sdp),
                            CallCommand::Reject(call, code, reason) => ua.reject(call, code, &reason),
                            CallCommand::HangUp(call) => ua.hang_up(now, call),
                            CallCommand::Info(call, content_type, body) => {
                                ua.send_info(call, &content_type, &body)
                            }
                            CallCommand::Update(call, sdp) => ua.update(now, call, &sdp),
                            CallCommand::Refer(call, target, replaces) => {
                                ua.refer(now, call, &target, replaces)
                            }
                            CallCommand::RejectTransfer(call, code, reason) => {
                                ua.reject_transfer(call, code, &reason)
                            }
                        };
                        let _ = reply.send(done);
                    }
                    Command::Invite(target, sdp, reply) => {
                        let _ = reply.send(ua.invite(now, &target, &sdp));
                    }
                    Command::AcceptTransfer(call, sdp, reply) => {
                        let _ = reply.send(ua.accept_transfer(now, call, &sdp));
                    }
                    Command::Shutdown(done) => {
                        // Calls end with the client: BYE now, not a wait at the other
                        // side for a flow that will not come back.
                        ua.hang_up_all(now);
                        if ua.is_registered() && keeper.is_up() {
                            ua.unregister(now);
                            stopping = Some((done, Instant::now() + UNREGISTER_WAIT));
                        } else {
                            keeper.close().await;
                            let _ = done.send(());
                            return;
                        }
                    }
                }
            }
        }
    }
}
