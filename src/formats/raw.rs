//! Headerless interleaved IQ (rtl_sdr `.cu8`, hackrf_transfer `.cs8`, `.cs16`, GNU Radio
//! `.cf32`/`.cfile`) and the sample encodings every other container here shares (SigMF
//! datatypes, WAV PCM): a byte span of a file, decoded block by block into `Complex32`.
//!
//! Sits at the very start of the pipeline diagram: `file bytes → RawFormat::decode →
//! IqSource::read`. The decoder works on a scratch byte buffer that grows once to the
//! largest block asked for, so a steady stream allocates nothing.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use num_complex::Complex32;

use super::samples::{self, zero_non_finite};
use crate::error::{CaptureProblem, Error, Result};

/// Byte order of multi-byte sample components.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endian {
    /// Little-endian (x86, ARM as SDRs run them; the default everywhere).
    Little,
    /// Big-endian (SigMF `_be` datatypes).
    Big,
}

/// One complex sample's encoding on disk: interleaved I then Q.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawFormat {
    /// Unsigned 8-bit with the given zero offset ×2 (255 for rtl_sdr's 127.5, 256 for
    /// WAV's 128), full scale ±1.
    Cu8 {
        /// Twice the zero level, so that both 127.5 and 128 stay integers.
        zero_x2: u16,
    },
    /// Signed 8-bit (hackrf_transfer), `x / 128`.
    Cs8,
    /// Signed 16-bit, `x / 32768`.
    Cs16(Endian),
    /// Unsigned 16-bit, `(x - 32768) / 32768`.
    Cu16(Endian),
    /// Signed 32-bit, `x / 2^31`.
    Cs32(Endian),
    /// Unsigned 32-bit, `(x - 2^31) / 2^31`.
    Cu32(Endian),
    /// IEEE float32 (GNU Radio's `gr_complex`).
    Cf32(Endian),
    /// IEEE float64.
    Cf64(Endian),
}

/// rtl_sdr's unsigned 8-bit encoding (zero at 127.5).
pub const CU8_RTL: RawFormat = RawFormat::Cu8 { zero_x2: 255 };

impl RawFormat {
    /// Bytes per complex sample.
    pub fn bytes_per_sample(self) -> usize {
        match self {
            RawFormat::Cu8 { .. } | RawFormat::Cs8 => 2,
            RawFormat::Cs16(_) | RawFormat::Cu16(_) => 4,
            RawFormat::Cs32(_) | RawFormat::Cu32(_) | RawFormat::Cf32(_) => 8,
            RawFormat::Cf64(_) => 16,
        }
    }

    /// The SigMF datatype name (`cu8`, `ci16_le`, `cf32_be`, ...).
    pub fn sigmf_name(self) -> String {
        let e = |e: Endian| if e == Endian::Big { "_be" } else { "_le" };
        match self {
            RawFormat::Cu8 { .. } => "cu8".into(),
            RawFormat::Cs8 => "ci8".into(),
            RawFormat::Cs16(x) => format!("ci16{}", e(x)),
            RawFormat::Cu16(x) => format!("cu16{}", e(x)),
            RawFormat::Cs32(x) => format!("ci32{}", e(x)),
            RawFormat::Cu32(x) => format!("cu32{}", e(x)),
            RawFormat::Cf32(x) => format!("cf32{}", e(x)),
            RawFormat::Cf64(x) => format!("cf64{}", e(x)),
        }
    }

    /// Parses a `--iq-format` value or a file extension: `cu8`, `cs8`, `cs16`, `cf32`,
    /// `cfile`, `raw`, and rtl_433's `complex16u`/`complex16s`.
    pub fn from_name(name: &str) -> Option<RawFormat> {
        Some(match name.to_ascii_lowercase().as_str() {
            "cu8" | "complex16u" => CU8_RTL,
            "cs8" | "complex16s" => RawFormat::Cs8,
            "cs16" => RawFormat::Cs16(Endian::Little),
            "cf32" | "cfile" | "raw" | "fc32" => RawFormat::Cf32(Endian::Little),
            _ => return None,
        })
    }

    /// True when the encoding can hold NaN or infinity.
    pub fn is_float(self) -> bool {
        matches!(self, RawFormat::Cf32(_) | RawFormat::Cf64(_))
    }

    /// Decodes `bytes` (a whole number of samples) into `out` (the same number of
    /// samples). Non-finite float samples become zero; returns how many did.
    pub fn decode(self, bytes: &[u8], out: &mut [Complex32]) -> u64 {
        debug_assert_eq!(bytes.len(), out.len() * self.bytes_per_sample());
        match self {
            RawFormat::Cu8 { zero_x2 } => {
                // A 256-entry table: one load per component, no arithmetic in the loop.
                // Computed as (2x - zero_x2) * (1 / zero_x2), the way a compact kuzet
                // capture with scale 1/255 reads back, so both give bit-identical floats.
                let mut lut = [0f32; 256];
                let inv = 1.0 / zero_x2 as f32;
                for (i, v) in lut.iter_mut().enumerate() {
                    *v = (2 * i as i32 - zero_x2 as i32) as f32 * inv;
                }
                for (o, b) in out.iter_mut().zip(bytes.chunks_exact(2)) {
                    *o = Complex32::new(lut[b[0] as usize], lut[b[1] as usize]);
                }
                0
            }
            RawFormat::Cs8 => {
                // x / 128 and x · (1/128) are the same float: the scale is a power of two.
                samples::i8_to_f32(
                    bytemuck::cast_slice_mut(out),
                    bytemuck::cast_slice(bytes),
                    1.0 / 128.0,
                );
                0
            }
            RawFormat::Cs16(e) => {
                decode_pairs::<2>(bytes, out, |b| {
                    let v = if e == Endian::Big {
                        i16::from_be_bytes(b)
                    } else {
                        i16::from_le_bytes(b)
                    };
                    v as f32 * (1.0 / 32768.0)
                });
                0
            }
            RawFormat::Cu16(e) => {
                decode_pairs::<2>(bytes, out, |b| {
                    let v = if e == Endian::Big {
                        u16::from_be_bytes(b)
                    } else {
                        u16::from_le_bytes(b)
                    };
                    (v as f32 - 32768.0) * (1.0 / 32768.0)
                });
                0
            }
            RawFormat::Cs32(e) => {
                decode_pairs::<4>(bytes, out, |b| {
                    let v = if e == Endian::Big {
                        i32::from_be_bytes(b)
                    } else {
                        i32::from_le_bytes(b)
                    };
                    (v as f64 / 2147483648.0) as f32
                });
                0
            }
            RawFormat::Cu32(e) => {
                decode_pairs::<4>(bytes, out, |b| {
                    let v = if e == Endian::Big {
                        u32::from_be_bytes(b)
                    } else {
                        u32::from_le_bytes(b)
                    };
                    ((v as f64 - 2147483648.0) / 2147483648.0) as f32
                });
                0
            }
            RawFormat::Cf32(e) => {
                decode_pairs::<4>(bytes, out, |b| {
                    if e == Endian::Big {
                        f32::from_be_bytes(b)
                    } else {
                        f32::from_le_bytes(b)
                    }
                });
                zero_non_finite(out)
            }
            RawFormat::Cf64(e) => {
                decode_pairs::<8>(bytes, out, |b| {
                    (if e == Endian::Big {
                        f64::from_be_bytes(b)
                    } else {
                        f64::from_le_bytes(b)
                    }) as f32
                });
                zero_non_finite(out)
            }
        }
    }

    /// Encodes samples into `out` (cleared first). Integer formats round and clip; returns
    /// the number of clipped samples.
    pub fn encode(self, samples: &[Complex32], out: &mut Vec<u8>) -> u64 {
        out.clear();
        out.reserve(samples.len() * self.bytes_per_sample());
        let mut clipped = 0u64;
        // Round half away from zero with a truncating cast: `f32::round` is a libm call
        // on baseline x86-64 and would halve conversion speed.
        let q = |x: f32, full: f32, max: f32, clipped: &mut u64| -> f32 {
            let v = x * full;
            let r = v + 0.5f32.copysign(v);
            // Two's complement: the negative range is one wider.
            *clipped += u64::from(!(-max - 2.0..max + 1.0).contains(&r));
            r.clamp(-max - 1.0, max)
        };
        for s in samples {
            let mut c = 0u64;
            match self {
                RawFormat::Cu8 { zero_x2 } => {
                    let zero = zero_x2 as f32 / 2.0;
                    for v in [s.re, s.im] {
                        let x = (v * zero + zero + 0.5).clamp(0.0, 255.0);
                        c |= u64::from(!(-1.0..=1.0).contains(&v));
                        out.push(x as u8);
                    }
                }
                RawFormat::Cs8 => {
                    for v in [s.re, s.im] {
                        out.push(q(v, 128.0, 127.0, &mut c) as i8 as u8);
                    }
                }
                RawFormat::Cs16(e) => {
                    for v in [s.re, s.im] {
                        let x = q(v, 32768.0, 32767.0, &mut c) as i16;
                        out.extend_from_slice(&if e == Endian::Big {
                            x.to_be_bytes()
                        } else {
                            x.to_le_bytes()
                        });
                    }
                }
                RawFormat::Cu16(e) => {
                    for v in [s.re, s.im] {
                        let x = (q(v, 32768.0, 32767.0, &mut c) + 32768.0).max(0.0) as u16;
                        out.extend_from_slice(&if e == Endian::Big {
                            x.to_be_bytes()
                        } else {
                            x.to_le_bytes()
                        });
                    }
                }
                RawFormat::Cs32(e) | RawFormat::Cu32(e) => {
                    let unsigned = matches!(self, RawFormat::Cu32(_));
                    for v in [s.re, s.im] {
                        let x = ((v as f64) * 2147483648.0)
                            .round()
                            .clamp(-2147483648.0, 2147483647.0);
                        c |= u64::from(v.abs() > 1.0);
                        let b = if unsigned {
                            let u = (x + 2147483648.0) as u32;
                            if e == Endian::Big {
                                u.to_be_bytes()
                            } else {
                                u.to_le_bytes()
                            }
                        } else {
                            let i = x as i32;
                            if e == Endian::Big {
                                i.to_be_bytes()
                            } else {
                                i.to_le_bytes()
                            }
                        };
                        out.extend_from_slice(&b);
                    }
                }
                RawFormat::Cf32(e) => {
                    for v in [s.re, s.im] {
                        out.extend_from_slice(&if e == Endian::Big {
                            v.to_be_bytes()
                        } else {
                            v.to_le_bytes()
                        });
                    }
                }
                RawFormat::Cf64(e) => {
                    for v in [s.re as f64, s.im as f64] {
                        out.extend_from_slice(&if e == Endian::Big {
                            v.to_be_bytes()
                        } else {
                            v.to_le_bytes()
                        });
                    }
                }
            }
            clipped += c.min(1);
        }
        clipped
    }
}

fn decode_pairs<const N: usize>(bytes: &[u8], out: &mut [Complex32], f: impl Fn([u8; N]) -> f32) {
    for (o, b) in out.iter_mut().zip(bytes.chunks_exact(2 * N)) {
        let (i, q) = b.split_at(N);
        // Both halves are exactly N bytes by construction of chunks_exact(2 * N).
        let mut ib = [0u8; N];
        let mut qb = [0u8; N];
        ib.copy_from_slice(i);
        qb.copy_from_slice(q);
        *o = Complex32::new(f(ib), f(qb));
    }
}

/// What a file name in the rtl_433 convention says (`g001_433.92M_250k.cu8`,
/// `capture_868.3M_1024k_20250101.cs16`, SatDump's `..._2400000SPS_100000000Hz.cs16`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct NameInfo {
    /// Centre frequency, Hz.
    pub center_freq_hz: Option<f64>,
    /// Sample rate, samples/s.
    pub sample_rate_hz: Option<f64>,
}

/// Largest rate a bare number (no `sps`) in a name is read as; above it, a lone number is a
/// frequency. SDR front ends people record with run at most ~61.44 MS/s.
const MAX_BARE_RATE_HZ: f64 = 25e6;

/// Parses one `_`-separated token: a number with an SI suffix and an optional unit.
/// Returns (value in Hz, explicit unit: Some(true) for a rate, Some(false) for a frequency).
fn parse_token(tok: &str) -> Option<(f64, Option<bool>)> {
    let lower = tok.to_ascii_lowercase();
    let (body, unit) = if let Some(b) = lower.strip_suffix("sps") {
        (b, Some(true))
    } else if let Some(b) = lower.strip_suffix("s/s") {
        (b, Some(true))
    } else if let Some(b) = lower.strip_suffix("hz") {
        (b, Some(false))
    } else {
        (lower.as_str(), None)
    };
    let (num, mult) = match body.as_bytes().last()? {
        b'k' => (&body[..body.len() - 1], 1e3),
        b'm' => (&body[..body.len() - 1], 1e6),
        b'g' => (&body[..body.len() - 1], 1e9),
        _ => (body, 1.0),
    };
    // Only plain decimals: `1e5` or `inf` in a name is not what rtl_433 writes.
    if num.is_empty()
        || num.len() > 24
        || !num.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        || !num.as_bytes()[0].is_ascii_digit()
    {
        return None;
    }
    // A bare integer with no suffix and no unit (`g001`, a date) says nothing.
    if mult == 1.0 && unit.is_none() {
        return None;
    }
    let v: f64 = num.parse().ok()?;
    let hz = v * mult;
    (hz.is_finite() && hz > 0.0).then_some((hz, unit))
}

/// Reads centre frequency and sample rate from a file name in the rtl_433 convention.
/// Tokens are separated by `_`; `433.92M` is a frequency and `250k` a rate; with two bare
/// numbers the larger is the frequency. Never fails: what cannot be read is `None`.
pub fn parse_name(file_name: &str) -> NameInfo {
    // Drop the extension(s): `x_250k.cu8` and `x_250k.sigmf-data`.
    let stem = file_name.split('.').next().map_or(file_name, |_| {
        let s = file_name;
        match s.rfind('.') {
            Some(i) => &s[..i],
            None => s,
        }
    });
    let mut info = NameInfo::default();
    let mut bare: Vec<f64> = Vec::new();
    for tok in stem.split(['_', ' ']).take(64) {
        match parse_token(tok) {
            Some((hz, Some(true))) => info.sample_rate_hz = info.sample_rate_hz.or(Some(hz)),
            Some((hz, Some(false))) => info.center_freq_hz = info.center_freq_hz.or(Some(hz)),
            Some((hz, None)) => bare.push(hz),
            None => {}
        }
    }
    match (info.center_freq_hz, info.sample_rate_hz, bare.as_slice()) {
        (_, _, []) => {}
        (None, None, [one]) => {
            if *one <= MAX_BARE_RATE_HZ {
                info.sample_rate_hz = Some(*one);
            } else {
                info.center_freq_hz = Some(*one);
            }
        }
        (None, None, [a, b, ..]) => {
            let (hi, lo) = if a >= b { (*a, *b) } else { (*b, *a) };
            info.center_freq_hz = Some(hi);
            info.sample_rate_hz = Some(lo);
        }
        (Some(_), None, [r, ..]) => info.sample_rate_hz = Some(*r),
        (None, Some(_), [f, ..]) => info.center_freq_hz = Some(*f),
        (Some(_), Some(_), _) => {}
    }
    info
}

/// A contiguous run of samples at a byte offset in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Byte offset of the first sample.
    pub offset: u64,
    /// Samples in the run.
    pub samples: u64,
}

/// Streams samples of one encoding from a list of byte spans of one file (a whole raw
/// file, a WAV `data` chunk, SigMF captures separated by header bytes, a member of a tar).
#[derive(Debug)]
pub struct SpanReader {
    path: PathBuf,
    file: File,
    format: RawFormat,
    spans: Vec<Span>,
    span: usize,
    in_span: u64,
    total: u64,
    pos: u64,
    scratch: Vec<u8>,
    non_finite: u64,
    /// Where the OS file position is, so consecutive reads skip the seek.
    file_pos: Option<u64>,
}

impl SpanReader {
    /// A second reader of the same spans of the same file, at this one's position.
    ///
    /// # Errors
    /// [`Error::Capture`] when the file cannot be opened again.
    pub fn reopen(&self) -> Result<Self> {
        let mut again = SpanReader::open(&self.path, self.format, self.spans.clone())?;
        again.seek(self.pos);
        Ok(again)
    }

    /// Opens `path` for reading the given spans.
    ///
    /// # Errors
    /// [`Error::Capture`] when the file cannot be opened.
    pub fn open(path: &Path, format: RawFormat, spans: Vec<Span>) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::capture(path, CaptureProblem::Io(e)))?;
        let spans: Vec<Span> = spans.into_iter().filter(|s| s.samples > 0).collect();
        let total = spans.iter().map(|s| s.samples).sum();
        Ok(SpanReader {
            path: path.to_path_buf(),
            file,
            format,
            spans,
            span: 0,
            in_span: 0,
            total,
            pos: 0,
            scratch: Vec::new(),
            non_finite: 0,
            file_pos: None,
        })
    }

    /// Samples over all spans.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// True when there is nothing to read.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The encoding.
    pub fn format(&self) -> RawFormat {
        self.format
    }

    /// Samples that were NaN or infinite and were read as zero.
    pub fn non_finite_samples(&self) -> u64 {
        self.non_finite
    }

    /// Index of the next sample.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Moves to sample `index` (clamped to the end).
    pub fn seek(&mut self, index: u64) {
        let mut left = index.min(self.total);
        self.pos = left;
        self.span = 0;
        self.in_span = 0;
        while self.span < self.spans.len() && left >= self.spans[self.span].samples {
            left -= self.spans[self.span].samples;
            self.span += 1;
        }
        self.in_span = left;
        self.file_pos = None;
    }

    /// Positions the file for the next read of up to `max` samples from the current span;
    /// returns the span, the sample count and the byte offset (`None` at the end).
    fn position_for(&mut self, max: usize) -> Result<Option<(Span, usize, u64)>> {
        let Some(span) = self.spans.get(self.span).copied() else {
            return Ok(None);
        };
        let bps = self.format.bytes_per_sample();
        let n = (span.samples - self.in_span).min(max as u64) as usize;
        if n == 0 {
            return Ok(None);
        }
        let at = span.offset + self.in_span * bps as u64;
        if self.file_pos != Some(at) {
            self.file
                .seek(SeekFrom::Start(at))
                .map_err(|e| Error::capture(&self.path, CaptureProblem::Io(e)))?;
        }
        Ok(Some((span, n, at)))
    }

    /// The error for a failed read of `n` samples; the file position is unknown after it.
    fn read_failed(&mut self, e: std::io::Error, n: usize) -> Error {
        self.file_pos = None;
        Error::capture(
            &self.path,
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                CaptureProblem::Truncated(format!(
                    "the file ended inside samples {}..{} (was it cut while being read?)",
                    self.pos,
                    self.pos + n as u64
                ))
            } else {
                CaptureProblem::Io(e)
            },
        )
    }

    /// Moves past `n` samples just read at byte offset `at` of `span`.
    fn advance(&mut self, span: Span, n: usize, at: u64) {
        self.file_pos = Some(at + (n * self.format.bytes_per_sample()) as u64);
        self.in_span += n as u64;
        if self.in_span == span.samples {
            self.span += 1;
            self.in_span = 0;
        }
    }

    /// Reads the next raw bytes of up to `max` samples from the current span into the
    /// scratch buffer; returns the sample count (0 at the end).
    fn fill(&mut self, max: usize) -> Result<usize> {
        let Some((span, n, at)) = self.position_for(max)? else {
            return Ok(0);
        };
        let want = n * self.format.bytes_per_sample();
        if self.scratch.len() < want {
            self.scratch.resize(want, 0);
        }
        if let Err(e) = self.file.read_exact(&mut self.scratch[..want]) {
            return Err(self.read_failed(e, n));
        }
        self.advance(span, n, at);
        Ok(n)
    }

    /// Reads up to `out.len()` samples; returns how many (0 at the end).
    ///
    /// # Errors
    /// [`Error::Capture`] when the file cannot be read or is shorter than it was at open.
    pub fn read(&mut self, out: &mut [Complex32]) -> Result<usize> {
        let mut done = 0;
        while done < out.len() {
            let n = self.fill(out.len() - done)?;
            if n == 0 {
                break;
            }
            let bytes = &self.scratch[..n * self.format.bytes_per_sample()];
            self.non_finite += self.format.decode(bytes, &mut out[done..done + n]);
            done += n;
        }
        self.pos += done as u64;
        Ok(done)
    }

    /// Reads whole samples' raw bytes (undecoded) straight into `out` (no scratch copy),
    /// up to `out.len() / bytes_per_sample` samples from the current span; returns the
    /// sample count (0 at the end). Bulk converters call it in a loop.
    ///
    /// # Errors
    /// As [`SpanReader::read`].
    pub fn read_raw_into(&mut self, out: &mut [u8]) -> Result<usize> {
        let bps = self.format.bytes_per_sample();
        let Some((span, n, at)) = self.position_for(out.len() / bps)? else {
            return Ok(0);
        };
        if let Err(e) = self.file.read_exact(&mut out[..n * bps]) {
            return Err(self.read_failed(e, n));
        }
        self.advance(span, n, at);
        self.pos += n as u64;
        Ok(n)
    }

    /// Reads up to `max` samples' raw bytes (undecoded) into `out`, for lossless copies
    /// to the same encoding; returns the sample count.
    ///
    /// # Errors
    /// As [`SpanReader::read`].
    pub fn read_raw(&mut self, max: usize, out: &mut Vec<u8>) -> Result<usize> {
        out.clear();
        let mut done = 0;
        while done < max {
            let n = self.fill(max - done)?;
            if n == 0 {
                break;
            }
            out.extend_from_slice(&self.scratch[..n * self.format.bytes_per_sample()]);
            done += n;
        }
        self.pos += done as u64;
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtl_433_names() {
        let i = parse_name("g001_433.92M_250k.cu8");
        assert_eq!(i.center_freq_hz, Some(433.92e6));
        assert_eq!(i.sample_rate_hz, Some(250e3));
        let i = parse_name("g005_868.3M_2.4M.cs16");
        assert_eq!(i.center_freq_hz, Some(868.3e6));
        assert_eq!(i.sample_rate_hz, Some(2.4e6));
        let i = parse_name("rec_2.4M.cu8");
        assert_eq!(i.sample_rate_hz, Some(2.4e6));
        assert_eq!(i.center_freq_hz, None);
        let i = parse_name("2023-08-05_18-02-45-534_16000000SPS_2284000000Hz.cs16");
        assert_eq!(i.sample_rate_hz, Some(16e6));
        assert_eq!(i.center_freq_hz, Some(2.284e9));
        assert_eq!(parse_name("capture.cu8"), NameInfo::default());
        assert_eq!(parse_name(""), NameInfo::default());
        assert_eq!(parse_name("g001_1e9M_infk.cu8"), NameInfo::default());
    }

    #[test]
    fn cu8_uses_rtl_offset() {
        let mut out = [Complex32::default(); 2];
        CU8_RTL.decode(&[0, 255, 127, 128], &mut out);
        assert_eq!(out[0], Complex32::new(-1.0, 1.0));
        assert!((out[1].re + 0.5 / 127.5).abs() < 1e-6);
        let mut bytes = Vec::new();
        CU8_RTL.encode(&out, &mut bytes);
        assert_eq!(bytes, [0, 255, 127, 128]);
    }

    #[test]
    fn every_format_round_trips() {
        let samples = [
            Complex32::new(0.5, -0.25),
            Complex32::new(-1.0, 0.0),
            Complex32::new(0.0078125, -0.5),
        ];
        for e in [Endian::Little, Endian::Big] {
            for f in [
                RawFormat::Cs16(e),
                RawFormat::Cu16(e),
                RawFormat::Cs32(e),
                RawFormat::Cu32(e),
                RawFormat::Cf32(e),
                RawFormat::Cf64(e),
                RawFormat::Cs8,
                CU8_RTL,
            ] {
                let mut bytes = Vec::new();
                f.encode(&samples, &mut bytes);
                assert_eq!(bytes.len(), 3 * f.bytes_per_sample());
                let mut back = [Complex32::default(); 3];
                f.decode(&bytes, &mut back);
                for (a, b) in samples.iter().zip(back.iter()) {
                    assert!((a - b).norm() < 1e-2, "{f:?}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn non_finite_floats_become_zero() {
        let mut bytes = Vec::new();
        for v in [1.0f32, f32::NAN, 0.5, 0.5, f32::INFINITY, 0.0] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let mut out = [Complex32::default(); 3];
        let bad = RawFormat::Cf32(Endian::Little).decode(&bytes, &mut out);
        assert_eq!(bad, 2);
        assert_eq!(out[1], Complex32::new(0.5, 0.5));
        assert_eq!(out[0], Complex32::default());
    }

    #[test]
    fn clipping_is_counted() {
        let mut bytes = Vec::new();
        let n = RawFormat::Cs16(Endian::Little).encode(
            &[Complex32::new(2.0, 0.0), Complex32::new(0.1, 0.1)],
            &mut bytes,
        );
        assert_eq!(n, 1);
        assert_eq!(i16::from_le_bytes([bytes[0], bytes[1]]), i16::MAX);
    }

    #[test]
    fn span_reader_skips_headers_between_spans() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.cs8");
        // 2 header bytes, 2 samples, 4 header bytes, 1 sample.
        std::fs::write(&p, [9, 9, 64, 0, 0, 64, 7, 7, 7, 7, 192, 192]).unwrap();
        let spans = vec![
            Span {
                offset: 2,
                samples: 2,
            },
            Span {
                offset: 10,
                samples: 1,
            },
        ];
        let mut r = SpanReader::open(&p, RawFormat::Cs8, spans).unwrap();
        let mut out = [Complex32::default(); 8];
        assert_eq!(r.read(&mut out).unwrap(), 3);
        assert_eq!(out[0], Complex32::new(0.5, 0.0));
        assert_eq!(out[1], Complex32::new(0.0, 0.5));
        assert_eq!(out[2], Complex32::new(-0.5, -0.5));
        assert_eq!(r.read(&mut out).unwrap(), 0);
        r.seek(2);
        assert_eq!(r.read(&mut out).unwrap(), 1);
        assert_eq!(out[0], Complex32::new(-0.5, -0.5));
    }

    #[test]
    fn a_file_cut_after_open_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.cs8");
        std::fs::write(&p, [1, 2]).unwrap();
        let mut r = SpanReader::open(
            &p,
            RawFormat::Cs8,
            vec![Span {
                offset: 0,
                samples: 4,
            }],
        )
        .unwrap();
        let mut out = [Complex32::default(); 4];
        let e = r.read(&mut out).unwrap_err().to_string();
        assert!(e.contains("x.cs8") && e.contains("truncated"), "{e}");
    }
}
