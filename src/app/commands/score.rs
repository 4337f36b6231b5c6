//! `kuzet score CAPTURE|SCENE.toml`: alerts against ground truth.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::alert::Alert;
use crate::app::config::{Score, ScoreTarget};
use crate::app::report;
use crate::error::{Error, Result};
use crate::formats::{sigmf, CaptureReader};
use crate::pipeline::{self, Counters, Event};
use crate::source::recording::InputKind;
use crate::source::synth::SynthSource;
use crate::source::IqSource;
use crate::types::Annotation;

/// Runs `kuzet score`.
///
/// # Errors
/// An unreadable capture or scenario, unreadable ground truth, a failing stage.
pub fn run(s: &Score, stop: &Arc<AtomicBool>) -> Result<ExitCode> {
    let (truth, source): (Vec<Annotation>, Box<dyn IqSource>) = match &s.target {
        ScoreTarget::Scenario(scene) => (
            scene.annotations(),
            super::limited(Box::new(SynthSource::new(scene)?), s.limit_s),
        ),
        ScoreTarget::Recording(input) => {
            let rec = super::open(input)?;
            let truth = ground_truth(&rec)?;
            (truth, super::limited(rec.source, s.limit_s))
        }
    };
    let meta = source.meta().clone();
    let cfg = s.dsp.pipeline(&meta)?;
    let mut alerts: Vec<Alert> = Vec::new();
    let stats = pipeline::run(
        source,
        &cfg,
        Arc::new(Counters::default()),
        stop,
        &mut |ev| {
            if let Event::Alert(a) = ev {
                alerts.push(a);
            }
            Ok(())
        },
    )?;
    // With --duration, truth after the cut was never on the air for this run.
    let end_sample = meta.index_at(stats.stream_s);
    let truth: Vec<_> = truth
        .into_iter()
        .filter(|a| a.start_sample < end_sample)
        .collect();
    let bin_hz = meta.sample_rate_hz / cfg.spectrum.fft_len as f64;
    let result =
        crate::eval::score::score(&truth, &alerts, meta.sample_rate_hz, bin_hz, stats.stream_s);
    let text = if s.json {
        let mut t = serde_json::to_string(&result)
            .map_err(|e| Error::AlertSink(std::io::Error::other(e)))?;
        t.push('\n');
        t
    } else {
        result.table()
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(Error::AlertSink(e)),
    }
    report::summary(&meta, &cfg, &stats);
    Ok(ExitCode::SUCCESS)
}

/// The ground truth `score` compares alerts with: the recording's annotations.
///
/// # Errors
/// A kuzet capture whose `/annotations` cannot be read: scoring against no truth would
/// report every alert as false (the other commands only warn).
fn ground_truth(rec: &crate::source::Recording) -> Result<Vec<Annotation>> {
    if rec.kind == InputKind::Kuzet {
        return CaptureReader::open(rec.path())?.annotations();
    }
    Ok(rec
        .annotations
        .iter()
        // A SigMF retune marks where the recording changed frequency, not an emitter.
        .filter(|a| a.source != sigmf::RETUNE_SOURCE)
        .cloned()
        .collect())
}
