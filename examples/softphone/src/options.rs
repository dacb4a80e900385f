//! The panel's options: the guide's UI-only configuration (C4 `header`, C5 `width`, C6
//! `height`, C7 `defaultVisible`, C8 `offlineImage`, C9 `breakImage`, C22
//! `moreActionList`, C35 `sideNavList`, C38 `reducePanel`, C40
//! `customizedNotification`), which ccc-core leaves to the program that draws a panel.
//! They are read from the same JSON file as the rest of the guide's options.

use serde::Deserialize;
use serde_json::Value;

/// A header action of C22 `moreActionList`, in the guide's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeaderAction {
    /// `onlyCall`: outbound only (M29).
    OnlyCall,
    /// `mobilePhoneAnswer`: answer on the mobile (M15, M16).
    MobilePhoneAnswer,
    /// `break`: take a break (M6).
    Break,
    /// `offline`: sign out, and in again (M4, M3).
    Offline,
    /// `adjustVolume`: the headset volume (M30).
    AdjustVolume,
}

impl HeaderAction {
    /// Every action, in the guide's order (C22's default: all).
    pub const ALL: [Self; 5] = [
        Self::OnlyCall,
        Self::MobilePhoneAnswer,
        Self::Break,
        Self::Offline,
        Self::AdjustVolume,
    ];

    /// The guide's name in `moreActionList`.
    pub const fn guide_name(self) -> &'static str {
        match self {
            Self::OnlyCall => "onlyCall",
            Self::MobilePhoneAnswer => "mobilePhoneAnswer",
            Self::Break => "break",
            Self::Offline => "offline",
            Self::AdjustVolume => "adjustVolume",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.guide_name() == name.trim())
    }
}

/// A side-navigation item of C35 `sideNavList`, plus the access points this panel
/// adds (M33, M34; the guide's panel has them in a menu of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NavItem {
    /// 呼入: the ringing or current inbound call.
    Inbound,
    /// 呼出: the dial pad.
    Outbound,
    /// 通话记录: the call log (A3).
    CallLog,
    /// 转接: blind and consultative transfer (M23-M26).
    Transfer,
    /// 会议: the three-way conference (M27, M28).
    Conference,
    /// 监听: listen to another agent's call (M32).
    Monitor,
    /// 我的工作: today's figures (A15).
    MyWork,
    /// 设备检测: the device, environment and network check (M19, M20).
    DeviceCheck,
    /// The access points (M33, M34); not one of C35's items, always shown.
    AccessPoints,
}

impl NavItem {
    /// C35's items in the guide's order (its default: all).
    pub const GUIDE: [Self; 8] = [
        Self::Inbound,
        Self::Outbound,
        Self::CallLog,
        Self::Transfer,
        Self::Conference,
        Self::Monitor,
        Self::MyWork,
        Self::DeviceCheck,
    ];

    /// The guide's (Chinese) name in `sideNavList`.
    pub const fn guide_name(self) -> &'static str {
        match self {
            Self::Inbound => "呼入",
            Self::Outbound => "呼出",
            Self::CallLog => "通话记录",
            Self::Transfer => "转接",
            Self::Conference => "会议",
            Self::Monitor => "监听",
            Self::MyWork => "我的工作",
            Self::DeviceCheck => "设备检测",
            Self::AccessPoints => "接入点",
        }
    }

    /// The English name, also accepted in `sideNavList`.
    pub const fn english_name(self) -> &'static str {
        match self {
            Self::Inbound => "inbound",
            Self::Outbound => "outbound",
            Self::CallLog => "callLog",
            Self::Transfer => "transfer",
            Self::Conference => "conference",
            Self::Monitor => "monitor",
            Self::MyWork => "myWork",
            Self::DeviceCheck => "deviceCheck",
            Self::AccessPoints => "accessPoints",
        }
    }

    /// The label the panel shows.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Inbound => "Inbound",
            Self::Outbound => "Outbound",
            Self::CallLog => "Call log",
            Self::Transfer => "Transfer",
            Self::Conference => "Conference",
            Self::Monitor => "Monitor",
            Self::MyWork => "My work",
            Self::DeviceCheck => "Device check",
            Self::AccessPoints => "Access points",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        let name = name.trim();
        Self::GUIDE
            .into_iter()
            .find(|n| n.guide_name() == name || n.english_name().eq_ignore_ascii_case(name))
    }
}

/// The guide's UI options, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelOptions {
    /// C4: show the header with its actions.
    pub header: bool,
    /// C5: the panel's width in the guide's pixels.
    pub width_px: u32,
    /// C6: the panel's height in the guide's pixels.
    pub height_px: u32,
    /// C7: the panel is shown at start (else F2, the panel's M0, shows it).
    pub default_visible: bool,
    /// C8: shown (as its address: a terminal draws no pictures) while signed out.
    pub offline_image: Option<String>,
    /// C9: shown (as its address) while on break.
    pub break_image: Option<String>,
    /// C22: the header's actions, in the guide's order.
    pub more_actions: Vec<HeaderAction>,
    /// C35: the side navigation, in the order given.
    pub side_nav: Vec<NavItem>,
    /// C38: the panel may be minimised.
    pub reduce_panel: bool,
    /// C40: no built-in incoming-call notification (the bell and the pop-up line).
    pub customized_notification: bool,
}

impl Default for PanelOptions {
    /// The guide's defaults.
    fn default() -> Self {
        Self {
            header: true,
            width_px: 280,
            height_px: 552,
            default_visible: true,
            offline_image: None,
            break_image: None,
            more_actions: HeaderAction::ALL.to_vec(),
            side_nav: NavItem::GUIDE.to_vec(),
            reduce_panel: true,
            customized_notification: false,
        }
    }
}

/// A guide pixel in terminal cells: one column is this many pixels wide...
pub const PX_PER_COLUMN: u32 = 5;
/// ...and one row this many pixels high (280 x 552 is 56 x 34 cells).
pub const PX_PER_ROW: u32 = 16;

impl PanelOptions {
    /// Whether the header shows `action` (C4 and C22).
    pub fn has_action(&self, action: HeaderAction) -> bool {
        self.header && self.more_actions.contains(&action)
    }

    /// The navigation the panel shows: C35's items, then the access points.
    pub fn nav(&self) -> Vec<NavItem> {
        let mut nav = self.side_nav.clone();
        nav.push(NavItem::AccessPoints);
        nav
    }

    /// The panel's size in cells (C5, C6 at [`PX_PER_COLUMN`] x [`PX_PER_ROW`]),
    /// never below what its lines need.
    pub fn size_in_cells(&self) -> (u16, u16) {
        let cols = (self.width_px / PX_PER_COLUMN).clamp(40, 400);
        let rows = (self.height_px / PX_PER_ROW).clamp(20, 200);
        (
            u16::try_from(cols).unwrap_or(400),
            u16::try_from(rows).unwrap_or(200),
        )
    }
}

/// A UI option that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PanelError {
    /// C22 names an action the guide does not have.
    #[error(
        "moreActionList (C22): unknown action {0:?}; the guide's are onlyCall, mobilePhoneAnswer, break, offline, adjustVolume"
    )]
    UnknownAction(String),
    /// C35 names an item the guide does not have.
    #[error(
        "sideNavList (C35): unknown item {0:?}; the guide's are 呼入 呼出 通话记录 转接 会议 监听 我的工作 设备检测 (or inbound, outbound, callLog, transfer, conference, monitor, myWork, deviceCheck)"
    )]
    UnknownNavItem(String),
    /// C5 or C6 is not a positive number of pixels.
    #[error("{0} must be a positive number of pixels, such as 280 or \"280px\"; got {1}")]
    BadSize(&'static str, String),
    /// A flag is not a boolean.
    #[error("{0} must be true or false; got {1}")]
    NotBoolean(&'static str, String),
    /// An image is not a string.
    #[error("{0} must be a string (the image's address); got {1}")]
    NotText(&'static str, String),
    /// A list is not a list of strings.
    #[error("{0} must be a list of names; got {1}")]
    NotList(&'static str, String),
}

/// The UI options as the guide writes them, from the configuration JSON; every other
/// key is ignored here.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct PanelSource {
    header: Option<Value>,
    width: Option<Value>,
    height: Option<Value>,
    default_visible: Option<Value>,
    offline_image: Option<Value>,
    break_image: Option<Value>,
    more_action_list: Option<Value>,
    side_nav_list: Option<Value>,
    reduce_panel: Option<Value>,
    customized_notification: Option<Value>,
}

impl PanelOptions {
    /// Reads the UI options from the configuration (a JSON object with the guide's
    /// camelCase names); what is left out keeps the guide's default.
    ///
    /// ```
    /// use ccc_softphone::options::{HeaderAction, PanelOptions};
    /// let json = serde_json::json!({"header": true, "moreActionList": ["break", "offline"], "width": "320px"});
    /// let options = PanelOptions::from_json(&json).unwrap();
    /// assert_eq!(options.more_actions, vec![HeaderAction::Break, HeaderAction::Offline]);
    /// assert_eq!(options.width_px, 320);
    /// ```
    pub fn from_json(config: &Value) -> Result<Self, PanelError> {
        let source: PanelSource = serde_json::from_value(config.clone()).unwrap_or_default();
        let mut o = Self::default();
        flag(&source.header, "header (C4)", &mut o.header)?;
        flag(
            &source.default_visible,
            "defaultVisible (C7)",
            &mut o.default_visible,
        )?;
        flag(
            &source.reduce_panel,
            "reducePanel (C38)",
            &mut o.reduce_panel,
        )?;
        flag(
            &source.customized_notification,
            "customizedNotification (C40)",
            &mut o.customized_notification,
        )?;
        if let Some(v) = &source.width {
            o.width_px = pixels(v, "width (C5)")?;
        }
        if let Some(v) = &source.height {
            o.height_px = pixels(v, "height (C6)")?;
        }
        o.offline_image = image(&source.offline_image, "offlineImage (C8)")?;
        o.break_image = image(&source.break_image, "breakImage (C9)")?;
        if let Some(v) = &source.more_action_list {
            let names = names(v, "moreActionList (C22)")?;
            let mut actions = Vec::new();
            for name in names {
                let action = HeaderAction::parse(&name).ok_or(PanelError::UnknownAction(name))?;
                if !actions.contains(&action) {
                    actions.push(action);
                }
            }
            // The header keeps the guide's order whatever order the list gives.
            o.more_actions = HeaderAction::ALL
                .into_iter()
                .filter(|a| actions.contains(a))
                .collect();
        }
        if let Some(v) = &source.side_nav_list {
            let mut nav = Vec::new();
            for name in names(v, "sideNavList (C35)")? {
                let item = NavItem::parse(&name).ok_or(PanelError::UnknownNavItem(name))?;
                if !nav.contains(&item) {
                    nav.push(item);
                }
            }
            o.side_nav = nav;
        }
        Ok(o)
    }
}

fn flag(value: &Option<Value>, what: &'static str, slot: &mut bool) -> Result<(), PanelError> {
    match value {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Bool(b)) => {
            *slot = *b;
            Ok(())
        }
        Some(other) => Err(PanelError::NotBoolean(what, other.to_string())),
    }
}

fn pixels(value: &Value, what: &'static str) -> Result<u32, PanelError> {
    let bad = || PanelError::BadSize(what, value.to_string());
    let n = match value {
        Value::Number(n) => n.as_f64().ok_or_else(bad)?,
        Value::String(s) => {
            let s = s.trim();
            s.strip_suffix("px")
                .unwrap_or(s)
                .trim()
                .parse::<f64>()
                .map_err(|_| bad())?
        }
        _ => return Err(bad()),
    };
    if !(1.0..=100_000.0).contains(&n) {
        return Err(bad());
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(n.round() as u32)
}

fn image(value: &Option<Value>, what: &'static str) -> Result<Option<String>, PanelError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(other) => Err(PanelError::NotText(what, other.to_string())),
    }
}

fn names(value: &Value, what: &'static str) -> Result<Vec<String>, PanelError> {
    let bad = || PanelError::NotList(what, value.to_string());
    value
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|v| v.as_str().map(str::to_owned).ok_or_else(bad))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_are_the_guides() {
        let o = PanelOptions::from_json(&json!({"instanceId": "x"})).unwrap();
        assert_eq!(o, PanelOptions::default());
        assert_eq!(o.size_in_cells(), (56, 34));
        assert_eq!(o.nav().len(), 9);
        assert!(o.has_action(HeaderAction::AdjustVolume));
    }

    #[test]
    fn lists_are_read_in_both_languages_and_kept_in_order() {
        let o = PanelOptions::from_json(&json!({
            "moreActionList": ["offline", "break", "break"],
            "sideNavList": ["通话记录", "outbound", "deviceCheck"],
            "header": true,
        }))
        .unwrap();
        assert_eq!(
            o.more_actions,
            vec![HeaderAction::Break, HeaderAction::Offline]
        );
        assert_eq!(
            o.side_nav,
            vec![NavItem::CallLog, NavItem::Outbound, NavItem::DeviceCheck]
        );
        assert!(!o.has_action(HeaderAction::OnlyCall));
    }

    #[test]
    fn no_header_no_actions() {
        let o = PanelOptions::from_json(&json!({"header": false})).unwrap();
        assert!(HeaderAction::ALL.iter().all(|a| !o.has_action(*a)));
    }

    #[test]
    fn bad_values_are_clear_errors() {
        let e = PanelOptions::from_json(&json!({"moreActionList": ["dance"]})).unwrap_err();
        assert_eq!(e, PanelError::UnknownAction("dance".into()));
        assert!(e.to_string().contains("mobilePhoneAnswer"));
        let e = PanelOptions::from_json(&json!({"sideNavList": ["会"]})).unwrap_err();
        assert!(matches!(e, PanelError::UnknownNavItem(_)));
        let e = PanelOptions::from_json(&json!({"width": "wide"})).unwrap_err();
        assert!(matches!(e, PanelError::BadSize("width (C5)", _)));
        let e = PanelOptions::from_json(&json!({"height": -3})).unwrap_err();
        assert!(matches!(e, PanelError::BadSize("height (C6)", _)));
        let e = PanelOptions::from_json(&json!({"header": "yes"})).unwrap_err();
        assert!(matches!(e, PanelError::NotBoolean(..)));
        let e = PanelOptions::from_json(&json!({"breakImage": 3})).unwrap_err();
        assert!(matches!(e, PanelError::NotText(..)));
        let e = PanelOptions::from_json(&json!({"sideNavList": "inbound"})).unwrap_err();
        assert!(matches!(e, PanelError::NotList(..)));
    }

    #[test]
    fn sizes_accept_px_and_map_to_cells() {
        let o = PanelOptions::from_json(&json!({"width": "320px", "height": 600})).unwrap();
        assert_eq!((o.width_px, o.height_px), (320, 600));
        assert_eq!(o.size_in_cells(), (64, 37));
        let tiny = PanelOptions::from_json(&json!({"width": 10, "height": 10})).unwrap();
        assert_eq!(tiny.size_in_cells(), (40, 20));
    }
}
