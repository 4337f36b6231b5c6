//! What `kuzet convert` writes: the output formats ([`OutputKind`]) and their sinks, and the
//! lossless integer path from raw cu8/cs8/cs16 bytes straight into kuzet's compact HDF5
//! layout. Integer inputs go to kuzet HDF5 in the compact integer layout of the same
//! width, so the conversion is lossless and the output no bigger than needed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use super::export::{IqSink, RawWriter};
use super::raw::{Endian, RawFormat, SpanReader};
use super::sigmf::SigmfWriter;
use super::sm2117::Sm2117Writer;
use super::{CaptureWriter, SampleFormat, WriterOptions};
use crate::error::{Error, Result};
use crate::types::{Annotation, StreamMeta};

/// Samples per block: large enough that per-call overheads (HDF5 hyperslab selection,
/// syscalls) vanish, small enough to stay in L2/L3.
const BLOCK: usize = 1 << 17;

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

impl OutputKind {
    /// The files a conversion to `output` in this format writes.
    pub fn outputs(self, output: &Path) -> Vec<PathBuf> {
        match self {
            OutputKind::Sigmf => {
                let base = sigmf_base(output);
                vec![
                    base.with_extension("sigmf-meta"),
                    base.with_extension("sigmf-data"),
                ]
            }
            _ => vec![output.to_path_buf()],
        }
    }

    /// Creates the sink that writes `output` for a stream described by `meta`, in
    /// `compact` (kuzet HDF5's sample layout for integer inputs).
    ///
    /// # Errors
    /// The output cannot be created.
    pub fn create(
        self,
        output: &Path,
        meta: &StreamMeta,
        compact: SampleFormat,
    ) -> Result<Box<dyn IqSink>> {
        Ok(match self {
            OutputKind::Kuzet => Box::new(CaptureWriter::create(
                output,
                meta,
                &WriterOptions {
                    format: compact,
                    ..WriterOptions::default()
                },
            )?),
            OutputKind::Sigmf => Box::new(SigmfWriter::create(&sigmf_base(output), meta)?),
            OutputKind::Sm2117 => Box::new(Sm2117Writer::create(output, meta)?),
            OutputKind::Raw(f) => Box::new(RawWriter::create(output, f)?),
        })
    }
}

/// The base name of a SigMF pair named by either of its files.
pub fn sigmf_base(path: &Path) -> PathBuf {
    let s = path.to_string_lossy();
    for ext in [".sigmf-meta", ".sigmf-data"] {
        if let Some(b) = s.strip_suffix(ext) {
            return PathBuf::from(b);
        }
    }
    path.to_path_buf()
}

/// Integer encodings that go to kuzet HDF5 without a float round trip.
pub fn copies_exactly(format: RawFormat) -> bool {
    matches!(
        format,
        RawFormat::Cu8 { zero_x2: 255 } | RawFormat::Cs8 | RawFormat::Cs16(Endian::Little)
    )
}

/// Copies cu8 (rtl_sdr), cs8 and cs16 (see [`copies_exactly`]) straight into kuzet's
/// compact integer layout: bytes → integer pairs → HDF5, no `Complex32` in between. This
/// is what makes `convert` run at page-cache speed. Returns the samples written and
/// whether `stop` cut it short.
///
/// # Errors
/// A read or write error naming its file.
pub fn copy_integers(
    reader: &mut SpanReader,
    output: &Path,
    meta: &StreamMeta,
    annotations: &[Annotation],
    stop: &AtomicBool,
) -> Result<(u64, bool)> {
    let format = reader.format();
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
    for a in annotations {
        writer.annotate(a)?;
    }
    // Allocated once; every block reuses them.
    let mut bytes = vec![0u8; BLOCK * 2];
    let mut p16 = vec![[0i16; 2]; BLOCK];
    let mut p8 = vec![[0i8; 2]; BLOCK];
    let mut stopped = false;
    loop {
        if stop.load(Ordering::Relaxed) {
            stopped = true;
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
    Ok((writer.finish()?, stopped))
}

/// Fills `buf` with whole samples across span boundaries; returns the sample count (less
/// than the buffer holds only at the end).
fn fill(reader: &mut SpanReader, buf: &mut [u8]) -> Result<usize> {
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
pub fn kuzet_format_of(f: RawFormat) -> SampleFormat {
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
    ("cu8", super::raw::CU8_RTL),
];
