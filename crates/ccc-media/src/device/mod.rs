//! Microphones and speakers: device listing and selection, a [`Microphone`] that is an
//! [`AudioSource`](crate::audio::AudioSource) and a [`Speaker`] that is an
//! [`AudioSink`](crate::audio::AudioSink), both surviving the loss of their device.
//!
//! The sound system is reached through an [`AudioBackend`]: `CpalBackend` (cargo
//! feature `device`, cpal; on Linux it needs ALSA's headers, `libasound2-dev`) for real
//! devices, [`ScriptedBackend`] for devices that exist only in memory (tests, demos,
//! machines without sound cards). Everything else here is the same for both.
//!
//! How a device is chosen ([`DevicePreference`]): the one asked for by id, else by name
//! (exact, then a part of it), else the system's default, else the first listed. When
//! the device in use is lost (unplugged: the backend reports it, or it is no longer
//! listed, or it stops delivering audio for [`DeviceOptions::stall_after`]), the next
//! one by the same order is opened and the call goes on; meanwhile the microphone gives
//! silence and the speaker drops what it is given. When no device is left, the search
//! goes on every [`DeviceOptions::rescan_every`] until one appears. When a device the
//! preference ranks higher comes back (the headset plugged in again), it is taken back
//! ([`DeviceOptions::return_to_preferred`]).
//!
//! Rates: the device is opened at [`DeviceOptions::rate`] when it can do it, else at a
//! rate it can do; the frames of the call (8 kHz for G.711, 48 kHz for Opus) are
//! converted with [`FrameResampler`](crate::audio::FrameResampler). Channels are mixed
//! down to mono on capture and copied to every channel on playback. The device's clock
//! and the call's 20 ms clock drift apart slowly: the microphone drops what is queued
//! beyond [`DeviceOptions::buffer`], the speaker drops what does not fit, and plays
//! silence when it runs dry (counted in [`DeviceStats`]).
//!
//! Threads: the backend's audio callbacks exchange samples with `Microphone::fill` and
//! `Speaker::write` through lock-free single-producer single-consumer rings (rtrb);
//! one thread per microphone or speaker watches the device, runs the
//! selection (the sans-IO core of `device/failover.rs`, tested on simulated time) and opens and
//! closes streams.

mod backend;
#[cfg(feature = "device")]
mod cpal_backend;
mod endpoint;
pub(crate) mod failover;
mod scripted;
mod worker;

use std::time::Duration;

pub use backend::{AudioBackend, CaptureWriter, FaultNotifier, OpenStream, PlaybackReader};
#[cfg(feature = "device")]
pub use cpal_backend::CpalBackend;
pub use endpoint::{DeviceMonitor, DeviceStats, Microphone, Speaker};
pub use scripted::{ScriptedBackend, ScriptedDevice, Signal};

/// Capture (microphones) or playback (speakers, headsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Microphones.
    Capture,
    /// Speakers.
    Playback,
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Capture => "capture",
            Self::Playback => "playback",
        })
    }
}

/// A device as the backend lists it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceInfo {
    /// The backend's identifier, stable while the device stays plugged in (cpal's
    /// device id, `alsa:hw:CARD=1,DEV=0` and the like).
    pub id: String,
    /// The name to show.
    pub name: String,
    /// Capture or playback.
    pub direction: Direction,
    /// Whether the system names it its default for this direction.
    pub is_default: bool,
}

/// The format of an open stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StreamFormat {
    /// Samples per second per channel (a multiple of 50, so that 20 ms is whole).
    pub rate: u32,
    /// Interleaved channels.
    pub channels: u16,
}

/// Which device to use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DevicePreference {
    /// The system's default (the default).
    #[default]
    SystemDefault,
    /// The device with this [`DeviceInfo::id`].
    Id(String),
    /// The device with this name (case ignored), else the first whose name contains it.
    Name(String),
}

/// How a [`Microphone`] or [`Speaker`] chooses, watches and buffers its device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceOptions {
    /// Which device.
    pub preference: DevicePreference,
    /// The rate to open devices at when they can do it (default 48 kHz, Opus's).
    pub rate: u32,
    /// How often the device list is read again (default 2 s): to find a device when
    /// none is left, to see one vanish that the backend did not report, and to see the
    /// preferred one come back.
    pub rescan_every: Duration,
    /// A stream whose callbacks stop for this long is taken as lost (default 500 ms).
    pub stall_after: Duration,
    /// A device that was lost or failed to open is not tried again before this (default
    /// 3 s), doubled each time it fails again (at most 64 times), so that a flaky one
    /// cannot make the selection spin. Forgotten when the device leaves the list: one
    /// unplugged and plugged in again is taken at the next scan.
    pub retry_after: Duration,
    /// Whether to move back to a device the preference ranks higher when it reappears
    /// (default true).
    pub return_to_preferred: bool,
    /// How much audio may queue between the device and the call (default 100 ms); the
    /// speaker starts playing once a fifth of it (20 ms) is queued.
    pub buffer: Duration,
    /// How long [`Microphone::open`] and [`Speaker::open`] wait for the first device
    /// (default 2 s).
    pub open_timeout: Duration,
}

impl Default for DeviceOptions {
    fn default() -> Self {
        Self {
            preference: DevicePreference::SystemDefault,
            rate: 48_000,
            rescan_every: Duration::from_secs(2),
            stall_after: Duration::from_millis(500),
            retry_after: Duration::from_secs(3),
            return_to_preferred: true,
            buffer: Duration::from_millis(100),
            open_timeout: Duration::from_secs(2),
        }
    }
}

impl DeviceOptions {
    /// The defaults with `preference`.
    pub fn prefer(preference: DevicePreference) -> Self {
        Self {
            preference,
            ..Self::default()
        }
    }
}

/// What happened to the device of a [`Microphone`] or [`Speaker`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceEvent {
    /// This device is now in use, in this format.
    Opened {
        /// The device.
        device: DeviceInfo,
        /// Its stream's format.
        format: StreamFormat,
    },
    /// The device in use was lost (unplugged, no longer listed, or silent for too long).
    Lost {
        /// The device.
        device: DeviceInfo,
        /// What was seen.
        reason: String,
    },
    /// A device failed to open; the next one is tried.
    OpenFailed {
        /// The device.
        device: DeviceInfo,
        /// The backend's error.
        reason: String,
    },
    /// No device can be used now: silence (or nothing played) until one appears.
    NoDevice,
}

/// What can go wrong with devices.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// No device of this direction could be opened.
    #[error("no {direction} device can be used: {reason}")]
    NoDevice {
        /// Capture or playback.
        direction: Direction,
        /// Why: nothing listed, or each device's failure.
        reason: String,
    },
    /// The device cannot stream in any format this crate handles.
    #[error("unsupported format: {0}")]
    Unsupported(String),
    /// The system refused access to the device.
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// The sound system failed.
    #[error("audio backend: {0}")]
    Backend(String),
    /// The device did not open in time.
    #[error("the device did not open within {0:?}")]
    Timeout(Duration),
}
