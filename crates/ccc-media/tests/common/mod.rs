//! Two ccc-media peers on this machine, wired by handing SDP across.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ccc_media::audio::{AudioFrame, PulledSink, Tone, pulled_sink};
use ccc_media::call::{CallAudio, CallConfig, MediaEvent, MediaEvents, MediaSession};
use tokio::net::UdpSocket;
use tokio::sync::Mutex;
use tokio::sync::mpsc::Receiver;

pub struct Peer {
    pub session: MediaSession,
    pub events: MediaEvents,
    pub heard: Receiver<AudioFrame>,
}

pub async fn peer(config: CallConfig, tone_hz: f64) -> Peer {
    let (sink, heard): (PulledSink, _) = pulled_sink(1000);
    let audio = CallAudio::new(Tone::new(tone_hz, 0.4), sink);
    let (session, events) = MediaSession::new(config, audio).await.expect("session");
    Peer {
        session,
        events,
        heard,
    }
}

/// Offer from `a`, answer from `b`, answer applied on `a`.
pub async fn connect(a: &Peer, b: &Peer) {
    let offer = a.session.offer().await.expect("offer");
    assert!(offer.contains("a=candidate"), "a complete offer:\n{offer}");
    let answer = b.session.answer(&offer).await.expect("answer");
    assert!(
        answer.contains("a=candidate"),
        "a complete answer:\n{answer}"
    );
    a.session.set_remote(&answer).await.expect("set remote");
}

/// Waits for an event matching `want`, at most `limit`; the events passed over are
/// returned too.
pub async fn wait_for(
    events: &mut MediaEvents,
    limit: Duration,
    want: impl Fn(&MediaEvent) -> bool,
) -> Result<MediaEvent, Vec<MediaEvent>> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(event)) if want(&event) => return Ok(event),
            Ok(Some(event)) => seen.push(event),
            Ok(None) | Err(_) => return Err(seen),
        }
    }
}

pub async fn connected(peer: &mut Peer) -> Duration {
    match wait_for(&mut peer.events, Duration::from_secs(10), |e| {
        matches!(e, MediaEvent::Connected { .. } | MediaEvent::Failed { .. })
    })
    .await
    {
        Ok(MediaEvent::Connected { after, .. }) => after,
        other => panic!("not connected: {other:?}"),
    }
}

/// Drops what was heard so far, then gathers `ms` of what is heard next.
pub async fn listen(peer: &mut Peer, ms: u64) -> (u32, Vec<i16>) {
    while peer.heard.try_recv().is_ok() {}
    let mut samples = Vec::new();
    let mut rate = 8000;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
    while let Ok(Some(frame)) = tokio::time::timeout_at(deadline, peer.heard.recv()).await {
        rate = frame.rate();
        samples.extend_from_slice(frame.samples());
    }
    (rate, samples)
}

/// A UDP relay in front of `server` that holds every datagram `delay` in each direction.
/// Each client address gets its own upstream socket, as separate clients would.
pub async fn delay_proxy(server: SocketAddr, delay: Duration) -> SocketAddr {
    let front = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let addr = front.local_addr().unwrap();
    let upstreams: Arc<Mutex<HashMap<SocketAddr, Arc<UdpSocket>>>> = Arc::default();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 2048];
        while let Ok((n, client)) = front.recv_from(&mut buf).await {
            let packet = buf[..n].to_vec();
            let mut map = upstreams.lock().await;
            let upstream = if let Some(up) = map.get(&client) {
                Arc::clone(up)
            } else {
                let up = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
                up.connect(server).await.unwrap();
                map.insert(client, Arc::clone(&up));
                let (up2, front2) = (Arc::clone(&up), Arc::clone(&front));
                tokio::spawn(async move {
                    let mut back = vec![0u8; 2048];
                    while let Ok(n) = up2.recv(&mut back).await {
                        let answer = back[..n].to_vec();
                        let front3 = Arc::clone(&front2);
                        tokio::spawn(async move {
                            tokio::time::sleep(delay).await;
                            let _ = front3.send_to(&answer, client).await;
                        });
                    }
                });
                up
            };
            drop(map);
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let _ = upstream.send(&packet).await;
            });
        }
    });
    addr
}
