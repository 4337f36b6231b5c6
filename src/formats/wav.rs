//! WAV IQ recordings as SDR#, SDRuno, HDSDR and SDR Console write them: RIFF, two
//! channels (I left, Q right) of unsigned 8-bit, signed 16-bit or 32-bit float PCM, and an
//! optional `auxi` chunk with the centre frequency and start time.
//!
//! Only the header is parsed here (a pure function over a reader, the fuzz target's entry
//! point); the `data` chunk streams through [`super::raw::SpanReader`].

use std::io::{Read, Seek, SeekFrom};

use super::raw::{Endian, RawFormat, Span};
use crate::error::CaptureProblem;

/// What the header says.
#[derive(Debug, Clone, PartialEq)]
pub struct WavInfo {
    /// Sample encoding.
    pub format: RawFormat,
    /// Frames (complex samples) per second.
    pub sample_rate_hz: f64,
    /// From `auxi`, when present.
    pub center_freq_hz: Option<f64>,
    /// From `auxi`, ISO 8601, when present and valid.
    pub start_time_utc: Option<String>,
    /// The sample data.
    pub data: Span,
    /// Things wrong but survivable (a data size larger than the file, ...).
    pub warnings: Vec<String>,
}

fn bad(field: &'static str, why: impl Into<String>) -> CaptureProblem {
    CaptureProblem::BadField {
        field,
        why: why.into(),
    }
}

fn u16le(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .map_or(0, |s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32le(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Bytes of a `fmt ` or `auxi` chunk kuzet reads; the rest is skipped, so a chunk that
/// claims gigabytes cannot make it allocate them.
const MAX_SMALL_CHUNK: u64 = 4096;

/// Parses the RIFF header of a file of `file_len` bytes.
///
/// # Errors
/// Not RIFF/WAVE, no `fmt ` or `data` chunk, not 2 channels, an encoding kuzet does not
/// read, a zero sample rate, no whole sample of data.
pub fn parse<R: Read + Seek>(r: &mut R, file_len: u64) -> Result<WavInfo, CaptureProblem> {
    let mut head = [0u8; 12];
    r.read_exact(&mut head)
        .map_err(|_| CaptureProblem::Truncated("shorter than a WAV header".into()))?;
    let rf64 = &head[0..4] == b"RF64";
    if !(&head[0..4] == b"RIFF" || rf64) || &head[8..12] != b"WAVE" {
        return Err(bad("RIFF header", "is not RIFF/WAVE"));
    }
    let mut warnings = Vec::new();
    let mut fmt: Option<Vec<u8>> = None;
    let mut auxi: Option<Vec<u8>> = None;
    let mut ds64_data: Option<u64> = None;
    let mut data: Option<(u64, u64)> = None;
    let mut pos = 12u64;
    // A bounded walk: a file of zero-sized chunks cannot spin forever.
    for _ in 0..10_000 {
        if pos + 8 > file_len {
            break;
        }
        r.seek(SeekFrom::Start(pos)).map_err(CaptureProblem::Io)?;
        let mut ch = [0u8; 8];
        if r.read_exact(&mut ch).is_err() {
            break;
        }
        let id = [ch[0], ch[1], ch[2], ch[3]];
        let declared = u32::from_le_bytes([ch[4], ch[5], ch[6], ch[7]]) as u64;
        let body = pos + 8;
        let avail = file_len - body;
        match &id {
            b"fmt " | b"auxi" | b"ds64" => {
                let n = declared.min(MAX_SMALL_CHUNK).min(avail) as usize;
                let mut buf = vec![0u8; n];
                r.read_exact(&mut buf)
                    .map_err(|_| CaptureProblem::Truncated("inside a header chunk".into()))?;
                match &id {
                    b"fmt " => fmt = Some(buf),
                    b"auxi" => auxi = Some(buf),
                    _ => {
                        // ds64: riff size (8), data size (8), sample count (8).
                        if buf.len() >= 16 {
                            let mut d = [0u8; 8];
                            d.copy_from_slice(&buf[8..16]);
                            ds64_data = Some(u64::from_le_bytes(d));
                        }
                    }
                }
            }
            b"data" => {
                let mut len = declared;
                if rf64 && declared == 0xFFFF_FFFF {
                    len = ds64_data.unwrap_or(avail);
                }
                // Recorders that stream write 0 or 0xFFFFFFFF and never patch it.
                if len == 0 || len == 0xFFFF_FFFF {
                    if avail > 0 {
                        warnings.push(format!(
                            "the data chunk size is a placeholder ({declared}); reading to the \
                             end of the file"
                        ));
                    }
                    len = avail;
                } else if len > avail {
                    warnings.push(format!(
                        "the data chunk claims {len} bytes but the file holds {avail}; \
                         reading what is there (truncated recording?)"
                    ));
                    len = avail;
                }
                data = Some((body, len));
                break;
            }
            _ => {}
        }
        // Chunks are padded to an even length.
        pos = body.saturating_add(declared).saturating_add(declared & 1);
    }
    let fmt = fmt.ok_or_else(|| bad("fmt chunk", "is missing"))?;
    if fmt.len() < 16 {
        return Err(bad(
            "fmt chunk",
            format!("is {} bytes, expected at least 16", fmt.len()),
        ));
    }
    let mut tag = u16le(&fmt, 0);
    let channels = u16le(&fmt, 2);
    let rate = u32le(&fmt, 4);
    let bits = u16le(&fmt, 14);
    if tag == 0xFFFE {
        // WAVE_FORMAT_EXTENSIBLE: the real tag is the first two bytes of the sub-format GUID.
        if fmt.len() < 26 {
            return Err(bad(
                "fmt chunk",
                "is extensible but too short for its sub-format",
            ));
        }
        tag = u16le(&fmt, 24);
    }
    if channels != 2 {
        return Err(CaptureProblem::NotIq(format!(
            "{channels} channel(s); an IQ WAV has 2 (I and Q)"
        )));
    }
    if rate == 0 {
        return Err(bad("fmt chunk", "has a sample rate of 0"));
    }
    let format = match (tag, bits) {
        // 8-bit WAV is unsigned with its zero at 128.
        (1, 8) => RawFormat::Cu8 { zero_x2: 256 },
        (1, 16) => RawFormat::Cs16(Endian::Little),
        (1, 32) => RawFormat::Cs32(Endian::Little),
        (3, 32) => RawFormat::Cf32(Endian::Little),
        (3, 64) => RawFormat::Cf64(Endian::Little),
        (t, b) => {
            return Err(bad(
                "fmt chunk",
                format!("encoding {t} with {b} bits is not read (PCM 8/16/32-bit, float 32/64)"),
            ))
        }
    };
    let (offset, len) = data.ok_or_else(|| bad("data chunk", "is missing"))?;
    let bps = format.bytes_per_sample() as u64;
    if len % bps != 0 {
        warnings.push(format!(
            "the data chunk ({len} bytes) is not a whole number of {bps}-byte frames; the last \
             {} bytes are ignored",
            len % bps
        ));
    }
    if len / bps == 0 {
        return Err(CaptureProblem::Empty);
    }
    let (center_freq_hz, start_time_utc) = match &auxi {
        Some(a) => parse_auxi(a),
        None => (None, None),
    };
    Ok(WavInfo {
        format,
        sample_rate_hz: rate as f64,
        center_freq_hz,
        start_time_utc,
        data: Span {
            offset,
            samples: len / bps,
        },
        warnings,
    })
}

/// Reads an `auxi` chunk: a Windows SYSTEMTIME start time (8 × u16), a stop time, then
/// the centre frequency in Hz as u32 (SDR#, HDSDR, SDRuno all share this prefix).
fn parse_auxi(a: &[u8]) -> (Option<f64>, Option<String>) {
    let freq = (a.len() >= 36)
        .then(|| u32le(a, 32))
        .filter(|&f| f > 0)
        .map(f64::from);
    let time = (a.len() >= 16)
        .then(|| {
            let f = |i: usize| u16le(a, 2 * i) as u32;
            let (y, mo, d, h, mi, s, ms) = (f(0), f(1), f(3), f(4), f(5), f(6), f(7));
            chrono::NaiveDate::from_ymd_opt(y as i32, mo, d)
                .and_then(|date| date.and_hms_milli_opt(h, mi, s, ms))
                .map(|t| {
                    t.and_utc()
                        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                })
        })
        .flatten();
    (freq, time)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Cursor;

    /// A WAV with the given fmt fields, optional auxi, and data bytes; `data_size` is what
    /// the header claims.
    pub(crate) fn wav(
        tag: u16,
        bits: u16,
        channels: u16,
        auxi_freq: Option<u32>,
        data: &[u8],
        data_size: u32,
    ) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(b"RIFF");
        v.extend_from_slice(&0u32.to_le_bytes());
        v.extend_from_slice(b"WAVE");
        v.extend_from_slice(b"fmt ");
        v.extend_from_slice(&16u32.to_le_bytes());
        v.extend_from_slice(&tag.to_le_bytes());
        v.extend_from_slice(&channels.to_le_bytes());
        v.extend_from_slice(&48000u32.to_le_bytes());
        v.extend_from_slice(&(48000 * channels as u32 * bits as u32 / 8).to_le_bytes());
        v.extend_from_slice(&(channels * bits / 8).to_le_bytes());
        v.extend_from_slice(&bits.to_le_bytes());
        if let Some(f) = auxi_freq {
            v.extend_from_slice(b"auxi");
            v.extend_from_slice(&164u32.to_le_bytes());
            let mut a = vec![0u8; 164];
            for (i, x) in [2024u16, 5, 3, 17, 12, 30, 45, 250].iter().enumerate() {
                a[2 * i..2 * i + 2].copy_from_slice(&x.to_le_bytes());
            }
            a[32..36].copy_from_slice(&f.to_le_bytes());
            v.extend_from_slice(&a);
        }
        v.extend_from_slice(b"data");
        v.extend_from_slice(&data_size.to_le_bytes());
        v.extend_from_slice(data);
        v
    }

    fn parse_bytes(b: &[u8]) -> Result<WavInfo, CaptureProblem> {
        parse(&mut Cursor::new(b), b.len() as u64)
    }

    #[test]
    fn sdrsharp_style_with_auxi() {
        let b = wav(1, 16, 2, Some(433_920_000), &[0; 40], 40);
        let i = parse_bytes(&b).unwrap();
        assert_eq!(i.format, RawFormat::Cs16(Endian::Little));
        assert_eq!(i.center_freq_hz, Some(433.92e6));
        assert_eq!(
            i.start_time_utc.as_deref(),
            Some("2024-05-17T12:30:45.250Z")
        );
        assert_eq!(i.data.samples, 10);
        assert_eq!(i.sample_rate_hz, 48000.0);
    }

    #[test]
    fn lying_data_size_is_clamped_with_a_warning() {
        let b = wav(3, 32, 2, None, &[0; 16], 1_000_000);
        let i = parse_bytes(&b).unwrap();
        assert_eq!(i.data.samples, 2);
        assert!(i.warnings[0].contains("claims"), "{:?}", i.warnings);
    }

    #[test]
    fn refusals() {
        assert!(matches!(
            parse_bytes(&wav(1, 16, 1, None, &[0; 4], 4)),
            Err(CaptureProblem::NotIq(_))
        ));
        assert!(parse_bytes(&wav(1, 12, 2, None, &[0; 4], 4)).is_err());
        assert!(matches!(
            parse_bytes(&wav(1, 16, 2, None, &[], 0)),
            Err(CaptureProblem::Empty)
        ));
        assert!(parse_bytes(b"").is_err());
        assert!(parse_bytes(b"RIFF\0\0\0\0WAVE").is_err());
        assert!(parse_bytes(b"RIFX\0\0\0\0WAVEfmt ").is_err());
    }
}
