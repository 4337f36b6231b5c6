//! SigMF recordings (<https://sigmf.org>): a JSON `.sigmf-meta` beside a raw `.sigmf-data`,
//! or both inside a `.sigmf` tar archive. Read: every complex datatype (`cf32_le`,
//! `ci16_le`, `ci8`, `cu8`, their `_be` variants, `cf64`, `ci32`, `cu16`, `cu32`), capture
//! segments with header bytes, annotations as kuzet [`Annotation`]s. Written: `cf32_le`
//! with kuzet's annotations (alerts, ground truth).
//!
//! The metadata is parsed into [`SigmfMeta`] by a pure function over bytes (the fuzz
//! target's entry point); the data is laid out as [`Span`]s of one file, so a 10 GB
//! recording streams through [`super::raw::SpanReader`] like any raw file.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::raw::{Endian, RawFormat, Span};
use crate::error::{CaptureProblem, Error, Result};
use crate::types::Annotation;

/// Largest `.sigmf-meta` kuzet reads: real metadata with thousands of annotations is a few
/// MB; anything bigger is not metadata, and reading it whole would be unbounded.
pub const MAX_META_BYTES: u64 = 64 << 20;

/// Annotations kept from one file; beyond this they are counted and dropped, so a
/// hostile file cannot exhaust memory.
const MAX_ANNOTATIONS: usize = 100_000;

/// One `captures` segment.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureSegment {
    /// First sample of the segment (in the dataset's sample index, headers excluded).
    pub sample_start: u64,
    /// Centre frequency, when given.
    pub frequency_hz: Option<f64>,
    /// ISO 8601 time of the segment's first sample.
    pub datetime: Option<String>,
    /// Bytes of non-sample header in the data file before this segment's samples.
    pub header_bytes: u64,
}

/// What kuzet uses of a `.sigmf-meta`.
#[derive(Debug, Clone, PartialEq)]
pub struct SigmfMeta {
    /// Sample encoding (`core:datatype`).
    pub datatype: RawFormat,
    /// `core:sample_rate`.
    pub sample_rate_hz: Option<f64>,
    /// `core:description`.
    pub description: String,
    /// `core:hw` (or `core:recorder` when there is no hw).
    pub device: String,
    /// `core:trailing_bytes`: non-sample bytes at the end of the data file.
    pub trailing_bytes: u64,
    /// Capture segments in sample order (at least one).
    pub captures: Vec<CaptureSegment>,
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// Things wrong but survivable.
    pub warnings: Vec<String>,
}

fn bad(field: &'static str, why: impl Into<String>) -> CaptureProblem {
    CaptureProblem::BadField {
        field,
        why: why.into(),
    }
}

/// Parses a SigMF `core:datatype`.
///
/// # Errors
/// [`CaptureProblem::NotIq`] for real (`r…`) types, [`CaptureProblem::BadField`] for text
/// that is no SigMF datatype.
pub fn parse_datatype(s: &str) -> Result<RawFormat, CaptureProblem> {
    let (complex, rest) = match s.as_bytes().first() {
        Some(b'c') => (true, &s[1..]),
        Some(b'r') => (false, &s[1..]),
        _ => {
            return Err(bad(
                "core:datatype",
                format!("`{}` is not a SigMF datatype", clip(s)),
            ))
        }
    };
    let (ty, endian) = match rest.rsplit_once('_') {
        Some((t, "le")) => (t, Endian::Little),
        Some((t, "be")) => (t, Endian::Big),
        Some(_) => {
            return Err(bad(
                "core:datatype",
                format!("`{}` has an unknown byte order", clip(s)),
            ))
        }
        // Multi-byte types without a suffix are not valid SigMF; read them as
        // little-endian, as every SDR tool writes them.
        None => (rest, Endian::Little),
    };
    let f = match ty {
        "f32" => RawFormat::Cf32(endian),
        "f64" => RawFormat::Cf64(endian),
        "i32" => RawFormat::Cs32(endian),
        "i16" => RawFormat::Cs16(endian),
        "u32" => RawFormat::Cu32(endian),
        "u16" => RawFormat::Cu16(endian),
        "i8" => RawFormat::Cs8,
        // cu8 recordings are rtl_sdr's, whose converter's mid-scale is 127.5 (rtl_sdr and
        // GNU Radio's osmosdr source subtract 127.4-127.5); the same bytes read as raw
        // `.cu8` and as SigMF must be the same samples, and zero at 128 would put a half-LSB
        // line at DC into every such recording.
        "u8" => super::raw::CU8_RTL,
        _ => {
            return Err(bad(
                "core:datatype",
                format!("`{}` is not a SigMF datatype", clip(s)),
            ))
        }
    };
    if !complex {
        return Err(CaptureProblem::NotIq(format!(
            "core:datatype `{}` is real-valued; kuzet needs complex (c…) samples",
            clip(s)
        )));
    }
    Ok(f)
}

/// At most 40 characters of untrusted text for a message.
fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

fn get_u64(obj: &Map<String, Value>, key: &'static str) -> Result<Option<u64>, CaptureProblem> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| {
            bad(
                key,
                format!(
                    "must be a non-negative integer, got {}",
                    clip(&v.to_string())
                ),
            )
        }),
    }
}

fn get_f64(obj: &Map<String, Value>, key: &'static str) -> Result<Option<f64>, CaptureProblem> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_f64() {
            Some(f) if f.is_finite() => Ok(Some(f)),
            _ => Err(bad(
                key,
                format!("must be a number, got {}", clip(&v.to_string())),
            )),
        },
    }
}

fn get_str(obj: &Map<String, Value>, key: &str) -> Option<String> {
    obj.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Parses `.sigmf-meta` bytes.
///
/// # Errors
/// Invalid JSON, a missing or unknown `core:datatype`, a real-valued or multi-channel
/// dataset, fields of the wrong type, captures out of order.
pub fn parse_meta(bytes: &[u8]) -> Result<SigmfMeta, CaptureProblem> {
    let root: Value = serde_json::from_slice(bytes)?;
    let root = root
        .as_object()
        .ok_or_else(|| bad("metadata", "must be a JSON object"))?;
    let global = root
        .get("global")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("global", "is missing or not an object"))?;
    let dt = global
        .get("core:datatype")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("core:datatype", "is missing"))?;
    let datatype = parse_datatype(dt)?;
    if let Some(n) = get_u64(global, "core:num_channels")? {
        if n > 1 {
            return Err(CaptureProblem::NotIq(format!(
                "{n} interleaved channels (core:num_channels); kuzet reads one"
            )));
        }
    }
    let sample_rate_hz = get_f64(global, "core:sample_rate")?;
    if let Some(r) = sample_rate_hz {
        if r <= 0.0 {
            return Err(bad(
                "core:sample_rate",
                format!("must be positive, got {r}"),
            ));
        }
    }
    let mut warnings = Vec::new();
    if global.contains_key("core:dataset") {
        warnings
            .push("core:dataset (non-conforming dataset) is ignored; reading .sigmf-data".into());
    }
    let device = get_str(global, "core:hw")
        .or_else(|| get_str(global, "core:recorder"))
        .unwrap_or_default();
    let trailing_bytes = get_u64(global, "core:trailing_bytes")?.unwrap_or(0);

    let mut captures = Vec::new();
    match root.get("captures") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for c in list {
                let c = c
                    .as_object()
                    .ok_or_else(|| bad("captures", "entries must be objects"))?;
                captures.push(CaptureSegment {
                    sample_start: get_u64(c, "core:sample_start")?.unwrap_or(0),
                    frequency_hz: get_f64(c, "core:frequency")?,
                    datetime: get_str(c, "core:datetime"),
                    header_bytes: get_u64(c, "core:header_bytes")?.unwrap_or(0),
                });
            }
        }
        Some(_) => return Err(bad("captures", "must be an array")),
    }
    if captures.is_empty() {
        captures.push(CaptureSegment {
            sample_start: 0,
            frequency_hz: None,
            datetime: None,
            header_bytes: 0,
        });
    }
    if captures
        .windows(2)
        .any(|w| w[1].sample_start < w[0].sample_start)
    {
        return Err(bad("captures", "are not in core:sample_start order"));
    }
    if captures[0].sample_start != 0 {
        warnings.push(format!(
            "the first capture starts at sample {}, not 0; samples before it are read too",
            captures[0].sample_start
        ));
        captures[0].sample_start = 0;
    }

    let mut annotations = Vec::new();
    let mut dropped = 0usize;
    match root.get("annotations") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for a in list {
                let a = a
                    .as_object()
                    .ok_or_else(|| bad("annotations", "entries must be objects"))?;
                if annotations.len() >= MAX_ANNOTATIONS {
                    dropped += 1;
                    continue;
                }
                let start = get_u64(a, "core:sample_start")?.unwrap_or(0);
                let lo = get_f64(a, "core:freq_lower_edge")?;
                let hi = get_f64(a, "core:freq_upper_edge")?;
                annotations.push(Annotation {
                    start_sample: start,
                    // An annotation without a count runs to the end of the recording.
                    length: get_u64(a, "core:sample_count")?.unwrap_or(u64::MAX - start),
                    freq_lo_hz: lo.unwrap_or(f64::NAN),
                    freq_hi_hz: hi.unwrap_or(f64::NAN),
                    label: get_str(a, "core:label")
                        .or_else(|| get_str(a, "core:comment"))
                        .unwrap_or_default(),
                    source: get_str(a, "core:generator").unwrap_or_else(|| "sigmf".into()),
                });
            }
        }
        Some(_) => return Err(bad("annotations", "must be an array")),
    }
    if dropped > 0 {
        warnings.push(format!(
            "{dropped} annotations beyond the first {MAX_ANNOTATIONS} were ignored"
        ));
    }
    Ok(SigmfMeta {
        datatype,
        sample_rate_hz,
        description: get_str(global, "core:description").unwrap_or_default(),
        device,
        trailing_bytes,
        captures,
        annotations,
        warnings,
    })
}

impl SigmfMeta {
    /// Lays the captures out over a data file of `data_len` bytes starting at byte
    /// `base`: one [`Span`] per segment. Inconsistencies with the data length (a datatype
    /// that does not divide it, segments past its end) become warnings and the bad span
    /// is skipped.
    ///
    /// # Errors
    /// [`CaptureProblem::Empty`] when no whole sample remains.
    pub fn layout(&mut self, base: u64, data_len: u64) -> Result<Vec<Span>, CaptureProblem> {
        let bps = self.datatype.bytes_per_sample() as u64;
        let dt = self.datatype.sigmf_name();
        let mut end = data_len;
        if self.trailing_bytes > 0 {
            if self.trailing_bytes > data_len {
                self.warnings.push(format!(
                    "core:trailing_bytes ({}) exceeds the data ({data_len} bytes); ignored",
                    self.trailing_bytes
                ));
            } else {
                end -= self.trailing_bytes;
            }
        }
        let mut spans = Vec::with_capacity(self.captures.len());
        let mut at = 0u64;
        for (k, c) in self.captures.iter().enumerate() {
            at = at.saturating_add(c.header_bytes);
            if at >= end {
                self.warnings.push(format!(
                    "capture {k} (sample {}) starts beyond the end of the data; it and later \
                     captures are skipped",
                    c.sample_start
                ));
                break;
            }
            let room = (end - at) / bps;
            let want = match self.captures.get(k + 1) {
                Some(next) => next.sample_start - c.sample_start,
                None => {
                    let left = (end - at) % bps;
                    if left != 0 {
                        self.warnings.push(format!(
                            "the data length ({data_len} bytes) is not a whole number of {dt} \
                             samples ({bps} bytes each); the last {left} bytes are ignored \
                             (is core:datatype right?)"
                        ));
                    }
                    room
                }
            };
            let n = if want > room {
                self.warnings.push(format!(
                    "capture {k} declares {want} samples but the data holds only {room}; \
                     the data is truncated or core:datatype ({dt}) is wrong"
                ));
                room
            } else {
                want
            };
            spans.push(Span {
                offset: base + at,
                samples: n,
            });
            at += n * bps;
            if n < want {
                break;
            }
        }
        if spans.iter().all(|s| s.samples == 0) {
            return Err(CaptureProblem::Empty);
        }
        Ok(spans)
    }

    /// Frequency changes after the first capture, as annotations spanning each segment
    /// (kuzet analyzes a recording at one centre frequency: the first).
    pub fn retune_annotations(&self, total: u64) -> Vec<Annotation> {
        let first = self.captures.first().and_then(|c| c.frequency_hz);
        let mut out = Vec::new();
        for (k, c) in self.captures.iter().enumerate().skip(1) {
            let Some(f) = c.frequency_hz else { continue };
            if Some(f) == first {
                continue;
            }
            let end = self
                .captures
                .get(k + 1)
                .map_or(total, |n| n.sample_start)
                .min(total);
            out.push(Annotation {
                start_sample: c.sample_start,
                length: end.saturating_sub(c.sample_start),
                freq_lo_hz: f,
                freq_hi_hz: f,
                label: format!("retune: centre frequency {f} Hz"),
                source: RETUNE_SOURCE.into(),
            });
        }
        out
    }
}

/// The `source` of the annotations [`SigmfMeta::retune_annotations`] makes.
pub const RETUNE_SOURCE: &str = "sigmf/captures";

/// Where a SigMF recording's parts are.
#[derive(Debug, Clone)]
pub struct SigmfLocation {
    /// The metadata, already read (bounded by [`MAX_META_BYTES`]).
    pub meta_bytes: Vec<u8>,
    /// File holding the samples (the `.sigmf-data`, or the archive itself).
    pub data_path: PathBuf,
    /// Byte offset of the data in `data_path`.
    pub data_offset: u64,
    /// Length of the data in bytes.
    pub data_len: u64,
}

fn read_bounded(path: &Path) -> Result<Vec<u8>> {
    let io = |e| Error::capture(path, CaptureProblem::Io(e));
    let f = super::require_regular(path)
        .and_then(|()| std::fs::File::open(path))
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::capture(path, CaptureProblem::NotFound)
            } else {
                io(e)
            }
        })?;
    let len = f.metadata().map_err(io)?.len();
    if len > MAX_META_BYTES {
        return Err(Error::capture(
            path,
            bad(
                "metadata",
                format!("is {len} bytes, more than the {MAX_META_BYTES} kuzet reads"),
            ),
        ));
    }
    let mut buf = Vec::with_capacity(len as usize);
    f.take(MAX_META_BYTES).read_to_end(&mut buf).map_err(io)?;
    Ok(buf)
}

/// Finds the metadata and data of a recording given either of its files.
///
/// # Errors
/// [`Error::Capture`] when the companion file is missing or unreadable.
pub fn locate_pair(path: &Path) -> Result<SigmfLocation> {
    let meta_path = path.with_extension("sigmf-meta");
    let data_path = path.with_extension("sigmf-data");
    let meta_bytes = read_bounded(&meta_path)?;
    let md = super::require_regular(&data_path)
        .and_then(|()| std::fs::metadata(&data_path))
        .map_err(|e| {
            Error::capture(
                &data_path,
                if e.kind() == std::io::ErrorKind::NotFound {
                    CaptureProblem::NotFound
                } else {
                    CaptureProblem::Io(e)
                },
            )
        })?;
    Ok(SigmfLocation {
        meta_bytes,
        data_path,
        data_offset: 0,
        data_len: md.len(),
    })
}

/// Finds the first recording in a `.sigmf` tar archive without extracting it: the data
/// member is read in place at its offset in the archive.
///
/// # Errors
/// [`Error::Capture`] when the archive is damaged or has no recording.
pub fn locate_archive(path: &Path) -> Result<SigmfLocation> {
    let err = |p: CaptureProblem| Error::capture(path, p);
    let file = std::fs::File::open(path).map_err(|e| err(CaptureProblem::Io(e)))?;
    let file_len = file
        .metadata()
        .map_err(|e| err(CaptureProblem::Io(e)))?
        .len();
    let mut archive = tar::Archive::new(file);
    let mut metas: Vec<(String, Vec<u8>)> = Vec::new();
    let mut datas: Vec<(String, u64, u64)> = Vec::new();
    let entries = archive
        .entries_with_seek()
        .map_err(|e| err(bad("archive", format!("is not a tar archive: {e}"))))?;
    for (i, entry) in entries.enumerate() {
        if i > 10_000 {
            break;
        }
        let mut entry =
            entry.map_err(|e| err(bad("archive", format!("damaged tar entry: {e}"))))?;
        let name = entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let size = entry.size();
        if let Some(stem) = name.strip_suffix(".sigmf-meta") {
            if size > MAX_META_BYTES {
                return Err(err(bad(
                    "metadata",
                    format!("member {name} is {size} bytes, more than kuzet reads"),
                )));
            }
            let mut buf = Vec::with_capacity(size as usize);
            (&mut entry)
                .take(MAX_META_BYTES)
                .read_to_end(&mut buf)
                .map_err(|e| err(CaptureProblem::Truncated(format!("member {name}: {e}"))))?;
            metas.push((stem.to_string(), buf));
        } else if let Some(stem) = name.strip_suffix(".sigmf-data") {
            datas.push((stem.to_string(), entry.raw_file_position(), size));
        }
    }
    let Some((stem, meta_bytes)) = metas.into_iter().next() else {
        return Err(err(bad("archive", "holds no .sigmf-meta member")));
    };
    let Some((_, offset, len)) = datas.into_iter().find(|d| d.0 == stem) else {
        return Err(err(bad(
            "archive",
            format!("has no {stem}.sigmf-data beside {stem}.sigmf-meta"),
        )));
    };
    // A member whose header claims more bytes than the archive has: read what is there.
    let len = len.min(file_len.saturating_sub(offset));
    Ok(SigmfLocation {
        meta_bytes,
        data_path: path.to_path_buf(),
        data_offset: offset,
        data_len: len,
    })
}

/// Builds the `.sigmf-meta` JSON for a recording kuzet writes.
pub fn build_meta(
    datatype: RawFormat,
    meta: &crate::types::StreamMeta,
    annotations: &[Annotation],
) -> Value {
    let mut global = Map::new();
    global.insert("core:datatype".into(), json!(datatype.sigmf_name()));
    global.insert("core:sample_rate".into(), json!(meta.sample_rate_hz));
    global.insert("core:version".into(), json!("1.2.0"));
    global.insert("core:num_channels".into(), json!(1));
    global.insert("core:recorder".into(), json!("kuzet"));
    if !meta.description.is_empty() {
        global.insert("core:description".into(), json!(meta.description));
    }
    if !meta.device.is_empty() {
        global.insert("core:hw".into(), json!(meta.device));
    }
    let mut capture = Map::new();
    capture.insert("core:sample_start".into(), json!(0));
    capture.insert("core:frequency".into(), json!(meta.center_freq_hz));
    if let Some(t) = meta.start_time_utc.as_deref().and_then(sigmf_datetime) {
        capture.insert("core:datetime".into(), json!(t));
    }
    let anns: Vec<Value> = annotations
        .iter()
        .map(|a| {
            let mut m = Map::new();
            m.insert("core:sample_start".into(), json!(a.start_sample));
            m.insert("core:sample_count".into(), json!(a.length));
            if a.freq_lo_hz.is_finite() && a.freq_hi_hz.is_finite() {
                m.insert("core:freq_lower_edge".into(), json!(a.freq_lo_hz));
                m.insert("core:freq_upper_edge".into(), json!(a.freq_hi_hz));
            }
            if !a.label.is_empty() {
                m.insert("core:label".into(), json!(a.label));
            }
            if !a.source.is_empty() {
                m.insert("core:generator".into(), json!(a.source));
            }
            Value::Object(m)
        })
        .collect();
    json!({
        "global": Value::Object(global),
        "captures": [Value::Object(capture)],
        "annotations": anns,
    })
}

/// SigMF wants `YYYY-MM-DDTHH:MM:SS[.s]Z`; kuzet stores RFC 3339 which may carry an offset.
fn sigmf_datetime(t: &str) -> Option<String> {
    let dt = chrono::DateTime::parse_from_rfc3339(t).ok()?;
    Some(
        dt.with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    )
}

/// Writes a SigMF pair (`x.sigmf-meta` + `x.sigmf-data`) block by block.
pub struct SigmfWriter {
    meta_path: PathBuf,
    data: super::export::RawWriter,
    meta: crate::types::StreamMeta,
    annotations: Vec<Annotation>,
}

impl SigmfWriter {
    /// Creates `base.sigmf-data` now; `base.sigmf-meta` is written by
    /// `finish`, once the annotations are known.
    ///
    /// # Errors
    /// [`Error::Capture`] when the data file cannot be created.
    pub fn create(base: &Path, meta: &crate::types::StreamMeta) -> Result<Self> {
        let data = super::export::RawWriter::create(
            &base.with_extension("sigmf-data"),
            RawFormat::Cf32(Endian::Little),
        )?;
        Ok(SigmfWriter {
            meta_path: base.with_extension("sigmf-meta"),
            data,
            meta: meta.clone(),
            annotations: Vec::new(),
        })
    }
}

impl super::export::IqSink for SigmfWriter {
    fn append(&mut self, samples: &[num_complex::Complex32]) -> Result<()> {
        self.data.append(samples)
    }

    fn annotate(&mut self, a: &Annotation) -> Result<()> {
        self.annotations.push(a.clone());
        Ok(())
    }

    fn clipped_samples(&self) -> u64 {
        0
    }

    fn finish(self: Box<Self>) -> Result<u64> {
        let n = Box::new(self.data).finish()?;
        let v = build_meta(
            RawFormat::Cf32(Endian::Little),
            &self.meta,
            &self.annotations,
        );
        let text = serde_json::to_vec_pretty(&v)
            .map_err(|e| Error::capture(&self.meta_path, CaptureProblem::Json(e)))?;
        std::fs::write(&self.meta_path, text)
            .map_err(|e| Error::capture(&self.meta_path, CaptureProblem::Io(e)))?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(json: &str) -> Result<SigmfMeta, CaptureProblem> {
        parse_meta(json.as_bytes())
    }

    #[test]
    fn datatypes() {
        assert_eq!(
            parse_datatype("cf32_le").unwrap(),
            RawFormat::Cf32(Endian::Little)
        );
        assert_eq!(
            parse_datatype("ci16_be").unwrap(),
            RawFormat::Cs16(Endian::Big)
        );
        assert_eq!(parse_datatype("ci8").unwrap(), RawFormat::Cs8);
        assert!(matches!(
            parse_datatype("cu8").unwrap(),
            RawFormat::Cu8 { .. }
        ));
        assert!(matches!(
            parse_datatype("rf32_le"),
            Err(CaptureProblem::NotIq(_))
        ));
        assert!(parse_datatype("cq7").is_err());
        assert!(parse_datatype("").is_err());
        assert!(parse_datatype("cf32_xx").is_err());
    }

    #[test]
    fn captures_and_annotations() {
        let mut m = meta(
            r#"{"global":{"core:datatype":"ci8","core:sample_rate":1e6,"core:version":"1.0.0"},
                "captures":[{"core:sample_start":0,"core:frequency":1e8},
                            {"core:sample_start":4,"core:frequency":2e8,"core:header_bytes":3}],
                "annotations":[{"core:sample_start":1,"core:sample_count":2,
                  "core:freq_lower_edge":1.0e8,"core:freq_upper_edge":1.1e8,"core:label":"x"}]}"#,
        )
        .unwrap();
        assert_eq!(m.sample_rate_hz, Some(1e6));
        assert_eq!(m.annotations[0].label, "x");
        // 4 samples (8 bytes), 3 header bytes, then 2 samples (4 bytes).
        let spans = m.layout(0, 15).unwrap();
        assert_eq!(
            spans,
            vec![
                Span {
                    offset: 0,
                    samples: 4
                },
                Span {
                    offset: 11,
                    samples: 2
                }
            ]
        );
        let r = m.retune_annotations(6);
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].start_sample, r[0].length), (4, 2));
    }

    #[test]
    fn length_mismatch_is_a_warning() {
        let mut m = meta(r#"{"global":{"core:datatype":"cf32_le"}}"#).unwrap();
        let spans = m.layout(0, 8 * 10 + 3).unwrap();
        assert_eq!(spans[0].samples, 10);
        assert!(
            m.warnings[0].contains("not a whole number"),
            "{:?}",
            m.warnings
        );
        assert!(matches!(m.layout(0, 7), Err(CaptureProblem::Empty)));
    }

    #[test]
    fn hostile_metadata_is_an_error() {
        for j in [
            "",
            "[]",
            "{}",
            r#"{"global":{}}"#,
            r#"{"global":{"core:datatype":5}}"#,
            r#"{"global":{"core:datatype":"cf32_le","core:sample_rate":-1}}"#,
            r#"{"global":{"core:datatype":"cf32_le","core:num_channels":2}}"#,
            r#"{"global":{"core:datatype":"cf32_le"},"captures":[{"core:sample_start":5},{"core:sample_start":1}]}"#,
            r#"{"global":{"core:datatype":"cf32_le"},"captures":{}}"#,
            r#"{"global":{"core:datatype":"cf32_le"},"annotations":[{"core:sample_start":-4}]}"#,
        ] {
            assert!(meta(j).is_err(), "{j}");
        }
    }
}
