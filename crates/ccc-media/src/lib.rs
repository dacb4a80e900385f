//! WebRTC audio calls for ccc-rs: codecs, audio sources and sinks, DTMF, quality
//! figures and access-point testing.
//!
//! Built so far, the parts that need no network:
//! - [`codec`]: G.711 mu-law and A-law;
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
