//! Scoring: the alerts of a run against a capture's ground truth (`/annotations`), for
//! `kuzet score`. Pure functions; app.rs runs the pipeline and prints.
//!
//! ```text
//!  capture ──▶ pipeline::run ──Alert*──┐
//!     └── /annotations (truth) ────────┴──▶ score() ──▶ Score ──▶ table | JSON
//! ```
//!
//! An annotation is detected when an alert (any state change of it) was first seen while
//! the annotation was active — from half a second before its start (the tracker dates an
//! emitter from its first detection, which can lead the nominal switch-on by a frame) to
//! its end — at a frequency inside its band widened by two bins. For a jammer, whose
//! annotation is a wide band, any alert whose own band overlaps it counts. An alert that
//! matches no annotation is a false alert; health alerts (overrun, clipping, device) are
//! about the receiver and are left out of both.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::alert::{round_to, Alert, AlertKind, AlertState};
use crate::types::Annotation;

/// Seconds before an annotation's start in which an alert still counts for it.
pub const EARLY_S: f64 = 0.5;
/// Frequency tolerance around an annotation's band, in FFT bins.
pub const TOLERANCE_BINS: f64 = 2.0;

/// The alert kind an annotation should produce, from its `source`: `synth/hopper` →
/// hopping, `synth/jammer` → jamming, other `synth/` types → new_emitter; `None` (any
/// kind is right) for other sources.
pub fn expected_kind(source: &str) -> Option<AlertKind> {
    let kind = source.strip_prefix("synth/")?;
    Some(match kind {
        "hopper" => AlertKind::Hopping,
        "jammer" => AlertKind::Jamming,
        _ => AlertKind::NewEmitter,
    })
}

/// True for alerts about the receiver rather than the air.
pub fn is_health(kind: AlertKind) -> bool {
    matches!(
        kind,
        AlertKind::Overrun
            | AlertKind::Clipping
            | AlertKind::DeviceLost
            | AlertKind::DeviceRestored
            | AlertKind::RecordingStopped
    )
}

/// How one ground-truth emitter fared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmitterScore {
    /// The annotation's label (emitter name).
    pub label: String,
    /// The annotation's source (`synth/cw`, ...).
    pub source: String,
    /// Kind the emitter should raise (`None`: any).
    pub expected_kind: Option<AlertKind>,
    /// Start of the annotation, stream seconds.
    pub start_s: f64,
    /// End of the annotation, stream seconds.
    pub end_s: f64,
    /// Some alert matched it.
    pub detected: bool,
    /// Id of the alert credited (the best match).
    pub alert_id: Option<u64>,
    /// Kind of that alert.
    pub alert_kind: Option<AlertKind>,
    /// Whether that kind is the expected one (`None` when not detected).
    pub kind_correct: Option<bool>,
    /// Alert frequency minus the annotation's centre.
    pub freq_error_hz: Option<f64>,
    /// The same in FFT bins.
    pub freq_error_bins: Option<f64>,
    /// From the annotation's start to the alert being raised (negative: raised before the
    /// nominal start, within [`EARLY_S`]).
    pub time_to_alert_s: Option<f64>,
    /// Alerts (distinct ids) that matched it: more than one is a flood.
    pub alerts_matched: usize,
}

/// An alert that matched no annotation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FalseAlert {
    /// Alert id.
    pub id: u64,
    /// Its kind.
    pub kind: AlertKind,
    /// Centre frequency.
    pub freq_hz: f64,
    /// Bandwidth.
    pub bandwidth_hz: f64,
    /// First seen, stream seconds.
    pub first_seen_s: f64,
    /// Time it was raised, stream seconds.
    pub raised_s: f64,
}

/// The result of scoring one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    /// One row per annotation, in file order.
    pub emitters: Vec<EmitterScore>,
    /// Alerts that matched nothing.
    pub false_alerts: Vec<FalseAlert>,
    /// Annotations detected.
    pub detected: usize,
    /// Annotations.
    pub total: usize,
    /// `detected / total` (1 when there is no truth: nothing was missed).
    pub pd: f64,
    /// Detected with the expected kind.
    pub kind_correct: usize,
    /// Number of false alerts (the length of `false_alerts`, for readers of the JSON).
    pub false_alert_count: usize,
    /// False alerts per hour of stream time.
    pub false_alerts_per_hour: f64,
    /// Stream time scored, seconds.
    pub stream_s: f64,
    /// FFT bin width used for the tolerance and the errors in bins.
    pub bin_hz: f64,
}

/// One alert's lifecycle reduced to what scoring needs.
#[derive(Debug, Clone, Copy)]
struct Life {
    id: u64,
    kind: AlertKind,
    first_seen_s: f64,
    raised_s: f64,
    freq_hz: f64,
    bandwidth_hz: f64,
}

/// Collapses state changes into one entry per alert id, from its `raised` line (what the
/// operator saw first); an id whose raise is missing uses its first line.
fn lives(alerts: &[Alert]) -> Vec<Life> {
    let mut by_id: BTreeMap<u64, Life> = BTreeMap::new();
    for a in alerts.iter().filter(|a| !is_health(a.kind)) {
        let life = Life {
            id: a.id,
            kind: a.kind,
            first_seen_s: a.first_seen_s,
            raised_s: a.last_seen_s,
            freq_hz: a.freq_hz,
            bandwidth_hz: a.bandwidth_hz,
        };
        by_id
            .entry(a.id)
            .and_modify(|l| {
                if a.state == AlertState::Raised {
                    *l = life;
                }
            })
            .or_insert(life);
    }
    by_id.into_values().collect()
}

/// Scores `alerts` (every state change of a run) against the ground truth `truth` of a
/// stream at `sample_rate_hz`, with spectra of `bin_hz` bins, `stream_s` seconds long.
pub fn score(
    truth: &[Annotation],
    alerts: &[Alert],
    sample_rate_hz: f64,
    bin_hz: f64,
    stream_s: f64,
) -> Score {
    let lives = lives(alerts);
    let tol = TOLERANCE_BINS * bin_hz;
    let mut used = vec![false; lives.len()];
    let mut emitters = Vec::with_capacity(truth.len());
    for t in truth {
        let start_s = t.start_sample as f64 / sample_rate_hz;
        let end_s = (t.start_sample + t.length) as f64 / sample_rate_hz;
        let expected = expected_kind(&t.source);
        let (lo, hi) = (
            t.freq_lo_hz.min(t.freq_hi_hz),
            t.freq_lo_hz.max(t.freq_hi_hz),
        );
        let centre = (lo + hi) / 2.0;
        let matches = |l: &Life| {
            let in_time = l.first_seen_s >= start_s - EARLY_S && l.first_seen_s <= end_s;
            let in_freq = if expected == Some(AlertKind::Jamming) {
                let half = l.bandwidth_hz / 2.0;
                l.freq_hz - half <= hi + tol && l.freq_hz + half >= lo - tol
            } else {
                l.freq_hz >= lo - tol && l.freq_hz <= hi + tol
            };
            in_time && in_freq
        };
        let mut count = 0;
        for (l, u) in lives.iter().zip(used.iter_mut()) {
            if matches(l) {
                count += 1;
                *u = true;
            }
        }
        // Credit the expected kind first, then the earliest raise: that is the alert an
        // operator would have acted on.
        let best = lives.iter().filter(|l| matches(l)).min_by(|a, b| {
            let wrong = |l: &Life| expected.is_some_and(|k| k != l.kind);
            wrong(a)
                .cmp(&wrong(b))
                .then(a.raised_s.total_cmp(&b.raised_s))
        });
        let hit = best.copied();
        emitters.push(EmitterScore {
            label: t.label.clone(),
            source: t.source.clone(),
            expected_kind: expected,
            start_s,
            end_s,
            detected: hit.is_some(),
            alert_id: hit.map(|l| l.id),
            alert_kind: hit.map(|l| l.kind),
            kind_correct: hit.map(|l| expected.is_none_or(|k| k == l.kind)),
            // Rounded so that reports read well and compare exactly across runs.
            freq_error_hz: hit.map(|l| round_to(l.freq_hz - centre, 1)),
            freq_error_bins: hit.map(|l| round_to((l.freq_hz - centre) / bin_hz, 3)),
            time_to_alert_s: hit.map(|l| round_to(l.raised_s - start_s, 4)),
            alerts_matched: count,
        });
    }
    let false_alerts: Vec<FalseAlert> = lives
        .iter()
        .zip(&used)
        .filter(|(_, &u)| !u)
        .map(|(l, _)| FalseAlert {
            id: l.id,
            kind: l.kind,
            freq_hz: l.freq_hz,
            bandwidth_hz: l.bandwidth_hz,
            first_seen_s: l.first_seen_s,
            raised_s: l.raised_s,
        })
        .collect();
    let detected = emitters.iter().filter(|e| e.detected).count();
    let kind_correct = emitters
        .iter()
        .filter(|e| e.kind_correct == Some(true))
        .count();
    let total = emitters.len();
    Score {
        detected,
        total,
        pd: if total == 0 {
            1.0
        } else {
            detected as f64 / total as f64
        },
        kind_correct,
        false_alert_count: false_alerts.len(),
        false_alerts_per_hour: if stream_s > 0.0 {
            round_to(false_alerts.len() as f64 * 3600.0 / stream_s, 3)
        } else {
            0.0
        },
        false_alerts,
        emitters,
        stream_s,
        bin_hz,
    }
}

fn opt<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map(f).unwrap_or_else(|| "-".into())
}

impl Score {
    /// The summary line: `Pd = 3/4 (0.75), kind correct 3/4, 1 false alert (720.0/h) in 5.0 s`.
    pub fn summary(&self) -> String {
        format!(
            "Pd = {}/{} ({:.2}), kind correct {}/{}, {} false alert{} ({:.1}/h) in {:.1} s",
            self.detected,
            self.total,
            self.pd,
            self.kind_correct,
            self.total,
            self.false_alerts.len(),
            if self.false_alerts.len() == 1 {
                ""
            } else {
                "s"
            },
            self.false_alerts_per_hour,
            self.stream_s,
        )
    }

    /// The report for people: a table per emitter, the false alerts, the summary line.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<20} {:<7} {:<8} {:<12} {:<5} {:>10} {:>7} {:>8}",
            "emitter", "type", "detected", "alert", "kind", "df Hz", "df bins", "t alert"
        );
        for e in &self.emitters {
            let ty = e.source.strip_prefix("synth/").unwrap_or(&e.source);
            let _ = writeln!(
                s,
                "{:<20} {:<7} {:<8} {:<12} {:<5} {:>10} {:>7} {:>8}",
                e.label,
                ty,
                if e.detected { "yes" } else { "NO" },
                opt(e.alert_kind, |k| k.as_str().to_string()),
                opt(e.kind_correct, |c| if c { "ok" } else { "WRONG" }
                    .to_string()),
                opt(e.freq_error_hz, |v| format!("{v:.0}")),
                opt(e.freq_error_bins, |v| format!("{v:.2}")),
                opt(e.time_to_alert_s, |v| format!("{v:.3} s")),
            );
        }
        if self.false_alerts.is_empty() {
            let _ = writeln!(s, "\nno false alerts");
        } else {
            let _ = writeln!(s, "\nfalse alerts:");
            let _ = writeln!(
                s,
                "{:>6} {:<12} {:>16} {:>12} {:>10}",
                "id", "kind", "freq Hz", "bw Hz", "raised s"
            );
            for f in &self.false_alerts {
                let _ = writeln!(
                    s,
                    "{:>6} {:<12} {:>16.0} {:>12.0} {:>10.3}",
                    f.id,
                    f.kind.as_str(),
                    f.freq_hz,
                    f.bandwidth_hz,
                    f.raised_s
                );
            }
        }
        let _ = writeln!(s, "\n{}", self.summary());
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Severity;

    const RATE: f64 = 1e6;
    const BIN: f64 = 1000.0;

    fn ann(label: &str, kind: &str, start_s: f64, end_s: f64, lo: f64, hi: f64) -> Annotation {
        Annotation {
            start_sample: (start_s * RATE) as u64,
            length: ((end_s - start_s) * RATE) as u64,
            freq_lo_hz: lo,
            freq_hi_hz: hi,
            label: label.into(),
            source: format!("synth/{kind}"),
        }
    }

    fn alert(id: u64, kind: AlertKind, state: AlertState, t: (f64, f64), f: f64, bw: f64) -> Alert {
        Alert {
            id,
            kind,
            state,
            severity: Severity::Warning,
            first_seen_s: t.0,
            last_seen_s: t.1,
            freq_hz: f,
            bandwidth_hz: bw,
            power_dbfs: -40.0,
            snr_db: 10.0,
            band: None,
            evidence: None,
            activity: None,
        }
    }

    use AlertKind::*;
    use AlertState::*;

    #[test]
    fn a_cw_found_within_a_bin_is_detected_with_its_errors() {
        let truth = [ann("carrier", "cw", 1.0, 4.0, 100e6, 100e6)];
        let alerts = [
            alert(1, NewEmitter, Raised, (1.02, 1.05), 100e6 + 400.0, 2000.0),
            alert(1, NewEmitter, Cleared, (1.02, 4.0), 100e6 + 10.0, 2000.0),
        ];
        let s = score(&truth, &alerts, RATE, BIN, 10.0);
        assert_eq!((s.detected, s.total, s.kind_correct), (1, 1, 1));
        assert_eq!(s.pd, 1.0);
        let e = &s.emitters[0];
        assert_eq!(e.alert_id, Some(1));
        assert_eq!(e.kind_correct, Some(true));
        // Figures from the raise, not the clear.
        assert!((e.freq_error_hz.unwrap() - 400.0).abs() < 1e-6);
        assert!((e.freq_error_bins.unwrap() - 0.4).abs() < 1e-9);
        assert!((e.time_to_alert_s.unwrap() - 0.05).abs() < 1e-9);
        assert!(s.false_alerts.is_empty());
        assert!(s.summary().starts_with("Pd = 1/1"), "{}", s.summary());
    }

    #[test]
    fn time_and_frequency_windows() {
        let truth = [ann("fm", "fm", 2.0, 3.0, 100e6 - 6250.0, 100e6 + 6250.0)];
        let cases = [
            // (first_seen, freq, detected)
            (1.6, 100e6, true),           // within 0.5 s before the start
            (1.4, 100e6, false),          // too early
            (3.0, 100e6, true),           // at the end
            (3.1, 100e6, false),          // after the end
            (2.5, 100e6 + 8000.0, true),  // inside the band + 2 bins
            (2.5, 100e6 + 8500.0, false), // outside
            (2.5, 100e6 - 8250.0, true),  // lower edge - 2 bins
        ];
        for (t, f, want) in cases {
            let alerts = [alert(1, NewEmitter, Raised, (t, t + 0.03), f, 5000.0)];
            let s = score(&truth, &alerts, RATE, BIN, 10.0);
            assert_eq!(s.emitters[0].detected, want, "t {t} f {f}");
            assert_eq!(s.false_alerts.len(), usize::from(!want), "t {t} f {f}");
        }
    }

    #[test]
    fn hopper_and_jammer_kinds() {
        let truth = [
            ann("rc", "hopper", 1.0, 5.0, 99e6, 101e6),
            ann("jam", "jammer", 6.0, 8.0, 99.5e6, 100.5e6),
        ];
        let alerts = [
            // The hopper's bursts first raise new_emitter, then the hopping alert.
            alert(1, NewEmitter, Raised, (1.01, 1.04), 99.3e6, 100e3),
            alert(2, Hopping, Raised, (1.0, 1.6), 100e6, 2e6),
            // The jammer alert's centre is outside its band, but its band overlaps.
            alert(3, Jamming, Raised, (6.1, 6.3), 101e6, 1.2e6),
        ];
        let s = score(&truth, &alerts, RATE, BIN, 3600.0);
        let rc = &s.emitters[0];
        assert!(rc.detected);
        assert_eq!(rc.alert_kind, Some(Hopping), "the expected kind wins");
        assert_eq!(rc.kind_correct, Some(true));
        assert_eq!(rc.alerts_matched, 2);
        let jam = &s.emitters[1];
        assert_eq!(jam.alert_kind, Some(Jamming));
        assert!(s.false_alerts.is_empty());
        assert_eq!(s.kind_correct, 2);
    }

    #[test]
    fn a_wrong_kind_is_detected_but_not_correct() {
        let truth = [ann("rc", "hopper", 1.0, 5.0, 99e6, 101e6)];
        let alerts = [alert(1, NewEmitter, Raised, (1.01, 1.04), 99.3e6, 100e3)];
        let s = score(&truth, &alerts, RATE, BIN, 10.0);
        assert_eq!(s.detected, 1);
        assert_eq!(s.kind_correct, 0);
        assert_eq!(s.emitters[0].kind_correct, Some(false));
        assert!(s.table().contains("WRONG"));
    }

    #[test]
    fn misses_false_alerts_and_rates() {
        let truth = [
            ann("a", "cw", 0.0, 10.0, 100e6, 100e6),
            ann("b", "cw", 0.0, 10.0, 100.2e6, 100.2e6),
        ];
        let alerts = [
            alert(1, NewEmitter, Raised, (0.1, 0.13), 100e6, 1000.0),
            alert(2, NewEmitter, Raised, (5.0, 5.03), 100.4e6, 1000.0),
            alert(2, NewEmitter, Cleared, (5.0, 9.0), 100.4e6, 1000.0),
            // Health alerts are neither detections nor false alerts.
            alert(3, Overrun, Raised, (2.0, 2.0), 100.2e6, 0.0),
        ];
        let s = score(&truth, &alerts, RATE, BIN, 1800.0);
        assert_eq!((s.detected, s.total), (1, 2));
        assert!((s.pd - 0.5).abs() < 1e-12);
        assert!(!s.emitters[1].detected);
        assert_eq!(s.emitters[1].kind_correct, None);
        assert_eq!(s.false_alerts.len(), 1);
        assert_eq!(s.false_alert_count, 1);
        assert_eq!(s.false_alerts[0].id, 2);
        assert!((s.false_alerts_per_hour - 2.0).abs() < 1e-9);
        let table = s.table();
        assert!(
            table.contains("NO") && table.contains("false alerts:"),
            "{table}"
        );
        assert!(table.trim_end().ends_with(&s.summary()));
    }

    #[test]
    fn other_sources_accept_any_kind() {
        let truth = [Annotation {
            source: "kuzet/alert".into(),
            ..ann("x", "cw", 0.0, 1.0, 100e6, 100e6)
        }];
        let alerts = [alert(1, PowerChange, Raised, (0.2, 0.3), 100e6, 1000.0)];
        let s = score(&truth, &alerts, RATE, BIN, 1.0);
        assert_eq!(s.emitters[0].expected_kind, None);
        assert_eq!(s.emitters[0].kind_correct, Some(true));
        assert_eq!(expected_kind("synth/gfsk"), Some(NewEmitter));
        assert_eq!(expected_kind("recorder"), None);
    }

    #[test]
    fn no_truth_and_no_alerts() {
        let s = score(&[], &[], RATE, BIN, 0.0);
        assert_eq!((s.detected, s.total, s.pd), (0, 0, 1.0));
        assert_eq!(s.false_alerts_per_hour, 0.0);
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["pd"], 1.0);
        assert!(v["emitters"].as_array().unwrap().is_empty());
    }
}
