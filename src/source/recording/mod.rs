//! One entry point for every recording kuzet reads: [`open`] tells the format from the
//! file's name and first bytes and returns a [`SeekableSource`] that streams it block by
//! block (and that paced replay can seek and loop over).
//!
//! | format | told by | rate and frequency from |
//! | --- | --- | --- |
//! | kuzet HDF5 | HDF5 signature + `/iq` | root attributes |
//! | ITU-R SM.2117-0 HDF5 | HDF5 signature, no `/iq` | dataset attributes |
//! | SigMF pair | `.sigmf-meta` / `.sigmf-data` | `global`, `captures` |
//! | SigMF archive | `.sigmf` (tar) | the archived `.sigmf-meta` |
//! | WAV IQ | `RIFF….WAVE` | `fmt ` chunk, `auxi` chunk |
//! | raw | `.cu8 .cs8 .cs16 .cf32 .cfile .raw` or `--iq-format` | flags, else the name (`g001_433.92M_250k.cu8`) |
//!
//! Flags given by the operator win over what a file says (a header can be wrong); a
//! contradiction is reported as a warning. They are applied once, to the stream
//! metadata, while the recording is opened.

pub mod kuzet;
pub mod plain;

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{CaptureProblem, Error, Result};
use crate::formats::kuzet::CaptureReader;
use crate::formats::raw::{self, RawFormat, Span, SpanReader};
use crate::formats::sm2117::Sm2117Reader;
use crate::formats::{sigmf, wav};
use crate::source::SeekableSource;
use crate::types::{Annotation, StreamMeta};

pub use kuzet::KuzetSource;
pub use plain::PlainSource;

/// What the operator says about a recording (flags), overriding the file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpenOptions {
    /// `--rate`: complex samples per second.
    pub rate_hz: Option<f64>,
    /// `--freq`: RF centre frequency.
    pub freq_hz: Option<f64>,
    /// `--iq-format`: read the file as headerless IQ in this encoding.
    pub raw_format: Option<RawFormat>,
}

/// The recording formats kuzet reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum InputKind {
    /// kuzet's HDF5 capture.
    Kuzet,
    /// ITU-R SM.2117-0 HDF5.
    Sm2117,
    /// `.sigmf-meta` + `.sigmf-data`.
    SigmfPair,
    /// `.sigmf` tar archive.
    SigmfArchive,
    /// RIFF/WAVE IQ.
    Wav,
    /// Headerless IQ.
    Raw(RawFormat),
}

const HDF5_SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

fn not_found(path: &Path, e: std::io::Error) -> Error {
    Error::capture(
        path,
        if e.kind() == std::io::ErrorKind::NotFound {
            CaptureProblem::NotFound
        } else {
            CaptureProblem::Io(e)
        },
    )
}

/// Tells a recording's format from its name and first bytes.
///
/// # Errors
/// [`Error::Capture`] when the file is missing, unreadable, or of no known format.
pub fn detect(path: &Path, opts: &OpenOptions) -> Result<InputKind> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e).to_string();
    // A SigMF pair may be named by either half, and only the other may exist.
    if ext == "sigmf-meta" || ext == "sigmf-data" {
        return Ok(InputKind::SigmfPair);
    }
    crate::formats::require_regular(path).map_err(|e| not_found(path, e))?;
    if let Some(f) = opts.raw_format {
        return Ok(InputKind::Raw(f));
    }
    let mut head = [0u8; 12];
    let got = {
        let mut f = File::open(path).map_err(|e| not_found(path, e))?;
        let mut n = 0;
        while n < head.len() {
            match f.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::capture(path, CaptureProblem::Io(e))),
            }
        }
        n
    };
    if got == 0 {
        return Err(Error::capture(path, CaptureProblem::Empty));
    }
    if got >= 8 && &head[..8] == HDF5_SIGNATURE || matches!(ext.as_str(), "h5" | "hdf5" | "he5") {
        return Ok(hdf5_kind(path));
    }
    if got >= 12 && (&head[..4] == b"RIFF" || &head[..4] == b"RF64") && &head[8..12] == b"WAVE" {
        return Ok(InputKind::Wav);
    }
    if ext == "wav" {
        return Err(Error::capture(
            path,
            CaptureProblem::BadField {
                field: "RIFF header",
                why: "is missing: the file is named .wav but is not RIFF/WAVE".into(),
            },
        ));
    }
    if ext == "sigmf" {
        return Ok(InputKind::SigmfArchive);
    }
    if let Some(f) = RawFormat::from_name(&ext) {
        return Ok(InputKind::Raw(f));
    }
    Err(Error::capture(path, CaptureProblem::UnknownFormat))
}

/// kuzet captures have `/iq`; anything else in HDF5 is tried as SM.2117 (whose reader
/// says clearly when it is neither).
fn hdf5_kind(path: &Path) -> InputKind {
    let kuzet = hdf5::File::open(path)
        .or_else(|_| crate::formats::h5guard::open_swmr(path))
        .map(|f| f.link_exists(crate::formats::kuzet::schema::IQ))
        // Unopenable: the kuzet reader gives the best message (and handles SWMR files).
        .unwrap_or(true);
    if kuzet {
        InputKind::Kuzet
    } else {
        InputKind::Sm2117
    }
}

/// An opened recording: its samples as a stream, and what only a recording has.
pub struct Recording {
    /// The samples, from the first; seekable.
    pub source: Box<dyn SeekableSource>,
    /// The format it was read as.
    pub kind: InputKind,
    /// Annotations it carries (ground truth, alerts, SigMF annotations, retunes).
    pub annotations: Vec<Annotation>,
    /// Problems found at open that did not stop it (a header that overstates the data,
    /// trailing bytes, a flag overriding the file); the caller shows them to the operator.
    pub warnings: Vec<String>,
    /// Where its samples lie as encoded bytes (raw, WAV, SigMF), for lossless copies.
    pub layout: Option<RawLayout>,
    path: PathBuf,
    opts: OpenOptions,
}

impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording")
            .field("path", &self.path)
            .field("kind", &self.kind)
            .field("meta", self.source.meta())
            .finish()
    }
}

impl Recording {
    /// What is known about the stream (flags applied).
    pub fn meta(&self) -> &StreamMeta {
        self.source.meta()
    }

    /// The file it was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A second reader of the same recording from its first sample, read as the first
    /// was: for reading stretches back while the pipeline reads on (evidence clips).
    ///
    /// # Errors
    /// The file can no longer be opened.
    pub fn reopen(&self) -> Result<Box<dyn SeekableSource>> {
        Ok(open(&self.path, &self.opts)?.source)
    }
}

/// The encoded sample bytes of a recording: an encoding and byte spans of one file.
#[derive(Debug, Clone, PartialEq)]
pub struct RawLayout {
    /// The file holding the samples (the data file of a SigMF pair, the archive).
    pub path: PathBuf,
    /// Their encoding.
    pub format: RawFormat,
    /// Where they lie.
    pub spans: Vec<Span>,
}

impl RawLayout {
    /// A reader over the spans, at the first sample.
    ///
    /// # Errors
    /// The file cannot be opened.
    pub fn reader(&self) -> Result<SpanReader> {
        SpanReader::open(&self.path, self.format, self.spans.clone())
    }
}

/// A reader of one of the formats, before the flags are applied to its metadata.
enum Reader {
    Kuzet(CaptureReader),
    Span(SpanReader),
    Sm2117(Sm2117Reader),
}

/// What a format's opener found besides its reader.
struct Found {
    meta: StreamMeta,
    annotations: Vec<Annotation>,
    warnings: Vec<String>,
    /// Whether the file itself states the rate and the frequency (a flag that overrides
    /// either is worth a warning).
    file_rate: bool,
    file_freq: bool,
    layout: Option<RawLayout>,
}

/// Opens any recording kuzet reads.
///
/// # Errors
/// [`Error::Capture`] naming the file: missing, empty, truncated before its first sample,
/// an unknown format, no sample rate (from the file, its name or `--rate`), real-valued
/// data, invalid metadata.
pub fn open(path: impl AsRef<Path>, opts: &OpenOptions) -> Result<Recording> {
    let path = path.as_ref();
    let kind = detect(path, opts)?;
    let (reader, mut found) = match kind {
        InputKind::Kuzet => open_kuzet(path)?,
        InputKind::Sm2117 => {
            let file = hdf5::File::open(path)
                .map_err(|e| Error::capture(path, CaptureProblem::Hdf5(e)))?;
            let r = Sm2117Reader::from_file(path, file)?;
            let found = Found {
                meta: r.stream_meta(),
                annotations: r.annotations.clone(),
                warnings: r.meta.warnings.clone(),
                file_rate: true,
                file_freq: true,
                layout: None,
            };
            (Reader::Sm2117(r), found)
        }
        InputKind::SigmfPair => open_sigmf(path, sigmf::locate_pair(path)?)?,
        InputKind::SigmfArchive => open_sigmf(path, sigmf::locate_archive(path)?)?,
        InputKind::Wav => open_wav(path)?,
        InputKind::Raw(f) => open_raw(path, f, opts)?,
    };
    override_meta(
        &mut found.meta,
        &mut found.warnings,
        opts,
        found.file_rate,
        found.file_freq,
    );
    require_rate(path, &found.meta)?;
    let meta = found.meta;
    let source: Box<dyn SeekableSource> = match reader {
        Reader::Kuzet(r) => Box::new(KuzetSource::new(r, meta)),
        Reader::Span(r) => Box::new(PlainSource::new(r, meta)),
        Reader::Sm2117(r) => Box::new(PlainSource::new(r, meta)),
    };
    Ok(Recording {
        source,
        kind,
        annotations: found.annotations,
        warnings: found.warnings,
        layout: found.layout,
        path: path.to_path_buf(),
        opts: opts.clone(),
    })
}

fn open_kuzet(path: &Path) -> Result<(Reader, Found)> {
    let reader = CaptureReader::open(path)?;
    // A damaged annotation table must not stop a replay of the samples.
    let mut warnings = reader.warnings().to_vec();
    let annotations = match reader.annotations() {
        Ok(a) => a,
        Err(e) => {
            warnings.push(format!("annotations ignored: {e}"));
            Vec::new()
        }
    };
    let found = Found {
        meta: reader.meta().clone(),
        annotations,
        warnings,
        file_rate: true,
        file_freq: true,
        layout: None,
    };
    Ok((Reader::Kuzet(reader), found))
}

/// Applies flags over a file's own metadata (used by every source in this module).
fn override_meta(
    meta: &mut StreamMeta,
    warnings: &mut Vec<String>,
    opts: &OpenOptions,
    file_has_rate: bool,
    file_has_freq: bool,
) {
    if let Some(r) = opts.rate_hz {
        if file_has_rate && r != meta.sample_rate_hz {
            warnings.push(format!(
                "--rate {r} overrides the file's sample rate {}",
                meta.sample_rate_hz
            ));
        }
        meta.sample_rate_hz = r;
    }
    if let Some(f) = opts.freq_hz {
        if file_has_freq && f != meta.center_freq_hz {
            warnings.push(format!(
                "--freq {f} overrides the file's centre frequency {}",
                meta.center_freq_hz
            ));
        }
        meta.center_freq_hz = f;
    }
}

fn base_meta(path: &Path, rate: f64, freq: f64, total: u64) -> StreamMeta {
    StreamMeta {
        sample_rate_hz: rate,
        center_freq_hz: freq,
        start_time_utc: None,
        gain_db: None,
        device: String::new(),
        description: String::new(),
        origin: path.display().to_string(),
        total_samples: Some(total),
        live: false,
    }
}

fn open_raw(path: &Path, format: RawFormat, opts: &OpenOptions) -> Result<(Reader, Found)> {
    let len = std::fs::metadata(path)
        .map_err(|e| not_found(path, e))?
        .len();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let info = raw::parse_name(&name);
    let rate = opts
        .rate_hz
        .or(info.sample_rate_hz)
        .ok_or_else(|| Error::capture(path, CaptureProblem::UnknownRate))?;
    let bps = format.bytes_per_sample() as u64;
    let mut warnings = Vec::new();
    if len % bps != 0 {
        warnings.push(format!(
            "the file ({len} bytes) is not a whole number of {} samples ({bps} bytes); the \
             last {} bytes are ignored",
            format.sigmf_name(),
            len % bps
        ));
    }
    if len / bps == 0 {
        return Err(Error::capture(path, CaptureProblem::Empty));
    }
    let layout = RawLayout {
        path: path.to_path_buf(),
        format,
        spans: vec![Span {
            offset: 0,
            samples: len / bps,
        }],
    };
    let reader = layout.reader()?;
    let mut meta = base_meta(
        path,
        rate,
        opts.freq_hz.or(info.center_freq_hz).unwrap_or(0.0),
        len / bps,
    );
    meta.description = format!("raw {}", format.sigmf_name());
    let found = Found {
        meta,
        annotations: Vec::new(),
        warnings,
        // The name is not the file's own metadata: flags override it without a word.
        file_rate: false,
        file_freq: false,
        layout: Some(layout),
    };
    Ok((Reader::Span(reader), found))
}

fn open_wav(path: &Path) -> Result<(Reader, Found)> {
    let mut f = File::open(path).map_err(|e| not_found(path, e))?;
    let len = f
        .metadata()
        .map_err(|e| Error::capture(path, CaptureProblem::Io(e)))?
        .len();
    let info = wav::parse(&mut f, len).map_err(|p| Error::capture(path, p))?;
    let layout = RawLayout {
        path: path.to_path_buf(),
        format: info.format,
        spans: vec![info.data],
    };
    let reader = layout.reader()?;
    let mut meta = base_meta(
        path,
        info.sample_rate_hz,
        info.center_freq_hz.unwrap_or(0.0),
        info.data.samples,
    );
    meta.start_time_utc = info.start_time_utc;
    meta.description = format!("WAV {}", info.format.sigmf_name());
    let mut warnings = info.warnings;
    if info.center_freq_hz.is_none() {
        warnings.push("no auxi chunk: the centre frequency is unknown (give --freq)".into());
    }
    let found = Found {
        meta,
        annotations: Vec::new(),
        warnings,
        file_rate: true,
        file_freq: info.center_freq_hz.is_some(),
        layout: Some(layout),
    };
    Ok((Reader::Span(reader), found))
}

fn open_sigmf(path: &Path, loc: sigmf::SigmfLocation) -> Result<(Reader, Found)> {
    let meta_name = if loc.data_offset == 0 && loc.data_path != path {
        path.with_extension("sigmf-meta")
    } else {
        path.to_path_buf()
    };
    let mut m = sigmf::parse_meta(&loc.meta_bytes).map_err(|p| Error::capture(&meta_name, p))?;
    let spans = m
        .layout(loc.data_offset, loc.data_len)
        .map_err(|p| Error::capture(&loc.data_path, p))?;
    let layout = RawLayout {
        path: loc.data_path.clone(),
        format: m.datatype,
        spans,
    };
    let reader = layout.reader()?;
    let total = reader.len();
    let rate = m.sample_rate_hz;
    let freq = m.captures.first().and_then(|c| c.frequency_hz);
    let mut meta = base_meta(path, rate.unwrap_or(0.0), freq.unwrap_or(0.0), total);
    meta.start_time_utc = m.captures.first().and_then(|c| c.datetime.clone());
    meta.device = m.device.clone();
    meta.description = m.description.clone();
    let mut annotations: Vec<Annotation> = m.annotations.clone();
    let retunes = m.retune_annotations(total);
    if !retunes.is_empty() {
        m.warnings.push(format!(
            "the centre frequency changes {} time(s) (see the retune annotations); kuzet \
             analyzes the whole recording at the first capture's frequency",
            retunes.len()
        ));
    }
    annotations.extend(retunes);
    for a in &mut annotations {
        a.length = a.length.min(total.saturating_sub(a.start_sample));
    }
    if rate.is_none() {
        // Checked after flags are applied, in `open`.
        m.warnings.push("core:sample_rate is missing".into());
    }
    let found = Found {
        meta,
        annotations,
        warnings: m.warnings,
        file_rate: rate.is_some(),
        file_freq: freq.is_some(),
        layout: Some(layout),
    };
    Ok((Reader::Span(reader), found))
}

/// Checks what every consumer needs: a positive sample rate.
///
/// # Errors
/// [`CaptureProblem::UnknownRate`] naming the file.
pub fn require_rate(path: &Path, meta: &StreamMeta) -> Result<()> {
    let rate = meta.sample_rate_hz;
    if !(rate.is_finite() && rate > 0.0) {
        return Err(Error::capture(path, CaptureProblem::UnknownRate));
    }
    match crate::types::check_sample_rate(rate) {
        None => Ok(()),
        Some(why) => Err(Error::capture(
            path,
            CaptureProblem::BadField {
                field: "sample rate",
                why,
            },
        )),
    }
}
