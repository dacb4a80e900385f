//! Operation errors (MAP.md "Errors"): the codes `onErrorNotify` carries, with the
//! guide's tips, and the reasons an agent is signed out.

use std::borrow::Cow;
use std::fmt;

use crate::model::Text;

/// Why the agent was signed out (the guide's sign-out events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignOutReason {
    /// `AB_normal`: a normal sign-out.
    AbNormal,
    /// `ASM_Private`: the agent link timed out.
    AsmPrivate,
    /// `ASM_SIP`: the SIP link timed out (30 s).
    AsmSip,
    /// `ASM_Private&SIP`: both links timed out.
    AsmPrivateAndSip,
    /// `ka_unregister`: unregistered because the account signed in elsewhere.
    KaUnregister,
    /// `KA_register`: the account registered elsewhere (kicked out).
    KaRegister,
    /// `WSConnectSlowly`: the WebSocket connection is too slow.
    WsConnectSlowly,
}

impl SignOutReason {
    /// Every reason.
    pub const ALL: [Self; 7] = [
        Self::AbNormal,
        Self::AsmPrivate,
        Self::AsmSip,
        Self::AsmPrivateAndSip,
        Self::KaUnregister,
        Self::KaRegister,
        Self::WsConnectSlowly,
    ];

    /// The code as the guide spells it (`AB_normal`, `ASM_Private&SIP`, ...).
    pub const fn code(self) -> &'static str {
        match self {
            Self::AbNormal => "AB_normal",
            Self::AsmPrivate => "ASM_Private",
            Self::AsmSip => "ASM_SIP",
            Self::AsmPrivateAndSip => "ASM_Private&SIP",
            Self::KaUnregister => "ka_unregister",
            Self::KaRegister => "KA_register",
            Self::WsConnectSlowly => "WSConnectSlowly",
        }
    }

    /// The reason with this code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The guide's tip, in Chinese as the guide writes it.
    pub const fn tip_zh(self) -> &'static str {
        match self {
            Self::AbNormal => "软电话正常签出",
            Self::AsmPrivate => "坐席管理服务连接超时，请检测网络连接情况",
            Self::AsmSip => "语音服务连接超时，请检测网络连接情况",
            Self::AsmPrivateAndSip => "坐席管理服务和语音服务连接超时，请检测网络连接情况",
            Self::KaUnregister | Self::KaRegister => "您的账号已在别处登录，如需登录请刷新页面",
            Self::WsConnectSlowly => "当前WebScoket连接缓慢，请等待或刷新后重新上线",
        }
    }

    /// The tip in English.
    pub const fn tip_en(self) -> &'static str {
        match self {
            Self::AbNormal => "Signed out normally.",
            Self::AsmPrivate => "The agent service connection timed out; check the network.",
            Self::AsmSip => "The voice service connection timed out; check the network.",
            Self::AsmPrivateAndSip => {
                "The agent service and voice service connections timed out; check the network."
            }
            Self::KaUnregister | Self::KaRegister => {
                "Your account signed in elsewhere; register again to use it here."
            }
            Self::WsConnectSlowly => "The WebSocket connection is slow; wait, or register again.",
        }
    }

    /// Whether the guide advises registering again (every reason but `AB_normal`).
    pub const fn needs_register(self) -> bool {
        !matches!(self, Self::AbNormal)
    }
}

impl fmt::Display for SignOutReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The code of an operation error, as `onErrorNotify` carries it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// 6001: the agent does not exist.
    AgentNotExist,
    /// 6002: the agent is not logged in.
    AgentNotLoggedIn,
    /// 6003: the skill id does not exist.
    SkillIdNotExist,
    /// 6004: the agent id does not exist.
    AgentIdNotExist,
    /// 6005, 6006, 6007: busy, retry after refreshing (the number is kept).
    Busy(u16),
    /// 6008: wrong state.
    WrongState,
    /// 7001: bad backend task request.
    BadTaskRequest,
    /// 7002: the call no longer exists.
    CallGone,
    /// 8020: the account is in use and in a call.
    AccountInCall,
    /// 8021: the account is logged in elsewhere.
    LoggedInElsewhere,
    /// 8022: the configuration must be reloaded.
    ReloadConfig,
    /// 8001, 8002: check the sound card permission (the number is kept).
    SoundCard(u16),
    /// `stream_local_refused`: no microphone permission.
    StreamLocalRefused,
    /// `get_lo_failed`: no local media stream.
    GetLocalMediaFailed,
    /// `systemErrorNotInAnySkillGroup`: the agent is in no skill group.
    NotInAnySkillGroup,
    /// `network error`.
    NetworkError,
    /// `browser error`: the environment cannot run the softphone; the message says why.
    BrowserError,
    /// `caller outof range`: no usable outbound number.
    CallerOutOfRange,
    /// `no callee`.
    NoCallee,
    /// A sign-out event.
    SignOut(SignOutReason),
    /// Any other code, as the API sent it (`Forbidden.NoPermission`, ...).
    Other(Text),
}

impl ErrorCode {
    /// The code as the guide (or the API) spells it: `6001`, `caller outof range`, ...
    pub fn as_str(&self) -> &str {
        match self {
            Self::AgentNotExist => "6001",
            Self::AgentNotLoggedIn => "6002",
            Self::SkillIdNotExist => "6003",
            Self::AgentIdNotExist => "6004",
            Self::Busy(6005) => "6005",
            Self::Busy(6006) => "6006",
            Self::Busy(_) => "6007",
            Self::WrongState => "6008",
            Self::BadTaskRequest => "7001",
            Self::CallGone => "7002",
            Self::AccountInCall => "8020",
            Self::LoggedInElsewhere => "8021",
            Self::ReloadConfig => "8022",
            Self::SoundCard(8001) => "8001",
            Self::SoundCard(_) => "8002",
            Self::StreamLocalRefused => "stream_local_refused",
            Self::GetLocalMediaFailed => "get_lo_failed",
            Self::NotInAnySkillGroup => "systemErrorNotInAnySkillGroup",
            Self::NetworkError => "network error",
            Self::BrowserError => "browser error",
            Self::CallerOutOfRange => "caller outof range",
            Self::NoCallee => "no callee",
            Self::SignOut(reason) => reason.code(),
            Self::Other(code) => code,
        }
    }

    /// The code spelled `wire`; codes the guide does not list become [`ErrorCode::Other`].
    pub fn parse(wire: &str) -> Self {
        match wire {
            "6001" => Self::AgentNotExist,
            "6002" => Self::AgentNotLoggedIn,
            "6003" => Self::SkillIdNotExist,
            "6004" => Self::AgentIdNotExist,
            "6005" => Self::Busy(6005),
            "6006" => Self::Busy(6006),
            "6007" => Self::Busy(6007),
            "6008" => Self::WrongState,
            "7001" => Self::BadTaskRequest,
            "7002" => Self::CallGone,
            "8020" => Self::AccountInCall,
            "8021" => Self::LoggedInElsewhere,
            "8022" => Self::ReloadConfig,
            "8001" => Self::SoundCard(8001),
            "8002" => Self::SoundCard(8002),
            "stream_local_refused" => Self::StreamLocalRefused,
            "get_lo_failed" => Self::GetLocalMediaFailed,
            "systemErrorNotInAnySkillGroup" => Self::NotInAnySkillGroup,
            "network error" => Self::NetworkError,
            "browser error" => Self::BrowserError,
            "caller outof range" => Self::CallerOutOfRange,
            "no callee" => Self::NoCallee,
            other => SignOutReason::from_code(other)
                .map_or_else(|| Self::Other(other.into()), Self::SignOut),
        }
    }

    /// The guide's tip (`errorMsgTip`) in Chinese; empty for codes it does not list and
    /// for `browser error`, whose tip is the environment's own description.
    pub const fn tip_zh(&self) -> &'static str {
        match self {
            Self::AgentNotExist => "管理员不存在",
            Self::AgentNotLoggedIn => "管理员未登录",
            Self::SkillIdNotExist => "技能ID不存在",
            Self::AgentIdNotExist => "管理员ID不存在",
            Self::Busy(_) => "当前状态忙碌，请求失败，请刷新页面后重试",
            Self::WrongState => "当前状态不对",
            Self::BadTaskRequest => "后端服务任务请求不对",
            Self::CallGone => "您请求对应的电话已经不存在",
            Self::AccountInCall => "该账号有人正在使用且在通话中",
            Self::LoggedInElsewhere => "您的账号已在别处登录，如需登录请刷新页面",
            Self::ReloadConfig => "需重新加载配置",
            Self::SoundCard(_) => "请检查声卡权限",
            Self::StreamLocalRefused => "浏览器无麦克风权限，请刷新页面",
            Self::GetLocalMediaFailed => "无法获取本地媒体流，请切换接入点到上海",
            Self::NotInAnySkillGroup => {
                "您尚未被加入到技能组中，暂时无法使用，请联系呼叫中心管理员添加"
            }
            Self::NetworkError => "网络连接出现错误",
            Self::CallerOutOfRange => {
                "没有配置坐席个人外呼号码或外呼号码未被添加到该客服所在的技能组中"
            }
            Self::NoCallee => "请输入被叫号码",
            Self::SignOut(reason) => reason.tip_zh(),
            Self::BrowserError | Self::Other(_) => "",
        }
    }

    /// The tip in English; empty where [`ErrorCode::tip_zh`] is.
    pub const fn tip_en(&self) -> &'static str {
        match self {
            Self::AgentNotExist => "The agent does not exist.",
            Self::AgentNotLoggedIn => "The agent is not logged in.",
            Self::SkillIdNotExist => "The skill group id does not exist.",
            Self::AgentIdNotExist => "The agent id does not exist.",
            Self::Busy(_) => "Busy: the request failed; refresh and try again.",
            Self::WrongState => "The current status does not allow this.",
            Self::BadTaskRequest => "The backend task request is wrong.",
            Self::CallGone => "The call you asked for no longer exists.",
            Self::AccountInCall => "The account is in use elsewhere, in a call.",
            Self::LoggedInElsewhere => {
                "Your account signed in elsewhere; register again to use it here."
            }
            Self::ReloadConfig => "The configuration must be reloaded.",
            Self::SoundCard(_) => "Check the sound device permission.",
            Self::StreamLocalRefused => "No microphone permission.",
            Self::GetLocalMediaFailed => "No local media stream; switch the access point.",
            Self::NotInAnySkillGroup => {
                "You are in no skill group yet; ask the call center administrator to add you."
            }
            Self::NetworkError => "A network error occurred.",
            Self::CallerOutOfRange => {
                "No personal outbound number, or the number is not in the agent's skill groups."
            }
            Self::NoCallee => "Enter the number to call.",
            Self::SignOut(reason) => reason.tip_en(),
            Self::BrowserError | Self::Other(_) => "",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An operation error as `onErrorNotify` (H28) carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorNotify {
    /// The API or method that failed (`errorApi`).
    pub api: Text,
    /// The code (`errorCode`).
    pub code: ErrorCode,
    /// The message of the response or the failure (`errorMsg`).
    pub msg: Text,
    /// The guide's tip for the code (`errorMsgTip`), in Chinese; for codes the guide does
    /// not list, the message itself.
    pub msg_tip: Cow<'static, str>,
    /// The request id, when a request failed (`requestId`).
    pub request_id: Option<Text>,
}

impl ErrorNotify {
    /// An error of `api` with `code` and the response message `msg`; the tip comes from
    /// the guide's table.
    pub fn new(api: impl Into<Text>, code: ErrorCode, msg: impl Into<Text>) -> Self {
        let msg = msg.into();
        let msg_tip = match code.tip_zh() {
            "" => Cow::Owned(msg.to_string()),
            tip => Cow::Borrowed(tip),
        };
        Self {
            api: api.into(),
            code,
            msg,
            msg_tip,
            request_id: None,
        }
    }

    /// The same error with the request id.
    #[must_use]
    pub fn with_request_id(mut self, request_id: impl Into<Text>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    /// The sign-out event `reason`, reported by the machine.
    pub fn sign_out(reason: SignOutReason) -> Self {
        Self::new("signOut", ErrorCode::SignOut(reason), reason.tip_en())
    }

    /// The tip in English.
    pub fn msg_tip_en(&self) -> &str {
        match self.code.tip_en() {
            "" => &self.msg,
            tip => tip,
        }
    }
}

impl fmt::Display for ErrorNotify {
    /// `errorCode: errorMsg/errorMsgTip`, the guide's format, with the API in front.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}/{}",
            self.api, self.code, self.msg, self.msg_tip
        )?;
        if let Some(id) = &self.request_id {
            write!(f, " (request {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ErrorNotify {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The guide's list: code, Chinese tip.
    const GUIDE: [(&str, &str); 30] = [
        ("6001", "管理员不存在"),
        ("6002", "管理员未登录"),
        ("6003", "技能ID不存在"),
        ("6004", "管理员ID不存在"),
        ("6005", "当前状态忙碌，请求失败，请刷新页面后重试"),
        ("6006", "当前状态忙碌，请求失败，请刷新页面后重试"),
        ("6007", "当前状态忙碌，请求失败，请刷新页面后重试"),
        ("6008", "当前状态不对"),
        ("7001", "后端服务任务请求不对"),
        ("7002", "您请求对应的电话已经不存在"),
        ("8020", "该账号有人正在使用且在通话中"),
        ("8021", "您的账号已在别处登录，如需登录请刷新页面"),
        ("8022", "需重新加载配置"),
        ("8001", "请检查声卡权限"),
        ("8002", "请检查声卡权限"),
        (
            "WSConnectSlowly",
            "当前WebScoket连接缓慢，请等待或刷新后重新上线",
        ),
        ("AB_normal", "软电话正常签出"),
        ("ASM_Private", "坐席管理服务连接超时，请检测网络连接情况"),
        ("ASM_SIP", "语音服务连接超时，请检测网络连接情况"),
        (
            "ASM_Private&SIP",
            "坐席管理服务和语音服务连接超时，请检测网络连接情况",
        ),
        ("ka_unregister", "您的账号已在别处登录，如需登录请刷新页面"),
        ("KA_register", "您的账号已在别处登录，如需登录请刷新页面"),
        ("stream_local_refused", "浏览器无麦克风权限，请刷新页面"),
        ("get_lo_failed", "无法获取本地媒体流，请切换接入点到上海"),
        (
            "systemErrorNotInAnySkillGroup",
            "您尚未被加入到技能组中，暂时无法使用，请联系呼叫中心管理员添加",
        ),
        ("network error", "网络连接出现错误"),
        ("browser error", ""),
        (
            "caller outof range",
            "没有配置坐席个人外呼号码或外呼号码未被添加到该客服所在的技能组中",
        ),
        ("no callee", "请输入被叫号码"),
        ("Throttling.User", ""),
    ];

    #[test]
    fn every_code_of_the_guide_parses_round_trips_and_has_its_tip() {
        for (wire, tip) in GUIDE {
            let code = ErrorCode::parse(wire);
            assert_eq!(code.as_str(), wire);
            assert_eq!(code.tip_zh(), tip, "{wire}");
            assert_eq!(
                code.tip_en().is_empty(),
                tip.is_empty(),
                "{wire} has an English tip"
            );
        }
        assert_eq!(
            ErrorCode::parse("Throttling.User"),
            ErrorCode::Other("Throttling.User".into())
        );
    }

    #[test]
    fn error_notify_fills_the_tip() {
        let e = ErrorNotify::new("MakeCall", ErrorCode::parse("6008"), "state wrong")
            .with_request_id("req-1");
        assert_eq!(e.msg_tip, "当前状态不对");
        assert_eq!(e.msg_tip_en(), "The current status does not allow this.");
        assert_eq!(
            e.to_string(),
            "MakeCall: 6008: state wrong/当前状态不对 (request req-1)"
        );
        let other = ErrorNotify::new("ListConfig", ErrorCode::parse("Forbidden"), "no permission");
        assert_eq!(other.msg_tip, "no permission");
        assert_eq!(other.msg_tip_en(), "no permission");
    }

    #[test]
    fn sign_out_reasons() {
        for reason in SignOutReason::ALL {
            assert_eq!(SignOutReason::from_code(reason.code()), Some(reason));
            assert_eq!(ErrorCode::parse(reason.code()), ErrorCode::SignOut(reason));
        }
        assert!(!SignOutReason::AbNormal.needs_register());
        assert!(SignOutReason::KaRegister.needs_register());
        assert_eq!(
            ErrorNotify::sign_out(SignOutReason::AsmSip).code.as_str(),
            "ASM_SIP"
        );
    }
}
