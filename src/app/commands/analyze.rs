//! `kuzet analyze FILE`: a recording through the pipeline as fast as it goes; alerts as
//! JSON lines on stdout, the summary on stderr.

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::app::config::Analyze;
use crate::app::report;
use crate::error::Result;
use crate::pipeline::{self, Input};

/// Runs `kuzet analyze`.
///
/// # Errors
/// An unreadable recording, a bad setting for this stream, a failing stage.
pub fn run(s: &Analyze, stop: &Arc<AtomicBool>) -> Result<ExitCode> {
    let rec = super::open(&s.input)?;
    // Evidence clips are read back from the recording rather than kept in memory.
    let reread = match &s.evidence {
        Some(_) => Some(rec.reopen()?),
        None => None,
    };
    let source = super::limited(rec.source, s.limit_s);
    let meta = source.meta().clone();
    let cfg = s.dsp.pipeline(&meta)?;
    let mut cfg = super::with_log(
        cfg,
        s.alerts.as_deref(),
        s.mqtt.as_ref(),
        &meta,
        &s.dsp,
        false,
    )?;
    cfg.evidence = s.evidence.clone();
    let running = pipeline::start(Input { source, reread }, cfg.clone(), stop.clone(), None)?;
    let stats = super::to_stdout(running, stop)?;
    report::summary(&meta, &cfg, &stats);
    Ok(ExitCode::SUCCESS)
}
