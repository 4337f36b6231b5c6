//! `kuzet baseline learn CAPTURE... -o FILE`: what normal air looks like, learned and saved.

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::app::config::Learn;
use crate::app::report;
use crate::detect::baseline::BaselineLearner;
use crate::error::{Error, Result};
use crate::pipeline::{self, Counters, Event};

/// Runs each capture with learning on (and no prior baseline), merges what was learned,
/// saves it.
///
/// # Errors
/// An unreadable capture, nothing learned, the output cannot be written.
pub fn run(s: &Learn, stop: &Arc<AtomicBool>) -> Result<ExitCode> {
    super::refuse_existing(std::slice::from_ref(&s.output), s.force)?;
    let mut merged: Option<BaselineLearner> = None;
    for input in &s.inputs {
        let rec = super::open(input)?;
        let source = super::limited(rec.source, s.limit_s);
        let meta = source.meta().clone();
        let mut cfg = s.dsp.pipeline(&meta)?;
        cfg.learn = true;
        let mut learned = None;
        let stats = pipeline::run(
            source,
            &cfg,
            Arc::new(Counters::default()),
            stop,
            &mut |ev| {
                if let Event::Learned(l) = ev {
                    learned = Some(l);
                }
                Ok(())
            },
        )?;
        report::summary(&meta, &cfg, &stats);
        if let Some(l) = learned {
            match merged.as_mut() {
                Some(m) => m.merge(&l),
                None => merged = Some(*l),
            }
        }
    }
    let Some(learner) = merged else {
        return Err(Error::Config("baseline learn: nothing was learned".into()));
    };
    let baseline = learner.finish();
    baseline.save(&s.output)?;
    eprintln!(
        "kuzet: wrote {}: {:.1} s learned, {} emitter(s) known ({} expected on)",
        s.output.display(),
        baseline.seconds,
        baseline.emitters.len(),
        baseline.emitters.iter().filter(|e| e.duty >= 0.5).count()
    );
    Ok(ExitCode::SUCCESS)
}
