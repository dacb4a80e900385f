//! The registered workbench's side of the control channel: what other processes ask,
//! handed to the driver as the methods the integrator would call.

use ccc_core::Status;
use tokio::sync::{mpsc, oneshot, watch};

use super::protocol::CallRequest;
use super::server::{ControlHandler, HandlerError};
use crate::driver::command::{Command, Op};
use crate::types::StatusCode;

/// Holds the driver only weakly: the control channel never keeps a dropped workbench
/// alive.
pub(crate) struct Handler {
    commands: mpsc::WeakSender<Box<Command>>,
    status: watch::Receiver<StatusCode>,
    /// C23 `useLocalStorageToCall`: without it, other processes may read the status and
    /// take over, but not dial or hang up.
    calls: bool,
}

impl Handler {
    pub(crate) fn new(
        commands: mpsc::WeakSender<Box<Command>>,
        status: watch::Receiver<StatusCode>,
        calls: bool,
    ) -> Self {
        Self {
            commands,
            status,
            calls,
        }
    }

    async fn op(&self, op: Op) -> Result<(), HandlerError> {
        if !self.calls {
            return Err(HandlerError::new(
                "this workbench does not take calls from other processes (useLocalStorageToCall, C23, is off)",
            ));
        }
        let commands = self
            .commands
            .upgrade()
            .ok_or_else(|| HandlerError::new("the workbench is shut down"))?;
        let (reply, answer) = oneshot::channel();
        commands
            .send(Box::new(Command::Op { op, reply }))
            .await
            .map_err(|_| HandlerError::new("the workbench is shut down"))?;
        match answer.await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(HandlerError::new(e)),
            Err(_) => Err(HandlerError::new("the workbench is shut down")),
        }
    }
}

impl ControlHandler for Handler {
    fn status(&self) -> Status {
        self.status.borrow().code
    }

    async fn call(&self, request: CallRequest) -> Result<(), HandlerError> {
        self.op(Op::Call(request)).await
    }

    async fn hang_up(&self) -> Result<(), HandlerError> {
        self.op(Op::HangUp).await
    }

    async fn release(&self) {
        if let Some(commands) = self.commands.upgrade() {
            let _ = commands.send(Box::new(Command::Release)).await;
        }
    }
}
