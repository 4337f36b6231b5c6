//! `kuzet synth -o OUT.h5`: a simulated scene written as a capture with its ground truth.

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::app::config::Synth;
use crate::error::{Error, Result};
use crate::formats::export::IqSink;
use crate::formats::{CaptureWriter, WriterOptions};
use crate::source::synth::SynthSource;
use crate::units;

/// Runs `kuzet synth`.
///
/// # Errors
/// The output cannot be written.
pub fn run(s: &Synth, stop: &Arc<AtomicBool>) -> Result<ExitCode> {
    super::refuse_existing(std::slice::from_ref(&s.output), s.force)?;
    // A scene of 1e308 seconds would otherwise write until the disk is full.
    let bytes = (s.scene.total_samples() as f64) * s.format.bytes_per_sample() as f64;
    if let Some(free) = crate::formats::free_bytes(&s.output) {
        if bytes > free as f64 {
            return Err(Error::Config(format!(
                "--duration: the scene needs {:.1} GB and {} has {:.1} GB free",
                bytes / 1e9,
                s.output.display(),
                free as f64 / 1e9
            )));
        }
    }
    let mut source = SynthSource::new(&s.scene)?;
    let mut writer: Box<dyn IqSink> = Box::new(CaptureWriter::create(
        &s.output,
        &s.scene.meta(),
        &WriterOptions {
            format: s.format,
            // Never two writers on one file: another synth racing for the name loses.
            exclusive: !s.force,
            ..WriterOptions::default()
        },
    )?);
    for a in s.scene.annotations() {
        writer.annotate(&a)?;
    }
    crate::source::copy(&mut source, writer.as_mut(), stop)?;
    let clipped = writer.clipped_samples();
    let n = writer.finish()?;
    let size = std::fs::metadata(&s.output).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "kuzet: wrote {}: {} samples ({:.2} s at {}, {}), {} emitter(s), {:.1} MB",
        s.output.display(),
        n,
        n as f64 / s.scene.sample_rate_hz.0,
        units::format_rate(s.scene.sample_rate_hz.0),
        s.format.name(),
        s.scene.emitters.len(),
        size as f64 / 1e6,
    );
    if clipped > 0 {
        eprintln!(
            "kuzet: warning: {clipped} samples clipped by the {} format",
            s.format.name()
        );
    }
    Ok(ExitCode::SUCCESS)
}
