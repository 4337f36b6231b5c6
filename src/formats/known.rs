//! The known-emitters file (`--known FILE`, docs/known.md): TOML `[[known]]` tables, each a
//! transmitter the operator has said belongs here. Written by hand or by the console (one
//! key on a selected alert), read by every command that runs the detector.
//!
//! ```toml
//! [[known]]
//! freq_hz = "433.92M"        # a number of Hz or a string with a unit
//! bandwidth_hz = "25k"
//! label = "gate remote"      # optional: shown beside its mark on the spectrum
//! note = "checked 3 May"     # optional: free text
//! power_dbfs = -42.0         # optional: its usual level (power_change needs it)
//! always_on = false          # optional: true raises emitter_lost when it goes silent
//! ```
//!
//! The console appends a table to the end of the file rather than rewriting it, so that
//! an operator's comments and ordering survive. Errors name the line and the field,
//! because the people who edit these files are operators, not the parser's authors.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::{Error, Result};
use crate::types::KnownEntry;
use crate::units::Hz;

/// The first lines of a file the console creates.
const HEADER: &str =
    "# kuzet known emitters (docs/known.md): the detector treats each as a baseline\n\
# emitter, so it never raises new_emitter. Edit by hand; the console appends.\n";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    known: Vec<Spanned<RawKnown>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKnown {
    freq_hz: Spanned<Hz>,
    bandwidth_hz: Spanned<Hz>,
    #[serde(default)]
    label: Option<Spanned<String>>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    power_dbfs: Option<Spanned<f64>>,
    #[serde(default)]
    always_on: Option<Spanned<bool>>,
}

/// One table as the console writes it.
#[derive(Serialize)]
struct OutKnown<'a> {
    freq_hz: f64,
    bandwidth_hz: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    power_dbfs: Option<f64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    always_on: bool,
}

#[derive(Serialize)]
struct OutFile<'a> {
    known: [OutKnown<'a>; 1],
}

/// 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Parses the text of a known-emitters file.
///
/// # Errors
/// A message "line N: …" naming the field.
pub fn parse(text: &str) -> std::result::Result<Vec<KnownEntry>, String> {
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let msg = e.message().trim().replace('\n', " ");
        match e.span() {
            Some(s) => format!("line {}: {msg}", line_of(text, s.start)),
            None => msg,
        }
    })?;
    let at = |span: std::ops::Range<usize>| format!("line {}", line_of(text, span.start));
    let mut out = Vec::with_capacity(raw.known.len());
    for rk in &raw.known {
        let k = rk.get_ref();
        let (f, bw) = (k.freq_hz.get_ref().0, k.bandwidth_hz.get_ref().0);
        if !f.is_finite() || f < 0.0 {
            return Err(format!(
                "{}: freq_hz must be a non-negative frequency, got {f}",
                at(k.freq_hz.span())
            ));
        }
        if !bw.is_finite() || bw <= 0.0 {
            return Err(format!(
                "{}: bandwidth_hz must be positive, got {bw}",
                at(k.bandwidth_hz.span())
            ));
        }
        if let Some(p) = &k.power_dbfs {
            if !p.get_ref().is_finite() {
                return Err(format!(
                    "{}: power_dbfs must be a finite level in dBFS",
                    at(p.span())
                ));
            }
        }
        let always_on = k.always_on.as_ref().is_some_and(|a| *a.get_ref());
        // emitter_lost reports the level the emitter is missing from.
        if always_on && k.power_dbfs.is_none() {
            let span = k.always_on.as_ref().map_or(rk.span(), |a| a.span());
            return Err(format!(
                "{}: always_on needs power_dbfs (its usual level, reported when it is lost)",
                at(span)
            ));
        }
        let label = match &k.label {
            Some(l) if l.get_ref().trim().is_empty() => {
                return Err(format!(
                    "{}: label must not be empty (leave it out instead)",
                    at(l.span())
                ))
            }
            Some(l) => Some(l.get_ref().trim().to_string()),
            None => None,
        };
        out.push(KnownEntry {
            freq_hz: f,
            bandwidth_hz: bw,
            label,
            note: k.note.clone().filter(|n| !n.trim().is_empty()),
            power_dbfs: k.power_dbfs.as_ref().map(|p| *p.get_ref()),
            always_on,
        });
    }
    Ok(out)
}

/// Reads a known-emitters file; a missing file is an empty list when `allow_missing` (the
/// console creates it on the first mark).
///
/// # Errors
/// [`Error::Io`] when it cannot be read; [`Error::InvalidFile`] naming the line and field.
pub fn load(path: &Path, allow_missing: bool) -> Result<Vec<KnownEntry>> {
    if allow_missing && !path.exists() {
        return Ok(Vec::new());
    }
    let text = super::read_settings(path)?;
    parse(&text).map_err(|msg| Error::InvalidFile {
        path: path.to_path_buf(),
        msg,
    })
}

/// The TOML text of one `[[known]]` table, preceded by `comment` lines.
fn table(entry: &KnownEntry, comment: &str) -> std::result::Result<String, toml::ser::Error> {
    let body = toml::to_string(&OutFile {
        known: [OutKnown {
            freq_hz: entry.freq_hz,
            bandwidth_hz: entry.bandwidth_hz,
            label: entry.label.as_deref(),
            note: entry.note.as_deref(),
            power_dbfs: entry.power_dbfs,
            always_on: entry.always_on,
        }],
    })?;
    let mut out = String::new();
    for line in comment.lines() {
        out.push_str("# ");
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&body);
    Ok(out)
}

/// Appends `entry` to the file at `path` (created with a header if missing), after a
/// comment saying where it came from. The text goes in one `write()`, so a reader never
/// sees half a table, and a hand-edited file keeps its comments and order.
///
/// # Errors
/// [`Error::Io`] naming the file.
pub fn append(path: &Path, entry: &KnownEntry, comment: &str) -> Result<()> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    if path.exists() {
        super::require_regular(path).map_err(io)?;
    }
    let existing = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io(e)),
    };
    let mut text = String::new();
    if existing.is_empty() {
        text.push_str(HEADER);
    } else if existing.last() != Some(&b'\n') {
        // A hand edit without a final newline: the table must start on its own line.
        text.push('\n');
    }
    text.push('\n');
    let t = table(entry, comment).map_err(|e| io(std::io::Error::other(e.to_string())))?;
    text.push_str(&t);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    f.write_all(text.as_bytes()).map_err(io)?;
    f.flush().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> KnownEntry {
        KnownEntry {
            freq_hz: 433.92e6,
            bandwidth_hz: 12_500.0,
            label: None,
            note: Some("gate remote, \"checked\"\nby shift B".into()),
            power_dbfs: Some(-41.5),
            always_on: false,
        }
    }

    #[test]
    fn a_hand_written_file_parses_with_units_and_defaults() {
        let text = r#"
# post north
[[known]]
freq_hz = "446.00625M"
bandwidth_hz = "12.5k"
label = "PMR ch1, our patrol"

[[known]]
freq_hz = 433920000
bandwidth_hz = 25000
power_dbfs = -40
always_on = true
note = "repeater"
"#;
        let k = parse(text).unwrap();
        assert_eq!(k.len(), 2);
        assert_eq!(k[0].freq_hz, 446.00625e6);
        assert_eq!(k[0].bandwidth_hz, 12_500.0);
        assert_eq!(k[0].label.as_deref(), Some("PMR ch1, our patrol"));
        assert_eq!((k[0].power_dbfs, k[0].always_on), (None, false));
        assert_eq!(k[1].power_dbfs, Some(-40.0));
        assert!(k[1].always_on);
        assert_eq!(k[1].note.as_deref(), Some("repeater"));
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn errors_name_the_line_and_the_field() {
        let cases = [
            (
                "[[known]]\nfreq_hz = \"433M\"\nbandwidth_hz = 0\n",
                "line 3: bandwidth_hz must be positive",
            ),
            (
                "[[known]]\nfreq_hz = \"433M\"\nbandwidth_hz = \"25k\"\nlabl = \"x\"\n",
                "line 4: unknown field `labl`",
            ),
            (
                "[[known]]\nfreq_hz = \"fast\"\nbandwidth_hz = \"25k\"\n",
                "line 2:",
            ),
            (
                "[[known]]\nfreq_hz = \"433M\"\nbandwidth_hz = \"25k\"\nalways_on = true\n",
                "line 4: always_on needs power_dbfs",
            ),
            (
                "[[known]]\nfreq_hz = \"433M\"\n",
                "missing field `bandwidth_hz`",
            ),
            (
                "[[known]]\nfreq_hz = -5\nbandwidth_hz = 1\n",
                "line 2: freq_hz must be a non-negative frequency",
            ),
        ];
        for (text, want) in cases {
            let e = parse(text).unwrap_err();
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn appending_keeps_a_hand_edited_file_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known.toml");
        // Created with a header when missing.
        append(&path, &entry(), "marked on the console").unwrap();
        let first = std::fs::read_to_string(&path).unwrap();
        assert!(first.starts_with("# kuzet known emitters"), "{first}");
        assert!(
            first.contains("# marked on the console\n[[known]]"),
            "{first}"
        );
        assert_eq!(load(&path, false).unwrap(), vec![entry()]);

        // A hand edit with a comment and no final newline survives the next append.
        std::fs::write(
            &path,
            format!("{first}# the mast\n[[known]]\nfreq_hz = \"434M\"\nbandwidth_hz = \"5k\""),
        )
        .unwrap();
        let second = KnownEntry {
            label: Some("mast".into()),
            note: None,
            power_dbfs: None,
            ..entry()
        };
        append(&path, &second, "two\nlines").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("# the mast\n") && text.contains("# two\n# lines\n"));
        let back = load(&path, false).unwrap();
        assert_eq!(back.len(), 3);
        assert_eq!(back[0], entry());
        assert_eq!(back[1].freq_hz, 434e6);
        assert_eq!(back[2], second);
    }

    #[test]
    fn a_missing_file_is_empty_only_when_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("none.toml");
        assert!(load(&path, true).unwrap().is_empty());
        let e = load(&path, false).unwrap_err();
        assert!(matches!(e, Error::Io { .. }) && e.exit_code() == 2, "{e}");
        std::fs::write(&path, "[[known]]\nfreq_hz = 1\n").unwrap();
        let e = load(&path, true).unwrap_err();
        assert!(matches!(e, Error::InvalidFile { .. }) && e.exit_code() == 2);
        assert!(e.to_string().contains("none.toml"), "{e}");
    }
}
