//! Which number an outbound call shows (M11 `call(callee, caller)`).

use super::input::InputError;

/// The `caller` argument of `call`, as the guide reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerChoice {
    /// `''` or left out: the panel's choice if there is one, else the first number.
    Default,
    /// `'auto'`: a number of the callee's city, else of its province, else any.
    Auto,
    /// A number the agent picked.
    Explicit(String),
}

impl CallerChoice {
    /// Reads the guide's argument: `""` is [`CallerChoice::Default`], `"auto"` (any
    /// case) is [`CallerChoice::Auto`], anything else is that number.
    pub fn parse(caller: &str) -> Self {
        let caller = caller.trim();
        if caller.is_empty() {
            Self::Default
        } else if caller.eq_ignore_ascii_case("auto") {
            Self::Auto
        } else {
            Self::Explicit(caller.to_owned())
        }
    }
}

/// Where a number belongs (`GetNumberRegionInfo`, `ListOutboundPhoneNumberOfUser`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberRegion {
    /// The province.
    pub province: Option<String>,
    /// The city.
    pub city: Option<String>,
}

/// One outbound number of the agent's skill groups, in the platform's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundNumber {
    /// The number.
    pub number: String,
    /// Where it belongs.
    pub region: NumberRegion,
}

/// A source of random indexes: `pick(n)` returns a value below `n` (`n` > 0).
///
/// Any `FnMut(usize) -> usize` is one, so a seeded generator fits in a closure:
/// `|n| rng.random_range(0..n)`.
pub trait RandomIndex {
    /// An index below `len`.
    fn pick(&mut self, len: usize) -> usize;
}

impl<F: FnMut(usize) -> usize> RandomIndex for F {
    fn pick(&mut self, len: usize) -> usize {
        self(len)
    }
}

/// The number to call from.
///
/// - [`CallerChoice::Explicit`]: that number, if it is one of `numbers`.
/// - [`CallerChoice::Default`]: `panel_choice` if given and one of `numbers`, else the
///   first number.
/// - [`CallerChoice::Auto`]: a number of the callee's city, else of its province, else
///   one at random (`callee_region` comes from `GetNumberRegionInfo`; without it, at
///   random). Among several of the same city or province, the first.
///
/// Without any number, or with a number that is not the agent's, the answer is the
/// guide's `caller outof range` ([`InputError::CallerOutOfRange`]).
///
/// ```
/// use ccc_core::helpers::{CallerChoice, NumberRegion, OutboundNumber, choose_caller};
/// let region = |p: &str, c: &str| NumberRegion { province: Some(p.into()), city: Some(c.into()) };
/// let numbers = [
///     OutboundNumber { number: "02100000001".into(), region: region("Shanghai", "Shanghai") },
///     OutboundNumber { number: "057100000001".into(), region: region("Zhejiang", "Hangzhou") },
/// ];
/// let callee = region("Zhejiang", "Ningbo");
/// let chosen = choose_caller(&CallerChoice::Auto, None, &numbers, Some(&callee), &mut |_| 0).unwrap();
/// assert_eq!(chosen, "057100000001");
/// ```
pub fn choose_caller<'a>(
    choice: &CallerChoice,
    panel_choice: Option<&str>,
    numbers: &'a [OutboundNumber],
    callee_region: Option<&NumberRegion>,
    random: &mut impl RandomIndex,
) -> Result<&'a str, InputError> {
    let first = numbers.first().ok_or(InputError::CallerOutOfRange(
        "the agent has no outbound number",
    ))?;
    let find = |wanted: &str| numbers.iter().find(|n| n.number == wanted);
    let chosen = match choice {
        CallerChoice::Explicit(number) => find(number).ok_or(InputError::CallerOutOfRange(
            "the number is not one of the agent's outbound numbers",
        ))?,
        CallerChoice::Default => panel_choice.and_then(find).unwrap_or(first),
        CallerChoice::Auto => {
            let same = |field: fn(&NumberRegion) -> Option<&String>| {
                let wanted = callee_region.and_then(field).filter(|v| !v.is_empty())?;
                numbers.iter().find(|n| field(&n.region) == Some(wanted))
            };
            same(|r| r.city.as_ref())
                .or_else(|| same(|r| r.province.as_ref()))
                .unwrap_or_else(|| &numbers[random.pick(numbers.len()).min(numbers.len() - 1)])
        }
    };
    Ok(&chosen.number)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(n: &str, province: &str, city: &str) -> OutboundNumber {
        OutboundNumber {
            number: n.into(),
            region: NumberRegion {
                province: Some(province.into()),
                city: Some(city.into()),
            },
        }
    }

    fn numbers() -> Vec<OutboundNumber> {
        vec![
            number("A", "Shanghai", "Shanghai"),
            number("B", "Zhejiang", "Hangzhou"),
            number("C", "Zhejiang", "Ningbo"),
            number("D", "Guangdong", "Shenzhen"),
        ]
    }

    fn region(province: &str, city: &str) -> NumberRegion {
        NumberRegion {
            province: Some(province.into()),
            city: Some(city.into()),
        }
    }

    #[test]
    fn parse() {
        assert_eq!(CallerChoice::parse(""), CallerChoice::Default);
        assert_eq!(CallerChoice::parse(" AUTO "), CallerChoice::Auto);
        assert_eq!(
            CallerChoice::parse("0571"),
            CallerChoice::Explicit("0571".into())
        );
    }

    #[test]
    fn default_and_explicit() {
        let n = numbers();
        let mut never = |_: usize| unreachable!("no random choice here");
        assert_eq!(
            choose_caller(&CallerChoice::Default, None, &n, None, &mut never),
            Ok("A")
        );
        assert_eq!(
            choose_caller(&CallerChoice::Default, Some("C"), &n, None, &mut never),
            Ok("C")
        );
        assert_eq!(
            choose_caller(&CallerChoice::Default, Some("Z"), &n, None, &mut never),
            Ok("A")
        );
        assert_eq!(
            choose_caller(
                &CallerChoice::Explicit("D".into()),
                None,
                &n,
                None,
                &mut never
            ),
            Ok("D")
        );
        assert!(matches!(
            choose_caller(
                &CallerChoice::Explicit("Z".into()),
                None,
                &n,
                None,
                &mut never
            ),
            Err(InputError::CallerOutOfRange(_))
        ));
        assert!(matches!(
            choose_caller(&CallerChoice::Default, None, &[], None, &mut never),
            Err(InputError::CallerOutOfRange(_))
        ));
    }

    #[test]
    fn auto_prefers_city_then_province_then_random() {
        let n = numbers();
        let mut never = |_: usize| unreachable!("no random choice here");
        let city = region("Zhejiang", "Ningbo");
        assert_eq!(
            choose_caller(&CallerChoice::Auto, None, &n, Some(&city), &mut never),
            Ok("C")
        );
        let province = region("Zhejiang", "Wenzhou");
        assert_eq!(
            choose_caller(&CallerChoice::Auto, None, &n, Some(&province), &mut never),
            Ok("B")
        );
        let elsewhere = region("Sichuan", "Chengdu");
        let mut seq = [3usize, 1].into_iter();
        let mut seeded = |len: usize| {
            assert_eq!(len, 4);
            seq.next().unwrap()
        };
        assert_eq!(
            choose_caller(&CallerChoice::Auto, None, &n, Some(&elsewhere), &mut seeded),
            Ok("D")
        );
        assert_eq!(
            choose_caller(&CallerChoice::Auto, None, &n, None, &mut seeded),
            Ok("B")
        );
        // A random source that misbehaves cannot index out of range.
        assert_eq!(
            choose_caller(&CallerChoice::Auto, None, &n, None, &mut |_| 99),
            Ok("D")
        );
    }
}
