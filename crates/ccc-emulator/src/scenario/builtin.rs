//! The built-in scenario (the same as `scenario.toml`).

use super::{
    Agent, ConfigItem, Customer, CustomerScript, Instance, NumberRegion, NumberUsage, Outcome,
    PhoneNumber, PlatformRules, Playback, Role, Scenario, ServiceExtension, SkillGroup, SkillLevel,
    SmsTemplate, TurnRegion,
};

fn s(text: &str) -> String {
    text.to_owned()
}

fn agent(n: u32, name: &str, roles: Vec<Role>, skills: &[(&str, u8)]) -> Agent {
    let extension = format!("80{n:02}");
    Agent {
        user_id: format!("{name}@ccc-emulator"),
        login_name: s(name),
        display_name: format!("{}{}", name[..1].to_uppercase(), &name[1..]),
        password: format!("pass-{extension}"),
        ram_id: 200_000_000_000_000 + i64::from(n),
        mobile: Some(format!("139000080{n:02}")),
        roles,
        skills: skills
            .iter()
            .map(|(group, level)| SkillLevel {
                skill_group: format!("{group}@ccc-emulator"),
                level: *level,
            })
            .collect(),
        access_key_id: None,
        access_key_secret: None,
        extension,
    }
}

fn number(
    number: &str,
    province: &str,
    city: &str,
    usage: NumberUsage,
    group: Option<&str>,
) -> PhoneNumber {
    PhoneNumber {
        number: s(number),
        province: s(province),
        city: s(city),
        usage,
        description: String::new(),
        inbound_skill_group: group.map(|g| format!("{g}@ccc-emulator")),
    }
}

fn region(prefix: &str, province: &str, city: &str) -> NumberRegion {
    NumberRegion {
        prefix: s(prefix),
        province: s(province),
        city: s(city),
    }
}

fn customer(number: &str, script: CustomerScript) -> Customer {
    Customer {
        number: s(number),
        script,
    }
}

impl Default for Scenario {
    /// One instance (`ccc-emulator` in `cn-shanghai`) with three agents and a
    /// supervisor, three skill groups with levels, hotlines and outbound numbers in
    /// Shanghai, Beijing and Hangzhou, the satisfaction survey extension, two SMS
    /// templates, two TURN regions (embedded servers) and a few scripted customer lines.
    fn default() -> Self {
        use Role::{Admin, Agent as A, Supervisor};
        Self {
            instance: Instance {
                id: s("ccc-emulator"),
                region: s("cn-shanghai"),
                tenant_id: s("1234567890123456"),
                access_key_id: s("LTAIemulatorAdmin"),
                access_key_secret: s("emulator-admin-secret"),
            },
            platform: PlatformRules::default(),
            skill_groups: vec![
                SkillGroup {
                    id: s("sales@ccc-emulator"),
                    name: s("Sales"),
                    description: s("New customers and orders"),
                    outbound_numbers: vec![s("02150000001"), s("01050000002")],
                },
                SkillGroup {
                    id: s("support@ccc-emulator"),
                    name: s("Support"),
                    description: s("Help with existing orders"),
                    outbound_numbers: vec![s("057150000003")],
                },
                SkillGroup {
                    id: s("vip@ccc-emulator"),
                    name: s("VIP"),
                    description: s("Priority customers"),
                    outbound_numbers: vec![s("02150000001")],
                },
            ],
            agents: vec![
                agent(1, "alice", vec![A], &[("sales", 5), ("support", 3)]),
                agent(2, "bob", vec![A], &[("sales", 8)]),
                agent(3, "carol", vec![A], &[("support", 5), ("vip", 7)]),
                agent(
                    9,
                    "sam",
                    vec![A, Supervisor, Admin],
                    &[("sales", 1), ("support", 1), ("vip", 1)],
                ),
            ],
            numbers: vec![
                number(
                    "02150000001",
                    "Shanghai",
                    "Shanghai",
                    NumberUsage::Bidirection,
                    Some("sales"),
                ),
                number(
                    "01050000002",
                    "Beijing",
                    "Beijing",
                    NumberUsage::Outbound,
                    None,
                ),
                number(
                    "057150000003",
                    "Zhejiang",
                    "Hangzhou",
                    NumberUsage::Bidirection,
                    Some("support"),
                ),
                number(
                    "4008000000",
                    "Shanghai",
                    "Shanghai",
                    NumberUsage::Inbound,
                    Some("vip"),
                ),
            ],
            number_regions: vec![
                region("1380000", "Shanghai", "Shanghai"),
                region("1390000", "Shanghai", "Shanghai"),
                region("1381000", "Beijing", "Beijing"),
                region("1382000", "Zhejiang", "Hangzhou"),
                region("1383000", "Zhejiang", "Ningbo"),
                region("021", "Shanghai", "Shanghai"),
                region("010", "Beijing", "Beijing"),
                region("0571", "Zhejiang", "Hangzhou"),
            ],
            service_extensions: vec![ServiceExtension {
                service_type: s("Satisfaction"),
                name: s("Satisfaction survey"),
                number: s("9999"),
            }],
            sms_templates: vec![
                SmsTemplate {
                    id: 1,
                    name: s("Satisfaction"),
                    scenario: 1,
                    sign_name: s("CCC Emulator"),
                    template_code: s("SMS_100000001"),
                    text: s("How did we do? Reply 1 (poor) to 5 (excellent)."),
                    description: s("Satisfaction survey after a call"),
                },
                SmsTemplate {
                    id: 2,
                    name: s("MissedCall"),
                    scenario: 2,
                    sign_name: s("CCC Emulator"),
                    template_code: s("SMS_100000002"),
                    text: s("Sorry we missed your call. We will call you back at ${time}."),
                    description: s("Missed-call notice"),
                },
            ],
            config_items: vec![
                ConfigItem {
                    name: s("AutoAnswer"),
                    value: s("false"),
                },
                ConfigItem {
                    name: s("AfterCallWorkDuration"),
                    value: s("15"),
                },
            ],
            turn_regions: ["cn-shanghai", "cn-beijing"]
                .into_iter()
                .map(|region| TurnRegion {
                    region: s(region),
                    urls: Vec::new(),
                    username: None,
                    password: None,
                    secret: None,
                })
                .collect(),
            customers: vec![
                customer(
                    "13800000001",
                    CustomerScript {
                        answer_after_ms: 500,
                        ..CustomerScript::default()
                    },
                ),
                customer(
                    "13800000002",
                    CustomerScript {
                        outcome: Outcome::Busy,
                        ..CustomerScript::default()
                    },
                ),
                customer(
                    "13800000003",
                    CustomerScript {
                        outcome: Outcome::NoAnswer,
                        ..CustomerScript::default()
                    },
                ),
                customer(
                    "13800000004",
                    CustomerScript {
                        answer_after_ms: 500,
                        hangup_after_ms: Some(5_000),
                        play: Playback::Tone { hz: 1_000 },
                        dtmf: Some(s("1234#")),
                        ..CustomerScript::default()
                    },
                ),
            ],
            default_customer: CustomerScript::default(),
        }
    }
}
