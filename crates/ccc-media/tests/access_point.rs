//! The access-point speed test against real coturn servers on 127.0.0.1: ranking,
//! figures, TCP, and the failures a user must be told about clearly.

mod common;

use std::time::{Duration, SystemTime};

use ccc_media::access_point::{
    AccessPoint, ProbeError, ProbeOptions, TlsRoots, TurnCredentials, test_access_points,
};
use ccc_testpeers::{Coturn, TurnAuth};
use common::delay_proxy;
use tokio::net::UdpSocket;

const USER: &str = "agent";
const PASSWORD: &str = "pass-word";

fn static_auth() -> TurnAuth {
    TurnAuth::Static {
        user: USER.into(),
        password: PASSWORD.into(),
    }
}

fn credentials() -> TurnCredentials {
    TurnCredentials::Static {
        username: USER.into(),
        password: PASSWORD.into(),
    }
}

fn options(rounds: u32) -> ProbeOptions {
    ProbeOptions::new(rounds, Duration::from_secs(2))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regions_are_ranked_and_a_slow_one_comes_last() {
    let Some(shanghai) = Coturn::start(static_auth(), "cn-shanghai.test").expect("coturn") else {
        return;
    };
    let beijing = Coturn::start(static_auth(), "cn-beijing.test")
        .expect("coturn")
        .expect("installed");
    let delay = Duration::from_millis(40);
    let slow = delay_proxy(beijing.addr(), delay).await;
    let points = [
        AccessPoint {
            region: "cn-slow".into(),
            urls: vec![format!("turn:{slow}?transport=udp")],
        },
        AccessPoint {
            region: "cn-shanghai".into(),
            urls: vec![shanghai.turn_url()],
        },
        AccessPoint {
            region: "cn-beijing".into(),
            urls: vec![
                beijing.turn_url(),
                format!("turn:127.0.0.1:{}?transport=tcp", beijing.addr().port()),
            ],
        },
    ];
    let ranking = test_access_points(&points, &credentials(), &options(5)).await;
    let order: Vec<&str> = ranking.iter().map(|r| r.region.as_str()).collect();
    assert_eq!(order.last(), Some(&"cn-slow"), "{ranking:#?}");
    for report in &ranking {
        for server in &report.servers {
            assert_eq!(
                (server.successes, server.failures),
                (5, 0),
                "{server:#?}\n{}",
                shanghai.log_tail()
            );
            let binding = server.binding.expect("binding figures");
            let (challenge, allocate) = (server.challenge.unwrap(), server.allocate.unwrap());
            assert!(binding.min <= binding.median && binding.median <= binding.max);
            assert!(challenge.min <= challenge.median && allocate.median <= allocate.max);
        }
    }
    // The added delay shows: two directions on each of the two Allocate round trips.
    let slow_report = ranking.last().unwrap().best().unwrap();
    assert!(
        slow_report.median_to_relay().unwrap() >= 4 * delay,
        "{slow_report:#?}"
    );
    // TCP works as well as UDP.
    let beijing_report = ranking.iter().find(|r| r.region == "cn-beijing").unwrap();
    assert!(beijing_report.servers[1].url.ends_with("transport=tcp"));
    assert_eq!(beijing_report.servers[1].successes, 5);
}

#[tokio::test]
async fn a_wrong_password_is_named() {
    let Some(coturn) = Coturn::start(static_auth(), "cn-shanghai.test").expect("coturn") else {
        return;
    };
    let wrong = TurnCredentials::Static {
        username: USER.into(),
        password: "nope".into(),
    };
    let points = [AccessPoint {
        region: "cn-shanghai".into(),
        urls: vec![coturn.turn_url()],
    }];
    let ranking = test_access_points(&points, &wrong, &options(2)).await;
    let server = &ranking[0].servers[0];
    assert_eq!((server.successes, server.failures), (0, 2));
    assert_eq!(
        server.error,
        Some(ProbeError::WrongCredentials {
            realm: "cn-shanghai.test".into()
        })
    );
    assert!(server.binding.is_none() && server.allocate.is_none());
    let message = server.error.as_ref().unwrap().to_string();
    assert!(
        message.contains("refused the user or password"),
        "{message}"
    );
}

#[tokio::test]
async fn time_limited_credentials_work_until_they_expire() {
    let Some(coturn) = Coturn::start(TurnAuth::Secret("shared-secret".into()), "cn-hangzhou.test")
        .expect("coturn")
    else {
        return;
    };
    let points = [AccessPoint {
        region: "cn-hangzhou".into(),
        urls: vec![coturn.turn_url()],
    }];
    let fresh = TurnCredentials::time_limited("shared-secret", "agent", Duration::from_secs(600));
    let ranking = test_access_points(&points, &fresh, &options(2)).await;
    assert_eq!(
        ranking[0].servers[0].successes,
        2,
        "{:#?}\n{}",
        ranking[0],
        coturn.log_tail()
    );

    let expired = TurnCredentials::TimeLimited {
        secret: "shared-secret".into(),
        name: "agent".into(),
        expires: SystemTime::now() - Duration::from_secs(60),
    };
    let ranking = test_access_points(&points, &expired, &options(1)).await;
    assert_eq!(
        ranking[0].servers[0].error,
        Some(ProbeError::CredentialsExpired)
    );

    let other_secret =
        TurnCredentials::time_limited("not-the-secret", "agent", Duration::from_secs(600));
    let ranking = test_access_points(&points, &other_secret, &options(1)).await;
    assert!(matches!(
        ranking[0].servers[0].error,
        Some(ProbeError::WrongCredentials { .. })
    ));
}

#[tokio::test]
async fn silent_and_unreadable_servers_fail_cleanly() {
    let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let points = [
        AccessPoint {
            region: "silent".into(),
            urls: vec![format!("turn:{}", silent.local_addr().unwrap())],
        },
        AccessPoint {
            region: "garbled".into(),
            urls: vec!["turn:/bad".into(), "http://x".into()],
        },
        AccessPoint {
            region: "empty".into(),
            urls: vec![],
        },
    ];
    let quick = ProbeOptions::new(1, Duration::from_millis(200));
    let ranking = test_access_points(&points, &credentials(), &quick).await;
    let silent_report = ranking.iter().find(|r| r.region == "silent").unwrap();
    assert!(matches!(
        silent_report.servers[0].error,
        Some(ProbeError::Timeout { .. })
    ));
    let garbled = ranking.iter().find(|r| r.region == "garbled").unwrap();
    assert!(
        garbled
            .servers
            .iter()
            .all(|s| matches!(s.error, Some(ProbeError::BadUrl(_))))
    );
    assert!(ranking.iter().all(|r| r.best().is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turns_over_tls_is_probed_and_a_certificate_from_elsewhere_refused() {
    let Some(coturn) = Coturn::start_with_tls(static_auth(), "cn-tls.test").expect("coturn") else {
        return;
    };
    let turns = coturn.turns_url().expect("a TLS port");
    let ca = coturn.ca().expect("a test CA");
    let points = [AccessPoint {
        region: "cn-tls".into(),
        urls: vec![
            turns.clone(),
            coturn.turn_url(),
            format!("turn:127.0.0.1:{}?transport=tcp", coturn.addr().port()),
        ],
    }];
    let trusting = options(3).with_roots(TlsRoots::Custom(vec![ca.ca_der.clone()]));
    let ranking = test_access_points(&points, &credentials(), &trusting).await;
    let servers = &ranking[0].servers;
    for server in servers {
        assert_eq!(
            (server.successes, server.failures),
            (3, 0),
            "{server:#?}\n{}",
            coturn.log_tail()
        );
        assert!(server.binding.is_some() && server.allocate.is_some());
    }
    // Over TLS and TCP the time to an open connection is reported; over UDP there is none.
    let tls_connect = servers[0].connect.expect("TLS connect figures");
    assert!(tls_connect.min > Duration::ZERO && tls_connect.min <= tls_connect.max);
    assert!(servers[1].connect.is_none());
    assert!(servers[2].connect.is_some());

    // The same server, trusted through another CA or the platform's: refused, named.
    let other = ccc_testpeers::TestCa::new().unwrap();
    for roots in [TlsRoots::Custom(vec![other.ca_der]), TlsRoots::Platform] {
        let points = [AccessPoint {
            region: "cn-tls".into(),
            urls: vec![turns.clone()],
        }];
        let ranking =
            test_access_points(&points, &credentials(), &options(1).with_roots(roots)).await;
        let server = &ranking[0].servers[0];
        assert_eq!((server.successes, server.failures), (0, 1));
        let Some(ProbeError::Tls(reason)) = &server.error else {
            panic!("expected a TLS error: {server:#?}");
        };
        assert!(reason.contains("certificate"), "{reason}");
    }
}

#[tokio::test]
async fn a_tls_server_that_never_answers_times_out() {
    // A listener whose connections are accepted by the kernel and then left alone: the
    // TLS handshake gets no answer.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let points = [AccessPoint {
        region: "silent-tls".into(),
        urls: vec![format!("turns:{}", listener.local_addr().unwrap())],
    }];
    let quick =
        ProbeOptions::new(1, Duration::from_millis(200)).with_roots(TlsRoots::Custom(Vec::new()));
    let ranking = test_access_points(&points, &credentials(), &quick).await;
    assert!(
        matches!(
            ranking[0].servers[0].error,
            Some(ProbeError::Timeout {
                what: "TLS handshake",
                ..
            })
        ),
        "{:#?}",
        ranking[0]
    );
}
