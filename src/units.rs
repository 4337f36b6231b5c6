//! Parsing of human units on the command line and in scenario files: frequencies and rates
//! (`433.92M`, `250k`, `2.4e6`, `915MHz`), durations (`30s`, `1.5s`, `2m`, `500ms`, `10`) and
//! sizes (`2G`, `500M`). Parsers return a message naming the offending text; callers add
//! the flag or field name.

use std::time::Duration;

use serde::Deserialize;

/// Parses a frequency or sample rate in Hz with an optional SI suffix (`k`, `M`, `G`,
/// optionally followed by `Hz`, or `sps`/`S/s` for rates), as rtl_power and rtl_433 do.
///
/// # Errors
/// A message naming the text when it is not a finite number with a known suffix.
pub fn parse_hz(text: &str) -> Result<f64, String> {
    // Lowercase `m` is read as mega too: nobody means millihertz on a radio.
    let lower = text.trim().to_ascii_lowercase();
    let stripped = ["hz", "sps", "s/s"]
        .iter()
        .find_map(|unit| lower.strip_suffix(unit))
        .unwrap_or(&lower);
    let (num, mult) = match stripped.chars().last() {
        Some('k') => (&stripped[..stripped.len() - 1], 1e3),
        Some('m') => (&stripped[..stripped.len() - 1], 1e6),
        Some('g') => (&stripped[..stripped.len() - 1], 1e9),
        _ => (stripped, 1.0),
    };
    let value: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a frequency (examples: 433.92M, 250k, 2.4e6)"))?;
    let hz = value * mult;
    if !hz.is_finite() {
        return Err(format!("`{text}` is not a finite frequency"));
    }
    Ok(hz)
}

/// Parses a duration: a plain number is seconds; otherwise humantime syntax (`500ms`,
/// `1.5s`, `2m`, `1h 30m`).
///
/// # Errors
/// A message naming the text when it cannot be read as a non-negative duration.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<f64>() {
        return Duration::try_from_secs_f64(secs)
            .map_err(|_| format!("`{text}` is not a non-negative duration"));
    }
    if let Some(secs) = t.strip_suffix('s').and_then(|n| n.parse::<f64>().ok()) {
        return Duration::try_from_secs_f64(secs)
            .map_err(|_| format!("`{text}` is not a non-negative duration"));
    }
    humantime::parse_duration(t)
        .map_err(|_| format!("`{text}` is not a duration (examples: 30s, 1.5s, 500ms, 2m)"))
}

/// Parses a byte size with an optional binary suffix (`K`, `M`, `G`, `T`, optionally `B`/`iB`).
///
/// # Errors
/// A message naming the text when it is not a size.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let upper = t.to_ascii_uppercase();
    let stripped = upper
        .strip_suffix("IB")
        .or_else(|| upper.strip_suffix('B'))
        .unwrap_or(&upper);
    let (num, mult) = match stripped.chars().last() {
        Some('K') => (&stripped[..stripped.len() - 1], 1u64 << 10),
        Some('M') => (&stripped[..stripped.len() - 1], 1 << 20),
        Some('G') => (&stripped[..stripped.len() - 1], 1 << 30),
        Some('T') => (&stripped[..stripped.len() - 1], 1 << 40),
        _ => (stripped, 1),
    };
    let value: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a size (examples: 2G, 500M, 4096)"))?;
    if !(value.is_finite() && value >= 0.0) {
        return Err(format!("`{text}` is not a non-negative size"));
    }
    Ok((value * mult as f64) as u64)
}

/// Formats a frequency for people: `433.920 MHz`, `250.000 kHz`.
pub fn format_hz(hz: f64) -> String {
    let a = hz.abs();
    if a >= 1e9 {
        format!("{:.6} GHz", hz / 1e9)
    } else if a >= 1e6 {
        format!("{:.6} MHz", hz / 1e6)
    } else if a >= 1e3 {
        format!("{:.3} kHz", hz / 1e3)
    } else {
        format!("{hz:.1} Hz")
    }
}

/// Formats a sample rate: `2.4 MS/s`.
pub fn format_rate(sps: f64) -> String {
    if sps >= 1e6 {
        format!("{} MS/s", trim_float(sps / 1e6))
    } else if sps >= 1e3 {
        format!("{} kS/s", trim_float(sps / 1e3))
    } else {
        format!("{} S/s", trim_float(sps))
    }
}

fn trim_float(v: f64) -> String {
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A frequency written as a number of Hz or a string with a suffix (`"433.92M"`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "HzRepr")]
pub struct Hz(pub f64);

#[derive(Deserialize)]
#[serde(untagged)]
enum HzRepr {
    Number(f64),
    Text(String),
}

impl TryFrom<HzRepr> for Hz {
    type Error = String;
    fn try_from(r: HzRepr) -> Result<Self, String> {
        match r {
            HzRepr::Number(v) if v.is_finite() => Ok(Hz(v)),
            HzRepr::Number(v) => Err(format!("{v} is not a finite frequency")),
            HzRepr::Text(t) => parse_hz(&t).map(Hz),
        }
    }
}

/// `text` safe to print on a terminal, on one line: control characters (an escape
/// sequence that would clear the screen or recolour it, a newline that would start a
/// fake line) are shown as `\u{..}` escapes, and runs of whitespace become one space.
/// Every string that comes from a file (names, descriptions, a library's error text)
/// passes through this before it reaches stderr or the console.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c == '\n' || c == '\r' || c == '\t' || c == ' ' {
            if !space && !out.is_empty() {
                out.push(' ');
            }
            space = true;
            continue;
        }
        space = false;
        if c.is_control()
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequencies_with_suffixes() {
        assert_eq!(parse_hz("433.92M").unwrap(), 433.92e6);
        assert_eq!(parse_hz("250k").unwrap(), 250e3);
        assert_eq!(parse_hz("2.4e6").unwrap(), 2.4e6);
        assert_eq!(parse_hz("915MHz").unwrap(), 915e6);
        assert_eq!(parse_hz("1.2G").unwrap(), 1.2e9);
        assert_eq!(parse_hz("2.4Msps").unwrap(), 2.4e6);
        assert_eq!(parse_hz("-300k").unwrap(), -300e3);
        assert!(parse_hz("fast").is_err());
        assert!(parse_hz("12X").is_err());
        assert!(parse_hz("inf").is_err());
        assert_eq!(parse_hz("433.92m").unwrap(), 433.92e6);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("10").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2G").unwrap(), 2 << 30);
        assert_eq!(parse_size("500M").unwrap(), 500 << 20);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert_eq!(parse_size("1GiB").unwrap(), 1 << 30);
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn formatting() {
        assert_eq!(format_hz(433.92e6), "433.920000 MHz");
        assert_eq!(format_rate(2.4e6), "2.4 MS/s");
        assert_eq!(format_rate(250e3), "250 kS/s");
    }

    #[test]
    fn one_line_defuses_terminal_escapes() {
        let hostile = "a\u{1b}[2J\u{1b}[31mALL CLEAR\nline2\r\u{7}  x\u{202e}y";
        let safe = one_line(hostile);
        assert!(!safe.chars().any(|c| c.is_control()), "{safe}");
        assert!(
            safe.contains("\\u{1b}[2J") && safe.contains("ALL CLEAR line2"),
            "{safe}"
        );
        assert!(safe.contains("\\u{202e}"), "{safe}");
        assert_eq!(one_line("HDF5:\n  error #000\n"), "HDF5: error #000");
    }
}
