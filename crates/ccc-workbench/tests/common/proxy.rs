//! A TCP proxy on 127.0.0.1 in front of one of the emulator's links, which a test can
//! cut (every connection closed and new ones refused) or black-hole (connections kept
//! open and silent), as a network outage does, and restore.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Pass,
    /// Close everything; refuse new connections.
    Cut,
    /// Keep connections open, forward nothing.
    BlackHole,
}

pub struct LinkProxy {
    pub addr: SocketAddr,
    mode: Arc<watch::Sender<Mode>>,
    task: tokio::task::JoinHandle<()>,
}

impl LinkProxy {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mode = Arc::new(watch::channel(Mode::Pass).0);
        let m = Arc::clone(&mode);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let mut rx = m.subscribe();
                if *rx.borrow() == Mode::Cut {
                    drop(client);
                    continue;
                }
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(target).await else {
                        return;
                    };
                    pipe(client, server, &mut rx).await;
                });
            }
        });
        Self { addr, mode, task }
    }

    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }

    /// `url` with its host and port replaced by the proxy's.
    pub fn url_for(&self, url: &str) -> String {
        let mut u = url::Url::parse(url).unwrap();
        u.set_ip_host(self.addr.ip()).unwrap();
        u.set_port(Some(self.addr.port())).unwrap();
        u.to_string()
    }
}

impl Drop for LinkProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Copies both ways while the mode is `Pass`; stops copying (black hole) or closes
/// both sides (cut) when it changes.
async fn pipe(client: TcpStream, server: TcpStream, mode: &mut watch::Receiver<Mode>) {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let copying = async {
        tokio::select! {
            _ = tokio::io::copy(&mut cr, &mut sw) => {}
            _ = tokio::io::copy(&mut sr, &mut cw) => {}
        }
    };
    let changed = async {
        loop {
            if *mode.borrow_and_update() != Mode::Pass {
                return;
            }
            if mode.changed().await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        () = copying => return,
        () = changed => {}
    }
    // Not passing any more: a black hole holds the sockets open and silent until it
    // is cut; a cut closes them.
    while *mode.borrow_and_update() == Mode::BlackHole {
        if mode.changed().await.is_err() {
            break;
        }
    }
    let _ = cw.shutdown().await;
    let _ = sw.shutdown().await;
}
