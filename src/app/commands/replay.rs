//! `kuzet replay FILE`: a recording at real time (or another speed) in the console, with
//! pause, step, seek and loop; JSON lines without a terminal.

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use crate::app::config::Replay;
use crate::app::report;
use crate::error::Result;
use crate::source::paced::{PaceControl, PacedSource};
use crate::tui::{self, app::SourceInfo, Console};

/// What the console shows from the settings: bands, known emitters, the critical command.
pub(super) fn setup(dsp: &crate::app::config::Dsp, on_critical: Option<&str>) -> tui::Setup {
    tui::Setup {
        bands: dsp.detect.bandplan().bands.clone(),
        known: dsp.detect.known().to_vec(),
        on_critical: on_critical.map(str::to_string),
    }
}

/// Runs `kuzet replay`.
///
/// # Errors
/// An unreadable recording, a bad setting, the terminal, a failing stage.
pub fn run(s: &Replay, stop: &Arc<AtomicBool>) -> Result<ExitCode> {
    let rec = super::open(&s.input)?;
    let mut cfg = s.dsp.pipeline(rec.meta())?;
    cfg.evidence = s.evidence.clone();
    let cfg = super::with_log(
        cfg,
        s.alerts.as_deref(),
        s.mqtt.as_ref(),
        rec.meta(),
        &s.dsp,
        !s.headless,
    )?;
    let ctl = PaceControl::new(s.speed, s.looping);
    // On the console the end of the capture pauses (the operator can seek back and look);
    // headless, it ends the run.
    let paced = PacedSource::new(rec.source, ctl.clone(), cfg.spectrum.span(), !s.headless);
    // Outside the pacing, so --duration counts stream time, which goes on across loops
    // and seeks.
    let source = super::limited(Box::new(paced), s.limit_s);
    let meta = source.meta().clone();
    if s.headless {
        super::no_console_for(s.on_critical.as_deref());
        let running = crate::pipeline::start(source, cfg.clone(), stop.clone(), None)?;
        let stats = super::to_stdout(running, stop)?;
        report::summary(&meta, &cfg, &stats);
        return Ok(ExitCode::SUCCESS);
    }
    let info = SourceInfo::new(&meta, &cfg.spectrum);
    let started = Instant::now();
    let running =
        crate::pipeline::start(source, cfg.clone(), stop.clone(), Some(tui::FRAME_PERIOD))?;
    let console = Console {
        info,
        replay: Some(ctl.clone()),
        recording: false,
        sweep: None,
    };
    let stats = tui::run_with(
        running,
        console,
        setup(&s.dsp, s.on_critical.as_deref()),
        stop,
    )?;
    report::summary(&meta, &cfg, &stats);
    if let Some(end) = ctl.ended() {
        // The run's wall time includes the time spent looking at the paused end; this is
        // the throughput while samples were flowing.
        let secs = end.duration_since(started).as_secs_f64();
        eprintln!(
            "kuzet: end of capture reached after {secs:.3} s of replay: {:.1} MS/s with the console open",
            stats.samples as f64 / secs.max(1e-9) / 1e6
        );
    }
    Ok(ExitCode::SUCCESS)
}
