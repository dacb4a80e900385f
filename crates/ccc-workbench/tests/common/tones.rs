//! The tones of the media tests: the agent plays [`AGENT_HZ`], the customers
//! [`CUSTOMER_HZ`], and the agent's audio counts what it hears.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use ccc_media::audio::{Tone, pulled_sink};
use ccc_media::call::CallAudio;
use ccc_media::dsp::dominant_tone;
use ccc_workbench::CallAudioInfo;

/// The agent's tone.
pub const AGENT_HZ: f64 = 600.0;
/// The customers' tone (their script's `tone`).
pub const CUSTOMER_HZ: f64 = 1000.0;

/// The agent plays 600 Hz and counts the 20 ms frames in which it hears 1000 Hz.
pub fn counting_audio(heard: Arc<AtomicU32>) -> impl Fn(&CallAudioInfo) -> CallAudio + Send + Sync {
    move |_| {
        let (sink, mut frames) = pulled_sink(64);
        let heard = Arc::clone(&heard);
        tokio::spawn(async move {
            while let Some(frame) = frames.recv().await {
                if dominant_tone(frame.samples(), frame.rate(), &[AGENT_HZ, CUSTOMER_HZ])
                    == Some(CUSTOMER_HZ)
                {
                    heard.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        CallAudio {
            source: Box::new(Tone::new(AGENT_HZ, 0.3)),
            sink: Box::new(sink),
        }
    }
}
