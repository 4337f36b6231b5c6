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
//! contradiction is reported as a warning.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use num_complex::Complex32;

pub mod kuzet;

use crate::error::{CaptureProblem, Error, Result};
use crate::formats::raw::{self, RawFormat, Span, SpanReader};
use crate::formats::sm2117::Sm2117Reader;
use crate::formats::{sigmf, wav};
use crate::source::{IqSource, ReadOutcome, SeekableSource};
use crate::types::Annotation;
use crate::types::StreamMeta;
use kuzet::FileSource;

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
    let md = std::fs::metadata(path).map_err(|e| not_found(path, e))?;
    if md.is_dir() {
        return Err(Error::capture(
            path,
            CaptureProblem::Io(std::io::Error::other("is a directory")),
        ));
    }
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
        .or_else(|_| hdf5::File::open_as(path, hdf5::file::OpenMode::ReadSWMR))
        .map(|f| f.link_exists(crate::formats::kuzet::schema::IQ))
        // Unopenable: the kuzet reader gives the best message (and handles SWMR files).
        .unwrap_or(true);
    if kuzet {
        InputKind::Kuzet
    } else {
        InputKind::Sm2117
    }
}

/// Opens any recording kuzet reads as a stream of samples.
///
/// # Errors
/// [`Error::Capture`] naming the file: missing, empty, truncated before its first sample,
/// an unknown format, no sample rate, real-valued data, invalid metadata.
pub fn open(path: impl AsRef<Path>, opts: &OpenOptions) -> Result<Box<dyn SeekableSource>> {
    let path = path.as_ref();
    let kind = detect(path, opts)?;
    let mut source: Box<dyn SeekableSource> = match kind {
        InputKind::Kuzet => Box::new(FileSource::open(path)?),
        InputKind::Sm2117 => {
            let file = hdf5::File::open(path)
                .map_err(|e| Error::capture(path, CaptureProblem::Hdf5(e)))?;
            Box::new(Sm2117Source::new(Sm2117Reader::from_file(path, file)?))
        }
        InputKind::SigmfPair => Box::new(open_sigmf(path, sigmf::locate_pair(path)?)?),
        InputKind::SigmfArchive => Box::new(open_sigmf(path, sigmf::locate_archive(path)?)?),
        InputKind::Wav => Box::new(open_wav(path)?),
        InputKind::Raw(f) => Box::new(open_raw(path, f, opts)?),
    };
    source.apply_options(opts);
    Ok(source)
}

/// Applies flags over a file's own metadata (used by every source in this module).
pub(crate) fn override_meta(
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

fn open_raw(path: &Path, format: RawFormat, opts: &OpenOptions) -> Result<SpanSource> {
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
    let reader = SpanReader::open(
        path,
        format,
        vec![Span {
            offset: 0,
            samples: len / bps,
        }],
    )?;
    let mut meta = base_meta(
        path,
        rate,
        opts.freq_hz.or(info.center_freq_hz).unwrap_or(0.0),
        len / bps,
    );
    meta.description = format!("raw {}", format.sigmf_name());
    Ok(SpanSource {
        reader,
        meta,
        annotations: Vec::new(),
        warnings,
        // Flags were applied here already (the name is not the file's own metadata).
        file_rate: false,
        file_freq: false,
    })
}

fn open_wav(path: &Path) -> Result<SpanSource> {
    let mut f = File::open(path).map_err(|e| not_found(path, e))?;
    let len = f
        .metadata()
        .map_err(|e| Error::capture(path, CaptureProblem::Io(e)))?
        .len();
    let info = wav::parse(&mut f, len).map_err(|p| Error::capture(path, p))?;
    let reader = SpanReader::open(path, info.format, vec![info.data])?;
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
    Ok(SpanSource {
        reader,
        meta,
        annotations: Vec::new(),
        warnings,
        file_rate: true,
        file_freq: info.center_freq_hz.is_some(),
    })
}

fn open_sigmf(path: &Path, loc: sigmf::SigmfLocation) -> Result<SpanSource> {
    let meta_name = if loc.data_offset == 0 && loc.data_path != path {
        path.with_extension("sigmf-meta")
    } else {
        path.to_path_buf()
    };
    let mut m = sigmf::parse_meta(&loc.meta_bytes).map_err(|p| Error::capture(&meta_name, p))?;
    let spans = m
        .layout(loc.data_offset, loc.data_len)
        .map_err(|p| Error::capture(&loc.data_path, p))?;
    let reader = SpanReader::open(&loc.data_path, m.datatype, spans)?;
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
        // Checked after flags are applied, in `apply_options`.
        m.warnings.push("core:sample_rate is missing".into());
    }
    Ok(SpanSource {
        reader,
        meta,
        annotations,
        warnings: m.warnings,
        file_rate: rate.is_some(),
        file_freq: freq.is_some(),
    })
}

/// A source over byte spans of one file: raw IQ, WAV data, SigMF data.
#[derive(Debug)]
pub struct SpanSource {
    reader: SpanReader,
    meta: StreamMeta,
    annotations: Vec<Annotation>,
    warnings: Vec<String>,
    file_rate: bool,
    file_freq: bool,
}

impl SpanSource {
    /// The underlying reader (for lossless copies of the encoded bytes).
    pub fn reader_mut(&mut self) -> &mut SpanReader {
        &mut self.reader
    }
}

impl IqSource for SpanSource {
    fn meta(&self) -> &StreamMeta {
        &self.meta
    }

    fn read(&mut self, buf: &mut [Complex32]) -> Result<ReadOutcome> {
        match self.reader.read(buf)? {
            0 => Ok(ReadOutcome::Eof),
            n => Ok(ReadOutcome::Samples(n)),
        }
    }

    fn non_finite_samples(&self) -> u64 {
        self.reader.non_finite_samples()
    }

    fn annotations(&self) -> &[Annotation] {
        &self.annotations
    }

    fn warnings(&self) -> &[String] {
        &self.warnings
    }

    fn apply_options(&mut self, opts: &OpenOptions) {
        let (r, f) = (self.file_rate, self.file_freq);
        override_meta(&mut self.meta, &mut self.warnings, opts, r, f);
    }

    fn span_reader(&mut self) -> Option<&mut SpanReader> {
        Some(&mut self.reader)
    }

    fn reopen(&self) -> Option<Box<dyn SeekableSource>> {
        Some(Box::new(SpanSource {
            reader: self.reader.reopen().ok()?,
            meta: self.meta.clone(),
            annotations: Vec::new(),
            warnings: Vec::new(),
            file_rate: self.file_rate,
            file_freq: self.file_freq,
        }))
    }
}

impl SeekableSource for SpanSource {
    fn len_samples(&self) -> u64 {
        self.reader.len()
    }

    fn position(&self) -> u64 {
        self.reader.position()
    }

    fn seek(&mut self, index: u64) {
        self.reader.seek(index);
    }
}

/// An SM.2117-0 file as a source.
#[derive(Debug)]
pub struct Sm2117Source {
    reader: Sm2117Reader,
    meta: StreamMeta,
    warnings: Vec<String>,
}

impl Sm2117Source {
    fn new(reader: Sm2117Reader) -> Self {
        let meta = reader.stream_meta();
        let warnings = reader.meta.warnings.clone();
        Sm2117Source {
            reader,
            meta,
            warnings,
        }
    }
}

impl IqSource for Sm2117Source {
    fn meta(&self) -> &StreamMeta {
        &self.meta
    }

    fn read(&mut self, buf: &mut [Complex32]) -> Result<ReadOutcome> {
        match self.reader.read(buf)? {
            0 => Ok(ReadOutcome::Eof),
            n => Ok(ReadOutcome::Samples(n)),
        }
    }

    fn non_finite_samples(&self) -> u64 {
        self.reader.non_finite_samples()
    }

    fn annotations(&self) -> &[Annotation] {
        &self.reader.annotations
    }

    fn warnings(&self) -> &[String] {
        &self.warnings
    }

    fn apply_options(&mut self, opts: &OpenOptions) {
        override_meta(&mut self.meta, &mut self.warnings, opts, true, true);
    }
}

impl SeekableSource for Sm2117Source {
    fn len_samples(&self) -> u64 {
        self.reader.len()
    }

    fn position(&self) -> u64 {
        self.reader.position()
    }

    fn seek(&mut self, index: u64) {
        self.reader.seek(index);
    }
}

/// Checks what every consumer needs: a positive sample rate.
///
/// # Errors
/// [`CaptureProblem::UnknownRate`] naming the file.
pub fn require_rate(path: &Path, meta: &StreamMeta) -> Result<()> {
    if meta.sample_rate_hz.is_finite() && meta.sample_rate_hz > 0.0 {
        Ok(())
    } else {
        Err(Error::capture(path, CaptureProblem::UnknownRate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(s: &mut dyn IqSource) -> Vec<Complex32> {
        let mut out = Vec::new();
        let mut buf = vec![Complex32::default(); 7];
        while let ReadOutcome::Samples(n) = s.read(&mut buf).unwrap() {
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    #[test]
    fn raw_cu8_with_rate_from_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("g001_433.92M_250k.cu8");
        std::fs::write(&p, [0u8, 255, 128, 127, 9]).unwrap();
        let mut s = open(&p, &OpenOptions::default()).unwrap();
        assert_eq!(s.meta().sample_rate_hz, 250e3);
        assert_eq!(s.meta().center_freq_hz, 433.92e6);
        assert_eq!(s.meta().total_samples, Some(2));
        assert!(s.warnings()[0].contains("last 1 bytes"));
        let v = read_all(s.as_mut());
        assert_eq!(v[0], Complex32::new(-1.0, 1.0));
    }

    #[test]
    fn raw_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("capture.cs16");
        std::fs::write(&p, [0u8; 8]).unwrap();
        let e = open(&p, &OpenOptions::default()).err().unwrap();
        assert!(matches!(
            e,
            Error::Capture {
                problem: CaptureProblem::UnknownRate,
                ..
            }
        ));
        assert!(e.to_string().contains("capture.cs16"), "{e}");
        let z = dir.path().join("z_1M.cu8");
        std::fs::write(&z, []).unwrap();
        let e = open(&z, &OpenOptions::default()).err().unwrap();
        assert!(e.to_string().contains("z_1M.cu8") && e.to_string().contains("no samples"));
        let u = dir.path().join("thing.xyz");
        std::fs::write(&u, [1u8; 16]).unwrap();
        let e = open(&u, &OpenOptions::default()).err().unwrap().to_string();
        assert!(e.contains("unknown capture format"), "{e}");
        let opts = OpenOptions {
            rate_hz: Some(1e6),
            raw_format: Some(RawFormat::Cs8),
            ..OpenOptions::default()
        };
        assert_eq!(open(&u, &opts).unwrap().meta().total_samples, Some(8));
    }

    #[test]
    fn wav_with_auxi_and_lying_size() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sdr.wav");
        let mut data = Vec::new();
        for v in [16384i16, -16384, 0, 32767] {
            data.extend_from_slice(&v.to_le_bytes());
        }
        std::fs::write(
            &p,
            crate::formats::wav::tests::wav(1, 16, 2, Some(100_000_000), &data, 9999),
        )
        .unwrap();
        let mut s = open(&p, &OpenOptions::default()).unwrap();
        assert_eq!(s.meta().center_freq_hz, 100e6);
        assert_eq!(s.meta().sample_rate_hz, 48000.0);
        assert!(s.warnings().iter().any(|w| w.contains("claims")));
        let v = read_all(s.as_mut());
        assert_eq!(
            v,
            vec![
                Complex32::new(0.5, -0.5),
                Complex32::new(0.0, 32767.0 / 32768.0)
            ]
        );
    }

    #[test]
    fn sigmf_pair_and_archive() {
        let dir = tempfile::tempdir().unwrap();
        let meta = r#"{"global":{"core:datatype":"ci16_le","core:sample_rate":48000,"core:version":"1.0.0"},
            "captures":[{"core:sample_start":0,"core:frequency":915e6}],
            "annotations":[{"core:sample_start":1,"core:sample_count":1,"core:label":"burst"}]}"#;
        let mut data = Vec::new();
        for v in [16384i16, 0, 0, -16384, 8192, 8192] {
            data.extend_from_slice(&v.to_le_bytes());
        }
        let m = dir.path().join("rec.sigmf-meta");
        std::fs::write(&m, meta).unwrap();
        std::fs::write(dir.path().join("rec.sigmf-data"), &data).unwrap();
        for p in [m.clone(), dir.path().join("rec.sigmf-data")] {
            let mut s = open(&p, &OpenOptions::default()).unwrap();
            assert_eq!(s.meta().center_freq_hz, 915e6);
            assert_eq!(s.annotations()[0].label, "burst");
            let v = read_all(s.as_mut());
            assert_eq!(v.len(), 3);
            assert_eq!(v[1], Complex32::new(0.0, -0.5));
        }
        let tarp = dir.path().join("rec.sigmf");
        {
            let mut b = tar::Builder::new(File::create(&tarp).unwrap());
            b.append_path_with_name(&m, "rec/rec.sigmf-meta").unwrap();
            b.append_path_with_name(dir.path().join("rec.sigmf-data"), "rec/rec.sigmf-data")
                .unwrap();
            b.finish().unwrap();
        }
        let mut s = open(&tarp, &OpenOptions::default()).unwrap();
        let v = read_all(s.as_mut());
        assert_eq!(v[2], Complex32::new(0.25, 0.25));
    }

    /// The first component of each sample, back as the byte written (ci8: `x / 128`).
    fn first_bytes(s: &mut dyn IqSource, n: usize) -> Vec<i8> {
        let mut buf = vec![Complex32::default(); n];
        match s.read(&mut buf).unwrap() {
            ReadOutcome::Samples(k) => buf[..k].iter().map(|c| (c.re * 128.0) as i8).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn seek_crosses_sigmf_capture_segments_and_clamps_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        // Two segments, each behind its own header: samples 0..3 then 3..5, I = 10 + index.
        let meta = r#"{"global":{"core:datatype":"ci8","core:sample_rate":1000,"core:version":"1.0.0"},
            "captures":[{"core:sample_start":0,"core:header_bytes":2},
                        {"core:sample_start":3,"core:header_bytes":4}]}"#;
        let data = [99, 99, 10, 0, 11, 0, 12, 0, 99, 99, 99, 99, 13, 0, 14, 0];
        let m = dir.path().join("seg.sigmf-meta");
        std::fs::write(&m, meta).unwrap();
        std::fs::write(dir.path().join("seg.sigmf-data"), data).unwrap();
        let mut s = open(&m, &OpenOptions::default()).unwrap();
        assert_eq!((s.len_samples(), s.position()), (5, 0));
        assert_eq!(first_bytes(s.as_mut(), 2), [10, 11]);
        assert_eq!(s.position(), 2);
        // Into the second segment, past its header.
        s.seek(4);
        assert_eq!(s.position(), 4);
        assert_eq!(first_bytes(s.as_mut(), 8), [14]);
        // Back into the first segment; one read runs on across the second header.
        s.seek(1);
        assert_eq!(first_bytes(s.as_mut(), 8), [11, 12, 13, 14]);
        assert_eq!(s.position(), 5);
        // Beyond the end: at the end, nothing more to read, and seeking back still works.
        s.seek(1_000);
        assert_eq!(s.position(), 5);
        assert_eq!(
            s.read(&mut [Complex32::default(); 4]).unwrap(),
            ReadOutcome::Eof
        );
        s.seek(0);
        assert_eq!(first_bytes(s.as_mut(), 1), [10]);
    }

    #[test]
    fn raw_and_wav_sources_seek_by_sample() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ramp_1M.cs8");
        let bytes: Vec<u8> = (0..50u8).flat_map(|i| [i, 0]).collect();
        std::fs::write(&p, &bytes).unwrap();
        let mut s = open(&p, &OpenOptions::default()).unwrap();
        assert_eq!(s.len_samples(), 50);
        s.seek(47);
        assert_eq!(first_bytes(s.as_mut(), 10), [47, 48, 49]);
        s.seek(u64::MAX);
        assert_eq!(s.position(), 50);

        let w = dir.path().join("ramp.wav");
        let mut data = Vec::new();
        for i in 0..6i16 {
            data.extend_from_slice(&(i * 256).to_le_bytes());
            data.extend_from_slice(&0i16.to_le_bytes());
        }
        std::fs::write(
            &w,
            crate::formats::wav::tests::wav(1, 16, 2, None, &data, data.len() as u32),
        )
        .unwrap();
        let mut s = open(&w, &OpenOptions::default()).unwrap();
        assert_eq!(s.len_samples(), 6);
        s.seek(4);
        // 16-bit `i * 256` is the 8-bit `i` scaled: the same `x * 128` readback.
        assert_eq!(first_bytes(s.as_mut(), 10), [4, 5]);
        assert_eq!(s.position(), 6);
    }

    #[test]
    fn real_sigmf_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("r.sigmf-meta");
        std::fs::write(
            &m,
            r#"{"global":{"core:datatype":"rf32_le","core:sample_rate":1}}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("r.sigmf-data"), [0u8; 16]).unwrap();
        let e = open(&m, &OpenOptions::default()).err().unwrap().to_string();
        assert!(
            e.contains("r.sigmf-meta") && e.contains("real-valued"),
            "{e}"
        );
    }
}
