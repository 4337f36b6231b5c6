//! `kuzet watch --device ARGS`: a radio through the pipeline live, in the console or as
//! JSON lines, optionally recorded continuously.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

use crate::app::config::Watch;
use crate::app::report;
use crate::error::Result;
use crate::source::soapy::{self, SoapySource};
use crate::source::IqSource;
use crate::tui::{self, app::SourceInfo, Console};

/// Runs `kuzet watch`.
///
/// # Errors
/// The radio cannot be opened as asked, a bad setting, the terminal, a failing stage.
pub fn run(s: &Watch, stop: &Arc<AtomicBool>) -> Result<ExitCode> {
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
