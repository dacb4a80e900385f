//! The skill groups an agent signs in to (M2 `register`, M3 `logIn`).

use serde::{Deserialize, Serialize};

use super::input::InputError;

/// At most this many skill groups in one sign-in (M3).
pub const MAX_LOGIN_SKILL_GROUPS: usize = 20;

/// One skill group of the agent, as `ListSkillGroupsOfUser` lists it
/// (`skill.skillGroupId`, `skill.skillGroupName`, `level`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillGroupOfUser {
    /// `Skill.SkillGroupId`.
    pub skill_group_id: String,
    /// `Skill.SkillGroupName`.
    pub skill_group_name: String,
    /// `Level`.
    pub level: i32,
}

/// One item of `register`'s `loginSkillGroupArray` / `logIn`'s `skillGroupsList`, with
/// the guide's field names on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginSkillGroup {
    /// The skill group's id (the guide calls it `groupName`).
    pub group_name: String,
    /// The agent's level in it.
    pub group_level: i32,
    /// The skill group's name.
    pub skill_group_name: String,
}

/// The sign-in list for the given skill groups, in their order.
///
/// An agent in no skill group cannot sign in
/// ([`InputError::NotInAnySkillGroup`], the guide's `systemErrorNotInAnySkillGroup`);
/// more than [`MAX_LOGIN_SKILL_GROUPS`] is [`InputError::TooManySkillGroups`].
///
/// ```
/// use ccc_core::helpers::{SkillGroupOfUser, login_skill_groups};
/// let groups = login_skill_groups(vec![SkillGroupOfUser {
///     skill_group_id: "skg-1@ccc-test".into(),
///     skill_group_name: "Sales".into(),
///     level: 5,
/// }])
/// .unwrap();
/// assert_eq!(
///     serde_json::to_string(&groups).unwrap(),
///     r#"[{"groupName":"skg-1@ccc-test","groupLevel":5,"skillGroupName":"Sales"}]"#
/// );
/// ```
pub fn login_skill_groups(
    groups: impl IntoIterator<Item = SkillGroupOfUser>,
) -> Result<Vec<LoginSkillGroup>, InputError> {
    let list: Vec<LoginSkillGroup> = groups
        .into_iter()
        .map(|g| LoginSkillGroup {
            group_name: g.skill_group_id,
            group_level: g.level,
            skill_group_name: g.skill_group_name,
        })
        .collect();
    match list.len() {
        0 => Err(InputError::NotInAnySkillGroup),
        n if n > MAX_LOGIN_SKILL_GROUPS => Err(InputError::TooManySkillGroups(n)),
        _ => Ok(list),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(i: usize) -> SkillGroupOfUser {
        SkillGroupOfUser {
            skill_group_id: format!("skg-{i}"),
            skill_group_name: format!("group {i}"),
            level: i32::try_from(i).unwrap(),
        }
    }

    #[test]
    fn twenty_is_the_limit() {
        let ok = login_skill_groups((0..20).map(group)).unwrap();
        assert_eq!(ok.len(), 20);
        assert_eq!(ok[3].group_name, "skg-3");
        assert_eq!(ok[3].group_level, 3);
        assert_eq!(
            login_skill_groups((0..21).map(group)),
            Err(InputError::TooManySkillGroups(21))
        );
        assert_eq!(
            login_skill_groups(Vec::new()),
            Err(InputError::NotInAnySkillGroup)
        );
    }
}
