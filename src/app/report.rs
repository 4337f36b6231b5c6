//! What a command tells the operator on stderr: warnings about inputs, the run summary,
//! what was recorded. Alerts go to stdout or the console, never here.

use std::io::Write;

use crate::detect::sweep::plan::range_text;
use crate::detect::sweep::{swept_hz, BandPoi, Poi, StepStats, SweepPlan};
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
    // The bins the detector never reports a line in (the receiver's own: the LO's leakage
    // and the wrap at ±rate/2), said where the run's figures are.
    let bin_hz = meta.sample_rate_hz / cfg.spectrum.fft_len as f64;
    let excluded_hz = crate::detect::receiver_line_half_bins(&cfg.spectrum) * bin_hz;
    let carriers = match cfg.spectrum.carrier_len() {
        0 => String::new(),
        n => format!("; carrier grid {:.0} Hz", meta.sample_rate_hz / n as f64),
    };
    let _ = writeln!(
        err,
        "kuzet: {} — {} at {}, FFT {} ({:.0}% overlap, {} avg, RBW {:.0} Hz{}); lines within \
         {:.0} Hz of 0 Hz and of ±{:.0} kHz are the receiver's, not reported",
        units::one_line(&meta.origin),
        units::format_hz(meta.center_freq_hz),
        units::format_rate(meta.sample_rate_hz),
        cfg.spectrum.fft_len,
        cfg.spectrum.overlap_pct(),
        cfg.spectrum.averages,
        cfg.spectrum.rbw_hz(meta.sample_rate_hz),
        carriers,
        excluded_hz,
        meta.sample_rate_hz / 2e3,
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

/// `1.4 s`, `35 ms`, `0.5 ms`: a time for people, three significant figures at most.
fn secs(s: f64) -> String {
    let trim = |t: String| {
        if t.contains('.') {
            t.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            t
        }
    };
    if !s.is_finite() {
        "∞".into()
    } else if s < 1.0 {
        let ms = s * 1e3;
        format!(
            "{} ms",
            trim(format!("{ms:.*}", if ms < 10.0 { 2 } else { 1 }))
        )
    } else if s < 10.0 {
        format!("{} s", trim(format!("{s:.2}")))
    } else {
        format!("{s:.0} s")
    }
}

/// What a band can promise for the pulse train: the chance one visit sees it, and when
/// half and nine in ten of such emitters are reported.
pub fn poi_text(p: &Poi) -> String {
    let by = |q: f64| match p.time_for(q) {
        Some(t) => format!("{:.0}% by {}", q * 100.0, secs(t)),
        None => format!("{:.0}% not within {}", q * 100.0, secs(p.horizon_s)),
    };
    let mut s = format!(
        "{:.0}%/visit, {}, {}",
        p.per_visit * 100.0,
        by(0.5),
        by(0.9)
    );
    if p.eventually() < 0.999 {
        // The revisit time is locked to the period: some phases are never seen.
        s.push_str(&format!(
            "; never for {:.0}% of phases",
            (1.0 - p.eventually()) * 100.0
        ));
    }
    s
}

/// The sweep as planned, before it starts: steps and timing, then each band's revisit
/// time and probability of intercept.
pub fn sweep_plan(plan: &SweepPlan, pois: &[BandPoi], settle_from: &str) {
    let mut err = std::io::stderr().lock();
    let g = &plan.geometry;
    let kept = plan.steps.first().map_or(0, |s| s.keep.1 - s.keep.0);
    let _ = writeln!(
        err,
        "kuzet: sweep: {} steps over {} range(s), {}, at {}: {} of {} bins kept ({:.0}%)",
        plan.steps.len(),
        plan.ranges.len(),
        range_text(
            plan.steps.first().map_or(0.0, |s| s.own_lo_hz),
            plan.steps.last().map_or(0.0, |s| s.own_hi_hz)
        ),
        units::format_rate(g.rate_hz),
        kept,
        g.fft_len,
        100.0 * kept as f64 / g.fft_len as f64,
    );
    let _ = writeln!(
        err,
        "kuzet: sweep: dwell {} spectra ({} samples, {}), settle {} samples ({}, {settle_from}); \
         a cycle of {} visits takes {}: {:.3} GHz/s",
        g.dwell_spectra,
        g.history + g.dwell_spectra * g.span,
        secs((g.history + g.dwell_spectra * g.span) as f64 / g.rate_hz),
        g.settle_samples,
        secs(g.settle_samples as f64 / g.rate_hz),
        plan.cycle.len(),
        secs(plan.cycle_s()),
        plan.sweep_rate_hz_per_s() / 1e9,
    );
    for s in &plan.skipped {
        let _ = writeln!(err, "kuzet: sweep: not swept: {}", units::one_line(s));
    }
    let pulse = pois.first().map(|p| p.poi.pulse);
    if let Some(p) = pulse {
        let _ = writeln!(
            err,
            "kuzet: sweep: {:<21} {:<9} {:<21} POI for {}/{} pulses",
            "band",
            "priority",
            "revisit (worst)",
            secs(p.width_s),
            secs(p.period_s)
        );
    }
    for bp in pois {
        let b = &plan.bands[bp.band];
        let _ = writeln!(
            err,
            "kuzet: sweep: {:<21} {:<9} {:<21} {}",
            units::one_line(&b.name),
            format!("{:?}", b.priority).to_lowercase(),
            format!("{} ({})", secs(bp.revisit_s), secs(bp.worst_gap_s)),
            poi_text(&bp.poi),
        );
    }
}

/// What a sweep achieved: each band's measured revisit time next to the plan's and its
/// probability of intercept, the retunes, and how fast and at what CPU cost it swept.
pub fn sweep_summary(
    plan: &SweepPlan,
    pois: &[BandPoi],
    steps: &[StepStats],
    retunes: u64,
    discarded: u64,
    s: &RunStats,
    cpu_s: f64,
) {
    let mut err = std::io::stderr().lock();
    let wall = s.wall.as_secs_f64().max(1e-9);
    let swept_hz = swept_hz(plan, steps);
    let _ = writeln!(
        err,
        "kuzet: sweep: {retunes} retunes, {discarded} samples discarded while settling; \
         {:.3} GHz swept in {:.2} s of stream: {:.3} GHz/s of stream, {:.3} GHz/s of wall time{}",
        swept_hz / 1e9,
        s.stream_s,
        swept_hz / 1e9 / s.stream_s.max(1e-9),
        swept_hz / 1e9 / wall,
        if swept_hz > 0.0 {
            format!(
                "; CPU {cpu_s:.2} s: {:.2} CPU-s per GHz swept",
                cpu_s / (swept_hz / 1e9)
            )
        } else {
            String::new()
        },
    );
    let _ = writeln!(
        err,
        "kuzet: sweep: band                  revisit planned  measured  POI"
    );
    for bp in pois {
        let b = &plan.bands[bp.band];
        // The same step the plan's figure is for: the band's worst placed.
        let measured = steps.get(bp.step).and_then(StepStats::revisit_s);
        let _ = writeln!(
            err,
            "kuzet: sweep: {:<21} {:<16} {:<9} {}",
            units::one_line(&b.name),
            secs(bp.revisit_s),
            measured.map_or("-".into(), secs),
            poi_text(&bp.poi),
        );
    }
}
