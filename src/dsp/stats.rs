//! Distribution helpers for thresholds set from a false-alarm probability.
//!
//! An averaged periodogram bin of noise with mean μ, worth K independent frames, is
//! Gamma(K, μ/K): `2K·X/μ ~ χ²(2K)`. The Wilson–Hilferty cube-root transform turns that
//! into a normal, which gives quantiles in closed form, accurate to a few percent even
//! at K = 1 and better as K grows.

/// Φ⁻¹(p): the standard normal quantile (Acklam's rational approximation, |ε| < 1.2e-9).
///
/// # Panics
/// If `p` is not in (0, 1).
pub fn normal_quantile(p: f64) -> f64 {
    assert!(
        p > 0.0 && p < 1.0,
        "invariant: probability in (0, 1), got {p}"
    );
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    const P_LOW: f64 = 0.024_25;
    if p < P_LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - P_LOW {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// The `p` quantile of Gamma(K, 1/K) (mean 1), by Wilson–Hilferty.
pub fn gamma_mean1_quantile(k: f64, p: f64) -> f64 {
    let v = 1.0 / (9.0 * k);
    (1.0 - v + normal_quantile(p) * v.sqrt()).max(0.0).powi(3)
}

/// Threshold over the mean noise power that noise exceeds with probability `pfa`, for a
/// bin worth `k` independent frames.
pub fn threshold_factor(k: f64, pfa: f64) -> f64 {
    gamma_mean1_quantile(k, 1.0 - pfa)
}

/// ln Γ(x) for x > 0 (Stirling's series after shifting x above 7; |ε| < 1e-10).
pub fn ln_gamma(x: f64) -> f64 {
    let mut shift = 0.0;
    let mut x = x;
    while x < 7.0 {
        shift -= x.ln();
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    let series = inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 * (1.0 / 1260.0 - inv2 / 1680.0)));
    shift + (x - 0.5) * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI).ln() + series
}

/// Density of Gamma(K, 1/K) (mean 1) at `x`.
pub fn gamma_mean1_pdf(k: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    (k * k.ln() + (k - 1.0) * x.ln() - k * x - ln_gamma(k)).exp()
}

/// Degrees of freedom (in frames, as for a mean) of the natural log of the `p` sample
/// quantile of `n` independent Gamma(K) values: the quantile's asymptotic variance
/// p(1−p) / (n f(x_p)²), taken to the log domain by dividing by x_p², inverted. An
/// order statistic is a less efficient estimate of the level than a mean; this says by
/// how much, so a threshold set against it can allow for its scatter.
pub fn quantile_dof(k: f64, p: f64, n: f64) -> f64 {
    let x = gamma_mean1_quantile(k, p);
    let f = gamma_mean1_pdf(k, x);
    let var_ln = p * (1.0 - p) / (n.max(1.0) * (x * f).powi(2));
    1.0 / var_ln.max(1e-12)
}

/// The noise of a peak spectrum: per bin, the largest of `windows` values, each the
/// mean of a window of frames worth `k` (Gamma(k, 1/k); 1 is a single frame, Exp(1)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeakNoise {
    /// Windows the peak is the largest of.
    pub windows: usize,
    /// Degrees of freedom of one window.
    pub k: f64,
}

impl PeakNoise {
    /// Per single frame (windows of one frame).
    pub fn frames(n: usize) -> Self {
        PeakNoise {
            windows: n.max(1),
            k: 1.0,
        }
    }

    fn single(&self) -> bool {
        self.k <= 1.0 + 1e-9
    }

    /// Upper bound on the cumulant generating function of one bin of the peak, at
    /// `s` in (0, `s_max`). Single frames: the largest of N Exp(1) is Σᵢ Eᵢ/i (Rényi),
    /// exactly −Σᵢ ln(1 − s/i). Windows: E[e^{s·max}] ≤ Σⱼ E[e^{s·Yⱼ}], so
    /// ln N − k·ln(1 − s/k).
    fn cgf(&self, s: f64) -> f64 {
        if self.single() {
            (1..=self.windows).map(|i| -(-s / i as f64).ln_1p()).sum()
        } else {
            (self.windows as f64).ln() - self.k * (-s / self.k).ln_1p()
        }
    }

    fn s_max(&self) -> f64 {
        if self.single() {
            1.0
        } else {
            self.k
        }
    }
}

/// Threshold over the floor, per bin, that one bin of a peak spectrum crosses with
/// probability at most `pfa`, the floor being an estimate worth `k_floor` (a Gamma shape,
/// mean 1): by the union bound over the windows, whatever their correlation. Single
/// frames: P(max > t·G) ≤ N·(1 + t/k_floor)^(−k_floor), in closed form; windows of
/// several frames: the F quantile at `pfa / N`.
pub fn peak_bin_threshold(noise: PeakNoise, k_floor: f64, pfa: f64) -> f64 {
    let n = noise.windows as f64;
    if !noise.single() {
        return crate::dsp::cfar::f_quantile(2.0 * noise.k, 2.0 * k_floor, pfa / n);
    }
    let ln_ratio = (n / pfa).ln();
    if k_floor > 1e12 {
        ln_ratio
    } else {
        k_floor * (ln_ratio / k_floor).exp_m1()
    }
}

/// Threshold over the floor, per bin, for the sum of `w` independent bins of a peak
/// spectrum (as [`peak_bin_threshold`]) that noise crosses with probability at most
/// `pfa`. With Λ(s) a bound on one bin's cumulant generating function (see
/// [`PeakNoise`]) and the floor worth `k_floor`, the Chernoff bound
/// P(ΣM > t·w·G) ≤ exp(w·Λ(s) − k_floor·ln(1 + s·t·w/k_floor)) for any admissible s gives
/// the t at which the bound reaches `pfa` in closed form for each s; the threshold is
/// the least of them. Conservative (a bound, not the tail itself), and sound for any
/// `w`, where a Gamma fit of the sum's tail would be too light.
pub fn peak_sum_threshold(noise: PeakNoise, w: f64, k_floor: f64, pfa: f64) -> f64 {
    let w = w.max(1e-9);
    let ln_pfa = pfa.ln();
    let s_max = noise.s_max();
    let t_at = |u: f64| {
        // s = s_max·(1 − e^(−u)): fine steps where the optimum crowds towards s_max
        // (few bins).
        let s = -s_max * (-u).exp_m1();
        let x = w * noise.cgf(s) - ln_pfa;
        if k_floor > 1e12 {
            x / (s * w)
        } else {
            k_floor / (s * w) * (x / k_floor).exp_m1()
        }
    };
    // A coarse scan on a log grid of u, then golden-section search around the best.
    let grid = |j: usize| 1e-4 * (40.0f64 / 1e-4).powf(j as f64 / 127.0);
    let best = (0..128)
        .min_by(|&a, &b| t_at(grid(a)).total_cmp(&t_at(grid(b))))
        .unwrap_or(64);
    let (mut a, mut b) = (grid(best.saturating_sub(1)), grid((best + 1).min(127)));
    const PHI: f64 = 0.618_033_988_749_894_8;
    for _ in 0..40 {
        let c = b - PHI * (b - a);
        let d = a + PHI * (b - a);
        if t_at(c) < t_at(d) {
            b = d;
        } else {
            a = c;
        }
    }
    t_at(0.5 * (a + b)).min(t_at(grid(best)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The largest of `frames` Exp(1) draws, summed over `w` bins, from a small LCG.
    fn peak_sums(frames: usize, w: usize, trials: usize, seed: u64) -> Vec<f64> {
        let mut x = seed;
        let mut uniform = move || {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        (0..trials)
            .map(|_| {
                (0..w)
                    .map(|_| (0..frames).map(|_| -uniform().ln()).fold(0.0, f64::max))
                    .sum()
            })
            .collect()
    }

    #[test]
    fn peak_thresholds_bound_the_tail_without_wasting_much() {
        let trials = 200_000;
        for &(frames, w) in &[(5usize, 1usize), (5, 8), (47, 4), (2, 32)] {
            let sums = peak_sums(frames, w, trials, 7 + frames as u64);
            for &pfa in &[1e-2, 1e-4] {
                let noise = PeakNoise::frames(frames);
                let t = if w == 1 {
                    peak_bin_threshold(noise, f64::INFINITY, pfa)
                } else {
                    peak_sum_threshold(noise, w as f64, f64::INFINITY, pfa)
                };
                let over = sums.iter().filter(|&&s| s > t * w as f64).count() as f64;
                let rate = over / trials as f64;
                // A bound: never (beyond sampling) above pfa; and not so loose that the
                // test is blind: noise still crosses a threshold 15 % lower.
                assert!(
                    rate <= 1.3 * pfa + 3.0 / trials as f64,
                    "{frames} {w} {pfa}: {rate}"
                );
                let lower = sums.iter().filter(|&&s| s > 0.85 * t * w as f64).count() as f64;
                assert!(
                    lower / trials as f64 > 0.1 * pfa,
                    "{frames} {w} {pfa}: loose"
                );
            }
        }
    }

    #[test]
    fn peak_thresholds_fall_with_width_and_rise_with_floor_doubt() {
        let t = |w, k| peak_sum_threshold(PeakNoise::frames(5), w, k, 1e-8);
        assert!(t(4.0, 1e13) > t(16.0, 1e13) && t(16.0, 1e13) > t(64.0, 1e13));
        // The mean of a peak of five frames is H₅ ≈ 2.28: wide sums tend to it.
        assert!(t(1e5, 1e13) < 2.4 && t(1e5, 1e13) > 2.28);
        assert!(t(16.0, 50.0) > t(16.0, 1e13));
        let five = PeakNoise::frames(5);
        assert!(peak_bin_threshold(five, 50.0, 1e-6) > peak_bin_threshold(five, 1e13, 1e-6));
    }

    #[test]
    fn window_peak_thresholds_bound_the_tail() {
        // The largest of 12 means of 4 Exp(1) draws (Gamma(4)/4), summed over w bins.
        let (trials, windows, m) = (100_000, 12usize, 4usize);
        let noise = PeakNoise {
            windows,
            k: m as f64,
        };
        for &w in &[1usize, 8] {
            let mut x = 99u64;
            let mut uniform = move || {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64
            };
            let sums: Vec<f64> = (0..trials)
                .map(|_| {
                    (0..w)
                        .map(|_| {
                            (0..windows)
                                .map(|_| (0..m).map(|_| -uniform().ln()).sum::<f64>() / m as f64)
                                .fold(0.0, f64::max)
                        })
                        .sum()
                })
                .collect();
            let pfa = 1e-3;
            let t = if w == 1 {
                peak_bin_threshold(noise, 1e13, pfa)
            } else {
                peak_sum_threshold(noise, w as f64, 1e13, pfa)
            };
            let rate = sums.iter().filter(|&&s| s > t * w as f64).count() as f64 / trials as f64;
            assert!(rate <= 1.3 * pfa, "{w}: {rate}");
            let lower = sums.iter().filter(|&&s| s > 0.8 * t * w as f64).count() as f64;
            assert!(lower / trials as f64 > 0.05 * pfa, "{w}: loose");
        }
    }

    #[test]
    fn normal_quantile_known_values() {
        assert!((normal_quantile(0.5)).abs() < 1e-9);
        assert!((normal_quantile(0.975) - 1.959_964).abs() < 1e-5);
        assert!((normal_quantile(1e-6) + 4.753_424).abs() < 1e-5);
    }

    #[test]
    fn ln_gamma_known_values() {
        assert!(ln_gamma(1.0).abs() < 1e-9);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-9);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-9);
    }

    #[test]
    fn quantile_dof_matches_simulation() {
        use rand::SeedableRng;
        use rand_distr::{Distribution, Gamma};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
        let (k, n, p) = (4.0, 32usize, 0.25);
        let g = Gamma::new(k, 1.0 / k).unwrap();
        let r = ((n as f64 - 1.0) * p).round() as usize;
        let trials = 20_000;
        let mut xs = vec![0.0f64; n];
        let (mut s, mut s2) = (0.0, 0.0);
        for _ in 0..trials {
            for x in xs.iter_mut() {
                *x = g.sample(&mut rng);
            }
            xs.sort_by(f64::total_cmp);
            let l = xs[r].ln();
            s += l;
            s2 += l * l;
        }
        let var = s2 / trials as f64 - (s / trials as f64).powi(2);
        let dof = quantile_dof(k, (r as f64 + 1.0) / (n as f64 + 1.0), n as f64);
        // Asymptotic: within a quarter at n = 32.
        assert!(
            (1.0 / var / dof - 1.0).abs() < 0.25,
            "{} vs {dof}",
            1.0 / var
        );
    }

    #[test]
    fn gamma_quantiles_match_simulation() {
        use rand::SeedableRng;
        use rand_distr::{Distribution, Gamma};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for k in [4.0, 20.0, 300.0] {
            let g = Gamma::new(k, 1.0 / k).unwrap();
            let mut xs: Vec<f64> = (0..200_000).map(|_| g.sample(&mut rng)).collect();
            xs.sort_by(f64::total_cmp);
            for p in [0.25, 0.5, 0.999] {
                let empirical = xs[(p * xs.len() as f64) as usize];
                let model = gamma_mean1_quantile(k, p);
                assert!(
                    (empirical / model - 1.0).abs() < 0.02,
                    "k={k} p={p}: {empirical} vs {model}"
                );
            }
        }
    }
}
