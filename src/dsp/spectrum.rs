//! The Welch power spectrum: window, FFT, |X|², average over `averages` frames hopped by
//! `hop` samples, fft-shift. Calibrated so that a full-scale complex tone centred on a bin
//! reads 1.0 (0 dBFS) in that bin; white noise of total power σ² reads σ²·ENBW/N per bin.
//!
//! Input blocks carry `history()` samples of the previous block in front of their new
//! samples, and hold a whole number of averaging spans, so any block can be transformed on
//! its own, by any worker, with the same result as one long pass.

use std::sync::Arc;

use num_complex::Complex32;
use rustfft::{Fft, FftPlanner};

use super::window::WindowKind;

/// Parameters of the spectrum stage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpectrumConfig {
    /// FFT length (any size rustfft plans; powers of two are fastest).
    pub fft_len: usize,
    /// Samples between the starts of consecutive frames (`fft_len / 2` is 50% overlap).
    pub hop: usize,
    /// Frames averaged into one output spectrum.
    pub averages: usize,
    /// Window shape.
    pub window: WindowKind,
}

impl SpectrumConfig {
    /// A configuration with `overlap_pct` percent overlap.
    pub fn new(fft_len: usize, overlap_pct: u32, averages: usize, window: WindowKind) -> Self {
        let hop = ((fft_len as u64 * (100 - overlap_pct.min(99)) as u64) / 100).max(1) as usize;
        SpectrumConfig {
            fft_len,
            hop,
            averages,
            window,
        }
    }

    /// Checks the parameters; the message names the flag.
    ///
    /// # Errors
    /// A message naming the bad parameter.
    pub fn validate(&self) -> Result<(), String> {
        if !(8..=1 << 20).contains(&self.fft_len) {
            return Err(format!(
                "--fft must be between 8 and 1048576, got {}",
                self.fft_len
            ));
        }
        if self.hop == 0 || self.hop > self.fft_len {
            return Err(format!("hop {} must be in 1..={}", self.hop, self.fft_len));
        }
        if self.averages == 0 {
            return Err("--avg must be at least 1".into());
        }
        Ok(())
    }

    /// New samples consumed per output spectrum.
    pub fn span(&self) -> usize {
        self.averages * self.hop
    }

    /// Samples of the previous block each block repeats in front (`fft_len - hop`).
    pub fn history(&self) -> usize {
        self.fft_len - self.hop
    }

    /// Overlap in percent, for display.
    pub fn overlap_pct(&self) -> f64 {
        100.0 * (self.fft_len - self.hop) as f64 / self.fft_len as f64
    }

    /// Degrees of freedom of an averaged bin, in frames: the number of independent
    /// periodograms the average is worth, given the correlation of overlapping windowed
    /// frames (Welch 1967). Noise in one bin is Gamma-distributed with this shape.
    pub fn equivalent_averages(&self) -> f64 {
        let w = self.window.coefficients(self.fft_len);
        let s2: f64 = w.iter().map(|&x| (x as f64).powi(2)).sum();
        let k = self.averages as f64;
        let mut denom = 1.0;
        let mut lag = 1;
        while lag < self.averages && lag * self.hop < self.fft_len {
            let shift = lag * self.hop;
            let r: f64 = (0..self.fft_len - shift)
                .map(|i| w[i] as f64 * w[i + shift] as f64)
                .sum::<f64>()
                / s2;
            denom += 2.0 * (1.0 - lag as f64 / k) * r * r;
            lag += 1;
        }
        k / denom
    }

    /// Width of one bin at `sample_rate_hz`.
    pub fn rbw_hz(&self, sample_rate_hz: f64) -> f64 {
        sample_rate_hz / self.fft_len as f64
    }
}

/// The spectrum stage: one planned FFT and its buffers, reused for every frame.
pub struct Welch {
    cfg: SpectrumConfig,
    fft: Arc<dyn Fft<f32>>,
    window: Vec<f32>,
    frame: Vec<Complex32>,
    scratch: Vec<Complex32>,
    acc: Vec<f32>,
    scale: f32,
}

impl std::fmt::Debug for Welch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Welch").field("cfg", &self.cfg).finish()
    }
}

impl Welch {
    /// Plans the FFT and builds the window.
    ///
    /// # Panics
    /// If `cfg` does not validate (callers validate configuration first).
    pub fn new(cfg: SpectrumConfig) -> Self {
        assert!(
            cfg.validate().is_ok(),
            "invariant: validated spectrum config"
        );
        let fft = FftPlanner::<f32>::new().plan_fft_forward(cfg.fft_len);
        let window = cfg.window.coefficients(cfg.fft_len);
        let coherent: f64 = window.iter().map(|&w| w as f64).sum();
        let scratch = vec![Complex32::default(); fft.get_inplace_scratch_len()];
        Welch {
            cfg,
            frame: vec![Complex32::default(); cfg.fft_len],
            scratch,
            acc: vec![0.0; cfg.fft_len],
            // |X|² of a unit tone is (Σw)²; divide it out, and the frame count.
            scale: (1.0 / (coherent * coherent * cfg.averages as f64)) as f32,
            window,
            fft,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SpectrumConfig {
        &self.cfg
    }

    /// Number of spectra a block of `input_len` samples (history included) yields.
    pub fn spectra_in(&self, input_len: usize) -> usize {
        input_len.saturating_sub(self.cfg.history()) / self.cfg.span()
    }

    /// Transforms `input` (`history()` samples, then whole spans) into averaged power
    /// spectra, fft-shifted, `fft_len` values each, written to `out`; returns how many.
    /// Trailing samples short of a whole span are ignored.
    ///
    /// # Panics
    /// If `out` is shorter than `spectra_in(input.len()) * fft_len`.
    pub fn process(&mut self, input: &[Complex32], out: &mut [f32]) -> usize {
        let n = self.cfg.fft_len;
        let count = self.spectra_in(input.len());
        assert!(
            out.len() >= count * n,
            "invariant: output sized for the block"
        );
        let half = n / 2;
        for (s, dst) in out.chunks_exact_mut(n).take(count).enumerate() {
            self.acc.fill(0.0);
            for f in 0..self.cfg.averages {
                let start = (s * self.cfg.averages + f) * self.cfg.hop;
                let x = &input[start..start + n];
                for ((o, &xi), &w) in self.frame.iter_mut().zip(x).zip(&self.window) {
                    *o = xi * w;
                }
                self.fft
                    .process_with_scratch(&mut self.frame, &mut self.scratch);
                for (a, v) in self.acc.iter_mut().zip(&self.frame) {
                    *a += v.norm_sqr();
                }
            }
            // fft-shift: negative frequencies first, so bin n/2 is the centre frequency.
            let (nonneg, neg) = self.acc.split_at(n - half);
            for (d, a) in dst[half..].iter_mut().zip(nonneg) {
                *d = a * self.scale;
            }
            for (d, a) in dst[..half].iter_mut().zip(neg) {
                *d = a * self.scale;
            }
        }
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};

    fn assert_close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} vs {b} (tol {tol})");
    }

    fn tone(n: usize, cycles_per_sample: f64, amp: f64) -> Vec<Complex32> {
        (0..n)
            .map(|i| {
                let ph = std::f64::consts::TAU * cycles_per_sample * i as f64;
                Complex32::new((amp * ph.cos()) as f32, (amp * ph.sin()) as f32)
            })
            .collect()
    }

    fn run(cfg: SpectrumConfig, input: &[Complex32]) -> Vec<f32> {
        let mut w = Welch::new(cfg);
        let mut out = vec![0.0; w.spectra_in(input.len()) * cfg.fft_len];
        let k = w.process(input, &mut out);
        assert_eq!(k * cfg.fft_len, out.len());
        out
    }

    #[test]
    fn full_scale_tone_reads_0_dbfs_in_its_bin() {
        for window in [
            WindowKind::Hann,
            WindowKind::Rect,
            WindowKind::BlackmanHarris,
            WindowKind::FlatTop,
        ] {
            let cfg = SpectrumConfig::new(1024, 50, 4, window);
            // Bin 100 above the centre.
            let x = tone(cfg.history() + cfg.span(), 100.0 / 1024.0, 1.0);
            let p = run(cfg, &x);
            let peak = p.iter().cloned().fold(f32::MIN, f32::max);
            let at = p.iter().position(|&v| v == peak).unwrap();
            assert_eq!(at, 512 + 100, "{window:?}");
            assert_close(super::super::db(peak) as f64, 0.0, 0.2);
        }
    }

    #[test]
    fn flat_top_reads_a_tone_between_bins_within_0_2_db() {
        let cfg = SpectrumConfig::new(2048, 50, 3, WindowKind::FlatTop);
        let x = tone(cfg.history() + cfg.span(), -300.37 / 2048.0, 0.5);
        let p = run(cfg, &x);
        let peak = p.iter().cloned().fold(f32::MIN, f32::max);
        assert_close(super::super::db(peak) as f64, 20.0 * 0.5f64.log10(), 0.2);
    }

    #[test]
    fn odd_sizes_match_a_naive_dft() {
        // 1000 and 1023 exercise rustfft's mixed-radix and Bluestein paths.
        for n in [1000usize, 1023, 64] {
            let cfg = SpectrumConfig::new(n, 0, 1, WindowKind::Hann);
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
            let x: Vec<Complex32> = (0..n)
                .map(|_| {
                    Complex32::new(
                        StandardNormal.sample(&mut rng),
                        StandardNormal.sample(&mut rng),
                    )
                })
                .collect();
            let p = run(cfg, &x);
            let w = WindowKind::Hann.coefficients(n);
            let coherent: f64 = w.iter().map(|&v| v as f64).sum();
            for k in 0..n {
                let mut acc = num_complex::Complex64::new(0.0, 0.0);
                for (i, (xi, wi)) in x.iter().zip(&w).enumerate() {
                    let ph = -std::f64::consts::TAU * (k * i % n) as f64 / n as f64;
                    acc += num_complex::Complex64::new(xi.re as f64, xi.im as f64)
                        * *wi as f64
                        * num_complex::Complex64::from_polar(1.0, ph);
                }
                let expect = acc.norm_sqr() / (coherent * coherent);
                let got = p[(k + n / 2) % n] as f64;
                assert_close(got, expect, 1e-4 * expect.max(1e-3));
            }
        }
    }

    #[test]
    fn white_noise_reads_its_power_times_enbw_over_n() {
        let cfg = SpectrumConfig::new(256, 50, 200, WindowKind::Hann);
        let sigma2 = 0.01f64;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let s = (sigma2 / 2.0).sqrt() as f32;
        let x: Vec<Complex32> = (0..cfg.history() + cfg.span())
            .map(|_| {
                let re: f32 = StandardNormal.sample(&mut rng);
                let im: f32 = StandardNormal.sample(&mut rng);
                Complex32::new(re * s, im * s)
            })
            .collect();
        let p = run(cfg, &x);
        let mean: f64 = p.iter().map(|&v| v as f64).sum::<f64>() / p.len() as f64;
        let expect = sigma2 * WindowKind::Hann.enbw_bins(256) / 256.0;
        assert_close(mean / expect, 1.0, 0.03);
    }

    #[test]
    fn blocks_split_anywhere_on_span_boundaries_give_the_same_spectra() {
        let cfg = SpectrumConfig::new(128, 50, 3, WindowKind::Hann);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let total = cfg.history() + 5 * cfg.span();
        let x: Vec<Complex32> = (0..total)
            .map(|_| {
                Complex32::new(
                    StandardNormal.sample(&mut rng),
                    StandardNormal.sample(&mut rng),
                )
            })
            .collect();
        let whole = run(cfg, &x);
        let cut = cfg.history() + 2 * cfg.span();
        let mut parts = run(cfg, &x[..cut]);
        parts.extend(run(cfg, &x[cut - cfg.history()..]));
        assert_eq!(whole, parts);
    }

    #[test]
    fn equivalent_averages_for_hann_half_overlap() {
        // Welch: Hann at 50% overlap correlates neighbours by ρ = 1/6, so K/(1 + 2ρ²) ≈ 0.947 K.
        let cfg = SpectrumConfig::new(1024, 50, 100, WindowKind::Hann);
        assert_close(
            cfg.equivalent_averages() / 100.0,
            1.0 / (1.0 + 2.0 * 0.99 / 36.0),
            0.01,
        );
        let rect = SpectrumConfig::new(1024, 0, 10, WindowKind::Rect);
        assert_close(rect.equivalent_averages(), 10.0, 1e-9);
    }
}
