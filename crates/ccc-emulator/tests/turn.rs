//! TURN: the embedded servers of the default scenario's regions (UDP and TCP on
//! 127.0.0.1) and external ones from the scenario (a coturn here), as GetTURNServerList
//! and GetTURNCredentials give them. ccc-media's access-point probe ranks the embedded
//! regions; a raw TURN exchange gets the same answers from coturn and from an embedded
//! server; a relay-only agent phone talks to a customer through an embedded region.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use ccc_media::access_point::{
    AccessPoint, ProbeError, ProbeOptions, TurnCredentials, test_access_points,
};
use ccc_media::call::{CallConfig, IcePolicy, IceServer};
use ccc_testpeers::{Coturn, TurnAuth};
use serde_json::json;
use support::phone::{Phone, tone_in_wav};
use support::*;
use turn_server_proto::stun::types::attribute::{ErrorCode, Nonce, Realm, Username};
use turn_server_proto::stun::types::message::{
    IntegrityAlgorithm, LongTermKeyCredentials, Message, MessageClass, MessageIntegrityCredentials,
    MessageWrite, MessageWriteExt, MessageWriteVec,
};
use turn_server_proto::types::attribute::{Lifetime, RequestedTransport, XorRelayedAddress};
use turn_server_proto::types::message::{ALLOCATE, REFRESH};

const BOB: &str = "bob@ccc-emulator";

/// The regions of `GetTURNServerList` (2017), as access points.
async fn regions(api: &mut Api) -> Vec<AccessPoint> {
    let list = api.ok("2017-07-05", "GetTURNServerList", &[]).await;
    let regions: serde_json::Value =
        serde_json::from_str(list["TurnServerListConfig"].as_str().unwrap()).unwrap();
    regions
        .as_array()
        .unwrap()
        .iter()
        .map(|r| AccessPoint {
            region: r["region"].as_str().unwrap().to_owned(),
            urls: r["urls"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u.as_str().unwrap().to_owned())
                .collect(),
        })
        .collect()
}

/// `GetTURNCredentials` (2017) for `name`.
async fn credentials(api: &mut Api, name: &str) -> (String, String) {
    let c = api
        .ok("2017-07-05", "GetTURNCredentials", &[("UserName", name)])
        .await;
    (
        c["Username"].as_str().unwrap().to_owned(),
        c["Password"].as_str().unwrap().to_owned(),
    )
}

fn host_port(url: &str) -> SocketAddr {
    let rest = url.strip_prefix("turn:").unwrap();
    rest.split('?').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn the_embedded_regions_are_probed_ranked_and_check_the_credentials() {
    let emu = start().await;
    let mut api = Api::new(emu.info());
    let points = regions(&mut api).await;
    let names: Vec<&str> = points.iter().map(|p| p.region.as_str()).collect();
    assert_eq!(names, ["cn-shanghai", "cn-beijing"]);
    for point in &points {
        let addr = host_port(&point.urls[0]);
        assert!(addr.ip().is_loopback(), "{point:?}");
        assert_eq!(
            point.urls,
            [
                format!("turn:{addr}?transport=udp"),
                format!("turn:{addr}?transport=tcp")
            ]
        );
    }
    assert_eq!(
        emu.info()
            .turn_servers
            .iter()
            .map(|t| t.urls.clone())
            .collect::<Vec<_>>(),
        points.iter().map(|p| p.urls.clone()).collect::<Vec<_>>(),
        "the info lists what the API lists"
    );
    let (username, password) = credentials(&mut api, BOB).await;
    assert!(username.ends_with(":bob@ccc-emulator"), "{username}");
    let good = TurnCredentials::Static {
        username: username.clone(),
        password: password.clone(),
    };
    let options = ProbeOptions::new(3, Duration::from_secs(2));
    let reports = test_access_points(&points, &good, &options).await;
    assert_eq!(reports.len(), 2);
    for report in &reports {
        for server in &report.servers {
            assert_eq!((server.successes, server.failures), (3, 0), "{server:?}");
            assert!(server.challenge.is_some() && server.allocate.is_some());
        }
    }
    let medians: Vec<Duration> = reports
        .iter()
        .map(|r| r.best().unwrap().median_to_relay().unwrap())
        .collect();
    assert!(
        medians[0] <= medians[1],
        "ranked fastest first: {medians:?}"
    );

    // A wrong password, and an expired time-limited user, are refused (401).
    let wrong = TurnCredentials::Static {
        username: username.clone(),
        password: "wrong".into(),
    };
    let expired = TurnCredentials::Static {
        username: format!("1:{BOB}"),
        password: password.clone(),
    };
    for bad in [wrong, expired] {
        let reports = test_access_points(&points[..1], &bad, &ProbeOptions::default()).await;
        let server = &reports[0].servers[0];
        assert!(
            matches!(server.error, Some(ProbeError::WrongCredentials { ref realm }) if realm == "ccc-emulator"),
            "{server:?}"
        );
    }
    emu.shutdown().await;
}

/// One TURN request and its answer's class, error code and relayed address.
struct Answer {
    class: MessageClass,
    code: Option<u16>,
    realm: Option<String>,
    nonce: Option<String>,
    relayed: Option<SocketAddr>,
}

async fn request(
    socket: &tokio::net::UdpSocket,
    server: SocketAddr,
    method: turn_server_proto::stun::types::message::Method,
    auth: Option<(&str, &str, &str, &str)>,
    lifetime: Option<u32>,
) -> Answer {
    try_request(socket, server, method, auth, lifetime, WAIT)
        .await
        .expect("an answer in time")
}

/// A request, and its answer if one comes within `wait`.
async fn try_request(
    socket: &tokio::net::UdpSocket,
    server: SocketAddr,
    method: turn_server_proto::stun::types::message::Method,
    auth: Option<(&str, &str, &str, &str)>,
    lifetime: Option<u32>,
    wait: Duration,
) -> Option<Answer> {
    let mut msg = Message::builder_request(method, MessageWriteVec::new());
    if method == ALLOCATE {
        msg.add_attribute(&RequestedTransport::new(RequestedTransport::UDP))
            .unwrap();
    }
    if let Some(seconds) = lifetime {
        msg.add_attribute(&Lifetime::new(seconds)).unwrap();
    }
    if let Some((user, password, realm, nonce)) = auth {
        msg.add_attribute(&Username::new(user).unwrap()).unwrap();
        msg.add_attribute(&Realm::new(realm).unwrap()).unwrap();
        msg.add_attribute(&Nonce::new(nonce).unwrap()).unwrap();
        let credentials = MessageIntegrityCredentials::LongTerm(LongTermKeyCredentials::new(
            user.to_owned(),
            password.to_owned(),
            realm.to_owned(),
        ));
        msg.add_message_integrity(&credentials, IntegrityAlgorithm::Sha1)
            .unwrap();
    }
    msg.add_fingerprint().unwrap();
    socket.send_to(&msg.finish(), server).await.unwrap();
    let mut buf = vec![0u8; 2_048];
    let (n, _) = tokio::time::timeout(wait, socket.recv_from(&mut buf))
        .await
        .ok()?
        .unwrap();
    let answer = Message::from_bytes(&buf[..n]).expect("a STUN message");
    Some(Answer {
        class: answer.class(),
        code: answer.attribute::<ErrorCode>().ok().map(|e| e.code()),
        realm: answer
            .attribute::<Realm>()
            .ok()
            .map(|r| r.realm().to_owned()),
        nonce: answer
            .attribute::<Nonce>()
            .ok()
            .map(|n| n.nonce().to_owned()),
        relayed: answer
            .attribute::<XorRelayedAddress>()
            .ok()
            .map(|a| a.addr(answer.transaction_id())),
    })
}

/// The RFC 5766 life of one allocation, as (class, code) per step: the 401 round, the
/// authenticated Allocate, a second Allocate on the same 5-tuple (437 Allocation
/// Mismatch), a Refresh, the release (Refresh with lifetime 0), and a Refresh after it
/// (437: the allocation is gone).
async fn allocation_life(server: SocketAddr, user: &str, password: &str) -> Vec<(bool, u16)> {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut steps = Vec::new();
    let mut record = |a: &Answer| {
        steps.push((a.class == MessageClass::Success, a.code.unwrap_or(200)));
    };
    let first = request(&socket, server, ALLOCATE, None, None).await;
    record(&first);
    let realm = first.realm.clone().expect("the 401 names the realm");
    let nonce = first.nonce.clone().expect("and a nonce");
    let auth = Some((user, password, realm.as_str(), nonce.as_str()));
    let allocated = request(&socket, server, ALLOCATE, auth, None).await;
    record(&allocated);
    let relayed = allocated.relayed.expect("a relayed address");
    assert!(relayed.ip().is_loopback(), "relays on loopback: {relayed}");
    record(&request(&socket, server, ALLOCATE, auth, None).await);
    record(&request(&socket, server, REFRESH, auth, Some(600)).await);
    record(&request(&socket, server, REFRESH, auth, Some(0)).await);
    record(&request(&socket, server, REFRESH, auth, Some(600)).await);
    steps
}

#[tokio::test]
async fn an_embedded_server_answers_a_turn_exchange_as_coturn_does() {
    let Some(coturn) =
        Coturn::start(TurnAuth::Secret("turn-secret".into()), "ccc-emulator").expect("coturn")
    else {
        return;
    };
    let (user, password) =
        TurnCredentials::time_limited("turn-secret", BOB, Duration::from_secs(600))
            .user_and_password()
            .unwrap();
    let theirs = allocation_life(coturn.addr(), &user, &password).await;
    let emu = start().await;
    let mut api = Api::new(emu.info());
    let server = host_port(&regions(&mut api).await[0].urls[0]);
    let (user, password) = credentials(&mut api, BOB).await;
    let ours = allocation_life(server, &user, &password).await;
    let expected = [
        (false, 401),
        (true, 200),
        (false, 437),
        (true, 200),
        (true, 200),
    ];
    assert_eq!(theirs[..5], expected, "coturn: {}", coturn.log_tail());
    assert_eq!(ours[..5], expected, "the embedded server");
    // After the release RFC 5766 wants 437 for the allocation is gone; coturn 4.6 still
    // refreshes it (it frees a released allocation a little later), the embedded server
    // says 437 at once.
    assert_eq!(ours[5], (false, 437), "{ours:?}");
    eprintln!(
        "after the release: coturn {:?}, embedded {:?}",
        theirs[5], ours[5]
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn the_scenarios_coturn_allocates_with_the_credentials_the_api_gives() {
    let Some(coturn) =
        Coturn::start(TurnAuth::Secret("turn-secret".into()), "ccc-emulator").expect("coturn")
    else {
        return;
    };
    let mut scenario = ccc_emulator::Scenario::default();
    scenario.turn_regions[0].urls = vec![coturn.turn_url()];
    scenario.turn_regions[0].secret = Some("turn-secret".into());
    let emu = ccc_emulator::Emulator::start(ccc_emulator::EmulatorConfig::new(scenario))
        .await
        .unwrap();
    let mut api = Api::new(emu.info());
    let points = regions(&mut api).await;
    assert_eq!(points[0].region, "cn-shanghai");
    assert_eq!(points[0].urls, [coturn.turn_url()]);
    let (username, password) = credentials(&mut api, BOB).await;
    assert!(
        username.ends_with(":bob@ccc-emulator"),
        "the time-limited scheme: {username}"
    );
    let credentials = TurnCredentials::Static { username, password };
    // coturn, and the other region's embedded server, which takes the same secret.
    let reports = test_access_points(&points, &credentials, &ProbeOptions::default()).await;
    assert_eq!(reports.len(), 2);
    for report in &reports {
        let best = report
            .best()
            .unwrap_or_else(|| panic!("no working server: {reports:?}"));
        assert_eq!(best.failures, 0, "{best:?}");
        assert!(
            best.allocate.is_some(),
            "an authenticated allocation: {best:?}"
        );
    }
    // The 2020 action gives the same.
    let data = api.v2020("GetTurnCredentials", &[("UserId", BOB)]).await;
    assert!(
        data["UserName"]
            .as_str()
            .unwrap()
            .ends_with(":bob@ccc-emulator")
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_only_phone_talks_to_the_customer_through_an_embedded_region() {
    let emu = start().await;
    let info = emu.info().clone();
    let mut api = Api::new(&info);
    let points = regions(&mut api).await;
    let (username, password) = credentials(&mut api, "8002").await;
    let mut phone = Phone::register(&info, "8002", "pass-8002").await;
    api.v2020(
        "SignInGroup",
        &[
            ("UserId", BOB),
            ("DeviceId", &phone.device),
            ("SignedSkillGroupIdList", r#"["sales@ccc-emulator"]"#),
        ],
    )
    .await;
    api.v2020("ReadyForService", &[("UserId", BOB)]).await;
    let (status, placed) = admin(
        &info,
        "POST",
        "/calls",
        json!({"caller": "13800000009", "callee": "02150000001"}),
    )
    .await;
    assert_eq!(status, 201, "{placed}");
    // The phone's media may use only a relay of the second region.
    let config = CallConfig {
        ice_servers: vec![IceServer::turn(
            points[1].urls[0].clone(),
            username,
            password,
        )],
        ice_policy: IcePolicy::RelayOnly,
        ..CallConfig::loopback()
    };
    let mut call = phone.answer_with(config, 1_000.0).await;
    assert_eq!(
        call.hears(&[440.0, 1_000.0]).await,
        Some(440.0),
        "the agent hears the customer through the relay"
    );
    let (_, calls) = admin(&info, "GET", "/calls", serde_json::Value::Null).await;
    let heard = calls[0]["legs"][0]["heard_file"]
        .as_str()
        .expect("the customer records")
        .to_owned();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let job = placed["job_id"].as_str().unwrap();
    api.v2020("ReleaseCall", &[("UserId", BOB), ("JobId", job)])
        .await;
    phone.ended(call.call).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        tone_in_wav(&heard, 0.5, &[440.0, 1_000.0]),
        Some(1_000.0),
        "the customer hears the agent through the relay"
    );
    let _ = call.session.close().await;
    phone.client.shutdown().await;
    emu.shutdown().await;
}

/// One TURN client of the tests below: its socket and its authentication.
struct Client {
    socket: tokio::net::UdpSocket,
    realm: String,
    nonce: String,
}

impl Client {
    /// A client that has been through the 401 round.
    async fn new(server: SocketAddr) -> Self {
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let first = request(&socket, server, ALLOCATE, None, None).await;
        Self {
            socket,
            realm: first.realm.expect("the 401 names the realm"),
            nonce: first.nonce.expect("and a nonce"),
        }
    }

    /// Whether `method` is answered with success within 300 ms (`None`: no answer).
    async fn succeeds(
        &self,
        server: SocketAddr,
        method: turn_server_proto::stun::types::message::Method,
        user: &(String, String),
    ) -> Option<bool> {
        let auth = Some((
            user.0.as_str(),
            user.1.as_str(),
            self.realm.as_str(),
            self.nonce.as_str(),
        ));
        let lifetime = (method == REFRESH).then_some(600);
        try_request(
            &self.socket,
            server,
            method,
            auth,
            lifetime,
            Duration::from_millis(300),
        )
        .await
        .map(|a| a.class == MessageClass::Success)
    }
}

#[tokio::test]
async fn the_media_fault_silences_the_agents_allocations_now_or_for_good() {
    let emu = start().await;
    let info = emu.info().clone();
    let mut api = Api::new(&info);
    let server = host_port(&regions(&mut api).await[0].urls[0]);
    let bob = credentials(&mut api, BOB).await;
    let media = format!("/agents/{BOB}/media");
    let old = Client::new(server).await;
    assert_eq!(old.succeeds(server, ALLOCATE, &bob).await, Some(true));

    // break: the allocation held now goes silent; a new one works.
    let (status, answer) = admin(&info, "POST", &media, json!({"action": "break"})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(old.succeeds(server, REFRESH, &bob).await, None, "silenced");
    let new = Client::new(server).await;
    assert_eq!(new.succeeds(server, ALLOCATE, &bob).await, Some(true));
    assert_eq!(new.succeeds(server, REFRESH, &bob).await, Some(true));
    let (_, faults) = admin(&info, "GET", "/faults", serde_json::Value::Null).await;
    assert_eq!(
        faults["media"][BOB],
        json!({"action": "break", "dropped_packets": 1})
    );

    // black-hole: every allocation, the new one too, and any made later.
    admin(&info, "POST", &media, json!({"action": "black-hole"})).await;
    assert_eq!(new.succeeds(server, REFRESH, &bob).await, None);
    let later = Client::new(server).await;
    assert_eq!(later.succeeds(server, ALLOCATE, &bob).await, None);
    let (_, faults) = admin(&info, "GET", "/faults", serde_json::Value::Null).await;
    assert_eq!(
        faults["media"][BOB],
        json!({"action": "black-hole", "dropped_packets": 2})
    );

    // restore: the allocations answer again.
    admin(&info, "POST", &media, json!({"action": "restore"})).await;
    assert_eq!(old.succeeds(server, REFRESH, &bob).await, Some(true));
    assert_eq!(new.succeeds(server, REFRESH, &bob).await, Some(true));
    let (_, faults) = admin(&info, "GET", "/faults", serde_json::Value::Null).await;
    assert_eq!(faults["media"], json!({}));

    // Another agent's allocations never took the fault.
    admin(&info, "POST", &media, json!({"action": "black-hole"})).await;
    let alice = credentials(&mut api, "alice@ccc-emulator").await;
    let other = Client::new(server).await;
    assert_eq!(other.succeeds(server, ALLOCATE, &alice).await, Some(true));

    // Bad requests are refused clearly.
    let (status, answer) = admin(&info, "POST", &media, json!({"action": "delay", "ms": 5})).await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("break, black-hole or restore")
    );
    let (status, _) = admin(
        &info,
        "POST",
        "/agents/nobody@ccc-emulator/media",
        json!({"action": "break"}),
    )
    .await;
    assert_eq!(status, 404);
    emu.shutdown().await;
}
