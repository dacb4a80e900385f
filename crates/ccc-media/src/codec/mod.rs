//! Audio codecs of the calls: an encoder and a decoder per payload type.
//!
//! - [`g711`]: mu-law (PCMU, payload type 0) and A-law (PCMA, 8), written here;
//! - [`opus`]: Opus (RFC 6716 / RFC 7587) through the pure-Rust `opus-rs` crate, so the
//!   default build needs nothing but the Rust toolchain. Its packets are checked against
//!   libopus's own tools in `tests/opus_interop.rs`.
//!
//! [`Encoder`] turns 20 ms [`AudioFrame`]s into RTP payloads; [`Decoder`] turns payloads
//! of any packet time (up to [`MAX_PACKET_MS`]) back into samples. Each works at its
//! codec's own PCM rate ([`Codec::pcm_rate`]); the call converts sources and sinks of
//! other rates.

pub mod g711;
pub mod opus;

use crate::audio::AudioFrame;

/// The codecs a call can negotiate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Codec {
    /// Opus, `opus/48000/2` in SDP (sent as mono), wideband voice.
    Opus,
    /// G.711 mu-law, `PCMU/8000`.
    Pcmu,
    /// G.711 A-law, `PCMA/8000`.
    Pcma,
}

impl Codec {
    /// Every codec, in the default order of preference.
    pub const ALL: [Self; 3] = [Self::Opus, Self::Pcmu, Self::Pcma];

    /// The SDP MIME type (`audio/opus`, ...).
    pub const fn mime_type(self) -> &'static str {
        match self {
            Self::Opus => "audio/opus",
            Self::Pcmu => "audio/PCMU",
            Self::Pcma => "audio/PCMA",
        }
    }

    /// The codec of a MIME type (case-insensitive, as SDP encoding names are).
    pub fn from_mime_type(mime: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.mime_type().eq_ignore_ascii_case(mime))
    }

    /// The usual payload type (static 0 and 8; 111 for Opus as browsers use).
    pub const fn payload_type(self) -> u8 {
        match self {
            Self::Opus => 111,
            Self::Pcmu => 0,
            Self::Pcma => 8,
        }
    }

    /// The RTP clock rate: 48000 for Opus (always, RFC 7587), 8000 for G.711.
    pub const fn clock_rate(self) -> u32 {
        match self {
            Self::Opus => 48_000,
            Self::Pcmu | Self::Pcma => 8_000,
        }
    }

    /// The channel count written in SDP (Opus is always declared as 2).
    pub const fn sdp_channels(self) -> u16 {
        match self {
            Self::Opus => 2,
            Self::Pcmu | Self::Pcma => 0,
        }
    }

    /// The SDP `a=fmtp` parameters offered.
    pub const fn sdp_fmtp(self) -> &'static str {
        match self {
            Self::Opus => "minptime=10;useinbandfec=1",
            Self::Pcmu | Self::Pcma => "",
        }
    }

    /// The PCM rate the encoder takes and the decoder gives: 16 kHz for Opus (wideband
    /// voice; the RTP clock stays 48 kHz), 8 kHz for G.711.
    pub const fn pcm_rate(self) -> u32 {
        match self {
            Self::Opus => opus::PCM_RATE,
            Self::Pcmu | Self::Pcma => 8_000,
        }
    }

    /// RTP clock units in one 20 ms frame.
    pub const fn frame_units(self) -> u32 {
        self.clock_rate() / 50
    }

    /// The name used in events and logs (`opus`, `pcmu`, `pcma`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Opus => "opus",
            Self::Pcmu => "pcmu",
            Self::Pcma => "pcma",
        }
    }

    /// The codec's figures for the E-model.
    pub const fn impairment(self) -> crate::quality::CodecImpairment {
        match self {
            Self::Opus => crate::quality::CodecImpairment::OPUS,
            Self::Pcmu | Self::Pcma => crate::quality::CodecImpairment::G711,
        }
    }
}

impl std::fmt::Display for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What can go wrong in a codec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The frame is not at the codec's PCM rate or not 20 ms long.
    #[error("{codec} takes 20 ms frames at {want} Hz, got {got} samples at {rate} Hz")]
    FrameFormat {
        /// The codec.
        codec: Codec,
        /// Its PCM rate.
        want: u32,
        /// The frame's rate.
        rate: u32,
        /// The frame's length.
        got: usize,
    },
    /// The codec library refused (a malformed packet, for a decoder).
    #[error("{codec}: {message}")]
    Codec {
        /// The codec.
        codec: Codec,
        /// What it said.
        message: &'static str,
    },
}

/// Encodes 20 ms frames of one codec into RTP payloads.
pub struct Encoder {
    codec: Codec,
    opus: Option<opus::OpusEncoder>,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("codec", &self.codec)
            .finish()
    }
}

impl Encoder {
    /// An encoder of `codec` (Opus at [`opus::COMPLEXITY`]).
    pub fn new(codec: Codec) -> Result<Self, CodecError> {
        Self::with_opus_complexity(codec, opus::COMPLEXITY)
    }

    /// An encoder of `codec`; an Opus one at `complexity` (0-10: CPU against quality).
    pub fn with_opus_complexity(codec: Codec, complexity: u8) -> Result<Self, CodecError> {
        let opus = match codec {
            Codec::Opus => Some(opus::OpusEncoder::new(complexity)?),
            Codec::Pcmu | Codec::Pcma => None,
        };
        Ok(Self { codec, opus })
    }

    /// The codec.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Appends the payload of `frame` (20 ms at [`Codec::pcm_rate`]) to `out`.
    pub fn encode(&mut self, frame: &AudioFrame, out: &mut Vec<u8>) -> Result<(), CodecError> {
        check_frame(self.codec, frame)?;
        match (self.codec, self.opus.as_mut()) {
            (Codec::Opus, Some(opus)) => opus.encode(frame.samples(), out),
            (Codec::Pcma, _) => {
                g711::alaw_encode_into(frame.samples(), out);
                Ok(())
            }
            _ => {
                g711::ulaw_encode_into(frame.samples(), out);
                Ok(())
            }
        }
    }
}

/// The most audio one received packet may hold: 120 ms, the longest Opus packet (RFC 6716
/// section 3.2.5), which also covers G.711 at any packet time a gateway uses (10 to
/// 60 ms, rarely 120 ms). What a G.711 packet holds beyond this is cut.
pub const MAX_PACKET_MS: u32 = 120;

/// Decodes RTP payloads of one codec, whatever duration each holds, and conceals lost
/// ones.
pub struct Decoder {
    codec: Codec,
    opus: Option<opus::OpusDecoder>,
    scratch: Vec<i16>,
    /// The last 20 ms decoded, faded for G.711 concealment.
    last: Vec<i16>,
    /// 20 ms stretches concealed since the last good packet.
    concealed_in_a_row: u32,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("codec", &self.codec)
            .finish()
    }
}

impl Decoder {
    /// A decoder of `codec`.
    pub fn new(codec: Codec) -> Result<Self, CodecError> {
        let opus = match codec {
            Codec::Opus => Some(opus::OpusDecoder::new()?),
            Codec::Pcmu | Codec::Pcma => None,
        };
        Ok(Self {
            codec,
            opus,
            scratch: Vec::with_capacity(Self::max_samples(codec)),
            last: vec![0; AudioFrame::len_at(codec.pcm_rate())],
            concealed_in_a_row: 0,
        })
    }

    /// The codec.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Samples in [`MAX_PACKET_MS`] at the codec's PCM rate.
    fn max_samples(codec: Codec) -> usize {
        AudioFrame::len_at(codec.pcm_rate()) * (MAX_PACKET_MS / crate::audio::FRAME_MS) as usize
    }

    /// Decodes one payload, appending all the audio it holds (any packet time up to
    /// [`MAX_PACKET_MS`]) at [`Codec::pcm_rate`] to `out`; gives how many samples.
    pub fn decode_into(&mut self, payload: &[u8], out: &mut Vec<i16>) -> Result<usize, CodecError> {
        self.scratch.clear();
        match (self.codec, self.opus.as_mut()) {
            (Codec::Opus, Some(opus)) => opus.decode(Some(payload), &mut self.scratch)?,
            (Codec::Pcma, _) => g711::alaw_decode_into(payload, &mut self.scratch),
            _ => g711::ulaw_decode_into(payload, &mut self.scratch),
        }
        self.scratch.truncate(Self::max_samples(self.codec));
        out.extend_from_slice(&self.scratch);
        let tail = self.scratch.len().saturating_sub(self.last.len());
        if !self.scratch.is_empty() {
            self.last.fill(0);
            let kept = &self.scratch[tail..];
            self.last[..kept.len()].copy_from_slice(kept);
            self.concealed_in_a_row = 0;
        }
        Ok(self.scratch.len())
    }

    /// Appends `samples` of audio (at most [`MAX_PACKET_MS`]) for a packet that never
    /// came: Opus's own concealment; for G.711 the last 20 ms again, fading out over
    /// three 20 ms (after which silence).
    pub fn conceal_into(&mut self, samples: usize, out: &mut Vec<i16>) {
        let samples = samples.min(Self::max_samples(self.codec));
        let frame = self.last.len().max(1);
        let mut done = 0;
        while done < samples {
            let n = frame.min(samples - done);
            self.concealed_in_a_row = self.concealed_in_a_row.saturating_add(1);
            if let Some(opus) = self.opus.as_mut() {
                self.scratch.clear();
                if opus.decode(None, &mut self.scratch).is_ok() {
                    self.scratch.resize(n, 0);
                    out.extend_from_slice(&self.scratch);
                    done += n;
                    continue;
                }
            }
            let gain = match self.concealed_in_a_row {
                1 => 0.75,
                2 => 0.5,
                3 => 0.25,
                _ => 0.0,
            };
            out.extend(self.last[..n].iter().map(|last| {
                // |last * gain| <= |last|, so the cast cannot overflow.
                #[allow(clippy::cast_possible_truncation)]
                let s = (f32::from(*last) * gain) as i16;
                s
            }));
            done += n;
        }
    }

    /// Decodes one payload into `frame` (made 20 ms at [`Codec::pcm_rate`] if it is not).
    /// A payload holding less than 20 ms is padded with silence, more is cut: use
    /// [`Self::decode_into`] to keep all of a longer packet.
    pub fn decode(&mut self, payload: &[u8], frame: &mut AudioFrame) -> Result<(), CodecError> {
        if frame.rate() != self.codec.pcm_rate() {
            *frame = AudioFrame::silent(self.codec.pcm_rate());
        }
        let mut samples = std::mem::take(&mut self.scratch);
        samples.clear();
        let result = self.decode_into(payload, &mut samples);
        samples.resize(frame.samples().len(), 0);
        frame.samples_mut().copy_from_slice(&samples);
        self.scratch = samples;
        result.map(|_| ())
    }

    /// Fills `frame` (20 ms) for a packet that never came, as [`Self::conceal_into`].
    pub fn conceal(&mut self, frame: &mut AudioFrame) {
        if frame.rate() != self.codec.pcm_rate() {
            *frame = AudioFrame::silent(self.codec.pcm_rate());
        }
        let mut samples = Vec::with_capacity(frame.samples().len());
        self.conceal_into(frame.samples().len(), &mut samples);
        samples.resize(frame.samples().len(), 0);
        frame.samples_mut().copy_from_slice(&samples);
    }
}

fn check_frame(codec: Codec, frame: &AudioFrame) -> Result<(), CodecError> {
    let want = codec.pcm_rate();
    if frame.rate() != want || frame.samples().len() != AudioFrame::len_at(want) {
        return Err(CodecError::FrameFormat {
            codec,
            want,
            rate: frame.rate(),
            got: frame.samples().len(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::{AudioSource, Tone};
    use crate::dsp::dominant_tone;

    /// Encodes and decodes 1 s of a tone; the tone comes out.
    fn round_trip(codec: Codec, frequency: f64) -> Vec<i16> {
        let mut encoder = Encoder::new(codec).unwrap();
        let mut decoder = Decoder::new(codec).unwrap();
        let mut tone = Tone::new(frequency, 0.4);
        let mut frame = AudioFrame::silent(codec.pcm_rate());
        let mut heard = AudioFrame::silent(codec.pcm_rate());
        let mut out = Vec::new();
        let mut payload = Vec::new();
        for _ in 0..50 {
            tone.fill(&mut frame);
            payload.clear();
            encoder.encode(&frame, &mut payload).unwrap();
            assert!(!payload.is_empty() && payload.len() <= 1275);
            decoder.decode(&payload, &mut heard).unwrap();
            out.extend_from_slice(heard.samples());
        }
        out
    }

    #[test]
    fn every_codec_carries_a_tone() {
        for codec in Codec::ALL {
            for f in [440.0, 1000.0] {
                let out = round_trip(codec, f);
                let rate = codec.pcm_rate();
                let steady = &out[out.len() / 2..];
                assert_eq!(
                    dominant_tone(steady, rate, &[440.0, 700.0, 1000.0, 1400.0]),
                    Some(f),
                    "{codec} at {f} Hz"
                );
            }
        }
    }

    #[test]
    fn wrong_frames_and_garbage_are_errors_not_panics() {
        let mut encoder = Encoder::new(Codec::Pcmu).unwrap();
        let mut out = Vec::new();
        assert!(matches!(
            encoder.encode(&AudioFrame::silent(48_000), &mut out),
            Err(CodecError::FrameFormat { .. })
        ));
        let mut decoder = Decoder::new(Codec::Opus).unwrap();
        let mut frame = AudioFrame::silent(8000);
        for garbage in [
            &[][..],
            &[0xFF][..],
            &[0xFF, 0xFF, 0xFF][..],
            &[3u8; 1500][..],
        ] {
            let _ = decoder.decode(garbage, &mut frame);
            assert_eq!(frame.rate(), Codec::Opus.pcm_rate());
        }
        // A short G.711 payload is padded, a long one cut.
        let mut g711 = Decoder::new(Codec::Pcma).unwrap();
        g711.decode(&[0xD5; 10], &mut frame).unwrap();
        assert_eq!(frame.samples().len(), 160);
        g711.decode(&[0xD5; 1000], &mut frame).unwrap();
        assert_eq!(frame.samples().len(), 160);
    }

    #[test]
    fn concealment_fades_g711_and_keeps_opus_going() {
        let mut decoder = Decoder::new(Codec::Pcmu).unwrap();
        let mut frame = AudioFrame::silent(8000);
        decoder.decode(&[0x80; 160], &mut frame).unwrap();
        let loud = frame.samples()[0];
        assert!(loud.abs() > 8000);
        decoder.conceal(&mut frame);
        assert!(frame.samples()[0].abs() < loud.abs());
        for _ in 0..3 {
            decoder.conceal(&mut frame);
        }
        assert!(frame.samples().iter().all(|s| *s == 0));
        let mut opus = Decoder::new(Codec::Opus).unwrap();
        let mut frame = AudioFrame::silent(16_000);
        opus.conceal(&mut frame);
        assert_eq!(frame.samples().len(), 320);
    }

    #[test]
    fn a_packet_of_any_duration_decodes_whole() {
        // 60 ms of G.711 (480 bytes), as G.711 gateways send with a=ptime:60.
        let mut decoder = Decoder::new(Codec::Pcmu).unwrap();
        let mut out = Vec::new();
        assert_eq!(decoder.decode_into(&[0x80; 480], &mut out).unwrap(), 480);
        assert_eq!(out.len(), 480);
        // More than 120 ms is cut there.
        out.clear();
        assert_eq!(decoder.decode_into(&[0x80; 1500], &mut out).unwrap(), 960);
        // Concealing 60 ms fades the last 20 ms out, then silence.
        out.clear();
        decoder.conceal_into(480 + 160, &mut out);
        assert_eq!(out.len(), 640);
        assert!(out[0].abs() > 4000 && out[480..].iter().all(|s| *s == 0));
        // Opus: 60 ms of concealment at 16 kHz.
        let mut opus = Decoder::new(Codec::Opus).unwrap();
        out.clear();
        opus.conceal_into(960, &mut out);
        assert_eq!(out.len(), 960);
    }

    #[test]
    fn names() {
        assert_eq!(Codec::from_mime_type("AUDIO/pcmu"), Some(Codec::Pcmu));
        assert_eq!(Codec::from_mime_type("audio/G722"), None);
        assert_eq!(Codec::Opus.frame_units(), 960);
        assert_eq!(Codec::Pcma.frame_units(), 160);
    }
}
