//! Spectra of a stream outside the pipeline, for an exercise: the base recording's noise
//! floor (the reference of every injection's `snr_db`) and the waterfall of the
//! after-action picture. Both take samples through [`crate::source::copy`] into
//! [`Spectra`], an [`IqSink`] that runs the Welch spectrum stage as samples arrive, so the
//! same samples always give the same spectra.

use num_complex::Complex32;

use crate::dsp::{SpectrumConfig, Welch};
use crate::error::{Error, Result};
use crate::formats::export::IqSink;
use crate::source::IqSource;
use crate::types::Annotation;

/// Samples of new input per Welch call, about; rounded to whole averaging spans.
const BLOCK: usize = 1 << 16;

/// Runs the spectrum stage over appended samples and hands each averaged spectrum
/// (linear power, fft-shifted) and its index to a callback.
pub struct Spectra<'a> {
    welch: Welch,
    block: Vec<Complex32>,
    filled: usize,
    out: Vec<f32>,
    on_spectrum: &'a mut dyn FnMut(u64, &[f32]),
    count: u64,
}

impl<'a> Spectra<'a> {
    /// Spectra of `cfg` (validated) to `on_spectrum`.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a configuration that does not validate.
    pub fn new(cfg: SpectrumConfig, on_spectrum: &'a mut dyn FnMut(u64, &[f32])) -> Result<Self> {
        cfg.validate()?;
        let spans = (BLOCK / cfg.span()).max(1);
        let welch = Welch::new(cfg);
        Ok(Spectra {
            block: vec![Complex32::default(); cfg.history() + spans * cfg.span()],
            out: vec![0.0; spans * cfg.fft_len],
            welch,
            filled: 0,
            on_spectrum,
            count: 0,
        })
    }

    fn flush(&mut self) {
        let n = self.welch.config().fft_len;
        let span = self.welch.config().span();
        let count = self
            .welch
            .process(&self.block[..self.filled], &mut self.out);
        for s in self.out.chunks_exact(n).take(count) {
            (self.on_spectrum)(self.count, s);
            self.count += 1;
        }
        // The next spectrum's first frame starts after the spans consumed; what lies
        // before it is its history.
        let used = count * span;
        self.block.copy_within(used..self.filled, 0);
        self.filled -= used;
    }
}

impl IqSink for Spectra<'_> {
    fn append(&mut self, mut samples: &[Complex32]) -> Result<()> {
        while !samples.is_empty() {
            let k = (self.block.len() - self.filled).min(samples.len());
            self.block[self.filled..self.filled + k].copy_from_slice(&samples[..k]);
            self.filled += k;
            samples = &samples[k..];
            if self.filled == self.block.len() {
                self.flush();
            }
        }
        Ok(())
    }

    fn annotate(&mut self, _a: &Annotation) -> Result<()> {
        Ok(())
    }

    fn clipped_samples(&self) -> u64 {
        0
    }

    fn finish(mut self: Box<Self>) -> Result<u64> {
        self.flush();
        Ok(self.count)
    }
}

/// Runs `source` to its end through the spectrum stage, calling `on_spectrum` for each
/// spectrum; returns how many there were.
///
/// # Errors
/// The source's error; an invalid configuration.
pub fn run(
    source: &mut dyn IqSource,
    cfg: SpectrumConfig,
    on_spectrum: &mut dyn FnMut(u64, &[f32]),
) -> Result<u64> {
    let mut sink = Box::new(Spectra::new(cfg, on_spectrum)?);
    let never = std::sync::atomic::AtomicBool::new(false);
    crate::source::copy(source, sink.as_mut(), &never)?;
    sink.finish()
}

/// A recording's noise floor as kuzet measures it for an exercise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Floor {
    /// Noise power density, dBFS per Hz: the reference of an injection's `snr_db`.
    pub dbfs_hz: f64,
    /// The same over the whole sample rate (a synth scene's `noise_dbfs`).
    pub total_dbfs: f64,
    /// Seconds of the recording it was measured over.
    pub seconds: f64,
}

/// Seconds of a base recording the floor is measured over, at most: enough for a steady
/// median, and the spectra it keeps (4 bytes × FFT size × 100 per second) stay small.
pub const FLOOR_MAX_S: f64 = 30.0;

/// Measures the noise floor of `source` (read from its start, at most [`FLOOR_MAX_S`]):
/// per bin, the median over time of the averaged spectra (an emitter on less than half
/// the time leaves it alone); then the median over the middle 80% of the bins (steady
/// carriers occupy few bins; the outer tenths are where a receiver's filter rolls off).
/// The median of an averaged noise bin sits within 0.1 dB of its mean with the exercise's
/// averaging, so no correction is applied. `rate` is the stream's sample rate.
///
/// # Errors
/// The source's error; [`Error::Config`] when the recording is too short for one
/// spectrum or silent.
pub fn measure_floor(source: Box<dyn IqSource>, cfg: SpectrumConfig, rate: f64) -> Result<Floor> {
    let n = cfg.fft_len;
    let max_spectra = ((FLOOR_MAX_S * rate) / cfg.span() as f64).ceil().max(1.0) as usize;
    let mut all: Vec<f32> = Vec::new();
    let mut keep = |_: u64, s: &[f32]| {
        if all.len() < max_spectra * n {
            all.extend_from_slice(s);
        }
    };
    let limit = (FLOOR_MAX_S * rate) as u64 + (cfg.history() + cfg.span()) as u64;
    let mut limited = crate::source::Take::new(source, limit);
    run(&mut limited, cfg, &mut keep)?;
    let m = all.len() / n;
    if m == 0 {
        return Err(Error::Config(format!(
            "the base recording is shorter than one spectrum ({} samples)",
            cfg.history() + cfg.span()
        )));
    }
    let mut column = vec![0f32; m];
    let mut per_bin: Vec<f32> = (0..n)
        .map(|b| {
            for (t, c) in column.iter_mut().enumerate() {
                *c = all[t * n + b];
            }
            median(&mut column)
        })
        .collect();
    let lo = n / 10;
    let hi = n - n / 10;
    let bin_power = median(&mut per_bin[lo..hi.max(lo + 1)]) as f64;
    if !(bin_power.is_finite() && bin_power > 1e-20) {
        return Err(Error::Config(
            "the base recording is silent (no noise floor to set injection levels against)".into(),
        ));
    }
    // White noise of total power σ² reads σ²·ENBW/N per bin (dsp::spectrum).
    let total = bin_power * n as f64 / cfg.window.enbw_bins(n);
    let total_dbfs = 10.0 * total.log10();
    Ok(Floor {
        dbfs_hz: total_dbfs - 10.0 * rate.log10(),
        total_dbfs,
        seconds: (m * cfg.span()) as f64 / rate,
    })
}

fn median(v: &mut [f32]) -> f32 {
    let mid = v.len() / 2;
    let (_, &mut m, _) = v.select_nth_unstable_by(mid, f32::total_cmp);
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::WindowKind;
    use crate::source::synth::{EmitterKind, EmitterSpec, Scene, SynthSource};
    use crate::units::Hz;

    #[test]
    fn the_floor_of_a_scene_is_its_noise_whatever_its_emitters() {
        let cfg = SpectrumConfig::new(1024, 50, 24, WindowKind::Hann);
        for (noise, emitters) in [
            (-50.0, vec![]),
            (
                -60.0,
                vec![
                    EmitterSpec::new(EmitterKind::Cw, 30e3, 40.0),
                    EmitterSpec::new(EmitterKind::Gfsk, -50e3, 30.0),
                    EmitterSpec::new(EmitterKind::Fm, 80e3, 30.0),
                ],
            ),
        ] {
            let scene = Scene {
                sample_rate_hz: Hz(250e3),
                center_freq_hz: Hz(433.92e6),
                duration_s: 2.0,
                noise_dbfs: noise,
                seed: 5,
                description: String::new(),
                emitters,
            };
            let src = Box::new(SynthSource::new(&scene).unwrap());
            let f = measure_floor(src, cfg, 250e3).unwrap();
            assert!((f.total_dbfs - noise).abs() < 0.3, "{noise}: {f:?}");
            assert!((f.dbfs_hz - (noise - 10.0 * 250e3f64.log10())).abs() < 0.3);
            assert!(f.seconds > 1.9 && f.seconds <= 2.0, "{f:?}");
        }
    }

    #[test]
    fn spectra_do_not_depend_on_how_samples_arrive() {
        let cfg = SpectrumConfig::new(256, 50, 4, WindowKind::Hann);
        let scene = Scene {
            sample_rate_hz: Hz(100e3),
            center_freq_hz: Hz(0.0),
            duration_s: 0.5,
            noise_dbfs: -40.0,
            seed: 1,
            description: String::new(),
            emitters: vec![EmitterSpec::new(EmitterKind::Cw, 10e3, 20.0)],
        };
        let mut samples = vec![Complex32::default(); 50_000];
        SynthSource::new(&scene)
            .unwrap()
            .read_cf32(&mut samples)
            .unwrap();
        let collect = |cuts: &[usize]| {
            let mut got: Vec<Vec<f32>> = Vec::new();
            let mut on = |_: u64, s: &[f32]| got.push(s.to_vec());
            let mut sink = Box::new(Spectra::new(cfg, &mut on).unwrap());
            let mut at = 0;
            for &c in cuts.iter().chain(std::iter::once(&samples.len())) {
                sink.append(&samples[at..c]).unwrap();
                at = c;
            }
            sink.finish().unwrap();
            got
        };
        let one = collect(&[]);
        assert_eq!(one.len(), (50_000 - 128) / 512);
        assert_eq!(collect(&[1, 777, 30_000, 49_999]), one);
    }
}
