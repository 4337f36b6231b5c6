//! `kuzet watch --device ARGS`: a radio through the pipeline live, in the console or as
//! JSON lines, optionally recorded continuously; with `--sweep`, stepped across the bands
//! of the band plan (docs/sweep.md).

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

use crate::app::config::{Sweep, Watch};
use crate::app::report;
use crate::detect::sweep::plan::range_text;
use crate::detect::sweep::{band_pois, BandPoi, Geometry, SweepPlan};
use crate::error::{Error, Result};
use crate::pipeline::PipelineConfig;
use crate::source::soapy::sweep::{driver_defaults, tuner, Schedule, SweepSource, Tuning};
use crate::source::soapy::{self, SoapySource};
use crate::source::IqSource;
use crate::tui::app::{SweepBand, SweepInfo};
use crate::tui::{self, app::SourceInfo, Console};
use crate::units;

/// Runs `kuzet watch`.
///
/// # Errors
/// The radio cannot be opened as asked, a bad setting, the terminal, a failing stage.
pub fn run(s: &Watch, stop: &Arc<AtomicBool>) -> Result<ExitCode> {
    if let Some(sw) = &s.sweep {
        return sweep(s, sw, stop);
    }
    let src = SoapySource::open(&s.device)?;
    let src = match s.limit_s {
        Some(t) => {
            let n = src.meta().index_at(t);
            src.limit(n)
        }
        None => src,
    };
    let meta = src.meta().clone();
    let mut cfg = super::with_log(s.dsp.pipeline(&meta)?, s.alerts.as_deref())?;
    cfg.evidence = s.evidence.clone();
    cfg.record = s.record.clone().map(|mut rc| {
        rc.extra_attrs = src.recording_attrs();
        // The serial (else the driver) in file names: two radios recording into one
        // directory never pick the same name.
        let attr = |k: &str| {
            rc.extra_attrs
                .iter()
                .find(|(key, v)| key == k && !v.is_empty())
                .map(|(_, v)| v.clone())
        };
        rc.name_tag = attr("serial")
            .or_else(|| attr("driver"))
            .unwrap_or_default();
        rc
    });
    let stats = if s.headless {
        let running = crate::pipeline::start(Box::new(src), cfg.clone(), stop.clone(), None)?;
        super::to_stdout(running, stop)?
    } else {
        // SoapySDR's own log lines would tear through the console's screen.
        soapy::LOG_QUIET.store(true, Relaxed);
        let console = Console {
            info: SourceInfo::new(&meta, &cfg.spectrum),
            replay: None,
            recording: cfg.record.is_some(),
            sweep: None,
        };
        let running = crate::pipeline::start(
            Box::new(src),
            cfg.clone(),
            stop.clone(),
            Some(tui::FRAME_PERIOD),
        );
        let r = running.and_then(|r| tui::run(r, console, stop));
        soapy::LOG_QUIET.store(false, Relaxed);
        r?
    };
    report::summary(&meta, &cfg, &stats);
    Ok(ExitCode::SUCCESS)
}

/// A sweep ready to run: the source on its first step, the pipeline for it, and what the
/// plan promises.
pub struct OpenSweep {
    /// The radio, sweeping.
    pub source: SweepSource,
    /// The pipeline (spectrum, per-step detection, alert log).
    pub cfg: PipelineConfig,
    /// The plan.
    pub plan: Arc<SweepPlan>,
    /// Each band's revisit time and probability of intercept.
    pub pois: Vec<BandPoi>,
    /// Where the settle came from, for the report.
    pub settle_from: String,
}

/// Plans the sweep around what the radio can do and opens it on the first step.
///
/// # Errors
/// The radio cannot be opened or does not take the rate exactly; `--sweep` asks for what
/// the radio or the band plan cannot give ([`Error::Invalid`], named by its flag).
pub fn open_sweep(s: &Watch, sw: &Sweep) -> Result<OpenSweep> {
    let radio = tuner(&s.device.args, s.device.channel)?;
    let rate = sw.rate_sps.unwrap_or_else(|| {
        radio
            .max_rate_sps
            .map_or(sw.max_rate_sps, |m| m.min(sw.max_rate_sps))
    });
    let spectrum = s.dsp.spectrum.config(rate)?;
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
    let plan = Arc::new(SweepPlan::new(&sw.spec, s.dsp.detect.bandplan(), geometry)?);

    // The radio starts on the first step; the source retunes from there.
    let mut settings = s.device.clone();
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
    let src = match s.limit_s {
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
    let mut cfg = super::with_log(s.dsp.pipeline(source.meta())?, s.alerts.as_deref())?;
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

/// `kuzet watch --sweep`: states each band's probability of intercept, then runs the
/// pipeline on the sweeping source and reports what the sweep achieved.
fn sweep(s: &Watch, sw: &Sweep, stop: &Arc<AtomicBool>) -> Result<ExitCode> {
    let OpenSweep {
        source,
        cfg,
        plan,
        pois,
        settle_from,
    } = open_sweep(s, sw)?;
    report::sweep_plan(&plan, &pois, &settle_from);
    let meta = source.meta().clone();
    let counts = source.counts();
    let cpu0 = report::process_cpu_s();
    let stats = if s.headless {
        let running = crate::pipeline::start(Box::new(source), cfg.clone(), stop.clone(), None)?;
        super::to_stdout(running, stop)?
    } else {
        soapy::LOG_QUIET.store(true, Relaxed);
        let console = Console {
            info: SourceInfo::new(&meta, &cfg.spectrum),
            replay: None,
            recording: false,
            sweep: Some(sweep_info(&plan, &pois)),
        };
        let running = crate::pipeline::start(
            Box::new(source),
            cfg.clone(),
            stop.clone(),
            Some(tui::FRAME_PERIOD),
        );
        let r = running.and_then(|r| tui::run(r, console, stop));
        soapy::LOG_QUIET.store(false, Relaxed);
        r?
    };
    let cpu = match (cpu0, report::process_cpu_s()) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    report::summary(&meta, &cfg, &stats);
    report::sweep_summary(
        &plan,
        &pois,
        stats.sweep.as_deref().unwrap_or_default(),
        counts.retunes.load(Relaxed),
        counts.discarded.load(Relaxed),
        &stats,
        cpu,
    );
    Ok(ExitCode::SUCCESS)
}

/// The console's view of the sweep: the panorama and each band's promise.
fn sweep_info(plan: &SweepPlan, pois: &[BandPoi]) -> SweepInfo {
    let lo = plan.steps.first().map_or(0.0, |st| st.own_lo_hz);
    let hi = plan.steps.last().map_or(0.0, |st| st.own_hi_hz);
    SweepInfo {
        panorama: plan.panorama,
        summary: format!("sweep {}, {} steps", range_text(lo, hi), plan.steps.len()),
        bands: pois
            .iter()
            .map(|bp| {
                let b = &plan.bands[bp.band];
                SweepBand {
                    name: units::one_line(&b.name),
                    lo_hz: b.lo_hz,
                    hi_hz: b.hi_hz,
                    priority: b.priority,
                    revisit_s: bp.revisit_s,
                    per_visit: bp.poi.per_visit,
                    t90_s: bp.poi.time_for(0.9),
                }
            })
            .collect(),
    }
}
