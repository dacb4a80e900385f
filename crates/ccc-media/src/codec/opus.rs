//! Opus through `opus-rs`, a pure-Rust port of libopus 1.6, at 16 kHz mono (wideband
//! voice, SILK). The RTP clock is 48 kHz whatever the PCM rate (RFC 7587), and a 16 kHz
//! decoder plays packets of any bandwidth, so this interworks with browsers that send
//! fullband. `tests/opus_interop.rs` checks both directions against libopus's
//! `opusenc`/`opusdec`.

use super::{Codec, CodecError};

/// The PCM rate of the Opus encoder and decoder here.
pub const PCM_RATE: u32 = 16_000;
/// Samples in a 20 ms frame at [`PCM_RATE`].
const FRAME: usize = (PCM_RATE / 50) as usize;
/// The largest Opus packet (RFC 6716 section 3.4, R2 and R5).
const MAX_PACKET: usize = 1275;

/// The bitrate: 24 kb/s, comfortably wideband for SILK.
pub const BITRATE: i32 = 24_000;
/// The default encoder complexity, 0-10. Encoding costs (release build, one 20 ms frame
/// at 16 kHz, this project's 2-core machine): about 40 us at 0, 80 us at 2, 140 us at 5,
/// 240 us at 9 (libopus's default). 2 keeps SILK's full analysis for voice at a third
/// of the cost of 9, so a hundred calls fit in one core.
pub const COMPLEXITY: u8 = 2;

fn refused(message: &'static str) -> CodecError {
    CodecError::Codec {
        codec: Codec::Opus,
        message,
    }
}

/// An Opus encoder of 20 ms mono frames at 16 kHz.
pub struct OpusEncoder {
    inner: opus_rs::OpusEncoder,
    packet: Vec<u8>,
}

impl OpusEncoder {
    /// A VoIP encoder at [`BITRATE`] and `complexity` (0-10, clamped).
    pub fn new(complexity: u8) -> Result<Self, CodecError> {
        let mut inner = opus_rs::OpusEncoder::new(
            i32::try_from(PCM_RATE).unwrap_or(16_000),
            1,
            opus_rs::Application::Voip,
        )
        .map_err(refused)?;
        inner.bitrate_bps = BITRATE;
        inner.complexity = i32::from(complexity.min(10));
        Ok(Self {
            inner,
            packet: vec![0; MAX_PACKET],
        })
    }

    /// Appends the packet of one 20 ms frame to `out`.
    pub fn encode(&mut self, samples: &[i16], out: &mut Vec<u8>) -> Result<(), CodecError> {
        let n = self
            .inner
            .encode_i16(samples, FRAME, &mut self.packet)
            .map_err(refused)?;
        out.extend_from_slice(&self.packet[..n.min(MAX_PACKET)]);
        Ok(())
    }
}

/// An Opus decoder to 20 ms mono frames at 16 kHz.
pub struct OpusDecoder {
    inner: opus_rs::OpusDecoder,
    pcm: Vec<f32>,
}

impl OpusDecoder {
    /// A mono decoder at 16 kHz (stereo packets are mixed down).
    pub fn new() -> Result<Self, CodecError> {
        let inner = opus_rs::OpusDecoder::new(i32::try_from(PCM_RATE).unwrap_or(16_000), 1)
            .map_err(refused)?;
        // 120 ms, the longest an Opus packet may hold.
        Ok(Self {
            inner,
            pcm: vec![0.0; FRAME * 6],
        })
    }

    /// Decodes `packet` (or conceals a lost 20 ms when `None`), appending samples to `out`.
    pub fn decode(&mut self, packet: Option<&[u8]>, out: &mut Vec<i16>) -> Result<(), CodecError> {
        let input = packet.unwrap_or(&[]);
        if input.len() > MAX_PACKET * 3 {
            return Err(refused("packet too long"));
        }
        // A packet may hold up to 120 ms; ask for as much room as it may need.
        let frame_size = if packet.is_some() {
            self.pcm.len()
        } else {
            FRAME
        };
        // A young port of a large C decoder meets packets from the network here: a panic
        // on a malformed one must cost that packet, not the call. The decoder is rebuilt
        // after one, since its state is then unknown.
        let (inner, pcm) = (&mut self.inner, &mut self.pcm);
        let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            inner.decode(input, frame_size, pcm)
        }));
        let n = match decoded {
            Ok(result) => result.map_err(refused)?,
            Err(_) => {
                *self = Self::new()?;
                return Err(refused("the decoder failed on this packet"));
            }
        };
        out.extend(
            self.pcm[..n.min(self.pcm.len())]
                .iter()
                .map(|x| crate::audio::to_i16(*x)),
        );
        Ok(())
    }
}
