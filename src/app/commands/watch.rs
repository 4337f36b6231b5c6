//! `kuzet watch --device ARGS`: a radio through the pipeline live, in the console or as
//! JSON lines, optionally recorded continuously; with `--sweep`, stepped across the bands
//! of the band plan (docs/sweep.md).

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

use crate::app::config::{Sweep, Watch};
use crate::app::report;
pub use crate::app::sweep::OpenSweep;
use crate::detect::sweep::plan::range_text;
use crate::detect::sweep::{BandPoi, SweepPlan};
use crate::error::Result;
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
    let cfg = s.dsp.pipeline(&meta)?;
    let mut cfg = super::with_log(
        cfg,
        s.alerts.as_deref(),
        s.mqtt.as_ref(),
        &meta,
        &s.dsp,
        !s.headless,
    )?;
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
        super::no_console_for(s.on_critical.as_deref());
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
        let setup = super::replay::setup(&s.dsp, s.on_critical.as_deref());
        let r = running.and_then(|r| tui::run_with(r, console, setup, stop));
        soapy::LOG_QUIET.store(false, Relaxed);
        r?
    };
    report::summary(&meta, &cfg, &stats);
    Ok(ExitCode::SUCCESS)
}

/// Opens `s`'s sweep `sw` with its alert log (see [`crate::app::sweep::open`]).
///
/// # Errors
/// As [`crate::app::sweep::open`]; the alert log cannot be opened.
pub fn open_sweep(s: &Watch, sw: &Sweep) -> Result<OpenSweep> {
    let mut o = crate::app::sweep::open(&s.device, &s.dsp, sw, s.limit_s)?;
    let meta = o.source.meta().clone();
    o.cfg = super::with_log(
        o.cfg,
        s.alerts.as_deref(),
        s.mqtt.as_ref(),
        &meta,
        &s.dsp,
        !s.headless,
    )?;
    Ok(o)
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
    let cpu0 = crate::eval::bench::process_cpu_s();
    let stats = if s.headless {
        super::no_console_for(s.on_critical.as_deref());
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
        let setup = super::replay::setup(&s.dsp, s.on_critical.as_deref());
        let running = crate::pipeline::start(
            Box::new(source),
            cfg.clone(),
            stop.clone(),
            Some(tui::FRAME_PERIOD),
        );
        let r = running.and_then(|r| tui::run_with(r, console, setup, stop));
        soapy::LOG_QUIET.store(false, Relaxed);
        r?
    };
    let cpu = crate::eval::bench::process_cpu_s() - cpu0;
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
