//! Session logs read back, and actions files: what a report scores and what a scripted
//! session replays. The line schema is [`crate::sinks::session_log`]'s; an actions file
//! is a session log's action lines (`ack`, `seek`, `pause`, `resume`, `step`, `speed`,
//! `loop`), so a session log is itself an actions file (re-scoring a trainee replays
//! their log).
//!
//! Time: `stream_s` is the pipeline's clock, which keeps counting across seeks; exercise
//! time is the position in the exercise. [`TimeMap`] turns one into the other from the
//! log's `seek` lines.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use crate::alert::{Alert, AlertState};
use crate::error::{Error, Result};
use crate::eval::score::is_health;
use crate::sinks::session_log::{now_utc, AckLine, Header, Line, SeekLine, SCHEMA};

/// A session log read back.
#[derive(Debug, Clone)]
pub struct Session {
    /// The file.
    pub path: PathBuf,
    /// Its first line.
    pub header: Header,
    /// Every later line, in file order.
    pub lines: Vec<Line>,
}

fn read_lines(path: &Path) -> Result<Vec<(usize, Line)>> {
    let text = crate::formats::require_regular(path)
        .and_then(|()| std::fs::read_to_string(path))
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let mut out = Vec::new();
    for (n, l) in text.lines().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        let line: Line = serde_json::from_str(l).map_err(|e| Error::InvalidFile {
            path: path.to_path_buf(),
            msg: format!("line {}: {e}", n + 1),
        })?;
        out.push((n + 1, line));
    }
    Ok(out)
}

impl Session {
    /// Reads a session log.
    ///
    /// # Errors
    /// [`Error::Io`]; [`Error::InvalidFile`] naming the line of a line that is not a
    /// session line, or when the first line is not the header.
    pub fn read(path: &Path) -> Result<Session> {
        let mut lines = read_lines(path)?.into_iter();
        let invalid = |msg: String| Error::InvalidFile {
            path: path.to_path_buf(),
            msg,
        };
        let header = match lines.next() {
            Some((_, Line::Session(h))) => *h,
            Some((n, _)) => {
                return Err(invalid(format!(
                    "line {n}: a session log starts with its `session` header line"
                )))
            }
            None => return Err(invalid("empty: not a session log".into())),
        };
        if header.schema > SCHEMA {
            return Err(invalid(format!(
                "line 1: schema {} is newer than this kuzet reads ({SCHEMA})",
                header.schema
            )));
        }
        Ok(Session {
            path: path.to_path_buf(),
            header,
            lines: lines.map(|(_, l)| l).collect(),
        })
    }

    /// Every alert state change, in file order.
    pub fn alerts(&self) -> Vec<Alert> {
        self.lines
            .iter()
            .filter_map(|l| match l {
                Line::Alert(a) => Some(a.alert.clone()),
                _ => None,
            })
            .collect()
    }

    /// The acknowledgements, in stream order.
    pub fn acks(&self) -> Vec<AckLine> {
        let mut v: Vec<AckLine> = self
            .lines
            .iter()
            .filter_map(|l| match l {
                Line::Ack(a) => Some(a.clone()),
                _ => None,
            })
            .collect();
        v.sort_by(|a, b| a.stream_s.total_cmp(&b.stream_s));
        v
    }

    /// Lines of a kind, counted (`pause`, `seek`, ...).
    pub fn count(&self, is: impl Fn(&Line) -> bool) -> usize {
        self.lines.iter().filter(|l| is(l)).count()
    }

    /// Stream time at the end of the session: its `end` line, else its last line.
    pub fn end_stream_s(&self) -> f64 {
        self.lines
            .iter()
            .rev()
            .find_map(|l| match l {
                Line::End(e) => Some(e.stream_s),
                _ => None,
            })
            .unwrap_or_else(|| self.lines.iter().map(Line::stream_s).fold(0.0, f64::max))
    }

    /// The map from stream time to exercise time.
    pub fn time_map(&self) -> TimeMap {
        let rate = self.header.exercise.sample_rate_hz;
        let jumps = self
            .lines
            .iter()
            .filter_map(|l| match l {
                Line::Seek(s) => Some(seek_stream_s(s, rate)),
                _ => None,
            })
            .collect();
        TimeMap::new(jumps, self.end_stream_s(), self.header.exercise.duration_s)
    }
}

fn seek_stream_s(s: &SeekLine, rate: f64) -> (f64, f64) {
    let at = s.stream_sample.map_or(s.stream_s, |n| n as f64 / rate);
    (at, s.to_s)
}

/// Stream time to exercise time: the stream plays the exercise from 0 and jumps at each
/// seek.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeMap {
    /// (stream time, exercise time it jumped to), in stream order.
    jumps: Vec<(f64, f64)>,
    end_stream_s: f64,
    duration_s: f64,
}

impl TimeMap {
    /// A map from `jumps` (stream time, exercise time jumped to) over a session that ended
    /// at stream time `end_stream_s`, of an exercise `duration_s` long.
    pub fn new(mut jumps: Vec<(f64, f64)>, end_stream_s: f64, duration_s: f64) -> Self {
        jumps.sort_by(|a, b| a.0.total_cmp(&b.0));
        TimeMap {
            jumps,
            end_stream_s,
            duration_s,
        }
    }

    /// Exercise time at stream time `t`.
    pub fn exercise_s(&self, t: f64) -> f64 {
        let (at, to) = self
            .jumps
            .iter()
            .rev()
            .find(|j| j.0 <= t)
            .copied()
            .unwrap_or((0.0, 0.0));
        (to + (t - at)).min(self.duration_s)
    }

    /// The first stream time at which exercise time was in `[start, stop)` (when an
    /// injection first went on the air for the trainee), if it ever was.
    pub fn first_on_air(&self, start: f64, stop: f64) -> Option<f64> {
        let mut segs = vec![(0.0, 0.0)];
        segs.extend(self.jumps.iter().copied());
        let mut best: Option<f64> = None;
        for (k, &(at, to)) in segs.iter().enumerate() {
            let seg_end = segs.get(k + 1).map_or(self.end_stream_s, |n| n.0);
            if seg_end <= at {
                continue;
            }
            // Exercise time covered: [to, to + (seg_end - at)), clipped to the exercise.
            let (e0, e1) = (to, (to + (seg_end - at)).min(self.duration_s));
            let (lo, hi) = (start.max(e0), stop.min(e1));
            if lo < hi {
                let t = at + (lo - e0);
                best = Some(best.map_or(t, |b: f64| b.min(t)));
            }
        }
        best
    }
}

/// What a scripted trainee does, read from an actions file.
#[derive(Debug, Clone, Default)]
pub struct Actions {
    /// Seeks: (stream sample at which, exercise sample to).
    pub seeks: Vec<(u64, u64)>,
    /// Acknowledgements and transport lines (pause, resume, step, speed, loop), in stream
    /// order; seeks are logged as they take effect, not from here.
    pub lines: Vec<Line>,
}

/// Reads an actions file (or a session log, whose action lines it takes) for an exercise
/// at `rate` samples per second, `len` samples long.
///
/// # Errors
/// [`Error::Io`]; [`Error::InvalidFile`] naming the line of a line that does not parse,
/// or of a time that is negative or not a number.
pub fn read_actions(path: &Path, rate: f64, len: u64) -> Result<Actions> {
    let mut a = Actions::default();
    for (n, line) in read_lines(path)? {
        let t = line.stream_s();
        if !(t >= 0.0 && t.is_finite()) {
            return Err(Error::InvalidFile {
                path: path.to_path_buf(),
                msg: format!("line {n}: stream_s must be a time from the start, got {t}"),
            });
        }
        match line {
            Line::Seek(s) => {
                if !(s.to_s >= 0.0 && s.to_s.is_finite()) {
                    return Err(Error::InvalidFile {
                        path: path.to_path_buf(),
                        msg: format!(
                            "line {n}: to_s must be a time in the exercise, got {}",
                            s.to_s
                        ),
                    });
                }
                let at = s
                    .stream_sample
                    .unwrap_or_else(|| (s.stream_s * rate).round() as u64);
                let to = ((s.to_s * rate).round() as u64).min(len);
                a.seeks.push((at, to));
            }
            Line::Ack(_)
            | Line::Pause(_)
            | Line::Resume(_)
            | Line::Step(_)
            | Line::Speed(_)
            | Line::Loop(_) => a.lines.push(line),
            // What kuzet wrote, not what the trainee did; and desk changes, which only a
            // console has (a scripted session has no desk to suppress on).
            Line::Session(_)
            | Line::Alert(_)
            | Line::Held(_)
            | Line::End(_)
            | Line::Suppress(_)
            | Line::Lift(_)
            | Line::Known(_) => {}
        }
    }
    a.lines
        .sort_by(|x, y| x.stream_s().total_cmp(&y.stream_s()));
    Ok(a)
}

/// How far from an alert's centre a scripted `alert_freq_hz` may be, besides half its
/// bandwidth.
pub const FREQ_SLACK_HZ: f64 = 10e3;

/// Turns scripted acknowledgements into what the console would have logged, against the
/// alerts of the run (in emission order): each picks its alert by `alert_id`, else the
/// one nearest `alert_freq_hz` (within half its bandwidth plus [`FREQ_SLACK_HZ`]), else
/// the newest; only among alerts raised by the acknowledgement's stream time and not yet
/// acknowledged (health alerts only by id). Returns the lines and a warning for each
/// acknowledgement that found no alert (it is dropped, as a key press on an empty desk).
pub fn resolve(actions: &[Line], alerts: &[Alert]) -> (Vec<Line>, Vec<String>) {
    // Each alert's raise: time, frequency, bandwidth, kind.
    let mut raised: BTreeMap<u64, &Alert> = BTreeMap::new();
    for a in alerts {
        if a.state == AlertState::Raised || !raised.contains_key(&a.id) {
            raised.insert(a.id, a);
        }
    }
    let mut acked: HashSet<u64> = HashSet::new();
    let mut out = Vec::with_capacity(actions.len());
    let mut warnings = Vec::new();
    for line in actions {
        let Line::Ack(ack) = line else {
            out.push(line.clone());
            continue;
        };
        let t = ack.stream_s;
        let open = raised
            .values()
            .filter(|a| a.last_seen_s <= t && !acked.contains(&a.id));
        let pick = match (ack.alert_id, ack.alert_freq_hz) {
            (Some(id), _) => raised
                .get(&id)
                .filter(|a| a.last_seen_s <= t && !acked.contains(&id))
                .copied(),
            (None, Some(f)) => open
                .filter(|a| !is_health(a.kind))
                .filter(|a| (a.freq_hz - f).abs() <= a.bandwidth_hz / 2.0 + FREQ_SLACK_HZ)
                .min_by(|a, b| (a.freq_hz - f).abs().total_cmp(&(b.freq_hz - f).abs()))
                .copied(),
            (None, None) => open
                .filter(|a| !is_health(a.kind))
                .max_by(|a, b| {
                    a.last_seen_s
                        .total_cmp(&b.last_seen_s)
                        .then(a.id.cmp(&b.id))
                })
                .copied(),
        };
        let Some(a) = pick else {
            warnings.push(format!(
                "the acknowledgement at {t:.3} s ({}) found no alert raised by then and not yet acknowledged; skipped",
                match (ack.alert_id, ack.alert_freq_hz) {
                    (Some(id), _) => format!("alert {id}"),
                    (None, Some(f)) => format!("{:.6} MHz", f / 1e6),
                    (None, None) => "the newest".into(),
                }
            ));
            continue;
        };
        acked.insert(a.id);
        out.push(Line::Ack(AckLine {
            stream_s: t,
            utc: if ack.utc.is_empty() {
                now_utc()
            } else {
                ack.utc.clone()
            },
            alert_id: Some(a.id),
            alert_kind: Some(a.kind),
            alert_freq_hz: Some(a.freq_hz),
            verdict: ack.verdict,
            note: ack.note.clone(),
        }));
    }
    (out, warnings)
}

/// The lines of a scripted session in log order: alert lines as the pipeline emitted
/// them, every other line (sorted by stream time) before the first alert line that is
/// later than it.
pub fn merge(alerts: Vec<Line>, mut others: Vec<Line>) -> Vec<Line> {
    others.sort_by(|a, b| a.stream_s().total_cmp(&b.stream_s()));
    let mut out = Vec::with_capacity(alerts.len() + others.len());
    let mut rest = others.into_iter().peekable();
    for a in alerts {
        while let Some(o) = rest.next_if(|o| o.stream_s() < a.stream_s()) {
            out.push(o);
        }
        out.push(a);
    }
    out.extend(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{AlertKind, Severity};
    use crate::sinks::session_log::{Mark, Verdict};

    #[test]
    fn stream_time_maps_to_exercise_time_across_seeks() {
        // Played 0..10, jumped back to 2 at stream 10, forward to 25 at stream 15, end at 20.
        let m = TimeMap::new(vec![(15.0, 25.0), (10.0, 2.0)], 20.0, 30.0);
        assert_eq!(m.exercise_s(5.0), 5.0);
        assert_eq!(m.exercise_s(10.0), 2.0);
        assert_eq!(m.exercise_s(12.5), 4.5);
        assert_eq!(m.exercise_s(16.0), 26.0);
        // An injection on 4..6 first aired at stream 4; one on 20..22 never aired; one on
        // 6..8 (seen at 6 before the jump); one on 26..40 from stream 16.
        assert_eq!(m.first_on_air(4.0, 6.0), Some(4.0));
        assert_eq!(m.first_on_air(20.0, 22.0), None);
        assert_eq!(m.first_on_air(6.0, 8.0), Some(6.0));
        assert_eq!(m.first_on_air(26.0, 40.0), Some(16.0));
        assert_eq!(
            m.first_on_air(11.0, 12.0),
            None,
            "never reached: jumped back at 10"
        );
    }

    fn alert(id: u64, t: f64, f: f64, kind: AlertKind) -> Alert {
        Alert {
            id,
            kind,
            state: AlertState::Raised,
            severity: Severity::Warning,
            first_seen_s: t - 0.1,
            last_seen_s: t,
            freq_hz: f,
            bandwidth_hz: 20e3,
            power_dbfs: -40.0,
            snr_db: 20.0,
            band: None,
            evidence: None,
            activity: None,
        }
    }

    fn ack(t: f64, id: Option<u64>, f: Option<f64>, v: Verdict) -> Line {
        Line::Ack(AckLine {
            stream_s: t,
            utc: "x".into(),
            alert_id: id,
            alert_kind: None,
            alert_freq_hz: f,
            verdict: v,
            note: None,
        })
    }

    #[test]
    fn scripted_acks_pick_their_alert() {
        let alerts = [
            alert(1, 1.0, 433.8e6, AlertKind::NewEmitter),
            alert(2, 2.0, 434.0e6, AlertKind::Hopping),
            alert(3, 3.0, 433.9e6, AlertKind::Overrun),
            alert(4, 9.0, 433.7e6, AlertKind::NewEmitter),
        ];
        let actions = [
            ack(2.5, None, None, Verdict::Threat),            // newest: 2
            ack(4.0, None, Some(433.805e6), Verdict::Benign), // by frequency: 1
            ack(4.5, None, None, Verdict::Unsure),            // none left (3 is health)
            ack(5.0, Some(4), None, Verdict::Threat),         // 4 is not raised yet
            ack(10.0, Some(4), None, Verdict::Threat),
            Line::Pause(Mark {
                stream_s: 11.0,
                utc: String::new(),
            }),
        ];
        let (lines, warnings) = resolve(&actions, &alerts);
        let ids: Vec<(u64, Verdict)> = lines
            .iter()
            .filter_map(|l| match l {
                Line::Ack(a) => Some((a.alert_id.unwrap(), a.verdict)),
                _ => None,
            })
            .collect();
        assert_eq!(
            ids,
            [
                (2, Verdict::Threat),
                (1, Verdict::Benign),
                (4, Verdict::Threat)
            ]
        );
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert_eq!(lines.len(), 4, "the pause is kept");
        let Line::Ack(first) = &lines[0] else {
            panic!()
        };
        assert_eq!(first.alert_kind, Some(AlertKind::Hopping));
        assert_eq!(first.alert_freq_hz, Some(434.0e6));
    }

    #[test]
    fn merged_lines_follow_stream_time_around_the_alerts() {
        let a = |t: f64| {
            Line::Alert(crate::sinks::session_log::AlertLine {
                stream_s: t,
                utc: String::new(),
                alert: alert(1, t, 1e6, AlertKind::NewEmitter),
            })
        };
        let p = |t: f64| {
            Line::Pause(Mark {
                stream_s: t,
                utc: String::new(),
            })
        };
        let merged = merge(vec![a(1.0), a(3.0)], vec![p(5.0), p(0.5), p(3.0)]);
        let times: Vec<(bool, f64)> = merged
            .iter()
            .map(|l| (matches!(l, Line::Alert(_)), l.stream_s()))
            .collect();
        assert_eq!(
            times,
            [
                (false, 0.5),
                (true, 1.0),
                (true, 3.0),
                (false, 3.0),
                (false, 5.0)
            ]
        );
    }
}
