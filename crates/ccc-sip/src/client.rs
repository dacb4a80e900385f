//! The tokio driver: a [`UserAgent`] on a self-keeping [`Link`].
//!
//! The task feeds the user agent what the link receives, sends what the user agent
//! transmits, fires its timers, and reports both layers' events. It registers as soon
//! as the flow is up, re-registers by itself after every reconnect, and unregisters on
//! [`SipClient::shutdown`].

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, sleep_until};

use crate::link::{Link, LinkConfig, LinkEvent};
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
    commands: mpsc::Sender<Command>,
    events: mpsc::Receiver<ClientEvent>,
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

/// How long shutdown waits for the registrar to confirm the unregistration.
const UNREGISTER_WAIT: Duration = Duration::from_secs(2);

impl SipClient {
    /// Starts the client on the current tokio runtime: it connects and registers.
    /// `seed` makes the user agent's identifiers (64 random bits).
    pub fn spawn(link: LinkConfig, ua: UaConfig, seed: u64) -> Self {
        let (commands, command_rx) = mpsc::channel(8);
        let (event_tx, events) = mpsc::channel(256);
        let mut agent = UserAgent::new(ua, seed);
        agent.register(std::time::Instant::now());
        tokio::spawn(run(Link::spawn(link), agent, command_rx, event_tx));
        Self { commands, events }
    }

    async fn call(&self, command: CallCommand) -> bool {
        let (reply, answer) = oneshot::channel();
        if self
            .commands
            .send(Command::Call(command, reply))
            .await
            .is_err()
        {
            return false;
        }
        answer.await.unwrap_or(false)
    }

    /// Calls `target` (a SIP URI) with the SDP offer; `None` when the client stopped.
    pub async fn invite(&self, target: impl Into<String>, sdp: Vec<u8>) -> Option<CallHandle> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Invite(target.into(), sdp, reply))
            .await
            .ok()?;
        answer.await.ok()
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
        self.commands
            .send(Command::AcceptTransfer(call, sdp, reply))
            .await
            .ok()?;
        answer.await.ok().flatten()
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
        self.events.recv().await
    }

    /// Unregisters (waiting at most two seconds for the answer), closes the flow and
    /// stops.
    pub async fn shutdown(self) {
        let (done, stopped) = oneshot::channel();
        if self.commands.send(Command::Shutdown(done)).await.is_ok() {
            let _ = tokio::time::timeout(UNREGISTER_WAIT + Duration::from_secs(5), stopped).await;
        }
    }
}

async fn run(
    mut link: Link,
    mut ua: UserAgent,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<ClientEvent>,
) {
    let mut stopping: Option<(oneshot::Sender<()>, Instant)> = None;
    loop {
        // Send what the user agent has to send, report what it has to say.
        while let Some(bytes) = ua.poll_transmit() {
            // A failed send means the flow is down; the link reports that itself.
            let _ = link.send(bytes).await;
        }
        while let Some(event) = ua.poll_event() {
            let unregistered = matches!(event, UaEvent::Unregistered);
            if events.send(ClientEvent::Ua(event)).await.is_err() {
                link.shutdown().await;
                return;
            }
            if unregistered && let Some((done, _)) = stopping.take() {
                link.shutdown().await;
                let _ = done.send(());
                return;
            }
        }
        let timer = ua.poll_timeout().map(Instant::from_std);
        let give_up = stopping.as_ref().map(|(_, at)| *at);
        tokio::select! {
            event = link.next_event() => match event {
                Some(LinkEvent::Message(bytes)) => ua.handle_message(std::time::Instant::now(), &bytes),
                Some(event) => {
                    match &event {
                        LinkEvent::Connected { .. } => ua.handle_flow(std::time::Instant::now(), true),
                        LinkEvent::Disconnected(_) => ua.handle_flow(std::time::Instant::now(), false),
                        _ => {}
                    }
                    if events.send(ClientEvent::Link(event)).await.is_err() {
                        link.shutdown().await;
                        return;
                    }
                }
                None => return,
            },
            () = sleep_until(timer.unwrap_or_else(far_future)), if timer.is_some() => {
                ua.handle_timeout(std::time::Instant::now());
            }
            () = sleep_until(give_up.unwrap_or_else(far_future)), if give_up.is_some() => {
                link.shutdown().await;
                if let Some((done, _)) = stopping.take() {
                    let _ = done.send(());
                }
                return;
            }
            command = commands.recv(), if stopping.is_none() => match command {
                Some(Command::Call(command, reply)) => {
                    let now = std::time::Instant::now();
                    let done = match command {
                        CallCommand::Ringing(call) => ua.ringing(call),
                        CallCommand::Answer(call, sdp) => ua.answer(now, call, &sdp),
                        CallCommand::Reject(call, code, reason) => ua.reject(call, code, &reason),
                        CallCommand::HangUp(call) => ua.hang_up(now, call),
                        CallCommand::Info(call, content_type, body) => ua.send_info(call, &content_type, &body),
                        CallCommand::Update(call, sdp) => ua.update(now, call, &sdp),
                        CallCommand::Refer(call, target, replaces) => ua.refer(call, &target, replaces),
                        CallCommand::RejectTransfer(call, code, reason) => {
                            ua.reject_transfer(call, code, &reason)
                        }
                    };
                    let _ = reply.send(done);
                }
                Some(Command::Invite(target, sdp, reply)) => {
                    let _ = reply.send(ua.invite(std::time::Instant::now(), &target, &sdp));
                }
                Some(Command::AcceptTransfer(call, sdp, reply)) => {
                    let _ = reply.send(ua.accept_transfer(std::time::Instant::now(), call, &sdp));
                }
                Some(Command::Shutdown(done)) => {
                    if ua.is_registered() {
                        ua.unregister(std::time::Instant::now());
                        stopping = Some((done, Instant::now() + UNREGISTER_WAIT));
                    } else {
                        link.shutdown().await;
                        let _ = done.send(());
                        return;
                    }
                }
                None => {
                    link.shutdown().await;
                    return;
                }
            },
        }
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400)
}
