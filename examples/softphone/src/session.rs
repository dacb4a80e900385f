//! [`Softphone`]: the app state wired to a running workbench: keys and events go in,
//! commands go out through the bridge, their outcomes come back. The terminal loop of
//! `main.rs` and the tests drive it the same way.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ccc_emulator::Emulator;
use ccc_workbench::{Event, EventStream, Workbench};
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use tokio::sync::mpsc;

use crate::app::App;
use crate::bridge::Bridge;
use crate::command::{Command, Outcome};
use crate::keys::Intent;
use crate::setup::Setup;

/// How many workbench events may wait for the panel.
pub const EVENTS: usize = 256;

/// A softphone: the panel's state and the workbench behind it.
pub struct Softphone {
    /// The panel's state.
    pub app: App,
    bridge: Bridge,
    events: EventStream,
    outcomes: mpsc::Receiver<Outcome>,
    emulator: Option<Arc<Emulator>>,
}

impl std::fmt::Debug for Softphone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Softphone")
            .field("bridge", &self.bridge)
            .field("status", &self.app.status)
            .finish_non_exhaustive()
    }
}

impl Softphone {
    /// Builds the workbench of `setup` and starts the first sign-in.
    pub async fn start(setup: Setup) -> Result<Self, String> {
        let Setup {
            builder,
            access_point,
            groups,
            emulator,
            panel,
            rules,
        } = setup;
        let builder = builder.event_buffer(EVENTS);
        let events = builder.events();
        let workbench = builder.build().await.map_err(|e| e.to_string())?;
        let (bridge, outcomes) = Bridge::new(workbench, emulator.clone(), access_point, groups);
        let mut softphone = Self {
            app: App::new(panel, rules, Instant::now()),
            bridge,
            events,
            outcomes,
            emulator,
        };
        let first = softphone.app.start();
        softphone.perform(first);
        Ok(softphone)
    }

    /// The workbench.
    pub fn workbench(&self) -> &Workbench {
        self.bridge.workbench()
    }

    /// The embedded emulator, when it is the platform.
    pub fn emulator(&self) -> Option<&Emulator> {
        self.emulator.as_deref()
    }

    /// Hands `commands` to the bridge.
    pub fn perform(&mut self, commands: Vec<Command>) {
        for command in commands {
            self.app.sent(&command);
            self.bridge.perform(command);
        }
    }

    /// A key press.
    pub fn key(&mut self, key: KeyEvent) {
        let commands = self.app.on_key(Instant::now(), key);
        self.perform(commands);
    }

    /// What a key asks for, without the key.
    pub fn intent(&mut self, intent: Intent) {
        let commands = self.app.on_intent(Instant::now(), intent);
        self.perform(commands);
    }

    /// Waits for the next workbench event or command outcome and applies it; `false`
    /// once the workbench has stopped. Cancel-safe: nothing is lost when the wait is
    /// dropped.
    pub async fn step(&mut self) -> bool {
        tokio::select! {
            event = self.events.recv() => match event {
                Some(event) => {
                    self.apply_event(&event);
                    true
                }
                None => false,
            },
            Some(outcome) = self.outcomes.recv() => {
                let commands = self.app.on_outcome(Instant::now(), outcome);
                self.perform(commands);
                true
            }
        }
    }

    fn apply_event(&mut self, event: &Event) {
        let now = Instant::now();
        if let Event::Lagged { .. } = event {
            // Events were lost: the status is read instead.
            let status = self.workbench().status_now();
            self.app.set_status(now, status.code, status.last_code);
        }
        let commands = self.app.on_event(now, event);
        self.perform(commands);
    }

    /// Steps until `done(&app)` holds, at most `within`; whether it came to hold.
    pub async fn wait_until(&mut self, within: Duration, done: impl Fn(&App) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        while !done(&self.app) {
            match tokio::time::timeout_at(deadline, self.step()).await {
                Ok(true) => {}
                Ok(false) | Err(_) => return done(&self.app),
            }
        }
        true
    }

    /// Draws the panel.
    pub fn draw(&self, frame: &mut Frame<'_>) {
        crate::view::draw(frame, &self.app, Instant::now());
    }

    /// Signs out, unregisters and releases every link (the guide's reload), then
    /// stops the embedded emulator.
    pub async fn shutdown(self) {
        let Self {
            bridge, emulator, ..
        } = self;
        let _ = bridge.workbench().clone().shutdown().await;
        drop(bridge);
        if let Some(emulator) = emulator.and_then(|e| Arc::try_unwrap(e).ok()) {
            emulator.shutdown().await;
        }
    }
}
