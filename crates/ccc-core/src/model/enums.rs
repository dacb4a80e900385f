//! The enumerations of the agent link (`../shared/openapi/ccc2020.md` section 2).

use std::fmt;

use super::wire_enum::wire_enum;

wire_enum! {
    /// The agent's state in `UserContext.UserState`.
    ///
    /// The public models describe it only as "agent status"; these are the values
    /// ccc-rs and its emulator use, named after the states of `ListRealtimeAgentStates`.
    pub enum UserState {
        /// Signed out.
        Offline = "OFFLINE",
        /// Ready for calls.
        Ready = "READY",
        /// On break (see `BreakCode`; `Warm-up` means signed in, not yet ready).
        Break = "BREAK",
        /// After-call work.
        Working = "WORKING",
        /// A call rings at the agent.
        Ringing = "RINGING",
        /// The agent is dialing.
        Dialing = "DIALING",
        /// In a call.
        Talking = "TALKING",
    }
}

wire_enum! {
    /// The kind of a call or of one channel (`CallType`).
    pub enum CallType {
        /// A customer called in.
        Inbound = "INBOUND",
        /// The agent called a customer.
        Outbound = "OUTBOUND",
        /// Agent to agent.
        Internal = "INTERNAL",
        /// The consulted third party of an attended transfer.
        Consultant = "CONSULTANT",
        /// A conference.
        Conference = "CONFERENCE",
        /// A supervisor listening.
        Monitor = "MONITOR",
        /// A supervisor barging in.
        Barge = "BARGE",
        /// A supervisor taking the call over.
        Intercept = "INTERCEPT",
        /// A supervisor coaching the agent.
        Coach = "COACH",
        /// Back-to-back call.
        Back2Back = "BACK2BACK",
        /// Predictive dialing.
        Predictive = "PREDICTIVE",
    }
}

wire_enum! {
    /// The state of one channel (call leg), `ChannelState`.
    pub enum ChannelState {
        /// No state yet.
        None = "NONE",
        /// Created, not yet ringing.
        Created = "CREATED",
        /// Ringing.
        Ringing = "RINGING",
        /// Early media (ringback or announcements before answer).
        EarlyMedia = "EARLY_MEDIA",
        /// Answered.
        Answered = "ANSWERED",
        /// Released.
        Released = "RELEASED",
        /// Retired (gone from the call).
        Retired = "RETIRED",
    }
}

impl ChannelState {
    /// Whether the leg is still part of the call (not `NONE`, `RELEASED` or `RETIRED`).
    /// An unknown state counts as live, so that a new value never drops a call.
    pub fn is_live(&self) -> bool {
        !matches!(self, Self::None | Self::Released | Self::Retired)
    }

    /// Whether the leg was answered.
    pub fn is_answered(&self) -> bool {
        matches!(self, Self::Answered)
    }
}

wire_enum! {
    /// Where the agent takes calls (`WorkMode`).
    pub enum WorkMode {
        /// This device (WebRTC): the default.
        OnSite = "ON_SITE",
        /// The agent's mobile phone ("answer on mobile", M15).
        OffSite = "OFF_SITE",
        /// A SIP desk phone.
        OfficePhone = "OFFICE_PHONE",
    }
}

/// The system break code that means "signed in, not yet ready".
pub const BREAK_CODE_WARM_UP: &str = "Warm-up";
/// The system break code set when a ringing call was not answered in time.
pub const BREAK_CODE_RINGING_TIMEOUT: &str = "RingingTimeout";
/// The system break code set when the agent rejected a call.
pub const BREAK_CODE_REJECT_CALL: &str = "RejectCall";

/// One flag of a channel (`ChannelFlags`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ChannelFlag {
    /// On hold.
    Hold = 1,
    /// Muted.
    Muted = 2,
    /// Monitoring another channel.
    Monitoring = 4,
    /// Being monitored.
    Monitored = 8,
    /// Coaching the agent of another channel.
    Coaching = 16,
    /// Being coached.
    Coached = 32,
}

impl ChannelFlag {
    const ALL: [Self; 6] = [
        Self::Hold,
        Self::Muted,
        Self::Monitoring,
        Self::Monitored,
        Self::Coaching,
        Self::Coached,
    ];

    /// The flag as spelled on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Hold => "HOLD",
            Self::Muted => "MUTED",
            Self::Monitoring => "MONITORING",
            Self::Monitored => "MONITORED",
            Self::Coaching => "COACHING",
            Self::Coached => "COACHED",
        }
    }
}

/// The flags of a channel. On the wire a string of flags separated by commas, spaces
/// or `|` (`"HOLD,MUTED"`); unknown flags are ignored; written back comma-separated.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ChannelFlags(u8);

impl ChannelFlags {
    /// No flag.
    pub const NONE: Self = Self(0);

    /// The flags named in `wire`.
    pub fn parse(wire: &str) -> Self {
        wire.split([',', ' ', '|', ';'])
            .filter_map(|word| {
                ChannelFlag::ALL
                    .into_iter()
                    .find(|f| word.trim().eq_ignore_ascii_case(f.as_str()))
            })
            .fold(Self::NONE, Self::with)
    }

    /// Whether `flag` is set.
    pub const fn contains(self, flag: ChannelFlag) -> bool {
        self.0 & flag as u8 != 0
    }

    /// These flags and `flag`.
    #[must_use]
    pub const fn with(self, flag: ChannelFlag) -> Self {
        Self(self.0 | flag as u8)
    }

    /// Whether no flag is set.
    pub const fn is_empty(&self) -> bool {
        self.0 == 0
    }
}

impl fmt::Debug for ChannelFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChannelFlags({self})")
    }
}

impl fmt::Display for ChannelFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for flag in ChannelFlag::ALL
            .into_iter()
            .filter(|flag| self.contains(*flag))
        {
            if !first {
                f.write_str(",")?;
            }
            f.write_str(flag.as_str())?;
            first = false;
        }
        Ok(())
    }
}

impl serde::Serialize for ChannelFlags {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ChannelFlags {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = ChannelFlags;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string of channel flags")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ChannelFlags, E> {
                Ok(ChannelFlags::parse(v))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<ChannelFlags, E> {
                Ok(ChannelFlags::NONE)
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_round_trip() {
        let state: UserState = serde_json::from_str("\"SOMETHING_NEW\"").unwrap();
        assert_eq!(state, UserState::Other("SOMETHING_NEW".into()));
        assert_eq!(serde_json::to_string(&state).unwrap(), "\"SOMETHING_NEW\"");
        let known: CallType = serde_json::from_str("\"inbound\"").unwrap();
        assert_eq!(known, CallType::Inbound);
        assert_eq!(WorkMode::from("OFF_SITE"), WorkMode::OffSite);
    }

    #[test]
    fn channel_flags() {
        let flags = ChannelFlags::parse("HOLD, muted|BOGUS");
        assert!(flags.contains(ChannelFlag::Hold));
        assert!(flags.contains(ChannelFlag::Muted));
        assert!(!flags.contains(ChannelFlag::Coached));
        assert_eq!(flags.to_string(), "HOLD,MUTED");
        let back: ChannelFlags = serde_json::from_str("\"HOLD,MUTED\"").unwrap();
        assert_eq!(back, flags);
        let none: ChannelFlags = serde_json::from_str("null").unwrap();
        assert!(none.is_empty());
        assert!(ChannelFlags::parse("").is_empty());
    }

    #[test]
    fn channel_liveness() {
        assert!(ChannelState::Ringing.is_live());
        assert!(ChannelState::Other("PARKED".into()).is_live());
        assert!(!ChannelState::Released.is_live());
        assert!(ChannelState::Answered.is_answered());
    }
}
