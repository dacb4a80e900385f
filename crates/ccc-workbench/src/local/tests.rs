use std::os::unix::fs::PermissionsExt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ccc_core::Status;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::*;

/// A workbench stand-in that records what the control channel asked of it.
#[derive(Default)]
struct Recorder {
    status: Mutex<Option<Status>>,
    calls: Mutex<Vec<CallRequest>>,
    hang_ups: Mutex<u32>,
    fail_with: Mutex<Option<String>>,
    /// What `release` drops: the lock and the server, as a workbench shutting down would.
    held: Mutex<Option<(LocalLock, ControlServer)>>,
}

impl Recorder {
    fn at(status: Status) -> Arc<Self> {
        let recorder = Arc::new(Self::default());
        recorder.set(status);
        recorder
    }

    fn set(&self, status: Status) {
        *self.status.lock().unwrap() = Some(status);
    }

    fn outcome(&self) -> Result<(), HandlerError> {
        match self.fail_with.lock().unwrap().clone() {
            Some(message) => Err(HandlerError::new(message)),
            None => Ok(()),
        }
    }
}

impl ControlHandler for Recorder {
    fn status(&self) -> Status {
        self.status.lock().unwrap().unwrap_or(Status::Unregistered)
    }

    async fn call(&self, request: CallRequest) -> Result<(), HandlerError> {
        self.calls.lock().unwrap().push(request);
        self.outcome()?;
        self.set(Status::Dialing);
        Ok(())
    }

    async fn hang_up(&self) -> Result<(), HandlerError> {
        *self.hang_ups.lock().unwrap() += 1;
        self.outcome()?;
        self.set(Status::AfterCallWork);
        Ok(())
    }

    async fn release(&self) {
        self.held.lock().unwrap().take();
    }
}

fn private_dir() -> (tempfile::TempDir, LocalDir) {
    let base = tempfile::tempdir().unwrap();
    let dir = LocalDir::at(base.path().join("ccc")).unwrap();
    (base, dir)
}

#[test]
fn one_process_holds_an_agent_and_others_learn_who() {
    let (_base, dir) = private_dir();
    let lock = LocalLock::acquire(&dir, "ccc-test", "agent1@ccc-test").unwrap();
    let other_agent = LocalLock::acquire(&dir, "ccc-test", "agent2@ccc-test");
    assert!(other_agent.is_ok(), "another agent is independent");

    // flock(2) locks belong to the open file, so a second open in this process is
    // refused just as another process would be.
    match LocalLock::acquire(&dir, "ccc-test", "agent1@ccc-test") {
        Err(LockError::Held {
            user_id,
            pid,
            socket,
        }) => {
            assert_eq!(user_id, "agent1@ccc-test");
            assert_eq!(pid, Some(std::process::id()));
            assert_eq!(socket, lock.socket_path());
        }
        other => panic!("expected Held, got {other:?}"),
    }
    drop(lock);
    LocalLock::acquire(&dir, "ccc-test", "agent1@ccc-test").expect("free again after drop");
}

#[tokio::test]
async fn other_processes_call_and_hang_up_within_the_guides_statuses() {
    let (_base, dir) = private_dir();
    let lock = LocalLock::acquire(&dir, "ccc-test", "agent@ccc-test").unwrap();
    let workbench = Recorder::at(Status::Ready);
    let server = ControlServer::bind(&lock, Arc::clone(&workbench)).unwrap();
    let mode = std::fs::metadata(server.path())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);

    let mut client = ControlClient::connect(lock.socket_path()).await.unwrap();
    assert_eq!(client.status().await.unwrap(), Status::Ready);

    // Hanging up at 3 is refused before the workbench is asked.
    match client.hang_up().await {
        Err(ControlError::Refused { status, reason }) => {
            assert_eq!(status, Status::Ready);
            assert!(
                reason.contains("only at 8, 9, 10, 11, 12 or 21"),
                "{reason}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(*workbench.hang_ups.lock().unwrap(), 0);

    let call = CallRequest {
        callee: "13900001111".into(),
        caller: "auto".into(),
        public_key: None,
        use_vir_num_call: true,
        masked_callee: None,
    };
    assert_eq!(client.call(call.clone()).await.unwrap(), Status::Dialing);
    assert_eq!(
        workbench.calls.lock().unwrap().as_slice(),
        std::slice::from_ref(&call)
    );

    // At 8 a second call is refused, and a hang-up is carried out.
    assert!(matches!(
        client.call(call).await,
        Err(ControlError::Refused {
            status: Status::Dialing,
            ..
        })
    ));
    assert_eq!(workbench.calls.lock().unwrap().len(), 1);
    assert_eq!(client.hang_up().await.unwrap(), Status::AfterCallWork);

    // A failure of the workbench reaches the asking process with its message.
    *workbench.fail_with.lock().unwrap() = Some("caller outof range".into());
    match client
        .call(CallRequest {
            callee: "1".into(),
            ..CallRequest::default()
        })
        .await
    {
        Err(ControlError::Refused { reason, .. }) => assert_eq!(reason, "caller outof range"),
        other => panic!("expected the workbench's error, got {other:?}"),
    }
}

#[tokio::test]
async fn bad_lines_get_an_error_and_an_overlong_one_closes_the_channel() {
    let (_base, dir) = private_dir();
    let lock = LocalLock::acquire(&dir, "ccc-test", "agent@ccc-test").unwrap();
    let _server = ControlServer::bind(&lock, Recorder::at(Status::Break)).unwrap();
    let stream = tokio::net::UnixStream::connect(lock.socket_path())
        .await
        .unwrap();
    let (read, mut write) = stream.into_split();
    let mut replies = BufReader::new(read).lines();

    let huge = "x".repeat(MAX_LINE + 10);
    for line in [
        "not json",
        r#"{"op":"dance"}"#,
        r#"{"op":"call"}"#,
        "{\"op\":\"status\"}",
        &huge,
    ] {
        write.write_all(line.as_bytes()).await.unwrap();
        write.write_all(b"\n").await.unwrap();
        let reply: ControlReply =
            serde_json::from_str(&replies.next_line().await.unwrap().unwrap()).unwrap();
        assert_eq!(reply.status, Status::Break);
        if line.contains("status") {
            assert_eq!(
                reply,
                ControlReply::done(Status::Break),
                "the channel goes on"
            );
        } else {
            assert!(!reply.ok, "{line:.20} must be refused");
            assert!(reply.error.is_some());
        }
    }
    // After an overlong line the server answered, then closed the connection.
    assert_eq!(replies.next_line().await.unwrap(), None);
}

#[tokio::test]
async fn a_second_process_takes_over_when_asked() {
    let (_base, dir) = private_dir();
    let first = Recorder::at(Status::Ready);
    let lock = LocalLock::acquire(&dir, "ccc-test", "agent@ccc-test").unwrap();
    let server = ControlServer::bind(&lock, Arc::clone(&first)).unwrap();
    let socket = server.path().to_owned();
    *first.held.lock().unwrap() = Some((lock, server));

    let second = LocalLock::take_over(&dir, "ccc-test", "agent@ccc-test", Duration::from_secs(5))
        .await
        .unwrap();
    assert!(first.held.lock().unwrap().is_none(), "the first one let go");
    assert!(!socket.exists(), "its socket is gone with it");
    assert_eq!(second.socket_path(), socket);
}

#[tokio::test]
async fn nobody_serving_is_a_clear_error() {
    let (_base, dir) = private_dir();
    let lock = LocalLock::acquire(&dir, "ccc-test", "agent@ccc-test").unwrap();
    match ControlClient::connect(lock.socket_path()).await {
        Err(ControlError::NotServing { path, .. }) => assert_eq!(path, lock.socket_path()),
        other => panic!("expected NotServing, got {other:?}"),
    }
    // A holder without C23 cannot be asked to let go.
    let taken =
        LocalLock::take_over(&dir, "ccc-test", "agent@ccc-test", Duration::from_secs(1)).await;
    assert!(matches!(
        taken,
        Err(LockError::TakeOver(ControlError::NotServing { .. }))
    ));
}

#[test]
fn the_guides_status_rules() {
    let callable: Vec<i8> = CALL_STATUSES.iter().map(|s| s.code()).collect();
    assert_eq!(callable, [3, 4, 5]);
    let hangable: Vec<i8> = HANG_UP_STATUSES.iter().map(|s| s.code()).collect();
    assert_eq!(hangable, [8, 9, 10, 11, 12, 21]);
    assert!(!may_call(Status::Ringing) && !may_hang_up(Status::Ringing));
}
