//! Opening a sweep: the radio asked what it tunes and how fast, the sweep planned around
//! it and the band plan, the radio opened on the first step and wrapped in the source
//! that steps it through the plan's cycle. Shared by `kuzet watch --sweep` and
//! `kuzet bench`, so the figures the bench gives are those of the sweep an operator runs.

use std::sync::Arc;

use crate::app::config::{Dsp, Sweep};
use crate::detect::sweep::plan::range_text;
use crate::detect::sweep::{band_pois, BandPoi, Geometry, SweepPlan};
use crate::dsp::SpectrumConfig;
use crate::error::{Error, Result};
use crate::pipeline::PipelineConfig;
use crate::source::soapy::sweep::{driver_defaults, tuner, Schedule, SweepSource, Tuning};
use crate::source::soapy::{DeviceSettings, SoapySource};
use crate::source::IqSource;
use crate::units;

/// A sweep ready to run: the source on its first step, the pipeline for it, and what the
/// plan promises.
pub struct OpenSweep {
    /// The radio, sweeping.
    pub source: SweepSource,
    /// The pipeline (spectrum, per-step detection); no alert log, evidence or recording.
    pub cfg: PipelineConfig,
    /// The plan.
    pub plan: Arc<SweepPlan>,
    /// Each band's revisit time and probability of intercept.
    pub pois: Vec<BandPoi>,
    /// Where the settle came from, for the report.
    pub settle_from: String,
}

impl std::fmt::Debug for OpenSweep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenSweep")
            .field("steps", &self.plan.steps.len())
            .field("settle_from", &self.settle_from)
            .finish()
    }
}

/// Plans `sw` around what the radio `device` names can do and opens it on the first step,
/// with spectrum and detection as `dsp` says; `limit_s` ends the stream after that much
/// stream time.
///
/// # Errors
/// The radio cannot be opened or does not take the rate exactly; the sweep asks for what
/// the radio or the band plan cannot give ([`Error::Invalid`] for `sweep`, `crop` or
/// `dwell`, which the settings layer names by flag).
pub fn open(
    device: &DeviceSettings,
    dsp: &Dsp,
    sw: &Sweep,
    limit_s: Option<f64>,
) -> Result<OpenSweep> {
    let radio = tuner(&device.args, device.channel)?;
    let rate = sw.rate_sps.unwrap_or_else(|| {
        radio
            .max_rate_sps
            .map_or(sw.max_rate_sps, |m| m.min(sw.max_rate_sps))
    });
    // A sweep's detector has no carrier grid (each step is its own short grid).
    let spectrum = SpectrumConfig {
        carriers: false,
        ..dsp.spectrum.config(rate)?
    };
    let driver = driver_defaults(&radio.driver);
    let (settle_samples, settle_from) = match sw.settle_s {
        Some(t) => ((t * rate).ceil() as u64, "--settle".to_string()),
        None => (
            driver.settle_samples(rate),
            format!("driver={}'s default", radio.driver),
        ),
    };
    let dwell_spectra = ((sw.dwell_s * rate / spectrum.span() as f64).round() as usize).max(1);
    let geometry = Geometry {
        rate_hz: rate,
        fft_len: spectrum.fft_len,
        span: spectrum.span(),
        history: spectrum.history(),
        keep_fraction: sw.keep_fraction.unwrap_or(driver.keep_fraction),
        dwell_spectra,
        settle_samples,
        tunable: radio.freq_ranges.clone(),
        device: format!("driver={}", radio.driver),
    };
    let plan = Arc::new(SweepPlan::new(&sw.spec, dsp.detect.bandplan(), geometry)?);

    // The radio starts on the first step; the source retunes from there.
    let mut settings = device.clone();
    settings.freq_hz = plan.steps[plan.cycle[0].step].centre_hz;
    settings.rate_sps = rate;
    let src = SoapySource::open(&settings)?;
    let applied = src.meta().sample_rate_hz;
    if (applied - rate).abs() > 1e-6 * rate {
        return Err(Error::Device {
            args: settings.args.clone(),
            msg: format!(
                "asked for {} and got {}: a sweep is planned in samples at an exact rate; give \
                 --rate a rate driver={} takes as it is",
                units::format_rate(rate),
                units::format_rate(applied),
                radio.driver
            ),
        });
    }
    let src = match limit_s {
        Some(t) => {
            let n = src.meta().index_at(t);
            src.limit(n)
        }
        None => src,
    };
    let lo = plan.steps.first().map_or(0.0, |st| st.own_lo_hz);
    let hi = plan.steps.last().map_or(0.0, |st| st.own_hi_hz);
    let schedule = Schedule {
        visits: plan
            .cycle
            .iter()
            .map(|v| Tuning {
                step: v.step as u32,
                centre_hz: plan.steps[v.step].centre_hz,
                dwell_samples: plan.dwell_samples(v),
            })
            .collect(),
        settle_samples: plan.geometry.settle_samples,
        centre_hz: plan.panorama.center_freq_hz,
        description: format!("{} steps, {}", plan.steps.len(), range_text(lo, hi)),
    };
    let source = SweepSource::new(src, schedule)?;
    let mut cfg = dsp.pipeline(source.meta())?;
    cfg.sweep = Some(plan.clone());
    let pois = band_pois(&plan, &cfg.detector, sw.poi);
    Ok(OpenSweep {
        source,
        cfg,
        plan,
        pois,
        settle_from,
    })
}
