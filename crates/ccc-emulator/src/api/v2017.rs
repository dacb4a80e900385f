//! The 2017-07-05 actions of the guide's table (A1-A28) and the others it names.
//!
//! Each request is read with ccc-openapi's model of the action (`Action::from_params`)
//! and each answer is built as its typed response, so the emulator and the client share
//! one model: a field the model does not know cannot be sent, a list is wrapped as CCC
//! wraps it (`{"SkillLevels":{"SkillLevel":[..]}}`, empty lists too).

use std::time::Instant;

use base64::Engine as _;
use ccc_core::model::UserState;
use ccc_openapi::v2017 as a;
use ccc_openapi::{Action, Secret};
use serde_json::Value;

use super::params::page_of;
use super::store::{AgentDevice, Fault, PrivacyCall};
use super::v2020::{TURN_TTL_S, turn_credentials, turn_list};
use super::{ApiRequest, Context, decode, encode, unknown_action};
use crate::platform::{
    AgentId, AgentPart, CallRecord, Command, Platform, PlatformError, Principal, Recording,
};
use crate::scenario::{NumberUsage, PhoneNumber, Scenario};

/// `Some` of a text.
fn s(text: impl Into<String>) -> Option<String> {
    Some(text.into())
}

/// A count or a length as the models' integers.
fn int(n: impl TryInto<i64>) -> Option<i64> {
    Some(n.try_into().unwrap_or(i64::MAX))
}

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

fn outbound_number(
    s_: &Scenario,
    n: &PhoneNumber,
) -> a::list_outbound_phone_number_of_user::PhoneNumber {
    a::list_outbound_phone_number_of_user::PhoneNumber {
        allow_outbound: Some(n.usage.allows_outbound()),
        city: s(&n.city),
        instance_id: s(&s_.instance.id),
        number: s(&n.number),
        phone_number_description: s(&n.description),
        phone_number_id: s(format!("number-{}", n.number)),
        private_flag: Some(false),
        province: s(&n.province),
        remaining_time: Some(0),
        sip_tel_x: s(""),
        test_only: Some(false),
        trunks: Some(30),
        usage: s(usage(n.usage)),
        ..Default::default()
    }
}

fn group_number(s_: &Scenario, n: &PhoneNumber) -> a::list_skill_groups_of_user::PhoneNumber {
    a::list_skill_groups_of_user::PhoneNumber {
        allow_outbound: Some(n.usage.allows_outbound()),
        city: s(&n.city),
        instance_id: s(&s_.instance.id),
        number: s(&n.number),
        phone_number_description: s(&n.description),
        phone_number_id: s(format!("number-{}", n.number)),
        province: s(&n.province),
        remaining_time: Some(0),
        test_only: Some(false),
        trunks: Some(30),
        usage: s(usage(n.usage)),
    }
}

/// `(province, city)` of a number.
fn region_of<'a>(s_: &'a Scenario, number: &str) -> (&'a str, &'a str) {
    s_.region_of(number).unwrap_or(("", ""))
}

/// The skill levels of `ListSkillGroupsOfUser`.
fn skill_levels(
    platform: &Platform,
    agent: AgentId,
) -> Vec<a::list_skill_groups_of_user::SkillLevel> {
    use a::list_skill_groups_of_user::{Skill, SkillLevel};
    let sc = platform.scenario();
    let spec = &sc.agents[agent.0];
    spec.skills
        .iter()
        .filter_map(|level| {
            let g = sc.skill_group(&level.skill_group)?;
            let skill = Skill {
                instance_id: s(&sc.instance.id),
                routing_strategy: s("LongestIdle"),
                skill_group_description: s(&g.description),
                skill_group_id: s(&g.id),
                skill_group_name: s(&g.name),
                outbound_phone_numbers: g
                    .outbound_numbers
                    .iter()
                    .filter_map(|n| sc.number(n))
                    .map(|n| group_number(sc, n))
                    .collect(),
            };
            let l = SkillLevel {
                level: Some(i64::from(level.level)),
                skill: Some(skill),
                skill_level_id: s(format!("{}:{}", spec.user_id, g.id)),
            };
            Some(l)
        })
        .collect()
}

/// The skill levels of `ListRealTimeAgent` (without numbers).
fn realtime_levels(
    platform: &Platform,
    agent: AgentId,
) -> Vec<a::list_real_time_agent::SkillLevel> {
    use a::list_real_time_agent::{Skill, SkillLevel};
    let sc = platform.scenario();
    let spec = &sc.agents[agent.0];
    spec.skills
        .iter()
        .filter_map(|level| {
            let g = sc.skill_group(&level.skill_group)?;
            let skill = Skill {
                instance_id: s(&sc.instance.id),
                skill_group_description: s(&g.description),
                skill_group_id: s(&g.id),
                skill_group_name: s(&g.name),
            };
            let l = SkillLevel {
                level: Some(i64::from(level.level)),
                skill: Some(skill),
                skill_level_id: s(format!("{}:{}", spec.user_id, g.id)),
            };
            Some(l)
        })
        .collect()
}

const FILE_DESCRIPTION: &str = "stereo: agent left, customer right";

fn recent_recording(sc: &Scenario, r: &Recording) -> a::list_recent_call_records::Recording {
    a::list_recent_call_records::Recording {
        agent_id: s(&*r.agent_id),
        agent_name: s(&*r.agent_name),
        called_number: s(&*r.called),
        calling_number: s(&*r.calling),
        channel: s("Stereo"),
        contact_id: s(&*r.contact_id),
        contact_type: s(r.contact_type),
        duration: Some(r.duration_s),
        file_description: s(FILE_DESCRIPTION),
        file_name: s(&*r.file_name),
        file_path: s(format!("/recordings/{}", r.file_name)),
        instance_id: s(&sc.instance.id),
        start_time: Some(r.start_ms),
    }
}

fn detail_recording(r: &Recording) -> a::list_call_detail_records::Recording {
    a::list_call_detail_records::Recording {
        agent_id: s(&*r.agent_id),
        agent_name: s(&*r.agent_name),
        contact_id: s(&*r.contact_id),
        duration: Some(r.duration_s),
        file_description: s(FILE_DESCRIPTION),
        file_name: s(&*r.file_name),
        quality_check_task_id: s(""),
        quality_check_tid: s(""),
        start_time: Some(r.start_ms),
    }
}

fn contact_recording(sc: &Scenario, r: &Recording) -> a::list_recordings_by_contact_id::Recording {
    a::list_recordings_by_contact_id::Recording {
        agent_id: s(&*r.agent_id),
        agent_name: s(&*r.agent_name),
        called_number: s(&*r.called),
        calling_number: s(&*r.calling),
        channel: s("Stereo"),
        contact_id: s(&*r.contact_id),
        contact_type: s(r.contact_type),
        duration: Some(r.duration_s),
        file_description: s(FILE_DESCRIPTION),
        file_name: s(&*r.file_name),
        file_path: s(format!("/recordings/{}", r.file_name)),
        instance_id: s(&sc.instance.id),
        quality_check_task_id: s(""),
        quality_check_tid: s(""),
        start_time: Some(r.start_ms),
    }
}

/// What both call-record shapes share.
struct RecordFacts {
    agent_names: String,
    group_names: String,
    satisfaction: String,
    satisfaction_desc: &'static str,
}

fn facts(sc: &Scenario, c: &CallRecord) -> RecordFacts {
    let names: Vec<&str> = c.agents.iter().map(|a| &*a.display_name).collect();
    let group_names: Vec<&str> = c
        .skill_groups
        .iter()
        .filter_map(|g| sc.skill_group(g).map(|g| g.name.as_str()))
        .collect();
    RecordFacts {
        agent_names: names.join(","),
        group_names: group_names.join(","),
        satisfaction: c.satisfaction.map(|r| r.to_string()).unwrap_or_default(),
        satisfaction_desc: c
            .satisfaction
            .map_or("", |r| if r >= 4 { "Satisfied" } else { "Unsatisfied" }),
    }
}

fn secs(ms: u64) -> Option<i64> {
    int(ms / 1_000)
}

/// A call record as `ListRecentCallRecords` has it.
fn recent_record(sc: &Scenario, c: &CallRecord) -> a::list_recent_call_records::CallDetailRecord {
    use a::list_recent_call_records::{CallDetailAgent, CallDetailRecord};
    let f = facts(sc, c);

    CallDetailRecord {
        agent_names: s(f.agent_names),
        agents: c
            .agents
            .iter()
            .map(|p| CallDetailAgent {
                agent_id: s(&*p.user_id),
                agent_name: s(&*p.display_name),
                contact_id: s(&*c.contact_id),
                feedback: s(""),
                hold_time: secs(p.hold_ms),
                queue_time: secs(p.queue_ms),
                ring_time: secs(p.ring_ms),
                satisfaction: s(&f.satisfaction),
                skill_group_name: s(p
                    .skill_group
                    .as_deref()
                    .and_then(|g| sc.skill_group(g))
                    .map_or("", |g| g.name.as_str())),
                start_time: Some(p.start_ms),
                talk_time: secs(p.talk_ms),
                work_time: secs(p.work_ms),
            })
            .collect(),
        called_number: s(&*c.called),
        calling_number: s(&*c.calling),
        contact_disposition: s(c.disposition),
        contact_id: s(&*c.contact_id),
        contact_type: s(c.contact_type),
        duration: Some(c.duration_s),
        extra_attr: s(""),
        feedback: s(""),
        instance_id: s(&sc.instance.id),
        recordings: c
            .recording
            .iter()
            .map(|r| recent_recording(sc, r))
            .collect(),
        satisfaction: c.satisfaction.map(i64::from),
        satisfaction_desc: s(f.satisfaction_desc),
        skill_group_names: s(f.group_names),
        start_time: Some(c.start_ms),
    }
}

/// A call record as `ListCallDetailRecords` has it.
fn detail_record(sc: &Scenario, c: &CallRecord) -> a::list_call_detail_records::CallDetailRecord {
    use a::list_call_detail_records::{CallDetailAgent, CallDetailRecord};
    let f = facts(sc, c);
    let mut v = CallDetailRecord {
        agent_names: s(f.agent_names),
        agents: c
            .agents
            .iter()
            .map(|p| CallDetailAgent {
                agent_id: s(&*p.user_id),
                feedback: s(""),
                satisfaction: s(&f.satisfaction),
            })
            .collect(),
        called_number: s(&*c.called),
        calling_number: s(&*c.calling),
        contact_disposition: s(c.disposition),
        contact_id: s(&*c.contact_id),
        contact_type: s(c.contact_type),
        duration: Some(c.duration_s),
        feedback: s(""),
        instance_id: s(&sc.instance.id),
        recordings: c.recording.iter().map(detail_recording).collect(),
        satisfaction: c.satisfaction.map(i64::from),
        satisfaction_desc: s(f.satisfaction_desc),
        ..Default::default()
    };
    let ids: Vec<&str> = c.skill_groups.iter().map(|g| &**g).collect();
    v.skill_group_id_list = s(ids.join(","));
    v.skill_group_names = s(f.group_names);
    v.start_time = Some(c.start_ms);
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

/// `PageNumber` (from 1) and `PageSize` (1-100), defaulted to 1 and 10.
fn page(number: Option<i64>, size: Option<i64>) -> Result<(usize, usize), PlatformError> {
    let number = number.unwrap_or(1);
    let size = size.unwrap_or(10);
    if number < 1 {
        return Err(PlatformError::minimum("PageNumber", 1));
    }
    if size < 1 {
        return Err(PlatformError::minimum("PageSize", 1));
    }
    if size > 100 {
        return Err(PlatformError::maximum("PageSize", 100));
    }
    Ok((
        usize::try_from(number).unwrap_or(usize::MAX),
        usize::try_from(size).unwrap_or(100),
    ))
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
    fn n(&self) -> Option<i64> {
        int(self.0.len())
    }
    fn total_ms(&self, f: fn(&AgentPart) -> u64) -> u64 {
        self.0.iter().map(|s| f(s.part)).sum::<u64>()
    }
    fn total(&self, f: fn(&AgentPart) -> u64) -> Option<i64> {
        int(self.total_ms(f) / 1_000)
    }
    fn most(&self, f: fn(&AgentPart) -> u64) -> Option<i64> {
        int(self.0.iter().map(|s| f(s.part)).max().unwrap_or(0) / 1_000)
    }
    fn average(&self, f: fn(&AgentPart) -> u64) -> Option<i64> {
        match self.0.len() {
            0 => Some(0),
            n => int(self.total_ms(f) / 1_000 / n as u64),
        }
    }
    /// How many were rated, and the mean rating as a fraction of the best (5).
    fn survey(&self) -> (Option<i64>, Option<f64>) {
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
        (int(rated.len()), Some(index))
    }
}

fn rate(part: &Figures<'_>, of: &Figures<'_>) -> Option<f64> {
    Some(if of.0.is_empty() {
        0.0
    } else {
        part.0.len() as f64 / of.0.len() as f64
    })
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
) -> a::generate_agent_statistic_report::GenerateAgentStatistic {
    use a::generate_agent_statistic_report::{GenerateAgentStatistic, Inbound, Outbound, Overall};
    let user = platform.user_id(agent).clone();
    let sc = platform.scenario();
    let spec = &sc.agents[agent.0];
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

    let i = Inbound {
        average_hold_time: handled.average(hold),
        average_ring_time: inbound.average(ring),
        average_talk_time: handled.average(talk),
        average_work_time: handled.average(work),
        calls_handled: handled.n(),
        calls_offered: inbound.n(),
        handle_rate: rate(&handled, &inbound),
        max_hold_time: handled.most(hold),
        max_ring_time: inbound.most(ring),
        max_talk_time: handled.most(talk),
        max_work_time: handled.most(work),
        satisfaction_index: in_index,
        satisfaction_surveys_offered: in_rated,
        satisfaction_surveys_responded: in_rated,
        total_hold_time: handled.total(hold),
        total_ring_time: inbound.total(ring),
        total_talk_time: handled.total(talk),
        total_work_time: handled.total(work),
    };

    let o = Outbound {
        answer_rate: rate(&answered, &outbound),
        average_dialing_time: outbound.average(ring),
        average_hold_time: answered.average(hold),
        average_talk_time: answered.average(talk),
        average_work_time: outbound.average(work),
        calls_answered: answered.n(),
        calls_dialed: outbound.n(),
        max_dialing_time: outbound.most(ring),
        max_hold_time: answered.most(hold),
        max_talk_time: answered.most(talk),
        max_work_time: outbound.most(work),
        satisfaction_index: out_index,
        satisfaction_surveys_offered: out_rated,
        satisfaction_surveys_responded: out_rated,
        total_dialing_time: outbound.total(ring),
        total_hold_time: answered.total(hold),
        total_talk_time: answered.total(talk),
        total_work_time: outbound.total(work),
    };

    let v = Overall {
        average_hold_time: all.average(hold),
        average_talk_time: all.average(talk),
        average_work_time: all.average(work),
        max_hold_time: all.most(hold),
        max_talk_time: all.most(talk),
        max_work_time: all.most(work),
        satisfaction_index: all_index,
        satisfaction_surveys_offered: all_rated,
        satisfaction_surveys_responded: all_rated,
        total_calls: all.n(),
        total_hold_time: all.total(hold),
        total_talk_time: all.total(talk),
        total_work_time: all.total(work),
    };

    let names: Vec<&str> = spec
        .skills
        .iter()
        .filter_map(|s| sc.skill_group(&s.skill_group).map(|g| g.name.as_str()))
        .collect();
    let ids: Vec<&str> = spec.skills.iter().map(|s| s.skill_group.as_str()).collect();

    GenerateAgentStatistic {
        agent_id: s(&spec.user_id),
        agent_name: s(&spec.display_name),
        average_ready_time: int(ready.as_secs()),
        inbound: Some(i),
        instance_id: s(platform.instance_id()),
        login_name: s(&spec.login_name),
        max_ready_time: int(ready.as_secs()),
        occupancy_rate: Some(if logged_in.as_secs() == 0 {
            0.0
        } else {
            all.total_ms(talk) as f64 / 1_000.0 / logged_in.as_secs() as f64
        }),
        outbound: Some(o),
        overall: Some(v),
        record_date: s(date),
        skill_group_ids: s(ids.join(",")),
        skill_group_names: s(names.join(",")),
        total_break_time: int(breaks.as_secs()),
        total_logged_in_time: int(logged_in.as_secs()),
        total_ready_time: int(ready.as_secs()),
    }
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

/// The number behind a callee: `Encrypt`'s `CypherText` read back (as CCC decrypts an
/// encrypted callee with the instance's key), any other text as it is.
pub(crate) fn plain_number(callee: &str) -> String {
    base64::engine::general_purpose::STANDARD
        .decode(callee.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix(ENCRYPT_PREFIX).map(str::to_owned))
        .unwrap_or_else(|| callee.to_owned())
}

/// Reads the request of `A`, answers it with `f`, and writes the typed answer.
fn run<A: Action>(
    req: &ApiRequest,
    f: impl FnOnce(A) -> Result<A::Response, PlatformError>,
) -> Result<Value, PlatformError> {
    encode(&f(decode::<A>(req)?)?)
}

pub(super) fn handle(
    platform: &mut Platform,
    ctx: &mut Context<'_>,
    now: Instant,
    req: &ApiRequest,
) -> Result<Value, PlatformError> {
    // Shared, not copied: a copy of the whole scenario per request cost 0.5 ms at
    // 1,000 agents.
    let sc = platform.shared_scenario();
    let sc = &*sc;
    match req.action.as_str() {
        "ListOutboundPhoneNumberOfUser" => run(req, |r: a::ListOutboundPhoneNumberOfUser| {
            let agent = platform.resolve(req.principal, Some(&r.user_id))?;
            let (number, size) = page(r.page_number, r.page_size)?;
            let all: Vec<_> = platform
                .outbound_numbers(agent)
                .iter()
                .filter_map(|n| sc.number(n))
                .map(|n| outbound_number(sc, n))
                .collect();
            let answer = a::ListOutboundPhoneNumberOfUserResponse {
                number_list: all.iter().filter_map(|n| n.number.clone()).collect(),
                outbound_phone_numbers: page_of(&all, number, size).to_vec(),
                ..Default::default()
            };
            Ok(answer)
        }),
        "ListSkillGroupsOfUser" => run(req, |r: a::ListSkillGroupsOfUser| {
            let agent = platform.resolve(req.principal, Some(&r.user_id))?;
            let answer = a::ListSkillGroupsOfUserResponse {
                skill_levels: skill_levels(platform, agent),
                ..Default::default()
            };
            Ok(answer)
        }),
        "ListRecentCallRecords" => run(req, |r: a::ListRecentCallRecords| {
            let (number, size) = page(Some(r.page_number), Some(r.page_size))?;
            let criteria = r.criteria.as_deref();
            let list: Vec<&CallRecord> = visible(platform, req.principal)
                .into_iter()
                .filter(|c| criteria.is_none_or(|q| c.calling.contains(q) || c.called.contains(q)))
                .filter(|c| {
                    r.start_time.is_none_or(|t| c.start_ms >= t)
                        && r.stop_time.is_none_or(|t| c.start_ms <= t)
                })
                .collect();
            let mut records = a::list_recent_call_records::CallDetailRecords {
                list: page_of(&list, number, size)
                    .iter()
                    .map(|c| recent_record(sc, c))
                    .collect(),
                page_number: int(number),
                page_size: int(size),
                ..Default::default()
            };
            // The guide: only page 1 carries totalCount (it is slow to count).
            if number == 1 {
                records.total_count = int(list.len());
            }
            let answer = a::ListRecentCallRecordsResponse {
                call_detail_records: Some(records),
                ..Default::default()
            };
            Ok(answer)
        }),
        "ListCallDetailRecords" => run(req, |r: a::ListCallDetailRecords| {
            let (number, size) = page(Some(r.page_number), Some(r.page_size))?;
            let phone = r.phone_number.as_deref().or(r.criteria.as_deref());
            let mut list: Vec<&CallRecord> = visible(platform, req.principal)
                .into_iter()
                .filter(|c| {
                    r.contact_id
                        .as_deref()
                        .is_none_or(|id| &*c.contact_id == id)
                })
                .filter(|c| {
                    r.contact_type
                        .as_deref()
                        .is_none_or(|t| c.contact_type.eq_ignore_ascii_case(t))
                })
                .filter(|c| {
                    r.contact_disposition
                        .as_deref()
                        .is_none_or(|d| c.disposition.eq_ignore_ascii_case(d))
                })
                .filter(|c| phone.is_none_or(|q| c.calling.contains(q) || c.called.contains(q)))
                .filter(|c| {
                    r.start_time.is_none_or(|t| c.start_ms >= t)
                        && r.stop_time.is_none_or(|t| c.start_ms <= t)
                })
                .filter(|c| r.with_recording.is_none_or(|w| w == c.recording.is_some()))
                .collect();
            if r.order_by
                .as_deref()
                .is_some_and(|o| o.eq_ignore_ascii_case("asc"))
            {
                list.reverse();
            }
            let records = a::list_call_detail_records::CallDetailRecords {
                list: page_of(&list, number, size)
                    .iter()
                    .map(|c| detail_record(sc, c))
                    .collect(),
                page_number: int(number),
                page_size: int(size),
                total_count: int(list.len()),
            };
            let answer = a::ListCallDetailRecordsResponse {
                call_detail_records: Some(records),
                ..Default::default()
            };
            Ok(answer)
        }),
        "ListConfig" => run(req, |r: a::ListConfig| {
            let answer = a::ListConfigResponse {
                config_items: sc
                    .config_items
                    .iter()
                    .filter(|c| r.config_item.is_empty() || r.config_item.contains(&c.name))
                    .map(|c| a::list_config::ConfigItem {
                        name: s(&c.name),
                        value: s(&c.value),
                    })
                    .collect(),
                ..Default::default()
            };
            Ok(answer)
        }),
        "GetServiceExtensions" => run(req, |r: a::GetServiceExtensions| {
            let answer = a::GetServiceExtensionsResponse {
                service_extensions: sc
                    .service_extensions
                    .iter()
                    .filter(|e| e.service_type.eq_ignore_ascii_case(&r.service_type))
                    .map(|e| a::get_service_extensions::ServiceExtension {
                        name: s(&e.name),
                        number: s(&e.number),
                    })
                    .collect(),
                ..Default::default()
            };
            Ok(answer)
        }),
        "LaunchAppraise" => run(req, |r: a::LaunchAppraise| {
            let agent = agent_in(platform, &r.acid)?;
            let user = platform.user_id(agent).to_string();
            platform.command(
                now,
                req.principal,
                Some(&user),
                Command::LaunchSurvey { job_id: r.acid },
            )?;
            Ok(a::LaunchAppraiseResponse::default())
        }),
        "GetSmsConfig" => run(req, |r: a::GetSmsConfig| {
            let answer = a::GetSmsConfigResponse {
                sms_configs: sc
                    .sms_templates
                    .iter()
                    .filter(|t| r.scenario.contains(&t.scenario))
                    .map(|t| a::get_sms_config::SmsConfig {
                        description: s(&t.description),
                        extra: s(""),
                        gmt_create: s("2024-01-01 00:00:00"),
                        gmt_modified: s("2024-01-01 00:00:00"),
                        id: Some(t.id),
                        instance: s(&sc.instance.id),
                        name: s(&t.name),
                        scenario: Some(t.scenario),
                        sign_name: s(&t.sign_name),
                        template_code: s(&t.template_code),
                    })
                    .collect(),
                ..Default::default()
            };
            Ok(answer)
        }),
        "RequestLoginInfo" => run(req, |r: a::RequestLoginInfo| {
            let agent = platform.resolve(
                req.principal,
                r.user_id.as_deref().or(req.params.opt("UserId")),
            )?;
            let spec = &sc.agents[agent.0];
            let token = issue(ctx, sc, &spec.user_id, &spec.extension);
            let info = a::request_login_info::LoginInfo {
                agent_server_url: s(&ctx.urls.agent_server),
                display_name: s(&spec.display_name),
                extension: s(&spec.extension),
                phone_number: s(spec.mobile.clone().unwrap_or_default()),
                region: s(&sc.instance.region),
                roles: spec
                    .roles
                    .iter()
                    .map(|role| a::request_login_info::Role {
                        instance_id: s(&sc.instance.id),
                        role_description: s(format!("{role:?}")),
                        role_id: s(role.id()),
                        role_name: s(format!("{role:?}")),
                    })
                    .collect(),
                sign_data: s(token.sign_data),
                signature: Some(Secret::from(token.signature)),
                tenant_id: s(&sc.instance.tenant_id),
                user_name: s(&spec.login_name),
                web_rtc_url: s(&ctx.urls.sip_ws),
            };
            let answer = a::RequestLoginInfoResponse {
                login_info: Some(info),
                ..Default::default()
            };
            Ok(answer)
        }),
        "RefreshToken" => run(req, |_: a::RefreshToken| {
            let agent = agent_of(platform, req)?;
            let spec = &sc.agents[agent.0];
            let token = issue(ctx, sc, &spec.user_id, &spec.extension);
            let t = a::refresh_token::Token {
                sign_data: s(token.sign_data),
                signature: Some(Secret::from(token.signature)),
            };
            let answer = a::RefreshTokenResponse {
                token: Some(t),
                ..Default::default()
            };
            Ok(answer)
        }),
        "PickGlobalOutboundNumbers" => run(req, |r: a::PickGlobalOutboundNumbers| {
            use a::pick_global_outbound_numbers::{Callee, Caller, DialNumberPair};
            if r.skill_group_id.is_empty() {
                return Err(PlatformError::blank("SkillGroupId"));
            }
            let count = usize::try_from(r.count.unwrap_or(1).clamp(1, 100)).unwrap_or(1);
            let mut numbers: Vec<&PhoneNumber> = Vec::new();
            for g in &r.skill_group_id {
                let group = sc
                    .skill_group(g)
                    .ok_or_else(|| PlatformError::no_skill_group(g))?;
                for n in group.outbound_numbers.iter().filter_map(|n| sc.number(n)) {
                    if !numbers.iter().any(|x| x.number == n.number) {
                        numbers.push(n);
                    }
                }
            }
            let (province, city) = region_of(sc, &r.callee_number);
            numbers.sort_by_key(|n| (n.city != city, n.province != province));
            let answer = a::PickGlobalOutboundNumbersResponse {
                dial_number_pairs: numbers
                    .into_iter()
                    .take(count)
                    .map(|n| {
                        let callee = Callee {
                            number: s(&r.callee_number),
                            province: s(province),
                            city: s(city),
                        };
                        let (p2, c2) = region_of(sc, &n.number);
                        let caller = Caller {
                            number: s(&n.number),
                            province: s(p2),
                            city: s(c2),
                        };

                        DialNumberPair {
                            callee: Some(callee),
                            caller: Some(caller),
                        }
                    })
                    .collect(),
                ..Default::default()
            };
            Ok(answer)
        }),
        "GetNumberRegionInfo" => run(req, |r: a::GetNumberRegionInfo| {
            let (province, city) = region_of(sc, &r.number);
            let n = a::get_number_region_info::PhoneNumber {
                city: s(city),
                number: s(&r.number),
                province: s(province),
            };
            let answer = a::GetNumberRegionInfoResponse {
                phone_number: Some(n),
                ..Default::default()
            };
            Ok(answer)
        }),
        "PickLocalNumber" => run(req, |r: a::PickLocalNumber| {
            use a::pick_local_number::{Callee, Caller, LocalNumberPair};
            if r.candidate_number.is_empty() {
                return Err(PlatformError::blank("CandidateNumber"));
            }
            let (province, city) = region_of(sc, &r.callee_number);
            let best = r
                .candidate_number
                .iter()
                .min_by_key(|c| {
                    let (p2, c2) = region_of(sc, c);
                    (c2 != city, p2 != province)
                })
                .cloned()
                .unwrap_or_default();
            let callee = Callee {
                city: s(city),
                number: s(&r.callee_number),
                province: s(province),
            };
            let (p2, c2) = region_of(sc, &best);
            let caller = Caller {
                city: s(c2),
                number: s(best),
                province: s(p2),
            };
            let pair = LocalNumberPair {
                callee: Some(callee),
                caller: Some(caller),
            };
            let answer = a::PickLocalNumberResponse {
                data: Some(pair),
                ..Default::default()
            };
            Ok(answer)
        }),
        "ListRealTimeAgent" => run(req, |_: a::ListRealTimeAgent| {
            let answer = a::ListRealTimeAgentResponse {
                data: platform
                    .agents()
                    .iter()
                    .enumerate()
                    .map(|(i, agent)| {
                        let spec = &sc.agents[i];

                        a::list_real_time_agent::User {
                            display_name: s(&spec.display_name),
                            dn: s(&spec.extension),
                            phone: s(spec.mobile.clone().unwrap_or_default()),
                            ram_id: s(spec.ram_id.to_string()),
                            skill_levels: realtime_levels(platform, AgentId(i)),
                            state: s(state_name(&agent.state)),
                            state_desc: s(state_desc(&agent.state)),
                        }
                    })
                    .collect(),
                ..Default::default()
            };
            Ok(answer)
        }),
        "ListAgentStates" => run(req, |r: a::ListAgentStates| {
            let (number, size) = page(r.page_number, r.page_size)?;
            let ids: Vec<&str> = r
                .agent_ids
                .as_deref()
                .map(|a| a.split(',').map(str::trim).collect())
                .unwrap_or_default();
            let list: Vec<_> = platform
                .agents()
                .iter()
                .enumerate()
                .filter(|(_, a)| ids.is_empty() || ids.contains(&&*a.user_id))
                .filter(|(_, a)| {
                    r.skill_group_id
                        .as_deref()
                        .is_none_or(|g| a.signed_groups.iter().any(|x| &**x == g))
                })
                .filter(|(_, a)| {
                    r.state
                        .as_deref()
                        .is_none_or(|st| st.eq_ignore_ascii_case(state_name(&a.state)))
                })
                .map(|(i, agent)| {
                    let spec = &sc.agents[i];

                    a::list_agent_states::RealTimeAgentState {
                        agent_id: s(&spec.user_id),
                        agent_name: s(&spec.display_name),
                        dn: s(&spec.extension),
                        instance_id: s(&sc.instance.id),
                        login_name: s(&spec.login_name),
                        state: s(state_name(&agent.state)),
                        state_duration: s(platform.state_seconds(now, AgentId(i)).to_string()),
                    }
                })
                .collect();
            let data = a::list_agent_states::AgentStatePage {
                list: page_of(&list, number, size).to_vec(),
                page_number: int(number),
                page_size: int(size),
                total_count: int(list.len()),
            };
            let answer = a::ListAgentStatesResponse {
                data: Some(data),
                ..Default::default()
            };
            Ok(answer)
        }),
        "ListRecordingsByContactId" => run(req, |r: a::ListRecordingsByContactId| {
            let mut answer = a::ListRecordingsByContactIdResponse::default();
            if let Some(record) = platform.records().call(&r.contact_id) {
                may_read(platform, req.principal, record)?;
                answer.recordings = record
                    .recording
                    .iter()
                    .map(|x| contact_recording(sc, x))
                    .collect();
            }
            Ok(answer)
        }),
        "DownloadRecording" => run(req, |r: a::DownloadRecording| {
            let file = r.file_name.as_str();
            let record = platform
                .records()
                .calls
                .iter()
                .rev()
                .find(|c| c.recording.as_ref().is_some_and(|x| &*x.file_name == file))
                .ok_or_else(|| PlatformError::not_found("recording", file))?;
            may_read(platform, req.principal, record)?;
            let expires = ctx.now_ms / 1_000 + 3_600;
            let signature = ctx.tokens.sign_link(file, expires);
            let param = a::download_recording::MediaDownloadParam {
                file_name: s(file),
                signature_url: Some(Secret::from(format!(
                    "{}recordings/{file}?Expires={expires}&Signature={signature}",
                    ctx.urls.api
                ))),
            };
            let answer = a::DownloadRecordingResponse {
                media_download_param: Some(param),
                ..Default::default()
            };
            Ok(answer)
        }),
        "GenerateAgentStatisticReport" => run(req, |r: a::GenerateAgentStatisticReport| {
            let (number, size) = page(Some(r.page_number), Some(r.page_size))?;
            let start = day_start_ms("StartDate", &r.start_date)?;
            let end = day_start_ms("EndDate", &r.end_date)? + 86_400_000;
            let agents: Vec<AgentId> = match r.agent_id.as_deref() {
                Some(user) => vec![platform.resolve(req.principal, Some(user))?],
                None if platform.is_admin(req.principal) => {
                    (0..sc.agents.len()).map(AgentId).collect()
                }
                None => vec![platform.resolve(req.principal, None)?],
            };
            let records: Vec<&CallRecord> = platform
                .records()
                .calls
                .iter()
                .filter(|c| c.start_ms >= start && c.start_ms < end)
                .collect();
            let all: Vec<_> = agents
                .iter()
                .map(|x| statistics(platform, now, *x, &records, &r.start_date))
                .collect();
            let list = a::generate_agent_statistic_report::StatisticPage {
                list: page_of(&all, number, size).to_vec(),
                page_number: int(number),
                page_size: int(size),
                total_count: int(all.len()),
            };
            let answer = a::GenerateAgentStatisticReportResponse {
                data_list: Some(list),
                ..Default::default()
            };
            Ok(answer)
        }),
        "LaunchShortMessageAppraise" => run(req, |r: a::LaunchShortMessageAppraise| {
            platform.sms_appraise(now, &r.acid, &r.phone_numbers)?;
            Ok(a::LaunchShortMessageAppraiseResponse::default())
        }),
        "SendPredefinedShortMessage" => run(req, |r: a::SendPredefinedShortMessage| {
            let biz = platform.send_sms(
                now,
                r.config_id,
                &r.phone_numbers,
                r.template_param.as_deref(),
            )?;
            let answer = a::SendPredefinedShortMessageResponse {
                biz_id: s(&*biz),
                ..Default::default()
            };
            Ok(answer)
        }),
        "CallOnlinePrivacyNumber" => run(req, |r: a::CallOnlinePrivacyNumber| {
            let tel_x = sc
                .numbers
                .iter()
                .find(|n| n.usage.allows_outbound())
                .map(|n| n.number.clone())
                .ok_or_else(|| PlatformError::no_number("(privacy pool)"))?;
            let call_id = format!("privacy-{}", ctx.store.next_id());
            ctx.store.add_privacy(PrivacyCall {
                call_id: call_id.clone(),
                tel_a: r.tel_a,
                tel_b: r.tel_b,
                tel_x: tel_x.clone(),
                contact_id: None,
            });
            let data = a::call_online_privacy_number::PrivacyCall {
                call_id: s(call_id),
                date_created: s((ctx.now_ms / 1_000).to_string()),
                represent: s(""),
                status_code: s("OK"),
                tel_x: s(tel_x),
            };
            let answer = a::CallOnlinePrivacyNumberResponse {
                data: Some(data),
                ..Default::default()
            };
            Ok(answer)
        }),
        "ModifyPrivacyNumberCallDetail" => run(req, |r: a::ModifyPrivacyNumberCallDetail| {
            let call = ctx
                .store
                .privacy
                .iter_mut()
                .find(|c| c.call_id == r.call_id)
                .ok_or_else(|| PlatformError::not_found("privacy call", &r.call_id))?;
            call.contact_id = Some(r.contact_id);
            Ok(a::ModifyPrivacyNumberCallDetailResponse::default())
        }),
        "GetRecordOssUploadParam" => run(req, |r: a::GetRecordOssUploadParam| {
            let agent = agent_of(platform, req).ok();
            let dir = agent.map_or_else(
                || "uploads/".to_owned(),
                |x| format!("uploads/{}/", platform.user_id(x)),
            );
            let form = super::upload::UploadForm::new(ctx, &dir);
            let answer = a::GetRecordOssUploadParamResponse {
                dir: s(dir),
                expires: s(form.expires.to_string()),
                host: s(form.host),
                oss_access_key_id: s(super::upload::ACCESS_KEY_ID),
                oss_file_name: s(&r.file_name),
                policy: s(form.policy),
                signature: Some(Secret::from(form.signature)),
                ..Default::default()
            };
            Ok(answer)
        }),
        "CreateFault" => run(req, |_: a::CreateFault| {
            ctx.store.add_fault(Fault {
                at_ms: ctx.now_ms,
                params: req.params.pairs(),
            });
            Ok(a::CreateFaultResponse::default())
        }),
        "AddAgentDevice" => run(req, |r: a::AddAgentDevice| {
            let agent = agent_of(platform, req)?;
            let id = ctx.store.next_id();
            ctx.store.add_device(AgentDevice {
                id,
                ram_id: sc.agents[agent.0].ram_id,
                browser_version: r.browser_version,
                client_ip: r.client_ip,
                client_port: r.client_port.unwrap_or_default(),
                remark: r.remark.unwrap_or_default(),
                is_login: 1,
                login_time: ctx.now_ms,
            });
            let answer = a::AddAgentDeviceResponse {
                agent_device_id: Some(id),
                ..Default::default()
            };
            Ok(answer)
        }),
        "ModifyAgentDevice" => run(req, |r: a::ModifyAgentDevice| {
            if let Some(id) = r.agent_device_id {
                let device = ctx
                    .store
                    .devices
                    .iter_mut()
                    .find(|d| d.id == id)
                    .ok_or_else(|| PlatformError::not_found("agent device", &id.to_string()))?;
                if let Some(login) = r.is_login {
                    device.is_login = login;
                }
            }
            Ok(a::ModifyAgentDeviceResponse::default())
        }),
        "ListAgentDevices" => run(req, |r: a::ListAgentDevices| {
            let rams: Vec<i64> = r
                .ram_ids
                .as_deref()
                .map(|x| x.split(',').filter_map(|x| x.trim().parse().ok()).collect())
                .unwrap_or_default();
            let answer = a::ListAgentDevicesResponse {
                agent_device_list: ctx
                    .store
                    .devices
                    .iter()
                    .filter(|d| rams.is_empty() || rams.contains(&d.ram_id))
                    .filter(|d| {
                        r.start_time.is_none_or(|t| d.login_time >= t)
                            && r.stop_time.is_none_or(|t| d.login_time <= t)
                    })
                    .map(|d| a::list_agent_devices::AgentDevice {
                        browser_version: s(&d.browser_version),
                        client_ip: s(&d.client_ip),
                        client_port: s(&d.client_port),
                        instance_id: s(&sc.instance.id),
                        is_login: Some(d.is_login),
                        login_time: Some(d.login_time),
                        ram_id: Some(d.ram_id),
                        remark: s(&d.remark),
                    })
                    .collect(),
                ..Default::default()
            };
            Ok(answer)
        }),
        "GetTURNCredentials" => run(req, |r: a::GetTURNCredentials| {
            let (username, password) =
                turn_credentials(ctx.turn_auth, &r.user_name, ctx.now_ms, TURN_TTL_S);
            let answer = a::GetTURNCredentialsResponse {
                username: s(username),
                password: Some(Secret::from(password)),
                ..Default::default()
            };
            Ok(answer)
        }),
        "GetTURNServerList" => run(req, |_: a::GetTURNServerList| {
            let answer = a::GetTURNServerListResponse {
                turn_server_list_config: s(turn_list(ctx)),
                ..Default::default()
            };
            Ok(answer)
        }),
        "ResetUserStatus" => run(req, |r: a::ResetUserStatus| {
            let users: Vec<String> = if r.ram_id_list.is_empty() {
                vec![platform.user_id(agent_of(platform, req)?).to_string()]
            } else {
                r.ram_id_list
                    .iter()
                    .map(|ram| {
                        sc.agents
                            .iter()
                            .find(|x| x.ram_id == *ram)
                            .map(|x| x.user_id.clone())
                            .ok_or_else(|| {
                                PlatformError::no_user(&ram.to_string(), &sc.instance.id)
                            })
                    })
                    .collect::<Result<_, _>>()?
            };
            for user in users {
                platform.command(now, req.principal, Some(&user), Command::ResetAgentState)?;
            }
            Ok(a::ResetUserStatusResponse::default())
        }),
        "CheckNumberAvaliable" => run(req, |r: a::CheckNumberAvaliable| {
            let callee_ok = r.callee.len() >= 3 && r.callee.bytes().all(|b| b.is_ascii_digit());
            let caller_ok = r
                .caller
                .as_deref()
                .is_none_or(|c| sc.number(c).is_some_and(|n| n.usage.allows_outbound()));
            let reason = |ok: bool, why: &str| s(if ok { "" } else { why });
            let callee = a::check_number_avaliable::CalleeAvaliable {
                available: Some(callee_ok),
                reason: reason(callee_ok, "not a callable number"),
            };
            let caller = a::check_number_avaliable::CallerAvaliable {
                available: Some(caller_ok),
                reason: reason(caller_ok, "not an outbound number of the instance"),
            };
            let answer = a::CheckNumberAvaliableResponse {
                callee_available: Some(callee),
                caller_available: Some(caller),
                ..Default::default()
            };
            Ok(answer)
        }),
        "Encrypt" => run(req, |r: a::Encrypt| {
            if r.plain_text.is_empty() {
                return Err(PlatformError::blank("PlainText"));
            }
            let answer = a::EncryptResponse {
                public_key: s(r.public_key.as_deref().unwrap_or("ccc-emulator-public-key")),
                cypher_contents: r
                    .plain_text
                    .iter()
                    .map(|t| a::encrypt::CypherContent {
                        plain_text: s(t),
                        cypher_text: s(base64::engine::general_purpose::STANDARD
                            .encode(format!("{ENCRYPT_PREFIX}{t}"))),
                    })
                    .collect(),
                ..Default::default()
            };
            Ok(answer)
        }),
        action => Err(unknown_action(action)),
    }
}

fn issue(ctx: &Context<'_>, sc: &Scenario, user: &str, extension: &str) -> crate::token::Token {
    let ttl_ms = i64::try_from(sc.platform.token_ttl_secs).unwrap_or(i64::MAX / 2_000) * 1_000;
    ctx.tokens
        .issue(user, extension, ctx.now_ms.saturating_add(ttl_ms))
}
