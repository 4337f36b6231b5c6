//! The session log of a training exercise (`kuzet exercise run`): JSON lines, one per
//! thing that happened, each written with one `write()` and flushed (as the alert log,
//! [`super::alert_log`]), so a session survives a crash up to its last line. The schema
//! is documented in docs/exercises.md; fields are only ever added.
//!
//! ```text
//!  {"type":"session", …header: exercise, injections, trainee, kuzet version}
//!  {"type":"alert","stream_s":…,"utc":…,"alert":{…}}      what the console showed
//!  {"type":"ack","stream_s":…,"utc":…,"alert_id":7,"verdict":"threat","note":…}
//!  {"type":"pause"|"resume"|"step"|"speed"|"loop"|"seek"|"held", …}
//!  {"type":"suppress"|"lift"|"known","stream_s":…,"utc":…,"alert_id":7,…}  the desk
//!  {"type":"end","stream_s":…,"utc":…,"reason":"quit"}
//! ```
//!
//! Every line after the header carries `stream_s` (the pipeline's clock: seconds of
//! samples delivered, which goes on across seeks, as alert times do) and `utc` (wall
//! time). A `seek` line also says where in the exercise the stream went, which is what
//! maps stream time back to exercise time. An actions file for a scripted session uses
//! the same lines (without the header).
//!
//! Threads: the pipeline's alerts stage writes `alert` lines, the console writes `ack`
//! and transport lines, the source writes `seek` lines; [`SharedSessionLog`] serialises
//! them.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::alert::{Alert, AlertKind};
use crate::error::{Error, Result};
use crate::sinks::alert_log::OperatorAction;

/// Version of the line schema, in the header.
pub const SCHEMA: u32 = 1;

/// What the trainee says an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A threat: to be reported.
    Threat,
    /// Benign: normal traffic.
    Benign,
    /// Acknowledged without a call.
    Unsure,
}

impl Verdict {
    /// The name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Threat => "threat",
            Verdict::Benign => "benign",
            Verdict::Unsure => "unsure",
        }
    }
}

/// How the session was driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionMode {
    /// A trainee at the console, at real time.
    Console,
    /// An actions file, as fast as the machine goes.
    Scripted,
}

/// The exercise a session ran, as the header records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExerciseInfo {
    /// The exercise file (absolute).
    pub path: String,
    /// Its name.
    pub name: String,
    /// FNV-1a 64 of the file's bytes, in hex: a report refuses an exercise that changed.
    pub hash: String,
    /// The base recording (absolute).
    pub base: String,
    /// Length of the exercise, seconds.
    pub duration_s: f64,
    /// Sample rate of the mix.
    pub sample_rate_hz: f64,
    /// Centre frequency of the mix.
    pub center_freq_hz: f64,
    /// The base's measured noise floor, dBFS per Hz (the reference of every `snr_db`).
    pub floor_dbfs_hz: f64,
    /// FFT size of the spectra (the frequency tolerance of matching is two bins).
    pub fft_len: usize,
    /// Seed of the injections.
    pub seed: u64,
}

/// One injection, as the header records it (the truth the session is scored against).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InjectionInfo {
    /// Its name.
    pub name: String,
    /// Emitter type (`hopper`, `gfsk`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Centre frequency.
    pub freq_hz: f64,
    /// Lowest frequency it occupies.
    pub freq_lo_hz: f64,
    /// Highest frequency it occupies.
    pub freq_hi_hz: f64,
    /// On, exercise seconds.
    pub start_s: f64,
    /// Off, exercise seconds.
    pub stop_s: f64,
    /// Level over the measured floor, in band.
    pub snr_db: f64,
    /// What the trainee should call it.
    pub expect: Verdict,
    /// Seconds from its start within which the call counts as in time.
    pub deadline_s: f64,
}

/// The first line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// [`SCHEMA`].
    pub schema: u32,
    /// kuzet's version.
    pub kuzet: String,
    /// Console or scripted.
    pub mode: SessionMode,
    /// Who.
    pub trainee: String,
    /// When the session started.
    pub started_utc: String,
    /// The exercise.
    pub exercise: ExerciseInfo,
    /// Its injections.
    pub injections: Vec<InjectionInfo>,
    /// The actions file of a scripted session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<String>,
}

/// An alert state change the console was given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertLine {
    /// Stream time of the change (the alert's `last_seen_s`).
    pub stream_s: f64,
    /// Wall time.
    #[serde(default)]
    pub utc: String,
    /// The alert line as the alert log has it.
    pub alert: Alert,
}

/// The trainee acknowledged an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AckLine {
    /// Stream time of the acknowledgement.
    pub stream_s: f64,
    /// Wall time.
    #[serde(default)]
    pub utc: String,
    /// The alert (in an actions file: optional; then the alert nearest `alert_freq_hz`,
    /// else the newest, among those raised by `stream_s` and not yet acknowledged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_id: Option<u64>,
    /// Its kind, for people reading the log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_kind: Option<AlertKind>,
    /// Its frequency (also a selector in an actions file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_freq_hz: Option<f64>,
    /// The call.
    pub verdict: Verdict,
    /// A short note, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A transport action without a value (pause, resume, one step, held at the end).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    /// Stream time.
    pub stream_s: f64,
    /// Wall time.
    #[serde(default)]
    pub utc: String,
}

/// A new replay speed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeedLine {
    /// Stream time.
    pub stream_s: f64,
    /// Wall time.
    #[serde(default)]
    pub utc: String,
    /// × real time; null is as fast as possible.
    pub speed: Option<f64>,
}

/// Looping switched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoopLine {
    /// Stream time.
    pub stream_s: f64,
    /// Wall time.
    #[serde(default)]
    pub utc: String,
    /// On or off.
    pub on: bool,
}

/// The read position jumped (a seek key, a loop, a scripted seek).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeekLine {
    /// Stream time at which it took effect.
    pub stream_s: f64,
    /// The same, exactly, in samples (what replays use).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_sample: Option<u64>,
    /// Wall time.
    #[serde(default)]
    pub utc: String,
    /// Exercise time before the jump.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_s: Option<f64>,
    /// Exercise time after it.
    pub to_s: f64,
}

/// The trainee changed what the desk shows: suppressed an alert's emitter or kind, lifted
/// a suppression, or marked an emitter known (which the detector then treats as such).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeskLine {
    /// Stream time.
    pub stream_s: f64,
    /// Wall time.
    #[serde(default)]
    pub utc: String,
    /// The alert it was done from.
    pub alert_id: u64,
    /// Its kind.
    pub alert_kind: AlertKind,
    /// Its frequency.
    pub alert_freq_hz: f64,
    /// A suppression's scope: `emitter` or `kind_in_band`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// When a suppression ends by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_utc: Option<String>,
    /// A known emitter's note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The last line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndLine {
    /// Stream time at the end.
    pub stream_s: f64,
    /// Wall time.
    #[serde(default)]
    pub utc: String,
    /// `quit` (the trainee left the console), `end` (a scripted session ran out),
    /// `stopped` (a scripted session interrupted by a signal).
    pub reason: String,
}

/// One line of a session log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Line {
    /// The header.
    Session(Box<Header>),
    /// An alert state change.
    Alert(AlertLine),
    /// An acknowledgement with a verdict.
    Ack(AckLine),
    /// Paused.
    Pause(Mark),
    /// Resumed.
    Resume(Mark),
    /// One spectrum forward.
    Step(Mark),
    /// Held at the end of the exercise (paused by kuzet, not the trainee).
    Held(Mark),
    /// Speed changed.
    Speed(SpeedLine),
    /// Looping switched.
    Loop(LoopLine),
    /// The position jumped.
    Seek(SeekLine),
    /// A suppression made on the desk.
    Suppress(DeskLine),
    /// A suppression lifted.
    Lift(DeskLine),
    /// An emitter marked known.
    Known(DeskLine),
    /// The session ended.
    End(EndLine),
}

impl Line {
    /// Stream time of the line (0 for the header).
    pub fn stream_s(&self) -> f64 {
        match self {
            Line::Session(_) => 0.0,
            Line::Alert(l) => l.stream_s,
            Line::Ack(l) => l.stream_s,
            Line::Pause(m) | Line::Resume(m) | Line::Step(m) | Line::Held(m) => m.stream_s,
            Line::Speed(l) => l.stream_s,
            Line::Loop(l) => l.stream_s,
            Line::Seek(l) => l.stream_s,
            Line::Suppress(l) | Line::Lift(l) | Line::Known(l) => l.stream_s,
            Line::End(l) => l.stream_s,
        }
    }
}

/// Wall time now, ISO 8601 UTC with milliseconds (as acknowledgements in the alert log).
pub fn now_utc() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Writes session lines, one `write()` each, flushed.
pub struct SessionLog<W: Write> {
    out: W,
    line: Vec<u8>,
}

impl<W: Write> SessionLog<W> {
    /// Wraps a writer.
    pub fn new(out: W) -> Self {
        SessionLog {
            out,
            line: Vec::with_capacity(512),
        }
    }

    /// Writes one line and flushes.
    ///
    /// # Errors
    /// The writer's error.
    pub fn write(&mut self, line: &Line) -> std::io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, line)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        self.out.flush()
    }

    /// Gives the writer back.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// A session log shared by the threads that write to it. A write that fails is kept (the
/// first one) for the end of the session, because the writers on the source's and the
/// pipeline's threads cannot stop a trainee's session for it.
#[derive(Clone)]
pub struct SharedSessionLog {
    log: Arc<Mutex<SessionLog<File>>>,
    failed: Arc<Mutex<Option<std::io::Error>>>,
}

impl std::fmt::Debug for SharedSessionLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedSessionLog")
    }
}

impl SharedSessionLog {
    /// Creates `path`, which must not exist (a session never overwrites another).
    ///
    /// # Errors
    /// [`Error::Io`] naming the file.
    pub fn create(path: &Path) -> Result<SharedSessionLog> {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map(|f| SharedSessionLog {
                log: Arc::new(Mutex::new(SessionLog::new(f))),
                failed: Arc::new(Mutex::new(None)),
            })
            .map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })
    }

    /// Writes a line; a failure is also kept for [`SharedSessionLog::failure`].
    ///
    /// # Errors
    /// The file's error.
    pub fn write(&self, line: &Line) -> std::io::Result<()> {
        let r = self
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .write(line);
        if let Err(e) = &r {
            let mut f = self
                .failed
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if f.is_none() {
                *f = Some(std::io::Error::new(e.kind(), e.to_string()));
            }
        }
        r
    }

    /// The first write that failed, if any.
    pub fn failure(&self) -> Option<std::io::Error> {
        self.failed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(|e| std::io::Error::new(e.kind(), e.to_string()))
    }

    /// Logs an alert state change as the console receives it.
    ///
    /// # Errors
    /// The file's error.
    pub fn alert(&self, a: &Alert) -> std::io::Result<()> {
        self.write(&Line::Alert(AlertLine {
            stream_s: a.last_seen_s,
            utc: now_utc(),
            alert: a.clone(),
        }))
    }

    /// Logs what the trainee did on the desk about `a` at stream time `stream_s` and wall
    /// time `utc`: a suppression, its lifting or a known mark (an acknowledgement with a
    /// note is logged by [`SharedSessionLog::acknowledge`], with its verdict, instead).
    ///
    /// # Errors
    /// The file's error.
    pub fn desk(
        &self,
        a: &Alert,
        action: &OperatorAction<'_>,
        stream_s: f64,
        utc: &str,
    ) -> std::io::Result<()> {
        let line = |scope: Option<&str>, until: Option<&str>, note: Option<&str>| DeskLine {
            stream_s,
            utc: utc.to_string(),
            alert_id: a.id,
            alert_kind: a.kind,
            alert_freq_hz: a.freq_hz,
            scope: scope.map(str::to_string),
            until_utc: until.map(str::to_string),
            note: note.map(str::to_string),
        };
        self.write(&match *action {
            OperatorAction::Acknowledged { .. } => return Ok(()),
            OperatorAction::Suppressed { scope, until_utc } => {
                Line::Suppress(line(Some(scope), Some(until_utc), None))
            }
            OperatorAction::Lifted => Line::Lift(line(None, None, None)),
            OperatorAction::MarkedKnown { note, .. } => Line::Known(line(None, None, note)),
        })
    }

    /// Logs the trainee's acknowledgement of `a` at stream time `stream_s`, with a
    /// verdict and an optional note, at wall time `utc`.
    ///
    /// # Errors
    /// The file's error.
    pub fn acknowledge(
        &self,
        a: &Alert,
        verdict: Verdict,
        note: Option<&str>,
        stream_s: f64,
        utc: &str,
    ) -> std::io::Result<()> {
        self.write(&Line::Ack(AckLine {
            stream_s,
            utc: utc.to_string(),
            alert_id: Some(a.id),
            alert_kind: Some(a.kind),
            alert_freq_hz: Some(a.freq_hz),
            verdict,
            note: note.map(str::to_string),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{AlertState, Severity};

    #[derive(Default)]
    struct Writes(Vec<Vec<u8>>);

    impl Write for Writes {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.push(buf.to_vec());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_are_one_write_each_and_read_back() {
        let a = Alert {
            id: 3,
            kind: AlertKind::Hopping,
            state: AlertState::Raised,
            severity: Severity::Critical,
            first_seen_s: 5.0,
            last_seen_s: 5.5,
            freq_hz: 433.9e6,
            bandwidth_hz: 150e3,
            power_dbfs: -40.0,
            snr_db: 20.0,
            band: None,
            evidence: None,
            activity: None,
        };
        let lines = [
            Line::Alert(AlertLine {
                stream_s: 5.5,
                utc: "2026-01-01T00:00:05.500Z".into(),
                alert: a,
            }),
            Line::Ack(AckLine {
                stream_s: 7.0,
                utc: String::new(),
                alert_id: Some(3),
                alert_kind: Some(AlertKind::Hopping),
                alert_freq_hz: Some(433.9e6),
                verdict: Verdict::Threat,
                note: Some("drone".into()),
            }),
            Line::Seek(SeekLine {
                stream_s: 8.0,
                stream_sample: Some(2_000_000),
                utc: String::new(),
                from_s: Some(8.0),
                to_s: 2.0,
            }),
            Line::Speed(SpeedLine {
                stream_s: 9.0,
                utc: String::new(),
                speed: None,
            }),
        ];
        let mut log = SessionLog::new(Writes::default());
        for l in &lines {
            log.write(l).unwrap();
        }
        let writes = log.into_inner().0;
        assert_eq!(writes.len(), lines.len(), "one write per line");
        for (w, l) in writes.iter().zip(&lines) {
            let text = std::str::from_utf8(w).unwrap();
            assert!(text.ends_with('\n') && text.matches('\n').count() == 1);
            assert_eq!(&serde_json::from_str::<Line>(text).unwrap(), l);
        }
        let ack: serde_json::Value = serde_json::from_slice(&writes[1]).unwrap();
        assert_eq!(ack["type"], "ack");
        assert_eq!(ack["verdict"], "threat");
        // A hand-written action needs only the time and the verdict.
        let min: Line =
            serde_json::from_str(r#"{"type":"ack","stream_s":3,"verdict":"benign"}"#).unwrap();
        assert!(matches!(min, Line::Ack(AckLine { alert_id: None, .. })));
    }

    #[test]
    fn the_desk_is_logged_with_stream_time_and_the_alert() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.jsonl");
        let log = SharedSessionLog::create(&path).unwrap();
        let a = Alert {
            id: 9,
            kind: AlertKind::NewEmitter,
            state: AlertState::Raised,
            severity: Severity::Warning,
            first_seen_s: 1.0,
            last_seen_s: 1.5,
            freq_hz: 433.8e6,
            bandwidth_hz: 1e3,
            power_dbfs: -50.0,
            snr_db: 20.0,
            band: None,
            evidence: None,
            activity: None,
        };
        let until = "2026-01-01T01:00:00.000Z";
        let actions = [
            OperatorAction::Suppressed {
                scope: "emitter",
                until_utc: until,
            },
            OperatorAction::Lifted,
            OperatorAction::MarkedKnown {
                note: Some("mast"),
                file: None,
            },
            // Goes to the log as an `ack` with its verdict, never as a desk line.
            OperatorAction::Acknowledged { note: Some("x") },
        ];
        for (k, act) in actions.iter().enumerate() {
            log.desk(&a, act, 2.0 + k as f64, "t").unwrap();
        }
        assert!(log.failure().is_none());
        let lines: Vec<Line> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3, "{lines:?}");
        let Line::Suppress(sup) = &lines[0] else {
            panic!("{:?}", lines[0])
        };
        assert_eq!(
            (
                sup.stream_s,
                sup.alert_id,
                sup.scope.as_deref(),
                sup.until_utc.as_deref()
            ),
            (2.0, 9, Some("emitter"), Some(until))
        );
        assert!(
            matches!(&lines[1], Line::Lift(l) if l.stream_s == 3.0 && l.alert_freq_hz == 433.8e6)
        );
        assert!(matches!(&lines[2], Line::Known(l) if l.note.as_deref() == Some("mast")));
    }
}
