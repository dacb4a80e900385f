//! Checks shared by the generated tests.

use std::fmt::Debug;

use ccc_openapi::{Action, ParamError, ParamKind, Placement, Version, WireParams};

/// Every parameter of `A`'s model with a value of its kind, as flat wire pairs.
pub(crate) fn full_wire<A: Action>() -> Vec<(String, String, Placement)> {
    let mut out = Vec::new();
    for p in A::MODEL.params {
        match p.kind {
            ParamKind::Text => {
                out.push((p.name.to_owned(), format!("{}-value", p.name), p.placement));
            }
            ParamKind::Integer => out.push((p.name.to_owned(), "42".to_owned(), p.placement)),
            ParamKind::Boolean => out.push((p.name.to_owned(), "true".to_owned(), p.placement)),
            ParamKind::List => match A::VERSION {
                Version::V20170705 => {
                    for (i, v) in ["11", "12"].iter().enumerate() {
                        out.push((
                            format!("{}.{}", p.name, i + 1),
                            (*v).to_owned(),
                            p.placement,
                        ));
                    }
                }
                Version::V20200701 => {
                    out.push((p.name.to_owned(), r#"["11","12"]"#.to_owned(), p.placement));
                }
            },
        }
    }
    out
}

fn sorted(mut v: Vec<(String, String, Placement)>) -> Vec<(String, String, Placement)> {
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// `A` read from every parameter of its model writes the same parameters back, each
/// where the model puts it, and lacks each required one when it is left out.
pub(crate) fn request_round_trip<A: Action + Debug + PartialEq>() {
    let full = full_wire::<A>();
    let wire: WireParams = full
        .iter()
        .map(|(k, v, _)| (k.clone(), v.clone()))
        .collect();
    let action = A::from_params(&wire).unwrap_or_else(|e| panic!("{}: {e}", A::NAME));
    assert_eq!(
        sorted(action.params().to_wire()),
        sorted(full.clone()),
        "{}",
        A::NAME
    );
    assert_eq!(action.params().version(), A::VERSION);
    for p in A::MODEL.params.iter().filter(|p| p.required) {
        let without: WireParams = full
            .iter()
            .filter(|(k, _, _)| k != p.name && !k.starts_with(&format!("{}.", p.name)))
            .map(|(k, v, _)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(
            A::from_params(&without),
            Err(ParamError::Missing { name: p.name }),
            "{} without {}",
            A::NAME,
            p.name
        );
    }
}
