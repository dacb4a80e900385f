//! The [`Action`] trait: one CCC OpenAPI action, its parameters and its answer.
//!
//! An action is a plain value (`v2017::ListSkillGroupsOfUser::new(instance, user)`);
//! [`Action::params`] turns it into [`Params`], which the transports put on the wire as
//! their version wants (`Key.N` for 2017-07-05, JSON array strings for 2020-07-01), and
//! [`Action::from_params`] reads it back from flat wire parameters ([`WireParams`]), so
//! a server (the emulator, a relay) checks an incoming request with the same model.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::status::AnswerStatus;

/// An API version of CCC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// `2017-07-05`: the workbench SDK 1.x data actions (the guide's section 6 table).
    V20170705,
    /// `2020-07-01`: agent control (sign-in, state, calls) and the newer data actions.
    V20200701,
}

impl Version {
    /// Both versions.
    pub const ALL: [Self; 2] = [Self::V20170705, Self::V20200701];

    /// As the `Version` parameter spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::V20170705 => "2017-07-05",
            Self::V20200701 => "2020-07-01",
        }
    }

    /// The version spelled `wire`.
    pub fn parse(wire: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == wire)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a parameter goes in a POST: the URL query or the form body (GET puts all in
/// the query). The model's placement; the tea style of 2017 sends every API parameter
/// in the body whatever the model says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Placement {
    /// The URL query.
    Query,
    /// The `application/x-www-form-urlencoded` body.
    Body,
}

/// The kind of value a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamKind {
    /// A string.
    Text,
    /// A decimal integer (`Integer` and `Long` of the models).
    Integer,
    /// `true` or `false`.
    Boolean,
    /// A list: `Name.1`, `Name.2`, ... in 2017-07-05, one JSON array string in 2020-07-01.
    List,
}

/// One parameter of an action's model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamModel {
    /// The wire name (`InstanceId`; a 2017 list's prefix, `SkillGroupId`).
    pub name: &'static str,
    /// The kind of value.
    pub kind: ParamKind,
    /// Whether CCC requires it.
    pub required: bool,
    /// Where the model puts it.
    pub placement: Placement,
}

/// The model of an action: what the official SDKs know about its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionModel {
    /// The action name (`ListSkillGroupsOfUser`).
    pub name: &'static str,
    /// The version.
    pub version: Version,
    /// The parameters, sorted by name.
    pub params: &'static [ParamModel],
}

impl ActionModel {
    /// The parameter with the wire name `name`; a 2017 list item (`SkillGroupId.3`)
    /// finds its list.
    pub fn param(&self, name: &str) -> Option<&'static ParamModel> {
        let base = match self.version {
            Version::V20170705 => list_base(name).unwrap_or(name),
            Version::V20200701 => name,
        };
        self.params.iter().find(|p| {
            p.name == name || (p.name == base && p.kind == ParamKind::List && base != name)
        })
    }
}

/// `SkillGroupId` of `SkillGroupId.12`.
fn list_base(name: &str) -> Option<&str> {
    let (base, index) = name.rsplit_once('.')?;
    (!index.is_empty() && index.bytes().all(|b| b.is_ascii_digit())).then_some(base)
}

/// An action of the CCC OpenAPI.
pub trait Action: Send + Sync + 'static {
    /// The action name, as the `Action` parameter spells it.
    const NAME: &'static str;
    /// The API version.
    const VERSION: Version;
    /// The official model of the request.
    const MODEL: &'static ActionModel;
    /// The answer, in CCC's own JSON shape both ways.
    type Response: Serialize + DeserializeOwned + AnswerStatus + Send + 'static;

    /// The parameters of this request.
    fn params(&self) -> Params;

    /// The request these wire parameters make; parameters the model does not know
    /// (the common ones such as `Action` or `Signature`) are ignored.
    fn from_params(wire: &WireParams) -> Result<Self, ParamError>
    where
        Self: Sized;
}

/// A value of [`Params`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    /// One value.
    Text(String),
    /// A list, flattened on the wire as the version wants.
    List(Vec<String>),
}

/// One parameter of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// The wire name.
    pub name: Cow<'static, str>,
    /// The value.
    pub value: ParamValue,
    /// Where the model puts it.
    pub placement: Placement,
}

/// The parameters of a request, before they are flattened for a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    version: Version,
    items: Vec<Param>,
}

/// A value that can be a request parameter.
pub trait ParamText {
    /// The wire text, `None` to leave the parameter out.
    fn param_text(&self) -> Option<String>;
}

impl ParamText for String {
    fn param_text(&self) -> Option<String> {
        Some(self.clone())
    }
}

impl ParamText for i64 {
    fn param_text(&self) -> Option<String> {
        Some(self.to_string())
    }
}

impl ParamText for bool {
    fn param_text(&self) -> Option<String> {
        Some(self.to_string())
    }
}

impl ParamText for ccc_core::model::WorkMode {
    fn param_text(&self) -> Option<String> {
        Some(self.as_str().to_owned())
    }
}

impl<T: ParamText> ParamText for Option<T> {
    fn param_text(&self) -> Option<String> {
        self.as_ref().and_then(ParamText::param_text)
    }
}

impl Params {
    /// No parameters yet, for `version`.
    pub fn new(version: Version) -> Self {
        Self {
            version,
            items: Vec::with_capacity(8),
        }
    }

    /// Adds `name` unless `value` is `None`.
    pub fn put(&mut self, name: &'static str, placement: Placement, value: &impl ParamText) {
        if let Some(text) = value.param_text() {
            self.items.push(Param {
                name: Cow::Borrowed(name),
                value: ParamValue::Text(text),
                placement,
            });
        }
    }

    /// Adds a parameter by its wire name as given (`SkillGroupId.1`), for tools that
    /// take wire names (`ccc api`).
    pub fn put_raw(
        &mut self,
        name: impl Into<String>,
        placement: Placement,
        value: impl Into<String>,
    ) {
        self.items.push(Param {
            name: Cow::Owned(name.into()),
            value: ParamValue::Text(value.into()),
            placement,
        });
    }

    /// Adds the list `name`; an empty list is left out.
    pub fn put_list<T: ParamText>(&mut self, name: &'static str, placement: Placement, list: &[T]) {
        if !list.is_empty() {
            self.items.push(Param {
                name: Cow::Borrowed(name),
                value: ParamValue::List(list.iter().filter_map(ParamText::param_text).collect()),
                placement,
            });
        }
    }

    /// The version they are for.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The parameters, in the order the action put them.
    pub fn iter(&self) -> impl Iterator<Item = &Param> {
        self.items.iter()
    }

    /// The text of the parameter `name` (not of a list).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| match &p.value {
                ParamValue::Text(text) => Some(text.as_str()),
                ParamValue::List(_) => None,
            })
    }

    /// The flat wire parameters with their placement: lists as `Name.1`, `Name.2`, ...
    /// (2017-07-05) or as one JSON array string (2020-07-01).
    pub fn to_wire(&self) -> Vec<(String, String, Placement)> {
        let mut out = Vec::with_capacity(self.items.len() + 4);
        for param in &self.items {
            match &param.value {
                ParamValue::Text(text) => {
                    out.push((param.name.to_string(), text.clone(), param.placement));
                }
                ParamValue::List(items) => match self.version {
                    Version::V20170705 => {
                        for (i, item) in items.iter().enumerate() {
                            out.push((
                                format!("{}.{}", param.name, i + 1),
                                item.clone(),
                                param.placement,
                            ));
                        }
                    }
                    Version::V20200701 => out.push((
                        param.name.to_string(),
                        crate::shape::json_list(items.iter().map(String::as_str)),
                        param.placement,
                    )),
                },
            }
        }
        out
    }
}

/// A parameter the request lacks or cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamError {
    /// A required parameter is missing (CCC answers `MissingParameter`).
    #[error("missing parameter {name}")]
    Missing {
        /// The wire name.
        name: &'static str,
    },
    /// A parameter's value is not of the model's kind.
    #[error("parameter {name}: {value:?} is not {expected}")]
    Invalid {
        /// The wire name.
        name: String,
        /// What came.
        value: String,
        /// What the model wants.
        expected: &'static str,
    },
}

/// A parameter value read back from the wire.
pub trait FromParam: Sized {
    /// What the value must look like, for errors.
    const EXPECTED: &'static str;
    /// The value of `text`, if it is one.
    fn from_param(text: &str) -> Option<Self>;
}

impl FromParam for String {
    const EXPECTED: &'static str = "a string";
    fn from_param(text: &str) -> Option<Self> {
        Some(text.to_owned())
    }
}

impl FromParam for i64 {
    const EXPECTED: &'static str = "a decimal integer";
    fn from_param(text: &str) -> Option<Self> {
        text.trim().parse().ok()
    }
}

impl FromParam for bool {
    const EXPECTED: &'static str = "true or false";
    fn from_param(text: &str) -> Option<Self> {
        // The Python SDKs send `str(True)`.
        match text.trim() {
            "true" | "True" | "TRUE" => Some(true),
            "false" | "False" | "FALSE" => Some(false),
            _ => None,
        }
    }
}

impl FromParam for ccc_core::model::WorkMode {
    const EXPECTED: &'static str = "ON_SITE, OFF_SITE or OFFICE_PHONE";
    fn from_param(text: &str) -> Option<Self> {
        Some(Self::from(text))
    }
}

/// Flat wire parameters, as a server receives them (query and form body together).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WireParams {
    pairs: Vec<(String, String)>,
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for WireParams {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self {
            pairs: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

impl WireParams {
    /// The pairs, in the order they came.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The value of `name` (the last one if it came twice).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `name`, which the model requires.
    pub fn required<T: FromParam>(&self, name: &'static str) -> Result<T, ParamError> {
        self.optional(name)?.ok_or(ParamError::Missing { name })
    }

    /// `name`, if present.
    pub fn optional<T: FromParam>(&self, name: &'static str) -> Result<Option<T>, ParamError> {
        self.get(name).map(|text| parse(name, text)).transpose()
    }

    /// The 2017 list `name` (`Name.1`, `Name.2`, ... in index order); a gap or a
    /// repeated index is an error.
    pub fn numbered<T: FromParam>(&self, name: &'static str) -> Result<Vec<T>, ParamError> {
        let mut items: Vec<(usize, &str, &str)> = Vec::new();
        for (key, value) in &self.pairs {
            let Some(index) = key
                .strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('.'))
            else {
                continue;
            };
            let n = index
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1 && index.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| invalid(key, value, "a list item Name.N with N from 1"))?;
            items.push((n, key, value));
        }
        items.sort_by_key(|(n, _, _)| *n);
        items
            .iter()
            .enumerate()
            .map(|(i, (n, key, value))| {
                if *n != i + 1 {
                    return Err(invalid(key, value, "numbered without gaps or repeats"));
                }
                T::from_param(value).ok_or_else(|| invalid(key, value, T::EXPECTED))
            })
            .collect()
    }

    /// The 2017 list `name`, which the model requires (at least one item).
    pub fn numbered_required<T: FromParam>(
        &self,
        name: &'static str,
    ) -> Result<Vec<T>, ParamError> {
        let items = self.numbered(name)?;
        if items.is_empty() {
            return Err(ParamError::Missing { name });
        }
        Ok(items)
    }

    /// The 2020 list `name`: one JSON array of strings (numbers are taken as their text).
    pub fn json_list(&self, name: &'static str) -> Result<Vec<String>, ParamError> {
        let Some(text) = self.get(name) else {
            return Ok(Vec::new());
        };
        let expected = "a JSON array of strings";
        let values: Vec<serde_json::Value> =
            serde_json::from_str(text).map_err(|_| invalid(name, text, expected))?;
        values
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => Ok(s),
                serde_json::Value::Number(n) => Ok(n.to_string()),
                _ => Err(invalid(name, text, expected)),
            })
            .collect()
    }

    /// The 2020 list `name`, which the model requires (at least one item).
    pub fn json_list_required(&self, name: &'static str) -> Result<Vec<String>, ParamError> {
        let items = self.json_list(name)?;
        if items.is_empty() {
            return Err(ParamError::Missing { name });
        }
        Ok(items)
    }
}

fn parse<T: FromParam>(name: &str, text: &str) -> Result<T, ParamError> {
    T::from_param(text).ok_or_else(|| invalid(name, text, T::EXPECTED))
}

fn invalid(name: &str, value: &str, expected: &'static str) -> ParamError {
    ParamError::Invalid {
        name: name.to_owned(),
        value: value.to_owned(),
        expected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_go_on_the_wire_per_version() {
        let mut p = Params::new(Version::V20170705);
        p.put("InstanceId", Placement::Query, &"i".to_owned());
        p.put("PageSize", Placement::Query, &None::<i64>);
        p.put_list(
            "SkillGroupId",
            Placement::Query,
            &["a".to_owned(), "b".to_owned()],
        );
        p.put_list::<String>("Empty", Placement::Query, &[]);
        let wire: Vec<(String, String)> = p.to_wire().into_iter().map(|(k, v, _)| (k, v)).collect();
        assert_eq!(
            wire,
            [
                ("InstanceId".into(), "i".into()),
                ("SkillGroupId.1".into(), "a".into()),
                ("SkillGroupId.2".into(), "b".into())
            ]
        );
        let mut p = Params::new(Version::V20200701);
        p.put_list(
            "SignedSkillGroupIdList",
            Placement::Query,
            &["skg-1@ccc-test".to_owned()],
        );
        assert_eq!(p.to_wire()[0].1, r#"["skg-1@ccc-test"]"#);
    }

    #[test]
    fn wire_params_read_back() {
        let wire: WireParams = [
            ("X.2", "b"),
            ("X.1", "a"),
            ("X.10", "j"),
            ("N", "12"),
            ("B", "True"),
            ("J", r#"["p", 7]"#),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            wire.numbered::<String>("X"),
            Err(invalid("X.10", "j", "numbered without gaps or repeats"))
        );
        let wire: WireParams = [("X.2", "b"), ("X.1", "a"), ("N", "12"), ("B", "True")]
            .into_iter()
            .collect();
        assert_eq!(wire.numbered::<String>("X").unwrap(), ["a", "b"]);
        assert_eq!(wire.required::<i64>("N"), Ok(12));
        assert_eq!(wire.optional::<bool>("B"), Ok(Some(true)));
        assert_eq!(
            wire.required::<i64>("Missing"),
            Err(ParamError::Missing { name: "Missing" })
        );
        assert!(matches!(
            wire.required::<bool>("N"),
            Err(ParamError::Invalid { .. })
        ));
        assert_eq!(
            wire.numbered_required::<String>("Y"),
            Err(ParamError::Missing { name: "Y" })
        );
        let json: WireParams = [("J", r#"["p", 7]"#), ("K", "nope")].into_iter().collect();
        assert_eq!(json.json_list("J").unwrap(), ["p", "7"]);
        assert!(json.json_list("K").is_err());
        assert_eq!(json.json_list("Absent").unwrap(), Vec::<String>::new());
        let zero: WireParams = [("X.0", "a")].into_iter().collect();
        assert!(zero.numbered::<String>("X").is_err());
        // `XY.1` is not an item of `X`.
        let other: WireParams = [("XY.1", "a")].into_iter().collect();
        assert!(other.numbered::<String>("X").unwrap().is_empty());
    }

    #[test]
    fn list_items_find_their_model() {
        static MODEL: ActionModel = ActionModel {
            name: "A",
            version: Version::V20170705,
            params: &[ParamModel {
                name: "SkillGroupId",
                kind: ParamKind::List,
                required: true,
                placement: Placement::Query,
            }],
        };
        assert!(MODEL.param("SkillGroupId.3").is_some());
        assert!(MODEL.param("SkillGroupId").is_some());
        assert!(MODEL.param("SkillGroupId.x").is_none());
        assert!(MODEL.param("Other.1").is_none());
    }
}
