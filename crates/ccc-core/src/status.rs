//! The agent status codes of the guide (MAP.md table S).

use std::fmt;

/// An agent's status, as `getStatusCode()` reports it (MAP.md table S).
///
/// The numbers are the guide's; 7, 13, 14 and 15 do not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(i8)]
pub enum Status {
    /// -1: not registered; only `register` is possible.
    Unregistered = -1,
    /// 0: registration (SIP, agent link, sign-in) in progress.
    Registering = 0,
    /// 1: signed out; only `logIn` is possible.
    SignedOut = 1,
    /// 2: signed in; passes to [`Status::Ready`] at once.
    SignedIn = 2,
    /// 3: ready (idle); the only status in which inbound calls ring.
    Ready = 3,
    /// 4: on break.
    Break = 4,
    /// 5: after-call work.
    AfterCallWork = 5,
    /// 6: an inbound call is ringing.
    Ringing = 6,
    /// 8: an outbound call is dialing.
    Dialing = 8,
    /// 9: in an inbound call.
    InboundCall = 9,
    /// 10: in an outbound call.
    OutboundCall = 10,
    /// 11: in an internal (agent-to-agent) call.
    InternalCall = 11,
    /// 12: the call is on hold.
    Hold = 12,
    /// 16: a consultation was started; the third party has not answered yet.
    ConsultInitiated = 16,
    /// 17: talking with the consulted third party.
    ConsultCall = 17,
    /// 18: consult call, switched back to the first party.
    ConsultSwitched = 18,
    /// 19: three-way conference.
    Conference = 19,
    /// 20: passive help (being coached).
    PassiveHelp = 20,
    /// 21: monitoring another agent's call.
    Monitoring = 21,
}

/// The word `getStatus()` gives for a status (MAP.md table S, third column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusDescription {
    /// `off`: statuses -1, 0 and 1.
    Off,
    /// `logIn`: status 2.
    LogIn,
    /// `ready`: status 3.
    Ready,
    /// `break`: status 4.
    Break,
    /// `other`: statuses 5, 16, 17, 18, 19 and 20.
    Other,
    /// `callComing`: status 6.
    CallComing,
    /// `dialingCall`: status 8.
    DialingCall,
    /// `inCall`: statuses 9, 10, 11 and 12.
    InCall,
    /// `monitoring`: status 21.
    Monitoring,
}

impl StatusDescription {
    /// The word exactly as the guide spells it (`off`, `logIn`, `callComing`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::LogIn => "logIn",
            Self::Ready => "ready",
            Self::Break => "break",
            Self::Other => "other",
            Self::CallComing => "callComing",
            Self::DialingCall => "dialingCall",
            Self::InCall => "inCall",
            Self::Monitoring => "monitoring",
        }
    }
}

impl fmt::Display for StatusDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Status {
    /// Every status, in the order of the guide's table.
    pub const ALL: [Self; 19] = [
        Self::Unregistered,
        Self::Registering,
        Self::SignedOut,
        Self::SignedIn,
        Self::Ready,
        Self::Break,
        Self::AfterCallWork,
        Self::Ringing,
        Self::Dialing,
        Self::InboundCall,
        Self::OutboundCall,
        Self::InternalCall,
        Self::Hold,
        Self::ConsultInitiated,
        Self::ConsultCall,
        Self::ConsultSwitched,
        Self::Conference,
        Self::PassiveHelp,
        Self::Monitoring,
    ];

    /// The guide's status code.
    ///
    /// ```
    /// use ccc_core::Status;
    /// assert_eq!(Status::Hold.code(), 12);
    /// ```
    pub const fn code(self) -> i8 {
        self as i8
    }

    /// The status with this code, or `None` for a number the guide does not define.
    ///
    /// ```
    /// use ccc_core::Status;
    /// assert_eq!(Status::from_code(21), Some(Status::Monitoring));
    /// assert_eq!(Status::from_code(7), None);
    /// ```
    pub const fn from_code(code: i32) -> Option<Self> {
        Some(match code {
            -1 => Self::Unregistered,
            0 => Self::Registering,
            1 => Self::SignedOut,
            2 => Self::SignedIn,
            3 => Self::Ready,
            4 => Self::Break,
            5 => Self::AfterCallWork,
            6 => Self::Ringing,
            8 => Self::Dialing,
            9 => Self::InboundCall,
            10 => Self::OutboundCall,
            11 => Self::InternalCall,
            12 => Self::Hold,
            16 => Self::ConsultInitiated,
            17 => Self::ConsultCall,
            18 => Self::ConsultSwitched,
            19 => Self::Conference,
            20 => Self::PassiveHelp,
            21 => Self::Monitoring,
            _ => return None,
        })
    }

    /// What `getStatus()` says for this status.
    ///
    /// ```
    /// use ccc_core::Status;
    /// assert_eq!(Status::Ringing.description().as_str(), "callComing");
    /// ```
    pub const fn description(self) -> StatusDescription {
        use StatusDescription as D;
        match self {
            Self::Unregistered | Self::Registering | Self::SignedOut => D::Off,
            Self::SignedIn => D::LogIn,
            Self::Ready => D::Ready,
            Self::Break => D::Break,
            Self::AfterCallWork
            | Self::ConsultInitiated
            | Self::ConsultCall
            | Self::ConsultSwitched
            | Self::Conference
            | Self::PassiveHelp => D::Other,
            Self::Ringing => D::CallComing,
            Self::Dialing => D::DialingCall,
            Self::InboundCall | Self::OutboundCall | Self::InternalCall | Self::Hold => D::InCall,
            Self::Monitoring => D::Monitoring,
        }
    }

    /// The guide's note for this status, in English (`"ringing"`, `"after-call work"`, ...).
    pub const fn meaning(self) -> &'static str {
        match self {
            Self::Unregistered => "unregistered",
            Self::Registering => "registering",
            Self::SignedOut => "signed out",
            Self::SignedIn => "signed in",
            Self::Ready => "ready",
            Self::Break => "break",
            Self::AfterCallWork => "after-call work",
            Self::Ringing => "ringing",
            Self::Dialing => "dialing",
            Self::InboundCall => "inbound call",
            Self::OutboundCall => "outbound call",
            Self::InternalCall => "internal call",
            Self::Hold => "hold",
            Self::ConsultInitiated => "consult initiated",
            Self::ConsultCall => "consult call",
            Self::ConsultSwitched => "consult call, switched",
            Self::Conference => "conference",
            Self::PassiveHelp => "passive help",
            Self::Monitoring => "monitoring",
        }
    }

    /// True while the agent holds a call leg: statuses 6 and 8 to 21.
    pub const fn is_call(self) -> bool {
        self.code() >= Self::Ringing.code()
    }

    /// True once the agent is signed in (statuses 2 and above).
    pub const fn is_signed_in(self) -> bool {
        self.code() >= Self::SignedIn.code()
    }
}

impl fmt::Display for Status {
    /// `12 (hold)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.meaning())
    }
}

impl serde::Serialize for Status {
    /// As the guide's number.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i8(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for Status {
    /// From the guide's number; any other number is an error.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = i64::deserialize(deserializer)?;
        i32::try_from(code)
            .ok()
            .and_then(Self::from_code)
            .ok_or_else(|| {
                serde::de::Error::custom(format_args!("{code} is not a status code of the guide"))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_as_the_number() {
        assert_eq!(serde_json::to_string(&Status::Hold).unwrap(), "12");
        assert_eq!(
            serde_json::from_str::<Status>("-1").unwrap(),
            Status::Unregistered
        );
        let err = serde_json::from_str::<Status>("7").unwrap_err().to_string();
        assert!(err.contains("7 is not a status code"), "{err}");
        assert!(serde_json::from_str::<Status>("\"3\"").is_err());
    }

    /// Table S of the guide, row by row: code, getStatus word.
    const TABLE_S: [(i32, &str); 19] = [
        (-1, "off"),
        (0, "off"),
        (1, "off"),
        (2, "logIn"),
        (3, "ready"),
        (4, "break"),
        (5, "other"),
        (6, "callComing"),
        (8, "dialingCall"),
        (9, "inCall"),
        (10, "inCall"),
        (11, "inCall"),
        (12, "inCall"),
        (16, "other"),
        (17, "other"),
        (18, "other"),
        (19, "other"),
        (20, "other"),
        (21, "monitoring"),
    ];

    #[test]
    fn every_row_of_table_s() {
        for (i, (code, word)) in TABLE_S.into_iter().enumerate() {
            let status = Status::from_code(code).expect("a code of table S");
            assert_eq!(i32::from(status.code()), code);
            assert_eq!(status.description().as_str(), word, "status {code}");
            assert_eq!(Status::ALL[i], status, "ALL is in table order");
        }
    }

    #[test]
    fn codes_outside_the_table_are_rejected() {
        for code in [-2, 7, 13, 14, 15, 22, 100, i32::MIN, i32::MAX] {
            assert_eq!(Status::from_code(code), None, "{code}");
        }
    }

    #[test]
    fn display_names_code_and_meaning() {
        assert_eq!(
            Status::ConsultInitiated.to_string(),
            "16 (consult initiated)"
        );
    }

    #[test]
    fn call_and_signed_in_families() {
        let calls: Vec<i8> = Status::ALL
            .iter()
            .filter(|s| s.is_call())
            .map(|s| s.code())
            .collect();
        assert_eq!(calls, [6, 8, 9, 10, 11, 12, 16, 17, 18, 19, 20, 21]);
        let signed: Vec<i8> = Status::ALL
            .iter()
            .filter(|s| s.is_signed_in())
            .map(|s| s.code())
            .collect();
        assert_eq!(signed.first(), Some(&2));
        assert_eq!(signed.len(), 16);
    }
}
