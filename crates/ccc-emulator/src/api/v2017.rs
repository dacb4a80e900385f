//! The 2017-07-05 actions of the guide's table (A1-A28) and the others it names.
//! Field trees follow `../shared/openapi/apis.md`; every list is wrapped as CCC's JSON
//! wraps it (`{"SkillLevels":{"SkillLevel":[..]}}`), empty lists included.

use std::time::Instant;

use base64::Engine as _;
use ccc_core::model::UserState;
use serde_json::{Value, json};

use super::params::page_of;
use super::store::{AgentDevice, Fault, PrivacyCall};
use super::v2020::{TURN_TTL_S, turn_credentials, turn_list};
use super::{ApiRequest, Context, unknown_action, wrap};
use crate::platform::{
    AgentId, AgentPart, CallRecord, Command, Platform, PlatformError, Principal, Recording,
};
use crate::scenario::{NumberUsage, PhoneNumber, Scenario};

/// The realtime state names of `ListRealTimeAgent` / `ListAgentStates`.
fn state_name(state: &UserState) -> &'static str {
    match state {
        UserState::Ready => "Ready",
        UserState::Break => "Break",
        UserState::Working => "ACW",
        UserState::Ringing => "Ringing",
        UserState::Dialing => "Dialing",
        UserState::Talking => "Talking",
        _ => "Offline",
    }
}

fn state_desc(state: &UserState) -> &'static str {
    match state {
        UserState::Ready => "空闲",
        UserState::Break => "小休",
        UserState::Working => "话后处理",
        UserState::Ringing => "振铃",
        UserState::Dialing => "拨号",
        UserState::Talking => "通话中",
        _ => "离线",
    }
}

fn usage(u: NumberUsage) -> &'static str {
    match u {
        NumberUsage::Bidirection => "Bidirection",
        NumberUsage::Inbound => "Inbound",
        _ => "Outbound",
    }
}

fn phone_number(s: &Scenario, n: &PhoneNumber) -> Value {
    json!({
        "AllowOutbound": n.usage.allows_outbound(),
        "City": n.city,
        "InstanceId": s.instance.id,
        "Number": n.number,
        "PhoneNumberDescription": n.description,
        "PhoneNumberId": format!("number-{}", n.number),
        "PrivateFlag": false,
        "Province": n.province,
        "RemainingTime": 0,
        "SipTelX": "",
        "TestOnly": false,
        "Trunks": 30,
        "Usage": usage(n.usage),
    })
}

fn region(s: &Scenario, number: &str) -> Value {
    let (province, city) = s.region_of(number).unwrap_or(("", ""));
    json!({ "City": city, "Number": number, "Province": province })
}

fn skill_levels(platform: &Platform, agent: AgentId, with_numbers: bool) -> Value {
    let s = platform.scenario();
    let spec = &s.agents[agent.0];
    let items = spec
        .skills
        .iter()
        .filter_map(|level| {
            let g = s.skill_group(&level.skill_group)?;
            let mut skill = json!({
                "InstanceId": s.instance.id,
                "RoutingStrategy": "LongestIdle",
                "SkillGroupDescription": g.description,
                "SkillGroupId": g.id,
                "SkillGroupName": g.name,
            });
            if with_numbers {
                let numbers = g
                    .outbound_numbers
                    .iter()
                    .filter_map(|n| s.number(n))
                    .map(|n| phone_number(s, n))
                    .collect();
                skill["OutboundPhoneNumbers"] = wrap("PhoneNumber", numbers);
            }
            Some(json!({
                "Level": level.level,
                "Skill": skill,
                "SkillLevelId": format!("{}:{}", spec.user_id, g.id),
            }))
        })
        .collect();
    wrap("SkillLevel", items)
}

fn recording(s: &Scenario, r: &Recording, full: bool) -> Value {
    let mut v = json!({
        "AgentId": r.agent_id,
        "AgentName": r.agent_name,
        "ContactId": r.contact_id,
        "Duration": r.duration_s,
        "FileDescription": "stereo: agent left, customer right",
        "FileName": r.file_name,
        "QualityCheckTaskId": "",
        "QualityCheckTid": "",
        "StartTime": r.start_ms,
    });
    if full {
        v["CalledNumber"] = r.called.as_ref().into();
        v["CallingNumber"] = r.calling.as_ref().into();
        v["Channel"] = "Stereo".into();
        v["ContactType"] = r.contact_type.into();
        v["FilePath"] = format!("/recordings/{}", r.file_name).into();
        v["InstanceId"] = s.instance.id.as_str().into();
    }
    v
}

/// A call record as `ListRecentCallRecords` (`recent`) or `ListCallDetailRecords` has it.
fn call_record(s: &Scenario, c: &CallRecord, recent: bool) -> Value {
    let names: Vec<&str> = c.agents.iter().map(|a| &*a.display_name).collect();
    let group_names: Vec<&str> = c
        .skill_groups
        .iter()
        .filter_map(|g| s.skill_group(g).map(|g| g.name.as_str()))
        .collect();
    let satisfaction = c.satisfaction.map(|r| r.to_string()).unwrap_or_default();
    let agents = c
        .agents
        .iter()
        .map(|a| {
            let mut v = json!({
                "AgentId": a.user_id,
                "Feedback": "",
                "Satisfaction": satisfaction,
            });
            if recent {
                let secs = |ms: u64| ms / 1_000;
                v["AgentName"] = a.display_name.as_ref().into();
                v["ContactId"] = c.contact_id.as_ref().into();
                v["HoldTime"] = secs(a.hold_ms).into();
                v["QueueTime"] = secs(a.queue_ms).into();
                v["RingTime"] = secs(a.ring_ms).into();
                v["SkillGroupName"] = a
                    .skill_group
                    .as_deref()
                    .and_then(|g| s.skill_group(g))
                    .map_or("", |g| g.name.as_str())
                    .into();
                v["StartTime"] = a.start_ms.into();
                v["TalkTime"] = secs(a.talk_ms).into();
                v["WorkTime"] = secs(a.work_ms).into();
            }
            v
        })
        .collect();
    let recordings = c
        .recording
        .iter()
        .map(|r| recording(s, r, recent))
        .collect();
    let mut v = json!({
        "AgentNames": names.join(","),
        "Agents": wrap("CallDetailAgent", agents),
        "CalledNumber": c.called,
        "CallingNumber": c.calling,
        "ContactDisposition": c.disposition,
        "ContactId": c.contact_id,
        "ContactType": c.contact_type,
        "Duration": c.duration_s,
        "Feedback": "",
        "InstanceId": s.instance.id,
        "Recordings": wrap("Recording", recordings),
        "Satisfaction": c.satisfaction.map_or(Value::Null, Value::from),
        "SatisfactionDesc": c.satisfaction.map_or("", |r| if r >= 4 { "Satisfied" } else { "Unsatisfied" }),
        "SkillGroupNames": group_names.join(","),
        "StartTime": c.start_ms,
    });
    if recent {
        v["ExtraAttr"] = "".into();
    } else {
        let ids: Vec<&str> = c.skill_groups.iter().map(|g| &**g).collect();
        v["SkillGroupIdList"] = ids.join(",").into();
    }
    v
}

/// The records `principal` may read: all for administrators, else the agent's own.
fn visible(platform: &Platform, principal: Principal) -> Vec<&CallRecord> {
    let mine = match principal {
        Principal::Agent(a) if !platform.is_admin(principal) => Some(platform.user_id(a).clone()),
        _ => None,
    };
    platform
        .records()
        .calls
        .iter()
        .rev()
        .filter(|c| mine.as_deref().is_none_or(|me| c.involves(me)))
        .collect()
}

fn may_read(
    platform: &Platform,
    principal: Principal,
    record: &CallRecord,
) -> Result<(), PlatformError> {
    match principal {
        Principal::Agent(a)
            if !platform.is_admin(principal) && !record.involves(platform.user_id(a)) =>
        {
            Err(PlatformError::forbidden(
                "agents may only read their own calls",
            ))
        }
        _ => Ok(()),
    }
}

/// `20240102` or `2024-01-02` as the Unix milliseconds of that day's start (UTC).
fn day_start_ms(name: &str, text: &str) -> Result<i64, PlatformError> {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let bad = || PlatformError::invalid(name, format_args!("`{text}` is not a date like 20240102"));
    if digits.len() != 8 {
        return Err(bad());
    }
    let year: i32 = digits[..4].parse().map_err(|_| bad())?;
    let month: u8 = digits[4..6].parse().map_err(|_| bad())?;
    let day: u8 = digits[6..].parse().map_err(|_| bad())?;
    let month = time::Month::try_from(month).map_err(|_| bad())?;
    let date = time::Date::from_calendar_date(year, month, day).map_err(|_| bad())?;
    Ok(date.midnight().assume_utc().unix_timestamp() * 1_000)
}

/// One call of an agent, for the statistics.
#[derive(Clone, Copy)]
struct Sample<'a> {
    record: &'a CallRecord,
    part: &'a AgentPart,
}

/// Sums, maxima, averages (in seconds) and survey figures over some calls.
struct Figures<'a>(Vec<Sample<'a>>);

impl<'a> Figures<'a> {
    fn only(&self, keep: impl Fn(&Sample<'a>) -> bool) -> Self {
        Self(self.0.iter().copied().filter(|s| keep(s)).collect())
    }
    fn n(&self) -> usize {
        self.0.len()
    }
    fn total(&self, f: fn(&AgentPart) -> u64) -> u64 {
        self.0.iter().map(|s| f(s.part)).sum::<u64>() / 1_000
    }
    fn most(&self, f: fn(&AgentPart) -> u64) -> u64 {
        self.0.iter().map(|s| f(s.part)).max().unwrap_or(0) / 1_000
    }
    fn average(&self, f: fn(&AgentPart) -> u64) -> u64 {
        match self.n() {
            0 => 0,
            n => self.total(f) / n as u64,
        }
    }
    /// How many were rated, and the mean rating as a fraction of the best (5).
    fn survey(&self) -> (usize, f64) {
        let rated: Vec<f64> = self
            .0
            .iter()
            .filter_map(|s| s.record.satisfaction.map(f64::from))
            .collect();
        let index = if rated.is_empty() {
            0.0
        } else {
            rated.iter().sum::<f64>() / rated.len() as f64 / 5.0
        };
        (rated.len(), index)
    }
}

fn rate(part: usize, of: usize) -> f64 {
    if of == 0 {
        0.0
    } else {
        part as f64 / of as f64
    }
}

fn talk(a: &AgentPart) -> u64 {
    a.talk_ms
}
fn hold(a: &AgentPart) -> u64 {
    a.hold_ms
}
fn ring(a: &AgentPart) -> u64 {
    a.ring_ms
}
fn work(a: &AgentPart) -> u64 {
    a.work_ms
}

/// `GenerateAgentStatisticReport`'s figures for one agent over `records`.
fn statistics(
    platform: &Platform,
    now: Instant,
    agent: AgentId,
    records: &[&CallRecord],
    date: &str,
) -> Value {
    let user = platform.user_id(agent).clone();
    let spec = &platform.scenario().agents[agent.0];
    let all = Figures(
        records
            .iter()
            .flat_map(|record| {
                record
                    .agents
                    .iter()
                    .filter(|a| a.user_id == user)
                    .map(move |part| Sample { record, part })
            })
            .collect(),
    );
    let inbound = all.only(|s| !s.part.outbound);
    let handled = inbound.only(|s| s.part.answered);
    let outbound = all.only(|s| s.part.outbound);
    let answered = outbound.only(|s| s.record.disposition == "Success");
    let (in_rated, in_index) = inbound.survey();
    let (out_rated, out_index) = outbound.survey();
    let (all_rated, all_index) = all.survey();
    let [logged_in, ready, breaks, _work] = platform.state_times(now, agent);
    let names: Vec<&str> = spec
        .skills
        .iter()
        .filter_map(|s| {
            platform
                .scenario()
                .skill_group(&s.skill_group)
                .map(|g| g.name.as_str())
        })
        .collect();
    let ids: Vec<&str> = spec.skills.iter().map(|s| s.skill_group.as_str()).collect();
    json!({
        "AgentId": spec.user_id,
        "AgentName": spec.display_name,
        "AverageReadyTime": ready.as_secs(),
        "Inbound": {
            "AverageHoldTime": handled.average(hold),
            "AverageRingTime": inbound.average(ring),
            "AverageTalkTime": handled.average(talk),
            "AverageWorkTime": handled.average(work),
            "CallsHandled": handled.n(),
            "CallsOffered": inbound.n(),
            "HandleRate": rate(handled.n(), inbound.n()),
            "MaxHoldTime": handled.most(hold),
            "MaxRingTime": inbound.most(ring),
            "MaxTalkTime": handled.most(talk),
            "MaxWorkTime": handled.most(work),
            "SatisfactionIndex": in_index,
            "SatisfactionSurveysOffered": in_rated,
            "SatisfactionSurveysResponded": in_rated,
            "TotalHoldTime": handled.total(hold),
            "TotalRingTime": inbound.total(ring),
            "TotalTalkTime": handled.total(talk),
            "TotalWorkTime": handled.total(work),
        },
        "InstanceId": platform.instance_id(),
        "LoginName": spec.login_name,
        "MaxReadyTime": ready.as_secs(),
        "OccupancyRate": if logged_in.as_secs() == 0 { 0.0 } else { all.total(talk) as f64 / logged_in.as_secs() as f64 },
        "Outbound": {
            "AnswerRate": rate(answered.n(), outbound.n()),
            "AverageDialingTime": outbound.average(ring),
            "AverageHoldTime": answered.average(hold),
            "AverageTalkTime": answered.average(talk),
            "AverageWorkTime": outbound.average(work),
            "CallsAnswered": answered.n(),
            "CallsDialed": outbound.n(),
            "MaxDialingTime": outbound.most(ring),
            "MaxHoldTime": answered.most(hold),
            "MaxTalkTime": answered.most(talk),
            "MaxWorkTime": outbound.most(work),
            "SatisfactionIndex": out_index,
            "SatisfactionSurveysOffered": out_rated,
            "SatisfactionSurveysResponded": out_rated,
            "TotalDialingTime": outbound.total(ring),
            "TotalHoldTime": answered.total(hold),
            "TotalTalkTime": answered.total(talk),
            "TotalWorkTime": outbound.total(work),
        },
        "Overall": {
            "AverageHoldTime": all.average(hold),
            "AverageTalkTime": all.average(talk),
            "AverageWorkTime": all.average(work),
            "MaxHoldTime": all.most(hold),
            "MaxTalkTime": all.most(talk),
            "MaxWorkTime": all.most(work),
            "SatisfactionIndex": all_index,
            "SatisfactionSurveysOffered": all_rated,
            "SatisfactionSurveysResponded": all_rated,
            "TotalCalls": all.n(),
            "TotalHoldTime": all.total(hold),
            "TotalTalkTime": all.total(talk),
            "TotalWorkTime": all.total(work),
        },
        "RecordDate": date,
        "SkillGroupIds": ids.join(","),
        "SkillGroupNames": names.join(","),
        "TotalBreakTime": breaks.as_secs(),
        "TotalLoggedInTime": logged_in.as_secs(),
        "TotalReadyTime": ready.as_secs(),
    })
}

/// The agent the request is about: `UserId` when the action has one (or a proxy sent
/// it along), else the key's own agent.
fn agent_of(platform: &Platform, req: &ApiRequest) -> Result<AgentId, PlatformError> {
    platform.resolve(req.principal, req.params.opt("UserId"))
}

/// The agent in call `job` (for the 2017 actions that name only the call).
fn agent_in(platform: &Platform, job: &str) -> Result<AgentId, PlatformError> {
    platform
        .agents()
        .iter()
        .position(|a| a.job_id.as_deref() == Some(job))
        .map(AgentId)
        .ok_or_else(|| PlatformError::no_job(job))
}

/// The reversible stand-in for `Encrypt` (the emulator does not encrypt; it marks).
pub(crate) const ENCRYPT_PREFIX: &str = "ccc-emulator:";

pub(super) fn handle(
    platform: &mut Platform,
    ctx: &mut Context<'_>,
    now: Instant,
    req: &ApiRequest,
) -> Result<Value, PlatformError> {
    let p = &req.params;
    let s = platform.scenario().clone();
    match req.action.as_str() {
        "ListOutboundPhoneNumberOfUser" => {
            let agent = platform.resolve(req.principal, Some(p.req("UserId")?))?;
            let (number, size) = p.page(false)?;
            let all: Vec<Value> = platform
                .outbound_numbers(agent)
                .iter()
                .filter_map(|n| s.number(n))
                .map(|n| phone_number(&s, n))
                .collect();
            let numbers: Vec<Value> = all.iter().map(|n| n["Number"].clone()).collect();
            Ok(json!({
                "OutboundPhoneNumbers": wrap("PhoneNumber", page_of(&all, number, size).to_vec()),
                "NumberList": wrap("Number", numbers),
            }))
        }
        "ListSkillGroupsOfUser" => {
            let agent = platform.resolve(req.principal, Some(p.req("UserId")?))?;
            Ok(json!({ "SkillLevels": skill_levels(platform, agent, true) }))
        }
        "ListRecentCallRecords" => {
            let (number, size) = p.page(true)?;
            let criteria = p.opt("Criteria");
            let (start, stop) = (p.int("StartTime")?, p.int("StopTime")?);
            let list: Vec<&CallRecord> = visible(platform, req.principal)
                .into_iter()
                .filter(|c| criteria.is_none_or(|q| c.calling.contains(q) || c.called.contains(q)))
                .filter(|c| {
                    start.is_none_or(|t| c.start_ms >= t) && stop.is_none_or(|t| c.start_ms <= t)
                })
                .collect();
            let page: Vec<Value> = page_of(&list, number, size)
                .iter()
                .map(|c| call_record(&s, c, true))
                .collect();
            let mut records = json!({
                "List": wrap("CallDetailRecord", page),
                "PageNumber": number,
                "PageSize": size,
            });
            // The guide: only page 1 carries totalCount (it is slow to count).
            if number == 1 {
                records["TotalCount"] = list.len().into();
            }
            Ok(json!({ "CallDetailRecords": records }))
        }
        "ListCallDetailRecords" => {
            let (number, size) = p.page(true)?;
            let (start, stop) = (p.int("StartTime")?, p.int("StopTime")?);
            let with_recording = p.bool("WithRecording")?;
            let list: Vec<&CallRecord> = visible(platform, req.principal)
                .into_iter()
                .filter(|c| p.opt("ContactId").is_none_or(|id| &*c.contact_id == id))
                .filter(|c| {
                    p.opt("ContactType")
                        .is_none_or(|t| c.contact_type.eq_ignore_ascii_case(t))
                })
                .filter(|c| {
                    p.opt("ContactDisposition")
                        .is_none_or(|d| c.disposition.eq_ignore_ascii_case(d))
                })
                .filter(|c| {
                    p.opt("PhoneNumber")
                        .or(p.opt("Criteria"))
                        .is_none_or(|q| c.calling.contains(q) || c.called.contains(q))
                })
                .filter(|c| {
                    start.is_none_or(|t| c.start_ms >= t) && stop.is_none_or(|t| c.start_ms <= t)
                })
                .filter(|c| with_recording.is_none_or(|w| w == c.recording.is_some()))
                .collect();
            let mut list = list;
            if p.opt("OrderBy")
                .is_some_and(|o| o.eq_ignore_ascii_case("asc"))
            {
                list.reverse();
            }
            let page: Vec<Value> = page_of(&list, number, size)
                .iter()
                .map(|c| call_record(&s, c, false))
                .collect();
            Ok(json!({ "CallDetailRecords": {
                "List": wrap("CallDetailRecord", page),
                "PageNumber": number,
                "PageSize": size,
                "TotalCount": list.len(),
            }}))
        }
        "ListConfig" => {
            let wanted = p.list("ConfigItem")?;
            let items = s
                .config_items
                .iter()
                .filter(|c| wanted.is_empty() || wanted.contains(&c.name))
                .map(|c| json!({ "Name": c.name, "Value": c.value }))
                .collect();
            Ok(json!({ "ConfigItems": wrap("ConfigItem", items) }))
        }
        "GetServiceExtensions" => {
            let kind = p.req("ServiceType")?;
            let items = s
                .service_extensions
                .iter()
                .filter(|e| e.service_type.eq_ignore_ascii_case(kind))
                .map(|e| json!({ "Name": e.name, "Number": e.number }))
                .collect();
            Ok(json!({ "ServiceExtensions": wrap("ServiceExtension", items) }))
        }
        "LaunchAppraise" => {
            let job = p.req("Acid")?;
            let agent = agent_in(platform, job)?;
            let user = platform.user_id(agent).to_string();
            platform.command(
                now,
                req.principal,
                Some(&user),
                Command::LaunchSurvey {
                    job_id: job.to_owned(),
                },
            )?;
            Ok(json!({}))
        }
        "GetSmsConfig" => {
            let scenarios = p.list("Scenario")?;
            if scenarios.is_empty() {
                return Err(PlatformError::blank("Scenario"));
            }
            let wanted: Vec<i64> = scenarios
                .iter()
                .map(|v| {
                    v.trim().parse::<i64>().map_err(|_| {
                        PlatformError::invalid("Scenario", format_args!("`{v}` is not an integer"))
                    })
                })
                .collect::<Result<_, _>>()?;
            let items = s
                .sms_templates
                .iter()
                .filter(|t| wanted.contains(&t.scenario))
                .map(|t| {
                    json!({
                        "Description": t.description,
                        "Extra": "",
                        "GmtCreate": "2024-01-01 00:00:00",
                        "GmtModified": "2024-01-01 00:00:00",
                        "Id": t.id,
                        "Instance": s.instance.id,
                        "Name": t.name,
                        "Scenario": t.scenario,
                        "SignName": t.sign_name,
                        "TemplateCode": t.template_code,
                    })
                })
                .collect();
            Ok(json!({ "SmsConfigs": wrap("SmsConfig", items) }))
        }
        "RequestLoginInfo" => {
            let agent = agent_of(platform, req)?;
            let spec = s.agents[agent.0].clone();
            let token = issue(ctx, &s, &spec.user_id, &spec.extension);
            let roles = spec
                .roles
                .iter()
                .map(|r| {
                    json!({
                        "InstanceId": s.instance.id,
                        "RoleDescription": format!("{r:?}"),
                        "RoleId": r.id(),
                        "RoleName": format!("{r:?}"),
                    })
                })
                .collect();
            Ok(json!({ "LoginInfo": {
                "AgentServerUrl": ctx.urls.agent_server,
                "DisplayName": spec.display_name,
                "Extension": spec.extension,
                "PhoneNumber": spec.mobile.unwrap_or_default(),
                "Region": s.instance.region,
                "Roles": wrap("Role", roles),
                "SignData": token.sign_data,
                "Signature": token.signature,
                "TenantId": s.instance.tenant_id,
                "UserName": spec.login_name,
                "WebRtcUrl": ctx.urls.sip_ws,
            }}))
        }
        "RefreshToken" => {
            let agent = agent_of(platform, req)?;
            let spec = &s.agents[agent.0];
            let token = issue(ctx, &s, &spec.user_id, &spec.extension);
            Ok(json!({ "Token": { "SignData": token.sign_data, "Signature": token.signature } }))
        }
        "PickGlobalOutboundNumbers" => {
            let callee = p.req("CalleeNumber")?;
            let groups = p.list("SkillGroupId")?;
            if groups.is_empty() {
                return Err(PlatformError::blank("SkillGroupId"));
            }
            let count = usize::try_from(p.int("Count")?.unwrap_or(1).clamp(1, 100)).unwrap_or(1);
            let mut numbers: Vec<&PhoneNumber> = Vec::new();
            for g in &groups {
                let group = s
                    .skill_group(g)
                    .ok_or_else(|| PlatformError::no_skill_group(g))?;
                for n in group.outbound_numbers.iter().filter_map(|n| s.number(n)) {
                    if !numbers.iter().any(|x| x.number == n.number) {
                        numbers.push(n);
                    }
                }
            }
            let (province, city) = s.region_of(callee).unwrap_or(("", ""));
            numbers.sort_by_key(|n| (n.city != city, n.province != province));
            let pairs = numbers
                .into_iter()
                .take(count)
                .map(|n| json!({ "Callee": region(&s, callee), "Caller": region(&s, &n.number) }))
                .collect();
            Ok(json!({ "DialNumberPairs": wrap("DialNumberPair", pairs) }))
        }
        "GetNumberRegionInfo" => {
            let number = p.req("Number")?;
            Ok(json!({ "PhoneNumber": region(&s, number) }))
        }
        "PickLocalNumber" => {
            let callee = p.req("CalleeNumber")?;
            let candidates = p.list("CandidateNumber")?;
            if candidates.is_empty() {
                return Err(PlatformError::blank("CandidateNumber"));
            }
            let (province, city) = s.region_of(callee).unwrap_or(("", ""));
            let best = candidates
                .iter()
                .min_by_key(|c| {
                    let (p2, c2) = s.region_of(c).unwrap_or(("", ""));
                    (c2 != city, p2 != province)
                })
                .cloned()
                .unwrap_or_default();
            Ok(json!({ "Data": { "Callee": region(&s, callee), "Caller": region(&s, &best) } }))
        }
        "ListRealTimeAgent" => {
            let users = platform
                .agents()
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    let spec = &s.agents[i];
                    json!({
                        "DisplayName": spec.display_name,
                        "Dn": spec.extension,
                        "Phone": spec.mobile.clone().unwrap_or_default(),
                        "RamId": spec.ram_id.to_string(),
                        "SkillLevels": skill_levels(platform, AgentId(i), false),
                        "State": state_name(&a.state),
                        "StateDesc": state_desc(&a.state),
                    })
                })
                .collect();
            Ok(json!({ "Data": wrap("User", users) }))
        }
        "ListAgentStates" => {
            let (number, size) = p.page(false)?;
            let ids: Vec<&str> = p
                .opt("AgentIds")
                .map(|a| a.split(',').map(str::trim).collect())
                .unwrap_or_default();
            let list: Vec<Value> = platform
                .agents()
                .iter()
                .enumerate()
                .filter(|(_, a)| ids.is_empty() || ids.contains(&&*a.user_id))
                .filter(|(_, a)| {
                    p.opt("SkillGroupId")
                        .is_none_or(|g| a.signed_groups.iter().any(|x| &**x == g))
                })
                .filter(|(_, a)| {
                    p.opt("State")
                        .is_none_or(|st| st.eq_ignore_ascii_case(state_name(&a.state)))
                })
                .map(|(i, a)| {
                    let spec = &s.agents[i];
                    json!({
                        "AgentId": spec.user_id,
                        "AgentName": spec.display_name,
                        "Dn": spec.extension,
                        "InstanceId": s.instance.id,
                        "LoginName": spec.login_name,
                        "State": state_name(&a.state),
                        "StateDuration": platform.state_seconds(now, AgentId(i)).to_string(),
                    })
                })
                .collect();
            Ok(json!({ "Data": {
                "List": wrap("RealTimeAgentState", page_of(&list, number, size).to_vec()),
                "PageNumber": number,
                "PageSize": size,
                "TotalCount": list.len(),
            }}))
        }
        "ListRecordingsByContactId" => {
            let contact = p.req("ContactId")?;
            let items = match platform.records().call(contact) {
                Some(record) => {
                    may_read(platform, req.principal, record)?;
                    record
                        .recording
                        .iter()
                        .map(|r| recording(&s, r, true))
                        .collect()
                }
                None => Vec::new(),
            };
            Ok(json!({ "Recordings": wrap("Recording", items) }))
        }
        "DownloadRecording" => {
            let file = p.req("FileName")?;
            let record = platform
                .records()
                .calls
                .iter()
                .rev()
                .find(|c| c.recording.as_ref().is_some_and(|r| &*r.file_name == file))
                .ok_or_else(|| PlatformError::not_found("recording", file))?;
            may_read(platform, req.principal, record)?;
            let expires = ctx.now_ms / 1_000 + 3_600;
            let signature = ctx.tokens.sign_link(file, expires);
            let url = format!(
                "{}recordings/{file}?Expires={expires}&Signature={signature}",
                ctx.urls.api
            );
            Ok(json!({ "MediaDownloadParam": { "FileName": file, "SignatureUrl": url } }))
        }
        "GenerateAgentStatisticReport" => {
            let (number, size) = p.page(true)?;
            let start = day_start_ms("StartDate", p.req("StartDate")?)?;
            let end = day_start_ms("EndDate", p.req("EndDate")?)? + 86_400_000;
            let agents: Vec<AgentId> = match p.opt("AgentId") {
                Some(user) => vec![platform.resolve(req.principal, Some(user))?],
                None if platform.is_admin(req.principal) => {
                    (0..s.agents.len()).map(AgentId).collect()
                }
                None => vec![platform.resolve(req.principal, None)?],
            };
            let records: Vec<&CallRecord> = platform
                .records()
                .calls
                .iter()
                .filter(|c| c.start_ms >= start && c.start_ms < end)
                .collect();
            let date = p.req("StartDate")?;
            let all: Vec<Value> = agents
                .iter()
                .map(|a| statistics(platform, now, *a, &records, date))
                .collect();
            Ok(json!({ "DataList": {
                "List": wrap("GenerateAgentStatistic", page_of(&all, number, size).to_vec()),
                "PageNumber": number,
                "PageSize": size,
                "TotalCount": all.len(),
            }}))
        }
        "LaunchShortMessageAppraise" => {
            let acid = p.req("Acid")?;
            p.req_int("ContactType")?;
            let numbers = p.req("PhoneNumbers")?;
            platform.sms_appraise(now, acid, numbers)?;
            Ok(json!({}))
        }
        "SendPredefinedShortMessage" => {
            let id = p.req_int("ConfigId")?;
            let numbers = p.req("PhoneNumbers")?;
            let biz = platform.send_sms(now, id, numbers, p.opt("TemplateParam"))?;
            Ok(json!({ "BizId": biz }))
        }
        "CallOnlinePrivacyNumber" => {
            let tel_a = p.req("TelA")?.to_owned();
            let tel_b = p.req("TelB")?.to_owned();
            let tel_x = s
                .numbers
                .iter()
                .find(|n| n.usage.allows_outbound())
                .map(|n| n.number.clone())
                .ok_or_else(|| PlatformError::no_number("(privacy pool)"))?;
            let call_id = format!("privacy-{}", ctx.store.next_id());
            ctx.store.add_privacy(PrivacyCall {
                call_id: call_id.clone(),
                tel_a,
                tel_b,
                tel_x: tel_x.clone(),
                contact_id: None,
            });
            let created = time::OffsetDateTime::from_unix_timestamp(ctx.now_ms / 1_000)
                .map(|t| t.unix_timestamp().to_string())
                .unwrap_or_default();
            Ok(json!({ "Data": {
                "CallId": call_id,
                "DateCreated": created,
                "Represent": "",
                "StatusCode": "OK",
                "TelX": tel_x,
            }}))
        }
        "ModifyPrivacyNumberCallDetail" => {
            let call_id = p.req("CallId")?;
            let contact = p.req("ContactId")?.to_owned();
            let call = ctx
                .store
                .privacy
                .iter_mut()
                .find(|c| c.call_id == call_id)
                .ok_or_else(|| PlatformError::not_found("privacy call", call_id))?;
            call.contact_id = Some(contact);
            let _ = (&call.tel_a, &call.tel_b, &call.tel_x);
            Ok(json!({}))
        }
        "GetRecordOssUploadParam" => {
            let file = p.req("FileName")?;
            let agent = agent_of(platform, req).ok();
            let dir = agent.map_or_else(
                || "uploads/".to_owned(),
                |a| format!("uploads/{}/", platform.user_id(a)),
            );
            let expires = ctx.now_ms / 1_000 + 3_600;
            let key = format!("{dir}{file}");
            Ok(json!({
                "Dir": dir,
                "Expires": expires.to_string(),
                "Host": format!("{}oss", ctx.urls.api),
                "OssAccessKeyId": "emulator-oss",
                "OssFileName": file,
                "Policy": base64::engine::general_purpose::STANDARD.encode(format!("{{\"key\":\"{key}\",\"expires\":{expires}}}")),
                "Signature": ctx.tokens.sign_link(&key, expires),
            }))
        }
        "CreateFault" => {
            for name in ["AgentId", "ConnectId", "StartTime", "EndTime"] {
                p.req(name)?;
            }
            p.req_int("AgentId")?;
            p.req_int("StartTime")?;
            p.req_int("EndTime")?;
            ctx.store.add_fault(Fault {
                at_ms: ctx.now_ms,
                params: p.pairs(),
            });
            Ok(json!({}))
        }
        "AddAgentDevice" => {
            let browser = p.req("BrowserVersion")?.to_owned();
            let ip = p.req("ClientIp")?.to_owned();
            let agent = agent_of(platform, req)?;
            let id = ctx.store.next_id();
            ctx.store.add_device(AgentDevice {
                id,
                ram_id: s.agents[agent.0].ram_id,
                browser_version: browser,
                client_ip: ip,
                client_port: p.string("ClientPort").unwrap_or_default(),
                remark: p.string("Remark").unwrap_or_default(),
                is_login: 1,
                login_time: ctx.now_ms,
            });
            Ok(json!({ "AgentDeviceId": id }))
        }
        "ModifyAgentDevice" => {
            let id = p.int("AgentDeviceId")?;
            let login = p.int("IsLogin")?;
            if let Some(id) = id {
                let device = ctx
                    .store
                    .devices
                    .iter_mut()
                    .find(|d| d.id == id)
                    .ok_or_else(|| PlatformError::not_found("agent device", &id.to_string()))?;
                if let Some(login) = login {
                    device.is_login = login;
                }
            }
            Ok(json!({}))
        }
        "ListAgentDevices" => {
            let rams: Vec<i64> = p
                .opt("RamIds")
                .map(|r| r.split(',').filter_map(|x| x.trim().parse().ok()).collect())
                .unwrap_or_default();
            let (start, stop) = (p.int("StartTime")?, p.int("StopTime")?);
            let items = ctx
                .store
                .devices
                .iter()
                .filter(|d| rams.is_empty() || rams.contains(&d.ram_id))
                .filter(|d| {
                    start.is_none_or(|t| d.login_time >= t)
                        && stop.is_none_or(|t| d.login_time <= t)
                })
                .map(|d| {
                    json!({
                        "BrowserVersion": d.browser_version,
                        "ClientIp": d.client_ip,
                        "ClientPort": d.client_port,
                        "InstanceId": s.instance.id,
                        "IsLogin": d.is_login,
                        "LoginTime": d.login_time,
                        "RamId": d.ram_id,
                        "Remark": d.remark,
                    })
                })
                .collect();
            Ok(json!({ "AgentDeviceList": wrap("AgentDevice", items) }))
        }
        "GetTURNCredentials" => {
            let name = p.req("UserName")?;
            let auth = ctx
                .turn
                .first()
                .map(|t| t.auth.clone())
                .ok_or_else(|| PlatformError::not_found("TURN server", "list"))?;
            let (username, password) = turn_credentials(&auth, name, ctx.now_ms, TURN_TTL_S);
            Ok(json!({ "Username": username, "Password": password }))
        }
        "GetTURNServerList" => Ok(json!({ "TurnServerListConfig": turn_list(ctx) })),
        "ResetUserStatus" => {
            let rams = p.list("RamIdList")?;
            let users: Vec<String> = if rams.is_empty() {
                vec![platform.user_id(agent_of(platform, req)?).to_string()]
            } else {
                rams.iter()
                    .map(|r| {
                        s.agents
                            .iter()
                            .find(|a| a.ram_id.to_string() == r.trim())
                            .map(|a| a.user_id.clone())
                            .ok_or_else(|| PlatformError::no_user(r, &s.instance.id))
                    })
                    .collect::<Result<_, _>>()?
            };
            for user in users {
                platform.command(now, req.principal, Some(&user), Command::ResetAgentState)?;
            }
            Ok(json!({}))
        }
        "CheckNumberAvaliable" => {
            let callee = p.req("Callee")?;
            let callee_ok = callee.len() >= 3 && callee.bytes().all(|b| b.is_ascii_digit());
            let caller = p.opt("Caller");
            let caller_ok =
                caller.is_none_or(|c| s.number(c).is_some_and(|n| n.usage.allows_outbound()));
            let reason = |ok: bool, why: &str| if ok { String::new() } else { why.to_owned() };
            Ok(json!({
                "CalleeAvaliable": { "Avaliable": callee_ok, "Reason": reason(callee_ok, "not a callable number") },
                "CallerAvaliable": { "Avaliable": caller_ok, "Reason": reason(caller_ok, "not an outbound number of the instance") },
            }))
        }
        "Encrypt" => {
            let plain = p.list("PlainText")?;
            if plain.is_empty() {
                return Err(PlatformError::blank("PlainText"));
            }
            let items = plain
                .iter()
                .map(|t| json!({
                    "PlainText": t,
                    "CypherText": base64::engine::general_purpose::STANDARD.encode(format!("{ENCRYPT_PREFIX}{t}")),
                }))
                .collect();
            Ok(json!({
                "PublicKey": p.opt("PublicKey").unwrap_or("ccc-emulator-public-key"),
                "CypherContents": wrap("CypherContent", items),
            }))
        }
        action => Err(unknown_action(action)),
    }
}

fn issue(ctx: &Context<'_>, s: &Scenario, user: &str, extension: &str) -> crate::token::Token {
    let ttl_ms = i64::try_from(s.platform.token_ttl_secs).unwrap_or(i64::MAX / 2_000) * 1_000;
    ctx.tokens
        .issue(user, extension, ctx.now_ms.saturating_add(ttl_ms))
}
