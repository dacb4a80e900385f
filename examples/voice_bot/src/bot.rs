//! The bot's loop: it answers each call that rings, collects the caller's digits while
//! the prompt plays, hangs up when they are complete, and is ready for the next call.

use std::sync::Arc;
use std::time::Duration;

use ccc_workbench::{Error, Event, EventStream, Status, Workbench};
use tokio::time::Instant;

use crate::digits::{Collector, DigitRules, Ended};

/// What one call gave.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallOutcome {
    /// The call (contact) id, as in the call records.
    pub contact_id: Option<Arc<str>>,
    /// The caller's number.
    pub caller: Option<Arc<str>>,
    /// The digits the caller pressed (without the terminator).
    pub digits: String,
    /// Why the input ended.
    pub ended: Ended,
}

/// Why the bot stopped serving.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BotError {
    /// The agent was signed out (kicked out, a link lost for good, or `logOut`).
    #[error("the agent was signed out ({0})")]
    SignedOut(String),
    /// The bot fell behind its events and cannot know what it missed.
    #[error("{0} events were lost; the bot stops rather than guess")]
    Lagged(u64),
    /// The workbench refused what the bot must do to go on.
    #[error("{what}: {source}")]
    Workbench {
        /// What the bot tried.
        what: &'static str,
        /// The workbench's error.
        source: Error,
    },
}

/// The voice bot: give [`Prompt::audio`](crate::Prompt::audio) to the workbench's
/// builder, register, then [`VoiceBot::serve`].
#[derive(Debug, Clone)]
pub struct VoiceBot {
    rules: DigitRules,
    ring: Duration,
}

impl Default for VoiceBot {
    fn default() -> Self {
        Self::new(DigitRules::default())
    }
}

/// How long a call rings before the bot answers, by default: not at all (answer()
/// itself waits for the platform's INVITE to reach this device).
pub const RING: Duration = Duration::ZERO;

/// The call in progress.
struct Current {
    outcome: CallOutcome,
    collector: Collector,
    /// When to answer; `None` once answered (or the answer failed).
    answer_at: Option<Instant>,
    answered: bool,
}

impl Current {
    /// The next thing to do on time: answer, or end the input.
    fn deadline(&self) -> Option<Instant> {
        self.answer_at
            .or_else(|| self.collector.deadline().map(Instant::from_std))
    }
}

impl VoiceBot {
    /// A bot that collects digits by `rules` and lets each call ring [`RING`].
    pub fn new(rules: DigitRules) -> Self {
        Self { rules, ring: RING }
    }

    /// Lets each call ring `ring` before answering, for callers who expect to hear a
    /// ring or two before a person picks up.
    pub fn ring_for(mut self, ring: Duration) -> Self {
        self.ring = ring;
        self
    }

    /// Serves calls until `calls` have ended (every call when `None`), the events end
    /// (the workbench was shut down) or the agent is signed out. `events` must be taken
    /// before the first call rings (best: from the builder). Each call's outcome goes to
    /// `on_call` as it ends. Returns how many calls were served.
    pub async fn serve(
        &self,
        workbench: &Workbench,
        mut events: EventStream,
        calls: Option<usize>,
        mut on_call: impl FnMut(&CallOutcome),
    ) -> Result<usize, BotError> {
        let mut served = 0;
        let mut current: Option<Current> = None;
        // The status as the events tell it (the events are read as they come;
        // `status_now` may not have caught up with the last one yet).
        let mut status = workbench.status_now().code;
        while calls.is_none_or(|n| served < n) {
            let deadline = current.as_ref().and_then(Current::deadline);
            let event = tokio::select! {
                event = events.recv() => event,
                () = sleep_until(deadline) => {
                    if let Some(call) = current.as_mut() {
                        on_time(workbench, call).await?;
                    }
                    continue;
                }
            };
            let Some(event) = event else { break };
            match event {
                Event::StatusChange(change) => status = change.code,
                Event::CallComing(coming) => {
                    current = Some(Current {
                        outcome: CallOutcome {
                            contact_id: coming.contact_id.clone(),
                            caller: coming.caller.clone(),
                            digits: String::new(),
                            ended: Ended::CallerHungUp,
                        },
                        collector: Collector::new(self.rules.clone()),
                        answer_at: Some(Instant::now() + self.ring),
                        answered: false,
                    });
                }
                Event::Dtmf { digit } => {
                    if let Some(call) = current.as_mut()
                        && call
                            .collector
                            .digit(std::time::Instant::now(), digit)
                            .is_some()
                    {
                        hang_up(workbench).await?;
                    }
                }
                Event::HangUp { .. } => {
                    let Some(call) = current.take() else { continue };
                    let mut outcome = call.outcome;
                    outcome.digits = call.collector.digits().to_owned();
                    if let Some(ended) = call.collector.ended() {
                        outcome.ended = ended.clone();
                    } else if !call.answered && outcome.ended == Ended::CallerHungUp {
                        outcome.ended = Ended::NotAnswered("the caller hung up first".into());
                    }
                    served += 1;
                    on_call(&outcome);
                    if status == Status::AfterCallWork {
                        be_ready(workbench).await?;
                    }
                }
                Event::LogOut { reason } => return Err(BotError::SignedOut(reason.to_string())),
                Event::Lagged { missed } => return Err(BotError::Lagged(missed)),
                _ => {}
            }
        }
        Ok(served)
    }
}

/// The call's deadline came: answer it, or end its input and hang up.
async fn on_time(workbench: &Workbench, call: &mut Current) -> Result<(), BotError> {
    let now = std::time::Instant::now();
    if call.answer_at.take().is_some() {
        match workbench.answer().await {
            Ok(()) => {
                call.answered = true;
                // The wait for the first digit starts now: a call whose audio never
                // flows ends too.
                call.collector.start(std::time::Instant::now());
            }
            // The caller may have given up while it rang; its hang-up event ends the
            // call either way.
            Err(e) => call.outcome.ended = Ended::NotAnswered(e.to_string()),
        }
    } else if call.collector.handle_timeout(now).is_some() {
        hang_up(workbench).await?;
    }
    Ok(())
}

/// Sleeps until `deadline`; forever without one.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Hangs the call up; a caller who hung up first is no error.
async fn hang_up(workbench: &Workbench) -> Result<(), BotError> {
    match workbench.hang_up().await {
        Ok(()) => Ok(()),
        Err(_) if !workbench.status_code().await.code.is_call() => Ok(()),
        Err(source) => Err(BotError::Workbench {
            what: "hangUp",
            source,
        }),
    }
}

/// Leaves after-call work at once: a bot has no notes to write.
async fn be_ready(workbench: &Workbench) -> Result<(), BotError> {
    match workbench.ready().await {
        Ok(()) => Ok(()),
        // The after-call rule (C10) may have made the agent ready meanwhile.
        Err(_) if workbench.status_code().await.code != Status::AfterCallWork => Ok(()),
        Err(source) => Err(BotError::Workbench {
            what: "ready",
            source,
        }),
    }
}
