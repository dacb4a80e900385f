//! The JSON shapes CCC answers arrive in, and the conversions between them.
//!
//! - **OpenAPI**: what CCC itself sends: PascalCase keys; in 2017-07-05 answers every
//!   list wrapped one level deeper (`{"SkillGroups":{"SkillGroup":[..]}}`).
//! - **Java demo**: what Alibaba's demo backend passes back to the browser SDK (and so
//!   what integrator proxies built on it send): the first letter of every key
//!   lower-cased, and every object whose only member is an array replaced by that array
//!   (`{"skillGroups":[..]}`).
//! - **Custom function** (C41 `apiAxiosFunc`): the OpenAPI answer with lower-case keys.
//!
//! The typed answers read PascalCase keys and take a list wrapped or not, so
//! [`pascal_case_keys`] is all a proxy's answer needs before decoding; [`demo_shape`] is
//! the relay's side (C3 `useOpenApiSdk: false`).

use serde_json::{Map, Value};

fn with_first(key: &str, upper: bool) -> String {
    let mut chars = key.chars();
    match chars.next() {
        Some(first) if upper => first.to_uppercase().chain(chars).collect(),
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn map_keys(value: Value, upper: bool) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (with_first(&k, upper), map_keys(v, upper)))
                .collect(),
        ),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| map_keys(v, upper)).collect())
        }
        other => other,
    }
}

/// Every key with its first letter upper-cased, at every depth (the OpenAPI's keys).
///
/// ```
/// use serde_json::json;
/// let proxy = json!({"requestId": "r1", "skillGroups": [{"skillGroupId": "s1"}]});
/// assert_eq!(
///     ccc_openapi::shape::pascal_case_keys(proxy),
///     json!({"RequestId": "r1", "SkillGroups": [{"SkillGroupId": "s1"}]})
/// );
/// ```
pub fn pascal_case_keys(value: Value) -> Value {
    map_keys(value, true)
}

/// The Java demo's shape: keys with a lower-case first letter, and one-member objects
/// holding an array replaced by the array.
///
/// ```
/// use serde_json::json;
/// let openapi = json!({"SkillGroups": {"SkillGroup": [{"SkillGroupId": "s1"}]}, "Success": true});
/// assert_eq!(
///     ccc_openapi::shape::demo_shape(openapi),
///     json!({"skillGroups": [{"skillGroupId": "s1"}], "success": true})
/// );
/// ```
pub fn demo_shape(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            if map.len() == 1 && map.values().all(Value::is_array) {
                let inner = map
                    .into_iter()
                    .next()
                    .map(|(_, v)| v)
                    .unwrap_or(Value::Null);
                return demo_shape(inner);
            }
            Value::Object(
                map.into_iter()
                    .map(|(k, v)| (with_first(&k, false), demo_shape(v)))
                    .collect::<Map<String, Value>>(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(demo_shape).collect()),
        other => other,
    }
}

/// A list parameter as 2017-07-05 sends it: `Name.1`, `Name.2`, ... (1-based).
///
/// ```
/// let flat = ccc_openapi::shape::numbered("SkillGroupId", ["a", "b"]);
/// assert_eq!(flat, [("SkillGroupId.1".to_owned(), "a".to_owned()), ("SkillGroupId.2".to_owned(), "b".to_owned())]);
/// ```
pub fn numbered<S: Into<String>>(
    name: &str,
    values: impl IntoIterator<Item = S>,
) -> Vec<(String, String)> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| (format!("{name}.{}", i + 1), v.into()))
        .collect()
}

/// A list parameter as 2020-07-01 sends it: one JSON array string.
///
/// ```
/// assert_eq!(ccc_openapi::shape::json_list(["skg-1@ccc-test"]), r#"["skg-1@ccc-test"]"#);
/// ```
pub fn json_list<S: Into<String>>(values: impl IntoIterator<Item = S>) -> String {
    let items: Vec<Value> = values
        .into_iter()
        .map(|v| Value::String(v.into()))
        .collect();
    Value::Array(items).to_string()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn edge_cases() {
        assert_eq!(
            pascal_case_keys(json!({"": 1, "ñame": 2})),
            json!({"": 1, "Ñame": 2})
        );
        // A one-member object whose member is not an array stays an object.
        assert_eq!(
            demo_shape(json!({"LoginInfo": {"UserName": "a"}})),
            json!({"loginInfo": {"userName": "a"}})
        );
        assert_eq!(
            demo_shape(json!({"PhoneNumbers": {"PhoneNumber": []}})),
            json!({"phoneNumbers": []})
        );
        assert_eq!(demo_shape(json!([{"A": {"B": [1]}}])), json!([{"a": [1]}]));
        assert_eq!(json_list(Vec::<String>::new()), "[]");
        assert_eq!(json_list(["quo\"te"]), r#"["quo\"te"]"#);
        assert!(numbered("X", Vec::<String>::new()).is_empty());
        let eleven = numbered("X", (0..11).map(|i| i.to_string()));
        assert_eq!(eleven[10].0, "X.11");
    }

    fn demo_ok(value: &Value) -> bool {
        match value {
            Value::Object(map) => {
                let wrapper = map.len() == 1 && map.values().all(Value::is_array);
                let lower = map
                    .keys()
                    .all(|k| !k.starts_with(|c: char| c.is_uppercase()));
                !wrapper && lower && map.values().all(demo_ok)
            }
            Value::Array(items) => items.iter().all(demo_ok),
            _ => true,
        }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            "[a-z]{0,4}".prop_map(Value::from)
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[A-Za-z][a-z]{0,5}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// PascalCase is idempotent; the demo shape has no key starting upper-case
        /// and no one-member object holding an array left.
        #[test]
        fn conversions_do_what_they_say(value in json_value()) {
            let pascal = pascal_case_keys(value);
            prop_assert_eq!(pascal_case_keys(pascal.clone()), pascal.clone());
            prop_assert!(demo_ok(&demo_shape(pascal)));
        }
    }
}
