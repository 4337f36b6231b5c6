//! Scoring a session: per injection, the detector (a matching alert, how long after the
//! injection began) and the trainee (a verdict on a matching alert, how long after the
//! alert, which, before the deadline or not); false calls; misses; a total. Pure: the
//! same session log and known emitters always give the same report.
//!
//! Matching reuses [`crate::eval::score`]: an alert matches an injection when it was first
//! seen (in exercise time) while the injection was on, at a frequency inside its band
//! widened by two FFT bins. The rules of the total are in docs/exercises.md.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::session::{Session, TimeMap};
use crate::alert::{round_to, Alert, AlertKind, AlertState};
use crate::eval::score::{self, is_health};
use crate::sinks::session_log::{AckLine, InjectionInfo, Line, SessionMode, Verdict};
use crate::types::Annotation;

/// Points for the right verdict before the deadline.
pub const POINTS_IN_TIME: f64 = 1.0;
/// Points for the right verdict after it.
pub const POINTS_LATE: f64 = 0.5;
/// Points taken off for each false call.
pub const FALSE_CALL_PENALTY: f64 = 0.5;

/// How the trainee did on one injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The expected verdict, in time.
    Correct,
    /// The expected verdict, after the deadline.
    Late,
    /// The other verdict.
    Wrong,
    /// Acknowledged as unsure.
    Unsure,
    /// Alerted, never acknowledged.
    Missed,
    /// kuzet raised no matching alert: not the trainee's to score.
    NotAlerted,
}

impl Outcome {
    /// The name in the table and the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Correct => "correct",
            Outcome::Late => "late",
            Outcome::Wrong => "wrong",
            Outcome::Unsure => "unsure",
            Outcome::Missed => "missed",
            Outcome::NotAlerted => "not_alerted",
        }
    }
}

/// One injection's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InjectionScore {
    /// Its name.
    pub name: String,
    /// Emitter type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The right verdict.
    pub expect: Verdict,
    /// On, exercise seconds.
    pub start_s: f64,
    /// Off, exercise seconds.
    pub stop_s: f64,
    /// Centre frequency.
    pub freq_hz: f64,
    /// Seconds from its first airing within which a verdict is in time.
    pub deadline_s: f64,
    /// Stream time at which it first went on the air (none: the trainee seeked past it).
    pub on_air_stream_s: Option<f64>,
    /// kuzet raised a matching alert.
    pub detected: bool,
    /// The alert credited to the detector (the expected kind first, then the earliest).
    pub alert_id: Option<u64>,
    /// Its kind.
    pub alert_kind: Option<AlertKind>,
    /// The kind is the one this emitter type should raise.
    pub kind_correct: Option<bool>,
    /// From the injection's start to that alert's raise, exercise seconds.
    pub time_to_alert_s: Option<f64>,
    /// The trainee's first verdict on a matching alert.
    pub verdict: Option<Verdict>,
    /// The alert it was given on.
    pub verdict_alert_id: Option<u64>,
    /// When, stream seconds.
    pub verdict_stream_s: Option<f64>,
    /// From that alert's raise to the verdict, stream seconds (a pause stops this clock).
    pub time_to_verdict_s: Option<f64>,
    /// Before `on_air_stream_s + deadline_s`.
    pub in_time: Option<bool>,
    /// The trainee's note.
    pub note: Option<String>,
    /// The result.
    pub outcome: Outcome,
    /// Its points.
    pub points: f64,
}

/// A verdict on an alert that matched no injection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Call {
    /// The alert.
    pub alert_id: u64,
    /// Its kind (when the log has the alert).
    pub alert_kind: Option<AlertKind>,
    /// Its frequency.
    pub freq_hz: Option<f64>,
    /// The verdict.
    pub verdict: Verdict,
    /// When, stream seconds.
    pub stream_s: f64,
    /// When, exercise seconds.
    pub exercise_s: f64,
}

/// The report on one session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionReport {
    /// Exercise name.
    pub exercise: String,
    /// Trainee.
    pub trainee: String,
    /// The session log.
    pub session: String,
    /// Console or scripted.
    pub mode: SessionMode,
    /// kuzet version that ran the session.
    pub kuzet: String,
    /// Length of the exercise, seconds.
    pub duration_s: f64,
    /// Stream time the session lasted.
    pub stream_s: f64,
    /// One row per injection, in the exercise's order.
    pub injections: Vec<InjectionScore>,
    /// `threat` verdicts on alerts that match no injection and no known emitter.
    pub false_calls: Vec<Call>,
    /// Verdicts on alerts of the base's known emitters: real air has no truth, so they
    /// are listed, not graded.
    pub known_calls: Vec<Call>,
    /// `benign`/`unsure` verdicts on alerts that match nothing: not graded.
    pub other_calls: Vec<Call>,
    /// Injections kuzet alerted on.
    pub detected: usize,
    /// Injections.
    pub total: usize,
    /// Points earned (before the false-call penalty).
    pub points: f64,
    /// Points possible: one per injection kuzet alerted on.
    pub max_points: f64,
    /// `max(0, points − 0.5 × false calls) / max_points`, percent; none when kuzet
    /// alerted on nothing.
    pub score_pct: Option<f64>,
    /// Injections alerted on and never acknowledged.
    pub misses: usize,
    /// Number of false calls.
    pub false_call_count: usize,
    /// Mean time from alert to verdict over the injections with one.
    pub mean_time_to_verdict_s: Option<f64>,
    /// Pauses the trainee took.
    pub pauses: usize,
    /// Seeks (and loops) in the session.
    pub seeks: usize,
}

fn truth_of(i: &InjectionInfo, rate: f64) -> Annotation {
    let start = (i.start_s * rate).round() as u64;
    Annotation {
        start_sample: start,
        length: ((i.stop_s * rate).round() as u64).saturating_sub(start),
        freq_lo_hz: i.freq_lo_hz,
        freq_hi_hz: i.freq_hi_hz,
        label: i.name.clone(),
        source: format!("synth/{}", i.kind),
    }
}

/// Scores `session` against its injections; `known` are the base's own emitters as
/// time-frequency boxes in exercise samples (its annotations, and the alerts the same
/// pipeline raises on the base alone).
pub fn score(session: &Session, known: &[Annotation]) -> SessionReport {
    let h = &session.header;
    let rate = h.exercise.sample_rate_hz;
    let bin_hz = rate / h.exercise.fft_len.max(1) as f64;
    let map: TimeMap = session.time_map();
    let alerts = session.alerts();
    // Each alert's raise (what the trainee saw first), in stream and in exercise time.
    let mut raised: BTreeMap<u64, Alert> = BTreeMap::new();
    for a in alerts.iter().filter(|a| !is_health(a.kind)) {
        if a.state == AlertState::Raised || !raised.contains_key(&a.id) {
            raised.insert(a.id, a.clone());
        }
    }
    let in_exercise = |a: &Alert| Alert {
        first_seen_s: map.exercise_s(a.first_seen_s),
        last_seen_s: map.exercise_s(a.last_seen_s),
        ..a.clone()
    };
    let mapped: Vec<Alert> = alerts.iter().map(in_exercise).collect();
    let truth: Vec<Annotation> = h.injections.iter().map(|i| truth_of(i, rate)).collect();
    let detector = score::score(&truth, &mapped, rate, bin_hz, h.exercise.duration_s);
    let matches = |t: &Annotation, a: &Alert| {
        score::matches(
            t,
            map.exercise_s(a.first_seen_s),
            a.freq_hz,
            a.bandwidth_hz,
            rate,
            bin_hz,
        )
    };
    let acks: Vec<AckLine> = session.acks();
    let mut injections = Vec::with_capacity(truth.len());
    for ((info, t), det) in h.injections.iter().zip(&truth).zip(&detector.emitters) {
        let ids: Vec<u64> = raised
            .values()
            .filter(|a| matches(t, a))
            .map(|a| a.id)
            .collect();
        let on_air = map.first_on_air(info.start_s, info.stop_s);
        let ack = acks
            .iter()
            .find(|k| k.alert_id.is_some_and(|id| ids.contains(&id)));
        let time_to_verdict = ack.and_then(|k| {
            let a = raised.get(&k.alert_id?)?;
            Some(round_to(k.stream_s - a.last_seen_s, 3))
        });
        let in_time = ack.map(|k| on_air.is_some_and(|o| k.stream_s <= o + info.deadline_s + 1e-9));
        let outcome = match (ids.is_empty(), ack) {
            (true, _) => Outcome::NotAlerted,
            (false, None) => Outcome::Missed,
            (false, Some(k)) if k.verdict == Verdict::Unsure => Outcome::Unsure,
            (false, Some(k)) if k.verdict != info.expect => Outcome::Wrong,
            (false, Some(_)) if in_time == Some(true) => Outcome::Correct,
            (false, Some(_)) => Outcome::Late,
        };
        let points = match outcome {
            Outcome::Correct => POINTS_IN_TIME,
            Outcome::Late => POINTS_LATE,
            _ => 0.0,
        };
        injections.push(InjectionScore {
            name: info.name.clone(),
            kind: info.kind.clone(),
            expect: info.expect,
            start_s: info.start_s,
            stop_s: info.stop_s,
            freq_hz: info.freq_hz,
            deadline_s: info.deadline_s,
            on_air_stream_s: on_air.map(|o| round_to(o, 3)),
            detected: !ids.is_empty(),
            alert_id: det.alert_id,
            alert_kind: det.alert_kind,
            kind_correct: det.kind_correct,
            time_to_alert_s: det.time_to_alert_s.map(|v| round_to(v, 3)),
            verdict: ack.map(|k| k.verdict),
            verdict_alert_id: ack.and_then(|k| k.alert_id),
            verdict_stream_s: ack.map(|k| round_to(k.stream_s, 3)),
            time_to_verdict_s: time_to_verdict,
            in_time,
            note: ack.and_then(|k| k.note.clone()),
            outcome,
            points,
        });
    }
    // Verdicts on alerts that matched no injection.
    let (mut false_calls, mut known_calls, mut other_calls) = (Vec::new(), Vec::new(), Vec::new());
    for k in &acks {
        let Some(id) = k.alert_id else { continue };
        let alert = raised.get(&id);
        if alert.is_some_and(|a| truth.iter().any(|t| matches(t, a))) {
            continue;
        }
        let call = Call {
            alert_id: id,
            alert_kind: alert.map(|a| a.kind).or(k.alert_kind),
            freq_hz: alert.map(|a| a.freq_hz).or(k.alert_freq_hz),
            verdict: k.verdict,
            stream_s: round_to(k.stream_s, 3),
            exercise_s: round_to(map.exercise_s(k.stream_s), 3),
        };
        if alert.is_some_and(|a| known.iter().any(|t| matches(t, a))) {
            known_calls.push(call);
        } else if k.verdict == Verdict::Threat {
            false_calls.push(call);
        } else {
            other_calls.push(call);
        }
    }
    let detected = injections.iter().filter(|i| i.detected).count();
    let points: f64 = injections.iter().map(|i| i.points).sum();
    let max_points = detected as f64 * POINTS_IN_TIME;
    let times: Vec<f64> = injections
        .iter()
        .filter_map(|i| i.time_to_verdict_s)
        .collect();
    SessionReport {
        exercise: h.exercise.name.clone(),
        trainee: h.trainee.clone(),
        session: session.path.display().to_string(),
        mode: h.mode,
        kuzet: h.kuzet.clone(),
        duration_s: h.exercise.duration_s,
        stream_s: round_to(session.end_stream_s(), 3),
        total: injections.len(),
        detected,
        misses: injections
            .iter()
            .filter(|i| i.outcome == Outcome::Missed)
            .count(),
        points,
        max_points,
        score_pct: (max_points > 0.0).then(|| {
            round_to(
                100.0 * (points - FALSE_CALL_PENALTY * false_calls.len() as f64).max(0.0)
                    / max_points,
                1,
            )
        }),
        false_call_count: false_calls.len(),
        mean_time_to_verdict_s: (!times.is_empty())
            .then(|| round_to(times.iter().sum::<f64>() / times.len() as f64, 3)),
        pauses: session.count(|l| matches!(l, Line::Pause(_))),
        seeks: session.count(|l| matches!(l, Line::Seek(_))),
        injections,
        false_calls,
        known_calls,
        other_calls,
    }
}

fn opt<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map(f).unwrap_or_else(|| "-".into())
}

fn secs(v: Option<f64>) -> String {
    opt(v, |x| format!("{x:.3} s"))
}

impl SessionReport {
    /// `72.5%`, or `-` when there was nothing to score.
    pub fn score_text(&self) -> String {
        opt(self.score_pct, |p| format!("{p:.1}%"))
    }

    /// The last line of the table.
    pub fn summary(&self) -> String {
        format!(
            "score {} ({} of {} points, {} false call{} at -{FALSE_CALL_PENALTY}) · detector {}/{} · misses {} · mean time to verdict {} · pauses {} · seeks {}",
            self.score_text(),
            self.points,
            self.max_points,
            self.false_call_count,
            if self.false_call_count == 1 { "" } else { "s" },
            self.detected,
            self.total,
            self.misses,
            secs(self.mean_time_to_verdict_s),
            self.pauses,
            self.seeks,
        )
    }

    /// The report for people.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "exercise {} · trainee {} · {} session · {:.1} s of exercise, {:.1} s of stream",
            crate::units::one_line(&self.exercise),
            crate::units::one_line(&self.trainee),
            match self.mode {
                SessionMode::Console => "console",
                SessionMode::Scripted => "scripted",
            },
            self.duration_s,
            self.stream_s
        );
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:<16} {:<7} {:<7} {:<12} {:>9} {:<7} {:>10} {:<7} {:<11} {:>6}",
            "injection",
            "type",
            "expect",
            "alert",
            "t alert",
            "verdict",
            "t verdict",
            "in time",
            "outcome",
            "points"
        );
        for i in &self.injections {
            let _ = writeln!(
                s,
                "{:<16} {:<7} {:<7} {:<12} {:>9} {:<7} {:>10} {:<7} {:<11} {:>6.1}",
                crate::units::one_line(&i.name),
                i.kind,
                i.expect.as_str(),
                opt(i.alert_kind, |k| k.as_str().to_string()),
                secs(i.time_to_alert_s),
                opt(i.verdict, |v| v.as_str().to_string()),
                secs(i.time_to_verdict_s),
                opt(i.in_time, |b| if b { "yes" } else { "no" }.to_string()),
                i.outcome.as_str(),
                i.points,
            );
        }
        let _ = writeln!(s);
        if self.false_calls.is_empty() {
            let _ = writeln!(s, "no false calls");
        } else {
            let _ = writeln!(
                s,
                "false calls (threat on an alert that matches no injection and no known emitter):"
            );
            for c in &self.false_calls {
                let _ = writeln!(
                    s,
                    "  alert {:<5} {:<12} {:>12} MHz at {:.3} s",
                    c.alert_id,
                    opt(c.alert_kind, |k| k.as_str().to_string()),
                    opt(c.freq_hz, |f| format!("{:.6}", f / 1e6)),
                    c.exercise_s
                );
            }
        }
        if !self.known_calls.is_empty() || !self.other_calls.is_empty() {
            let _ = writeln!(
                s,
                "not graded: {} verdict(s) on the base's known emitters, {} benign/unsure on other alerts",
                self.known_calls.len(),
                self.other_calls.len()
            );
        }
        let _ = writeln!(s, "\n{}", self.summary());
        s
    }
}

/// One trainee's row in the instructor's view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassRow {
    /// Trainee.
    pub trainee: String,
    /// The session log.
    pub session: String,
    /// As [`SessionReport::score_pct`].
    pub score_pct: Option<f64>,
    /// Points earned.
    pub points: f64,
    /// Points possible.
    pub max_points: f64,
    /// As [`SessionReport::mean_time_to_verdict_s`].
    pub mean_time_to_verdict_s: Option<f64>,
    /// Missed injections.
    pub misses: usize,
    /// False calls.
    pub false_calls: usize,
    /// Pauses.
    pub pauses: usize,
    /// Seeks.
    pub seeks: usize,
}

impl From<&SessionReport> for ClassRow {
    fn from(r: &SessionReport) -> Self {
        ClassRow {
            trainee: r.trainee.clone(),
            session: r.session.clone(),
            score_pct: r.score_pct,
            points: r.points,
            max_points: r.max_points,
            mean_time_to_verdict_s: r.mean_time_to_verdict_s,
            misses: r.misses,
            false_calls: r.false_call_count,
            pauses: r.pauses,
            seeks: r.seeks,
        }
    }
}

/// The instructor's view: one row per session, in the order given.
pub fn class_table(exercise: &str, rows: &[ClassRow]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "exercise {} · {} session(s)\n",
        crate::units::one_line(exercise),
        rows.len()
    );
    let _ = writeln!(
        s,
        "{:<20} {:>7} {:>9} {:>15} {:>6} {:>11} {:>6} {:>5}",
        "trainee", "score", "points", "mean t verdict", "misses", "false calls", "pauses", "seeks"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "{:<20} {:>7} {:>9} {:>15} {:>6} {:>11} {:>6} {:>5}",
            crate::units::one_line(&r.trainee),
            opt(r.score_pct, |p| format!("{p:.1}%")),
            format!("{}/{}", r.points, r.max_points),
            secs(r.mean_time_to_verdict_s),
            r.misses,
            r.false_calls,
            r.pauses,
            r.seeks
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Severity;
    use crate::sinks::session_log::{AlertLine, ExerciseInfo, Header, Mark, SeekLine};

    const RATE: f64 = 250e3;

    fn header(injections: Vec<InjectionInfo>) -> Header {
        Header {
            schema: 1,
            kuzet: "0.1.0".into(),
            mode: SessionMode::Scripted,
            trainee: "ana".into(),
            started_utc: String::new(),
            exercise: ExerciseInfo {
                path: "x.toml".into(),
                name: "x".into(),
                hash: "0".into(),
                base: "b.h5".into(),
                duration_s: 30.0,
                sample_rate_hz: RATE,
                center_freq_hz: 433.92e6,
                floor_dbfs_hz: -100.0,
                fft_len: 1024,
                seed: 0,
            },
            injections,
            actions: None,
        }
    }

    fn inj(
        name: &str,
        kind: &str,
        f: f64,
        bw: f64,
        t: (f64, f64),
        expect: Verdict,
    ) -> InjectionInfo {
        InjectionInfo {
            name: name.into(),
            kind: kind.into(),
            freq_hz: f,
            freq_lo_hz: f - bw / 2.0,
            freq_hi_hz: f + bw / 2.0,
            start_s: t.0,
            stop_s: t.1,
            snr_db: 20.0,
            expect,
            deadline_s: 5.0,
        }
    }

    fn alert_line(id: u64, kind: AlertKind, t: f64, f: f64, bw: f64) -> Line {
        Line::Alert(AlertLine {
            stream_s: t,
            utc: String::new(),
            alert: Alert {
                id,
                kind,
                state: AlertState::Raised,
                severity: Severity::Warning,
                first_seen_s: t - 0.05,
                last_seen_s: t,
                freq_hz: f,
                bandwidth_hz: bw,
                power_dbfs: -40.0,
                snr_db: 20.0,
                band: None,
                evidence: None,
                activity: None,
            },
        })
    }

    fn ack(t: f64, id: u64, v: Verdict) -> Line {
        Line::Ack(AckLine {
            stream_s: t,
            utc: String::new(),
            alert_id: Some(id),
            alert_kind: None,
            alert_freq_hz: None,
            verdict: v,
            note: None,
        })
    }

    fn session(injections: Vec<InjectionInfo>, lines: Vec<Line>) -> Session {
        Session {
            path: "s.jsonl".into(),
            header: header(injections),
            lines,
        }
    }

    #[test]
    fn each_outcome_and_the_total() {
        let f = 433.92e6;
        let injections = vec![
            inj("rc", "hopper", f, 150e3, (2.0, 10.0), Verdict::Threat),
            inj("late", "gfsk", f + 60e3, 20e3, (4.0, 12.0), Verdict::Threat),
            inj("wrong", "cw", f - 60e3, 0.0, (4.0, 12.0), Verdict::Benign),
            inj(
                "unsure",
                "fm",
                f + 90e3,
                12.5e3,
                (6.0, 12.0),
                Verdict::Threat,
            ),
            inj("missed", "cw", f - 90e3, 0.0, (6.0, 12.0), Verdict::Threat),
            inj("silent", "cw", f - 100e3, 0.0, (6.0, 12.0), Verdict::Threat),
        ];
        let lines = vec![
            alert_line(1, AlertKind::NewEmitter, 2.1, f + 30e3, 10e3),
            alert_line(2, AlertKind::Hopping, 2.4, f, 150e3),
            alert_line(3, AlertKind::NewEmitter, 4.1, f + 60e3, 20e3),
            alert_line(4, AlertKind::NewEmitter, 4.1, f - 60e3, 500.0),
            alert_line(5, AlertKind::NewEmitter, 6.2, f + 90e3, 12e3),
            alert_line(6, AlertKind::NewEmitter, 6.2, f - 90e3, 500.0),
            // Matches nothing: noise, and a known emitter of the base.
            alert_line(7, AlertKind::NewEmitter, 8.0, f + 110e3, 1e3),
            alert_line(8, AlertKind::NewEmitter, 8.0, f - 115e3, 1e3),
            ack(3.4, 2, Verdict::Threat),
            ack(10.0, 3, Verdict::Threat), // 6 s after 4.0 with a 5 s deadline
            ack(5.0, 4, Verdict::Threat),
            ack(7.0, 5, Verdict::Unsure),
            ack(9.0, 7, Verdict::Threat),
            ack(9.5, 8, Verdict::Threat),
            Line::Pause(Mark {
                stream_s: 9.6,
                utc: String::new(),
            }),
        ];
        let known = [Annotation {
            start_sample: 0,
            length: (30.0 * RATE) as u64,
            freq_lo_hz: f - 115.5e3,
            freq_hi_hz: f - 114.5e3,
            label: "beacon".into(),
            source: "kuzet/alert".into(),
        }];
        let r = score(&session(injections, lines), &known);
        let outcomes: Vec<Outcome> = r.injections.iter().map(|i| i.outcome).collect();
        use Outcome::*;
        assert_eq!(outcomes, [Correct, Late, Wrong, Unsure, Missed, NotAlerted]);
        let rc = &r.injections[0];
        assert_eq!(
            rc.alert_kind,
            Some(AlertKind::Hopping),
            "the expected kind is credited"
        );
        assert_eq!(rc.time_to_verdict_s, Some(1.0));
        assert_eq!(rc.time_to_alert_s, Some(0.4));
        assert_eq!(rc.in_time, Some(true));
        assert_eq!(r.injections[1].in_time, Some(false));
        assert_eq!((r.detected, r.total, r.misses), (5, 6, 1));
        assert_eq!((r.points, r.max_points), (1.5, 5.0));
        assert_eq!(r.false_call_count, 1);
        assert_eq!(r.false_calls[0].alert_id, 7);
        assert_eq!(r.known_calls.len(), 1);
        // (1.5 - 0.5) / 5.
        assert_eq!(r.score_pct, Some(20.0));
        assert_eq!(r.pauses, 1);
        let table = r.table();
        assert!(
            !table.contains("no false calls") && table.contains("alert 7"),
            "{table}"
        );
        assert!(table.trim_end().ends_with(&r.summary()));
        let row = ClassRow::from(&r);
        let class = class_table("x", &[row]);
        assert!(
            class.contains("ana") && class.contains("20.0%") && class.contains("1.5/5"),
            "{class}"
        );
    }

    #[test]
    fn a_seek_back_maps_alerts_and_the_deadline_runs_from_the_first_airing() {
        let f = 433.92e6;
        let injections = vec![inj("burst", "gfsk", f, 20e3, (4.0, 8.0), Verdict::Threat)];
        // The trainee played 0..3, seeked to 10 (past it), then back to 3 at stream 5:
        // the burst airs at stream 6 (exercise 4); its alert at stream 6.3.
        let seek = |t: f64, to: f64| {
            Line::Seek(SeekLine {
                stream_s: t,
                stream_sample: Some((t * RATE) as u64),
                utc: String::new(),
                from_s: None,
                to_s: to,
            })
        };
        let lines = vec![
            seek(3.0, 10.0),
            seek(5.0, 3.0),
            alert_line(1, AlertKind::NewEmitter, 6.3, f, 20e3),
            ack(10.5, 1, Verdict::Threat),
        ];
        let r = score(&session(injections, lines), &[]);
        let i = &r.injections[0];
        assert_eq!(i.on_air_stream_s, Some(6.0));
        assert!(i.detected);
        assert_eq!(i.time_to_alert_s, Some(0.3), "in exercise time");
        assert_eq!(i.time_to_verdict_s, Some(4.2), "in stream time");
        assert_eq!(i.in_time, Some(true), "10.5 <= 6 + 5");
        assert_eq!(r.seeks, 2);
    }
}
