//! The raw parameters of one request (the typed request is read from them with
//! ccc-openapi's model, `api::decode`), and paging.

use std::collections::BTreeMap;

use super::Version;

use crate::platform::PlatformError;

/// An action's parameters, as flat wire names (`SkillGroupId.1`, `InstanceId`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    map: BTreeMap<String, String>,
    version: Option<Version>,
}

/// At most this many items in one list parameter.
const MAX_LIST: usize = 1_000;

impl Params {
    /// Parameters of `version` from `(name, value)` pairs; a later pair wins.
    pub fn new(version: Version, pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Self {
            map: pairs.into_iter().collect(),
            version: Some(version),
        }
    }

    /// Every parameter, sorted by name.
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.map
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The value of `name`, if present and not blank.
    pub fn opt(&self, name: &str) -> Option<&str> {
        self.map
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The value of `name`, which the model requires.
    pub fn req(&self, name: &str) -> Result<&str, PlatformError> {
        self.opt(name).ok_or_else(|| PlatformError::blank(name))
    }

    /// A list: `Name.1`, `Name.2`, ... in 2017-07-05 (in numeric order); one JSON
    /// array string in 2020-07-01.
    pub fn list(&self, name: &str) -> Result<Vec<String>, PlatformError> {
        match self.version {
            Some(Version::V2020) => match self.opt(name) {
                None => Ok(Vec::new()),
                Some(json) => {
                    let items: Vec<serde_json::Value> =
                        serde_json::from_str(json).map_err(|e| {
                            PlatformError::invalid(name, format_args!("not a JSON array: {e}"))
                        })?;
                    if items.len() > MAX_LIST {
                        return Err(PlatformError::maximum(name, MAX_LIST as i64));
                    }
                    items
                        .into_iter()
                        .map(|item| match item {
                            serde_json::Value::String(s) => Ok(s),
                            serde_json::Value::Number(n) => Ok(n.to_string()),
                            other => Err(PlatformError::invalid(
                                name,
                                format_args!("`{other}` is not a string"),
                            )),
                        })
                        .collect()
                }
            },
            _ => {
                let prefix = format!("{name}.");
                let mut items: Vec<(u32, String)> = Vec::new();
                for (key, value) in self.map.range(prefix.clone()..) {
                    let Some(index) = key.strip_prefix(&prefix) else {
                        break;
                    };
                    let n: u32 = index.parse().map_err(|_| {
                        PlatformError::invalid(key, "list items are numbered from 1")
                    })?;
                    if n == 0 || n as usize > MAX_LIST {
                        return Err(PlatformError::invalid(
                            key,
                            "list items are numbered from 1",
                        ));
                    }
                    items.push((n, value.clone()));
                }
                items.sort_by_key(|(n, _)| *n);
                Ok(items.into_iter().map(|(_, v)| v).collect())
            }
        }
    }
}

/// One page of `items` (1-based page number).
pub fn page_of<T>(items: &[T], number: usize, size: usize) -> &[T] {
    let start = number
        .saturating_sub(1)
        .saturating_mul(size)
        .min(items.len());
    let end = start.saturating_add(size).min(items.len());
    &items[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(version: Version, pairs: &[(&str, &str)]) -> Params {
        Params::new(
            version,
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        )
    }

    #[test]
    fn lists_in_both_versions() {
        let old = p(
            Version::V2017,
            &[("Id.10", "j"), ("Id.2", "b"), ("Id.1", "a"), ("Idx", "no")],
        );
        assert_eq!(old.list("Id").unwrap(), ["a", "b", "j"]);
        assert!(p(Version::V2017, &[("Id.x", "1")]).list("Id").is_err());
        assert!(p(Version::V2017, &[("Id.0", "1")]).list("Id").is_err());
        let new = p(Version::V2020, &[("Id", r#"["a", 7]"#)]);
        assert_eq!(new.list("Id").unwrap(), ["a", "7"]);
        let bad = p(Version::V2020, &[("Id", "a,b")]).list("Id").unwrap_err();
        assert_eq!(bad.code, "Parameter.Invalid");
    }

    #[test]
    fn required_values_and_pages() {
        let q = p(Version::V2017, &[("N", "12"), ("Blank", "  ")]);
        assert_eq!(q.req("N").unwrap(), "12");
        assert_eq!(q.req("Missing").unwrap_err().code, "Parameter.Blank");
        assert_eq!(q.req("Blank").unwrap_err().code, "Parameter.Blank");
        let items = [1, 2, 3, 4, 5];
        assert_eq!(page_of(&items, 2, 2), [3, 4]);
        assert!(page_of(&items, 9, 2).is_empty());
        assert!(page_of(&items, usize::MAX, usize::MAX).is_empty());
    }
}
