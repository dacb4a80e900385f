//! The device check of the workbench (C35 "device check"; the guide's operation errors
//! 8001 and 8002, "check the sound card permission"): is there a microphone that
//! delivers sound, and a speaker that plays?
//!
//! The microphone is listened to for [`DeviceCheckOptions::listen`] (one second, as the
//! workbench does) and its level measured; the speaker is opened and must run its
//! stream meanwhile. Which code means which is not written in the guide, which gives
//! both the same tip; here **8001 is the microphone and 8002 the speaker**.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::audio::{AudioFrame, AudioSource as _};
use crate::device::{
    AudioBackend, DeviceInfo, DeviceOptions, DevicePreference, Microphone, Speaker,
};
use crate::dsp::level_dbfs;

/// The operation error of a microphone that cannot be used.
pub const MICROPHONE_ERROR: u16 = 8001;
/// The operation error of a speaker that cannot be used.
pub const SPEAKER_ERROR: u16 = 8002;

/// How to check.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceCheckOptions {
    /// How long to listen to the microphone (default 1 s).
    pub listen: Duration,
    /// Which microphone.
    pub microphone: DevicePreference,
    /// Which speaker.
    pub speaker: DevicePreference,
    /// Whether a microphone that gives nothing but zeros fails the check (default
    /// true): a working microphone always hears some noise, a muted or dead one often
    /// gives exact silence.
    pub silence_is_error: bool,
    /// How long each device may take to open (default 2 s).
    pub open_timeout: Duration,
}

impl Default for DeviceCheckOptions {
    fn default() -> Self {
        Self {
            listen: Duration::from_secs(1),
            microphone: DevicePreference::SystemDefault,
            speaker: DevicePreference::SystemDefault,
            silence_is_error: true,
            open_timeout: Duration::from_secs(2),
        }
    }
}

/// What the microphone delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureLevel {
    /// The microphone.
    pub device: DeviceInfo,
    /// The RMS level over the listening time, in dBFS (-inf for digital silence).
    pub rms_dbfs: f64,
    /// The loudest sample, in dBFS.
    pub peak_dbfs: f64,
    /// How long was measured.
    pub measured: Duration,
}

/// Why a device cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceProblem {
    /// No device could be opened.
    #[error("{0}")]
    NoDevice(String),
    /// The device opened, but its stream did not run.
    #[error("{device}: its stream did not run")]
    NotRunning {
        /// The device's name.
        device: String,
    },
    /// The microphone gave nothing but zeros (muted, or dead).
    #[error("{device}: digital silence (muted or not working)")]
    Silent {
        /// The device's name.
        device: String,
    },
}

/// The answer of [`check_devices`].
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceCheckReport {
    /// The microphone's level, or why there is none.
    pub capture: Result<CaptureLevel, DeviceProblem>,
    /// The speaker that plays, or why there is none.
    pub playback: Result<DeviceInfo, DeviceProblem>,
}

impl DeviceCheckReport {
    /// The operation errors the check gives: 8001 for the microphone, 8002 for the
    /// speaker; empty when both work.
    pub fn error_codes(&self) -> Vec<u16> {
        let mut codes = Vec::new();
        if self.capture.is_err() {
            codes.push(MICROPHONE_ERROR);
        }
        if self.playback.is_err() {
            codes.push(SPEAKER_ERROR);
        }
        codes
    }

    /// Whether both devices work.
    pub fn passed(&self) -> bool {
        self.capture.is_ok() && self.playback.is_ok()
    }
}

/// Checks the microphone and the speaker on `backend`. Blocks for the listening time
/// (one second by default) plus the time the devices take to open; from async code,
/// call it on a blocking thread (`tokio::task::spawn_blocking`).
pub fn check_devices(
    backend: Arc<dyn AudioBackend>,
    options: &DeviceCheckOptions,
) -> DeviceCheckReport {
    let device_options = |preference: &DevicePreference| DeviceOptions {
        preference: preference.clone(),
        open_timeout: options.open_timeout,
        // Within the check, a device that fails stays failed.
        retry_after: options.listen * 10,
        ..DeviceOptions::default()
    };
    let speaker = Speaker::open(Arc::clone(&backend), device_options(&options.speaker));
    let microphone = Microphone::open(backend, device_options(&options.microphone));

    let capture = match microphone {
        Err(e) => Err(DeviceProblem::NoDevice(e.to_string())),
        Ok((mut microphone, monitor)) => {
            let samples = listen(&mut microphone, options.listen);
            let stats = monitor.stats();
            match monitor.current() {
                None => Err(DeviceProblem::NoDevice(
                    "the microphone was lost while listening".into(),
                )),
                Some((device, _)) if stats.device_frames == 0 => Err(DeviceProblem::NotRunning {
                    device: device.name,
                }),
                Some((device, _))
                    if options.silence_is_error && samples.iter().all(|s| *s == 0) =>
                {
                    Err(DeviceProblem::Silent {
                        device: device.name,
                    })
                }
                Some((device, _)) => Ok(CaptureLevel {
                    device,
                    rms_dbfs: level_dbfs(&samples),
                    peak_dbfs: peak_dbfs(&samples),
                    measured: options.listen,
                }),
            }
        }
    };
    let playback = match speaker {
        Err(e) => Err(DeviceProblem::NoDevice(e.to_string())),
        Ok((_speaker, monitor)) => {
            // Give its stream the listening time to start, if the microphone took none.
            let ran = running(&monitor, options.listen);
            match monitor.current() {
                None => Err(DeviceProblem::NoDevice(
                    "the speaker was lost during the check".into(),
                )),
                Some((device, _)) if !ran => Err(DeviceProblem::NotRunning {
                    device: device.name,
                }),
                Some((device, _)) => Ok(device),
            }
        }
    };
    DeviceCheckReport { capture, playback }
}

/// Whether the stream of `monitor` has run, waiting for it at most `within`.
fn running(monitor: &crate::device::DeviceMonitor, within: Duration) -> bool {
    let deadline = crate::time::after(Instant::now(), within);
    while monitor.stats().device_frames == 0 {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    true
}

/// What the call would hear for `duration`, at the call's pace (20 ms frames at
/// 48 kHz), less the first 100 ms (the converter's start).
fn listen(microphone: &mut Microphone, duration: Duration) -> Vec<i16> {
    const SKIP: usize = 5;
    let mut frame = AudioFrame::silent(48_000);
    let frames = (duration.as_millis() / 20).max(1) as usize + SKIP;
    let mut samples = Vec::with_capacity(frames * frame.samples().len());
    let mut next = Instant::now();
    for i in 0..frames {
        next += Duration::from_millis(20);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        microphone.fill(&mut frame);
        if i >= SKIP {
            samples.extend_from_slice(frame.samples());
        }
    }
    samples
}

fn peak_dbfs(samples: &[i16]) -> f64 {
    let peak = samples
        .iter()
        .map(|s| i32::from(*s).unsigned_abs())
        .max()
        .unwrap_or(0);
    20.0 * (f64::from(peak) / f64::from(i16::MAX)).log10()
}
