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
//! File layout (`*.h5`): root attributes `format = "kuzet-baseline"`, `version = 1`,
//! `center_freq_hz`, `sample_rate_hz`, `bins`, `seconds`; datasets `occupancy`,
//! `power_db_mean`, `power_db_std`, `floor_db` (f32, one per bin, fft-shifted order) and
//! `emitters` (compound `{freq_hz, bandwidth_hz, power_dbfs, duty}`, f64).

use std::path::Path;

use hdf5::types::VarLenUnicode;
use hdf5::H5Type;

use crate::dsp::FreqGrid;
use crate::error::{Error, Result};

/// Value of the root attribute `format`.
pub const FORMAT: &str = "kuzet-baseline";
/// Format version this build writes and the newest it reads.
pub const VERSION: i64 = 1;

/// Emitters within this many bins (of the learning grid) of each other are one emitter,
/// as in the tracker: an FM carrier wanders inside its channel.
const TOLERANCE_BINS: f64 = 2.0;

/// An emitter the baseline has seen, with its usual level and how often it is on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KnownEmitter {
    /// Mean centre frequency.
    pub freq_hz: f64,
    /// Mean occupied bandwidth.
    pub bandwidth_hz: f64,
    /// Mean in-band power while on, dBFS.
    pub power_dbfs: f64,
    /// Fraction of the learning time it was on, 0..=1.
    pub duty: f64,
}

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

/// A learned baseline: per-bin statistics on the learning grid, and the emitters seen.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    /// Centre frequency of the learning grid.
    pub center_freq_hz: f64,
    /// Sample rate of the learning grid.
    pub sample_rate_hz: f64,
    /// Bins of the learning grid.
    pub bins: usize,
    /// Per bin: fraction of frames in which it was flagged.
    pub occupancy: Vec<f32>,
    /// Per bin: mean power in dB when flagged (NaN if never).
    pub power_db_mean: Vec<f32>,
    /// Per bin: standard deviation of that power, dB (NaN if never flagged).
    pub power_db_std: Vec<f32>,
    /// Per bin: mean noise floor, dB.
    pub floor_db: Vec<f32>,
    /// Emitters seen, by frequency.
    pub emitters: Vec<KnownEmitter>,
    /// Learning time.
    pub seconds: f64,
}

/// On-disk row of `emitters`.
#[derive(H5Type, Clone, Copy, Debug)]
#[repr(C)]
struct EmitterRow {
    freq_hz: f64,
    bandwidth_hz: f64,
    power_dbfs: f64,
    duty: f64,
}

const DATASETS: [&str; 4] = ["occupancy", "power_db_mean", "power_db_std", "floor_db"];

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

    /// Writes the baseline as HDF5 (truncating).
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be created or written.
    pub fn save(&self, path: &Path) -> Result<()> {
        self.write(path).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other(format!("writing baseline: {e}")),
        })
    }

    fn write(&self, path: &Path) -> hdf5::Result<()> {
        let file = hdf5::File::with_options()
            .with_fapl(|p| {
                // Strong: closing really closes, so the file can be reopened in-process.
                p.fclose_degree(hdf5::file::FileCloseDegree::Strong)
            })
            .create(path)?;
        let format: VarLenUnicode = FORMAT
            .parse()
            .map_err(|e| hdf5::Error::from(format!("{e}")))?;
        file.new_attr::<VarLenUnicode>()
            .create("format")?
            .write_scalar(&format)?;
        file.new_attr::<i64>()
            .create("version")?
            .write_scalar(&VERSION)?;
        for (name, v) in [
            ("center_freq_hz", self.center_freq_hz),
            ("sample_rate_hz", self.sample_rate_hz),
            ("seconds", self.seconds),
        ] {
            file.new_attr::<f64>().create(name)?.write_scalar(&v)?;
        }
        file.new_attr::<u64>()
            .create("bins")?
            .write_scalar(&(self.bins as u64))?;
        for (name, data) in DATASETS.iter().zip([
            &self.occupancy,
            &self.power_db_mean,
            &self.power_db_std,
            &self.floor_db,
        ]) {
            file.new_dataset_builder()
                .with_data(data.as_slice())
                .create(*name)?;
        }
        let rows: Vec<EmitterRow> = self
            .emitters
            .iter()
            .map(|e| EmitterRow {
                freq_hz: e.freq_hz,
                bandwidth_hz: e.bandwidth_hz,
                power_dbfs: e.power_dbfs,
                duty: e.duty,
            })
            .collect();
        file.new_dataset_builder()
            .with_data(rows.as_slice())
            .create("emitters")?;
        file.close()
    }

    /// Reads a baseline written by [`Baseline::save`].
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read; [`Error::InvalidFile`] when it is not
    /// HDF5, not a kuzet baseline (a capture, say), of a newer version, or inconsistent.
    pub fn load(path: &Path) -> Result<Baseline> {
        let invalid = |msg: String| Error::InvalidFile {
            path: path.to_path_buf(),
            msg,
        };
        let head = read_head(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if head != HDF5_SIGNATURE {
            return Err(invalid(
                "not an HDF5 file (expected a kuzet baseline)".into(),
            ));
        }
        let file = hdf5::File::open(path).map_err(|e| invalid(format!("HDF5: {e}")))?;
        Self::read(&file).map_err(invalid)
    }

    fn read(file: &hdf5::File) -> Result<Baseline, String> {
        let format = crate::formats::kuzet::reader::read_string(file, "format")
            .map_err(|e| format!("attribute `format`: {e}"))?;
        match format.as_deref() {
            Some(FORMAT) => {}
            Some(other) => {
                return Err(format!(
                    "is a `{other}` file, expected `{FORMAT}` (learn one with `kuzet baseline`)"
                ))
            }
            None => return Err(format!("no `format` attribute: not a {FORMAT} file")),
        }
        let h5 = |what: &str, e: hdf5::Error| format!("{what}: {e}");
        let version: i64 = file
            .attr("version")
            .and_then(|a| a.read_scalar())
            .map_err(|e| h5("attribute `version`", e))?;
        if version > VERSION {
            return Err(format!(
                "version {version} is newer than this kuzet reads ({VERSION})"
            ));
        }
        let f64_attr = |name: &str| -> Result<f64, String> {
            file.attr(name)
                .and_then(|a| a.read_scalar::<f64>())
                .map_err(|e| h5(&format!("attribute `{name}`"), e))
        };
        let center_freq_hz = f64_attr("center_freq_hz")?;
        let sample_rate_hz = f64_attr("sample_rate_hz")?;
        let seconds = f64_attr("seconds")?;
        let bins = file
            .attr("bins")
            .and_then(|a| a.read_scalar::<u64>())
            .map_err(|e| h5("attribute `bins`", e))? as usize;
        if !(sample_rate_hz.is_finite() && sample_rate_hz > 0.0 && bins > 0) {
            return Err(format!(
                "sample_rate_hz ({sample_rate_hz}) and bins ({bins}) must be positive"
            ));
        }
        let mut columns = Vec::with_capacity(DATASETS.len());
        for name in DATASETS {
            let v: Vec<f32> = file
                .dataset(name)
                .and_then(|d| d.read_raw())
                .map_err(|e| h5(&format!("dataset `{name}`"), e))?;
            if v.len() != bins {
                return Err(format!(
                    "dataset `{name}` has {} values, expected one per bin ({bins})",
                    v.len()
                ));
            }
            columns.push(v);
        }
        let rows: Vec<EmitterRow> = file
            .dataset("emitters")
            .and_then(|d| d.read_raw())
            .map_err(|e| h5("dataset `emitters`", e))?;
        let mut it = columns.into_iter();
        let mut next = || it.next().unwrap_or_default();
        Ok(Baseline {
            center_freq_hz,
            sample_rate_hz,
            bins,
            occupancy: next(),
            power_db_mean: next(),
            power_db_std: next(),
            floor_db: next(),
            emitters: rows
                .iter()
                .map(|r| KnownEmitter {
                    freq_hz: r.freq_hz,
                    bandwidth_hz: r.bandwidth_hz,
                    power_dbfs: r.power_dbfs,
                    duty: r.duty,
                })
                .collect(),
            seconds,
        })
    }
}

const HDF5_SIGNATURE: [u8; 8] = [0x89, b'H', b'D', b'F', b'\r', b'\n', 0x1a, b'\n'];

/// The first 8 bytes of a file (fewer if it is shorter).
fn read_head(path: &Path) -> std::io::Result<[u8; 8]> {
    use std::io::Read;
    let mut head = [0u8; 8];
    let mut f = std::fs::File::open(path)?;
    let mut got = 0;
    while got < head.len() {
        let n = f.read(&mut head[got..])?;
        if n == 0 {
            break;
        }
        got += n;
    }
    Ok(head)
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

    #[test]
    fn save_load_round_trip() {
        let mut l = BaselineLearner::new(&grid(433.92e6));
        learn(&mut l, 40, 20, 25, 4);
        let b = l.finish();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("baseline.h5");
        b.save(&p).unwrap();
        let back = Baseline::load(&p).unwrap();
        // NaN != NaN: compare the bits of the per-bin columns.
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back.power_db_mean), bits(&b.power_db_mean));
        assert_eq!(bits(&back.power_db_std), bits(&b.power_db_std));
        assert_eq!(back.occupancy, b.occupancy);
        assert_eq!(back.floor_db, b.floor_db);
        assert_eq!(back.emitters, b.emitters);
        assert_eq!(
            (
                back.center_freq_hz,
                back.sample_rate_hz,
                back.bins,
                back.seconds
            ),
            (b.center_freq_hz, b.sample_rate_hz, b.bins, b.seconds)
        );
    }

    #[test]
    fn an_empty_baseline_round_trips() {
        let b = BaselineLearner::new(&grid(1e6)).finish();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("empty.h5");
        b.save(&p).unwrap();
        let back = Baseline::load(&p).unwrap();
        assert!(back.emitters.is_empty());
        assert_eq!(back.bins, 64);
    }

    #[test]
    fn wrong_files_get_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Baseline::load(&dir.path().join("none.h5")).unwrap_err();
        assert!(matches!(missing, Error::Io { .. }), "{missing}");

        let text = dir.path().join("plan.toml");
        std::fs::write(&text, "not hdf5 at all").unwrap();
        let e = Baseline::load(&text).unwrap_err().to_string();
        assert!(e.contains("not an HDF5 file"), "{e}");

        // A capture is HDF5 but not a baseline.
        let cap = dir.path().join("cap.h5");
        let meta = crate::types::StreamMeta {
            sample_rate_hz: 1e6,
            center_freq_hz: 1e8,
            start_time_utc: None,
            gain_db: None,
            device: String::new(),
            description: String::new(),
            origin: String::new(),
            total_samples: None,
            live: false,
        };
        let w =
            crate::formats::kuzet::CaptureWriter::create(&cap, &meta, &Default::default()).unwrap();
        w.finish().unwrap();
        let e = Baseline::load(&cap).unwrap_err().to_string();
        assert!(
            e.contains("kuzet-capture") && e.contains("kuzet-baseline"),
            "{e}"
        );

        let nodir = Baseline::default_for_tests()
            .save(&dir.path().join("no/such/dir.h5"))
            .unwrap_err();
        assert!(matches!(nodir, Error::Io { .. }), "{nodir}");
    }

    impl Baseline {
        fn default_for_tests() -> Baseline {
            BaselineLearner::new(&grid(1e6)).finish()
        }
    }
}
