//! Our Opus against libopus itself: packets we encode decode with libopus's
//! `opusdec`, and packets libopus's `opusenc` makes decode with ours. Both run through
//! Ogg Opus files (RFC 7845), written and read here by a small Ogg page codec.

use std::path::Path;
use std::process::Command;

use ccc_media::audio::{AudioFrame, AudioSource, Tone};
use ccc_media::codec::{Codec, Decoder, Encoder};
use ccc_media::dsp::{dominant_tone, level_dbfs};

const TONES: [f64; 5] = [300.0, 440.0, 700.0, 1000.0, 1400.0];

/// The Ogg CRC-32 (polynomial 0x04C11DB7, not reflected, initial 0).
fn ogg_crc(data: &[u8]) -> u32 {
    let mut crc = 0u32;
    for byte in data {
        crc ^= u32::from(*byte) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// One Ogg page holding one packet.
fn page(out: &mut Vec<u8>, flags: u8, granule: u64, sequence: u32, packet: &[u8]) {
    let start = out.len();
    out.extend_from_slice(b"OggS\0");
    out.push(flags);
    out.extend_from_slice(&granule.to_le_bytes());
    out.extend_from_slice(&0x0CCC_0001u32.to_le_bytes());
    out.extend_from_slice(&sequence.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    let mut lacing = vec![255u8; packet.len() / 255];
    lacing.push((packet.len() % 255) as u8);
    out.push(lacing.len() as u8);
    out.extend_from_slice(&lacing);
    out.extend_from_slice(packet);
    let crc = ogg_crc(&out[start..]);
    out[start + 22..start + 26].copy_from_slice(&crc.to_le_bytes());
}

/// An Ogg Opus file of mono 20 ms packets.
fn ogg_opus(packets: &[Vec<u8>], input_rate: u32) -> Vec<u8> {
    let mut head = b"OpusHead".to_vec();
    head.push(1);
    head.push(1);
    head.extend_from_slice(&312u16.to_le_bytes());
    head.extend_from_slice(&input_rate.to_le_bytes());
    head.extend_from_slice(&0u16.to_le_bytes());
    head.push(0);
    let mut tags = b"OpusTags".to_vec();
    tags.extend_from_slice(&8u32.to_le_bytes());
    tags.extend_from_slice(b"ccc-rs t");
    tags.extend_from_slice(&0u32.to_le_bytes());
    let mut out = Vec::new();
    page(&mut out, 0x02, 0, 0, &head);
    page(&mut out, 0x00, 0, 1, &tags);
    for (i, packet) in packets.iter().enumerate() {
        let last = i + 1 == packets.len();
        let granule = 960 * (i as u64 + 1);
        page(
            &mut out,
            if last { 0x04 } else { 0 },
            granule,
            i as u32 + 2,
            packet,
        );
    }
    out
}

/// The packets of an Ogg stream (all logical streams; opusenc writes one).
fn ogg_packets(data: &[u8]) -> Vec<Vec<u8>> {
    let mut packets = Vec::new();
    let mut current = Vec::new();
    let mut at = 0;
    while at + 27 <= data.len() && &data[at..at + 4] == b"OggS" {
        let segments = usize::from(data[at + 26]);
        let lacing = &data[at + 27..at + 27 + segments];
        let mut body = at + 27 + segments;
        for &len in lacing {
            current.extend_from_slice(&data[body..body + usize::from(len)]);
            body += usize::from(len);
            if len < 255 {
                packets.push(std::mem::take(&mut current));
            }
        }
        at = body;
    }
    packets
}

fn tone_frames(frequency: f64, rate: u32, frames: usize) -> Vec<AudioFrame> {
    let mut tone = Tone::new(frequency, 0.4);
    (0..frames)
        .map(|_| {
            let mut frame = AudioFrame::silent(rate);
            tone.fill(&mut frame);
            frame
        })
        .collect()
}

fn opus_tools() -> bool {
    ccc_testpeers::require("opusdec").is_some() && ccc_testpeers::require("opusenc").is_some()
}

fn run(command: &mut Command) {
    let out = command.output().expect("run an opus-tools program");
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read_wav(path: &Path) -> (u32, Vec<i16>) {
    let mut reader = hound::WavReader::open(path).unwrap();
    let spec = reader.spec();
    let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
    let mono = samples
        .chunks(usize::from(spec.channels))
        .map(|c| c[0])
        .collect();
    (spec.sample_rate, mono)
}

#[test]
fn libopus_decodes_what_we_encode() {
    if !opus_tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for frequency in [440.0, 1000.0] {
        let mut encoder = Encoder::new(Codec::Opus).unwrap();
        let frames = tone_frames(frequency, Codec::Opus.pcm_rate(), 100);
        let packets: Vec<Vec<u8>> = frames
            .iter()
            .map(|f| {
                let mut p = Vec::new();
                encoder.encode(f, &mut p).unwrap();
                p
            })
            .collect();
        let opus = dir.path().join(format!("ours-{frequency}.opus"));
        let wav = dir.path().join(format!("ours-{frequency}.wav"));
        std::fs::write(&opus, ogg_opus(&packets, 16_000)).unwrap();
        run(Command::new("opusdec")
            .args(["--quiet", "--rate", "16000"])
            .arg(&opus)
            .arg(&wav));
        let (rate, samples) = read_wav(&wav);
        assert_eq!(rate, 16_000);
        assert!(samples.len() >= 30_000, "{} samples", samples.len());
        let steady = &samples[8000..samples.len() - 4000];
        assert_eq!(dominant_tone(steady, rate, &TONES), Some(frequency));
        // 0.4 of full scale is -11 dBFS for a sine; the level survives within 2 dB.
        let level = level_dbfs(steady);
        assert!(
            (level + 10.97).abs() < 2.0,
            "{frequency} Hz at {level} dBFS"
        );
    }
}

#[test]
fn we_decode_what_libopus_encodes() {
    if !opus_tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (frequency, input_rate, bitrate) in [(700.0, 48_000, "32"), (1400.0, 16_000, "16")] {
        let wav = dir.path().join(format!("in-{frequency}.wav"));
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: input_rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(&wav, spec).unwrap();
        for frame in tone_frames(frequency, input_rate, 100) {
            for s in frame.samples() {
                writer.write_sample(*s).unwrap();
            }
        }
        writer.finalize().unwrap();
        let opus = dir.path().join(format!("libopus-{frequency}.opus"));
        run(Command::new("opusenc")
            .args(["--quiet", "--framesize", "20", "--bitrate", bitrate])
            .arg(&wav)
            .arg(&opus));
        let data = std::fs::read(&opus).unwrap();
        let packets = ogg_packets(&data);
        assert!(packets[0].starts_with(b"OpusHead") && packets[1].starts_with(b"OpusTags"));
        let mut decoder = Decoder::new(Codec::Opus).unwrap();
        let mut frame = AudioFrame::silent(16_000);
        let mut samples = Vec::new();
        for packet in &packets[2..] {
            decoder.decode(packet, &mut frame).unwrap();
            samples.extend_from_slice(frame.samples());
        }
        assert!(samples.len() >= 30_000, "{} samples", samples.len());
        let steady = &samples[8000..samples.len() - 4000];
        assert_eq!(
            dominant_tone(steady, 16_000, &TONES),
            Some(frequency),
            "libopus at {input_rate} Hz, {bitrate} kb/s"
        );
        let level = level_dbfs(steady);
        assert!(
            (level + 10.97).abs() < 2.0,
            "{frequency} Hz at {level} dBFS"
        );
    }
}

#[test]
fn the_ogg_codec_of_this_test_round_trips() {
    let packets = vec![vec![1u8; 10], vec![2u8; 600], vec![]];
    let data = ogg_opus(&packets, 16_000);
    let back = ogg_packets(&data);
    assert_eq!(back.len(), 5);
    assert_eq!(&back[2..], &packets[..]);
    // The CRC of the Ogg specification's check value for "123456789".
    assert_eq!(ogg_crc(b"123456789"), 0x89A1_897F);
}
