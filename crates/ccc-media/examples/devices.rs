//! Lists the microphones and speakers, then runs the device check (the workbench's
//! "device check": microphone level over one second, speaker present; 8001 / 8002).
//!
//! ```text
//! cargo run -p ccc-media --features device --example devices [-- MICROPHONE-NAME]
//! ```
//!
//! Without the `device` feature it runs on two scripted devices instead, to show the
//! same output.

use std::sync::Arc;

use ccc_media::check::{DeviceCheckOptions, check_devices};
use ccc_media::device::{AudioBackend, DevicePreference, Direction};

fn backend() -> Arc<dyn AudioBackend> {
    #[cfg(feature = "device")]
    {
        Arc::new(ccc_media::device::CpalBackend::new())
    }
    #[cfg(not(feature = "device"))]
    {
        use ccc_media::device::{ScriptedBackend, ScriptedDevice};
        eprintln!("(built without the `device` feature: scripted devices)");
        let scripted = ScriptedBackend::new();
        scripted.plug(
            ScriptedDevice::microphone("scripted microphone", 44_100, 2).with_tone(440.0, 0.3),
        );
        scripted.plug(ScriptedDevice::speaker("scripted speaker", 48_000, 2));
        Arc::new(scripted)
    }
}

fn main() {
    let backend = backend();
    for direction in [Direction::Capture, Direction::Playback] {
        println!("{direction} devices:");
        match backend.devices(direction) {
            Ok(devices) => {
                for d in devices {
                    let default = if d.is_default { " (default)" } else { "" };
                    println!("  {}{default}  [{}]", d.name, d.id);
                }
            }
            Err(e) => println!("  cannot list: {e}"),
        }
    }
    let mut options = DeviceCheckOptions::default();
    if let Some(name) = std::env::args().nth(1) {
        options.microphone = DevicePreference::Name(name);
    }
    let report = check_devices(backend, &options);
    match &report.capture {
        Ok(level) => println!(
            "microphone {}: {:.1} dBFS RMS, {:.1} dBFS peak over {:?}",
            level.device.name, level.rms_dbfs, level.peak_dbfs, level.measured
        ),
        Err(problem) => println!("microphone: {problem}"),
    }
    match &report.playback {
        Ok(device) => println!("speaker {}: plays", device.name),
        Err(problem) => println!("speaker: {problem}"),
    }
    println!("error codes: {:?}", report.error_codes());
}
