//! The E-model of ITU-T G.107, simplified as G.107 and G.113 allow for VoIP: a
//! transmission rating R from the codec, packet loss and one-way delay, and the MOS it
//! predicts.
//!
//! R = R0 - Is - Id - Ie,eff + A with the default R0 - Is = 93.2 and A = 0;
//! Ie,eff = Ie + (95 - Ie) * Ppl / (Ppl / BurstR + Bpl) with BurstR = 1 (random loss);
//! Id from the one-way delay Ta by the usual linear fit of G.107's delay impairment at
//! its default echo settings (Cole and Rosenbluth, 2001):
//! Id = 0.024 Ta + 0.11 (Ta - 177.3) H(Ta - 177.3).
//! Jitter counts as delay: a jitter buffer adds about twice the jitter.

/// The codec's equipment impairment Ie and packet-loss robustness Bpl (G.113 Appendix I).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CodecImpairment {
    /// Ie.
    pub ie: f64,
    /// Bpl.
    pub bpl: f64,
}

impl CodecImpairment {
    /// G.711 with packet loss concealment: Ie 0, Bpl 25.1.
    pub const G711: Self = Self { ie: 0.0, bpl: 25.1 };
    /// Opus at wideband speech rates, as usually taken: Ie 0, Bpl 20.
    pub const OPUS: Self = Self { ie: 0.0, bpl: 20.0 };
}

/// The rating R for `codec` at `loss_percent` random packet loss and `delay_ms` one-way
/// mouth-to-ear delay (network delay plus jitter buffer plus codec).
pub fn r_factor(codec: CodecImpairment, loss_percent: f64, delay_ms: f64) -> f64 {
    let loss = loss_percent.clamp(0.0, 100.0);
    let ie_eff = codec.ie + (95.0 - codec.ie) * loss / (loss + codec.bpl);
    let ta = delay_ms.max(0.0);
    let id = 0.024 * ta + if ta > 177.3 { 0.11 * (ta - 177.3) } else { 0.0 };
    (93.2 - id - ie_eff).clamp(0.0, 100.0)
}

/// The MOS (1 to 4.5) that a rating R predicts (G.107 Annex B).
pub fn mos_from_r(r: f64) -> f64 {
    if r <= 0.0 {
        1.0
    } else if r >= 100.0 {
        4.5
    } else {
        1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7.0e-6
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_points() {
        // A perfect G.711 call: R 93.2, MOS about 4.41 (the E-model's ceiling for G.711).
        let r = r_factor(CodecImpairment::G711, 0.0, 0.0);
        assert!((r - 93.2).abs() < 1e-9);
        assert!((mos_from_r(r) - 4.41).abs() < 0.01, "{}", mos_from_r(r));
        // R 50 is MOS 2.6 by the Annex B formula.
        assert!((mos_from_r(50.0) - 2.575).abs() < 0.01);
        assert_eq!(mos_from_r(-5.0), 1.0);
        assert_eq!(mos_from_r(120.0), 4.5);
    }

    #[test]
    fn loss_and_delay_lower_the_score() {
        let clean = mos_from_r(r_factor(CodecImpairment::G711, 0.0, 40.0));
        let lossy = mos_from_r(r_factor(CodecImpairment::G711, 5.0, 40.0));
        let late = mos_from_r(r_factor(CodecImpairment::G711, 0.0, 400.0));
        assert!(clean > 4.3);
        assert!(lossy < 3.9 && lossy > 3.0, "5 % loss: {lossy}");
        assert!(late < 3.6, "400 ms: {late}");
        // Past the 3.5 warning threshold at a few percent of loss.
        assert!(mos_from_r(r_factor(CodecImpairment::G711, 8.0, 100.0)) < 3.5);
        // Nonsense in, a bounded score out.
        let m = mos_from_r(r_factor(CodecImpairment::OPUS, f64::NAN.max(200.0), -3.0));
        assert!((1.0..=4.5).contains(&m));
    }
}
