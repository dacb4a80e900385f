//! What `register` learns before the links start: the login info and the data the
//! later methods need, fetched with the independent requests in parallel.

use std::fmt;
use std::sync::Arc;

use ccc_core::ErrorNotify;
use ccc_core::helpers::{
    InputError, LoginSkillGroup, MAX_LOGIN_SKILL_GROUPS, NumberRegion, OutboundNumber,
    SkillGroupOfUser, login_skill_groups,
};
use ccc_media::access_point::AccessPoint;
use ccc_openapi::v2017;

use crate::api::Api;
use crate::error::Error;

/// The login token (`SignData` and `Signature`); never printed.
#[derive(Clone, PartialEq, Eq, Default)]
pub(crate) struct Token {
    pub(crate) sign_data: String,
    pub(crate) signature: String,
    /// The SIP registration's password (`GetLoginDetails`' `Signature2`).
    pub(crate) sip_password: Option<String>,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("sign_data", &self.sign_data)
            .field("signature", &"<redacted>")
            .field(
                "sip_password",
                &self.sip_password.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// `RequestLoginInfo`'s answer, checked.
#[derive(Debug, Clone)]
pub(crate) struct Login {
    pub(crate) extension: String,
    pub(crate) web_rtc_url: String,
    pub(crate) agent_server_url: String,
    pub(crate) user_name: Option<String>,
    pub(crate) display_name: Option<String>,
    pub(crate) region: Option<String>,
    pub(crate) roles: Vec<String>,
}

/// An outbound number of the agent, with what `call` needs to choose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Number {
    pub(crate) number: OutboundNumber,
    /// The virtual (privacy) number bound to it.
    pub(crate) privacy: Option<String>,
}

/// The access points (C39) and the TURN credentials.
#[derive(Debug, Clone, Default)]
pub(crate) struct Access {
    pub(crate) points: Vec<AccessPoint>,
    pub(crate) username: String,
    pub(crate) password: String,
}

impl Access {
    /// The URLs of `region`; `default` (or an unknown region when `strict` is off) is
    /// the first listed.
    pub(crate) fn urls(&self, region: &str) -> Option<&[String]> {
        self.points
            .iter()
            .find(|p| p.region == region)
            .or_else(|| (region == "default").then(|| self.points.first()).flatten())
            .map(|p| p.urls.as_slice())
    }
}

/// What the links need, gathered by `register`'s first step.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) login: Login,
    pub(crate) token: Token,
    pub(crate) platform_config: Vec<(String, String)>,
    /// The access point (TURN region) asked for, checked once the list is in.
    pub(crate) access_point: String,
    /// The machine-wide lock of this agent.
    #[cfg(unix)]
    pub(crate) local: Option<crate::local::LocalLock>,
}

/// What the sign-in and the calls need, gathered while the links come up.
#[derive(Debug)]
pub(crate) struct Data {
    pub(crate) groups: Vec<LoginSkillGroup>,
    pub(crate) numbers: Vec<Number>,
    pub(crate) access: Access,
}

fn missing(field: &str) -> ErrorNotify {
    ErrorNotify::new(
        "RequestLoginInfo",
        ccc_core::ErrorCode::ReloadConfig,
        format!("the login info has no {field}"),
    )
}

fn login_of(
    answer: v2017::RequestLoginInfoResponse,
    sip: bool,
) -> Result<(Login, Token), ErrorNotify> {
    let info = answer.login_info.ok_or_else(|| missing("LoginInfo"))?;
    let nonempty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let login = Login {
        extension: nonempty(info.extension).ok_or_else(|| missing("Extension"))?,
        web_rtc_url: match nonempty(info.web_rtc_url) {
            Some(url) => url,
            None if !sip => String::new(),
            None => return Err(missing("WebRtcUrl")),
        },
        agent_server_url: nonempty(info.agent_server_url)
            .ok_or_else(|| missing("AgentServerUrl"))?,
        user_name: nonempty(info.user_name),
        display_name: nonempty(info.display_name),
        region: nonempty(info.region),
        roles: info
            .roles
            .into_iter()
            .filter_map(|r| r.role_name.or(r.role_id))
            .collect(),
    };
    let token = Token {
        sign_data: info.sign_data.unwrap_or_default(),
        signature: info
            .signature
            .map(|s| s.expose().to_owned())
            .unwrap_or_default(),
        sip_password: None,
    };
    Ok((login, token))
}

/// The skill groups of `ListSkillGroupsOfUser`.
pub(crate) fn skill_groups_of(
    answer: &v2017::ListSkillGroupsOfUserResponse,
) -> Vec<SkillGroupOfUser> {
    answer
        .skill_levels
        .iter()
        .filter_map(|level| {
            let skill = level.skill.as_ref()?;
            Some(SkillGroupOfUser {
                skill_group_id: skill.skill_group_id.clone()?,
                skill_group_name: skill.skill_group_name.clone().unwrap_or_default(),
                level: i32::try_from(level.level.unwrap_or(0)).unwrap_or(0),
            })
        })
        .collect()
}

/// The agent's numbers: those of the signed-in skill groups in their order, then the
/// personal ones, without repeats.
fn numbers_of(
    groups: &[LoginSkillGroup],
    skills: &v2017::ListSkillGroupsOfUserResponse,
    personal: &v2017::ListOutboundPhoneNumberOfUserResponse,
) -> Vec<Number> {
    let mut out: Vec<Number> = Vec::new();
    let mut push = |number: Option<&String>,
                    province: Option<&String>,
                    city: Option<&String>,
                    privacy: Option<String>| {
        let Some(number) = number.filter(|n| !n.is_empty()) else {
            return;
        };
        if let Some(known) = out.iter_mut().find(|n| &n.number.number == number) {
            if known.privacy.is_none() {
                known.privacy = privacy;
            }
            return;
        }
        out.push(Number {
            number: OutboundNumber {
                number: number.clone(),
                region: NumberRegion {
                    province: province.cloned(),
                    city: city.cloned(),
                },
            },
            privacy,
        });
    };
    for group in groups {
        let skill = skills
            .skill_levels
            .iter()
            .filter_map(|l| l.skill.as_ref())
            .find(|s| s.skill_group_id.as_deref() == Some(&group.group_name));
        for n in skill
            .map(|s| s.outbound_phone_numbers.as_slice())
            .unwrap_or_default()
        {
            if n.allow_outbound != Some(false) {
                push(
                    n.number.as_ref(),
                    n.province.as_ref(),
                    n.city.as_ref(),
                    None,
                );
            }
        }
    }
    for n in &personal.outbound_phone_numbers {
        let privacy = n
            .privacy_number
            .as_ref()
            .and_then(|p| p.tel_x.clone().or_else(|| p.phone_number.clone()))
            .filter(|p| !p.is_empty());
        if n.allow_outbound != Some(false) {
            push(
                n.number.as_ref(),
                n.province.as_ref(),
                n.city.as_ref(),
                privacy,
            );
        }
    }
    for n in &personal.number_list {
        push(Some(n), None, None, None);
    }
    out
}

/// The regions of `GetTURNServerList`'s JSON string: an array of objects with `region`
/// and the servers in `urls` (or `url`, `turnServer`, `turnServers`). Anything else is
/// skipped rather than failing the sign-in: without access points calls connect
/// directly.
pub(crate) fn access_points_of(config: &str) -> Vec<AccessPoint> {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(config)
    else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let region = item
                .get("region")
                .or_else(|| item.get("Region"))?
                .as_str()?;
            let mut urls = Vec::new();
            for key in ["urls", "url", "turnServer", "turnServers", "Urls"] {
                match item.get(key) {
                    Some(serde_json::Value::String(u)) => urls.push(u.clone()),
                    Some(serde_json::Value::Array(list)) => {
                        urls.extend(list.iter().filter_map(|u| u.as_str().map(str::to_owned)));
                    }
                    _ => {}
                }
            }
            urls.retain(|u| {
                ["stun:", "turn:", "turns:"]
                    .iter()
                    .any(|s| u.starts_with(s))
            });
            Some(AccessPoint {
                region: region.to_owned(),
                urls,
            })
        })
        .collect()
}

/// `register`'s first step: what the links need, at once: `RequestLoginInfo` (the
/// links' addresses and the token), `GetLoginDetails` (2020: the SIP registration's
/// password) and `ListConfig` (the platform's settings, which the machine's rules
/// need before anything rings).
pub(crate) async fn prepare(api: &Api, sip: bool) -> Result<Prepared, Error> {
    let login = api.send(v2017::RequestLoginInfo::new(api.instance()).user_id(api.user()));
    let details =
        api.send(ccc_openapi::v2020::GetLoginDetails::new(api.instance()).user_id(api.user()));
    let config = api.send(v2017::ListConfig::new(api.instance()));
    let (login, details, config) = tokio::join!(login, details, config);
    let (login, mut token) =
        login_of(login.map_err(Error::Operation)?, sip).map_err(Error::Operation)?;
    token.sip_password = details
        .ok()
        .and_then(|d| d.data)
        .and_then(|d| d.signature2)
        .map(|s| s.expose().to_owned())
        .filter(|s| !s.is_empty());
    // Without the platform's configuration the integrator's config rules alone.
    let platform_config = config
        .map(|c| {
            c.config_items
                .into_iter()
                .filter_map(|i| Some((i.name?, i.value.unwrap_or_default())))
                .collect()
        })
        .unwrap_or_default();
    Ok(Prepared {
        login,
        token,
        platform_config,
        access_point: "default".to_owned(),
        #[cfg(unix)]
        local: None,
    })
}

/// `register`'s second step, beside the links coming up: `ListSkillGroupsOfUser` (the
/// groups to sign in to), `ListOutboundPhoneNumberOfUser`, `GetTURNServerList` and
/// `GetTURNCredentials` (with the login info's user name), at once.
pub(crate) async fn gather(
    api: &Api,
    chosen: Option<Vec<LoginSkillGroup>>,
    user_name: Option<String>,
    access_point: &str,
) -> Result<Data, Error> {
    let skills = api.send(v2017::ListSkillGroupsOfUser::new(
        api.instance(),
        api.user(),
    ));
    let personal = api.send(v2017::ListOutboundPhoneNumberOfUser::new(
        api.instance(),
        api.user(),
    ));
    let turn = api.send(v2017::GetTURNServerList::new(api.instance()));
    let credentials = api.send(v2017::GetTURNCredentials::new(
        api.instance(),
        user_name.unwrap_or_else(|| api.user()),
    ));
    let (skills, personal, turn, credentials) = tokio::join!(skills, personal, turn, credentials);
    let skills = skills.map_err(Error::Operation)?;
    let groups = match chosen {
        Some(groups) if groups.len() > MAX_LOGIN_SKILL_GROUPS => {
            return Err(Error::input(
                "register",
                InputError::TooManySkillGroups(groups.len()),
            ));
        }
        Some(groups) if groups.is_empty() => {
            return Err(Error::input("register", InputError::NotInAnySkillGroup));
        }
        Some(groups) => groups,
        None => {
            login_skill_groups(skill_groups_of(&skills)).map_err(|e| Error::input("register", e))?
        }
    };
    // A missing personal list or TURN list does not stop the sign-in: calls then use
    // the skill groups' numbers, and connect directly.
    let personal = personal.unwrap_or_default();
    let numbers = numbers_of(&groups, &skills, &personal);
    let mut access = Access {
        points: turn
            .ok()
            .and_then(|t| t.turn_server_list_config)
            .map(|c| access_points_of(&c))
            .unwrap_or_default(),
        ..Access::default()
    };
    if access_point != "default" && access.urls(access_point).is_none() {
        let known: Vec<&str> = access.points.iter().map(|p| p.region.as_str()).collect();
        return Err(Error::unavailable(
            "register",
            format!("no access point {access_point:?}; GetTurnServerList lists {known:?}"),
        ));
    }
    if let Ok(c) = credentials {
        access.username = c.username.unwrap_or_default();
        access.password = c
            .password
            .map(|p| p.expose().to_owned())
            .unwrap_or_default();
    }
    Ok(Data {
        groups,
        numbers,
        access,
    })
}

/// What the handle-side methods need of the session, published by the driver.
#[derive(Debug, Clone, Default)]
pub(crate) struct View {
    /// Registered (links up at least once).
    pub(crate) login: Option<Arc<Login>>,
    pub(crate) access: Option<Arc<Access>>,
    pub(crate) access_point: String,
    /// The call in progress, or the last one.
    pub(crate) job_id: Option<Arc<str>>,
    /// The customer's number of that call.
    pub(crate) customer: Option<Arc<str>>,
    /// Whether the last call was an inbound one.
    pub(crate) inbound: bool,
    /// The agent link's address with the login token, for `checkNetwork`.
    pub(crate) link_check: Option<Redacted>,
}

/// A string holding a secret: never printed.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Redacted(pub(crate) String);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_points_read_leniently() {
        let points = access_points_of(
            r#"[{"region":"cn-shanghai","urls":["turn:127.0.0.1:3478","bad"]},{"region":"cn-beijing","url":"turns:x:5349"},{"no":"region"},7]"#,
        );
        assert_eq!(points.len(), 2);
        assert_eq!(points[0].urls, vec!["turn:127.0.0.1:3478".to_owned()]);
        assert_eq!(points[1].region, "cn-beijing");
        assert!(access_points_of("not json").is_empty());
        let access = Access {
            points,
            ..Access::default()
        };
        assert_eq!(access.urls("default").map(<[String]>::len), Some(1));
        assert!(access.urls("cn-hangzhou").is_none());
    }

    #[test]
    fn login_info_must_name_the_links() {
        let answer: v2017::RequestLoginInfoResponse = serde_json::from_str(
            r#"{"LoginInfo":{"Extension":"8001","WebRtcUrl":"ws://h/ws","AgentServerUrl":"","Signature":"s","SignData":"d"}}"#,
        )
        .unwrap();
        let err = login_of(answer, true).unwrap_err();
        assert!(err.msg.contains("AgentServerUrl"));
        let answer: v2017::RequestLoginInfoResponse = serde_json::from_str(
            r#"{"LoginInfo":{"Extension":"8001","WebRtcUrl":"ws://h/ws","AgentServerUrl":"ws://h/a","Signature":"s","SignData":"d","Roles":{"Role":[{"RoleName":"Agent"}]}}}"#,
        )
        .unwrap();
        let (login, token) = login_of(answer, true).unwrap();
        assert_eq!(login.roles, vec!["Agent".to_owned()]);
        assert_eq!(token.signature, "s");
        assert!(!format!("{token:?}").contains("\"s\""));
    }
}
