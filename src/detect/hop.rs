//! Frequency-hopping links (drone RC, FHSS telemetry): many short bursts of similar width at
//! distinct frequencies. Bursts that end within `max_burst_s` and belong to no reported
//! emitter are collected over a sliding window; when enough distinct frequencies show up,
//! they are one hopper, reported once. From then on every burst of similar width inside
//! (or just beyond) its span belongs to it, so the channels never become emitters of their
//! own.

use std::collections::VecDeque;

/// Parameters of the hop detector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HopConfig {
    /// A burst longer than this is not a hop.
    pub max_burst_s: f64,
    /// Bursts older than this are forgotten.
    pub window_s: f64,
    /// Distinct frequencies within the window that make a hopper.
    pub min_channels: usize,
    /// Bursts within this factor of the median width belong together.
    pub width_ratio: f64,
    /// Bursts weaker than this (in-band SNR) are not counted: noise crossings are.
    pub min_snr_db: f64,
    /// Bursts narrower than this many Hz are not counted (a lone noise bin).
    pub min_bandwidth_hz: f64,
    /// Bursts further than this from the median level (dB) are not the same hopper: one
    /// transmitter's hops arrive at about one level (fading spreads it by a few dB), while
    /// a strong transmission's spurs and tones sit tens of dB apart.
    pub level_spread_db: f64,
}

impl Default for HopConfig {
    fn default() -> Self {
        HopConfig {
            max_burst_s: 0.06,
            window_s: 0.5,
            min_channels: 5,
            width_ratio: 2.5,
            min_snr_db: 3.0,
            min_bandwidth_hz: 0.0,
            level_spread_db: 10.0,
        }
    }
}

/// One short burst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Burst {
    /// Stream time it started.
    pub start_s: f64,
    /// Stream time it was last seen.
    pub end_s: f64,
    /// Centre frequency.
    pub freq_hz: f64,
    /// Occupied bandwidth.
    pub bandwidth_hz: f64,
    /// In-band power, dBFS.
    pub power_dbfs: f64,
    /// In-band SNR.
    pub snr_db: f64,
}

/// A hopper found from its bursts.
#[derive(Debug, Clone, PartialEq)]
pub struct Hopper {
    /// Alert id.
    pub alert_id: u64,
    /// First burst.
    pub first_seen_s: f64,
    /// Last burst.
    pub last_seen_s: f64,
    /// Lowest hop edge.
    pub lo_hz: f64,
    /// Highest hop edge.
    pub hi_hz: f64,
    /// Typical width of one hop.
    pub hop_bandwidth_hz: f64,
    /// Smoothed burst power.
    pub power_dbfs: f64,
    /// Smoothed burst SNR.
    pub snr_db: f64,
    /// Band-plan band of its centre.
    pub band: Option<std::sync::Arc<str>>,
    /// Severity of its alerts.
    pub severity: crate::alert::Severity,
    /// Bursts attributed so far.
    pub bursts: u64,
    /// Time of the last `updated` report.
    pub last_report_s: f64,
}

impl Hopper {
    /// Whether a detection of width `bw_hz` spanning `lo..hi` belongs to this hopper.
    pub fn claims(&self, lo_hz: f64, hi_hz: f64, bw_hz: f64, width_ratio: f64) -> bool {
        // The channels seen first rarely span the whole hop set: claim similar bursts a
        // quarter of the span beyond it too, and grow the span as they come.
        let margin = (2.0 * self.hop_bandwidth_hz).max(0.25 * (self.hi_hz - self.lo_hz));
        let similar = bw_hz <= self.hop_bandwidth_hz * width_ratio;
        similar && hi_hz >= self.lo_hz - margin && lo_hz <= self.hi_hz + margin
    }
}

/// A hopper just recognised from its bursts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found {
    /// Start of its earliest burst.
    pub first_s: f64,
    /// Lowest hop edge.
    pub lo_hz: f64,
    /// Highest hop edge.
    pub hi_hz: f64,
    /// Median hop width.
    pub hop_bandwidth_hz: f64,
    /// Mean burst power.
    pub power_dbfs: f64,
    /// Mean burst SNR.
    pub snr_db: f64,
}

/// Collects bursts and recognises hoppers.
#[derive(Debug, Clone)]
pub struct HopDetector {
    cfg: HopConfig,
    recent: VecDeque<Burst>,
    widths: Vec<f64>,
    freqs: Vec<f64>,
}

impl HopDetector {
    /// An empty detector.
    pub fn new(cfg: HopConfig) -> Self {
        HopDetector {
            cfg,
            recent: VecDeque::with_capacity(256),
            widths: Vec::with_capacity(256),
            freqs: Vec::with_capacity(256),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &HopConfig {
        &self.cfg
    }

    /// Whether short bursts at other frequencies than `b`'s (at least its width away) ended
    /// within the window before it: then `b` may be one hop of a hopper.
    pub fn has_recent_other(&self, b: &Burst) -> bool {
        self.recent.iter().any(|o| {
            b.end_s - o.end_s <= self.cfg.window_s
                && (o.freq_hz - b.freq_hz).abs() >= b.bandwidth_hz.max(o.bandwidth_hz)
        })
    }

    /// Records a finished burst; returns what the hopper looks like when the window now
    /// holds enough distinct channels of similar width.
    pub fn record(&mut self, b: Burst) -> Option<Found> {
        if b.end_s - b.start_s > self.cfg.max_burst_s
            || b.snr_db < self.cfg.min_snr_db
            || b.bandwidth_hz < self.cfg.min_bandwidth_hz
        {
            return None;
        }
        while self
            .recent
            .front()
            .is_some_and(|o| b.end_s - o.end_s > self.cfg.window_s)
        {
            self.recent.pop_front();
        }
        if self.recent.len() == self.recent.capacity() {
            self.recent.pop_front();
        }
        self.recent.push_back(b);
        if self.recent.len() < self.cfg.min_channels {
            return None;
        }
        self.widths.clear();
        self.widths
            .extend(self.recent.iter().map(|o| o.bandwidth_hz));
        let mid = self.widths.len() / 2;
        let (_, median, _) = self.widths.select_nth_unstable_by(mid, f64::total_cmp);
        let median = *median;
        let r = self.cfg.width_ratio;
        let similar_width =
            |o: &&Burst| o.bandwidth_hz <= median * r && o.bandwidth_hz >= median / r;
        self.widths.clear();
        self.widths.extend(
            self.recent
                .iter()
                .filter(similar_width)
                .map(|o| o.power_dbfs),
        );
        let mid = self.widths.len() / 2;
        let (_, level, _) = self.widths.select_nth_unstable_by(mid, f64::total_cmp);
        let level = *level;
        let spread = self.cfg.level_spread_db;
        let similar = move |o: &&Burst| similar_width(o) && (o.power_dbfs - level).abs() <= spread;
        self.freqs.clear();
        self.freqs
            .extend(self.recent.iter().filter(similar).map(|o| o.freq_hz));
        self.freqs.sort_by(f64::total_cmp);
        // Distinct: centres at least one hop width apart.
        let mut channels = 0usize;
        let mut last = f64::NEG_INFINITY;
        for &f in &self.freqs {
            if f - last >= median {
                channels += 1;
                last = f;
            }
        }
        if channels < self.cfg.min_channels {
            return None;
        }
        let members = || self.recent.iter().filter(similar);
        let first = members().map(|o| o.start_s).fold(f64::INFINITY, f64::min);
        let lo = members()
            .map(|o| o.freq_hz - o.bandwidth_hz / 2.0)
            .fold(f64::INFINITY, f64::min);
        let hi = members()
            .map(|o| o.freq_hz + o.bandwidth_hz / 2.0)
            .fold(f64::NEG_INFINITY, f64::max);
        let n = members().count() as f64;
        let power_dbfs = members().map(|o| o.power_dbfs).sum::<f64>() / n;
        let snr_db = members().map(|o| o.snr_db).sum::<f64>() / n;
        self.recent.clear();
        Some(Found {
            first_s: first,
            lo_hz: lo,
            hi_hz: hi,
            hop_bandwidth_hz: median,
            power_dbfs,
            snr_db,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn burst(t: f64, f: f64) -> Burst {
        Burst {
            start_s: t,
            end_s: t + 0.01,
            freq_hz: f,
            bandwidth_hz: 20e3,
            power_dbfs: -50.0,
            snr_db: 10.0,
        }
    }

    #[test]
    fn five_channels_in_half_a_second_make_a_hopper() {
        let mut h = HopDetector::new(HopConfig::default());
        let freqs = [100e3, 300e3, -200e3, 50e3, -400e3];
        let mut found = None;
        for (i, f) in freqs.iter().enumerate() {
            found = h.record(burst(0.012 * i as f64, *f));
        }
        let f = found.expect("hopper");
        assert_eq!(f.first_s, 0.0);
        assert!((f.lo_hz + 410e3).abs() < 1.0 && (f.hi_hz - 310e3).abs() < 1.0);
        assert_eq!(f.hop_bandwidth_hz, 20e3);
    }

    #[test]
    fn packets_on_one_frequency_are_not_hopping() {
        let mut h = HopDetector::new(HopConfig::default());
        for i in 0..50 {
            assert!(h.record(burst(0.1 * i as f64, 100e3)).is_none());
        }
    }

    #[test]
    fn bursts_spread_over_seconds_are_not_hopping() {
        let mut h = HopDetector::new(HopConfig::default());
        for i in 0..20 {
            assert!(h.record(burst(0.3 * i as f64, i as f64 * 50e3)).is_none());
        }
    }

    #[test]
    fn long_transmissions_are_not_hops() {
        let mut h = HopDetector::new(HopConfig::default());
        for i in 0..10 {
            let mut b = burst(0.01 * i as f64, i as f64 * 50e3);
            b.end_s = b.start_s + 1.0;
            assert!(h.record(b).is_none());
        }
    }

    #[test]
    fn a_strong_transmissions_spurs_at_other_levels_are_not_a_hopper() {
        let mut d = HopDetector::new(HopConfig::default());
        // Two tones of one strong FSK transmitter and three spurs 20-30 dB under it: five
        // distinct frequencies of one width, but not one transmitter's hops.
        let levels = [-10.0, -12.0, -35.0, -38.0, -40.0, -11.0, -36.0];
        let freqs = [25e3, 96e3, -344e3, 396e3, 161e3, 25e3, -250e3];
        let mut found = None;
        for (i, (&p, &f)) in levels.iter().zip(&freqs).enumerate() {
            let b = Burst {
                power_dbfs: p,
                ..burst(0.02 * i as f64, f)
            };
            found = found.or(d.record(b));
        }
        assert!(found.is_none(), "{found:?}");
    }
}
