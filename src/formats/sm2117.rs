//! ITU-R SM.2117-0 HDF5: the Recommendation's format for exchanging stored I/Q data for
//! spectrum monitoring, as regulators and the `itusm2117` Python package use it.
//!
//! Layout: a one-dimensional dataset (any name and group; `Dataset_0` at the root by
//! default) of a compound type with one member per channel (`Channel_0`, ...), each
//! member itself a compound `{Real, Imag}` of float32 (or int16/int32 read as fixed point
//! with the radix point right of the most significant bit). The dataset's attributes carry
//! the metadata: "ITU-R data set class" = "I/Q", "ITU-R Recommendation", "Sampling
//! frequency (Hz)" (required), "RF carrier frequency (Hz)", "Data set scaling factor",
//! "Comment", "Device", "Timestamp coarse (s)", "Timestamp fine (ns)", ...
//!
//! kuzet reads the first channel of the first such dataset, block by block through
//! HDF5 type conversion into the caller's buffer, and writes one channel of float32 plus
//! its annotations in an extra `kuzet_annotations` table (ignored by other readers).

use std::path::{Path, PathBuf};

use hdf5::types::{CompoundField, CompoundType, FloatSize, TypeDescriptor, VarLenUnicode};
use hdf5::{Dataset, Datatype, H5Type};
use num_complex::Complex32;

use super::kuzet::schema::AnnotationRow;
use super::{h5guard, h5raw};
use crate::error::{CaptureProblem, Error, Result};
use crate::types::Annotation;
use crate::types::StreamMeta;

/// Attribute names of the Recommendation.
pub mod attr {
    /// Always "I/Q".
    pub const CLASS: &str = "ITU-R data set class";
    /// "Rec. ITU-R SM.2117-0".
    pub const RECOMMENDATION: &str = "ITU-R Recommendation";
    /// RF centre frequency, Hz.
    pub const CARRIER: &str = "RF carrier frequency (Hz)";
    /// Complex samples per second.
    pub const SAMPLING: &str = "Sampling frequency (Hz)";
    /// How integer samples are read.
    pub const INTERPRETATION: &str = "Data set type interpretation";
    /// "", "V", "V/m" or "A/m".
    pub const UNIT: &str = "Data set unit";
    /// Physical value = stored value × factor.
    pub const SCALING: &str = "Data set scaling factor";
    /// Free text.
    pub const COMMENT: &str = "Comment";
    /// Receiver.
    pub const DEVICE: &str = "Device";
    /// Filter bandwidth, Hz.
    pub const BANDWIDTH: &str = "Filter bandwidth (Hz)";
    /// UTC seconds since 1970 of the first sample.
    pub const TIME_COARSE: &str = "Timestamp coarse (s)";
    /// Nanoseconds to add to the coarse timestamp.
    pub const TIME_FINE: &str = "Timestamp fine (ns)";
    /// Every attribute above, the ones kuzet reads.
    pub const ALL: [&str; 12] = [
        CLASS,
        RECOMMENDATION,
        CARRIER,
        SAMPLING,
        INTERPRETATION,
        UNIT,
        SCALING,
        COMMENT,
        DEVICE,
        BANDWIDTH,
        TIME_COARSE,
        TIME_FINE,
    ];
}

/// The Recommendation's text for "Data set type interpretation".
pub const INTERPRETATION_TEXT: &str = "Integer types, used to store I/Q data, are interpreted \
    as fix point numbers with the radix point right to the most significant bit.";

/// Name of the dataset kuzet writes.
pub const DATASET: &str = "Dataset_0";
/// Name of the one channel kuzet writes.
pub const CHANNEL: &str = "Channel_0";
/// kuzet's annotations table beside the dataset.
pub const ANNOTATIONS: &str = "kuzet_annotations";

/// A dataset attribute's value, as far as kuzet cares.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// Any integer or float scalar (or the first element of a 1-element array).
    Number(f64),
    /// Fixed- or variable-length string.
    Text(String),
    /// Something else (described for messages).
    Other(String),
}

/// What the attributes say.
#[derive(Debug, Clone, PartialEq)]
pub struct Sm2117Meta {
    /// Complex samples per second.
    pub sample_rate_hz: f64,
    /// RF centre frequency.
    pub center_freq_hz: f64,
    /// Stored value × this = the value in `unit`.
    pub scaling: f64,
    /// Free text ("Comment").
    pub description: String,
    /// "Device".
    pub device: String,
    /// From the timestamps, ISO 8601.
    pub start_time_utc: Option<String>,
    /// Things wrong but survivable.
    pub warnings: Vec<String>,
}

fn bad(field: &'static str, why: impl Into<String>) -> CaptureProblem {
    CaptureProblem::BadAttribute {
        name: field,
        why: why.into(),
    }
}

fn number(
    attrs: &[(String, AttrValue)],
    name: &'static str,
) -> Result<Option<f64>, CaptureProblem> {
    match attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v) {
        None => Ok(None),
        Some(AttrValue::Number(v)) => Ok(Some(*v)),
        // Some writers store numbers as text; accept what parses.
        Some(AttrValue::Text(t)) => t
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| bad(name, "is text, expected a number")),
        Some(AttrValue::Other(d)) => Err(bad(name, format!("is {d}, expected a number"))),
    }
}

fn text(attrs: &[(String, AttrValue)], name: &str) -> String {
    match attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v) {
        Some(AttrValue::Text(t)) => t.clone(),
        Some(AttrValue::Number(v)) => v.to_string(),
        _ => String::new(),
    }
}

/// Interprets a dataset's attributes (pure: the fuzz target's entry point).
///
/// # Errors
/// A missing, non-numeric, non-finite or non-positive sampling frequency; a non-finite
/// carrier frequency or scaling factor.
pub fn interpret(attrs: &[(String, AttrValue)]) -> Result<Sm2117Meta, CaptureProblem> {
    let mut warnings = Vec::new();
    let rate = number(attrs, attr::SAMPLING)?.ok_or_else(|| bad(attr::SAMPLING, "is missing"))?;
    if !(rate.is_finite() && rate > 0.0) {
        return Err(bad(
            attr::SAMPLING,
            format!("must be a positive number of Hz, got {rate}"),
        ));
    }
    let center = number(attrs, attr::CARRIER)?.unwrap_or(0.0);
    if !center.is_finite() {
        return Err(bad(attr::CARRIER, format!("must be finite, got {center}")));
    }
    let scaling = number(attrs, attr::SCALING)?.unwrap_or(1.0);
    if !(scaling.is_finite() && scaling != 0.0) {
        return Err(bad(
            attr::SCALING,
            format!("must be a finite non-zero number, got {scaling}"),
        ));
    }
    match attrs.iter().find(|(n, _)| n == attr::CLASS).map(|(_, v)| v) {
        Some(AttrValue::Text(t)) if t != "I/Q" => warnings.push(format!(
            "\"{}\" is `{}`, not `I/Q`; reading it as I/Q",
            attr::CLASS,
            t.chars().take(40).collect::<String>()
        )),
        _ => {}
    }
    let coarse = number(attrs, attr::TIME_COARSE).ok().flatten();
    let fine = number(attrs, attr::TIME_FINE).ok().flatten().unwrap_or(0.0);
    let start_time_utc = coarse
        .filter(|c| c.is_finite() && *c >= 0.0 && *c < 1e11)
        .and_then(|c| {
            let ns = if fine.is_finite() && (0.0..1e9).contains(&fine) {
                fine as u32
            } else {
                0
            };
            chrono::DateTime::from_timestamp(c as i64, ns)
        })
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true));
    Ok(Sm2117Meta {
        sample_rate_hz: rate,
        center_freq_hz: center,
        scaling,
        description: text(attrs, attr::COMMENT),
        device: text(attrs, attr::DEVICE),
        start_time_utc,
        warnings,
    })
}

fn read_attr(ds: &Dataset, name: &str) -> hdf5::Result<AttrValue> {
    let a = ds.attr(name)?;
    let desc = a.dtype()?.to_descriptor()?;
    Ok(match desc {
        TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) | TypeDescriptor::Float(_) => {
            if a.is_scalar() {
                AttrValue::Number(a.read_scalar::<f64>()?)
            } else if a.size() == 1 {
                let v: Vec<f64> = a.read_raw()?;
                v.first()
                    .map_or(AttrValue::Other("an empty array".into()), |x| {
                        AttrValue::Number(*x)
                    })
            } else {
                AttrValue::Other(format!("an array of {}", a.size()))
            }
        }
        // Not through the library's conversion: see h5guard::read_vlen_string.
        TypeDescriptor::VarLenUnicode | TypeDescriptor::VarLenAscii if a.is_scalar() => {
            match h5guard::read_vlen_string(&a) {
                Ok(bytes) => AttrValue::Text(String::from_utf8_lossy(&bytes).into_owned()),
                Err(why) => AttrValue::Other(format!("a damaged string ({why})")),
            }
        }
        TypeDescriptor::FixedAscii(n) | TypeDescriptor::FixedUnicode(n)
            if a.is_scalar() && n <= 4096 =>
        {
            AttrValue::Text(
                a.read_scalar::<hdf5::types::FixedUnicode<4096>>()?
                    .as_str()
                    .to_string(),
            )
        }
        other => AttrValue::Other(format!("{other:?}").chars().take(60).collect()),
    })
}

/// True when `desc` is a compound `{Real, Imag}` of numbers.
fn is_channel(desc: &TypeDescriptor) -> bool {
    let TypeDescriptor::Compound(c) = desc else {
        return false;
    };
    let num = |t: &TypeDescriptor| {
        matches!(
            t,
            TypeDescriptor::Float(_) | TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_)
        )
    };
    c.fields.len() == 2
        && c.fields.iter().any(|f| f.name == "Real" && num(&f.ty))
        && c.fields.iter().any(|f| f.name == "Imag" && num(&f.ty))
}

/// The memory type one sample is read into: `{<channel>: {Real: f32, Imag: f32}}`, laid
/// out exactly like `Complex32`, so HDF5 converts straight into the caller's buffer.
fn channel_mem_type(channel: &str) -> hdf5::Result<Datatype> {
    let f32t = TypeDescriptor::Float(FloatSize::U4);
    let inner = TypeDescriptor::Compound(CompoundType {
        fields: vec![
            CompoundField {
                name: "Real".into(),
                ty: f32t.clone(),
                offset: 0,
                index: 0,
            },
            CompoundField {
                name: "Imag".into(),
                ty: f32t,
                offset: 4,
                index: 1,
            },
        ],
        size: 8,
    });
    Datatype::from_descriptor(&TypeDescriptor::Compound(CompoundType {
        fields: vec![CompoundField {
            name: channel.to_string(),
            ty: inner,
            offset: 0,
            index: 0,
        }],
        size: 8,
    }))
}

/// Finds the first SM.2117 I/Q dataset (one carrying "Sampling frequency (Hz)"), searching
/// groups breadth-first to a bounded depth.
fn find_dataset(file: &hdf5::File) -> hdf5::Result<Option<Dataset>> {
    let root: &hdf5::Group = file;
    let mut groups = vec![root.clone()];
    for _depth in 0..4 {
        let mut next = Vec::new();
        for g in groups.iter().take(256) {
            let mut ds = g.datasets()?;
            ds.sort_by_key(|d| d.name());
            for d in ds {
                if h5raw::attr_exists(&d, attr::SAMPLING)? {
                    return Ok(Some(d));
                }
            }
            next.extend(g.groups()?);
        }
        groups = next;
    }
    Ok(None)
}

/// True when an HDF5 file holds an SM.2117 dataset (kuzet captures have `/iq` instead).
pub fn looks_like(file: &hdf5::File) -> bool {
    matches!(find_dataset(file), Ok(Some(_)))
}

/// A streaming reader of an SM.2117-0 file's first channel.
pub struct Sm2117Reader {
    path: PathBuf,
    _file: hdf5::File,
    ds: Dataset,
    mem_type: Datatype,
    /// Multiplier after HDF5's conversion (fixed-point radix, scaling factor).
    gain: f32,
    len: u64,
    pos: u64,
    non_finite: u64,
    /// What the attributes say.
    pub meta: Sm2117Meta,
    /// kuzet annotations written beside the dataset, if any.
    pub annotations: Vec<Annotation>,
}

impl std::fmt::Debug for Sm2117Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sm2117Reader")
            .field("path", &self.path)
            .field("len", &self.len)
            .finish()
    }
}

impl Sm2117Reader {
    /// Opens an already-open HDF5 file as SM.2117.
    ///
    /// # Errors
    /// [`Error::Capture`] when no I/Q dataset is found, its type is not a compound of
    /// `{Real, Imag}` channels, it is empty, or its attributes are invalid.
    pub fn from_file(path: &Path, file: hdf5::File) -> Result<Self> {
        Self::inner(path, file).map_err(|p| Error::capture(path, p))
    }

    fn inner(path: &Path, file: hdf5::File) -> Result<Self, CaptureProblem> {
        // Before the search below opens anything through a link.
        h5guard::refuse_external_links(&file)?;
        let ds = find_dataset(&file)?.ok_or(CaptureProblem::BadField {
            field: "HDF5 content",
            why: "has neither a kuzet `/iq` nor an ITU-R SM.2117 dataset (with \"Sampling \
                  frequency (Hz)\")"
                .into(),
        })?;
        // The attributes kuzet reads, each looked up by name: listing them all would open
        // every one, damaged or not.
        let mut attrs = Vec::new();
        for n in attr::ALL {
            if h5raw::attr_exists(&ds, n)? {
                let v = read_attr(&ds, n).unwrap_or_else(|e| AttrValue::Other(e.to_string()));
                attrs.push((n.to_string(), v));
            }
        }
        let mut meta = interpret(&attrs)?;
        let desc = ds.dtype()?.to_descriptor()?;
        let wrong = |why: String| {
            CaptureProblem::NotIq(format!("dataset {}: {why}", h5guard::shown(&ds.name())))
        };
        let TypeDescriptor::Compound(c) = &desc else {
            return Err(wrong(
                "is not a compound of {Real, Imag} channels (real-valued data?)".into(),
            ));
        };
        let channels: Vec<&CompoundField> = c.fields.iter().filter(|f| is_channel(&f.ty)).collect();
        let Some(first) = channels.first() else {
            return Err(wrong("has no {Real, Imag} channel member".into()));
        };
        if channels.len() > 1 {
            meta.warnings.push(format!(
                "{} channels; reading {} only",
                channels.len(),
                first.name
            ));
        }
        // Integers are fixed point with the radix right of the sign bit: int16 full scale is 1.
        let radix = match &first.ty {
            TypeDescriptor::Compound(ch) => match ch.fields[0].ty {
                TypeDescriptor::Integer(s) => 2f64.powi(s as i32 * 8 - 1),
                TypeDescriptor::Unsigned(s) => 2f64.powi(s as i32 * 8),
                _ => 1.0,
            },
            _ => 1.0,
        };
        let shape = ds.shape();
        if shape.len() != 1 {
            return Err(wrong(format!(
                "has shape {shape:?}, expected one dimension"
            )));
        }
        if shape[0] == 0 {
            return Err(CaptureProblem::Empty);
        }
        let name = h5guard::shown(&ds.name());
        h5guard::refuse_outside_storage(&ds, &name)?;
        let (len, overstated) = h5guard::readable_rows(&ds, &name, path, "samples")?;
        meta.warnings.extend(overstated);
        let mem_type = channel_mem_type(&first.name)?;
        let annotations = read_annotations(&file, path);
        Ok(Sm2117Reader {
            path: path.to_path_buf(),
            _file: file,
            ds,
            mem_type,
            gain: (meta.scaling / radix) as f32,
            len,
            pos: 0,
            non_finite: 0,
            meta,
            annotations,
        })
    }

    /// Number of samples.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Always false: empty datasets are refused at open.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Samples that were NaN or infinite and were read as zero.
    pub fn non_finite_samples(&self) -> u64 {
        self.non_finite
    }

    /// Index of the next sample [`Sm2117Reader::read`] returns.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Moves the read position (clamped to the end).
    pub fn seek(&mut self, index: u64) {
        self.pos = index.min(self.len);
    }

    /// Stream description.
    pub fn stream_meta(&self) -> StreamMeta {
        StreamMeta {
            sample_rate_hz: self.meta.sample_rate_hz,
            center_freq_hz: self.meta.center_freq_hz,
            start_time_utc: self.meta.start_time_utc.clone(),
            gain_db: None,
            device: self.meta.device.clone(),
            description: self.meta.description.clone(),
            origin: self.path.display().to_string(),
            total_samples: Some(self.len),
            live: false,
        }
    }

    /// Reads up to `out.len()` samples; 0 at the end.
    ///
    /// # Errors
    /// [`Error::Capture`] when HDF5 cannot read the span.
    pub fn read(&mut self, out: &mut [Complex32]) -> Result<usize> {
        let n = (out.len() as u64).min(self.len - self.pos) as usize;
        if n == 0 {
            return Ok(0);
        }
        let out = &mut out[..n];
        h5raw::read_rows(&self.ds, &self.mem_type, self.pos, None, out).map_err(|e| {
            Error::capture(
                &self.path,
                CaptureProblem::Hdf5(
                    format!("reading samples {}..{}: {e}", self.pos, self.pos + n as u64).into(),
                ),
            )
        })?;
        if self.gain != 1.0 {
            for s in out.iter_mut() {
                *s *= self.gain;
            }
        }
        self.non_finite += super::samples::zero_non_finite(out);
        self.pos += n as u64;
        Ok(n)
    }
}

fn read_annotations(file: &hdf5::File, path: &Path) -> Vec<Annotation> {
    if !file.link_exists(ANNOTATIONS) {
        return Vec::new();
    }
    let rows = || -> hdf5::Result<Vec<AnnotationRow>> {
        let ds = file.dataset(ANNOTATIONS)?;
        if h5guard::refuse_outside_storage(&ds, ANNOTATIONS).is_err()
            || ds.dtype()?.to_descriptor()? != AnnotationRow::type_descriptor()
            || ds.size() > 1_000_000
            // read_raw allocates the declared size: it must be stored.
            || !matches!(
                h5guard::readable_rows(&ds, ANNOTATIONS, path, "rows"),
                Ok((_, None))
            )
        {
            return Ok(Vec::new());
        }
        ds.read_raw()
    };
    rows()
        .map(|r| r.iter().map(Annotation::from).collect())
        .unwrap_or_default()
}

/// One channel's sample on disk.
#[derive(H5Type, Clone, Copy, Debug, Default)]
#[repr(C)]
struct ChannelSample {
    #[hdf5(rename = "Real")]
    real: f32,
    #[hdf5(rename = "Imag")]
    imag: f32,
}

/// One row of the dataset kuzet writes: a single channel.
#[derive(H5Type, Clone, Copy, Debug, Default)]
#[repr(C)]
struct Row {
    #[hdf5(rename = "Channel_0")]
    channel_0: ChannelSample,
}

/// Writes an SM.2117-0 file block by block: `/Dataset_0` of `{Channel_0: {Real, Imag}}`
/// float32, chunked and extendible, with the Recommendation's attributes.
pub struct Sm2117Writer {
    path: PathBuf,
    file: hdf5::File,
    ds: Dataset,
    mem_type: Datatype,
    len: u64,
    annotations: Vec<Annotation>,
}

fn str_attr(ds: &Dataset, name: &str, value: &str) -> hdf5::Result<()> {
    let v: VarLenUnicode = value
        .parse()
        .map_err(|e| hdf5::Error::from(format!("{e}")))?;
    ds.new_attr::<VarLenUnicode>()
        .create(name)?
        .write_scalar(&v)
}

fn f64_attr(ds: &Dataset, name: &str, value: f64) -> hdf5::Result<()> {
    ds.new_attr::<f64>().create(name)?.write_scalar(&value)
}

impl Sm2117Writer {
    /// Creates (truncating) `path`.
    ///
    /// # Errors
    /// [`Error::Capture`] when the file cannot be created.
    pub fn create(path: &Path, meta: &StreamMeta) -> Result<Self> {
        Self::inner(path, meta).map_err(|e| Error::capture(path, CaptureProblem::Hdf5(e)))
    }

    fn inner(path: &Path, meta: &StreamMeta) -> hdf5::Result<Self> {
        debug_assert_eq!(std::mem::size_of::<Row>(), std::mem::size_of::<Complex32>());
        let file = hdf5::File::create(path)?;
        let ds = file
            .new_dataset::<Row>()
            .chunk(1 << 16)
            .shape(0..)
            .create(DATASET)?;
        str_attr(&ds, attr::CLASS, "I/Q")?;
        str_attr(&ds, attr::RECOMMENDATION, "Rec. ITU-R SM.2117-0")?;
        f64_attr(&ds, attr::CARRIER, meta.center_freq_hz)?;
        f64_attr(&ds, attr::SAMPLING, meta.sample_rate_hz)?;
        str_attr(&ds, attr::INTERPRETATION, INTERPRETATION_TEXT)?;
        str_attr(&ds, attr::UNIT, "")?;
        f64_attr(&ds, attr::SCALING, 1.0)?;
        str_attr(&ds, attr::COMMENT, &meta.description)?;
        str_attr(&ds, attr::DEVICE, &meta.device)?;
        if let Some(t) = meta
            .start_time_utc
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        {
            ds.new_attr::<i64>()
                .create(attr::TIME_COARSE)?
                .write_scalar(&t.timestamp())?;
            f64_attr(&ds, attr::TIME_FINE, t.timestamp_subsec_nanos() as f64)?;
        }
        Ok(Sm2117Writer {
            path: path.to_path_buf(),
            file,
            ds,
            mem_type: Datatype::from_type::<Row>()?,
            len: 0,
            annotations: Vec::new(),
        })
    }
}

impl super::export::IqSink for Sm2117Writer {
    fn append(&mut self, samples: &[Complex32]) -> Result<()> {
        // Row is {f32, f32} like Complex32: the buffer is written as is.
        h5raw::append_rows(&self.ds, &self.mem_type, self.len, None, samples)
            .map_err(|e| Error::capture(&self.path, CaptureProblem::Hdf5(e)))?;
        self.len += samples.len() as u64;
        Ok(())
    }

    fn annotate(&mut self, a: &Annotation) -> Result<()> {
        self.annotations.push(a.clone());
        Ok(())
    }

    fn clipped_samples(&self) -> u64 {
        0
    }

    fn finish(self: Box<Self>) -> Result<u64> {
        let path = self.path.clone();
        let fail = |e| Error::capture(&path, CaptureProblem::Hdf5(e));
        if !self.annotations.is_empty() {
            let rows: Vec<AnnotationRow> =
                self.annotations.iter().map(AnnotationRow::from).collect();
            self.file
                .new_dataset_builder()
                .with_data(&rows)
                .create(ANNOTATIONS)
                .map_err(fail)?;
        }
        let len = self.len;
        let Sm2117Writer { file, ds, .. } = *self;
        drop(ds);
        file.close().map_err(fail)?;
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(n: &str, v: AttrValue) -> (String, AttrValue) {
        (n.to_string(), v)
    }

    #[test]
    fn attributes() {
        let m = interpret(&[
            a(attr::SAMPLING, AttrValue::Number(1e6)),
            a(attr::CARRIER, AttrValue::Text("433.92e6".into())),
            a(attr::TIME_COARSE, AttrValue::Number(1_700_000_000.0)),
            a(attr::TIME_FINE, AttrValue::Number(5e8)),
            a(attr::COMMENT, AttrValue::Text("x".into())),
        ])
        .unwrap();
        assert_eq!(m.sample_rate_hz, 1e6);
        assert_eq!(m.center_freq_hz, 433.92e6);
        assert_eq!(
            m.start_time_utc.as_deref(),
            Some("2023-11-14T22:13:20.500000000Z")
        );
        assert!(interpret(&[]).is_err());
        assert!(interpret(&[a(attr::SAMPLING, AttrValue::Number(0.0))]).is_err());
        assert!(interpret(&[a(attr::SAMPLING, AttrValue::Number(f64::NAN))]).is_err());
        assert!(interpret(&[a(attr::SAMPLING, AttrValue::Other("array".into()))]).is_err());
    }
}
