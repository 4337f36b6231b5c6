//! `kuzet record --device ARGS -o FILE`: a radio to a crash-safe capture, no analysis.

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::app::config::Record;
use crate::app::report;
use crate::error::{Error, Result};
use crate::formats::SampleFormat;
use crate::pipeline::recorder;
use crate::source::soapy::SoapySource;
use crate::source::IqSource;
use crate::types::SourceEvent;
use crate::units;

/// Runs `kuzet record`.
///
/// # Errors
/// The radio cannot be opened as asked, the file cannot be written.
pub fn run(s: &Record, stop: &Arc<AtomicBool>) -> Result<ExitCode> {
    if let recorder::Target::File(path) = &s.recorder.target {
        super::refuse_existing(std::slice::from_ref(path), s.recorder.overwrite)?;
    }
    let mut src = SoapySource::open(&s.device)?;
    let by_time = s.limit_s.map(|t| src.meta().index_at(t));
    let by_size = s
        .size_bytes
        .map(|b| b / s.recorder.format.bytes_per_sample() as u64);
    if let Some(n) = by_time.into_iter().chain(by_size).min() {
        src = src.limit(n);
    }
    let meta = src.meta().clone();
    let mut rc = s.recorder.clone();
    rc.extra_attrs = src.recording_attrs();
    // A radio that streams integers of the width asked for is recorded at its own step.
    rc.format = match (rc.format, src.native_integers()) {
        (SampleFormat::Ci8 { scale: 0.0 }, Some((8, k))) => SampleFormat::Ci8 { scale: k },
        (SampleFormat::Ci16 { scale: 0.0 }, Some((16, k))) => SampleFormat::Ci16 { scale: k },
        (f, _) => f,
    };
    let chunk = src.chunk();
    if let recorder::Target::File(path) = &rc.target {
        eprintln!(
            "kuzet: recording {} at {} from {} to {}",
            units::format_hz(meta.center_freq_hz),
            units::format_rate(meta.sample_rate_hz),
            meta.origin,
            path.display()
        );
    }
    let r = recorder::record(Box::new(src), rc, chunk, stop, &mut |e| match e {
        SourceEvent::DeviceLost(why) => eprintln!("kuzet: device lost ({why}); retrying"),
        SourceEvent::DeviceRestored => eprintln!("kuzet: device restored"),
        // Said once, at the end, with what was lost.
        SourceEvent::RecordingStopped(_) | SourceEvent::RecordingOverrun(_) => {}
    })?;
    let secs = r.wall.as_secs_f64();
    eprintln!(
        "kuzet: read {} samples ({:.2} s of stream) in {secs:.3} s: {:.1} MS/s; {} lost by the device",
        r.read,
        (r.read + r.lost) as f64 / meta.sample_rate_hz,
        r.read as f64 / secs.max(1e-9) / 1e6,
        r.lost,
    );
    report::recording(&r.summary);
    match r.summary.stopped {
        Some(why) => Err(Error::RecordingStopped(why)),
        None => Ok(ExitCode::SUCCESS),
    }
}
