//! The checks a scenario passes before the emulator uses it.

use std::collections::HashSet;
use std::fmt;

use super::{Outcome, Playback, Scenario};

/// One thing wrong with a scenario: where (`agent[2].skill[0].skill_group`) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The field, as the TOML file names it.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A scenario that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The text is not TOML of the scenario's shape (the message says where).
    #[error("scenario is not valid TOML of the expected shape: {0}")]
    Syntax(String),
    /// The scenario reads but does not hold together.
    #[error("scenario has {} problem(s): {}", .0.len(), join(.0))]
    Invalid(Vec<Problem>),
}

fn join(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl ScenarioError {
    pub(super) fn syntax(error: toml::de::Error) -> Self {
        Self::Syntax(error.to_string().trim_end().to_owned())
    }

    pub(super) fn syntax_message(message: String) -> Self {
        Self::Syntax(message)
    }

    /// The problems of an [`ScenarioError::Invalid`] scenario.
    pub fn problems(&self) -> &[Problem] {
        match self {
            Self::Invalid(problems) => problems,
            Self::Syntax(_) => &[],
        }
    }
}

struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn fail(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }

    fn non_empty(&mut self, path: &str, value: &str) {
        if value.trim().is_empty() {
            self.fail(path, "must not be empty");
        } else if value.chars().any(char::is_whitespace) {
            self.fail(path, format!("`{value}` must not contain spaces"));
        }
    }

    fn digits(&mut self, path: &str, value: &str) {
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            self.fail(path, format!("`{value}` must be digits only"));
        }
    }

    fn unique<'a>(&mut self, seen: &mut HashSet<&'a str>, path: &str, value: &'a str) {
        if !seen.insert(value) {
            self.fail(path, format!("`{value}` is used twice"));
        }
    }
}

fn is_dtmf(digits: &str) -> bool {
    !digits.is_empty()
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'*' | b'#' | b'A'..=b'D'))
}

impl Scenario {
    /// Checks that the scenario holds together: ids unique and well formed, every
    /// reference (skill group, number) pointing at something that exists, levels and
    /// timers in range. All problems are reported at once.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let mut c = Checker {
            problems: Vec::new(),
        };
        self.check_instance(&mut c);
        let groups: HashSet<&str> = self.skill_groups.iter().map(|g| g.id.as_str()).collect();
        self.check_numbers(&mut c, &groups);
        self.check_skill_groups(&mut c);
        self.check_agents(&mut c, &groups);
        self.check_extras(&mut c);
        if c.problems.is_empty() {
            Ok(())
        } else {
            Err(ScenarioError::Invalid(c.problems))
        }
    }

    fn check_instance(&self, c: &mut Checker) {
        let i = &self.instance;
        c.non_empty("instance.id", &i.id);
        c.non_empty("instance.region", &i.region);
        c.non_empty("instance.access_key_id", &i.access_key_id);
        if i.access_key_secret.is_empty() {
            c.fail("instance.access_key_secret", "must not be empty");
        }
        let p = &self.platform;
        if p.ring_timeout_ms == 0 {
            c.fail("platform.ring_timeout_ms", "must be above 0");
        }
        if p.no_answer_timeout_ms == 0 {
            c.fail("platform.no_answer_timeout_ms", "must be above 0");
        }
        if p.token_ttl_secs < 60 {
            c.fail("platform.token_ttl_secs", "must be at least 60");
        }
    }

    fn check_numbers(&self, c: &mut Checker, groups: &HashSet<&str>) {
        let mut seen = HashSet::new();
        for (i, n) in self.numbers.iter().enumerate() {
            let path = format!("number[{i}]");
            c.digits(&format!("{path}.number"), &n.number);
            c.unique(&mut seen, &format!("{path}.number"), &n.number);
            if let Some(group) = &n.inbound_skill_group
                && !groups.contains(group.as_str())
            {
                c.fail(
                    format!("{path}.inbound_skill_group"),
                    format!("no skill group `{group}`"),
                );
            }
        }
        let mut prefixes = HashSet::new();
        for (i, r) in self.number_regions.iter().enumerate() {
            let path = format!("number_region[{i}].prefix");
            c.digits(&path, &r.prefix);
            c.unique(&mut prefixes, &path, &r.prefix);
        }
    }

    fn check_skill_groups(&self, c: &mut Checker) {
        let mut seen = HashSet::new();
        for (i, g) in self.skill_groups.iter().enumerate() {
            let path = format!("skill_group[{i}]");
            c.non_empty(&format!("{path}.id"), &g.id);
            c.unique(&mut seen, &format!("{path}.id"), &g.id);
            if g.name.trim().is_empty() {
                c.fail(format!("{path}.name"), "must not be empty");
            }
            for (j, number) in g.outbound_numbers.iter().enumerate() {
                let at = format!("{path}.outbound_numbers[{j}]");
                match self.number(number) {
                    None => c.fail(at, format!("`{number}` is not one of the numbers")),
                    Some(n) if !n.usage.allows_outbound() => {
                        c.fail(at, format!("`{number}` is an inbound-only number"));
                    }
                    Some(_) => {}
                }
            }
        }
    }

    fn check_agents(&self, c: &mut Checker, groups: &HashSet<&str>) {
        let mut ids = HashSet::new();
        let mut extensions = HashSet::new();
        let mut ram_ids = HashSet::new();
        let mut keys = HashSet::from([self.instance.access_key_id.as_str()]);
        for (i, a) in self.agents.iter().enumerate() {
            let path = format!("agent[{i}]");
            c.non_empty(&format!("{path}.user_id"), &a.user_id);
            c.unique(&mut ids, &format!("{path}.user_id"), &a.user_id);
            c.non_empty(&format!("{path}.login_name"), &a.login_name);
            c.digits(&format!("{path}.extension"), &a.extension);
            c.unique(&mut extensions, &format!("{path}.extension"), &a.extension);
            if self.number(&a.extension).is_some() {
                c.fail(
                    format!("{path}.extension"),
                    format!("`{}` is also a phone number of the instance", a.extension),
                );
            }
            if a.password.is_empty() {
                c.fail(format!("{path}.password"), "must not be empty");
            }
            if !ram_ids.insert(a.ram_id) {
                c.fail(
                    format!("{path}.ram_id"),
                    format!("`{}` is used twice", a.ram_id),
                );
            }
            if let Some(mobile) = &a.mobile {
                c.digits(&format!("{path}.mobile"), mobile);
            }
            if a.roles.is_empty() {
                c.fail(format!("{path}.roles"), "must name at least one role");
            }
            match (&a.access_key_id, &a.access_key_secret) {
                (Some(id), Some(_)) => {
                    c.non_empty(&format!("{path}.access_key_id"), id);
                    c.unique(&mut keys, &format!("{path}.access_key_id"), id);
                }
                (None, None) => {}
                _ => c.fail(
                    format!("{path}.access_key_id"),
                    "access_key_id and access_key_secret go together",
                ),
            }
            let mut own = HashSet::new();
            for (j, s) in a.skills.iter().enumerate() {
                let at = format!("{path}.skill[{j}]");
                if !groups.contains(s.skill_group.as_str()) {
                    c.fail(
                        format!("{at}.skill_group"),
                        format!("no skill group `{}`", s.skill_group),
                    );
                }
                c.unique(&mut own, &format!("{at}.skill_group"), &s.skill_group);
                if !(1..=10).contains(&s.level) {
                    c.fail(
                        format!("{at}.level"),
                        format!("{} is outside 1..=10", s.level),
                    );
                }
            }
        }
    }

    fn check_extras(&self, c: &mut Checker) {
        for (i, e) in self.service_extensions.iter().enumerate() {
            c.non_empty(
                &format!("service_extension[{i}].service_type"),
                &e.service_type,
            );
            c.digits(&format!("service_extension[{i}].number"), &e.number);
        }
        let mut sms = HashSet::new();
        for (i, t) in self.sms_templates.iter().enumerate() {
            if !sms.insert(t.id) {
                c.fail(
                    format!("sms_template[{i}].id"),
                    format!("`{}` is used twice", t.id),
                );
            }
            c.non_empty(
                &format!("sms_template[{i}].template_code"),
                &t.template_code,
            );
        }
        let mut regions = HashSet::new();
        for (i, t) in self.turn_regions.iter().enumerate() {
            let path = format!("turn_region[{i}]");
            c.non_empty(&format!("{path}.region"), &t.region);
            c.unique(&mut regions, &format!("{path}.region"), &t.region);
            for (j, url) in t.urls.iter().enumerate() {
                if !(url.starts_with("turn:") || url.starts_with("turns:")) {
                    c.fail(
                        format!("{path}.urls[{j}]"),
                        format!("`{url}` is not a turn: or turns: URL"),
                    );
                }
            }
            let has_static = t.username.is_some() && t.password.is_some();
            if !t.urls.is_empty() && !has_static && t.secret.is_none() {
                c.fail(
                    path.clone(),
                    "external servers need username and password, or secret",
                );
            }
            if t.username.is_some() != t.password.is_some() {
                c.fail(
                    format!("{path}.username"),
                    "username and password go together",
                );
            }
        }
        let mut customers = HashSet::new();
        for (i, cu) in self.customers.iter().enumerate() {
            let path = format!("customer[{i}]");
            c.digits(&format!("{path}.number"), &cu.number);
            c.unique(&mut customers, &format!("{path}.number"), &cu.number);
            check_script(c, &path, &cu.script);
        }
        check_script(c, "default_customer", &self.default_customer);
    }
}

fn check_script(c: &mut Checker, path: &str, script: &super::CustomerScript) {
    const HOUR_MS: u64 = 3_600_000;
    if script.answer_after_ms > HOUR_MS {
        c.fail(
            format!("{path}.answer_after_ms"),
            "must be at most one hour",
        );
    }
    if script.hangup_after_ms.is_some_and(|ms| ms > 24 * HOUR_MS) {
        c.fail(format!("{path}.hangup_after_ms"), "must be at most one day");
    }
    if let Some(digits) = &script.dtmf
        && !is_dtmf(digits)
    {
        c.fail(
            format!("{path}.dtmf"),
            format!("`{digits}` is not DTMF (0-9, *, #, A-D)"),
        );
    }
    if !(1..=5).contains(&script.survey_rating) {
        c.fail(format!("{path}.survey_rating"), "must be 1 to 5");
    }
    if script.outcome == Outcome::Busy && script.hangup_after_ms.is_some() {
        c.fail(
            format!("{path}.hangup_after_ms"),
            "a busy line never answers, so it cannot hang up later",
        );
    }
    match &script.play {
        Playback::Tone { hz } if !(50..=4_000).contains(hz) => {
            c.fail(format!("{path}.play.hz"), "must be 50 to 4000");
        }
        Playback::Wav { path: file } if file.is_empty() => {
            c.fail(format!("{path}.play.path"), "must not be empty");
        }
        _ => {}
    }
}
