//! Streaming writer for kuzet HDF5 captures.
//!
//! Every object (datasets, attributes) is created up front, so that in SWMR mode the file
//! can switch to single-writer/multiple-reader before the first sample: from then on the
//! writer only extends datasets, which is what SWMR allows, and every flush leaves a file
//! that a reader (or a crash) sees whole up to that point.

use std::path::{Path, PathBuf};

use hdf5::types::VarLenUnicode;
use hdf5::{Dataset, Datatype};
use num_complex::Complex32;

use super::schema::{self, attr, AnnotationRow};
use crate::error::{CaptureProblem, Error, Result};
use crate::formats::h5raw;
use crate::formats::SampleFormat;
use crate::types::Annotation;
use crate::types::StreamMeta;

/// How a capture is written.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// On-disk sample type.
    pub format: SampleFormat,
    /// Single-writer/multiple-reader: crash-safe up to the last flush, readable while written.
    pub swmr: bool,
    /// Samples per HDF5 chunk.
    pub chunk_samples: usize,
    /// Flush after this many samples have been appended since the last flush (0: every append).
    pub flush_every: u64,
    /// Further string attributes on the root (`driver`, `serial` of a recording); created
    /// with the others, before SWMR starts.
    pub extra_attrs: Vec<(String, String)>,
    /// Write whole chunks straight from the caller's buffer instead of through HDF5's
    /// chunk cache (one memory copy less). For bulk writers (`kuzet convert`) that append
    /// multiples of `chunk_samples`; small appends would then rewrite chunks.
    pub bypass_chunk_cache: bool,
    /// For a clip cut from a longer stream: the stream index of its first sample, stored
    /// as the root attribute `source_first_sample`.
    pub source_first_sample: Option<u64>,
    /// Fail if the file exists (`O_EXCL`): two writers can never share a file, and an
    /// existing capture is never overwritten unless asked.
    pub exclusive: bool,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            format: SampleFormat::Cf32,
            swmr: false,
            chunk_samples: 1 << 16,
            flush_every: 1 << 20,
            extra_attrs: Vec::new(),
            bypass_chunk_cache: false,
            source_first_sample: None,
            exclusive: false,
        }
    }
}

/// An open capture being written.
pub struct CaptureWriter {
    path: PathBuf,
    // Fields drop in order: the datasets must close before the file. The other way round
    // libhdf5 (1.10) crashes in H5D_close after a failed write (a full disk).
    iq: Dataset,
    annotations: Dataset,
    file: hdf5::File,
    mem_type: Datatype,
    ann_type: Datatype,
    format: SampleFormat,
    len: u64,
    ann_len: u64,
    unflushed: u64,
    flush_every: u64,
    scratch_i16: Vec<[i16; 2]>,
    scratch_i8: Vec<[i8; 2]>,
    clipped: u64,
}

impl std::fmt::Debug for CaptureWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureWriter")
            .field("path", &self.path)
            .field("format", &self.format)
            .field("len", &self.len)
            .finish()
    }
}

fn str_attr(loc: &hdf5::Location, name: &str, value: &str) -> hdf5::Result<()> {
    // Variable-length UTF-8, as h5py writes strings.
    let v: VarLenUnicode = value
        .parse()
        .map_err(|e| hdf5::Error::from(format!("{e}")))?;
    loc.new_attr::<VarLenUnicode>()
        .create(name)?
        .write_scalar(&v)
}

fn f64_attr(loc: &hdf5::Location, name: &str, value: f64) -> hdf5::Result<()> {
    loc.new_attr::<f64>().create(name)?.write_scalar(&value)
}

impl CaptureWriter {
    /// Creates (truncating) a capture at `path` with the stream's metadata.
    ///
    /// # Errors
    /// [`Error::Capture`] when the file cannot be created (directory missing, disk full,
    /// permissions) or the metadata is invalid.
    pub fn create(path: impl AsRef<Path>, meta: &StreamMeta, opts: &WriterOptions) -> Result<Self> {
        let path = path.as_ref();
        let err = |p: CaptureProblem| Error::capture(path, p);
        if !(meta.sample_rate_hz.is_finite() && meta.sample_rate_hz > 0.0) {
            return Err(err(CaptureProblem::BadAttribute {
                name: attr::SAMPLE_RATE_HZ,
                why: format!(
                    "must be a positive number of Hz, got {}",
                    meta.sample_rate_hz
                ),
            }));
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !parent.is_dir() {
                return Err(err(CaptureProblem::Io(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("directory {} does not exist", parent.display()),
                ))));
            }
        }
        if opts.exclusive {
            // Claimed atomically first: HDF5's own exclusive create reports an existing
            // file as a generic error, and two processes must never both get it.
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(|e| err(CaptureProblem::Io(e)))?;
        }
        Self::create_inner(path, meta, opts).map_err(err)
    }

    fn create_inner(
        path: &Path,
        meta: &StreamMeta,
        opts: &WriterOptions,
    ) -> Result<Self, CaptureProblem> {
        let file = hdf5::File::with_options()
            .with_fapl(|p| {
                // Strong: closing the file closes it for real, so a reader in this process
                // can open it right after `finish` (HDF5 1.10 locks open files).
                p.fclose_degree(hdf5::file::FileCloseDegree::Strong);
                if opts.swmr {
                    p.libver_v110();
                }
                p
            })
            .create(path)?;
        let chunk = opts.chunk_samples.max(1);
        // A cache smaller than one chunk makes HDF5 write fully covered chunks directly.
        let (slots, cache_bytes) = if opts.bypass_chunk_cache {
            (0, 0)
        } else {
            (521, 1 << 20)
        };
        let (iq, mem_type) = match opts.format {
            SampleFormat::Cf32 => (
                file.new_dataset::<Complex32>()
                    .chunk(chunk)
                    .chunk_cache(slots, cache_bytes, 0.75)
                    .shape(0..)
                    .create(schema::IQ)?,
                Datatype::from_type::<Complex32>()?,
            ),
            SampleFormat::Ci16 { scale } => {
                let ds = file
                    .new_dataset::<i16>()
                    .chunk((chunk, 2))
                    .chunk_cache(slots, cache_bytes, 0.75)
                    .shape((0.., 2))
                    .create(schema::IQ)?;
                f64_attr(&ds, attr::SCALE, scale as f64)?;
                (ds, Datatype::from_type::<i16>()?)
            }
            SampleFormat::Ci8 { scale } => {
                let ds = file
                    .new_dataset::<i8>()
                    .chunk((chunk, 2))
                    .chunk_cache(slots, cache_bytes, 0.75)
                    .shape((0.., 2))
                    .create(schema::IQ)?;
                f64_attr(&ds, attr::SCALE, scale as f64)?;
                (ds, Datatype::from_type::<i8>()?)
            }
        };
        let annotations = file
            .new_dataset::<AnnotationRow>()
            .chunk(64)
            .shape(0..)
            .create(schema::ANNOTATIONS)?;
        str_attr(&file, attr::FORMAT, schema::FORMAT)?;
        file.new_attr::<i64>()
            .create(attr::VERSION)?
            .write_scalar(&schema::VERSION)?;
        f64_attr(&file, attr::SAMPLE_RATE_HZ, meta.sample_rate_hz)?;
        f64_attr(&file, attr::CENTER_FREQ_HZ, meta.center_freq_hz)?;
        let start = meta.start_time_utc.clone().unwrap_or_else(|| {
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        });
        str_attr(&file, attr::START_TIME_UTC, &start)?;
        f64_attr(&file, attr::GAIN_DB, meta.gain_db.unwrap_or(f64::NAN))?;
        str_attr(&file, attr::DEVICE, &meta.device)?;
        str_attr(&file, attr::DESCRIPTION, &meta.description)?;
        if let Some(first) = opts.source_first_sample {
            file.new_attr::<u64>()
                .create(attr::SOURCE_FIRST_SAMPLE)?
                .write_scalar(&first)?;
        }
        for (name, value) in &opts.extra_attrs {
            str_attr(&file, name, value)?;
        }
        if opts.swmr {
            file.start_swmr()?;
        }
        Ok(CaptureWriter {
            path: path.to_path_buf(),
            file,
            iq,
            annotations,
            mem_type,
            ann_type: Datatype::from_type::<AnnotationRow>()?,
            format: opts.format,
            len: 0,
            ann_len: 0,
            unflushed: 0,
            flush_every: opts.flush_every,
            scratch_i16: Vec::new(),
            scratch_i8: Vec::new(),
            clipped: 0,
        })
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Samples written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True before the first sample.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Samples that exceeded the integer range and were clipped (compact formats only).
    pub fn clipped_samples(&self) -> u64 {
        self.clipped
    }

    fn fail(&self, e: hdf5::Error) -> Error {
        Error::capture(&self.path, CaptureProblem::Hdf5(e))
    }

    /// Appends samples, flushing when `flush_every` samples have accumulated.
    ///
    /// # Errors
    /// [`Error::Capture`] when HDF5 cannot write (disk full); what was flushed before stays
    /// readable.
    pub fn append(&mut self, samples: &[Complex32]) -> Result<()> {
        if samples.is_empty() {
            return Ok(());
        }
        let res = match self.format {
            SampleFormat::Cf32 => {
                h5raw::append_rows(&self.iq, &self.mem_type, self.len, None, samples)
            }
            SampleFormat::Ci16 { scale } => {
                self.clipped += quantize(
                    samples,
                    1.0 / scale,
                    i16::MAX as f32,
                    &mut self.scratch_i16,
                    |v| v as i16,
                );
                h5raw::append_rows(
                    &self.iq,
                    &self.mem_type,
                    self.len,
                    Some(2),
                    self.scratch_i16.as_flattened(),
                )
            }
            SampleFormat::Ci8 { scale } => {
                self.clipped += quantize(
                    samples,
                    1.0 / scale,
                    i8::MAX as f32,
                    &mut self.scratch_i8,
                    |v| v as i8,
                );
                h5raw::append_rows(
                    &self.iq,
                    &self.mem_type,
                    self.len,
                    Some(2),
                    self.scratch_i8.as_flattened(),
                )
            }
        };
        res.map_err(|e| self.fail(e))?;
        self.len += samples.len() as u64;
        self.unflushed += samples.len() as u64;
        if self.unflushed >= self.flush_every {
            self.flush()?;
        }
        Ok(())
    }

    /// Appends integer pairs as they are stored (the compact layouts), skipping the
    /// float round trip: `kuzet convert` of cu8/cs8/cs16 input uses this to reach disk
    /// speed. `I` must match the writer's format (int16 for `Ci16`, int8 for `Ci8`).
    ///
    /// # Errors
    /// [`Error::Capture`] when HDF5 cannot write, or the pairs' width is not the
    /// writer's format.
    pub fn append_pairs<I: hdf5::H5Type + Copy>(&mut self, pairs: &[[I; 2]]) -> Result<()> {
        if pairs.is_empty() {
            return Ok(());
        }
        let width = std::mem::size_of::<I>();
        let ok = matches!(
            (self.format, width),
            (SampleFormat::Ci16 { .. }, 2) | (SampleFormat::Ci8 { .. }, 1)
        );
        if !ok {
            return Err(self.fail(hdf5::Error::from(format!(
                "{}-byte integer pairs appended to a {} capture",
                width,
                self.format.name()
            ))));
        }
        h5raw::append_rows(
            &self.iq,
            &self.mem_type,
            self.len,
            Some(2),
            pairs.as_flattened(),
        )
        .map_err(|e| self.fail(e))?;
        self.len += pairs.len() as u64;
        self.unflushed += pairs.len() as u64;
        if self.unflushed >= self.flush_every {
            self.flush()?;
        }
        Ok(())
    }

    /// Appends one row to `/annotations`.
    ///
    /// # Errors
    /// [`Error::Capture`] when HDF5 cannot write.
    pub fn annotate(&mut self, a: &Annotation) -> Result<()> {
        let row = [AnnotationRow::from(a)];
        h5raw::append_rows(&self.annotations, &self.ann_type, self.ann_len, None, &row)
            .map_err(|e| self.fail(e))?;
        self.ann_len += 1;
        Ok(())
    }

    /// Rewrites row `row` of `/annotations`, or appends it when `row` is the next one: an
    /// evidence clip keeps each alert's row current as the alert goes on.
    ///
    /// # Errors
    /// [`Error::Capture`] when HDF5 cannot write, or `row` would leave a hole.
    pub fn set_annotation(&mut self, row: u64, a: &Annotation) -> Result<()> {
        if row > self.ann_len {
            return Err(self.fail(hdf5::Error::from(format!(
                "annotation row {row} after {} rows",
                self.ann_len
            ))));
        }
        let data = [AnnotationRow::from(a)];
        h5raw::write_rows(
            &self.annotations,
            &self.ann_type,
            row,
            self.ann_len.max(row + 1),
            None,
            &data,
        )
        .map_err(|e| self.fail(e))?;
        self.ann_len = self.ann_len.max(row + 1);
        Ok(())
    }

    /// Makes everything written so far durable and visible to SWMR readers.
    ///
    /// # Errors
    /// [`Error::Capture`] when the flush fails.
    pub fn flush(&mut self) -> Result<()> {
        self.file.flush().map_err(|e| self.fail(e))?;
        self.unflushed = 0;
        Ok(())
    }

    /// Flushes and closes the file; returns the number of samples written.
    ///
    /// # Errors
    /// [`Error::Capture`] when the final flush or close fails.
    pub fn finish(mut self) -> Result<u64> {
        if let Err(e) = self.flush() {
            // Leaked, not closed: libhdf5 (1.10) crashes closing a dataset whose flush
            // failed. What was flushed before stays readable.
            std::mem::forget(self);
            return Err(e);
        }
        let len = self.len;
        let path = self.path.clone();
        let CaptureWriter {
            file,
            iq,
            annotations,
            ..
        } = self;
        drop(iq);
        drop(annotations);
        file.close()
            .map_err(|e| Error::capture(path, CaptureProblem::Hdf5(e)))?;
        Ok(len)
    }
}

/// Converts to integer pairs (`round(x / scale)`, clipped); returns the clipped count.
fn quantize<T: Copy + Default>(
    samples: &[Complex32],
    inv_scale: f32,
    max: f32,
    out: &mut Vec<[T; 2]>,
    cast: impl Fn(f32) -> T,
) -> u64 {
    out.clear();
    let mut clipped = 0u64;
    // Round half away from zero by adding ±0.5 before the truncating cast: `f32::round`
    // is a libm call on baseline x86-64 and would halve `kuzet convert`'s speed.
    let round = |v: f32| v + 0.5f32.copysign(v);
    // Two's complement: the negative range reaches -max - 1 (-32768 is a valid int16).
    let lo = -max - 1.0;
    for s in samples {
        let re = round(s.re * inv_scale);
        let im = round(s.im * inv_scale);
        // A NaN casts to 0 (Rust's float-to-int casts saturate), never to garbage.
        clipped += u64::from(
            !((lo - 1.0..max + 1.0).contains(&re) && (lo - 1.0..max + 1.0).contains(&im)),
        );
        out.push([cast(re.clamp(lo, max)), cast(im.clamp(lo, max))]);
    }
    clipped
}
