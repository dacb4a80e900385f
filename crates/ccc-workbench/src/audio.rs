//! Where each call's audio comes from and goes: the integrator's [`AudioFactory`].
//!
//! A headless agent (the default) sends silence and drops what it hears; a voice bot
//! plays a file and listens through a [`pulled_sink`](ccc_media::audio::pulled_sink);
//! a softphone opens the microphone and speaker (ccc-media's `device` feature).

use std::fmt;
use std::sync::Arc;

use ccc_media::audio::Silence;
use ccc_media::call::{CallAudio, Discard};

/// What the factory is told about the call it makes audio for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallAudioInfo {
    /// The call (contact) id, when the platform has said it yet.
    pub job_id: Option<Arc<str>>,
    /// The far end's number (`From` of the INVITE, as written).
    pub remote: String,
    /// The status when the call's media started (6 ringing, 8 dialing, ...).
    pub status: ccc_core::Status,
}

/// Makes the audio of each call: what the far end hears and where what it says goes.
pub trait AudioFactory: Send + Sync + 'static {
    /// The audio of the call described by `info`.
    fn audio(&self, info: &CallAudioInfo) -> CallAudio;
}

impl<F> AudioFactory for F
where
    F: Fn(&CallAudioInfo) -> CallAudio + Send + Sync + 'static,
{
    fn audio(&self, info: &CallAudioInfo) -> CallAudio {
        self(info)
    }
}

/// Silence out, nothing in: the default for a headless agent.
#[derive(Debug, Clone, Copy, Default)]
pub struct SilentAudio;

impl AudioFactory for SilentAudio {
    fn audio(&self, _info: &CallAudioInfo) -> CallAudio {
        CallAudio::new(Silence, Discard)
    }
}

/// A shared factory.
#[derive(Clone)]
pub(crate) struct SharedAudio(pub(crate) Arc<dyn AudioFactory>);

impl fmt::Debug for SharedAudio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AudioFactory")
    }
}
