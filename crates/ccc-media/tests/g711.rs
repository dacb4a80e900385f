//! G.711 against CPython's audioop: every code word, every 16-bit sample.

use ccc_media::codec::g711::{alaw_decode, alaw_encode, ulaw_decode, ulaw_encode};
use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str(include_str!("data/g711.json")).expect("valid vectors")
}

fn fnv1a64(data: impl Iterator<Item = u8>) -> u64 {
    data.fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    })
}

fn check(law: &str, decode: fn(u8) -> i16, encode: fn(i16) -> u8) {
    let v = &vectors()[law];
    let table = v["decode"].as_array().unwrap();
    assert_eq!(table.len(), 256);
    for (word, want) in table.iter().enumerate() {
        let word = u8::try_from(word).unwrap();
        assert_eq!(
            i64::from(decode(word)),
            want.as_i64().unwrap(),
            "{law} decode {word:#04x}"
        );
    }
    for pair in v["encode_samples"].as_array().unwrap() {
        let sample = i16::try_from(pair[0].as_i64().unwrap()).unwrap();
        let want = pair[1].as_u64().unwrap();
        assert_eq!(u64::from(encode(sample)), want, "{law} encode {sample}");
    }
    let all = fnv1a64((i16::MIN..=i16::MAX).map(encode));
    assert_eq!(
        format!("{all:016x}"),
        v["encode_all_fnv1a64"].as_str().unwrap(),
        "{law}: every sample"
    );
}

#[test]
fn ulaw_matches_audioop() {
    check("ulaw", ulaw_decode, ulaw_encode);
}

#[test]
fn alaw_matches_audioop() {
    check("alaw", alaw_decode, alaw_encode);
}

#[test]
fn code_words_survive_a_round_trip() {
    for word in 0..=255u8 {
        assert_eq!(alaw_encode(alaw_decode(word)), word, "A-law {word:#04x}");
        // Mu-law has two zeros (0x7F and 0xFF); both decode to 0, which encodes as 0xFF.
        let back = ulaw_encode(ulaw_decode(word));
        assert!(
            back == word || (word == 0x7F && back == 0xFF),
            "mu-law {word:#04x} -> {back:#04x}"
        );
    }
}
