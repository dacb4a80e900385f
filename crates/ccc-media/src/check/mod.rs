//! The checks of the guide: M20 `checkNetwork` (can the SIP, agent-link and TURN
//! addresses be reached, or are they blocked) in [`network`], and the device check of
//! the workbench (C35 "device check": capture level over one second, playback device
//! present, operation errors 8001 and 8002 when not) in [`device`].

pub mod device;
pub mod network;

pub use device::{
    CaptureLevel, DeviceCheckOptions, DeviceCheckReport, DeviceProblem, MICROPHONE_ERROR,
    SPEAKER_ERROR, check_devices,
};
pub use network::{
    NetworkCheckOptions, NetworkReport, Outcome, Service, Stage, Target, TargetReport,
    check_network,
};
