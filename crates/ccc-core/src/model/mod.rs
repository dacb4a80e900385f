//! The agent-link data model: the agent's state as the platform reports it.

mod contexts;
mod enums;
mod wire_enum;

pub use contexts::{
    AgentSnapshot, CallContext, ChannelContext, ChatContext, ChatMember, ParallelJob, Text,
    UserContext,
};
pub use enums::{
    BREAK_CODE_REJECT_CALL, BREAK_CODE_RINGING_TIMEOUT, BREAK_CODE_WARM_UP, CallType, ChannelFlag,
    ChannelFlags, ChannelState, UserState, WorkMode,
};
