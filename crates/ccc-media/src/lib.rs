//! WebRTC audio calls for ccc-rs: codecs, audio sources and sinks, DTMF, quality
//! figures and access-point testing.
//!
//! - [`call`]: [`call::MediaSession`], one audio call over WebRTC (webrtc-rs 0.21.1)
//!   driven by SDP offers and answers: ICE with TURN (all or relay-only), DTLS-SRTP,
//!   hold, ICE restart, 20 ms pacing, jitter buffer, mute, volume, recording, RFC 4733
//!   DTMF, stats with RTT, quality warnings (see `docs/media.md`);
//! - [`codec`]: an encoder and decoder per codec: G.711 mu-law and A-law, Opus;
//! - [`audio`]: 20 ms frames, source and sink traits, silence, tone and WAV sources,
//!   frames pushed and pulled by the program, the stereo call recorder (C12), resampling;
//! - [`dsp`]: Goertzel tone detection and levels;
//! - [`dtmf`]: RFC 4733 telephone-event packets, sender and receiver;
//! - [`quality`]: the ITU-T G.107 E-model (MOS from loss, delay and jitter);
//! - [`access_point`]: the TURN access-point speed test (M33) and ranking, over UDP, TCP
//!   and TLS;
//! - [`device`]: microphones and speakers that survive the loss of their device (real
//!   ones with the `device` feature);
//! - [`check`]: M20 `checkNetwork` and the device check (8001, 8002).

pub mod access_point;
pub mod audio;
pub mod call;
pub mod check;
pub mod codec;
pub mod device;
pub mod dsp;
pub mod dtmf;
pub mod quality;
mod time;
