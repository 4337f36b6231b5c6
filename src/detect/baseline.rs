//! The baseline: what the air normally looks like at this post, learned from a period of
//! live air or from captures, so that the rules can tell "new" from "usual".
//!
//! ```text
//!  Detector ─(power, floor, flagged bins)─▶ BaselineLearner::observe        per frame
//!  Tracker  ─(active emitter)────────────▶ BaselineLearner::observe_emitter per frame
//!                                          │ finish()
//!                                          ▼
//!                              Baseline ── save/load (HDF5) ── knows(freq, bw)
//! ```
//!
//! Two kinds of knowledge: per-bin statistics on the learner's frequency grid (occupancy,
//! power when occupied, floor), and a list of emitters with their level and duty cycle.
//! The emitter list is by absolute frequency, so [`Baseline::knows`] answers for any
//! stream, whatever its centre frequency, rate or FFT size.
//!
//! The baseline's data ([`Baseline`]) is a shared type, so that the file format
//! ([`crate::formats::baseline`]) stores it without knowing the detector.

use crate::dsp::FreqGrid;
pub use crate::types::{Baseline, KnownEmitter};

/// Emitters within this many bins (of the learning grid) of each other are one emitter,
/// as in the tracker: an FM carrier wanders inside its channel.
const TOLERANCE_BINS: f64 = 2.0;

/// An emitter being learned: sums, so that learners merge exactly.
#[derive(Debug, Clone, Copy, PartialEq)]
struct EmitterStats {
    freq_sum: f64,
    bw_sum: f64,
    /// Sum of dBFS: the mean level in dB is what `power_change` compares against.
    power_db_sum: f64,
    /// Frames in which it was seen (at most one per frame).
    hits: u64,
    /// Frames of other learners (merged in) that covered its frequency.
    extra_frames: u64,
    last_t_s: f64,
}

impl EmitterStats {
    fn freq_hz(&self) -> f64 {
        self.freq_sum / self.hits.max(1) as f64
    }
    fn bandwidth_hz(&self) -> f64 {
        self.bw_sum / self.hits.max(1) as f64
    }
    fn overlaps(&self, freq_hz: f64, bandwidth_hz: f64, tol_hz: f64) -> bool {
        let reach = (self.bandwidth_hz() + bandwidth_hz) / 2.0 + tol_hz;
        (self.freq_hz() - freq_hz).abs() <= reach
    }
}

/// Accumulates a baseline from a stream, frame by frame.
#[derive(Debug, Clone)]
pub struct BaselineLearner {
    grid: FreqGrid,
    /// Frames observed on this learner's grid.
    frames: u64,
    /// Per bin: frames counted (merging other grids maps several bins onto one).
    bin_frames: Vec<u64>,
    occupied: Vec<u64>,
    power_db_sum: Vec<f64>,
    power_db_sq: Vec<f64>,
    floor_sum: Vec<f64>,
    emitters: Vec<EmitterStats>,
    first_t_s: Option<f64>,
    last_t_s: f64,
    /// Learning time merged in from other learners.
    extra_seconds: f64,
}

fn db(x: f64) -> f64 {
    10.0 * x.max(1e-30).log10()
}

impl BaselineLearner {
    /// A learner for spectra on `grid`.
    pub fn new(grid: &FreqGrid) -> Self {
        let n = grid.bins;
        BaselineLearner {
            grid: *grid,
            frames: 0,
            bin_frames: vec![0; n],
            occupied: vec![0; n],
            power_db_sum: vec![0.0; n],
            power_db_sq: vec![0.0; n],
            floor_sum: vec![0.0; n],
            emitters: Vec::new(),
            first_t_s: None,
            last_t_s: 0.0,
            extra_seconds: 0.0,
        }
    }

    /// The grid the per-bin statistics are kept on.
    pub fn grid(&self) -> &FreqGrid {
        &self.grid
    }

    /// Frames observed.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Folds in one spectrum: `power` (linear, fft-shifted), the noise `floor` under it and
    /// the bins the detector flagged in this frame, at stream time `t_s`.
    ///
    /// # Panics
    /// In debug builds, when the slices do not have one value per bin.
    pub fn observe(&mut self, power: &[f32], floor: &[f32], occupied: &[bool], t_s: f64) {
        debug_assert!(power.len() == self.grid.bins && floor.len() == self.grid.bins);
        debug_assert_eq!(occupied.len(), self.grid.bins);
        self.frames += 1;
        self.first_t_s.get_or_insert(t_s);
        self.last_t_s = t_s;
        for (i, ((&p, &f), &occ)) in power.iter().zip(floor).zip(occupied).enumerate() {
            self.bin_frames[i] += 1;
            self.floor_sum[i] += f as f64;
            if occ {
                let d = db(p as f64);
                self.occupied[i] += 1;
                self.power_db_sum[i] += d;
                self.power_db_sq[i] += d * d;
            }
        }
    }

    /// Notes that an emitter is on at `t_s` (call once per frame per active emitter).
    /// Calls for the same emitter at the same `t_s` count once, so several detections of
    /// one emitter in a frame do not inflate its duty cycle.
    pub fn observe_emitter(&mut self, freq_hz: f64, bandwidth_hz: f64, power_dbfs: f64, t_s: f64) {
        let tol = TOLERANCE_BINS * self.grid.bin_hz();
        let nearest = self
            .emitters
            .iter_mut()
            .filter(|e| e.overlaps(freq_hz, bandwidth_hz, tol))
            .min_by(|a, b| {
                (a.freq_hz() - freq_hz)
                    .abs()
                    .total_cmp(&(b.freq_hz() - freq_hz).abs())
            });
        match nearest {
            Some(e) if e.last_t_s == t_s => {}
            Some(e) => {
                e.freq_sum += freq_hz;
                e.bw_sum += bandwidth_hz;
                e.power_db_sum += power_dbfs;
                e.hits += 1;
                e.last_t_s = t_s;
            }
            None => self.emitters.push(EmitterStats {
                freq_sum: freq_hz,
                bw_sum: bandwidth_hz,
                power_db_sum: power_dbfs,
                hits: 1,
                extra_frames: 0,
                last_t_s: t_s,
            }),
        }
    }

    /// True when this learner's own grid covers `freq_hz`.
    fn covers(&self, freq_hz: f64) -> bool {
        let b = self.grid.bin_of(freq_hz);
        b >= -0.5 && b < self.grid.bins as f64 - 0.5
    }

    /// Frames during which an emitter's frequency was watched (its duty denominator).
    fn exposure(&self, e: &EmitterStats) -> u64 {
        let own = if self.covers(e.freq_hz()) {
            self.frames
        } else {
            0
        };
        (e.extra_frames + own).max(e.hits)
    }

    fn seconds(&self) -> f64 {
        let own = match self.first_t_s {
            // The last frame's own duration is not known here; the mean frame spacing is
            // the best estimate of it.
            Some(first) if self.frames > 1 => {
                (self.last_t_s - first) * self.frames as f64 / (self.frames - 1) as f64
            }
            _ => 0.0,
        };
        own + self.extra_seconds
    }

    /// Folds in what `other` learned (another capture, another centre frequency).
    ///
    /// Per-bin statistics stay on this learner's grid: each of `other`'s bins is added to
    /// the bin of this grid at the same frequency, and bins outside it are left out.
    /// Emitters are merged by frequency wherever they are, and each one's duty cycle
    /// counts only the time its frequency was being watched.
    pub fn merge(&mut self, other: &BaselineLearner) {
        let n = self.grid.bins as f64;
        for j in 0..other.grid.bins {
            let bin = self.grid.bin_of(other.grid.freq_of(j as f64)).round();
            if !(0.0..n).contains(&bin) {
                continue;
            }
            let i = bin as usize;
            self.bin_frames[i] += other.bin_frames[j];
            self.occupied[i] += other.occupied[j];
            self.power_db_sum[i] += other.power_db_sum[j];
            self.power_db_sq[i] += other.power_db_sq[j];
            self.floor_sum[i] += other.floor_sum[j];
        }

        let tol = TOLERANCE_BINS * self.grid.bin_hz().max(other.grid.bin_hz());
        let before = self.emitters.len();
        let mut matched = vec![false; before];
        for o in &other.emitters {
            let exposure = other.exposure(o);
            let found = self.emitters[..before]
                .iter()
                .position(|e| e.overlaps(o.freq_hz(), o.bandwidth_hz(), tol));
            match found {
                Some(k) => {
                    let e = &mut self.emitters[k];
                    e.freq_sum += o.freq_sum;
                    e.bw_sum += o.bw_sum;
                    e.power_db_sum += o.power_db_sum;
                    e.hits += o.hits;
                    e.extra_frames += exposure;
                    matched[k] = true;
                }
                None => self.emitters.push(EmitterStats {
                    extra_frames: exposure,
                    ..*o
                }),
            }
        }
        // Emitters this learner knows that were silent all through `other` while it was
        // watching their frequency: that time lowers their duty.
        for (e, m) in self.emitters[..before].iter_mut().zip(matched) {
            if !m && other.covers(e.freq_hz()) {
                e.extra_frames += other.frames;
            }
        }
        self.extra_seconds += other.seconds();
    }

    /// The baseline learned so far.
    pub fn finish(&self) -> Baseline {
        let n = self.grid.bins;
        let mut b = Baseline {
            center_freq_hz: self.grid.center_freq_hz,
            sample_rate_hz: self.grid.sample_rate_hz,
            bins: n,
            occupancy: vec![0.0; n],
            power_db_mean: vec![f32::NAN; n],
            power_db_std: vec![f32::NAN; n],
            floor_db: vec![f32::NAN; n],
            emitters: Vec::with_capacity(self.emitters.len()),
            seconds: self.seconds(),
        };
        for i in 0..n {
            let frames = self.bin_frames[i];
            if frames == 0 {
                continue;
            }
            b.occupancy[i] = (self.occupied[i] as f64 / frames as f64) as f32;
            b.floor_db[i] = db(self.floor_sum[i] / frames as f64) as f32;
            let k = self.occupied[i];
            if k > 0 {
                let mean = self.power_db_sum[i] / k as f64;
                let var = (self.power_db_sq[i] / k as f64 - mean * mean).max(0.0);
                b.power_db_mean[i] = mean as f32;
                b.power_db_std[i] = var.sqrt() as f32;
            }
        }
        for e in &self.emitters {
            let hits = e.hits.max(1) as f64;
            b.emitters.push(KnownEmitter {
                freq_hz: e.freq_sum / hits,
                bandwidth_hz: e.bw_sum / hits,
                power_dbfs: e.power_db_sum / hits,
                duty: e.hits as f64 / self.exposure(e).max(1) as f64,
            });
        }
        b.emitters.sort_by(|a, c| a.freq_hz.total_cmp(&c.freq_hz));
        b
    }
}

impl Baseline {
    /// The learning grid.
    pub fn grid(&self) -> FreqGrid {
        FreqGrid {
            bins: self.bins,
            sample_rate_hz: self.sample_rate_hz,
            center_freq_hz: self.center_freq_hz,
        }
    }

    /// The known emitter an emitter at `freq_hz`, `bandwidth_hz` wide, is: the nearest one
    /// whose band overlaps it, give or take two bins of the learning grid. By absolute
    /// frequency, so it works for a stream on another grid.
    pub fn knows(&self, freq_hz: f64, bandwidth_hz: f64) -> Option<&KnownEmitter> {
        let tol = TOLERANCE_BINS * self.grid().bin_hz();
        self.emitters
            .iter()
            .filter(|e| (e.freq_hz - freq_hz).abs() <= (e.bandwidth_hz + bandwidth_hz) / 2.0 + tol)
            .min_by(|a, b| {
                (a.freq_hz - freq_hz)
                    .abs()
                    .total_cmp(&(b.freq_hz - freq_hz).abs())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(center: f64) -> FreqGrid {
        FreqGrid {
            bins: 64,
            sample_rate_hz: 64_000.0,
            center_freq_hz: center,
        }
    }

    /// Feeds `frames` frames of 10 ms: floor 1e-6, bins `lo..hi` flagged at `level` every
    /// `every`-th frame, with the matching emitter.
    fn learn(l: &mut BaselineLearner, frames: usize, lo: usize, hi: usize, every: usize) {
        let g = *l.grid();
        let floor = vec![1e-6f32; g.bins];
        for f in 0..frames {
            let t = f as f64 * 0.01;
            let mut power = floor.clone();
            let mut occ = vec![false; g.bins];
            let on = f % every == 0 && hi > lo;
            if on {
                for i in lo..hi {
                    power[i] = 1e-4;
                    occ[i] = true;
                }
            }
            l.observe(&power, &floor, &occ, t);
            if on {
                let centre = g.freq_of((lo + hi - 1) as f64 / 2.0);
                l.observe_emitter(centre, (hi - lo) as f64 * g.bin_hz(), -40.0, t);
                // A second detection of the same emitter in the same frame counts once.
                l.observe_emitter(centre + 100.0, 1000.0, -40.0, t);
            }
        }
    }

    #[test]
    fn occupancy_power_floor_and_duty_are_learned() {
        let mut l = BaselineLearner::new(&grid(100e6));
        learn(&mut l, 100, 40, 44, 2);
        let b = l.finish();
        assert_eq!(b.bins, 64);
        assert!((b.occupancy[41] - 0.5).abs() < 1e-6);
        assert_eq!(b.occupancy[10], 0.0);
        assert!((b.power_db_mean[41] + 40.0).abs() < 1e-3);
        assert!(b.power_db_std[41].abs() < 1e-3);
        assert!(b.power_db_mean[10].is_nan());
        assert!((b.floor_db[10] + 60.0).abs() < 1e-3);
        assert!((b.seconds - 1.0).abs() < 1e-9, "{}", b.seconds);
        assert_eq!(b.emitters.len(), 1, "{:?}", b.emitters);
        let e = b.emitters[0];
        assert!((e.duty - 0.5).abs() < 1e-9, "{}", e.duty);
        assert!((e.power_dbfs + 40.0).abs() < 1e-9);
    }

    #[test]
    fn knows_is_by_frequency_with_tolerance() {
        let mut l = BaselineLearner::new(&grid(100e6));
        learn(&mut l, 10, 40, 44, 1);
        let b = l.finish();
        let f = b.emitters[0].freq_hz;
        assert!(b.knows(f, 1000.0).is_some());
        // Two bins (2 kHz) of tolerance beyond the half bandwidths.
        assert!(b.knows(f + 4000.0, 1000.0).is_some());
        assert!(b.knows(f + 10_000.0, 1000.0).is_none());
        // A stream on another grid asks in absolute Hz.
        let other = grid(100.01e6);
        assert!(b.knows(other.freq_of(other.bin_of(f)), 500.0).is_some());
    }

    #[test]
    fn merging_learners_from_two_captures() {
        // Capture A: emitter on all the time. Capture B, same grid: never on.
        let mut a = BaselineLearner::new(&grid(100e6));
        learn(&mut a, 50, 40, 44, 1);
        let mut b = BaselineLearner::new(&grid(100e6));
        learn(&mut b, 50, 0, 0, 1);
        a.merge(&b);
        let m = a.finish();
        assert!((m.occupancy[41] - 0.5).abs() < 1e-6);
        assert_eq!(m.emitters.len(), 1);
        assert!((m.emitters[0].duty - 0.5).abs() < 1e-9);
        assert!((m.seconds - 1.0).abs() < 1e-9);

        // Capture C far away: its emitter is added, and does not dilute A's duty.
        let mut c = BaselineLearner::new(&grid(200e6));
        learn(&mut c, 50, 10, 12, 1);
        a.merge(&c);
        let m = a.finish();
        assert_eq!(m.emitters.len(), 2, "{:?}", m.emitters);
        assert!((m.emitters[0].duty - 0.5).abs() < 1e-9);
        assert!((m.emitters[1].duty - 1.0).abs() < 1e-9);
        assert!(m.knows(grid(200e6).freq_of(10.5), 2000.0).is_some());
        // Per-bin statistics stay on A's grid; C's bins lie outside it.
        assert!((m.occupancy[41] - 0.5).abs() < 1e-6);
    }

    #[test]
    fn merging_a_shifted_grid_maps_bins_by_frequency() {
        let mut a = BaselineLearner::new(&grid(100e6));
        learn(&mut a, 10, 0, 0, 1);
        // Shifted by 8 bins: its bins 40..44 are A's bins 48..52.
        let mut b = BaselineLearner::new(&grid(100.008e6));
        learn(&mut b, 10, 40, 44, 1);
        a.merge(&b);
        let m = a.finish();
        assert!((m.occupancy[49] - 0.5).abs() < 1e-6, "{}", m.occupancy[49]);
        assert_eq!(m.occupancy[41], 0.0);
    }
}
