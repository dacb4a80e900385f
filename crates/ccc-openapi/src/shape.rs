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
//!
//! Requests to a proxy are JSON too ([`request_json`]): with `useOpenApiSdk: true` the
//! wire names (`SkillGroupId.1`, or 2020's JSON array strings), with `false` the
//! workbench's own shape (`skillGroupId: ["a","b"]`). [`request_to_wire`] reads either
//! back into wire parameters, as the relay does before it signs.

use serde_json::{Map, Value};

use crate::action::{ActionModel, ParamKind, ParamValue, Params, Version, WireParams};

/// The shapes a proxy sends and expects, as C3 `useOpenApiSdk` decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Shape {
    /// `useOpenApiSdk: true`: the backend uses Alibaba's SDK; requests carry the wire
    /// names, answers are CCC's JSON as it is.
    OpenApi,
    /// `useOpenApiSdk: false` (the Java demo): requests carry the workbench's
    /// camel-case names and real arrays; answers have lower-case first letters and
    /// one-member wrappers replaced by their array. Custom functions' answers (C41,
    /// "keys in lower case") are read the same way.
    #[default]
    Demo,
}

impl Shape {
    /// The shape for a `useOpenApiSdk` value.
    pub const fn from_use_openapi_sdk(use_openapi_sdk: bool) -> Self {
        if use_openapi_sdk {
            Self::OpenApi
        } else {
            Self::Demo
        }
    }

    /// An answer in CCC's shape, converted to this one.
    pub fn answer(self, openapi: Value) -> Value {
        match self {
            Self::OpenApi => openapi,
            Self::Demo => demo_shape(openapi),
        }
    }
}

/// The JSON object a proxy receives as `request=`: the parameters in `shape`, numbers
/// and booleans as JSON numbers and booleans where the model says so.
///
/// ```
/// use ccc_openapi::{Action, shape::{Shape, request_json}, v2017::PickGlobalOutboundNumbers};
/// let a = PickGlobalOutboundNumbers::new("ccc-test", "13800000000", ["skg-1", "skg-2"]).count(2);
/// let demo = request_json(&a.params(), Some(PickGlobalOutboundNumbers::MODEL), Shape::Demo);
/// assert_eq!(demo, serde_json::json!({
///     "instanceId": "ccc-test", "calleeNumber": "13800000000", "count": 2,
///     "skillGroupId": ["skg-1", "skg-2"]}));
/// let sdk = request_json(&a.params(), Some(PickGlobalOutboundNumbers::MODEL), Shape::OpenApi);
/// assert_eq!(sdk["SkillGroupId.2"], "skg-2");
/// ```
pub fn request_json(params: &Params, model: Option<&ActionModel>, shape: Shape) -> Value {
    let kind_of = |name: &str| {
        model
            .and_then(|m| m.param(name))
            .map_or(ParamKind::Text, |p| p.kind)
    };
    let mut out = Map::new();
    match shape {
        Shape::OpenApi => {
            for (name, text, _) in params.to_wire() {
                let kind = kind_of(&name);
                let kind = if kind == ParamKind::List {
                    ParamKind::Text
                } else {
                    kind
                };
                out.insert(name, typed(kind, text));
            }
        }
        Shape::Demo => {
            for param in params.iter() {
                let kind = kind_of(&param.name);
                let value = match &param.value {
                    ParamValue::Text(text) => typed(kind, text.clone()),
                    ParamValue::List(items) => {
                        Value::Array(items.iter().cloned().map(Value::String).collect())
                    }
                };
                out.insert(with_first(&param.name, false), value);
            }
        }
    }
    Value::Object(out)
}

fn typed(kind: ParamKind, text: String) -> Value {
    match kind {
        ParamKind::Integer => text.parse::<i64>().map_or(Value::String(text), Value::from),
        ParamKind::Boolean => match text.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(text),
        },
        ParamKind::Text | ParamKind::List => Value::String(text),
    }
}

/// The wire parameters of a proxy's `request` JSON, in either shape: first letters
/// upper-cased, arrays flattened as `model`'s version wants (`Name.N` or one JSON array
/// string), numbers and booleans as their text, objects as their JSON text, `null`
/// left out. Without a model (an action the relay does not know) arrays follow
/// `version`.
///
/// ```
/// use ccc_openapi::{shape::request_to_wire, Version};
/// let json = serde_json::json!({"instanceId": "i", "skillGroupId": ["a", "b"], "count": 2});
/// let wire = request_to_wire(&json, Version::V20170705);
/// assert_eq!(wire.get("SkillGroupId.2"), Some("b"));
/// assert_eq!(wire.get("Count"), Some("2"));
/// ```
pub fn request_to_wire(request: &Value, version: Version) -> WireParams {
    let Value::Object(map) = request else {
        return WireParams::default();
    };
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(map.len());
    for (key, value) in map {
        let name = with_first(key, true);
        match value {
            Value::Null => {}
            Value::String(s) => pairs.push((name, s.clone())),
            Value::Array(items) => match version {
                Version::V20170705 => {
                    for (i, item) in items.iter().enumerate() {
                        pairs.push((format!("{name}.{}", i + 1), scalar_text(item)));
                    }
                }
                Version::V20200701 => pairs.push((name, value.to_string())),
            },
            Value::Object(_) => pairs.push((name, value.to_string())),
            Value::Bool(_) | Value::Number(_) => pairs.push((name, scalar_text(value))),
        }
    }
    pairs.into_iter().collect()
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

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
            // Children first, so that an object left with one array member by its
            // children's conversion is replaced too: the result is a fixed point.
            let map: Map<String, Value> = map
                .into_iter()
                .map(|(k, v)| (with_first(&k, false), demo_shape(v)))
                .collect();
            if map.len() == 1 && map.values().all(Value::is_array) {
                if let Some((_, inner)) = map.into_iter().next() {
                    return inner;
                }
                return Value::Null;
            }
            Value::Object(map)
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

    use crate::Action;
    use crate::v2020::SignInGroup;
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
            demo_shape(json!({"PhoneNumbers": {"PhoneNumber": []}, "Success": true})),
            json!({"phoneNumbers": [], "success": true})
        );
        assert_eq!(demo_shape(json!([{"A": {"B": [1]}}])), json!([[1]]));
        // The fuzzer's case: an object left with one array member by its child.
        assert_eq!(
            demo_shape(json!({"RherContents": {"CypherContent": [{"X": 1}]}})),
            json!([{"x": 1}])
        );
        assert_eq!(json_list(Vec::<String>::new()), "[]");
        assert_eq!(json_list(["quo\"te"]), r#"["quo\"te"]"#);
        assert!(numbered("X", Vec::<String>::new()).is_empty());
        let eleven = numbered("X", (0..11).map(|i| i.to_string()));
        assert_eq!(eleven[10].0, "X.11");
    }

    #[test]
    fn requests_both_ways() {
        let a = SignInGroup::new("ccc-test", "dev-1", ["skg-1@ccc-test", "skg-2@ccc-test"])
            .additivity(true);
        let demo = request_json(&a.params(), Some(SignInGroup::MODEL), Shape::Demo);
        assert_eq!(
            demo,
            json!({"instanceId": "ccc-test", "deviceId": "dev-1", "additivity": true,
                   "signedSkillGroupIdList": ["skg-1@ccc-test", "skg-2@ccc-test"]})
        );
        let sdk = request_json(&a.params(), Some(SignInGroup::MODEL), Shape::OpenApi);
        assert_eq!(
            sdk["SignedSkillGroupIdList"],
            r#"["skg-1@ccc-test","skg-2@ccc-test"]"#
        );
        for json in [demo, sdk] {
            let wire = request_to_wire(&json, Version::V20200701);
            assert_eq!(SignInGroup::from_params(&wire).unwrap(), a);
        }
        let odd = json!({"a": null, "b": {"k": 1}, "c": [1, "x"], "d": 1.5});
        let wire = request_to_wire(&odd, Version::V20170705);
        assert_eq!(wire.get("A"), None);
        assert_eq!(wire.get("B"), Some(r#"{"k":1}"#));
        assert_eq!(wire.get("C.1"), Some("1"));
        assert_eq!(wire.get("D"), Some("1.5"));
        assert!(
            request_to_wire(&json!([1]), Version::V20170705)
                .pairs()
                .is_empty()
        );
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
        /// and no one-member object holding an array left, and is idempotent too.
        #[test]
        fn conversions_do_what_they_say(value in json_value()) {
            let pascal = pascal_case_keys(value);
            prop_assert_eq!(pascal_case_keys(pascal.clone()), pascal.clone());
            let demo = demo_shape(pascal);
            prop_assert!(demo_ok(&demo));
            prop_assert_eq!(demo_shape(demo.clone()), demo);
        }
    }
}
