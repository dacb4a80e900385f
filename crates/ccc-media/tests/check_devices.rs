//! The device check (8001 microphone, 8002 speaker) on scripted devices: a microphone
//! that hears a tone, one that gives digital silence, none at all, no speaker.

use std::sync::Arc;
use std::time::Duration;

use ccc_media::check::{
    DeviceCheckOptions, DeviceProblem, MICROPHONE_ERROR, SPEAKER_ERROR, check_devices,
};
use ccc_media::device::{DevicePreference, ScriptedBackend, ScriptedDevice};

fn options() -> DeviceCheckOptions {
    DeviceCheckOptions {
        listen: Duration::from_millis(400),
        ..DeviceCheckOptions::default()
    }
}

#[test]
fn a_microphone_that_hears_and_a_speaker_that_plays_pass() {
    let backend = ScriptedBackend::new();
    backend.plug(
        ScriptedDevice::microphone("mic", 44_100, 2)
            .as_default()
            .with_tone(1000.0, 0.5),
    );
    backend.plug(ScriptedDevice::speaker("speaker", 48_000, 2).as_default());
    let report = check_devices(Arc::new(backend), &options());
    assert!(report.passed(), "{report:#?}");
    assert!(report.error_codes().is_empty());
    let level = report.capture.unwrap();
    assert_eq!(level.device.id, "mic");
    // A sine of peak 0.5: RMS -9 dBFS, peak -6 dBFS.
    assert!((level.rms_dbfs + 9.0).abs() < 1.0, "{level:?}");
    assert!((level.peak_dbfs + 6.0).abs() < 1.0, "{level:?}");
    assert_eq!(report.playback.unwrap().id, "speaker");
}

#[test]
fn a_silent_microphone_is_8001_and_no_speaker_8002() {
    let backend = ScriptedBackend::new();
    backend.plug(ScriptedDevice::microphone("muted", 48_000, 1));
    let report = check_devices(Arc::new(backend.clone()), &options());
    assert_eq!(report.error_codes(), [MICROPHONE_ERROR, SPEAKER_ERROR]);
    assert_eq!(
        report.capture,
        Err(DeviceProblem::Silent {
            device: "muted".into()
        })
    );
    let Err(DeviceProblem::NoDevice(reason)) = &report.playback else {
        panic!("{report:#?}");
    };
    assert!(reason.contains("no playback device"), "{reason}");

    // Silence allowed: the level is reported instead.
    let lenient = DeviceCheckOptions {
        silence_is_error: false,
        ..options()
    };
    let report = check_devices(Arc::new(backend), &lenient);
    assert_eq!(report.capture.unwrap().rms_dbfs, f64::NEG_INFINITY);
}

#[test]
fn no_microphone_or_one_that_will_not_open_is_8001() {
    let backend = ScriptedBackend::new();
    backend.plug(ScriptedDevice::speaker("speaker", 48_000, 2));
    let report = check_devices(Arc::new(backend.clone()), &options());
    assert_eq!(report.error_codes(), [MICROPHONE_ERROR]);
    backend.plug(ScriptedDevice::microphone("locked", 48_000, 1).failing("permission denied"));
    let report = check_devices(Arc::new(backend.clone()), &options());
    let Err(DeviceProblem::NoDevice(reason)) = &report.capture else {
        panic!("{report:#?}");
    };
    assert!(reason.contains("permission denied"), "{reason}");
    assert!(report.playback.is_ok());

    // The microphone asked for is checked, not another.
    backend.plug(ScriptedDevice::microphone("good", 48_000, 1).with_tone(440.0, 0.2));
    let chosen = DeviceCheckOptions {
        microphone: DevicePreference::Id("good".into()),
        ..options()
    };
    let report = check_devices(Arc::new(backend), &chosen);
    assert_eq!(report.capture.unwrap().device.id, "good");
}
