//! `kuzet convert`: any recording kuzet reads into kuzet HDF5, SigMF, ITU-R SM.2117-0 HDF5
//! or headerless raw IQ, block by block, carrying metadata and annotations.
//!
//! ```text
//!  source::open(IN) ──Complex32 blocks──▶ IqSink (kuzet | sigmf | sm2117 | raw)
//!                   └─annotations──────────▶ (dropped, and said so, for raw)
//! ```
//! Integer inputs go to kuzet HDF5 in the compact integer layout of the same width, so
//! the conversion is lossless and the output no bigger than needed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use num_complex::Complex32;

use crate::error::{Error, Result};
use crate::formats::export::{IqSink, RawWriter};
use crate::formats::raw::{Endian, RawFormat};
use crate::formats::sigmf::SigmfWriter;
use crate::formats::sm2117::Sm2117Writer;
use crate::formats::{CaptureWriter, SampleFormat, WriterOptions};
use crate::source::{self, IqSource, OpenOptions, ReadOutcome};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OutputKind {
    /// kuzet HDF5 capture.
    Kuzet,
    /// SigMF pair.
    Sigmf,
    /// ITU-R SM.2117-0 HDF5.
    Sm2117,
    /// Headerless IQ.
    Raw(RawFormat),
}

impl OutputKind {
    /// Parses a `--to` value.
    pub fn from_name(name: &str) -> Option<OutputKind> {
        Some(match name.to_ascii_lowercase().as_str() {
            "kuzet" | "h5" => OutputKind::Kuzet,
            "sigmf" => OutputKind::Sigmf,
            "sm2117" => OutputKind::Sm2117,
            other => OutputKind::Raw(RawFormat::from_name(other)?),
        })
    }

    /// Tells the output format from the output's name: `.h5`/`.hdf5` (kuzet; `.sm2117.h5`
    /// for SM.2117), `.sigmf-meta`/`.sigmf-data`, `.cu8 .cs8 .cs16 .cf32 .cfile .raw`.
    ///
    /// # Errors
    /// [`Error::Config`] when the extension says nothing.
    pub fn from_path(path: &Path) -> Result<OutputKind> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if name.ends_with(".sm2117.h5") || name.ends_with(".sm2117.hdf5") {
            return Ok(OutputKind::Sm2117);
        }
        let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
        match ext {
            "h5" | "hdf5" => Ok(OutputKind::Kuzet),
            "sigmf-meta" | "sigmf-data" => Ok(OutputKind::Sigmf),
            e => RawFormat::from_name(e).map(OutputKind::Raw).ok_or_else(|| {
                Error::Config(format!(
                    "cannot tell the output format of {} from its extension; give --to \
                     kuzet|sigmf|sm2117|cf32|cs16|cs8|cu8",
                    path.display()
                ))
            }),
        }
    }
}

/// What a conversion did.
#[derive(Debug, Clone, Default)]
pub struct ConvertReport {
    /// Samples written.
    pub samples: u64,
    /// Bytes of input read (file size of the sample data).
    pub input_bytes: u64,
    /// Annotations carried over.
    pub annotations: usize,
    /// Annotations the output format could not hold.
    pub dropped_annotations: usize,
    /// Samples clipped by an integer output format.
    pub clipped: u64,
    /// NaN/Inf samples written as zero.
    pub non_finite: u64,
    /// Warnings from opening the input, and about the output.
    pub warnings: Vec<String>,
    /// Wall time.
    pub elapsed: Duration,
    /// Files written.
    pub outputs: Vec<PathBuf>,
}

/// Samples per block: large enough that per-call overheads (HDF5 hyperslab selection,
/// syscalls) vanish, small enough to stay in L2/L3.
const BLOCK: usize = 1 << 17;

/// The compact layout that holds an input's integers exactly.
fn kuzet_format(src: &mut dyn IqSource) -> SampleFormat {
    src.span_reader()
        .map_or(SampleFormat::Cf32, |r| kuzet_format_of(r.format()))
}

fn sigmf_base(path: &Path) -> PathBuf {
    let s = path.to_string_lossy();
    for ext in [".sigmf-meta", ".sigmf-data"] {
        if let Some(b) = s.strip_suffix(ext) {
            return PathBuf::from(b);
        }
    }
    path.to_path_buf()
}

/// Converts `input` to `output`.
///
/// # Errors
/// Input errors as [`source::open`]; output errors naming the output; [`Error::Config`]
/// when the output format cannot be told or the output is the input.
pub fn convert(
    input: &Path,
    output: &Path,
    to: Option<OutputKind>,
    opts: &OpenOptions,
    stop: &AtomicBool,
) -> Result<ConvertReport> {
    let kind = match to {
        Some(k) => k,
        None => OutputKind::from_path(output)?,
    };
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    };
    let mut src = source::open(input, opts)?;
    source::recording::require_rate(input, src.meta())?;
    let meta = src.meta().clone();
    let mut report = ConvertReport {
        warnings: src.warnings().to_vec(),
        ..ConvertReport::default()
    };
    let outputs: Vec<PathBuf> = match kind {
        OutputKind::Sigmf => {
            let base = sigmf_base(output);
            vec![
                base.with_extension("sigmf-meta"),
                base.with_extension("sigmf-data"),
            ]
        }
        _ => vec![output.to_path_buf()],
    };
    // Checked before anything is created: creating truncates.
    if outputs.iter().any(|o| same(input, o)) {
        return Err(Error::Config(format!(
            "{} would overwrite the input",
            output.display()
        )));
    }
    let mut sink: Box<dyn IqSink> = match kind {
        OutputKind::Kuzet if fast_path_format(src.as_mut()).is_some() => {
            // Written by `fast_integer_copy` below, straight from the encoded bytes.
            Box::new(NoSink)
        }
        OutputKind::Kuzet => {
            let format = kuzet_format(src.as_mut());
            Box::new(CaptureWriter::create(
                output,
                &meta,
                &WriterOptions {
                    format,
                    ..WriterOptions::default()
                },
            )?)
        }
        OutputKind::Sigmf => Box::new(SigmfWriter::create(&sigmf_base(output), &meta)?),
        OutputKind::Sm2117 => Box::new(Sm2117Writer::create(output, &meta)?),
        OutputKind::Raw(f) => {
            let info = crate::formats::raw::parse_name(
                &output
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
            if info.sample_rate_hz != Some(meta.sample_rate_hz) {
                report.warnings.push(format!(
                    "raw files carry no metadata: remember the rate and frequency, e.g. name \
                     it like x_{}M_{}k.{}",
                    meta.center_freq_hz / 1e6,
                    meta.sample_rate_hz / 1e3,
                    f.sigmf_name().trim_end_matches("_le").replace("ci", "cs")
                ));
            }
            Box::new(RawWriter::create(output, f)?)
        }
    };
    let annotations = src.annotations().to_vec();
    let can_annotate = !matches!(kind, OutputKind::Raw(_));
    for a in &annotations {
        sink.annotate(a)?;
    }
    if can_annotate {
        report.annotations = annotations.len();
    } else if !annotations.is_empty() {
        report.dropped_annotations = annotations.len();
        report.warnings.push(format!(
            "{} annotations dropped: raw IQ cannot hold them (use sigmf or kuzet)",
            annotations.len()
        ));
    }
    let bps = src
        .span_reader()
        .map_or(8, |r| r.format().bytes_per_sample() as u64);
    let t0 = Instant::now();
    if let OutputKind::Kuzet = kind {
        if let Some(n) = fast_integer_copy(src.as_mut(), output, &meta, stop, &mut report)? {
            report.samples = n;
            report.elapsed = t0.elapsed();
            report.input_bytes = n * bps;
            report.outputs = outputs;
            return Ok(report);
        }
    }
    let mut buf = vec![Complex32::default(); BLOCK];
    loop {
        if stop.load(Ordering::Relaxed) {
            report
                .warnings
                .push("interrupted: the output holds the samples read so far".into());
            break;
        }
        match src.read(&mut buf)? {
            ReadOutcome::Samples(n) => sink.append(&buf[..n])?,
            ReadOutcome::Eof => break,
            ReadOutcome::Pending | ReadOutcome::Lost(_) | ReadOutcome::Event(_) => {}
        }
    }
    report.clipped = sink.clipped_samples();
    report.samples = sink.finish()?;
    report.elapsed = t0.elapsed();
    report.input_bytes = report.samples * bps;
    report.non_finite = src.non_finite_samples();
    report.outputs = outputs;
    Ok(report)
}

/// Placeholder sink while the fast path writes the output itself.
struct NoSink;

impl IqSink for NoSink {
    fn append(&mut self, _samples: &[Complex32]) -> Result<()> {
        Ok(())
    }
    fn annotate(&mut self, _a: &crate::types::Annotation) -> Result<()> {
        Ok(())
    }
    fn clipped_samples(&self) -> u64 {
        0
    }
    fn finish(self: Box<Self>) -> Result<u64> {
        Ok(0)
    }
}

/// Integer encodings that go to kuzet HDF5 without a float round trip.
fn fast_path_format(src: &mut dyn IqSource) -> Option<RawFormat> {
    match src.span_reader()?.format() {
        f
        @ (RawFormat::Cu8 { zero_x2: 255 } | RawFormat::Cs8 | RawFormat::Cs16(Endian::Little)) => {
            Some(f)
        }
        _ => None,
    }
}

/// Copies cu8 (rtl_sdr), cs8 and cs16 straight into kuzet's compact integer layout:
/// bytes → integer pairs → HDF5, no `Complex32` in between. This is what makes
/// `convert` run at page-cache speed. Returns None when the input is not such a file.
fn fast_integer_copy(
    src: &mut dyn IqSource,
    output: &Path,
    meta: &crate::types::StreamMeta,
    stop: &AtomicBool,
    report: &mut ConvertReport,
) -> Result<Option<u64>> {
    let Some(format) = fast_path_format(src) else {
        return Ok(None);
    };
    let annotations = src.annotations().to_vec();
    let Some(reader) = src.span_reader() else {
        return Ok(None);
    };
    let mut writer = CaptureWriter::create(
        output,
        meta,
        &WriterOptions {
            format: kuzet_format_of(format),
            // Blocks are whole chunks: write them without a copy through the cache.
            chunk_samples: BLOCK,
            bypass_chunk_cache: true,
            ..WriterOptions::default()
        },
    )?;
    for a in &annotations {
        writer.annotate(a)?;
    }
    // Allocated once; every block reuses them.
    let mut bytes = vec![0u8; BLOCK * 2];
    let mut p16 = vec![[0i16; 2]; BLOCK];
    let mut p8 = vec![[0i8; 2]; BLOCK];
    loop {
        if stop.load(Ordering::Relaxed) {
            report
                .warnings
                .push("interrupted: the output holds the samples read so far".into());
            break;
        }
        match format {
            RawFormat::Cu8 { .. } => {
                let n = fill(reader, &mut bytes)?;
                if n == 0 {
                    break;
                }
                // (x - 127.5) / 127.5 == (2x - 255) / 255: exact in int16 with scale 1/255.
                for (p, b) in p16.iter_mut().zip(bytes[..2 * n].chunks_exact(2)) {
                    *p = [2 * b[0] as i16 - 255, 2 * b[1] as i16 - 255];
                }
                writer.append_pairs(&p16[..n])?;
            }
            RawFormat::Cs8 => {
                let n = fill(reader, bytemuck::cast_slice_mut(&mut p8))?;
                if n == 0 {
                    break;
                }
                writer.append_pairs(&p8[..n])?;
            }
            _ => {
                // cs16 is read straight into the pairs: one copy from the page cache.
                let n = fill(reader, bytemuck::cast_slice_mut(&mut p16))?;
                if n == 0 {
                    break;
                }
                for p in &mut p16[..n] {
                    // A no-op on little-endian machines; a swap elsewhere.
                    *p = [i16::from_le(p[0]), i16::from_le(p[1])];
                }
                writer.append_pairs(&p16[..n])?;
            }
        }
    }
    Ok(Some(writer.finish()?))
}

/// Fills `buf` with whole samples across span boundaries; returns the sample count (less
/// than the buffer holds only at the end).
fn fill(reader: &mut crate::formats::raw::SpanReader, buf: &mut [u8]) -> Result<usize> {
    let bps = reader.format().bytes_per_sample();
    let mut done = 0;
    loop {
        let n = reader.read_raw_into(&mut buf[done * bps..])?;
        if n == 0 {
            return Ok(done);
        }
        done += n;
    }
}

/// The compact layout that holds an input encoding's integers exactly. rtl_sdr's 127.5
/// offset: 2x - 255 is an odd integer in ±255, exact in int16 with scale 1/255.
fn kuzet_format_of(f: RawFormat) -> SampleFormat {
    match f {
        RawFormat::Cu8 { zero_x2: 255 } => SampleFormat::Ci16 { scale: 1.0 / 255.0 },
        RawFormat::Cu8 { .. } | RawFormat::Cs8 => SampleFormat::Ci8 { scale: 1.0 / 128.0 },
        RawFormat::Cs16(_) | RawFormat::Cu16(_) => SampleFormat::Ci16 {
            scale: 1.0 / 32768.0,
        },
        _ => SampleFormat::Cf32,
    }
}

/// `RawFormat` for `--to`/extension names, exposed for the CLI's help.
pub const RAW_NAMES: &[(&str, RawFormat)] = &[
    ("cf32", RawFormat::Cf32(Endian::Little)),
    ("cs16", RawFormat::Cs16(Endian::Little)),
    ("cs8", RawFormat::Cs8),
    ("cu8", crate::formats::raw::CU8_RTL),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::open;

    fn read_all(s: &mut dyn IqSource) -> Vec<Complex32> {
        let mut out = Vec::new();
        let mut buf = vec![Complex32::default(); 1000];
        while let ReadOutcome::Samples(n) = s.read(&mut buf).unwrap() {
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    #[test]
    fn every_output_reads_back_the_same_samples() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in_100M_1M.cs16");
        let mut bytes = Vec::new();
        for i in 0..5000i32 {
            let v = ((i * 37) % 65536 - 32768) as i16;
            bytes.extend_from_slice(&v.to_le_bytes());
            bytes.extend_from_slice(&(-(v / 2)).to_le_bytes());
        }
        std::fs::write(&input, &bytes).unwrap();
        let stop = AtomicBool::new(false);
        let want = read_all(open(&input, &OpenOptions::default()).unwrap().as_mut());
        for out in [
            "o.h5",
            "o.sigmf-meta",
            "o.sm2117.h5",
            "o_100M_1M.cs16",
            "o.cf32",
        ] {
            let o = dir.path().join(out);
            let r = convert(&input, &o, None, &OpenOptions::default(), &stop).unwrap();
            assert_eq!(r.samples, 5000, "{out}");
            let opts = OpenOptions {
                rate_hz: Some(1e6),
                ..OpenOptions::default()
            };
            let mut s = open(&o, &opts).unwrap();
            assert_eq!(s.meta().sample_rate_hz, 1e6, "{out}");
            let got = read_all(s.as_mut());
            assert_eq!(got, want, "{out}");
        }
    }

    #[test]
    fn integer_fast_path_is_exact() {
        let dir = tempfile::tempdir().unwrap();
        let stop = AtomicBool::new(false);
        let bytes: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for name in ["r_1M.cu8", "r_1M.cs8", "r_1M.cs16"] {
            let input = dir.path().join(name);
            std::fs::write(&input, &bytes).unwrap();
            let want = read_all(open(&input, &OpenOptions::default()).unwrap().as_mut());
            let o = dir.path().join(format!("{name}.h5"));
            let r = convert(&input, &o, None, &OpenOptions::default(), &stop).unwrap();
            assert_eq!(r.samples as usize, want.len(), "{name}");
            let got = read_all(open(&o, &OpenOptions::default()).unwrap().as_mut());
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn annotations_survive_sigmf_and_sm2117() {
        let dir = tempfile::tempdir().unwrap();
        let stop = AtomicBool::new(false);
        let m = dir.path().join("a.sigmf-meta");
        std::fs::write(
            &m,
            r#"{"global":{"core:datatype":"cf32_le","core:sample_rate":1000},
                "captures":[{"core:sample_start":0,"core:frequency":1e6}],
                "annotations":[{"core:sample_start":2,"core:sample_count":3,"core:label":"hop",
                  "core:freq_lower_edge":1e6,"core:freq_upper_edge":1.1e6}]}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("a.sigmf-data"), [0u8; 80]).unwrap();
        for out in ["b.sigmf-meta", "b.h5", "b.sm2117.h5"] {
            let o = dir.path().join(out);
            let r = convert(&m, &o, None, &OpenOptions::default(), &stop).unwrap();
            assert_eq!(r.annotations, 1);
            let s = open(&o, &OpenOptions::default()).unwrap();
            let a = &s.annotations()[0];
            assert_eq!(
                (a.start_sample, a.length, a.label.as_str()),
                (2, 3, "hop"),
                "{out}"
            );
            assert_eq!(s.meta().center_freq_hz, 1e6);
        }
        let r = convert(
            &m,
            &dir.path().join("c.cf32"),
            None,
            &OpenOptions::default(),
            &stop,
        )
        .unwrap();
        assert_eq!(r.dropped_annotations, 1);
    }

    #[test]
    fn refuses_to_overwrite_the_input() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("x_1M.cf32");
        std::fs::write(&input, [0u8; 64]).unwrap();
        let stop = AtomicBool::new(false);
        let e = convert(&input, &input, None, &OpenOptions::default(), &stop);
        assert!(e.is_err());
        assert_eq!(std::fs::metadata(&input).unwrap().len(), 64);
    }
}
