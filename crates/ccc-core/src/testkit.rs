//! Builders of agent-link contexts for the unit tests.

use crate::model::{
    CallContext, CallType, ChannelContext, ChannelState, UserContext, UserState, WorkMode,
};

pub(crate) const ME: &str = "agent@ccc-test";
pub(crate) const MY_EXT: &str = "8001";
pub(crate) const CUSTOMER: &str = "13800000000";
pub(crate) const HOTLINE: &str = "057100000000";

pub(crate) fn user(state: &str) -> UserContext {
    UserContext {
        user_id: Some(ME.into()),
        extension: Some(MY_EXT.into()),
        user_state: Some(UserState::from(state)),
        work_mode: Some(WorkMode::OnSite),
        job_id: Some("job-1".into()),
        ..UserContext::default()
    }
}

pub(crate) fn agent_leg(call_type: CallType, state: ChannelState) -> ChannelContext {
    ChannelContext {
        call_type: Some(call_type),
        channel_id: Some("ch-agent".into()),
        channel_state: Some(state),
        destination: Some(MY_EXT.into()),
        index: Some(1),
        job_id: Some("job-1".into()),
        originator: Some(CUSTOMER.into()),
        skill_group_id: Some("skg-1@ccc-test".into()),
        user_extension: Some(MY_EXT.into()),
        user_id: Some(ME.into()),
        ..ChannelContext::default()
    }
}

pub(crate) fn customer_leg(call_type: CallType, state: ChannelState) -> ChannelContext {
    ChannelContext {
        call_type: Some(call_type),
        channel_id: Some("ch-customer".into()),
        channel_state: Some(state),
        destination: Some(HOTLINE.into()),
        index: Some(0),
        job_id: Some("job-1".into()),
        originator: Some(CUSTOMER.into()),
        skill_group_id: Some("skg-1@ccc-test".into()),
        ..ChannelContext::default()
    }
}

pub(crate) fn call(call_type: CallType, legs: Vec<ChannelContext>) -> CallContext {
    CallContext {
        call_type: Some(call_type),
        call_variables: Some("order=7".into()),
        channel_contexts: Some(legs),
        instance_id: Some("ccc-test".into()),
        job_id: Some("job-1".into()),
    }
}
