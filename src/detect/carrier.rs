//! The carrier grid: weak narrowband carriers tested at a finer frequency resolution than
//! the averaged spectra's.
//!
//! A carrier's power gathers into one bin however narrow the bins are, while the noise in
//! a bin falls with its width: in 1 kHz bins a 30 dB-Hz carrier is level with the noise,
//! in ~95 Hz bins it stands 10 dB over it. The spectrum stage transforms each averaged
//! spectrum's samples whole ([`SpectrumConfig::carrier_len`]); here those grids get their
//! own floor: the averaged spectra's segment level (the front end's tilt and roll-off)
//! times a shape learned at this resolution (its spurs, ripple and DC spike, as the
//! averaged spectra's model learns them at theirs), a moving mean over
//! [`CARRIER_WINDOW_S`], and the slow test's F quantile at the same false-alarm rate per
//! hertz of band. What the averaged spectra see, or saw within the window, is theirs: the
//! grid only reports where they have nothing trusted, so a strong signal is never found
//! twice and a burst's remnants in the window are not carriers.

use super::floor::learn_shape;
use super::{group, Bits, Detection, DetectorConfig, Misfit, FRAME_BITS, SLOW, WIDE_FAST};
use crate::dsp::cfar::f_quantile;
use crate::dsp::SpectrumConfig;

/// The carrier grid's moving mean: what "a carrier over 100 ms" is held to.
pub const CARRIER_WINDOW_S: f64 = 0.1;

/// How far the grid's learned shape may lift a bin over its segment: a front end's spurs
/// and a steady line standing in the band while the grid's floor learns it are floor. A
/// spur a few dB over the averaged spectra's floor, where their model takes it as shape,
/// stands 10-15 dB over noise in bins ten times narrower: the grid reports carriers that
/// come on, not the receiver's own lines.
const MAX_SHAPE_DB: f64 = 20.0;

/// Time constant of the grid's shape once learned: long, so a carrier that comes on is
/// not taken into the floor while it stays under the test (the first
/// `SHAPE_TAU_S` of a stream are a running mean of everything unflagged).
const SHAPE_TAU_S: f64 = 600.0;

/// Averaged-spectrum bins either side of a signal they see within which the grid reports
/// nothing: the window's main lobe and the signal's skirts.
const GUARD_BINS: usize = 2;

/// At most this many of the averaged spectra's bins, a detection only their moving mean
/// shows is a line the carrier grid measures better (the window's main lobe): it does not
/// keep the grid away, and a carrier the grid proves there replaces it.
pub(super) const NARROW_BINS: usize = 3;

/// Marks a carrier bin next to what the averaged spectra see (never grouped, never learned
/// as floor).
const BLOCKED: u8 = 0x80;

/// Bins of the grid the misfit is measured on: one in this many (the quantiles of a few
/// thousand bins are as good as of all, at a fraction of the selection's cost).
const MISFIT_STRIDE: usize = 4;

/// Spectra between fresh sums of the moving mean's ring.
const RESUM_EVERY: u64 = 64;

/// The carrier grid's detector state (see the module docs).
#[derive(Debug, Clone)]
pub(super) struct CarrierGrid {
    bins: usize,
    /// Carrier bins per averaged-spectrum bin.
    ratio: f64,
    /// The averaged spectra's bins.
    coarse: usize,
    /// Per averaged-spectrum bin, the first of the grid's bins that fall in it (and one
    /// past the last at the end): runs of whole bins, so per-bin loops stay simple.
    runs: Vec<usize>,
    /// The learned shape over the mapped segment level, and the spectra each bin learned.
    shape: Vec<f32>,
    shape_frames: Vec<u32>,
    shape_alpha: f32,
    /// Per bin, the averaged spectra's segment level scaled to this grid's bins, and
    /// the floor (level times shape).
    level: Vec<f32>,
    floor: Vec<f32>,
    frames: u64,
    misfit: Misfit,
    /// Degrees of freedom of one spectrum's grid per bin (its FFT count).
    k: f64,
    bin_dof: f64,
    enbw_bins: f32,
    /// Spectra in the moving mean.
    window: usize,
    ring: Vec<f32>,
    pos: usize,
    count: usize,
    acc: Vec<f32>,
    mean: Vec<f32>,
    mask: Vec<u8>,
    scratch: Vec<f32>,
    /// Per averaged-spectrum bin: spectra since a signal was seen there, and whether one
    /// was within the window and the guard.
    age: Vec<u16>,
    blocked: Vec<bool>,
    pfa: f64,
    pfa_trust: f64,
    found: Vec<Detection>,
}

impl CarrierGrid {
    /// The grid for `spectrum` (`None` when its carrier grid is off). `pfa` and
    /// `pfa_trust` are the averaged spectra's slow-test rates per bin and spectrum; the
    /// grid's bins are narrower, so each is held to its share.
    pub(super) fn new(
        cfg: &DetectorConfig,
        spectrum: &SpectrumConfig,
        sample_rate_hz: f64,
        pfa: f64,
        pfa_trust: f64,
    ) -> Option<Self> {
        let bins = spectrum.carrier_len();
        if bins == 0 {
            return None;
        }
        let coarse = spectrum.fft_len;
        let step_s = spectrum.span() as f64 / sample_rate_hz;
        let window =
            ((CARRIER_WINDOW_S / step_s).round() as usize).clamp(2, cfg.slow_frames.max(2));
        let ratio = bins as f64 / coarse as f64;
        let enbw = spectrum.window.enbw_bins(bins);
        let last = (coarse - 1) as f64;
        Some(CarrierGrid {
            bins,
            ratio,
            coarse,
            runs: {
                // Bin j falls in the averaged spectra's bin nearest to its centre.
                let of =
                    |j: usize| to_coarse(bins, coarse, j as f64).round().clamp(0.0, last) as usize;
                let mut runs = vec![bins; coarse + 1];
                let mut c = 0;
                for j in 0..bins {
                    while c <= of(j) {
                        runs[c] = j;
                        c += 1;
                    }
                }
                runs
            },
            shape: vec![1.0; bins],
            shape_frames: vec![0; bins],
            shape_alpha: (step_s / SHAPE_TAU_S).min(1.0) as f32,
            level: vec![0.0; bins],
            floor: vec![0.0; bins],
            frames: 0,
            misfit: Misfit::default(),
            k: spectrum.carrier_frames() as f64,
            bin_dof: 1.0 / enbw,
            enbw_bins: enbw as f32,
            window,
            ring: vec![0.0; bins * window],
            pos: 0,
            count: 0,
            acc: vec![0.0; bins],
            mean: vec![0.0; bins],
            mask: vec![0; bins],
            scratch: vec![0.0; bins.div_ceil(MISFIT_STRIDE)],
            age: vec![u16::MAX; coarse],
            blocked: vec![false; coarse],
            pfa: pfa / ratio,
            pfa_trust: pfa_trust / ratio,
            found: Vec::with_capacity(16),
        })
    }

    /// One spectrum's carrier grid. `base` is the averaged spectra's segment level for
    /// the same spectrum (per their bin) and `seg_dof` what it is worth as a Gamma shape;
    /// `mask` their test flags and `seen` what they detect (trust decided): the grid
    /// reports nothing near what they see in one spectrum or trust wider than a line. Appends the grid's detections to `out` in the averaged
    /// spectra's bins, with their measured band in `edges`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn push(
        &mut self,
        grid: &[f32],
        base: &[f32],
        seg_dof: f64,
        mask: &[u8],
        seen: &[Detection],
        out: &mut Vec<Detection>,
    ) {
        debug_assert_eq!(grid.len(), self.bins);
        let n = self.bins;
        // Noise per bin falls with the bin's width: the same window over `ratio` times
        // the samples.
        let scale = (1.0 / self.ratio) as f32;
        for (c, &b) in base.iter().enumerate() {
            let run = self.runs[c]..self.runs[c + 1];
            let level = b * scale;
            self.level[run.clone()].fill(level);
            for (f, &s) in self.floor[run.clone()].iter_mut().zip(&self.shape[run]) {
                *f = level * s;
            }
        }
        let slot = &mut self.ring[self.pos * n..(self.pos + 1) * n];
        for ((acc, old), &p) in self.acc.iter_mut().zip(slot.iter_mut()).zip(grid) {
            *acc += p - *old;
            *old = p;
        }
        self.pos = (self.pos + 1) % self.window;
        self.count = (self.count + 1).min(self.window);
        self.frames += 1;
        if self.frames.is_multiple_of(RESUM_EVERY) {
            // Float sums that add and subtract for hours drift (a burst a million times
            // the noise leaves its rounding behind): summed afresh from the ring now and
            // then, which costs less than keeping them in double precision.
            self.acc.fill(0.0);
            for slot in self.ring.chunks_exact(n) {
                for (acc, &p) in self.acc.iter_mut().zip(slot) {
                    *acc += p;
                }
            }
        }
        let inv = 1.0 / self.count as f32;
        for (m, &acc) in self.mean.iter_mut().zip(&self.acc) {
            *m = (acc * inv).max(0.0);
        }
        // Where the averaged spectra saw a signal of their own, in this spectrum or within
        // the window (a burst's remnants stay in the mean that long).
        for (a, &m) in self.age.iter_mut().zip(mask) {
            // (A bin test's hit alone is no signal of theirs: a weak carrier glimpsed in
            // one spectrum is what the grid is for.)
            *a = if m & (WIDE_FAST | FRAME_BITS) != 0 {
                0
            } else {
                a.saturating_add(1)
            };
        }
        for d in seen
            .iter()
            .filter(|d| d.trusted && (d.fast || d.frame || d.hi_bin + 1 - d.lo_bin > NARROW_BINS))
        {
            self.age[d.lo_bin..=d.hi_bin].fill(0);
        }
        let window = self.window as u16;
        let last = self.coarse - 1;
        for (c, b) in self.blocked.iter_mut().enumerate() {
            let (lo, hi) = (c.saturating_sub(GUARD_BINS), (c + GUARD_BINS).min(last));
            *b = self.age[lo..=hi].iter().any(|&a| a <= window);
        }
        let ks = self.k * self.count as f64;
        for (r, (&m, &f)) in self.scratch.iter_mut().zip(
            self.mean
                .iter()
                .step_by(MISFIT_STRIDE)
                .zip(self.floor.iter().step_by(MISFIT_STRIDE)),
        ) {
            *r = m / f.max(1e-30);
        }
        let strided_dof = (self.bin_dof * MISFIT_STRIDE as f64).min(1.0);
        self.misfit
            .observe_ratios(&mut self.scratch, ks, strided_dof);
        let shape_window = (2.0 / self.shape_alpha as f64 - 1.0).max(1.0);
        let shape_dof = self.k * (self.frames as f64).min(shape_window);
        let k_floor = 1.0 / (1.0 / seg_dof.max(1e-9) + 1.0 / shape_dof + self.misfit.variance());
        let on = self.count >= 2;
        let t = if on {
            f_quantile(2.0 * ks, 2.0 * k_floor, self.pfa) as f32
        } else {
            f32::INFINITY
        };
        for (c, &blocked) in self.blocked.iter().enumerate() {
            let run = self.runs[c]..self.runs[c + 1];
            let mask = &mut self.mask[run.clone()];
            if blocked {
                mask.fill(BLOCKED);
                continue;
            }
            for (m, (&v, &f)) in mask
                .iter_mut()
                .zip(self.mean[run.clone()].iter().zip(&self.floor[run]))
            {
                *m = if v > f * t { SLOW } else { 0 };
            }
        }
        learn_shape(
            &mut self.shape,
            &mut self.shape_frames,
            grid,
            &self.level,
            &self.mask,
            MAX_SHAPE_DB,
            self.shape_alpha,
        );
        group(
            &self.mask,
            Bits::MEAN,
            grid,
            &self.mean,
            &self.floor,
            &self.level,
            self.enbw_bins,
            &mut self.found,
        );
        // Integrated evidence, as the averaged spectra's slow-only detections are trusted:
        // the band's mean over its noise, worth K per bin, at the trust bound's share. A
        // band wider than two of the averaged spectra's bins is theirs to find.
        let max_width = (2.0 * self.ratio).ceil() as usize;
        let last = (self.coarse - 1) as f64;
        for d in self.found.iter() {
            let width = d.hi_bin + 1 - d.lo_bin;
            if width > max_width {
                continue;
            }
            let w = (width as f64 * self.bin_dof).max(1.0);
            let ratio = (d.power + d.noise) as f64 / (d.noise as f64).max(1e-30);
            let lo = to_coarse(n, self.coarse, d.lo_bin as f64 - 0.5);
            let hi = to_coarse(n, self.coarse, d.hi_bin as f64 + 0.5);
            out.push(Detection {
                lo_bin: (lo + 0.5).floor().clamp(0.0, last) as usize,
                hi_bin: (hi - 0.5).ceil().clamp(0.0, last) as usize,
                centre_bin: to_coarse(n, self.coarse, d.centre_bin),
                edges: Some((lo, hi)),
                trusted: on && ratio > f_quantile(2.0 * ks * w, 2.0 * k_floor, self.pfa_trust),
                ..*d
            });
        }
    }
}

/// Bin `bin` of a grid of `bins` as a fractional bin of one of `coarse` bins over the
/// same band (both fft-shifted, bin `n/2` at the centre frequency).
fn to_coarse(bins: usize, coarse: usize, bin: f64) -> f64 {
    (coarse / 2) as f64 + (bin - (bins / 2) as f64) * coarse as f64 / bins as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{Alert, AlertState};
    use crate::detect::Detector;
    use crate::dsp::WindowKind;
    use crate::types::StreamMeta;
    use rand::{Rng, SeedableRng};
    use rand_distr::{Distribution, Gamma};

    fn meta(rate: f64) -> StreamMeta {
        StreamMeta::for_test(rate, 0.0)
    }

    /// Noise per averaged-spectrum bin.
    const N0: f32 = 1e-7;

    /// Runs `spectra` hand-made pairs of spectra through a detector with both grids (or
    /// the averaged spectra alone): Gamma noise of the averaged spectra's K at `N0` per
    /// bin times `shape` (of the frequency, -0.5..0.5 of the rate), the carrier grid's
    /// noise at the same density in its narrower bins (Exp, one FFT per spectrum), and
    /// tones: `tones(spectrum)` lists (frequency as a fraction of the rate, power), each
    /// read in both grids as a Hann window reads a tone wherever it falls between bins.
    fn run(
        spec: SpectrumConfig,
        rate: f64,
        spectra: usize,
        seed: u64,
        carriers: bool,
        shape: impl Fn(f64) -> f32,
        tones: impl Fn(usize) -> Vec<(f64, f32)>,
    ) -> Vec<Alert> {
        let (n, nc) = (spec.fft_len, spec.carrier_len());
        assert!(nc > 0);
        let mut det = Detector::new(DetectorConfig::default(), &spec, &meta(rate));
        let k = spec.equivalent_averages();
        let g = Gamma::new(k, 1.0 / k).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let at = |i: usize, len: usize| (i as f64 - (len / 2) as f64) / len as f64;
        let level: Vec<f32> = (0..n).map(|i| N0 * shape(at(i, n))).collect();
        let level_c: Vec<f32> = (0..nc)
            .map(|j| N0 * shape(at(j, nc)) * n as f32 / nc as f32)
            .collect();
        let (mut p, mut c) = (vec![0.0f32; n], vec![0.0f32; nc]);
        let mut alerts = Vec::new();
        for s in 0..spectra {
            for (v, &m) in p.iter_mut().zip(&level) {
                *v = g.sample(&mut rng) as f32 * m;
            }
            for (v, &m) in c.iter_mut().zip(&level_c) {
                let e: f64 = rng.sample(rand_distr::Exp1);
                *v = e as f32 * m;
            }
            for (f, power) in tones(s) {
                for (grid, len) in [(&mut p, n), (&mut c, nc)] {
                    let at = f * len as f64 + (len / 2) as f64;
                    let first = at as usize - 2;
                    for (b, v) in grid[first..=first + 4].iter_mut().enumerate() {
                        *v += power * hann_response((first + b) as f64 - at);
                    }
                }
            }
            let start = (s * spec.span()) as u64;
            let grid = Some(c.as_slice()).filter(|_| carriers);
            det.push_grids(&p, None, grid, start, &mut |a| alerts.push(a));
        }
        det.finish(&mut |a| alerts.push(a));
        alerts
    }

    /// What a Hann window's bin reads of a tone `d` bins away (1 at 0, 0 from 2 on).
    fn hann_response(d: f64) -> f32 {
        if d.abs() < 1e-9 {
            return 1.0;
        }
        if (d.abs() - 1.0).abs() < 1e-9 {
            return 0.25;
        }
        let x = std::f64::consts::PI * d;
        ((x.sin() / (x * (1.0 - d * d))).powi(2)) as f32
    }

    fn raised(alerts: &[Alert]) -> Vec<&Alert> {
        alerts
            .iter()
            .filter(|a| a.state == AlertState::Raised)
            .collect()
    }

    /// The default spectra at 1.024 MS/s: 1 kHz bins; a carrier grid of 10 752 bins
    /// (95 Hz).
    fn default_spec() -> SpectrumConfig {
        SpectrumConfig {
            carriers: true,
            ..SpectrumConfig::new(1024, 50, 20, WindowKind::Hann)
        }
    }

    #[test]
    fn a_carrier_level_with_a_bins_noise_for_100_ms_is_found_on_the_carrier_grid() {
        // 30 dB-Hz (a Hann bin of 1 kHz holds 1.5 kHz of noise): 1.8 dB under a 1 kHz
        // bin's noise, 8.5 dB over a 95 Hz bin's; on for 100 ms (10 spectra) after 3 s of
        // noise.
        let spec = default_spec();
        let f = 0.1234;
        let tone = move |s: usize| {
            if (300..310).contains(&s) {
                vec![(f, N0 / 1.5)]
            } else {
                Vec::new()
            }
        };
        let with = run(spec, 1.024e6, 400, 3, true, |_| 1.0, tone);
        let found = raised(&with);
        assert_eq!(found.len(), 1, "{with:?}");
        let a = found[0];
        assert!((a.freq_hz - f * 1.024e6).abs() < 100.0, "{a:?}");
        assert!(a.bandwidth_hz < 400.0, "{a:?}");
        assert!(a.snr_db > 6.0, "{a:?}");
        // The same spectra without the grid: in 1 kHz bins the carrier is not proved.
        let without = run(spec, 1.024e6, 400, 3, false, |_| 1.0, tone);
        assert!(raised(&without).is_empty(), "{without:?}");
    }

    #[test]
    fn a_line_standing_from_the_start_is_the_carrier_grids_floor() {
        // A receiver's spur: 1.5 dB over a 1 kHz bin's noise (the averaged spectra's
        // shape takes it), 12 dB over a 95 Hz bin's, from the first sample on.
        let spec = default_spec();
        let alerts = run(
            spec,
            1.024e6,
            600,
            5,
            true,
            |_| 1.0,
            |_| vec![(-0.2, 0.4 * N0)],
        );
        assert!(raised(&alerts).is_empty(), "{alerts:?}");
    }

    #[test]
    fn what_the_averaged_spectra_see_is_one_alert_not_found_again_on_the_carrier_grid() {
        let spec = default_spec();
        let alerts = run(
            spec,
            1.024e6,
            400,
            7,
            true,
            |_| 1.0,
            |s| {
                if s >= 200 {
                    vec![(0.05, 100.0 * N0)]
                } else {
                    Vec::new()
                }
            },
        );
        assert_eq!(raised(&alerts).len(), 1, "{alerts:?}");
    }

    #[test]
    fn an_hour_of_a_real_front_ends_noise_on_both_grids_raises_at_most_one_alert() {
        // 250 kS/s, 256-point FFT: 1 kHz bins, a carrier grid of 2688 bins (93 Hz), 10 ms
        // spectra; 360 000 of them. The front end tilts, ripples and rolls off at the
        // edges, the same in both grids.
        let spec = SpectrumConfig {
            carriers: true,
            ..SpectrumConfig::new(256, 50, 20, WindowKind::Hann)
        };
        assert_eq!(spec.carrier_len(), 2688);
        let front_end = |f: f64| {
            let tilt = 1.0 + 0.6 * f;
            let ripple = 1.0 + 0.15 * (f * 40.0 * std::f64::consts::PI).sin();
            let roll = 1.0 / (1.0 + (f.abs() / 0.42).powi(16));
            (tilt * ripple * roll).max(0.05) as f32
        };
        let alerts = run(spec, 250e3, 360_000, 11, true, front_end, |_| Vec::new());
        let found = raised(&alerts);
        assert!(found.len() <= 1, "{found:?}");
    }

    #[test]
    fn weak_cw_pd_over_100_ms_against_c_over_n0_with_the_carrier_grid() {
        // As the averaged spectra's curve (`detect::tests::weak_cw_pd_…`, ignored: 0.4 at
        // 30 dB-Hz): 100 ms of CW anywhere between bins, at C/N0 from 26 to 32 dB-Hz, 20
        // trials each at different frequencies and seeds.
        let spec = default_spec();
        let n0 = N0 as f64 / (1.5 * 1000.0);
        let mut curve = Vec::new();
        for cn0 in [26.0, 28.0, 30.0, 32.0] {
            let c = (n0 * 10f64.powf(cn0 / 10.0)) as f32;
            let mut hits = 0;
            for trial in 0..20u64 {
                let f = -0.4 + 0.0413 * trial as f64 + 0.000_37 * trial as f64;
                let alerts = run(
                    spec,
                    1.024e6,
                    320,
                    100 + trial,
                    true,
                    |_| 1.0,
                    |s| {
                        if (300..310).contains(&s) {
                            vec![(f, c)]
                        } else {
                            Vec::new()
                        }
                    },
                );
                let found = raised(&alerts);
                assert!(
                    found
                        .iter()
                        .all(|a| (a.freq_hz - f * 1.024e6).abs() < 500.0),
                    "{cn0} dB-Hz: a false alert {found:?}"
                );
                hits += usize::from(!found.is_empty());
            }
            curve.push((cn0, hits as f64 / 20.0));
        }
        eprintln!("weak CW, 100 ms, both grids, Pd against C/N0 (dB-Hz): {curve:?}");
        assert!(curve[2].1 >= 0.9, "{curve:?}");
    }
}
