//! M20 `checkNetwork` against real listeners on 127.0.0.1: Kamailio's SIP WebSockets
//! (ws and wss), a WebSocket server standing in for the agent link, coturn over UDP,
//! TCP and TLS; and what a firewall does: a closed port, a server that accepts and says
//! nothing, a port whose SYNs are dropped, a UDP port that never answers, an HTTP
//! server that refuses the upgrade, a certificate nobody vouches for. (A name that does
//! not resolve is not tried: the lookup would leave this machine.)

use std::net::SocketAddr;
use std::time::Duration;

use ccc_media::access_point::TlsRoots;
use ccc_media::check::{
    NetworkCheckOptions, NetworkReport, Outcome, Service, Stage, Target, check_network,
};
use ccc_testpeers::{Coturn, Kamailio, KamailioConfig, TurnAuth};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};

const LIMIT: Duration = Duration::from_millis(400);

/// Runs the check with a guard: it must settle soon after its limit.
async fn check(targets: &[Target], roots: TlsRoots) -> NetworkReport {
    let options = NetworkCheckOptions {
        timeout: LIMIT,
        roots,
    };
    tokio::time::timeout(
        LIMIT + Duration::from_secs(2),
        check_network(targets, &options),
    )
    .await
    .expect("the check settles within its limit")
}

/// A WebSocket server that accepts every upgrade (the agent link's stand-in).
async fn websocket_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await {
                    use futures_util::StreamExt as _;
                    while let Some(Ok(_)) = ws.next().await {}
                }
            });
        }
    });
    addr
}

/// An HTTP server that answers every request with 404.
async fn http_404_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                let _ = stream.read(&mut buf).await;
                let _ = stream
                    .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                    .await;
            });
        }
    });
    addr
}

/// A port that is closed: bound a moment ago, then released.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A listener that never accepts, with its accept queue already full, so the kernel
/// drops further SYNs: a connect there hangs, as behind a dropping firewall. Returns the
/// listener and the connections that fill its queue (keep them alive).
async fn syn_black_hole() -> (TcpListener, SocketAddr, Vec<TcpStream>) {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    // Fill the queue: connects complete until it is full, then one hangs.
    for _ in 0..8 {
        match tokio::time::timeout(Duration::from_millis(200), TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => fillers.push(stream),
            _ => break,
        }
    }
    (listener, addr, fillers)
}

fn outcome<'a>(report: &'a NetworkReport, url: &str) -> &'a Outcome {
    &report
        .targets
        .iter()
        .find(|t| t.target.url == url)
        .unwrap_or_else(|| panic!("{url} in the report"))
        .outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_services_are_reachable() {
    let Some(kamailio) = Kamailio::start(KamailioConfig::default()).expect("kamailio") else {
        return;
    };
    let auth = TurnAuth::Static {
        user: "agent".into(),
        password: "pw".into(),
    };
    let coturn = Coturn::start_with_tls(auth, "check.test")
        .expect("coturn")
        .expect("installed");
    let agent_link = websocket_server().await;
    let turns = coturn.turns_url().unwrap();
    let targets = [
        Target::sip(kamailio.ws_url()),
        Target::sip(kamailio.wss_url()),
        Target::agent_link(format!("ws://{agent_link}/agent")),
        Target::turn(coturn.turn_url()),
        Target::turn(format!(
            "turn:127.0.0.1:{}?transport=tcp",
            coturn.addr().port()
        )),
        Target::turn(turns.clone()),
        Target::turn(coturn.stun_url()),
    ];
    // Both test CAs trusted: Kamailio's for wss, coturn's for turns.
    let roots = TlsRoots::Custom(vec![
        kamailio.ca_der().to_vec(),
        coturn.ca().unwrap().ca_der.clone(),
    ]);
    let report = check(&targets, roots).await;
    for t in &report.targets {
        assert!(
            t.outcome.is_reachable(),
            "{t:#?}\n{}\n{}",
            kamailio.log_tail(),
            coturn.log_tail()
        );
    }
    assert!(report.all_reachable());
    for service in [Service::Sip, Service::AgentLink, Service::Turn] {
        assert!(report.service_reachable(service));
    }

    // The same wss and turns servers, trusted by nobody here: a TLS failure, named.
    let report = check(
        &[Target::sip(kamailio.wss_url()), Target::turn(turns.clone())],
        TlsRoots::Custom(Vec::new()),
    )
    .await;
    for t in &report.targets {
        let Outcome::Failed {
            stage: Stage::Tls,
            reason,
        } = &t.outcome
        else {
            panic!("expected a TLS failure: {t:#?}");
        };
        assert!(reason.contains("certificate"), "{reason}");
    }

    // The services swapped: Kamailio refuses a WebSocket without the `sip` subprotocol
    // (400), and a plain WebSocket server does not grant `sip`. Reached, but not the
    // service: failed at the answer.
    let report = check(
        &[
            Target::agent_link(kamailio.ws_url()),
            Target::sip(format!("ws://{agent_link}/")),
        ],
        TlsRoots::Platform,
    )
    .await;
    assert!(
        matches!(
            &report.targets[0].outcome,
            Outcome::Failed { stage: Stage::Answer, reason } if reason.contains("400")
        ),
        "{report:#?}"
    );
    assert!(
        matches!(
            &report.targets[1].outcome,
            Outcome::Failed { stage: Stage::Answer, reason } if reason.contains("subprotocol")
        ),
        "{report:#?}"
    );
    assert!(!report.service_reachable(Service::AgentLink));
    assert!(!report.service_reachable(Service::Sip));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_addresses_say_where_and_why() {
    let closed = closed_port();
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent = silent.local_addr().map(|a| (silent, a)).unwrap();
    let (_hole, hole, _fillers) = syn_black_hole().await;
    let http = http_404_server().await;
    let silent_udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let closed_udp = {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };

    let refused = format!("ws://127.0.0.1:{closed}/");
    let accepts_then_silent = format!("wss://{}/", silent.1);
    let dropped = format!("ws://{hole}/");
    let not_websocket = format!("ws://{http}/ws");
    let udp_silent = format!("turn:{}", silent_udp.local_addr().unwrap());
    let udp_closed = format!("turn:127.0.0.1:{closed_udp}?transport=udp");
    let tcp_refused = format!("turn:127.0.0.1:{closed}?transport=tcp");
    let targets = [
        Target::sip(refused.clone()),
        Target::sip(accepts_then_silent.clone()),
        Target::agent_link(dropped.clone()),
        Target::agent_link(not_websocket.clone()),
        Target::turn(udp_silent.clone()),
        Target::turn(udp_closed.clone()),
        Target::turn(tcp_refused.clone()),
    ];
    let report = check(&targets, TlsRoots::Custom(Vec::new())).await;
    assert_eq!(report.blocked().count(), targets.len(), "{report:#?}");

    assert_eq!(
        outcome(&report, &refused),
        &Outcome::Refused {
            stage: Stage::Connect
        }
    );
    assert_eq!(
        outcome(&report, &accepts_then_silent),
        &Outcome::TimedOut {
            stage: Stage::Tls,
            after: LIMIT
        }
    );
    assert!(
        matches!(
            outcome(&report, &dropped),
            Outcome::TimedOut {
                stage: Stage::Connect,
                ..
            }
        ),
        "{report:#?}"
    );
    assert!(
        matches!(
            outcome(&report, &not_websocket),
            Outcome::Failed { stage: Stage::Answer, reason } if reason.contains("404")
        ),
        "{report:#?}"
    );
    assert!(
        matches!(
            outcome(&report, &udp_silent),
            Outcome::TimedOut {
                stage: Stage::Answer,
                ..
            }
        ),
        "{report:#?}"
    );
    assert_eq!(
        outcome(&report, &udp_closed),
        &Outcome::Refused {
            stage: Stage::Answer
        },
        "an ICMP port unreachable"
    );
    assert_eq!(
        outcome(&report, &tcp_refused),
        &Outcome::Refused {
            stage: Stage::Connect
        }
    );
    for service in [Service::Sip, Service::AgentLink, Service::Turn] {
        assert!(!report.service_reachable(service));
    }
}
