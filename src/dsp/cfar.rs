//! Cell-averaging CFAR along frequency.
//!
//! For each bin, the reference level is the mean of `train` cells on each side, skipping
//! `guard` cells next to the bin (so a signal's own skirts do not raise its reference).
//! With noise Gamma(K)-distributed per bin, the ratio of a bin to the mean of M training
//! cells is F(2K, 2MK)-distributed, so the threshold factor for a false-alarm probability
//! follows from the F quantile (Paulson's cube-root approximation) — one factor per
//! number of training cells, because windows are cut short at the band edges.

use super::stats::normal_quantile;

/// Upper `1 - pfa` quantile of F(d1, d2), by Paulson's approximation (the Wilson–Hilferty
/// transform applied to both χ² terms), accurate to a few percent for d1, d2 ≥ 2.
pub fn f_quantile(d1: f64, d2: f64, pfa: f64) -> f64 {
    let z = normal_quantile(1.0 - pfa);
    let (c, e) = (2.0 / (9.0 * d2), 2.0 / (9.0 * d1));
    let (a, b) = (1.0 - c, 1.0 - e);
    let qa = a * a - z * z * c;
    let disc = (a * b).powi(2) - qa * (b * b - z * z * e);
    if qa <= 0.0 || disc < 0.0 {
        // Too few degrees of freedom for the approximation: refuse to detect rather than
        // flood (an effectively infinite threshold).
        return f64::INFINITY;
    }
    let y = (a * b + disc.sqrt()) / qa;
    y.powi(3)
}

/// CA-CFAR parameters and per-count thresholds.
#[derive(Debug, Clone)]
pub struct Cfar {
    guard: usize,
    train: usize,
    /// `alpha[m]`: threshold factor with m training cells.
    alpha: Vec<f32>,
    prefix: Vec<f64>,
}

impl Cfar {
    /// A CFAR with `guard` and `train` cells per side, for bins worth `k` independent
    /// frames, at false-alarm probability `pfa`. `cell_dof` scales the training cells'
    /// degrees of freedom: adjacent bins of a windowed FFT are correlated, so M cells are
    /// worth about M / ENBW independent ones.
    pub fn new(guard: usize, train: usize, k: f64, pfa: f64, cell_dof: f64, bins: usize) -> Self {
        let alpha = (0..=2 * train)
            .map(|m| {
                if m == 0 {
                    f32::INFINITY
                } else {
                    f_quantile(2.0 * k, 2.0 * k * (m as f64 * cell_dof).max(1.0), pfa) as f32
                }
            })
            .collect();
        Cfar {
            guard,
            train,
            alpha,
            prefix: vec![0.0; bins + 1],
        }
    }

    /// Computes each bin's threshold (reference × factor) into `threshold`.
    pub fn thresholds(&mut self, power: &[f32], threshold: &mut [f32]) {
        let n = power.len();
        debug_assert_eq!(threshold.len(), n);
        if self.prefix.len() != n + 1 {
            self.prefix.resize(n + 1, 0.0);
        }
        // f64 prefix sums: a strong carrier and the noise beside it differ by 1e6 and more.
        let mut acc = 0.0f64;
        self.prefix[0] = 0.0;
        for (p, &x) in self.prefix[1..].iter_mut().zip(power) {
            acc += x as f64;
            *p = acc;
        }
        let (g, t) = (self.guard, self.train);
        let edge = |k: usize| {
            let l_hi = k.saturating_sub(g);
            let l_lo = k.saturating_sub(g + t);
            let r_lo = (k + g + 1).min(n);
            let r_hi = (k + g + 1 + t).min(n);
            let cells = (l_hi - l_lo) + (r_hi - r_lo);
            let sum =
                (self.prefix[l_hi] - self.prefix[l_lo]) + (self.prefix[r_hi] - self.prefix[r_lo]);
            if cells == 0 {
                f32::INFINITY
            } else {
                (sum / cells as f64) as f32 * self.alpha[cells]
            }
        };
        // Bins whose windows are whole: the same sums as `edge`, without its clamping and
        // table look-up, so that the loop vectorises.
        let w = g + t;
        let inner = w..n.saturating_sub(w).max(w);
        let full = (2 * t) as f64;
        let alpha = self.alpha[2 * t];
        for (k, th) in threshold.iter_mut().enumerate() {
            if !inner.contains(&k) {
                *th = edge(k);
            }
        }
        if !inner.is_empty() {
            let p = &self.prefix;
            let ths = &mut threshold[inner.clone()];
            let l_lo = &p[inner.start - w..inner.end - w];
            let l_hi = &p[inner.start - g..inner.end - g];
            let r_lo = &p[inner.start + g + 1..inner.end + g + 1];
            let r_hi = &p[inner.start + w + 1..inner.end + w + 1];
            for ((((th, &a), &b), &c), &d) in ths.iter_mut().zip(l_hi).zip(l_lo).zip(r_hi).zip(r_lo)
            {
                *th = (((a - b) + (c - d)) / full) as f32 * alpha;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Gamma};

    #[test]
    fn f_quantile_matches_known_values() {
        // F(10, 20) upper 5% point is 2.348; F(4, 100) upper 1% is 3.513.
        assert!((f_quantile(10.0, 20.0, 0.05) / 2.348 - 1.0).abs() < 0.03);
        assert!((f_quantile(4.0, 100.0, 0.01) / 3.513 - 1.0).abs() < 0.03);
        // Large d2: tends to the Gamma quantile of the numerator.
        let g = crate::dsp::stats::threshold_factor(20.0, 1e-4);
        assert!((f_quantile(40.0, 1e9, 1e-4) / g - 1.0).abs() < 1e-3);
    }

    #[test]
    fn false_alarm_rate_is_near_target_on_gamma_noise() {
        let (bins, k, pfa) = (1024usize, 10.0, 1e-3);
        let mut cfar = Cfar::new(3, 16, k, pfa, 1.0, bins);
        let g = Gamma::new(k, 1.0 / k).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut p = vec![0.0f32; bins];
        let mut th = vec![0.0f32; bins];
        let mut hits = 0usize;
        let trials = 400;
        for _ in 0..trials {
            for v in p.iter_mut() {
                *v = g.sample(&mut rng) as f32;
            }
            cfar.thresholds(&p, &mut th);
            hits += p.iter().zip(&th).filter(|(p, t)| p > t).count();
        }
        let rate = hits as f64 / (trials * bins) as f64;
        assert!(
            rate > pfa / 3.0 && rate < pfa * 3.0,
            "measured {rate}, target {pfa}"
        );
    }

    #[test]
    fn thresholds_match_the_windowed_means_at_every_bin() {
        for (bins, guard, train) in [(100, 2, 8), (1024, 3, 24), (20, 3, 24), (7, 1, 2)] {
            let mut cfar = Cfar::new(guard, train, 10.0, 1e-4, 1.0, bins);
            let p: Vec<f32> = (0..bins).map(|i| 1.0 + ((i * 37) % 11) as f32).collect();
            let mut th = vec![0.0f32; bins];
            cfar.thresholds(&p, &mut th);
            for (k, &got) in th.iter().enumerate() {
                let cells: Vec<usize> = (0..bins)
                    .filter(|&j| j.abs_diff(k) > guard && j.abs_diff(k) <= guard + train)
                    .collect();
                let want = if cells.is_empty() {
                    f32::INFINITY
                } else {
                    let mean = cells.iter().map(|&j| p[j] as f64).sum::<f64>() / cells.len() as f64;
                    mean as f32 * cfar.alpha[cells.len()]
                };
                let ok = if want.is_infinite() {
                    got == want
                } else {
                    (got / want - 1.0).abs() < 1e-6
                };
                assert!(ok, "bins {bins}, bin {k}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn a_strong_neighbour_raises_the_reference_only_within_the_window() {
        let mut cfar = Cfar::new(2, 8, 10.0, 1e-6, 1.0, 100);
        let mut p = vec![1.0f32; 100];
        p[50] = 1000.0;
        let mut th = vec![0.0f32; 100];
        cfar.thresholds(&p, &mut th);
        // Guard cells: the tone does not sit in its own reference.
        assert!(th[50] < 10.0);
        // Inside the training window of the tone, references rise.
        assert!(th[45] > 10.0);
        // Beyond it they do not.
        assert!(th[30] < 10.0 && th[70] < 10.0);
    }
}
