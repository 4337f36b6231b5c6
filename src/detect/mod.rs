//! Detection: from averaged power spectra to alerts.
//!
//! ```text
//!  spectrum ─▶ NoiseFloor ─▶ threshold tests ─▶ grouping ─▶ Tracker ─▶ Alert
//!              (per bin)      fast: this frame    adjacent     emitters over
//!                             slow: moving mean   bins → one   time, raised /
//!                             of `slow_frames`    Detection    updated / cleared
//! ```
//!
//! Thresholds come from a target false-alarm probability per bin and test, not from a
//! magic number of dB: a noise bin averaged over K independent frames is Gamma(K), so the
//! factor over the floor that noise exceeds with probability `pfa` is known (see
//! [`crate::dsp::stats`]). The fast test catches short strong bursts; the slow test, on
//! the moving mean of the last `slow_frames` frames (K times larger), catches weak steady
//! emitters within a few frames of the window filling. Its windows overlap, so a noise
//! excursion fires it several frames in a row (enough to confirm an emitter): its
//! false-alarm probability per window is [`SLOW_PFA_FACTOR`] times smaller than the fast
//! test's, so that such runs stay rarer than one an hour.

pub mod bandplan;
pub mod baseline;
pub mod floor;
pub mod health;
pub mod hop;
pub mod jamming;
pub mod knowledge;
pub mod sweep;
pub mod tracker;

use std::sync::Arc;

use crate::alert::{round_to, Alert, AlertKind, AlertState, Severity};
use crate::dsp::cfar::Cfar;
use crate::dsp::stats::threshold_factor;
use crate::dsp::{FreqGrid, SpectrumConfig};
use crate::error::Error;
use crate::types::SourceEvent;
use crate::types::{SampleIndex, StreamMeta};

pub use floor::{FloorConfig, NoiseFloor};
pub use health::Health;
pub use hop::{HopConfig, Hopper};
pub use jamming::{JamChange, JammingConfig, JammingMonitor};
pub use knowledge::{Knowledge, Prior};
pub use tracker::{FrameCtx, Track, Tracker, TrackerConfig};

/// Parameters of the detector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorConfig {
    /// Probability that a noise-only bin crosses a threshold, per bin and test.
    pub pfa: f64,
    /// Frames averaged by the slow test.
    pub slow_frames: usize,
    /// CFAR guard cells on each side of the bin under test.
    pub cfar_guard: usize,
    /// CFAR training cells on each side.
    pub cfar_train: usize,
    /// Noise-floor estimate.
    pub floor: FloorConfig,
    /// Floor-rise (jamming) rule.
    pub jamming: JammingConfig,
    /// Emitter tracking.
    pub tracker: TrackerConfig,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            pfa: 1e-6,
            slow_frames: 16,
            cfar_guard: 3,
            cfar_train: 24,
            floor: FloorConfig::default(),
            jamming: JammingConfig::default(),
            tracker: TrackerConfig::default(),
        }
    }
}

impl DetectorConfig {
    /// Checks ranges; the message names the setting.
    ///
    /// # Errors
    /// A message naming the first invalid setting.
    pub fn validate(&self) -> Result<(), Error> {
        if !(self.pfa > 0.0 && self.pfa < 0.1) {
            return Err(Error::invalid(
                "pfa",
                format!("must be in (0, 0.1), got {}", self.pfa),
            ));
        }
        if self.slow_frames == 0 {
            return Err(Error::invalid("slow_frames", "must be at least 1"));
        }
        Ok(())
    }
}

/// A group of adjacent bins above threshold in one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    /// First bin of the occupied band (99% of the power, ITU-R SM.328).
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
    /// Seen by the fast (single-spectrum) test; otherwise only by the slow moving mean.
    pub fast: bool,
}

const FAST: u8 = 1;
const SLOW: u8 = 2;

/// The slow test's false-alarm probability is the fast test's divided by this.
pub const SLOW_PFA_FACTOR: f64 = 100.0;

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
    /// The last `slow_frames` spectra, a ring.
    slow_ring: Vec<f32>,
    slow_pos: usize,
    slow_count: usize,
    /// Running sum of the ring (f64: added and subtracted for hours).
    slow_acc: Vec<f64>,
    slow_mean: Vec<f32>,
    mask: Vec<u8>,
    cfar: Cfar,
    cfar_threshold: Vec<f32>,
    jam: JammingMonitor,
    jam_alert: Option<JamAlert>,
    seg_now_ln: Vec<f32>,
    exclude: Vec<(f64, f64)>,
    knowledge: Option<Arc<dyn Knowledge>>,
    detections: Vec<Detection>,
    tracker: Tracker,
    health: Health,
    next_id: u64,
    frames: u64,
    last_t1: f64,
    learner: Option<baseline::BaselineLearner>,
    occupied: Vec<bool>,
}

/// The open `jamming` alert of a floor rise.
#[derive(Debug, Clone)]
struct JamAlert {
    id: u64,
    first_s: f64,
    last_report_s: f64,
    lo_hz: f64,
    hi_hz: f64,
    rise_db: f64,
    power_dbfs: f64,
    band: Option<Arc<str>>,
    severity: Severity,
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
        let grid = FreqGrid {
            bins: spectrum.fft_len,
            sample_rate_hz: meta.sample_rate_hz,
            center_freq_hz: meta.center_freq_hz,
        };
        Self::for_grid(cfg, spectrum, meta, grid)
    }

    /// A detector for a run of bins of each spectrum, which `grid` describes: a sweep step
    /// keeps the middle of its spectra and drops the edges the tuner's filter rolls off.
    /// `meta` gives the stream's clock (its sample rate); the window's noise bandwidth is
    /// that of the whole FFT.
    pub fn for_grid(
        cfg: DetectorConfig,
        spectrum: &SpectrumConfig,
        meta: &StreamMeta,
        grid: FreqGrid,
    ) -> Self {
        let bins = grid.bins;
        let k = spectrum.equivalent_averages();
        // A spectrum's frames cover its span plus the overlap into the next one.
        let frame_samples = (spectrum.span() + spectrum.history()) as u64;
        let frame_s = frame_samples as f64 / meta.sample_rate_hz;
        Detector {
            cfg,
            grid,
            enbw_bins: spectrum.window.enbw_bins(spectrum.fft_len) as f32,
            frame_samples,
            rate: meta.sample_rate_hz,
            floor: NoiseFloor::new(cfg.floor, bins, k, frame_s),
            t_fast: threshold_factor(k, cfg.pfa) as f32,
            t_slow: threshold_factor(k * cfg.slow_frames as f64, cfg.pfa / SLOW_PFA_FACTOR) as f32,
            slow_ring: vec![0.0; bins * cfg.slow_frames],
            slow_pos: 0,
            slow_count: 0,
            slow_acc: vec![0.0; bins],
            slow_mean: vec![0.0; bins],
            mask: vec![0; bins],
            // Adjacent bins of a windowed FFT are correlated: M cells are worth M / ENBW.
            cfar: Cfar::new(
                cfg.cfar_guard,
                cfg.cfar_train,
                k,
                cfg.pfa,
                1.0 / spectrum.window.enbw_bins(spectrum.fft_len),
                bins,
            ),
            cfar_threshold: vec![0.0; bins],
            jam: JammingMonitor::new(
                cfg.jamming,
                bins.div_ceil(cfg.floor.segment_bins.clamp(4, bins.max(4))),
                frame_s,
            ),
            jam_alert: None,
            seg_now_ln: Vec::with_capacity(bins),
            exclude: Vec::with_capacity(4),
            knowledge: None,
            detections: Vec::with_capacity(64),
            tracker: Tracker::new(
                TrackerConfig {
                    slow_window_s: cfg.slow_frames as f64 * frame_s,
                    ..cfg.tracker
                },
                grid,
            ),
            health: Health::new(meta.center_freq_hz, meta.sample_rate_hz),
            next_id: 0,
            frames: 0,
            last_t1: 0.0,
            learner: None,
            occupied: Vec::new(),
        }
    }

    /// Gives the detector a band plan and/or baseline to classify against.
    pub fn with_knowledge(mut self, knowledge: Option<Arc<dyn Knowledge>>) -> Self {
        self.knowledge = knowledge;
        self
    }

    /// The stream jumped (a sweep retuned away and back): the slow test's moving mean
    /// starts over, so spectra from before the jump are not mixed with those after it.
    pub fn restart(&mut self) {
        self.slow_ring.fill(0.0);
        self.slow_acc.fill(0.0);
        self.slow_pos = 0;
        self.slow_count = 0;
    }

    /// Learns a baseline (per-bin occupancy and levels, the emitters seen) from here on.
    pub fn start_learning(&mut self) {
        self.learner = Some(baseline::BaselineLearner::new(&self.grid));
        self.occupied = vec![false; self.grid.bins];
    }

    /// The baseline learned so far, if learning.
    pub fn take_learner(&mut self) -> Option<baseline::BaselineLearner> {
        self.learner.take()
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

    /// Per-bin CFAR thresholds of the last frame (linear power).
    pub fn cfar_threshold(&self) -> &[f32] {
        &self.cfar_threshold
    }

    /// Hoppers being followed.
    pub fn hoppers(&self) -> &[Hopper] {
        self.tracker.hoppers()
    }

    /// Processes one averaged spectrum (linear power, fft-shifted) covering samples
    /// `[start, start + span)`, calling `emit` for each alert state change.
    pub fn push(&mut self, power: &[f32], start: SampleIndex, emit: &mut dyn FnMut(Alert)) {
        debug_assert_eq!(power.len(), self.grid.bins);
        let t0 = start as f64 / self.rate;
        let t1 = (start + self.frame_samples) as f64 / self.rate;
        self.floor.update(power);
        self.jamming_rule(t1, emit);
        self.cfar.thresholds(power, &mut self.cfar_threshold);
        let floor = self.floor.floor();
        // Fast test: above the floor and above the local CFAR reference, so a stale floor
        // (a jammer switching on) cannot flag a whole band.
        for (((m, &p), &f), &c) in self
            .mask
            .iter_mut()
            .zip(power)
            .zip(floor)
            .zip(&self.cfar_threshold)
        {
            *m = if p > f * self.t_fast && p > c {
                FAST
            } else {
                0
            };
        }
        let n = self.grid.bins;
        let slot = &mut self.slow_ring[self.slow_pos * n..(self.slow_pos + 1) * n];
        for ((acc, old), &p) in self.slow_acc.iter_mut().zip(slot.iter_mut()).zip(power) {
            *acc += p as f64 - *old as f64;
            *old = p;
        }
        self.slow_pos = (self.slow_pos + 1) % self.cfg.slow_frames;
        self.slow_count = (self.slow_count + 1).min(self.cfg.slow_frames);
        if self.slow_count == self.cfg.slow_frames {
            let inv = 1.0 / self.cfg.slow_frames as f64;
            for (((m, s), &acc), &f) in self
                .mask
                .iter_mut()
                .zip(self.slow_mean.iter_mut())
                .zip(&self.slow_acc)
                .zip(floor)
            {
                *s = (acc * inv).max(0.0) as f32;
                if *s > f * self.t_slow {
                    *m |= SLOW;
                }
            }
        }
        group(
            &self.mask,
            power,
            &self.slow_mean,
            floor,
            self.enbw_bins,
            &mut self.detections,
        );
        let ctx = FrameCtx {
            t0,
            t1,
            knowledge: self.knowledge.as_deref(),
            exclude: &self.exclude,
        };
        self.tracker
            .update(&self.detections, &ctx, &mut self.next_id, emit);
        self.health.tick(t1, emit);
        if let Some(l) = self.learner.as_mut() {
            for (o, &m) in self.occupied.iter_mut().zip(&self.mask) {
                *o = m != 0;
            }
            l.observe(power, self.floor.floor(), &self.occupied, t1);
            for t in self.tracker.tracks() {
                if t.confirmed && t.last_seen_s >= t1 {
                    l.observe_emitter(t.centre_hz, t.bandwidth_hz, t.power_dbfs, t1);
                }
            }
            for h in self.tracker.hoppers() {
                if h.last_seen_s >= t1 {
                    l.observe_emitter(
                        (h.lo_hz + h.hi_hz) / 2.0,
                        h.hi_hz - h.lo_hz,
                        h.power_dbfs,
                        t1,
                    );
                }
            }
        }
        self.frames += 1;
        self.last_t1 = t1;
    }

    /// The floor-rise rule: reports jamming, snaps the floor to the jammed level (and
    /// back), and keeps the jammed region's edges out of emitter detection.
    fn jamming_rule(&mut self, t1: f64, emit: &mut dyn FnMut(Alert)) {
        let (now, seg) = self.floor.segments_now();
        self.seg_now_ln.clear();
        self.seg_now_ln.extend(now.iter().map(|v| v.ln()));
        let change = self.jam.update(&self.seg_now_ln, t1);
        let seg_hz = seg as f64 * self.grid.bin_hz();
        match change {
            JamChange::Started => {
                let jammed = self.jam.jammed();
                let first = jammed.iter().position(|&j| j).unwrap_or(0);
                let last = jammed.iter().rposition(|&j| j).unwrap_or(0);
                let lo_hz = self.grid.freq_of((first * seg) as f64 - 0.5);
                let hi_hz = self.grid.freq_of(((last + 1) * seg) as f64 - 0.5);
                let rise_db = self.jam.mean_rise_db(&self.seg_now_ln);
                // Jammer power in the jammed band: the floor's rise times the band's noise.
                let base: f64 = now
                    .iter()
                    .zip(jammed)
                    .filter(|(_, &j)| j)
                    .map(|(&v, _)| v as f64 * seg as f64 / self.enbw_bins as f64)
                    .sum();
                let power_dbfs = 10.0 * base.max(1e-30).log10();
                let centre = (lo_hz + hi_hz) / 2.0;
                let band = self.knowledge.as_deref().and_then(|k| k.band_at(centre));
                let allowed = knowledge::rule_enabled(band, AlertKind::Jamming);
                let id = if allowed {
                    self.next_id += 1;
                    self.next_id
                } else {
                    0
                };
                let a = JamAlert {
                    id,
                    first_s: t1,
                    last_report_s: t1,
                    lo_hz,
                    hi_hz,
                    rise_db,
                    power_dbfs,
                    severity: knowledge::severity(band, AlertKind::Jamming, Severity::Critical),
                    band: band.map(|b| b.name.clone()),
                };
                if a.id != 0 {
                    emit(jam_alert(&a, t1, AlertState::Raised));
                }
                let jammed = jammed.to_vec();
                self.floor.snap(&jammed);
                // The edges of the jammed region straddle two floors for a moment.
                self.exclude.clear();
                self.exclude
                    .push((lo_hz - 2.5 * seg_hz, lo_hz + 2.5 * seg_hz));
                self.exclude
                    .push((hi_hz - 2.5 * seg_hz, hi_hz + 2.5 * seg_hz));
                self.jam_alert = Some(a);
            }
            JamChange::Ended => {
                let all = vec![true; self.floor.segments()];
                self.floor.snap(&all);
                self.exclude.clear();
                if let Some(a) = self.jam_alert.take() {
                    if a.id != 0 {
                        emit(jam_alert(&a, t1, AlertState::Cleared));
                    }
                }
            }
            JamChange::None => {
                if let Some(a) = self.jam_alert.as_mut() {
                    if a.id != 0 && t1 - a.last_report_s >= self.cfg.tracker.update_every_s {
                        a.last_report_s = t1;
                        a.rise_db = self.jam.mean_rise_db(&self.seg_now_ln);
                        let a = a.clone();
                        emit(jam_alert(&a, t1, AlertState::Updated));
                    }
                }
            }
        }
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
        if let Some(a) = self.jam_alert.take() {
            if a.id != 0 {
                emit(jam_alert(&a, self.last_t1, AlertState::Cleared));
            }
        }
        self.health.finish(emit);
    }
}

fn jam_alert(a: &JamAlert, last_s: f64, state: AlertState) -> Alert {
    Alert {
        id: a.id,
        kind: AlertKind::Jamming,
        state,
        severity: a.severity,
        first_seen_s: round_to(a.first_s, 4),
        last_seen_s: round_to(last_s, 4),
        freq_hz: round_to((a.lo_hz + a.hi_hz) / 2.0, 0),
        bandwidth_hz: round_to(a.hi_hz - a.lo_hz, 0),
        power_dbfs: round_to(a.power_dbfs, 1),
        snr_db: round_to(a.rise_db, 1),
        band: a.band.clone(),
        evidence: None,
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
        let peak_bin = (a..=b)
            .map(|i| (i, excess(i)))
            .fold((a, 0.0f32), |acc, x| if x.1 > acc.1 { x } else { acc })
            .0;
        // Occupied bandwidth as ITU-R SM.328 defines it: 0.5% of the power below the
        // band, 0.5% above.
        let total: f64 = (a..=b).map(|i| excess(i) as f64).sum();
        let (mut lo, mut hi) = (peak_bin, peak_bin);
        if total > 0.0 {
            let mut cum = 0.0f64;
            let mut lo_found = false;
            for i in a..=b {
                cum += excess(i) as f64;
                if !lo_found && cum >= 0.005 * total {
                    lo = i;
                    lo_found = true;
                }
                if cum >= 0.995 * total {
                    hi = i;
                    break;
                }
            }
        }
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
            fast: any_fast,
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
