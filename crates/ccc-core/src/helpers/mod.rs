//! Small pure helpers the workbench facade needs.

mod caller;
mod input;
mod mask;
mod skill_groups;

pub use caller::{CallerChoice, NumberRegion, OutboundNumber, RandomIndex, choose_caller};
pub use input::{BreakId, DtmfDigits, InputError, Volume};
pub use mask::mask_phone_number;
pub use skill_groups::{
    LoginSkillGroup, MAX_LOGIN_SKILL_GROUPS, SkillGroupOfUser, login_skill_groups,
};
