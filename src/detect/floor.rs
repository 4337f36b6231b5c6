//! Noise-floor estimate per bin that signals do not drag up.
//!
//! Each frame, the spectrum is cut into segments of a few dozen bins and the low
//! percentile of each segment is taken: a transmitter occupying less than the rest of
//! the segment does not move it. The percentile of Gamma-distributed noise sits at a known
//! fraction of the mean, which is divided out, so the estimate is of the mean noise power.
//! Segment estimates are smoothed over time (log domain, time constant of seconds: a
//! changed front end is followed within seconds, a burst never), capped 3 dB above
//! the median segment so that a wide steady signal is not learned as floor, and
//! interpolated back to bins.

use crate::dsp::stats::{gamma_mean1_quantile, quantile_dof};

/// Parameters of the floor estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloorConfig {
    /// Bins per segment.
    pub segment_bins: usize,
    /// Percentile taken in each segment (0.25: robust while 75% of a segment is free).
    pub percentile: f64,
    /// Time constant of the smoothing.
    pub tau_s: f64,
    /// How far above the median segment a segment's floor may sit.
    pub max_ripple_db: f64,
    /// How far above the band's quietest tenth of segments a segment's floor may sit: a
    /// front end's passband (roll-off and tilt included) varies by less; a wideband
    /// signal covering more than half the band (an OFDM carrier) stands higher and is
    /// kept out of the floor even when the median segment is inside it.
    pub max_span_db: f64,
    /// How far a bin's learned shape may move it from its segment's level, either way.
    /// Fixed fine structure of the front end (passband ripple, weak spurs) sits within it
    /// and is learned as floor; a line standing higher is a signal, and a steady carrier
    /// present from the first sample is still found (its excess over this stays).
    pub max_shape_db: f64,
    /// Time constant of the per-bin shape (the front end's shape does not change; it
    /// is learned over the first frames by a running mean, then followed slowly).
    pub shape_tau_s: f64,
}

impl Default for FloorConfig {
    fn default() -> Self {
        FloorConfig {
            segment_bins: 32,
            percentile: 0.25,
            tau_s: 2.0,
            max_ripple_db: 3.0,
            max_span_db: 10.0,
            max_shape_db: 6.0,
            shape_tau_s: 10.0,
        }
    }
}

/// Per-bin mean noise power, updated frame by frame.
#[derive(Debug, Clone)]
pub struct NoiseFloor {
    cfg: FloorConfig,
    bins: usize,
    segments: usize,
    /// Per segment: divides the order statistic taken into a mean estimate.
    bias: Vec<f32>,
    /// Per segment: which order statistic is taken.
    rank: Vec<usize>,
    alpha: f32,
    /// Smoothed ln(mean noise) per segment.
    seg_ln: Vec<f32>,
    seg_now: Vec<f32>,
    /// Frames each segment has averaged since it last started over (a snap restarts it).
    seg_frames: Vec<u32>,
    sorted: Vec<f32>,
    /// Scratch for the per-segment selection, as [`total_order_key`]s.
    keys: Vec<i32>,
    /// Per segment: its capped ln(floor), then the step to the next segment's.
    seg_capped: Vec<f32>,
    seg_step: Vec<f32>,
    /// Per bin: the segment whose centre is at or below it, and where the bin sits
    /// between that centre and the next (0..1), fixed by the geometry.
    bin_seg: Vec<u32>,
    bin_t: Vec<f32>,
    floor: Vec<f32>,
    /// Per bin: the segment level interpolated to the bin (linear), before its shape.
    base: Vec<f32>,
    /// Per bin: the learned shape, floor / base (linear, within ±`max_shape_db`).
    shape: Vec<f32>,
    /// Frames folded into the shape so far (per bin: a flagged bin is not learned from).
    shape_frames: Vec<u32>,
    shape_alpha: f32,
    k_eff: f64,
    frames: u64,
    /// Gamma shape one frame's segment estimate is worth.
    dof_per_frame: f64,
}

impl NoiseFloor {
    /// A floor for `bins`-bin spectra, each worth `k_eff` independent frames, arriving every
    /// `frame_s` seconds. `bin_dof` is what one bin is worth in independent bins (1/ENBW:
    /// a window's neighbouring bins are correlated).
    pub fn new(cfg: FloorConfig, bins: usize, k_eff: f64, frame_s: f64) -> Self {
        Self::with_bin_dof(cfg, bins, k_eff, frame_s, 1.0)
    }

    /// [`NoiseFloor::new`] with bins worth `bin_dof` independent ones each.
    pub fn with_bin_dof(
        cfg: FloorConfig,
        bins: usize,
        k_eff: f64,
        frame_s: f64,
        bin_dof: f64,
    ) -> Self {
        let seg_len = cfg.segment_bins.clamp(4, bins.max(4));
        let segments = bins.div_ceil(seg_len).max(1);
        let lens: Vec<usize> = (0..segments)
            .map(|s| seg_len.min(bins - s * seg_len))
            .collect();
        let rank: Vec<usize> = lens
            .iter()
            .map(|&n| ((n as f64 - 1.0) * cfg.percentile).round() as usize)
            .collect();
        // The r-th smallest of n samples sits, on average, at probability (r+1)/(n+1).
        let bias = lens
            .iter()
            .zip(&rank)
            .map(|(&n, &r)| {
                (1.0 / gamma_mean1_quantile(k_eff, (r as f64 + 1.0) / (n as f64 + 1.0))) as f32
            })
            .collect();
        // A bin's floor is read from the percentile of its segment: as good as a mean of
        // this many frames (the quantile's sampling scatter, segment bins as independent
        // as the window lets them be).
        let dof_per_frame = quantile_dof(
            k_eff,
            (rank[0] as f64 + 1.0) / (lens[0] as f64 + 1.0),
            lens[0] as f64 * bin_dof,
        );
        let last = segments - 1;
        let (bin_seg, bin_t) = (0..bins)
            .map(|k| {
                // Position in segment units, relative to segment centres.
                let x = (k as f32 + 0.5) / seg_len as f32 - 0.5;
                let i = (x.floor().max(0.0) as usize).min(last);
                (i as u32, (x - i as f32).clamp(0.0, 1.0))
            })
            .unzip();
        NoiseFloor {
            seg_capped: vec![0.0; segments],
            seg_step: vec![0.0; segments],
            bin_seg,
            bin_t,
            bias,
            rank,
            alpha: (frame_s / cfg.tau_s).min(1.0) as f32,
            cfg: FloorConfig {
                segment_bins: seg_len,
                ..cfg
            },
            bins,
            segments,
            seg_ln: vec![0.0; segments],
            seg_now: vec![0.0; segments],
            seg_frames: vec![0; segments],
            sorted: Vec::with_capacity(seg_len),
            keys: Vec::with_capacity(seg_len),
            floor: vec![0.0; bins],
            base: vec![0.0; bins],
            shape: vec![1.0; bins],
            shape_frames: vec![0; bins],
            shape_alpha: (frame_s / cfg.shape_tau_s).min(1.0) as f32,
            k_eff,
            frames: 0,
            dof_per_frame,
        }
    }

    /// What the floor estimate is worth as a Gamma shape (the K of a mean of noise with
    /// the same scatter in the log domain): the segment percentile's worth per frame times
    /// the frames its smoothing holds (a running mean at first, then the time constant's
    /// equivalent window). A test against the floor allows for this scatter (an F rather
    /// than a Gamma quantile), so thresholds start high and settle as frames come in:
    /// nothing crosses merely because the estimate is young.
    pub fn dof(&self) -> f64 {
        let (seg, shape) = self.dof_parts();
        1.0 / (1.0 / seg + 1.0 / shape)
    }

    /// The two parts of [`NoiseFloor::dof`]: the segment level's (shared by the bins of a
    /// segment) and one bin's shape's (independent from bin to bin, so a sum over w bins
    /// is worth w times as much).
    pub fn dof_parts(&self) -> (f64, f64) {
        let window = (2.0 / self.alpha as f64 - 1.0).max(1.0);
        let held = self.seg_frames.iter().copied().min().unwrap_or(0) as f64;
        let seg = self.dof_per_frame * held.min(window);
        // The per-bin shape is a mean of the bin's own frames: worth K per frame.
        let shape_window = (2.0 / self.shape_alpha as f64 - 1.0).max(1.0);
        let shape = self.k_eff * (self.frames as f64).min(shape_window);
        (seg.max(1e-9), shape.max(1e-9))
    }

    /// Mean noise power per bin (same units as the spectrum).
    pub fn floor(&self) -> &[f32] {
        &self.floor
    }

    /// Frames seen so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Instantaneous (unsmoothed) per-segment estimates of the last frame, and the bins per
    /// segment: what the jamming rule compares with the smoothed floor.
    pub fn segments_now(&self) -> (&[f32], usize) {
        (&self.seg_now, self.cfg.segment_bins)
    }

    /// Jumps the smoothed floor of the flagged segments to their latest estimate: a jammer
    /// switching on or off is a step the floor should take at once, not over seconds.
    pub fn snap(&mut self, which: &[bool]) {
        for (((ln, now), &w), n) in self
            .seg_ln
            .iter_mut()
            .zip(&self.seg_now)
            .zip(which)
            .zip(&mut self.seg_frames)
        {
            if w {
                // Start the average over from here, so it settles within frames.
                *ln = now.ln();
                *n = 1;
            }
        }
        self.interpolate();
    }

    /// Number of segments.
    pub fn segments(&self) -> usize {
        self.segments
    }

    /// Bins per segment.
    pub fn segment_bins(&self) -> usize {
        self.cfg.segment_bins
    }

    /// Folds in one spectrum (linear power, `bins` values).
    pub fn update(&mut self, power: &[f32]) {
        debug_assert_eq!(power.len(), self.bins);
        let seg_len = self.cfg.segment_bins;
        for (s, chunk) in power.chunks(seg_len).enumerate() {
            // Integer keys in `f32::total_cmp`'s order: the same element is selected, without
            // redoing total_cmp's bit transform in every comparison.
            self.keys.clear();
            self.keys.extend(chunk.iter().map(|&x| total_order_key(x)));
            let (_, k, _) = self.keys.select_nth_unstable(self.rank[s]);
            self.seg_now[s] = (from_total_order_key(*k) * self.bias[s]).max(1e-30);
        }
        // A running mean until it is as smooth as the EMA: accurate from the first frames
        // instead of carrying the first frame's error for seconds.
        for ((ln, now), n) in self
            .seg_ln
            .iter_mut()
            .zip(&self.seg_now)
            .zip(&mut self.seg_frames)
        {
            let alpha = self.alpha.max(1.0 / (*n + 1) as f32);
            *ln += alpha * (now.ln() - *ln);
            *n = n.saturating_add(1);
        }
        self.frames += 1;
        self.interpolate();
    }

    fn interpolate(&mut self) {
        // Cap every segment a few dB above the median, so a steady wideband signal that
        // fills whole segments is not taken for the floor; and within `max_span_db` of the
        // quietest tenth, for a signal that fills most of the band.
        self.sorted.clear();
        self.sorted.extend_from_slice(&self.seg_ln);
        let mid = self.sorted.len() / 2;
        let (_, median, _) = self.sorted.select_nth_unstable_by(mid, f32::total_cmp);
        let median = *median;
        let tenth = (self.sorted.len() - 1) / 10;
        let (_, low, _) = self.sorted[..=mid].select_nth_unstable_by(tenth, f32::total_cmp);
        let to_ln = |db: f64| (db / 10.0 * std::f64::consts::LN_10) as f32;
        let cap = (median + to_ln(self.cfg.max_ripple_db)).min(*low + to_ln(self.cfg.max_span_db));
        for (c, &ln) in self.seg_capped.iter_mut().zip(&self.seg_ln) {
            *c = ln.min(cap);
        }
        let last = self.segments - 1;
        for (i, d) in self.seg_step.iter_mut().enumerate() {
            *d = self.seg_capped[(i + 1).min(last)] - self.seg_capped[i];
        }
        // Linear in ln(power) between segment centres; the exponentials in one vectorised
        // pass (a libm call per bin was a fifth of the detector's time).
        for ((f, &i), &t) in self.base.iter_mut().zip(&self.bin_seg).zip(&self.bin_t) {
            let i = i as usize;
            *f = self.seg_capped[i] + t * self.seg_step[i];
        }
        crate::dsp::simd::exp_in_place(&mut self.base);
        for ((f, &b), &s) in self.floor.iter_mut().zip(&self.base).zip(&self.shape) {
            *f = b * s;
        }
    }

    /// Learns the per-bin shape from this frame's bins that `flagged` leaves alone (any
    /// detection test fired there: a signal is not floor). In the linear domain, where the
    /// mean of noise over the base is the shape itself, unbiased at any averaging. Call
    /// after the frame's tests: the frame is tested against the shape learned before it.
    pub fn learn_shape(&mut self, power: &[f32], flagged: &[u8]) {
        learn_shape(
            &mut self.shape,
            &mut self.shape_frames,
            power,
            &self.base,
            flagged,
            self.cfg.max_shape_db,
            self.shape_alpha,
        );
        for ((f, &b), &s) in self.floor.iter_mut().zip(&self.base).zip(&self.shape) {
            *f = b * s;
        }
    }

    /// The floor without the learned shape: the segment level at each bin. Signal powers
    /// and SNRs are measured against the lower of the two, so a steady line present from
    /// the start reads its full level, not what the shape has absorbed of it.
    pub fn base(&self) -> &[f32] {
        &self.base
    }
}

/// Spectra the per-bin shape's flat starting value is worth (see [`NoiseFloor::learn_shape`]).
const SHAPE_PRIOR: f32 = 4.0;

/// One spectrum's step of a per-bin shape over `base` (see [`NoiseFloor::learn_shape`]):
/// bins `flagged` leaves alone move towards `power / base`, by a running mean over the
/// bin's `frames` at first, then at `a_min`, within `max_shape_db` either way.
pub(super) fn learn_shape(
    shape: &mut [f32],
    frames: &mut [u32],
    power: &[f32],
    base: &[f32],
    flagged: &[u8],
    max_shape_db: f64,
    a_min: f32,
) {
    let hi = (max_shape_db / 10.0 * std::f64::consts::LN_10).exp() as f32;
    let lo = 1.0 / hi;
    for ((((s, n), &p), &b), &m) in shape
        .iter_mut()
        .zip(frames.iter_mut())
        .zip(power)
        .zip(base)
        .zip(flagged)
    {
        // A running mean that starts from a flat shape worth `SHAPE_PRIOR` spectra: a
        // bin learned from one spectrum (one that tests flagged for a long time, at a
        // packet's frequency) would otherwise take that spectrum's noise as its shape,
        // several dB off, while the floor's degrees of freedom count every spectrum.
        // Without a branch, so the loop vectorises.
        let a = a_min.max(1.0 / (*n as f32 + 1.0 + SHAPE_PRIOR));
        let learnt = (*s + a * (p / b.max(1e-30) - *s)).clamp(lo, hi);
        let free = m == 0;
        *s = if free { learnt } else { *s };
        *n = n.saturating_add(u32::from(free));
    }
}

/// The integer whose order is `f32::total_cmp`'s (the same transform it applies).
#[inline]
fn total_order_key(x: f32) -> i32 {
    let b = x.to_bits() as i32;
    b ^ (((b >> 31) as u32) >> 1) as i32
}

/// Inverse of [`total_order_key`].
#[inline]
fn from_total_order_key(k: i32) -> f32 {
    f32::from_bits((k ^ (((k >> 31) as u32) >> 1) as i32) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Gamma};

    fn noise_frames(k: f64, mean: f32, bins: usize, frames: usize, seed: u64) -> Vec<Vec<f32>> {
        let g = Gamma::new(k, mean as f64 / k).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..frames)
            .map(|_| (0..bins).map(|_| g.sample(&mut rng) as f32).collect())
            .collect()
    }

    fn mean_ratio(floor: &[f32], truth: f32) -> f32 {
        floor.iter().map(|f| f / truth).sum::<f32>() / floor.len() as f32
    }

    #[test]
    fn integer_keys_order_like_total_cmp_and_round_trip() {
        let xs = [
            f32::NEG_INFINITY,
            -1.5,
            -0.0,
            0.0,
            1e-38,
            1e-30,
            0.25,
            3.0,
            f32::INFINITY,
            f32::NAN,
        ];
        for a in xs {
            assert_eq!(
                from_total_order_key(total_order_key(a)).to_bits(),
                a.to_bits()
            );
            for b in xs {
                assert_eq!(total_order_key(a).cmp(&total_order_key(b)), a.total_cmp(&b));
            }
        }
    }

    #[test]
    fn estimates_the_mean_of_pure_noise() {
        let mut nf = NoiseFloor::new(FloorConfig::default(), 1024, 19.0, 0.01);
        for f in noise_frames(19.0, 1e-6, 1024, 300, 1) {
            nf.update(&f);
        }
        let r = mean_ratio(nf.floor(), 1e-6);
        assert!((r - 1.0).abs() < 0.05, "ratio {r}");
    }

    #[test]
    fn a_strong_carrier_does_not_lift_the_floor() {
        let mut nf = NoiseFloor::new(FloorConfig::default(), 1024, 19.0, 0.01);
        for mut f in noise_frames(19.0, 1e-6, 1024, 300, 2) {
            // 40 dB carrier, 5 bins wide, always on.
            for v in &mut f[300..305] {
                *v = 1e-2;
            }
            nf.update(&f);
        }
        let at = nf.floor()[302] / 1e-6;
        assert!(at < 1.3, "floor under the carrier is {at}x the noise");
    }

    #[test]
    fn follows_a_changed_front_end_within_seconds_not_one_frame() {
        let mut nf = NoiseFloor::new(FloorConfig::default(), 512, 19.0, 0.01);
        for f in noise_frames(19.0, 1e-6, 512, 200, 3) {
            nf.update(&f);
        }
        // Gain up by 10 dB.
        let later = noise_frames(19.0, 1e-5, 512, 1000, 4);
        nf.update(&later[0]);
        assert!(mean_ratio(nf.floor(), 1e-6) < 1.2, "moved within one frame");
        for f in &later[1..] {
            nf.update(f);
        }
        let r = mean_ratio(nf.floor(), 1e-5);
        assert!((r - 1.0).abs() < 0.1, "after 10 s: {r}");
    }

    #[test]
    fn wide_steady_signal_is_capped_near_the_median() {
        let mut nf = NoiseFloor::new(FloorConfig::default(), 1024, 19.0, 0.01);
        for mut f in noise_frames(19.0, 1e-6, 1024, 1000, 5) {
            // 200 bins at +20 dB, steady for 10 s.
            for v in &mut f[400..600] {
                *v *= 100.0;
            }
            nf.update(&f);
        }
        let at = nf.floor()[500] / 1e-6;
        assert!(at < 4.5, "floor inside the wide signal is {at}x the noise");
    }
}
