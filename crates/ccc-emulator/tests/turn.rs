//! TURN access points from the scenario (an external coturn here), as GetTURNServerList
//! and GetTURNCredentials give them: the credentials open a real allocation.

mod support;

use ccc_media::access_point::{AccessPoint, ProbeOptions, TurnCredentials, test_access_points};
use ccc_testpeers::{Coturn, TurnAuth};
use support::*;

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
    let list = api.ok("2017-07-05", "GetTURNServerList", &[]).await;
    let regions: serde_json::Value =
        serde_json::from_str(list["TurnServerListConfig"].as_str().unwrap()).unwrap();
    assert_eq!(regions[0]["region"], "cn-shanghai");
    let urls: Vec<String> = regions[0]["urls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(urls, [coturn.turn_url()]);
    let credentials = api
        .ok(
            "2017-07-05",
            "GetTURNCredentials",
            &[("UserName", "bob@ccc-emulator")],
        )
        .await;
    let username = credentials["Username"].as_str().unwrap().to_owned();
    assert!(
        username.ends_with(":bob@ccc-emulator"),
        "the time-limited scheme: {username}"
    );
    let credentials = TurnCredentials::Static {
        username,
        password: credentials["Password"].as_str().unwrap().to_owned(),
    };
    let points = [AccessPoint {
        region: "cn-shanghai".into(),
        urls,
    }];
    let reports = test_access_points(&points, &credentials, &ProbeOptions::default()).await;
    let best = reports[0]
        .best()
        .unwrap_or_else(|| panic!("no working server: {reports:?}"));
    assert_eq!(best.failures, 0, "{best:?}");
    assert!(
        best.allocate.is_some(),
        "an authenticated allocation: {best:?}"
    );
    // The 2020 action gives the same.
    let data = api
        .v2020("GetTurnCredentials", &[("UserId", "bob@ccc-emulator")])
        .await;
    assert!(
        data["UserName"]
            .as_str()
            .unwrap()
            .ends_with(":bob@ccc-emulator")
    );
    emu.shutdown().await;
}
