use super::*;

const FILE: &str = include_str!("../../scenario.toml");

#[test]
fn the_builtin_scenario_is_valid_and_equals_the_file() {
    let builtin = Scenario::default();
    builtin.validate().unwrap();
    let file = Scenario::from_toml_str(FILE).unwrap();
    assert_eq!(file, builtin);
}

#[test]
fn toml_round_trips() {
    let builtin = Scenario::default();
    let text = builtin.to_toml_string().unwrap();
    assert_eq!(Scenario::from_toml_str(&text).unwrap(), builtin);
}

#[test]
fn problems_name_the_field_and_say_what_is_wrong() {
    let mut s = Scenario::default();
    s.agents[1].extension = s.agents[0].extension.clone();
    s.agents[0].skills[0].skill_group = "nope@ccc-emulator".into();
    s.agents[0].skills[1].level = 11;
    s.skill_groups[0].outbound_numbers.push("4008000000".into());
    s.platform.ring_timeout_ms = 0;
    s.customers[0].script.dtmf = Some("12x".into());
    let err = s.validate().unwrap_err();
    let text = err.to_string();
    let paths: Vec<&str> = err.problems().iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "platform.ring_timeout_ms",
            "skill_group[0].outbound_numbers[2]",
            "agent[0].skill[0].skill_group",
            "agent[0].skill[1].level",
            "agent[1].extension",
            "customer[0].dtmf",
        ]
    );
    assert_eq!(err.problems().len(), 6, "{text}");
    assert!(
        text.contains("agent[1].extension: `8001` is used twice"),
        "{text}"
    );
    assert!(
        text.contains("no skill group `nope@ccc-emulator`"),
        "{text}"
    );
    assert!(text.contains("11 is outside 1..=10"), "{text}");
    assert!(
        text.contains("`4008000000` is an inbound-only number"),
        "{text}"
    );
    assert!(text.contains("`12x` is not DTMF"), "{text}");
}

#[test]
fn syntax_errors_say_where() {
    let err = Scenario::from_toml_str("[instance]\nid = 3\n").unwrap_err();
    assert!(matches!(err, ScenarioError::Syntax(_)));
    assert!(err.to_string().contains("line 2"), "{err}");
    let unknown = FILE.replace("[platform]", "[platform]\nring_timout_ms = 5");
    let err = Scenario::from_toml_str(&unknown).unwrap_err();
    assert!(err.to_string().contains("ring_timout_ms"), "{err}");
}

#[test]
fn regions_and_scripts() {
    let s = Scenario::default();
    assert_eq!(s.region_of("13820001234"), Some(("Zhejiang", "Hangzhou")));
    assert_eq!(s.region_of("02150000001"), Some(("Shanghai", "Shanghai")));
    assert_eq!(s.region_of("999"), None);
    assert_eq!(s.customer_script("13800000002").outcome, Outcome::Busy);
    assert_eq!(s.customer_script("17000000000"), &s.default_customer);
}

#[test]
fn secrets_never_print() {
    let s = Scenario::default();
    let debug = format!("{s:?}");
    assert!(!debug.contains(&s.instance.access_key_secret), "{debug}");
    assert!(!debug.contains(&s.agents[0].password), "{debug}");
}
