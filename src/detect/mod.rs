//! Detection: from averaged power spectra to alerts.
//!
//! ```text
//!  spectrum ─▶ NoiseFloor ─▶ threshold tests ─▶ grouping ─▶ Tracker ─▶ Alert
//!              (per bin)      fast: this frame    adjacent     emitters over
//!                             slow: block mean    bins → one   time, raised /
//!                             of `slow_frames`    Detection    updated / cleared
//! ```
//!
//! Thresholds come from a target false-alarm probability per bin and test, not from a
//! magic number of dB: a noise bin averaged over K independent frames is Gamma(K), so the
//! factor over the floor that noise exceeds with probability `pfa` is known (see
//! [`crate::dsp::stats`]). The fast test catches short strong bursts; the slow test, on
//! the mean of `slow_frames` frames (K times larger), catches weak steady emitters.

pub mod floor;
pub mod health;
pub mod tracker;

use crate::alert::Alert;
use crate::dsp::stats::threshold_factor;
use crate::dsp::{FreqGrid, SpectrumConfig};
use crate::source::SourceEvent;
use crate::types::{SampleIndex, StreamMeta};

pub use floor::{FloorConfig, NoiseFloor};
pub use health::Health;
pub use tracker::{Track, Tracker, TrackerConfig};

/// Parameters of the detector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorConfig {
    /// Probability that a noise-only bin crosses a threshold, per bin and test.
    pub pfa: f64,
    /// Frames averaged by the slow test.
    pub slow_frames: usize,
    /// Noise-floor estimate.
    pub floor: FloorConfig,
    /// Emitter tracking.
    pub tracker: TrackerConfig,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            pfa: 1e-6,
            slow_frames: 16,
            floor: FloorConfig::default(),
            tracker: TrackerConfig::default(),
        }
    }
}

impl DetectorConfig {
    /// Checks ranges; the message names the setting.
    ///
    /// # Errors
    /// A message naming the first invalid setting.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.pfa > 0.0 && self.pfa < 0.1) {
            return Err(format!("--pfa must be in (0, 0.1), got {}", self.pfa));
        }
        if self.slow_frames == 0 {
            return Err("slow_frames must be at least 1".into());
        }
        Ok(())
    }
}

/// A group of adjacent bins above threshold in one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    /// First bin of the occupied band (-10 dB from the peak).
    pub lo_bin: usize,
    /// Last bin of the occupied band.
    pub hi_bin: usize,
    /// Power-weighted centre, fractional bin.
    pub centre_bin: f64,
    /// Peak bin power (linear).
    pub peak_power: f32,
    /// Signal power in the occupied band (linear, floor removed).
    pub power: f32,
    /// Noise power in the occupied band (linear).
    pub noise: f32,
}

const FAST: u8 = 1;
const SLOW: u8 = 2;

/// The detection stage: one per stream.
pub struct Detector {
    cfg: DetectorConfig,
    grid: FreqGrid,
    enbw_bins: f32,
    frame_samples: u64,
    rate: f64,
    floor: NoiseFloor,
    t_fast: f32,
    t_slow: f32,
    slow_sum: Vec<f32>,
    slow_count: usize,
    mask: Vec<u8>,
    detections: Vec<Detection>,
    tracker: Tracker,
    health: Health,
    next_id: u64,
    frames: u64,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("cfg", &self.cfg)
            .field("grid", &self.grid)
            .field("frames", &self.frames)
            .finish()
    }
}

impl Detector {
    /// A detector for spectra made with `spectrum` from the stream `meta`.
    pub fn new(cfg: DetectorConfig, spectrum: &SpectrumConfig, meta: &StreamMeta) -> Self {
        let bins = spectrum.fft_len;
        let grid = FreqGrid {
            bins,
            sample_rate_hz: meta.sample_rate_hz,
            center_freq_hz: meta.center_freq_hz,
        };
        let k = spectrum.equivalent_averages();
        // A spectrum's frames cover its span plus the overlap into the next one.
        let frame_samples = (spectrum.span() + spectrum.history()) as u64;
        let frame_s = frame_samples as f64 / meta.sample_rate_hz;
        Detector {
            cfg,
            grid,
            enbw_bins: spectrum.window.enbw_bins(bins) as f32,
            frame_samples,
            rate: meta.sample_rate_hz,
            floor: NoiseFloor::new(cfg.floor, bins, k, frame_s),
            t_fast: threshold_factor(k, cfg.pfa) as f32,
            t_slow: threshold_factor(k * cfg.slow_frames as f64, cfg.pfa) as f32,
            slow_sum: vec![0.0; bins],
            slow_count: 0,
            mask: vec![0; bins],
            detections: Vec::with_capacity(64),
            tracker: Tracker::new(cfg.tracker, grid),
            health: Health::new(meta.center_freq_hz, meta.sample_rate_hz),
            next_id: 0,
            frames: 0,
        }
    }

    /// Bin-to-frequency mapping.
    pub fn grid(&self) -> &FreqGrid {
        &self.grid
    }

    /// Current noise floor per bin (linear power).
    pub fn floor(&self) -> &[f32] {
        self.floor.floor()
    }

    /// Factor over the floor a bin must exceed in the fast test.
    pub fn fast_threshold(&self) -> f32 {
        self.t_fast
    }

    /// Factor over the floor for the slow test.
    pub fn slow_threshold(&self) -> f32 {
        self.t_slow
    }

    /// The last frame's detections.
    pub fn detections(&self) -> &[Detection] {
        &self.detections
    }

    /// Emitters being followed.
    pub fn tracks(&self) -> &[Track] {
        self.tracker.tracks()
    }

    /// Processes one averaged spectrum (linear power, fft-shifted) covering samples
    /// `[start, start + span)`, calling `emit` for each alert state change.
    pub fn push(&mut self, power: &[f32], start: SampleIndex, emit: &mut dyn FnMut(Alert)) {
        debug_assert_eq!(power.len(), self.grid.bins);
        self.floor.update(power);
        let floor = self.floor.floor();
        for ((m, &p), &f) in self.mask.iter_mut().zip(power).zip(floor) {
            *m = if p > f * self.t_fast { FAST } else { 0 };
        }
        for (s, &p) in self.slow_sum.iter_mut().zip(power) {
            *s += p;
        }
        self.slow_count += 1;
        let slow_ready = self.slow_count == self.cfg.slow_frames;
        if slow_ready {
            let inv = 1.0 / self.slow_count as f32;
            for ((m, s), &f) in self
                .mask
                .iter_mut()
                .zip(self.slow_sum.iter_mut())
                .zip(floor)
            {
                *s *= inv;
                if *s > f * self.t_slow {
                    *m |= SLOW;
                }
            }
        }
        group(
            &self.mask,
            power,
            &self.slow_sum,
            floor,
            self.enbw_bins,
            &mut self.detections,
        );
        if slow_ready {
            self.slow_sum.fill(0.0);
            self.slow_count = 0;
        }
        let t0 = start as f64 / self.rate;
        let t1 = (start + self.frame_samples) as f64 / self.rate;
        self.tracker
            .update(&self.detections, t0, t1, &mut self.next_id, emit);
        self.health.tick(t1, emit);
        self.frames += 1;
    }

    /// `n` samples were lost just before stream index `at`.
    pub fn note_dropped(&mut self, n: u64, at: SampleIndex, emit: &mut dyn FnMut(Alert)) {
        let t = at as f64 / self.rate;
        self.health.dropped(n, t, &mut self.next_id, emit);
    }

    /// The source's health changed just before stream index `at`.
    pub fn note_source_event(
        &mut self,
        e: &SourceEvent,
        at: SampleIndex,
        emit: &mut dyn FnMut(Alert),
    ) {
        let t = at as f64 / self.rate;
        self.health.source_event(e, t, &mut self.next_id, emit);
    }

    /// Ends the stream: clears every active alert.
    pub fn finish(&mut self, emit: &mut dyn FnMut(Alert)) {
        self.tracker.finish(emit);
        self.health.finish(emit);
    }
}

/// Groups flagged bins into detections. Runs separated by one unflagged bin are one
/// detection (a noisy dip inside a signal). Power figures come from this frame where the
/// fast test fired, else from the slow mean.
fn group(
    mask: &[u8],
    power: &[f32],
    slow: &[f32],
    floor: &[f32],
    enbw_bins: f32,
    out: &mut Vec<Detection>,
) {
    out.clear();
    let n = mask.len();
    let mut k = 0;
    while k < n {
        if mask[k] == 0 {
            k += 1;
            continue;
        }
        let a = k;
        let mut b = k;
        let mut any_fast = false;
        let mut j = k;
        while j < n && (mask[j] != 0 || (j + 1 < n && mask[j + 1] != 0)) {
            if mask[j] != 0 {
                b = j;
                any_fast |= mask[j] & FAST != 0;
            }
            j += 1;
        }
        k = j;
        let v = if any_fast { power } else { slow };
        let excess = |i: usize| (v[i] - floor[i]).max(0.0);
        let (peak_bin, peak) =
            (a..=b)
                .map(|i| (i, excess(i)))
                .fold((a, 0.0f32), |acc, x| if x.1 > acc.1 { x } else { acc });
        // Occupied band: the outermost bins within 10 dB of the peak.
        let level = peak * 0.1;
        let lo = (a..=peak_bin)
            .find(|&i| excess(i) >= level)
            .unwrap_or(peak_bin);
        let hi = (peak_bin..=b)
            .rev()
            .find(|&i| excess(i) >= level)
            .unwrap_or(peak_bin);
        let (mut sum, mut moment, mut noise) = (0.0f64, 0.0f64, 0.0f64);
        for (i, &f) in floor.iter().enumerate().take(hi + 1).skip(lo) {
            let e = excess(i) as f64;
            sum += e;
            moment += e * i as f64;
            noise += f as f64;
        }
        out.push(Detection {
            lo_bin: lo,
            hi_bin: hi,
            centre_bin: if sum > 0.0 {
                moment / sum
            } else {
                peak_bin as f64
            },
            peak_power: v[peak_bin],
            power: (sum / enbw_bins as f64) as f32,
            noise: (noise / enbw_bins as f64) as f32,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{AlertKind, AlertState};
    use crate::dsp::WindowKind;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Gamma};

    fn meta(rate: f64) -> StreamMeta {
        StreamMeta {
            sample_rate_hz: rate,
            center_freq_hz: 433.92e6,
            start_time_utc: None,
            gain_db: None,
            device: String::new(),
            description: String::new(),
            origin: "test".into(),
            total_samples: None,
            live: false,
        }
    }

    /// Runs `frames` hand-made spectra: Gamma noise at `noise` plus `signal(frame, bins)`.
    fn run(frames: usize, signal: impl Fn(usize, &mut [f32])) -> Vec<Alert> {
        let spec = SpectrumConfig::new(1024, 50, 20, WindowKind::Hann);
        let mut det = Detector::new(DetectorConfig::default(), &spec, &meta(1.024e6));
        let k = spec.equivalent_averages();
        let g = Gamma::new(k, 1e-7 / k).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let mut alerts = Vec::new();
        let mut p = vec![0.0f32; 1024];
        for f in 0..frames {
            for v in p.iter_mut() {
                *v = g.sample(&mut rng) as f32;
            }
            signal(f, &mut p);
            det.push(&p, (f * spec.span()) as u64, &mut |a| alerts.push(a));
        }
        det.finish(&mut |a| alerts.push(a));
        alerts
    }

    #[test]
    fn noise_alone_raises_nothing() {
        // 2000 frames of 10 ms: 20 s of noise.
        assert!(run(2000, |_, _| {}).is_empty());
    }

    #[test]
    fn a_steady_carrier_is_one_alert_raised_then_cleared() {
        let alerts = run(500, |f, p| {
            if (100..400).contains(&f) {
                p[700] += 1e-5;
                p[699] += 2.5e-6;
                p[701] += 2.5e-6;
            }
        });
        let ids: std::collections::BTreeSet<u64> = alerts.iter().map(|a| a.id).collect();
        assert_eq!(ids.len(), 1, "{alerts:?}");
        assert_eq!(alerts.first().unwrap().state, AlertState::Raised);
        assert_eq!(alerts.last().unwrap().state, AlertState::Cleared);
        let a = &alerts[0];
        assert_eq!(a.kind, AlertKind::NewEmitter);
        // Bin 700 is 188 bins above the centre; 1 kHz bins.
        assert!(
            (a.freq_hz - (433.92e6 + 188_000.0)).abs() < 1000.0,
            "{}",
            a.freq_hz
        );
        assert!((a.first_seen_s - 1.0).abs() < 0.05, "{}", a.first_seen_s);
    }

    #[test]
    fn packets_every_100_ms_are_one_emitter() {
        let alerts = run(1000, |f, p| {
            if f % 10 == 0 {
                for v in &mut p[200..230] {
                    *v += 2e-6;
                }
            }
        });
        let raised = alerts
            .iter()
            .filter(|a| a.state == AlertState::Raised)
            .count();
        assert_eq!(raised, 1, "{alerts:?}");
    }

    #[test]
    fn a_weak_wide_signal_is_found_by_the_slow_test() {
        // 25 bins at -3 dB per bin: invisible frame by frame, clear over 16 frames.
        let alerts = run(600, |f, p| {
            if f >= 100 {
                for v in &mut p[400..425] {
                    *v += 0.5e-7;
                }
            }
        });
        assert!(
            alerts.iter().any(|a| a.state == AlertState::Raised),
            "{alerts:?}"
        );
    }

    #[test]
    fn grouping_measures_centre_and_width() {
        let floor = vec![1.0f32; 64];
        let mut power = floor.clone();
        for v in &mut power[20..31] {
            *v = 101.0; // 20 dB excess, flat, 11 bins
        }
        let mask: Vec<u8> = power.iter().map(|&p| u8::from(p > 10.0)).collect();
        let mut out = Vec::new();
        group(&mask, &power, &power, &floor, 1.5, &mut out);
        assert_eq!(out.len(), 1);
        let d = out[0];
        assert_eq!((d.lo_bin, d.hi_bin), (20, 30));
        assert!((d.centre_bin - 25.0).abs() < 1e-9);
        assert!((d.power - 1100.0 / 1.5).abs() < 1e-3);
    }

    #[test]
    fn one_bin_gaps_do_not_split_a_signal() {
        let floor = vec![1.0f32; 32];
        let mut mask = vec![0u8; 32];
        for i in [5, 6, 8, 9, 20] {
            mask[i] = FAST;
        }
        let power: Vec<f32> = mask
            .iter()
            .map(|&m| if m != 0 { 50.0 } else { 1.0 })
            .collect();
        let mut out = Vec::new();
        group(&mask, &power, &power, &floor, 1.0, &mut out);
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!((out[0].lo_bin, out[0].hi_bin), (5, 9));
    }
}
