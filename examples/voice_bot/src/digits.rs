//! Collecting one call's DTMF digits: when the caller has said enough. Pure: time comes
//! in as an argument, so the rules are tested without a call.

use std::time::{Duration, Instant};

/// When a call's digits are complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitRules {
    /// At most this many digits (the terminator not counted).
    pub max_digits: usize,
    /// The key that ends the input (`#` by default); it is not part of the digits.
    pub terminator: Option<char>,
    /// How long to wait for the first digit once the call is answered.
    pub first_digit: Duration,
    /// How long to wait for each next digit.
    pub between_digits: Duration,
}

impl Default for DigitRules {
    fn default() -> Self {
        Self {
            max_digits: 16,
            terminator: Some('#'),
            first_digit: Duration::from_secs(10),
            between_digits: Duration::from_secs(5),
        }
    }
}

/// Why a call's input ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ended {
    /// The caller pressed the terminator.
    Terminator,
    /// The caller pressed [`DigitRules::max_digits`] digits.
    MaxDigits,
    /// No next digit came in time.
    Timeout,
    /// The caller hung up first.
    CallerHungUp,
    /// The call was never answered (the caller gave up while it rang, or the answer
    /// failed: the reason).
    NotAnswered(String),
}

impl Ended {
    /// A short name: `terminator`, `max-digits`, `timeout`, `caller-hung-up`,
    /// `not-answered`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Terminator => "terminator",
            Self::MaxDigits => "max-digits",
            Self::Timeout => "timeout",
            Self::CallerHungUp => "caller-hung-up",
            Self::NotAnswered(_) => "not-answered",
        }
    }
}

/// One call's digits so far, and the deadline for the next.
#[derive(Debug, Clone)]
pub(crate) struct Collector {
    rules: DigitRules,
    digits: String,
    deadline: Option<Instant>,
    ended: Option<Ended>,
}

impl Collector {
    pub(crate) fn new(rules: DigitRules) -> Self {
        Self {
            rules,
            digits: String::new(),
            deadline: None,
            ended: None,
        }
    }

    /// The call is answered: the wait for the first digit starts (once).
    pub(crate) fn start(&mut self, now: Instant) {
        if self.ended.is_none() && self.deadline.is_none() {
            self.deadline = Some(now + self.rules.first_digit);
        }
    }

    /// A key the caller pressed; `Some` when the input is complete with it.
    pub(crate) fn digit(&mut self, now: Instant, digit: char) -> Option<Ended> {
        if self.ended.is_some() {
            return None;
        }
        let ended = if self.rules.terminator == Some(digit) {
            Ended::Terminator
        } else {
            self.digits.push(digit);
            if self.digits.chars().count() < self.rules.max_digits {
                self.deadline = Some(now + self.rules.between_digits);
                return None;
            }
            Ended::MaxDigits
        };
        self.end(ended)
    }

    /// When the input times out, if it is still open.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline.filter(|_| self.ended.is_none())
    }

    /// The time is `now`: `Some` when the input has timed out with it.
    pub(crate) fn handle_timeout(&mut self, now: Instant) -> Option<Ended> {
        match self.deadline() {
            Some(deadline) if now >= deadline => self.end(Ended::Timeout),
            _ => None,
        }
    }

    fn end(&mut self, ended: Ended) -> Option<Ended> {
        self.deadline = None;
        self.ended = Some(ended.clone());
        Some(ended)
    }

    /// Why the input ended, if it has.
    pub(crate) fn ended(&self) -> Option<&Ended> {
        self.ended.as_ref()
    }

    /// The digits collected.
    pub(crate) fn digits(&self) -> &str {
        &self.digits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> DigitRules {
        DigitRules {
            max_digits: 4,
            terminator: Some('#'),
            first_digit: Duration::from_secs(3),
            between_digits: Duration::from_secs(1),
        }
    }

    #[test]
    fn the_terminator_ends_the_input_and_is_not_kept() {
        let t = Instant::now();
        let mut c = Collector::new(rules());
        c.start(t);
        assert_eq!(c.digit(t, '4'), None);
        assert_eq!(c.digit(t, '2'), None);
        assert_eq!(c.digit(t, '#'), Some(Ended::Terminator));
        assert_eq!(c.digits(), "42");
        assert_eq!(c.deadline(), None);
        // Keys after the end change nothing.
        assert_eq!(c.digit(t, '9'), None);
        assert_eq!(c.digits(), "42");
        assert_eq!(c.ended(), Some(&Ended::Terminator));
    }

    #[test]
    fn max_digits_ends_the_input() {
        let t = Instant::now();
        let mut c = Collector::new(rules());
        for d in ['1', '2', '3'] {
            assert_eq!(c.digit(t, d), None);
        }
        assert_eq!(c.digit(t, '*'), Some(Ended::MaxDigits));
        assert_eq!(c.digits(), "123*");
    }

    #[test]
    fn the_first_digit_and_each_next_have_their_deadlines() {
        let t = Instant::now();
        let mut c = Collector::new(rules());
        assert_eq!(c.deadline(), None, "no deadline before the answer");
        c.start(t);
        assert_eq!(c.deadline(), Some(t + Duration::from_secs(3)));
        assert_eq!(c.handle_timeout(t + Duration::from_secs(2)), None);
        let t1 = t + Duration::from_secs(2);
        assert_eq!(c.digit(t1, '7'), None);
        assert_eq!(c.deadline(), Some(t1 + Duration::from_secs(1)));
        // A second start does not move it.
        c.start(t1 + Duration::from_millis(500));
        assert_eq!(c.deadline(), Some(t1 + Duration::from_secs(1)));
        assert_eq!(
            c.handle_timeout(t1 + Duration::from_secs(1)),
            Some(Ended::Timeout)
        );
        assert_eq!(c.digits(), "7");
        assert_eq!(c.handle_timeout(t1 + Duration::from_secs(9)), None);
    }

    #[test]
    fn without_a_terminator_hash_is_a_digit() {
        let t = Instant::now();
        let mut c = Collector::new(DigitRules {
            terminator: None,
            ..rules()
        });
        assert_eq!(c.digit(t, '#'), None);
        assert_eq!(c.digits(), "#");
    }
}
