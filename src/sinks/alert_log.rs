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
pub struct SharedLog(Arc<Mutex<JsonLinesSink<File>>>);

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
            .map(|f| SharedLog(Arc::new(Mutex::new(JsonLinesSink::new(f)))))
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
        self.lock().write(alert)
    }

    /// [`JsonLinesSink::write_acknowledged`].
    ///
    /// # Errors
    /// The file's error.
    pub fn write_acknowledged(&self, alert: &Alert, at_utc: &str) -> std::io::Result<()> {
        self.lock().write_acknowledged(alert, at_utc)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, JsonLinesSink<File>> {
        // A writer that panicked mid-line left at worst a torn line; keep logging.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
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
}
