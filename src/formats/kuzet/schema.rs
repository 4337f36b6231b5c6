//! Names and on-disk types of the capture format, in one place.

use hdf5::types::FixedUnicode;
use hdf5::H5Type;

use crate::types::Annotation;

/// Value of the root attribute `format`.
pub const FORMAT: &str = "kuzet-capture";
/// Format version this build writes and the newest it reads.
pub const VERSION: i64 = 1;
/// The IQ dataset.
pub const IQ: &str = "iq";
/// The annotations table.
pub const ANNOTATIONS: &str = "annotations";

/// Root attribute names.
pub mod attr {
    /// `"kuzet-capture"`.
    pub const FORMAT: &str = "format";
    /// Integer format version.
    pub const VERSION: &str = "version";
    /// Complex samples per second (f64).
    pub const SAMPLE_RATE_HZ: &str = "sample_rate_hz";
    /// RF frequency at baseband 0 Hz (f64).
    pub const CENTER_FREQ_HZ: &str = "center_freq_hz";
    /// ISO 8601 UTC time of sample 0.
    pub const START_TIME_UTC: &str = "start_time_utc";
    /// Receiver gain in dB (f64).
    pub const GAIN_DB: &str = "gain_db";
    /// Device description string.
    pub const DEVICE: &str = "device";
    /// Free text.
    pub const DESCRIPTION: &str = "description";
    /// On the compact `/iq`: value of one LSB.
    pub const SCALE: &str = "scale";
    /// On a clip cut from a longer stream (evidence): the index in that stream of the
    /// clip's first sample (u64).
    pub const SOURCE_FIRST_SAMPLE: &str = "source_first_sample";
}

/// Label column width in bytes (fixed-length strings: SWMR cannot append variable-length data).
pub const LABEL_LEN: usize = 64;
/// Source column width in bytes.
pub const SOURCE_LEN: usize = 32;

/// On-disk row of `/annotations`.
#[derive(H5Type, Clone, Copy, Debug)]
#[repr(C)]
pub struct AnnotationRow {
    /// First sample.
    pub start_sample: u64,
    /// Length in samples.
    pub length: u64,
    /// Lower edge, absolute Hz.
    pub freq_lo_hz: f64,
    /// Upper edge, absolute Hz.
    pub freq_hi_hz: f64,
    /// Label, UTF-8, NUL-padded.
    pub label: FixedUnicode<LABEL_LEN>,
    /// Source, UTF-8, NUL-padded.
    pub source: FixedUnicode<SOURCE_LEN>,
}

/// Longest prefix of `s` that fits in `max` bytes without splitting a character.
fn fit(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl From<&Annotation> for AnnotationRow {
    fn from(a: &Annotation) -> Self {
        // One byte short of the width keeps a terminating NUL for C readers.
        let label = fit(&a.label, LABEL_LEN - 1)
            .parse()
            .unwrap_or_else(|_| FixedUnicode::new());
        let source = fit(&a.source, SOURCE_LEN - 1)
            .parse()
            .unwrap_or_else(|_| FixedUnicode::new());
        AnnotationRow {
            start_sample: a.start_sample,
            length: a.length,
            freq_lo_hz: a.freq_lo_hz,
            freq_hi_hz: a.freq_hi_hz,
            label,
            source,
        }
    }
}

impl From<&AnnotationRow> for Annotation {
    fn from(r: &AnnotationRow) -> Self {
        Annotation {
            start_sample: r.start_sample,
            length: r.length,
            freq_lo_hz: r.freq_lo_hz,
            freq_hi_hz: r.freq_hi_hz,
            label: r.label.as_str().to_string(),
            source: r.source.as_str().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_labels_are_cut_on_a_character_boundary() {
        let a = Annotation {
            start_sample: 1,
            length: 2,
            freq_lo_hz: 3.0,
            freq_hi_hz: 4.0,
            label: "ж".repeat(40),
            source: "synth".into(),
        };
        let row = AnnotationRow::from(&a);
        let back = Annotation::from(&row);
        assert_eq!(back.label, "ж".repeat(31));
        assert_eq!(back.source, "synth");
    }
}
