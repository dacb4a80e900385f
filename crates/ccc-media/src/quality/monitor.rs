//! Warnings when call quality crosses a threshold, and the all-clear when it recovers.
//! Sans-IO: feed it each second's figures, drain its alerts.

use std::collections::VecDeque;

use super::CallStats;

/// The figures watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Metric {
    /// Jitter towards us, ms.
    Jitter,
    /// Loss towards us, percent.
    Loss,
    /// Round-trip time, ms.
    Rtt,
    /// The E-model MOS (a warning when below).
    Mos,
}

/// When to warn. A warning clears once the figure is back within 90 % of the threshold
/// (MOS: 0.1 above it), so a figure hovering at the line does not flap.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Thresholds {
    /// Jitter above this many ms (default 30).
    pub jitter_ms: f64,
    /// Loss above this percent (default 3).
    pub loss_percent: f64,
    /// RTT above this many ms (default 400).
    pub rtt_ms: f64,
    /// MOS below this (default 3.5).
    pub mos: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            jitter_ms: 30.0,
            loss_percent: 3.0,
            rtt_ms: 400.0,
            mos: 3.5,
        }
    }
}

/// A threshold crossed (`raised`) or recovered from.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct QualityAlert {
    /// Which figure.
    pub metric: Metric,
    /// Its value now.
    pub value: f64,
    /// The threshold.
    pub threshold: f64,
    /// True when the warning starts, false when it clears.
    pub raised: bool,
}

/// Watches the figures of one call.
#[derive(Debug, Clone)]
pub struct QualityMonitor {
    thresholds: Thresholds,
    active: [bool; 4],
    alerts: VecDeque<QualityAlert>,
}

impl QualityMonitor {
    /// A monitor with these thresholds.
    pub fn new(thresholds: Thresholds) -> Self {
        Self {
            thresholds,
            active: [false; 4],
            alerts: VecDeque::new(),
        }
    }

    /// Takes one second's figures; alerts wait in [`Self::poll_alert`].
    pub fn handle(&mut self, stats: &CallStats) {
        let t = self.thresholds;
        self.check(0, Metric::Jitter, Some(stats.jitter_ms), t.jitter_ms, false);
        self.check(
            1,
            Metric::Loss,
            Some(stats.loss_percent),
            t.loss_percent,
            false,
        );
        self.check(2, Metric::Rtt, stats.rtt_ms, t.rtt_ms, false);
        self.check(3, Metric::Mos, Some(stats.mos), t.mos, true);
    }

    fn check(
        &mut self,
        slot: usize,
        metric: Metric,
        value: Option<f64>,
        threshold: f64,
        below: bool,
    ) {
        let Some(value) = value.filter(|v| v.is_finite()) else {
            return;
        };
        let (bad, recovered) = if below {
            (value < threshold, value >= threshold + 0.1)
        } else {
            (value > threshold, value <= threshold * 0.9)
        };
        let active = &mut self.active[slot];
        if !*active && bad {
            *active = true;
        } else if *active && recovered {
            *active = false;
        } else {
            return;
        }
        // Bounded: at most one alert per metric per call of `handle` is added, and the
        // caller drains them after each.
        if self.alerts.len() < 64 {
            self.alerts.push_back(QualityAlert {
                metric,
                value,
                threshold,
                raised: *active,
            });
        }
    }

    /// The next alert, if any.
    pub fn poll_alert(&mut self) -> Option<QualityAlert> {
        self.alerts.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Codec;

    fn stats(jitter_ms: f64, loss_percent: f64, rtt_ms: Option<f64>) -> CallStats {
        let (r, mos) = CallStats::estimate(Codec::Pcmu, loss_percent, jitter_ms, rtt_ms, 40.0);
        CallStats {
            at_ms: 0,
            codec: Some(Codec::Pcmu),
            packets_sent: 0,
            bytes_sent: 0,
            packets_received: 0,
            bytes_received: 0,
            packets_lost: 0,
            loss_percent,
            jitter_ms,
            remote_loss_percent: None,
            remote_jitter_ms: None,
            rtt_ms,
            level_sent_dbfs: 0.0,
            level_received_dbfs: 0.0,
            concealed_frames: 0,
            late_packets: 0,
            underruns: 0,
            late_ticks: 0,
            r_factor: r,
            mos,
        }
    }

    fn drain(m: &mut QualityMonitor) -> Vec<(Metric, bool)> {
        std::iter::from_fn(|| m.poll_alert())
            .map(|a| (a.metric, a.raised))
            .collect()
    }

    #[test]
    fn warns_once_and_clears_with_hysteresis() {
        let mut m = QualityMonitor::new(Thresholds::default());
        m.handle(&stats(5.0, 0.0, Some(20.0)));
        assert!(drain(&mut m).is_empty(), "a good call raises nothing");
        m.handle(&stats(45.0, 0.0, Some(20.0)));
        assert_eq!(drain(&mut m), [(Metric::Jitter, true)]);
        m.handle(&stats(40.0, 0.0, Some(20.0)));
        assert!(drain(&mut m).is_empty(), "still bad: no repeat");
        m.handle(&stats(28.0, 0.0, Some(20.0)));
        assert!(drain(&mut m).is_empty(), "within 90 %: not yet clear");
        m.handle(&stats(10.0, 0.0, Some(20.0)));
        assert_eq!(drain(&mut m), [(Metric::Jitter, false)]);
    }

    #[test]
    fn heavy_loss_raises_loss_and_mos() {
        let mut m = QualityMonitor::new(Thresholds::default());
        m.handle(&stats(5.0, 15.0, Some(900.0)));
        let alerts = drain(&mut m);
        assert!(alerts.contains(&(Metric::Loss, true)));
        assert!(alerts.contains(&(Metric::Rtt, true)));
        assert!(alerts.contains(&(Metric::Mos, true)));
        m.handle(&stats(5.0, 0.0, None));
        let alerts = drain(&mut m);
        assert!(alerts.contains(&(Metric::Loss, false)));
        assert!(alerts.contains(&(Metric::Mos, false)));
        assert!(
            !alerts.iter().any(|a| a.0 == Metric::Rtt),
            "no RTT figure: no change"
        );
    }
}
