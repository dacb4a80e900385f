//! Sessions release what they hold: after many calls, closed or merely dropped, the
//! runtime has no task and the process no socket left of them.
//!
//! One test in this file, so that no other test's sockets are counted.

mod common;

use std::time::Duration;

use ccc_media::call::{CallConfig, MediaEvent};
use common::{connect, connected, peer, wait_for};

/// Open file descriptors of this process (sockets among them).
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

/// Waits (at most 5 s) until the runtime's tasks and the process's descriptors are
/// back to `baseline`; gives what they were at the end.
async fn settle(baseline: (usize, usize)) -> (usize, usize) {
    let metrics = tokio::runtime::Handle::current().metrics();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let now = (metrics.num_alive_tasks(), open_fds());
        if now.0 <= baseline.0 && now.1 <= baseline.1 || tokio::time::Instant::now() > deadline {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_and_dropped_sessions_leave_no_task_or_socket() {
    let metrics = tokio::runtime::Handle::current().metrics();
    let baseline = (metrics.num_alive_tasks(), open_fds());

    // Calls hung up with close().
    for _ in 0..4 {
        let mut a = peer(CallConfig::loopback(), 440.0).await;
        let mut b = peer(CallConfig::loopback(), 1000.0).await;
        connect(&a, &b).await;
        connected(&mut a).await;
        connected(&mut b).await;
        a.session.close().await.unwrap();
        b.session.close().await.unwrap();
    }
    assert_eq!(settle(baseline).await, baseline, "after closed calls");

    // Calls whose sessions are dropped without close(), as an early return or a panic
    // would: the media task still ends the call (Ended comes) and the peer connection
    // is closed in the background.
    for _ in 0..4 {
        let mut a = peer(CallConfig::loopback(), 440.0).await;
        let mut b = peer(CallConfig::loopback(), 1000.0).await;
        connect(&a, &b).await;
        connected(&mut a).await;
        connected(&mut b).await;
        drop(a.session);
        assert!(
            wait_for(&mut a.events, Duration::from_secs(2), |e| *e
                == MediaEvent::Ended)
            .await
            .is_ok(),
            "a dropped session ends its media"
        );
        drop(b);
    }
    assert_eq!(settle(baseline).await, baseline, "after dropped sessions");
}
