//! What a command tells the operator on stderr: warnings about inputs, the run summary,
//! what was recorded. Alerts go to stdout or the console, never here.

use std::io::Write;

use crate::pipeline::recorder::RecordSummary;
use crate::pipeline::{PipelineConfig, RunStats};
use crate::types::StreamMeta;
use crate::units;

/// One `kuzet: warning:` line per problem found in `origin`.
pub fn warnings(origin: &str, warnings: &[String]) {
    let mut err = std::io::stderr().lock();
    // Warnings quote what files say: one line each, no control characters.
    let origin = units::one_line(origin);
    for w in warnings {
        let _ = writeln!(err, "kuzet: warning: {origin}: {}", units::one_line(w));
    }
}

/// The summary of a pipeline run: what was read, how fast, what came out.
pub fn summary(meta: &StreamMeta, cfg: &PipelineConfig, s: &RunStats) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "kuzet: {} — {} at {}, FFT {} ({:.0}% overlap, {} avg, RBW {:.0} Hz)",
        units::one_line(&meta.origin),
        units::format_hz(meta.center_freq_hz),
        units::format_rate(meta.sample_rate_hz),
        cfg.spectrum.fft_len,
        cfg.spectrum.overlap_pct(),
        cfg.spectrum.averages,
        cfg.spectrum.rbw_hz(meta.sample_rate_hz),
    );
    let _ = writeln!(
        err,
        "kuzet: {} samples ({:.2} s of stream) in {:.3} s: {:.1} MS/s ({:.0}x real time); \
         {} spectra, {} alert lines, {} dropped",
        s.samples,
        s.stream_s,
        s.wall.as_secs_f64(),
        s.msps(),
        s.realtime_factor(),
        s.spectra,
        s.alerts,
        s.dropped,
    );
    if s.spectra == 0 {
        let need = cfg.spectrum.history() + cfg.spectrum.span();
        let _ = writeln!(
            err,
            "kuzet: warning: no spectrum was made: {} samples, and one spectrum needs {need} \
             (FFT {}, {} averages); nothing was analysed",
            s.samples, cfg.spectrum.fft_len, cfg.spectrum.averages
        );
    }
    if s.non_finite > 0 {
        let _ = writeln!(
            err,
            "kuzet: warning: {} NaN/Inf samples were read as zero",
            s.non_finite
        );
    }
    if let Some(e) = &s.evidence {
        let _ = writeln!(
            err,
            "kuzet: evidence: {} clip(s), {:.2} s of IQ{}{}{}",
            e.files.len(),
            meta.seconds(e.samples),
            if e.failed.is_empty() {
                String::new()
            } else {
                format!("; {} failed", e.failed.len())
            },
            if e.cut.is_empty() {
                String::new()
            } else {
                format!("; {} cut short by the quota", e.cut.len())
            },
            if e.dropped == 0 {
                String::new()
            } else {
                format!("; {} samples not buffered (evidence behind)", e.dropped)
            },
        );
        for f in &e.files {
            let _ = writeln!(err, "kuzet: evidence: {}", f.display());
        }
    }
    if let Some(r) = &s.recording {
        recording(r);
    }
    if let Some(f) = &s.federation {
        let _ = writeln!(
            err,
            "kuzet: mqtt: {}: published {}, acknowledged {}, backlog {}, lost {} ({} since the \
             outbox began){}{}",
            f.broker,
            f.published,
            f.acked,
            f.backlog,
            f.lost,
            f.lost_total,
            if f.outages > 0 {
                format!("; {} outage(s)", f.outages)
            } else {
                String::new()
            },
            if f.unreadable > 0 {
                format!("; {} torn line(s) skipped", f.unreadable)
            } else {
                String::new()
            },
        );
    }
}

/// What a recorder wrote, and what it did not.
pub fn recording(s: &RecordSummary) {
    let names: Vec<String> = s.files.iter().map(|p| p.display().to_string()).collect();
    let stream = s.written + s.overrun + s.lost_by_device;
    eprintln!(
        "kuzet: recorded {} of {} samples of stream ({:.1}%) in {} file(s): {}; {} lost by \
         the device, {} not recorded (a disk too slow or full){}",
        s.written,
        stream,
        100.0 * s.written as f64 / stream.max(1) as f64,
        s.files.len(),
        names.join(", "),
        s.lost_by_device,
        s.overrun,
        if s.zero_filled > 0 {
            format!(
                "; {} zeros fill the gaps so that file time is stream time",
                s.zero_filled
            )
        } else {
            String::new()
        },
    );
    if let Some(why) = &s.stopped {
        eprintln!("kuzet: recording stopped early: {why}");
    }
}
