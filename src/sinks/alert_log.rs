//! The alert log: alerts as JSON lines (the schema is in docs/alerts.md), each line
//! written with one `write()` and flushed, so that a log is never lost to a buffer when
//! the process dies, and several processes appending to one file never tear each other's
//! lines (`O_APPEND` makes each write atomic with respect to the others).

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::alert::Alert;
use crate::error::{Error, Result};

/// An alert log file shared by the threads that write to it (the pipeline's alerts,
/// the console's acknowledgements).
#[derive(Clone)]
pub struct SharedLog(Arc<Mutex<Logged>>);

/// Called after each line is on disk (the federation outbox reads the log on from there).
pub type Notify = Box<dyn Fn() + Send>;

struct Logged {
    sink: JsonLinesSink<File>,
    notify: Option<Notify>,
}

impl std::fmt::Debug for SharedLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedLog")
    }
}

impl SharedLog {
    /// Opens `path` for appending (created if missing).
    ///
    /// # Errors
    /// [`Error::Io`] naming the file.
    pub fn open(path: &Path) -> Result<SharedLog> {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map(|f| {
                SharedLog(Arc::new(Mutex::new(Logged {
                    sink: JsonLinesSink::new(f),
                    notify: None,
                })))
            })
            .map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })
    }

    /// [`JsonLinesSink::write`].
    ///
    /// # Errors
    /// The file's error.
    pub fn write(&self, alert: &Alert) -> std::io::Result<()> {
        let mut l = self.lock();
        l.sink.write(alert)?;
        l.notified();
        Ok(())
    }

    /// Calls `notify` after every line written from now on, by any clone of this log.
    pub fn set_notify(&self, notify: Notify) {
        self.lock().notify = Some(notify);
    }

    /// [`JsonLinesSink::write_acknowledged`].
    ///
    /// # Errors
    /// The file's error.
    pub fn write_acknowledged(&self, alert: &Alert, at_utc: &str) -> std::io::Result<()> {
        let mut l = self.lock();
        l.sink.write_acknowledged(alert, at_utc)?;
        l.notified();
        Ok(())
    }

    /// [`JsonLinesSink::write_action`].
    ///
    /// # Errors
    /// The file's error.
    pub fn write_action(
        &self,
        alert: &Alert,
        action: &OperatorAction<'_>,
        at_utc: &str,
    ) -> std::io::Result<()> {
        let mut l = self.lock();
        l.sink.write_action(alert, action, at_utc)?;
        l.notified();
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Logged> {
        // A writer that panicked mid-line left at worst a torn line; keep logging.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Logged {
    fn notified(&self) {
        if let Some(n) = &self.notify {
            n();
        }
    }
}

/// What an operator did about an alert on the console, as the log records it: the
/// alert's latest line written again with fields added (docs/alerts.md), so a reader that
/// does not know them sees a repeat of the alert and the schema only grows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OperatorAction<'a> {
    /// Acknowledged (`acknowledged`, `acknowledged_utc`), with an optional `note`.
    Acknowledged {
        /// The operator's note.
        note: Option<&'a str>,
    },
    /// Hidden from the desk and the bell until `until_utc` (`suppressed: true`,
    /// `suppressed_utc`, `suppressed_until_utc`, `suppressed_scope`).
    Suppressed {
        /// `emitter` or `kind_in_band`.
        scope: &'a str,
        /// When it ends by itself (ISO 8601).
        until_utc: &'a str,
    },
    /// A suppression lifted before it ended (`suppressed: false`,
    /// `suppression_lifted_utc`); the line is the alert the suppression was made from.
    Lifted,
    /// Marked as a known emitter (`marked_known: true`, `marked_known_utc`, `note`,
    /// `known_file`).
    MarkedKnown {
        /// The operator's note.
        note: Option<&'a str>,
        /// The known-emitters file it was added to, if any.
        file: Option<&'a str>,
    },
}

/// The fields an [`OperatorAction`] adds to the alert's line.
#[derive(Serialize)]
struct ActionLine<'a> {
    #[serde(flatten)]
    alert: &'a Alert,
    #[serde(skip_serializing_if = "Option::is_none")]
    acknowledged: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    acknowledged_utc: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed_utc: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed_until_utc: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed_scope: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppression_lifted_utc: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    marked_known: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    marked_known_utc: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    known_file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
}

/// Writes alerts as JSON lines.
pub struct JsonLinesSink<W: Write> {
    out: W,
    /// The line being written: serialised here first so it reaches `out` in one write.
    line: Vec<u8>,
}

impl<W: Write> JsonLinesSink<W> {
    /// Wraps a writer.
    pub fn new(out: W) -> Self {
        JsonLinesSink {
            out,
            line: Vec::with_capacity(512),
        }
    }

    /// Writes one alert and flushes.
    ///
    /// # Errors
    /// The writer's error (closed pipe, full disk).
    pub fn write(&mut self, alert: &Alert) -> std::io::Result<()> {
        self.write_line(alert)
    }

    /// Writes an operator's acknowledgement of `alert` and flushes: the alert's latest
    /// state change, unchanged, plus two fields, `"acknowledged": true` and
    /// `"acknowledged_utc"` (ISO 8601). Readers that do not know them see a repeat of
    /// the alert; the schema only grows.
    ///
    /// # Errors
    /// The writer's error.
    pub fn write_acknowledged(&mut self, alert: &Alert, at_utc: &str) -> std::io::Result<()> {
        #[derive(Serialize)]
        struct Ack<'a> {
            #[serde(flatten)]
            alert: &'a Alert,
            acknowledged: bool,
            acknowledged_utc: &'a str,
        }
        self.write_line(&Ack {
            alert,
            acknowledged: true,
            acknowledged_utc: at_utc,
        })
    }

    /// Writes what an operator did about `alert` at `at_utc` and flushes (see
    /// [`OperatorAction`]).
    ///
    /// # Errors
    /// The writer's error.
    pub fn write_action(
        &mut self,
        alert: &Alert,
        action: &OperatorAction<'_>,
        at_utc: &str,
    ) -> std::io::Result<()> {
        let mut line = ActionLine {
            alert,
            acknowledged: None,
            acknowledged_utc: None,
            suppressed: None,
            suppressed_utc: None,
            suppressed_until_utc: None,
            suppressed_scope: None,
            suppression_lifted_utc: None,
            marked_known: None,
            marked_known_utc: None,
            known_file: None,
            note: None,
        };
        match *action {
            OperatorAction::Acknowledged { note } => {
                line.acknowledged = Some(true);
                line.acknowledged_utc = Some(at_utc);
                line.note = note;
            }
            OperatorAction::Suppressed { scope, until_utc } => {
                line.suppressed = Some(true);
                line.suppressed_utc = Some(at_utc);
                line.suppressed_until_utc = Some(until_utc);
                line.suppressed_scope = Some(scope);
            }
            OperatorAction::Lifted => {
                line.suppressed = Some(false);
                line.suppression_lifted_utc = Some(at_utc);
            }
            OperatorAction::MarkedKnown { note, file } => {
                line.marked_known = Some(true);
                line.marked_known_utc = Some(at_utc);
                line.known_file = file;
                line.note = note;
            }
        }
        self.write_line(&line)
    }

    fn write_line(&mut self, value: &impl Serialize) -> std::io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, value)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        self.out.flush()
    }

    /// Gives the writer back.
    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{AlertKind, AlertState, Severity};

    /// Counts the writes that reach it.
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

    fn alert() -> Alert {
        Alert {
            id: 7,
            kind: AlertKind::NewEmitter,
            state: AlertState::Raised,
            severity: Severity::Warning,
            first_seen_s: 1.25,
            last_seen_s: 1.5,
            freq_hz: 433.92e6,
            bandwidth_hz: 12500.0,
            power_dbfs: -41.5,
            snr_db: 18.25,
            band: None,
            evidence: None,
            activity: None,
        }
    }

    #[test]
    fn each_line_is_one_write_and_an_ack_is_the_alert_plus_two_fields() {
        let a = alert();
        let mut sink = JsonLinesSink::new(Writes::default());
        sink.write(&a).unwrap();
        sink.write_acknowledged(&a, "2026-01-01T00:00:00.000Z")
            .unwrap();
        let writes = sink.into_inner().0;
        assert_eq!(writes.len(), 2, "one write per line");
        let line = String::from_utf8(writes[0].clone()).unwrap();
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        assert_eq!(serde_json::from_str::<Alert>(&line).unwrap(), a);
        let ack = String::from_utf8(writes[1].clone()).unwrap();
        let w: serde_json::Value = serde_json::from_str(&ack).unwrap();
        assert_eq!(w["acknowledged"], true);
        assert_eq!(w["acknowledged_utc"], "2026-01-01T00:00:00.000Z");
        assert_eq!(serde_json::from_str::<Alert>(&ack).unwrap(), a);
    }

    #[test]
    fn operator_actions_add_their_fields_and_keep_the_alert() {
        let a = alert();
        let at = "2026-01-01T00:00:00.000Z";
        let until = "2026-01-01T01:00:00.000Z";
        let actions = [
            (
                OperatorAction::Acknowledged {
                    note: Some("seen, a delivery van"),
                },
                serde_json::json!({"acknowledged": true, "acknowledged_utc": at,
                    "note": "seen, a delivery van"}),
            ),
            (
                OperatorAction::Acknowledged { note: None },
                serde_json::json!({"acknowledged": true, "acknowledged_utc": at}),
            ),
            (
                OperatorAction::Suppressed {
                    scope: "kind_in_band",
                    until_utc: until,
                },
                serde_json::json!({"suppressed": true, "suppressed_utc": at,
                    "suppressed_until_utc": until, "suppressed_scope": "kind_in_band"}),
            ),
            (
                OperatorAction::Lifted,
                serde_json::json!({"suppressed": false, "suppression_lifted_utc": at}),
            ),
            (
                OperatorAction::MarkedKnown {
                    note: None,
                    file: Some("known.toml"),
                },
                serde_json::json!({"marked_known": true, "marked_known_utc": at,
                    "known_file": "known.toml"}),
            ),
        ];
        let mut sink = JsonLinesSink::new(Writes::default());
        for (action, _) in &actions {
            sink.write_action(&a, action, at).unwrap();
        }
        let writes = sink.into_inner().0;
        assert_eq!(writes.len(), actions.len(), "one write per line");
        let plain = serde_json::to_value(&a).unwrap();
        for (w, (_, added)) in writes.iter().zip(&actions) {
            let line = String::from_utf8(w.clone()).unwrap();
            assert_eq!(serde_json::from_str::<Alert>(&line).unwrap(), a);
            let mut want = plain.as_object().unwrap().clone();
            want.extend(added.as_object().unwrap().clone());
            let got: serde_json::Value = serde_json::from_str(&line).unwrap();
            assert_eq!(got, serde_json::Value::Object(want), "{line}");
        }
    }
}
