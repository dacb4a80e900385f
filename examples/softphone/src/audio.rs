//! The calls' audio. The default build needs no system library: calls send silence
//! and drop what they hear (the workbench's virtual audio). Built with the `device`
//! feature (`cargo run -p ccc-softphone --features device`), each call opens the
//! system's default microphone and speaker through cpal, and the device check listens
//! to them.

use ccc_media::check::DeviceCheckReport;
use ccc_workbench::WorkbenchBuilder;

/// What the panel says the calls' audio is.
#[cfg(feature = "device")]
pub const DESCRIPTION: &str = "microphone and speaker (device feature)";
/// What the panel says the calls' audio is.
#[cfg(not(feature = "device"))]
pub const DESCRIPTION: &str =
    "virtual: silence out, nothing heard (build with --features device for sound)";

/// `builder` with this build's audio.
pub fn with_audio(builder: WorkbenchBuilder) -> WorkbenchBuilder {
    #[cfg(feature = "device")]
    {
        builder.audio(device::DeviceAudio::default())
    }
    #[cfg(not(feature = "device"))]
    {
        builder
    }
}

/// The microphone and speaker check (C35's device check, errors 8001 and 8002);
/// `None` without the `device` feature.
pub async fn check_devices() -> Option<DeviceCheckReport> {
    #[cfg(feature = "device")]
    {
        device::check().await
    }
    #[cfg(not(feature = "device"))]
    {
        None
    }
}

#[cfg(feature = "device")]
mod device {
    use std::sync::Arc;

    use ccc_media::audio::Silence;
    use ccc_media::call::{CallAudio, Discard};
    use ccc_media::check::{DeviceCheckOptions, DeviceCheckReport, check_devices};
    use ccc_media::device::{AudioBackend, CpalBackend, DeviceOptions, Microphone, Speaker};
    use ccc_workbench::{AudioFactory, CallAudioInfo};

    /// Each call's audio from the default microphone to the default speaker; a
    /// device that cannot be opened leaves that side silent (the device check says
    /// why).
    #[derive(Clone)]
    pub(super) struct DeviceAudio {
        backend: Arc<dyn AudioBackend>,
    }

    impl Default for DeviceAudio {
        fn default() -> Self {
            Self {
                backend: Arc::new(CpalBackend::new()),
            }
        }
    }

    impl AudioFactory for DeviceAudio {
        fn audio(&self, _info: &CallAudioInfo) -> CallAudio {
            let microphone = Microphone::open(Arc::clone(&self.backend), DeviceOptions::default());
            let speaker = Speaker::open(Arc::clone(&self.backend), DeviceOptions::default());
            match (microphone, speaker) {
                (Ok((mic, _)), Ok((speaker, _))) => CallAudio::new(mic, speaker),
                (Ok((mic, _)), Err(_)) => CallAudio::new(mic, Discard),
                (Err(_), Ok((speaker, _))) => CallAudio::new(Silence, speaker),
                (Err(_), Err(_)) => CallAudio::new(Silence, Discard),
            }
        }
    }

    pub(super) async fn check() -> Option<DeviceCheckReport> {
        let backend: Arc<dyn AudioBackend> = Arc::new(CpalBackend::new());
        tokio::task::spawn_blocking(move || check_devices(backend, &DeviceCheckOptions::default()))
            .await
            .ok()
    }
}
