//! Whatever arrives from the wire, a file or a caller: the decoders and parsers of
//! ccc-core give a value or an error, never a panic.

use ccc_core::config::{Config, ConfigSource};
use ccc_core::helpers::{CallerChoice, DtmfDigits, mask_phone_number};
use ccc_core::model::{AgentSnapshot, ChannelFlags, UserContext};
use ccc_core::{Agent, ErrorCode, Input};
use proptest::prelude::*;

/// JSON values of any shape, with the wire's key names mixed in.
fn json() -> impl Strategy<Value = serde_json::Value> {
    let key = prop::sample::select(vec![
        "ContextId",
        "UserContext",
        "CallContext",
        "ChannelContexts",
        "UserState",
        "UserId",
        "ChannelState",
        "ChannelFlags",
        "CallType",
        "JobId",
        "Index",
        "WorkMode",
        "BreakCode",
        "x",
    ]);
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        ".{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(key.clone(), inner, 0..6).prop_map(|m| {
                serde_json::Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn snapshots_of_any_shape_decode_or_fail_cleanly(value in json()) {
        let text = value.to_string();
        if let Ok(snapshot) = serde_json::from_str::<AgentSnapshot>(&text) {
            // Whatever decoded, the machine takes it.
            let config = Config::builder("i", true).build().unwrap();
            let mut agent = Agent::new(&config);
            let now = std::time::Instant::now();
            agent.handle(now, Input::Snapshot(snapshot));
            while agent.poll_event().is_some() {}
        }
        let _ = serde_json::from_str::<UserContext>(&text);
        let _ = serde_json::from_str::<ConfigSource>(&text).map(Config::try_from);
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = serde_json::from_slice::<AgentSnapshot>(&bytes);
        let text = String::from_utf8_lossy(&bytes);
        let _ = ChannelFlags::parse(&text);
        let _ = ErrorCode::parse(&text);
        let _ = CallerChoice::parse(&text);
        let _ = DtmfDigits::parse(&text);
        let masked = mask_phone_number(&text);
        prop_assert_eq!(masked.chars().count(), text.chars().count());
    }
}
