//! The parameters of one request, read as the action's model wants them.

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

    /// An owned optional value.
    pub fn string(&self, name: &str) -> Option<String> {
        self.opt(name).map(str::to_owned)
    }

    /// An integer parameter.
    pub fn int(&self, name: &str) -> Result<Option<i64>, PlatformError> {
        self.opt(name)
            .map(|v| {
                v.parse::<i64>().map_err(|_| {
                    PlatformError::invalid(name, format_args!("`{v}` is not an integer"))
                })
            })
            .transpose()
    }

    /// A required integer parameter.
    pub fn req_int(&self, name: &str) -> Result<i64, PlatformError> {
        self.int(name)?.ok_or_else(|| PlatformError::blank(name))
    }

    /// A boolean parameter (`true`/`false`, any case, as the SDKs send them).
    pub fn bool(&self, name: &str) -> Result<Option<bool>, PlatformError> {
        self.opt(name)
            .map(|v| match v.to_ascii_lowercase().as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(PlatformError::invalid(
                    name,
                    format_args!("`{v}` is not true or false"),
                )),
            })
            .transpose()
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

    /// `PageNumber` (1-100) and `PageSize` (1-100), required or defaulted.
    pub fn page(&self, required: bool) -> Result<(usize, usize), PlatformError> {
        let get = |name: &str, default: i64| -> Result<i64, PlatformError> {
            match self.int(name)? {
                Some(v) => Ok(v),
                None if required => Err(PlatformError::blank(name)),
                None => Ok(default),
            }
        };
        let number = get("PageNumber", 1)?;
        let size = get("PageSize", 10)?;
        if number < 1 {
            return Err(PlatformError::minimum("PageNumber", 1));
        }
        if size < 1 {
            return Err(PlatformError::minimum("PageSize", 1));
        }
        if size > 100 {
            return Err(PlatformError::maximum("PageSize", 100));
        }
        let number = usize::try_from(number).unwrap_or(usize::MAX);
        let size = usize::try_from(size).unwrap_or(100);
        Ok((number, size))
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
    fn typed_values_and_pages() {
        let q = p(
            Version::V2017,
            &[("N", "12"), ("B", "TRUE"), ("X", "x"), ("PageSize", "101")],
        );
        assert_eq!(q.int("N").unwrap(), Some(12));
        assert_eq!(q.bool("B").unwrap(), Some(true));
        assert!(q.int("X").is_err() && q.bool("X").is_err());
        assert_eq!(q.req("Missing").unwrap_err().code, "Parameter.Blank");
        assert_eq!(q.page(false).unwrap_err().code, "Parameter.Maximum");
        assert_eq!(p(Version::V2017, &[]).page(false).unwrap(), (1, 10));
        assert_eq!(
            p(Version::V2017, &[]).page(true).unwrap_err().code,
            "Parameter.Blank"
        );
        let items = [1, 2, 3, 4, 5];
        assert_eq!(page_of(&items, 2, 2), [3, 4]);
        assert!(page_of(&items, 9, 2).is_empty());
        assert!(page_of(&items, usize::MAX, usize::MAX).is_empty());
    }
}
