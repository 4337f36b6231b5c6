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

use super::simd;
use super::stats::PeakNoise;
use super::window::WindowKind;
use crate::error::Error;

/// The most new samples one averaged spectrum may take (128 MB of complex floats).
pub const MAX_SPAN: usize = 1 << 24;

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
    /// Consecutive frames averaged into each window of the peak (see
    /// [`Welch::process_with_peak`]): 1 is per frame. More where frames are far shorter
    /// than the bursts looked for (at high rates), so that a burst's frames add up.
    pub peak_frames: usize,
    /// Also compute the carrier grid (see [`SpectrumConfig::carrier_len`]).
    pub carriers: bool,
}

/// The longest FFT of the carrier grid: past it, a spectrum's samples are cut into
/// several FFTs (at 20 MS/s, 305 Hz bins).
pub const CARRIER_MAX_LEN: usize = 1 << 16;

/// The carrier grid is computed only where its bins are at least this many times finer
/// than the spectrum's own (a spectrum of one or a few frames is already fine).
pub const CARRIER_MIN_RATIO: usize = 2;

/// The largest even n ≤ `max` with no prime factor over 7, which rustfft transforms at
/// close to the speed of a power of two.
fn smooth_len(max: usize) -> usize {
    let smooth = |mut n: usize| {
        for p in [2, 3, 5, 7] {
            while n.is_multiple_of(p) {
                n /= p;
            }
        }
        n == 1
    };
    (2..=max.max(2))
        .rev()
        .find(|&n| n % 2 == 0 && smooth(n))
        .unwrap_or(2)
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
            peak_frames: 1,
            carriers: false,
        }
    }

    /// Samples one averaged spectrum's frames cover: its span and the overlap into the
    /// next ([`SpectrumConfig::history`]).
    pub fn covered(&self) -> usize {
        self.history() + self.span()
    }

    /// FFT length of the carrier grid, 0 when it is off: a second spectrum of the same
    /// samples at a finer frequency resolution, for weak narrowband carriers. Each
    /// averaged spectrum's samples are transformed whole (at the default 10 ms spectra,
    /// about 95 Hz bins at any rate), in [`SpectrumConfig::carrier_frames`] FFTs where
    /// they are more than [`CARRIER_MAX_LEN`]. A carrier's power gathers into one bin
    /// however fine the bins, while the noise in a bin falls with its width: in 1 kHz bins
    /// a 30 dB-Hz carrier is 0 dB over the noise, in 95 Hz bins 10 dB.
    pub fn carrier_len(&self) -> usize {
        if !self.carriers {
            return 0;
        }
        let covered = self.covered();
        let n = smooth_len(covered / covered.div_ceil(CARRIER_MAX_LEN));
        if n >= CARRIER_MIN_RATIO * self.fft_len {
            n
        } else {
            0
        }
    }

    /// FFTs of the carrier grid per spectrum (disjoint; their sum is the grid's spectrum).
    pub fn carrier_frames(&self) -> usize {
        match self.carrier_len() {
            0 => 0,
            n => self.covered() / n,
        }
    }

    /// Frames in each window of the peak: [`SpectrumConfig::peak_frames`], at most the
    /// spectrum's own.
    pub fn peak_window(&self) -> usize {
        self.peak_frames.clamp(1, self.averages)
    }

    /// Windows of the peak in one spectrum: disjoint, the last taking the frames left over.
    pub fn peak_windows(&self) -> usize {
        (self.averages / self.peak_window()).max(1)
    }

    /// The peak's noise: the largest of [`SpectrumConfig::peak_windows`] windows, each
    /// worth its frames' [`SpectrumConfig::equivalent_averages`] (1, Exp(1), for single
    /// frames; the last window, worth more, is held to the same threshold).
    pub fn peak_noise(&self) -> PeakNoise {
        let m = self.peak_window();
        PeakNoise {
            windows: self.peak_windows(),
            k: if m == 1 {
                1.0
            } else {
                SpectrumConfig {
                    averages: m,
                    ..*self
                }
                .equivalent_averages()
            },
        }
    }

    /// Checks the parameters; the message names the flag.
    ///
    /// # Errors
    /// A message naming the bad parameter.
    pub fn validate(&self) -> Result<(), Error> {
        if !(8..=1 << 20).contains(&self.fft_len) {
            return Err(Error::invalid(
                "fft_len",
                format!("must be between 8 and 1048576, got {}", self.fft_len),
            ));
        }
        if self.hop == 0 || self.hop > self.fft_len {
            return Err(Error::invalid(
                "hop",
                format!("{} must be in 1..={}", self.hop, self.fft_len),
            ));
        }
        if self.averages == 0 {
            return Err(Error::invalid("averages", "must be at least 1"));
        }
        // Every pooled buffer holds a few spans: bound them so that no setting asks for
        // gigabytes.
        if self.averages.saturating_mul(self.hop) > MAX_SPAN {
            return Err(Error::invalid(
                "averages",
                format!(
                    "times the FFT hop ({}) must be at most {MAX_SPAN} samples, got {}",
                    self.hop, self.averages
                ),
            ));
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

/// Complex samples per FFT batch: several frames go through rustfft in one call, so its
/// per-call dispatch is paid once per batch, while the windowed input and the spectra of a
/// batch (2 × 64 KiB) stay in the core's L2 cache between the window, FFT and |X|² passes.
const BATCH_SAMPLES: usize = 8192;

/// The spectrum stage: one planned FFT and its buffers, reused for every frame.
pub struct Welch {
    cfg: SpectrumConfig,
    fft: Arc<dyn Fft<f32>>,
    /// The window, each coefficient twice (for re and im: see [`simd::interleave`]).
    window2: Vec<f32>,
    /// Frames per FFT call.
    batch: usize,
    /// `batch` windowed frames, back to back (rustfft also uses it as scratch).
    frames: Vec<Complex32>,
    /// Their spectra.
    spectra: Vec<Complex32>,
    scratch: Vec<Complex32>,
    /// Sums of re² and of im² per bin, side by side, over the frames averaged so far.
    acc2: Vec<f32>,
    /// Per bin, the largest window mean of |X|² so far (for [`Welch::process_with_peak`]).
    peak: Vec<f32>,
    /// With windows of several frames: the window's sums, as `acc2` holds them.
    win2: Vec<f32>,
    scale: f32,
    /// The carrier grid's transform, when it is on.
    carrier: Option<CarrierFft>,
}

/// The carrier grid's FFT (see [`SpectrumConfig::carrier_len`]) and its buffers.
struct CarrierFft {
    fft: Arc<dyn Fft<f32>>,
    window2: Vec<f32>,
    frame: Vec<Complex32>,
    spectrum: Vec<Complex32>,
    scratch: Vec<Complex32>,
    acc2: Vec<f32>,
    frames: usize,
    /// Where the first FFT starts in the spectrum's samples: the FFTs sit in the middle,
    /// the samples left over split between the ends.
    offset: usize,
    scale: f32,
}

impl CarrierFft {
    fn new(cfg: &SpectrumConfig) -> Option<Self> {
        let n = cfg.carrier_len();
        if n == 0 {
            return None;
        }
        let fft = FftPlanner::<f32>::new().plan_fft_forward(n);
        let window = cfg.window.coefficients(n);
        let coherent: f64 = window.iter().map(|&w| w as f64).sum();
        let frames = cfg.carrier_frames();
        Some(CarrierFft {
            scratch: vec![Complex32::default(); fft.get_outofplace_scratch_len()],
            fft,
            window2: simd::interleave(&window),
            frame: vec![Complex32::default(); n],
            spectrum: vec![Complex32::default(); n],
            acc2: vec![0.0; 2 * n],
            frames,
            offset: (cfg.covered() - frames * n) / 2,
            // Calibrated as the averaged spectrum is: a full-scale tone reads 1.0.
            scale: (1.0 / (coherent * coherent * frames as f64)) as f32,
        })
    }

    /// The carrier spectrum of one averaged spectrum's samples, fft-shifted, into `dst`.
    fn process<T: WelchInput>(&mut self, span_in: &[T], scale: f32, dst: &mut [f32]) {
        let n = self.frame.len();
        self.acc2.fill(0.0);
        for f in 0..self.frames {
            let x = &span_in[self.offset + f * n..][..n];
            T::window_into(&mut self.frame, x, &self.window2, scale);
            self.fft.process_outofplace_with_scratch(
                &mut self.frame,
                &mut self.spectrum,
                &mut self.scratch,
            );
            simd::accumulate_power(&mut self.acc2, &self.spectrum);
        }
        let half = n / 2;
        let (nonneg, neg) = self.acc2.split_at(2 * (n - half));
        simd::fold_power(&mut dst[half..], nonneg, self.scale);
        simd::fold_power(&mut dst[..half], neg, self.scale);
    }
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
        let batch = (BATCH_SAMPLES / cfg.fft_len).clamp(1, cfg.averages);
        let scratch = vec![Complex32::default(); fft.get_outofplace_scratch_len()];
        Welch {
            cfg,
            frames: vec![Complex32::default(); batch * cfg.fft_len],
            spectra: vec![Complex32::default(); batch * cfg.fft_len],
            batch,
            scratch,
            acc2: vec![0.0; 2 * cfg.fft_len],
            peak: Vec::new(),
            win2: Vec::new(),
            // |X|² of a unit tone is (Σw)²; divide it out, and the frame count.
            scale: (1.0 / (coherent * coherent * cfg.averages as f64)) as f32,
            window2: simd::interleave(&window),
            fft,
            carrier: CarrierFft::new(&cfg),
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
        self.process_any(input, 1.0, out, None, None)
    }

    /// [`Welch::process`], and beside each averaged spectrum its peak: per bin, the
    /// largest mean power of its windows of [`SpectrumConfig::peak_window`] consecutive
    /// frames (one frame, by default; the last window takes the frames left over), on the
    /// same scale (a steady tone reads the same in both). A
    /// burst shorter than the averaging is diluted in the mean by the share of it that it
    /// fills; in the peak it keeps the level of the frames that held it, which is what the
    /// detector's per-frame test looks at. `T` is `Complex32` (`scale` unused), or
    /// int8/int16 pairs each worth `scale`.
    ///
    /// # Panics
    /// If `out` or `peak` is shorter than `spectra_in(input.len()) * fft_len`.
    pub fn process_with_peak<T: WelchInput>(
        &mut self,
        input: &[T],
        scale: f32,
        out: &mut [f32],
        peak: &mut [f32],
    ) -> usize {
        self.process_any(input, scale, out, Some(peak), None)
    }

    /// [`Welch::process_with_peak`], and the carrier grid of each spectrum
    /// ([`SpectrumConfig::carrier_len`] values each, fft-shifted, calibrated as the mean)
    /// into `carriers` when the grid is on (`carriers` is then sized for it; empty
    /// otherwise).
    ///
    /// # Panics
    /// As [`Welch::process_with_peak`], and if `carriers` is shorter than
    /// `spectra_in(input.len()) * carrier_len()`.
    pub fn process_grids<T: WelchInput>(
        &mut self,
        input: &[T],
        scale: f32,
        out: &mut [f32],
        peak: &mut [f32],
        carriers: &mut [f32],
    ) -> usize {
        self.process_any(input, scale, out, Some(peak), Some(carriers))
    }

    /// [`Welch::process`] for int8 samples as an 8-bit capture stores them, each worth
    /// `scale`: converted as they are windowed, with the same spectra to the last bit as
    /// converting first, and a quarter of the bytes to bring in from memory.
    ///
    /// # Panics
    /// As [`Welch::process`].
    pub fn process_ci8(&mut self, input: &[[i8; 2]], scale: f32, out: &mut [f32]) -> usize {
        self.process_any(input, scale, out, None, None)
    }

    /// [`Welch::process`] for int16 samples as a 16-bit capture stores them, each worth
    /// `scale`: converted as they are windowed, with the same spectra to the last bit as
    /// converting first, and half the bytes to bring in from memory.
    ///
    /// # Panics
    /// As [`Welch::process`].
    pub fn process_ci16(&mut self, input: &[[i16; 2]], scale: f32, out: &mut [f32]) -> usize {
        self.process_any(input, scale, out, None, None)
    }

    fn process_any<T: WelchInput>(
        &mut self,
        input: &[T],
        scale: f32,
        out: &mut [f32],
        mut peak_out: Option<&mut [f32]>,
        carrier_out: Option<&mut [f32]>,
    ) -> usize {
        let n = self.cfg.fft_len;
        let hop = self.cfg.hop;
        let averages = self.cfg.averages;
        let count = self.spectra_in(input.len());
        assert!(
            out.len() >= count * n && peak_out.as_ref().is_none_or(|p| p.len() >= count * n),
            "invariant: output sized for the block"
        );
        let nc = self.cfg.carrier_len();
        let carrier_out = carrier_out.filter(|_| nc > 0);
        assert!(
            carrier_out.as_ref().is_none_or(|c| c.len() >= count * nc),
            "invariant: carrier output sized for the block"
        );
        let mut carrier_out = carrier_out;
        let m = self.cfg.peak_window();
        // The frames of the window holding frame f: every m, the last taking what is left.
        let last = self.cfg.peak_windows() - 1;
        let window_of = |f: usize| {
            let j = (f / m).min(last);
            (j * m, if j == last { averages } else { (j + 1) * m })
        };
        if peak_out.is_some() {
            self.peak.resize(n, 0.0);
        }
        if m > 1 {
            self.win2.resize(2 * n, 0.0);
        }
        let half = n / 2;
        // Input up to here has been requested from memory (see `simd::prefetch`).
        let used = self.cfg.history() + count * self.cfg.span();
        let lookahead = self.batch * hop + n;
        let mut fetched = 0;
        for (s, dst) in out.chunks_exact_mut(n).take(count).enumerate() {
            self.acc2.fill(0.0);
            if peak_out.is_some() {
                self.peak.fill(0.0);
            }
            self.win2.fill(0.0);
            // The input this spectrum's frames cover.
            let base = s * averages * hop;
            let span_in = &input[base..][..(averages - 1) * hop + n];
            let mut first = 0;
            while first < averages {
                let b = self.batch.min(averages - first);
                // Ask for the next batch's samples now; they arrive while this one runs.
                let want = (base + first * hop + lookahead + b * hop).min(used);
                if want > fetched {
                    simd::prefetch(&input[fetched.max(base + first * hop)..want]);
                    fetched = want;
                }
                let frames = &mut self.frames[..b * n];
                let spectra = &mut self.spectra[..b * n];
                // Window fused into the copy that rustfft needs anyway (it overwrites its input).
                for (j, frame) in frames.chunks_exact_mut(n).enumerate() {
                    let x = &span_in[(first + j) * hop..][..n];
                    T::window_into(frame, x, &self.window2, scale);
                }
                // One call for the whole batch; out of place saves rustfft a copy back.
                self.fft
                    .process_outofplace_with_scratch(frames, spectra, &mut self.scratch);
                if m == 1 {
                    simd::accumulate_power(&mut self.acc2, spectra);
                    if peak_out.is_some() {
                        simd::max_power(&mut self.peak, spectra);
                    }
                } else {
                    // Summed window by window (with or without the peak, so the mean has
                    // the same bits either way), the batch cut where windows end.
                    let mut f0 = first;
                    while f0 < first + b {
                        let (start, end) = window_of(f0);
                        let f1 = end.min(first + b);
                        simd::accumulate_power(
                            &mut self.win2,
                            &spectra[(f0 - first) * n..(f1 - first) * n],
                        );
                        if f1 == end {
                            if peak_out.is_some() {
                                let count = (end - start) as f32;
                                simd::fold_max_power(&mut self.peak, &self.win2, 1.0 / count);
                            }
                            for (a, w) in self.acc2.iter_mut().zip(self.win2.iter_mut()) {
                                *a += *w;
                                *w = 0.0;
                            }
                        }
                        f0 = f1;
                    }
                }
                first += b;
            }
            // fft-shift as the sums fold: negative frequencies first, so bin n/2 is the
            // centre frequency.
            let (nonneg, neg) = self.acc2.split_at(2 * (n - half));
            simd::fold_power(&mut dst[half..], nonneg, self.scale);
            simd::fold_power(&mut dst[..half], neg, self.scale);
            if let Some(p) = peak_out.as_deref_mut() {
                // One frame's power: the mean's scale without the division by the count
                // (windows divided by their own).
                let one = self.scale * averages as f32;
                let dst = &mut p[s * n..][..n];
                let (nonneg, neg) = self.peak.split_at(n - half);
                for (d, &v) in dst[half..].iter_mut().zip(nonneg) {
                    *d = v * one;
                }
                for (d, &v) in dst[..half].iter_mut().zip(neg) {
                    *d = v * one;
                }
            }
            if let (Some(c), Some(grid)) = (carrier_out.as_deref_mut(), self.carrier.as_mut()) {
                grid.process(
                    &input[base..][..self.cfg.covered()],
                    scale,
                    &mut c[s * nc..][..nc],
                );
            }
        }
        count
    }

    /// [`Welch::process`], then converted to decibels in place (what a display or a
    /// dB-domain consumer wants; the detector works on linear power).
    ///
    /// # Panics
    /// As [`Welch::process`].
    pub fn process_db(&mut self, input: &[Complex32], out: &mut [f32]) -> usize {
        let count = self.process(input, out);
        power_to_db(&mut out[..count * self.cfg.fft_len]);
        count
    }
}

/// Sample types [`Welch`] windows straight from its input.
pub trait WelchInput: Copy {
    /// `frame[i] = x[i] · scale · w[i]` as complex floats, `window2` interleaved as
    /// [`simd::window_into`] takes it.
    fn window_into(frame: &mut [Complex32], x: &[Self], window2: &[f32], scale: f32);
}

impl WelchInput for Complex32 {
    fn window_into(frame: &mut [Complex32], x: &[Self], window2: &[f32], _scale: f32) {
        // Already floats at full scale (`process` passes 1).
        simd::window_into(frame, x, window2);
    }
}

impl WelchInput for [i8; 2] {
    fn window_into(frame: &mut [Complex32], x: &[Self], window2: &[f32], scale: f32) {
        simd::window_ci8_into(frame, x, window2, scale);
    }
}

impl WelchInput for [i16; 2] {
    fn window_into(frame: &mut [Complex32], x: &[Self], window2: &[f32], scale: f32) {
        simd::window_ci16_into(frame, x, window2, scale);
    }
}

/// Converts linear power to decibels in place, as [`super::db`] does (floored at
/// -300 dB), with a polynomial log2 that the compiler vectorises: within 2e-4 dB of
/// `10·log10` (see the tests), far below any spectrum's statistical error.
pub fn power_to_db(values: &mut [f32]) {
    simd::power_to_db(values);
}

/// 10·log10(x) for x > 0 (x is floored at 1e-30) from the float's exponent and a
/// minimax polynomial for log2 of its mantissa in [1, 2).
#[inline(always)]
pub(super) fn fast_db(x: f32) -> f32 {
    // 10·log10(2): dB per octave.
    const DB_PER_LOG2: f32 = 10.0 * std::f32::consts::LOG10_2;
    let bits = x.max(1e-30).to_bits();
    // Split x = 2^e · m with m in [sqrt(2)/2, sqrt(2)), so the polynomial's argument is
    // centred on 1 where log2 is best approximated.
    let off = bits.wrapping_sub(0x3f35_04f3);
    let e = (off as i32 >> 23) as f32;
    let m = f32::from_bits((off & 0x007f_ffff).wrapping_add(0x3f35_04f3));
    // log2(m) = 2·atanh(t)/ln2 with t = (m-1)/(m+1): an odd series in t, |t| < 0.172.
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    // 2·log2(e)·(t + t³/3 + t⁵/5 + t⁷/7): the next term is below f32 resolution.
    const C: f32 = 2.0 * std::f32::consts::LOG2_E;
    let p = t * (C + t2 * (C / 3.0 + t2 * (C / 5.0 + t2 * (C / 7.0))));
    (e + p) * DB_PER_LOG2
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

    /// Spectra, peaks and carrier grids of `input`.
    fn grids(cfg: SpectrumConfig, input: &[Complex32]) -> (Vec<f32>, Vec<f32>) {
        let mut w = Welch::new(cfg);
        let k = w.spectra_in(input.len());
        let (mut out, mut peak) = (vec![0.0; k * cfg.fft_len], vec![0.0; k * cfg.fft_len]);
        let mut carriers = vec![0.0; k * cfg.carrier_len()];
        assert_eq!(
            w.process_grids(input, 1.0, &mut out, &mut peak, &mut carriers),
            k
        );
        (out, carriers)
    }

    #[test]
    fn the_carrier_grid_reads_a_tone_as_the_spectrum_does_and_noise_in_its_narrower_bins() {
        let cfg = SpectrumConfig {
            carriers: true,
            ..SpectrumConfig::new(1024, 50, 20, WindowKind::Hann)
        };
        // The whole spectrum's samples in one FFT: 21 × 512, as fast as a power of two.
        let nc = cfg.carrier_len();
        assert_eq!((nc, cfg.carrier_frames()), (10752, 1));
        // A tone on a grid bin reads its power there (the mean reads it too).
        let x = tone(3 * cfg.covered(), 1234.0 / nc as f64, 0.5);
        let (mean, grid) = grids(cfg, &x);
        assert_eq!(grid.len(), 3 * nc);
        for g in grid.chunks_exact(nc) {
            let at = (0..nc).max_by(|&a, &b| g[a].total_cmp(&g[b])).unwrap();
            assert_eq!(at, nc / 2 + 1234);
            assert_close(super::super::db(g[at]) as f64, 20.0 * 0.5f64.log10(), 0.05);
        }
        let m = mean[..1024].iter().cloned().fold(f32::MIN, f32::max);
        assert_close(super::super::db(m) as f64, 20.0 * 0.5f64.log10(), 1.5);
        // White noise reads σ²·ENBW/N per bin in both: ten times less in bins ten times
        // narrower.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let x: Vec<Complex32> = (0..40 * cfg.covered())
            .map(|_| {
                Complex32::new(
                    StandardNormal.sample(&mut rng),
                    StandardNormal.sample(&mut rng),
                )
            })
            .collect();
        let (_, grid) = grids(cfg, &x);
        let level: f64 = grid.iter().map(|&v| v as f64).sum::<f64>() / grid.len() as f64;
        assert_close(
            level / (2.0 * WindowKind::Hann.enbw_bins(nc) / nc as f64),
            1.0,
            0.02,
        );
    }

    #[test]
    fn the_carrier_grid_is_off_where_it_would_not_be_finer_and_cut_where_long() {
        let on = |fft, avg| SpectrumConfig {
            carriers: true,
            ..SpectrumConfig::new(fft, 50, avg, WindowKind::Hann)
        };
        assert_eq!(
            SpectrumConfig::new(1024, 50, 20, WindowKind::Hann).carrier_len(),
            0
        );
        // One or two frames a spectrum: the spectrum's own bins are as fine.
        assert_eq!(on(1024, 1).carrier_len(), 0);
        assert_eq!(on(1024, 2).carrier_len(), 0);
        assert_eq!(on(1024, 3).carrier_len(), 2048);
        // 20 MS/s, 10 ms spectra: four FFTs of 50 176 (2^10·7²) over 200 704 samples.
        let long = on(1024, 391);
        assert_eq!((long.carrier_len(), long.carrier_frames()), (50176, 4));
        for cfg in [on(1000, 17), on(4096, 33), on(512, 999)] {
            let n = cfg.carrier_len();
            assert!(
                n % 2 == 0 && n <= CARRIER_MAX_LEN && n * cfg.carrier_frames() <= cfg.covered()
            );
            assert!(
                n * cfg.carrier_frames() * 10 >= cfg.covered() * 9,
                "{cfg:?}: {n}"
            );
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

    /// The textbook loop, one frame at a time: what the batched, prefetching path must
    /// reproduce for every window, size and batch remainder.
    fn reference(cfg: SpectrumConfig, input: &[Complex32]) -> Vec<f32> {
        let n = cfg.fft_len;
        let fft = FftPlanner::<f32>::new().plan_fft_forward(n);
        let w = cfg.window.coefficients(n);
        let coherent: f64 = w.iter().map(|&v| v as f64).sum();
        let count = (input.len() - cfg.history()) / cfg.span();
        let mut out = Vec::new();
        for s in 0..count {
            let mut acc = vec![0.0f64; n];
            for f in 0..cfg.averages {
                let start = (s * cfg.averages + f) * cfg.hop;
                let mut frame: Vec<Complex32> = input[start..start + n]
                    .iter()
                    .zip(&w)
                    .map(|(x, &w)| x * w)
                    .collect();
                fft.process(&mut frame);
                for (a, v) in acc.iter_mut().zip(&frame) {
                    *a += v.norm_sqr() as f64;
                }
            }
            let scale = 1.0 / (coherent * coherent * cfg.averages as f64);
            for k in 0..n {
                out.push((acc[(k + n - n / 2) % n] * scale) as f32);
            }
        }
        out
    }

    #[test]
    fn batched_path_matches_the_frame_by_frame_loop() {
        // Averages that are not a multiple of the batch (odd remainders), sizes with one
        // frame per batch (16384), non powers of two, every window, 0/50/75% overlap.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for (n, ov, avg, window) in [
            (1024, 50, 13, WindowKind::Hann),
            (1024, 0, 9, WindowKind::Rect),
            (768, 75, 11, WindowKind::BlackmanHarris),
            (1000, 50, 3, WindowKind::FlatTop),
            (16384, 50, 3, WindowKind::Hann),
            (256, 50, 70, WindowKind::Hann),
        ] {
            let cfg = SpectrumConfig::new(n, ov, avg, window);
            let x: Vec<Complex32> = (0..cfg.history() + 3 * cfg.span() + 17)
                .map(|_| {
                    Complex32::new(
                        StandardNormal.sample(&mut rng),
                        StandardNormal.sample(&mut rng),
                    )
                })
                .collect();
            let got = run(cfg, &x);
            let want = reference(cfg, &x);
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                assert_close(*g as f64, *w as f64, 1e-5 * *w as f64 + 1e-12);
            }
        }
    }

    #[test]
    fn fast_db_is_within_2e_4_db_of_log10() {
        let mut worst = 0.0f64;
        // Every octave from the -300 dB floor to far above full scale, 1000 points each.
        let mut x = 1e-30f64;
        while x < 1e12 {
            for i in 0..1000 {
                let v = (x * (1.0 + i as f64 / 1000.0)) as f32;
                let exact = 10.0 * (v as f64).log10();
                worst = worst.max((fast_db(v) as f64 - exact).abs());
            }
            x *= 2.0;
        }
        assert!(worst < 2e-4, "worst error {worst} dB");
        // Zero and denormals land on the floor, like `dsp::db`.
        assert_close(fast_db(0.0) as f64, -300.0, 1e-3);
        let mut v = vec![1.0, 0.5, 1e-3, 0.0];
        power_to_db(&mut v);
        for (got, want) in v.iter().zip([0.0, -3.0103, -30.0, -300.0]) {
            assert_close(*got as f64, want, 1e-3);
        }
    }

    #[test]
    fn int8_input_gives_the_spectra_of_its_converted_samples_exactly() {
        let cfg = SpectrumConfig::new(256, 50, 5, WindowKind::Hann);
        let len = cfg.history() + 3 * cfg.span();
        let raw: Vec<[i8; 2]> = (0..len)
            .map(|i| {
                let t = i as f32 * 0.05;
                [
                    (90.0 * t.cos()) as i8,
                    (90.0 * t.sin()) as i8 ^ (i % 3) as i8,
                ]
            })
            .collect();
        let scale = 1.0 / 128.0;
        let floats: Vec<Complex32> = raw
            .iter()
            .map(|p| Complex32::new(p[0] as f32 * scale, p[1] as f32 * scale))
            .collect();
        let (mut a, mut b) = (vec![0.0; 3 * 256], vec![0.0; 3 * 256]);
        assert_eq!(Welch::new(cfg).process(&floats, &mut a), 3);
        assert_eq!(Welch::new(cfg).process_ci8(&raw, scale, &mut b), 3);
        assert_eq!(a, b);
    }

    #[test]
    fn int16_input_gives_the_spectra_of_its_converted_samples_exactly() {
        let cfg = SpectrumConfig::new(256, 50, 5, WindowKind::Hann);
        let len = cfg.history() + 3 * cfg.span();
        let raw: Vec<[i16; 2]> = (0..len)
            .map(|i| {
                let t = i as f32 * 0.05;
                [
                    (30000.0 * t.cos()) as i16,
                    (30000.0 * t.sin()) as i16 ^ (i % 7) as i16,
                ]
            })
            .collect();
        // Not a power of two, so every product rounds.
        let scale = 1.0 / 32767.5;
        let floats: Vec<Complex32> = raw
            .iter()
            .map(|p| Complex32::new(p[0] as f32 * scale, p[1] as f32 * scale))
            .collect();
        let (mut a, mut b) = (vec![0.0; 3 * 256], vec![0.0; 3 * 256]);
        assert_eq!(Welch::new(cfg).process(&floats, &mut a), 3);
        assert_eq!(Welch::new(cfg).process_ci16(&raw, scale, &mut b), 3);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b));
    }

    #[test]
    fn process_db_is_process_in_decibels() {
        let cfg = SpectrumConfig::new(512, 50, 4, WindowKind::Hann);
        let x = tone(cfg.history() + 2 * cfg.span(), 0.1, 0.3);
        let lin = run(cfg, &x);
        let mut w = Welch::new(cfg);
        let mut out = vec![0.0; lin.len()];
        assert_eq!(w.process_db(&x, &mut out), 2);
        for (d, p) in out.iter().zip(&lin) {
            assert_close(*d as f64, super::super::db(*p) as f64, 1e-3);
        }
    }

    #[test]
    fn the_peak_keeps_a_one_frame_tone_at_its_level_and_a_steady_one_as_the_mean() {
        let cfg = SpectrumConfig::new(256, 50, 8, WindowKind::Hann);
        let len = cfg.history() + cfg.span();
        // Bin 32 of 256, full scale, only within frame 3 (samples 384..640).
        let full = tone(len, 32.0 / 256.0, 1.0);
        let mut short = vec![Complex32::default(); len];
        short[3 * cfg.hop..3 * cfg.hop + cfg.fft_len]
            .copy_from_slice(&full[3 * cfg.hop..3 * cfg.hop + cfg.fft_len]);
        let bin = 128 + 32;
        for (input, steady) in [(&full, true), (&short, false)] {
            let (mut mean, mut peak) = (vec![0.0; 256], vec![0.0; 256]);
            let mut w = Welch::new(cfg);
            assert_eq!(
                w.process_with_peak(input.as_slice(), 1.0, &mut mean, &mut peak),
                1
            );
            // The mean is what `process` gives, to the bit.
            assert_eq!(mean, run(cfg, input));
            assert!((peak[bin] - 1.0).abs() < 1e-3, "{}", peak[bin]);
            if steady {
                assert!((mean[bin] - peak[bin]).abs() < 1e-3);
            } else {
                // Frame 3 whole, frames 2 and 4 a Hann half each: well under a third.
                assert!(mean[bin] < 0.3 && mean[bin] > 0.125, "{}", mean[bin]);
            }
            assert!(peak.iter().zip(&mean).all(|(p, m)| p >= m));
        }
    }

    #[test]
    fn windows_of_frames_give_the_loudest_window_mean() {
        // 14 frames in windows of 4: 0–3, 4–7 and 8–13 (the last takes the two left over).
        let mut cfg = SpectrumConfig::new(256, 50, 14, WindowKind::Hann);
        cfg.peak_frames = 4;
        let len = cfg.history() + cfg.span();
        let full = tone(len, 32.0 / 256.0, 1.0);
        let bin = 128 + 32;
        // The tone over exactly frames 4–7's samples, then over frames 8–13's.
        // In the last case frames 8 and 13 hold half of the tone's samples each, under the
        // symmetric half of their window: a quarter of its power.
        for (from, to, level) in [(4, 7, 1.0), (8, 13, 1.0), (9, 12, 4.5 / 6.0)] {
            let mut x = vec![Complex32::default(); len];
            let (a, b) = (from * cfg.hop, to * cfg.hop + cfg.fft_len);
            x[a..b].copy_from_slice(&full[a..b]);
            let (mut mean, mut peak) = (vec![0.0; 256], vec![0.0; 256]);
            Welch::new(cfg).process_with_peak(x.as_slice(), 1.0, &mut mean, &mut peak);
            assert!(
                (peak[bin] - level).abs() < 1e-3,
                "{from}–{to}: {}",
                peak[bin]
            );
            assert_eq!(mean, run(cfg, &x));
        }
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
