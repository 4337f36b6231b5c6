//! Streaming reader for kuzet HDF5 captures: validates the file once at open, then yields
//! samples block by block into the caller's buffer without loading the file.

use std::io::Read;
use std::path::{Path, PathBuf};

use hdf5::types::{FloatSize, IntSize, TypeDescriptor};
use hdf5::{Dataset, Datatype, H5Type};
use num_complex::Complex32;

use super::schema::{self, attr, AnnotationRow};
use crate::error::{CaptureProblem, Error, Result};
use crate::formats::samples::{self as simd, zero_non_finite};
use crate::formats::SampleFormat;
use crate::formats::{h5guard, h5raw};
use crate::types::Annotation;
use crate::types::StreamMeta;

/// The HDF5 superblock signature, searched at 0, 512, 1024, ... (user blocks).
const HDF5_SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

/// The most annotation rows read (each is 160 bytes in memory): far more than a recording
/// collects, and a bound on what a crafted table can make kuzet allocate.
const MAX_ANNOTATIONS: u64 = 1_000_000;

const EXPECTED_IQ: &str =
    "complex64 {r: f32, i: f32} of shape [N], or int8/int16 of shape [N, 2] with a `scale` attribute";

/// How `/iq` is laid out on disk.
#[derive(Debug, Clone, Copy)]
enum Layout {
    /// Compound {r, i} of f32 or f64 (HDF5 converts f64 to f32 on read).
    Complex,
    /// `[N, 2]` int8.
    PairsI8 { scale: f32 },
    /// `[N, 2]` int16.
    PairsI16 { scale: f32 },
    /// `[N, 2]` f32.
    PairsF32,
}

/// An open capture, positioned at a sample index.
pub struct CaptureReader {
    path: PathBuf,
    // Keeps the file open for as long as the dataset is read.
    _file: hdf5::File,
    iq: Dataset,
    layout: Layout,
    mem_type: Datatype,
    meta: StreamMeta,
    len: u64,
    pos: u64,
    scratch_i8: Vec<[i8; 2]>,
    scratch_i16: Vec<[i16; 2]>,
    opened_swmr: bool,
    non_finite: u64,
    source_first_sample: Option<u64>,
    /// Whole-chunk reads, when `/iq` allows them (see [`Direct`]).
    direct: Option<Direct>,
    /// Problems found at open that did not stop it (a length the file does not store).
    warnings: Vec<String>,
}

/// Reading `/iq` chunk by chunk with positioned reads of the file at each chunk's address,
/// bypassing HDF5's hyperslab selection, type conversion and chunk cache, which cost more
/// than the read itself (measured: 57 MS/s through `H5Dread` where the page cache delivers
/// 190), and landing straight in the caller's buffer: any part of a chunk is one `pread`,
/// so a request that does not line up with the chunks (the framer's never do) costs no
/// extra copy. Possible when `/iq` is chunked along its rows only, unfiltered, stored in
/// the in-memory layout (what kuzet and h5py write on little-endian machines), and the
/// file has no user block (chunk addresses are then file offsets).
#[derive(Debug)]
struct Direct {
    /// The capture, opened a second time for positioned reads.
    file: std::fs::File,
    /// Rows per chunk.
    chunk: u64,
    /// Bytes per row.
    row_bytes: u64,
    /// Rank of `/iq` (1 for compound samples, 2 for pairs).
    rank: usize,
    /// The last chunk looked up, (index, file offset): a request usually starts in the
    /// chunk where the previous one ended.
    last: Option<(u64, u64)>,
}

impl Direct {
    /// Reads the rows from `start` that fill `out` (whole rows of `row_bytes`).
    fn read(&mut self, ds: &Dataset, start: u64, out: &mut [u8]) -> hdf5::Result<()> {
        use std::os::unix::fs::FileExt;
        let rows = out.len() as u64 / self.row_bytes;
        let mut done = 0u64;
        while done < rows {
            let pos = start + done;
            let index = pos / self.chunk;
            let off = pos % self.chunk;
            let take = (rows - done).min(self.chunk - off);
            let addr = match self.last {
                Some((i, a)) if i == index => a,
                _ => {
                    let a = h5raw::chunk_address(
                        ds,
                        index * self.chunk,
                        self.rank,
                        self.chunk * self.row_bytes,
                    )?;
                    self.last = Some((index, a));
                    a
                }
            };
            let dst =
                &mut out[(done * self.row_bytes) as usize..][..(take * self.row_bytes) as usize];
            self.file
                .read_exact_at(dst, addr + off * self.row_bytes)
                .map_err(|e| hdf5::Error::from(format!("reading chunk {index}: {e}")))?;
            done += take;
        }
        Ok(())
    }
}

impl std::fmt::Debug for CaptureReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureReader")
            .field("path", &self.path)
            .field("layout", &self.layout)
            .field("len", &self.len)
            .field("pos", &self.pos)
            .finish()
    }
}

/// Where the HDF5 superblock starts, if the file is HDF5.
fn hdf5_signature_offset(path: &Path) -> std::io::Result<Option<u64>> {
    let mut f = std::fs::File::open(path)?;
    let mut buf = [0u8; 8];
    let mut offset = 0u64;
    // The superblock may follow a user block of 512 * 2^k bytes.
    while offset <= 1 << 20 {
        use std::io::{Seek, SeekFrom};
        if f.seek(SeekFrom::Start(offset)).is_err() {
            return Ok(None);
        }
        match f.read_exact(&mut buf) {
            Ok(()) if &buf == HDF5_SIGNATURE => return Ok(Some(offset)),
            Ok(()) => {}
            Err(_) => return Ok(None),
        }
        offset = if offset == 0 { 512 } else { offset * 2 };
    }
    Ok(None)
}

fn describe(desc: &TypeDescriptor) -> String {
    match desc {
        TypeDescriptor::Integer(s) => format!("int{}", *s as usize * 8),
        TypeDescriptor::Unsigned(s) => format!("uint{}", *s as usize * 8),
        TypeDescriptor::Float(FloatSize::U4) => "float32".into(),
        TypeDescriptor::Float(FloatSize::U8) => "float64".into(),
        TypeDescriptor::Compound(c) => {
            let fields: Vec<String> = c
                .fields
                .iter()
                .map(|f| format!("{}: {}", f.name, describe(&f.ty)))
                .collect();
            format!("compound {{{}}}", fields.join(", "))
        }
        TypeDescriptor::FixedAscii(n) | TypeDescriptor::FixedUnicode(n) => format!("string[{n}]"),
        TypeDescriptor::VarLenAscii | TypeDescriptor::VarLenUnicode => "string".into(),
        other => format!("{other:?}"),
    }
}

fn is_complex_compound(desc: &TypeDescriptor) -> bool {
    if *desc == Complex32::type_descriptor() || *desc == num_complex::Complex64::type_descriptor() {
        return true;
    }
    false
}

/// Reads a numeric scalar attribute as f64, if present.
fn read_f64(loc: &hdf5::Location, name: &'static str) -> Result<Option<f64>, CaptureProblem> {
    if !h5raw::attr_exists(loc, name)? {
        return Ok(None);
    }
    let a = loc.attr(name)?;
    let desc = a.dtype()?.to_descriptor()?;
    match desc {
        TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) | TypeDescriptor::Float(_) => {}
        other => {
            return Err(CaptureProblem::BadAttribute {
                name,
                why: format!("is {}, expected a number", describe(&other)),
            })
        }
    }
    // h5py sometimes stores one-element arrays; read_raw would allocate whatever size a
    // damaged dataspace declares, so only one element is read.
    if a.size() != 1 {
        return Err(CaptureProblem::BadAttribute {
            name,
            why: format!("has {} values, expected one", a.size()),
        });
    }
    let v: f64 = if a.is_scalar() {
        a.read_scalar()?
    } else {
        let v: Vec<f64> = a.read_raw()?;
        *v.first().ok_or_else(|| CaptureProblem::BadAttribute {
            name,
            why: "is an empty array".into(),
        })?
    };
    Ok(Some(v))
}

/// Reads a string attribute written as fixed- or variable-length ASCII/UTF-8, if present.
pub(crate) fn read_string(
    loc: &hdf5::Location,
    name: &'static str,
) -> Result<Option<String>, CaptureProblem> {
    if !h5raw::attr_exists(loc, name)? {
        return Ok(None);
    }
    let a = loc.attr(name)?;
    let desc = a.dtype()?.to_descriptor()?;
    let s = match desc {
        // Not through the library's conversion: see h5guard::read_vlen_string.
        TypeDescriptor::VarLenUnicode | TypeDescriptor::VarLenAscii => {
            let bytes = h5guard::read_vlen_string(&a)
                .map_err(|why| CaptureProblem::BadAttribute { name, why })?;
            String::from_utf8_lossy(&bytes).into_owned()
        }
        TypeDescriptor::FixedAscii(_) | TypeDescriptor::FixedUnicode(_) => {
            let bytes = h5raw::read_fixed_string_attr(&a)?;
            // Fixed strings are NUL- or space-padded.
            String::from_utf8_lossy(&bytes)
                .trim_end_matches(['\0', ' '])
                .to_string()
        }
        other => {
            return Err(CaptureProblem::BadAttribute {
                name,
                why: format!("is {}, expected a string", describe(&other)),
            })
        }
    };
    Ok(Some(s))
}

/// Opens read-only, retrying for a moment while the file is locked: HDF5 locks with
/// flock(), and a lock outlives its writer while a process forked meanwhile still holds
/// the inherited descriptor (HDF5 does not open with O_CLOEXEC).
fn open_retrying(path: &Path) -> hdf5::Result<hdf5::File> {
    let mut delay = std::time::Duration::from_millis(20);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        match hdf5::File::open(path) {
            Err(e)
                if e.to_string().contains("unable to lock file")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(delay);
                delay = (delay * 2).min(std::time::Duration::from_millis(250));
            }
            r => return r,
        }
    }
}

impl CaptureReader {
    /// Opens and validates a capture.
    ///
    /// # Errors
    /// [`Error::Capture`] naming the file and the problem: missing, not HDF5, no `/iq`, an
    /// unreadable type, a missing or non-positive `sample_rate_hz`, no samples.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let err = |p: CaptureProblem| Error::capture(path, p);
        let md = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => err(CaptureProblem::NotFound),
            _ => err(CaptureProblem::Io(e)),
        })?;
        if md.is_dir() {
            return Err(err(CaptureProblem::Io(std::io::Error::other(
                "is a directory",
            ))));
        }
        let Some(superblock) = hdf5_signature_offset(path).map_err(|e| err(e.into()))? else {
            return Err(err(CaptureProblem::NotHdf5));
        };
        let (file, opened_swmr) = match open_retrying(path) {
            Ok(f) => (f, false),
            // A recording whose writer died is still marked open for SWMR writing; SWMR
            // read mode opens it up to its last flush.
            Err(plain) => match h5guard::open_swmr(path) {
                Ok(f) => (f, true),
                Err(_) => return Err(err(CaptureProblem::Hdf5(plain))),
            },
        };
        Self::from_file(path, file, opened_swmr, superblock == 0).map_err(err)
    }

    fn from_file(
        path: &Path,
        file: hdf5::File,
        opened_swmr: bool,
        no_user_block: bool,
    ) -> Result<Self, CaptureProblem> {
        h5guard::refuse_external_links(&file)?;
        if let Some(format) = read_string(&file, attr::FORMAT)? {
            if format != schema::FORMAT {
                return Err(CaptureProblem::BadAttribute {
                    name: attr::FORMAT,
                    why: format!("is `{format}`, expected `{}`", schema::FORMAT),
                });
            }
        }
        if let Some(v) = read_f64(&file, attr::VERSION)? {
            if v > schema::VERSION as f64 {
                return Err(CaptureProblem::BadAttribute {
                    name: attr::VERSION,
                    why: format!("is {v}, newer than this kuzet reads ({})", schema::VERSION),
                });
            }
        }
        if !file.link_exists(schema::IQ) {
            return Err(CaptureProblem::MissingDataset(schema::IQ));
        }
        let iq = file
            .dataset(schema::IQ)
            .map_err(|_| CaptureProblem::MissingDataset(schema::IQ))?;
        h5guard::refuse_outside_storage(&iq, "/iq")?;
        let sample_rate_hz =
            read_f64(&file, attr::SAMPLE_RATE_HZ)?.ok_or(CaptureProblem::BadAttribute {
                name: attr::SAMPLE_RATE_HZ,
                why: "is missing".into(),
            })?;
        if !(sample_rate_hz.is_finite() && sample_rate_hz > 0.0) {
            return Err(CaptureProblem::BadAttribute {
                name: attr::SAMPLE_RATE_HZ,
                why: format!("must be a positive number of Hz, got {sample_rate_hz}"),
            });
        }
        let center_freq_hz = read_f64(&file, attr::CENTER_FREQ_HZ)?.unwrap_or(0.0);
        if !center_freq_hz.is_finite() {
            return Err(CaptureProblem::BadAttribute {
                name: attr::CENTER_FREQ_HZ,
                why: format!("must be a finite number of Hz, got {center_freq_hz}"),
            });
        }

        let desc = iq.dtype()?.to_descriptor()?;
        let shape = iq.shape();
        let wrong = |found: String| CaptureProblem::WrongType {
            dataset: schema::IQ,
            found,
            expected: EXPECTED_IQ,
        };
        let shape_text = format!("{shape:?}");
        let layout = match (shape.as_slice(), &desc) {
            ([_], d) if is_complex_compound(d) => Layout::Complex,
            ([_, 2], TypeDescriptor::Integer(IntSize::U1)) => Layout::PairsI8 {
                scale: Self::scale(&iq, &file)?,
            },
            ([_, 2], TypeDescriptor::Integer(IntSize::U2)) => Layout::PairsI16 {
                scale: Self::scale(&iq, &file)?,
            },
            ([_, 2], TypeDescriptor::Float(FloatSize::U4)) => Layout::PairsF32,
            (_, d) => return Err(wrong(format!("{} of shape {shape_text}", describe(d)))),
        };
        if shape[0] == 0 {
            return Err(CaptureProblem::Empty);
        }
        let (len, overstated) = h5guard::readable_rows(&iq, "/iq", path, "samples")?;
        let mem_type = match layout {
            Layout::Complex => Datatype::from_type::<Complex32>()?,
            Layout::PairsI8 { .. } => Datatype::from_type::<i8>()?,
            Layout::PairsI16 { .. } => Datatype::from_type::<i16>()?,
            Layout::PairsF32 => Datatype::from_type::<f32>()?,
        };
        let meta = StreamMeta {
            sample_rate_hz,
            center_freq_hz,
            start_time_utc: read_string(&file, attr::START_TIME_UTC)?,
            gain_db: read_f64(&file, attr::GAIN_DB)?,
            device: read_string(&file, attr::DEVICE)?.unwrap_or_default(),
            description: read_string(&file, attr::DESCRIPTION)?.unwrap_or_default(),
            origin: path.display().to_string(),
            total_samples: Some(len),
            live: false,
        };
        let direct = match (layout, iq.chunk().as_deref()) {
            _ if !no_user_block || !iq.filters().is_empty() || iq.dtype()? != mem_type => None,
            (Layout::Complex, Some(&[chunk])) | (_, Some(&[chunk, 2])) if chunk > 0 => {
                let file = std::fs::File::open(path)?;
                Some(Direct {
                    file,
                    chunk: chunk as u64,
                    row_bytes: match layout {
                        Layout::Complex | Layout::PairsF32 => 8,
                        Layout::PairsI8 { .. } => 2,
                        Layout::PairsI16 { .. } => 4,
                    },
                    rank: shape.len(),
                    last: None,
                })
            }
            _ => None,
        };
        let source_first_sample = read_f64(&file, attr::SOURCE_FIRST_SAMPLE)?
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map(|_| file.attr(attr::SOURCE_FIRST_SAMPLE)?.read_scalar::<u64>())
            .transpose()?;
        Ok(CaptureReader {
            direct,
            path: path.to_path_buf(),
            _file: file,
            iq,
            layout,
            mem_type,
            meta,
            len,
            pos: 0,
            scratch_i8: Vec::new(),
            scratch_i16: Vec::new(),
            opened_swmr,
            non_finite: 0,
            source_first_sample,
            warnings: overstated.into_iter().collect(),
        })
    }

    fn scale(iq: &Dataset, file: &hdf5::File) -> Result<f32, CaptureProblem> {
        let scale = match read_f64(iq, attr::SCALE)? {
            Some(s) => s,
            None => read_f64(file, attr::SCALE)?.ok_or(CaptureProblem::BadAttribute {
                name: attr::SCALE,
                why: "is missing (integer `/iq` needs it)".into(),
            })?,
        };
        if !(scale.is_finite() && scale > 0.0) {
            return Err(CaptureProblem::BadAttribute {
                name: attr::SCALE,
                why: format!("must be positive, got {scale}"),
            });
        }
        Ok(scale as f32)
    }

    /// For a clip cut from a longer stream (an evidence file): the index in that stream of
    /// this capture's first sample.
    pub fn source_first_sample(&self) -> Option<u64> {
        self.source_first_sample
    }

    /// The file this reader reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stream description from the root attributes.
    pub fn meta(&self) -> &StreamMeta {
        &self.meta
    }

    /// Number of samples in `/iq`.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Always false: [`CaptureReader::open`] refuses empty captures.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Index of the next sample [`CaptureReader::read`] returns.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// True when samples are read a whole HDF5 chunk at a time, bypassing the library's
    /// conversion path (an unfiltered complex64 `/iq`).
    pub fn direct_chunk_reads(&self) -> bool {
        self.direct.is_some()
    }

    /// Moves the read position (clamped to the end).
    pub fn seek(&mut self, index: u64) {
        self.pos = index.min(self.len);
    }

    /// Problems found at open that did not stop it, for the operator (a `/iq` longer
    /// than the data the file stores, read only as far as that data).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// True when the file had to be opened in SWMR read mode (a writer died or is live).
    pub fn opened_swmr(&self) -> bool {
        self.opened_swmr
    }

    /// Samples that were NaN or infinite on disk and were read as zero.
    pub fn non_finite_samples(&self) -> u64 {
        self.non_finite
    }

    /// How `/iq` is stored.
    pub fn sample_format(&self) -> SampleFormat {
        match self.layout {
            Layout::Complex | Layout::PairsF32 => SampleFormat::Cf32,
            Layout::PairsI8 { scale } => SampleFormat::Ci8 { scale },
            Layout::PairsI16 { scale } => SampleFormat::Ci16 { scale },
        }
    }

    /// Reads up to `out.len()` samples from the current position; returns how many, 0 at
    /// the end. Non-finite samples are replaced by zero and counted, so one corrupt value
    /// cannot poison a whole spectrum.
    ///
    /// # Errors
    /// [`Error::Capture`] when HDF5 cannot read the span (a damaged chunk).
    pub fn read(&mut self, out: &mut [Complex32]) -> Result<usize> {
        let n = (out.len() as u64).min(self.len - self.pos) as usize;
        if n == 0 {
            return Ok(0);
        }
        let out = &mut out[..n];
        let start = self.pos;
        let res = match self.read_direct(start, out) {
            Some(Ok(())) => Ok(()),
            // An unallocated or odd chunk (a recording whose writer died): the general
            // path reads what there is from here on.
            Some(Err(_)) | None => {
                self.direct = None;
                self.read_general(start, out)
            }
        };
        if res.is_ok() && matches!(self.layout, Layout::Complex | Layout::PairsF32) {
            self.non_finite += zero_non_finite(out);
        }
        res.map_err(|e| {
            Error::capture(
                &self.path,
                CaptureProblem::Hdf5(
                    format!("reading samples {start}..{}: {e}", start + n as u64).into(),
                ),
            )
        })?;
        self.pos += n as u64;
        Ok(n)
    }

    /// What one stored int8 value is worth, for an int8 capture.
    pub fn ci8_scale(&self) -> Option<f32> {
        match self.layout {
            Layout::PairsI8 { scale } => Some(scale),
            _ => None,
        }
    }

    /// What one stored int16 value is worth, for an int16 capture.
    pub fn ci16_scale(&self) -> Option<f32> {
        match self.layout {
            Layout::PairsI16 { scale } => Some(scale),
            _ => None,
        }
    }

    /// [`CaptureReader::read`] for an int8 capture, as stored (each value worth
    /// [`CaptureReader::ci8_scale`]).
    ///
    /// # Errors
    /// As [`CaptureReader::read`], and [`Error::Config`] for a capture of another type.
    pub fn read_ci8(&mut self, out: &mut [[i8; 2]]) -> Result<usize> {
        if self.ci8_scale().is_none() {
            return Err(Error::Config(format!(
                "{}: not an int8 capture",
                self.path.display()
            )));
        }
        self.read_stored(out)
    }

    /// [`CaptureReader::read`] for an int16 capture, as stored (each value worth
    /// [`CaptureReader::ci16_scale`]).
    ///
    /// # Errors
    /// As [`CaptureReader::read`], and [`Error::Config`] for a capture of another type.
    pub fn read_ci16(&mut self, out: &mut [[i16; 2]]) -> Result<usize> {
        if self.ci16_scale().is_none() {
            return Err(Error::Config(format!(
                "{}: not an int16 capture",
                self.path.display()
            )));
        }
        self.read_stored(out)
    }

    /// Reads integer pairs as stored; the caller has checked that they are the layout's.
    fn read_stored<I: bytemuck::Pod>(&mut self, out: &mut [[I; 2]]) -> Result<usize> {
        let n = (out.len() as u64).min(self.len - self.pos) as usize;
        if n == 0 {
            return Ok(0);
        }
        let out = &mut out[..n];
        let start = self.pos;
        let direct = match self.direct.as_mut() {
            Some(d) => d
                .read(&self.iq, start, bytemuck::cast_slice_mut(out))
                .is_ok(),
            None => false,
        };
        if !direct {
            // See `read`: the general path from here on.
            self.direct = None;
            h5raw::read_rows(
                &self.iq,
                &self.mem_type,
                start,
                Some(2),
                out.as_flattened_mut(),
            )
            .map_err(|e| {
                Error::capture(
                    &self.path,
                    CaptureProblem::Hdf5(
                        format!("reading samples {start}..{}: {e}", start + n as u64).into(),
                    ),
                )
            })?;
        }
        self.pos += n as u64;
        Ok(n)
    }

    /// Reads `out.len()` samples from `start` by positioned reads, if the layout allows.
    fn read_direct(&mut self, start: u64, out: &mut [Complex32]) -> Option<hdf5::Result<()>> {
        let d = self.direct.as_mut()?;
        let n = out.len();
        Some(match self.layout {
            Layout::Complex | Layout::PairsF32 => {
                d.read(&self.iq, start, bytemuck::cast_slice_mut(out))
            }
            Layout::PairsI8 { scale } => {
                grow(&mut self.scratch_i8, n);
                let buf = &mut self.scratch_i8[..n];
                d.read(&self.iq, start, bytemuck::cast_slice_mut(buf))
                    .map(|()| {
                        simd::i8_to_f32(bytemuck::cast_slice_mut(out), buf.as_flattened(), scale)
                    })
            }
            Layout::PairsI16 { scale } => {
                grow(&mut self.scratch_i16, n);
                let buf = &mut self.scratch_i16[..n];
                d.read(&self.iq, start, bytemuck::cast_slice_mut(buf))
                    .map(|()| {
                        simd::i16_to_f32(bytemuck::cast_slice_mut(out), buf.as_flattened(), scale)
                    })
            }
        })
    }

    /// Reads `out.len()` samples from `start` through HDF5's own selection and conversion.
    fn read_general(&mut self, start: u64, out: &mut [Complex32]) -> hdf5::Result<()> {
        let n = out.len();
        match self.layout {
            Layout::Complex => h5raw::read_rows(&self.iq, &self.mem_type, start, None, out),
            Layout::PairsI8 { scale } => {
                grow(&mut self.scratch_i8, n);
                let buf = &mut self.scratch_i8[..n];
                h5raw::read_rows(
                    &self.iq,
                    &self.mem_type,
                    start,
                    Some(2),
                    buf.as_flattened_mut(),
                )
                .map(|()| simd::i8_to_f32(bytemuck::cast_slice_mut(out), buf.as_flattened(), scale))
            }
            Layout::PairsI16 { scale } => {
                grow(&mut self.scratch_i16, n);
                let buf = &mut self.scratch_i16[..n];
                h5raw::read_rows(
                    &self.iq,
                    &self.mem_type,
                    start,
                    Some(2),
                    buf.as_flattened_mut(),
                )
                .map(|()| {
                    simd::i16_to_f32(bytemuck::cast_slice_mut(out), buf.as_flattened(), scale)
                })
            }
            Layout::PairsF32 => h5raw::read_rows(
                &self.iq,
                &self.mem_type,
                start,
                Some(2),
                bytemuck::cast_slice_mut::<Complex32, f32>(out),
            ),
        }
    }

    /// Reads the `/annotations` table; an absent table is an empty list.
    ///
    /// # Errors
    /// [`Error::Capture`] when the table exists but has another layout.
    pub fn annotations(&self) -> Result<Vec<Annotation>> {
        let file = &self._file;
        if !file.link_exists(schema::ANNOTATIONS) {
            return Ok(Vec::new());
        }
        let read = || -> Result<Vec<Annotation>, CaptureProblem> {
            let ds = file.dataset(schema::ANNOTATIONS)?;
            h5guard::refuse_outside_storage(&ds, "/annotations")?;
            let desc = ds.dtype()?.to_descriptor()?;
            if desc != AnnotationRow::type_descriptor() {
                return Err(CaptureProblem::WrongType {
                    dataset: schema::ANNOTATIONS,
                    found: describe(&desc),
                    expected: "the kuzet annotation table",
                });
            }
            // read_raw allocates the declared size: check it against what is stored.
            let (rows, overstated) =
                h5guard::readable_rows(&ds, "/annotations", &self.path, "rows")?;
            if overstated.is_some() || ds.ndim() != 1 || rows > MAX_ANNOTATIONS {
                return Err(CaptureProblem::BadField {
                    field: "`/annotations`",
                    why: format!(
                        "declares {} rows; the file stores {rows} (at most {MAX_ANNOTATIONS} read)",
                        ds.size()
                    ),
                });
            }
            let rows: Vec<AnnotationRow> = ds.read_raw()?;
            Ok(rows.iter().map(Annotation::from).collect())
        };
        read().map_err(|p| Error::capture(&self.path, p))
    }
}

fn grow<T: Default + Clone>(v: &mut Vec<T>, n: usize) {
    if v.len() < n {
        v.resize(n, T::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{CaptureWriter, WriterOptions};

    fn meta() -> StreamMeta {
        StreamMeta {
            sample_rate_hz: 1e6,
            center_freq_hz: 100e6,
            start_time_utc: None,
            gain_db: None,
            device: String::new(),
            description: String::new(),
            origin: String::new(),
            total_samples: None,
            live: false,
        }
    }

    #[test]
    fn direct_chunk_reads_return_the_written_samples_for_any_request_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.h5");
        // 3.5 chunks: the last one partly filled; written in uneven appends.
        let samples: Vec<Complex32> = (0..3500)
            .map(|i| Complex32::new(i as f32, -(i as f32) * 0.5))
            .collect();
        let opts = WriterOptions {
            chunk_samples: 1000,
            ..WriterOptions::default()
        };
        let mut w = CaptureWriter::create(&path, &meta(), &opts).unwrap();
        for part in samples.chunks(777) {
            w.append(part).unwrap();
        }
        w.finish().unwrap();
        for request in [1, 999, 1000, 1001, 2000, 2500, 5000] {
            let mut r = CaptureReader::open(&path).unwrap();
            assert!(r.direct_chunk_reads());
            let mut got = Vec::new();
            let mut buf = vec![Complex32::default(); request];
            loop {
                let n = r.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got, samples, "request {request}");
            // Seeking into the middle of a chunk reads from there.
            r.seek(1234);
            let n = r.read(&mut buf[..1]).unwrap();
            assert_eq!((n, buf[0]), (1, samples[1234]));
        }
    }

    #[test]
    fn compact_formats_read_the_same_directly_and_through_hdf5() {
        let dir = tempfile::tempdir().unwrap();
        for (name, format) in [
            (
                "c16.h5",
                SampleFormat::Ci16 {
                    scale: 1.0 / 32768.0,
                },
            ),
            ("c8.h5", SampleFormat::Ci8 { scale: 1.0 / 128.0 }),
        ] {
            let path = dir.path().join(name);
            let opts = WriterOptions {
                format,
                chunk_samples: 100,
                ..WriterOptions::default()
            };
            let samples: Vec<Complex32> = (0..250)
                .map(|i| Complex32::new((i % 7) as f32 / 8.0, -((i % 5) as f32) / 8.0))
                .collect();
            let mut w = CaptureWriter::create(&path, &meta(), &opts).unwrap();
            w.append(&samples).unwrap();
            w.finish().unwrap();
            for direct in [true, false] {
                let mut r = CaptureReader::open(&path).unwrap();
                assert!(r.direct_chunk_reads(), "{name}");
                if !direct {
                    r.direct = None;
                }
                let mut got = Vec::new();
                // Requests that straddle chunks.
                let mut buf = [Complex32::default(); 70];
                loop {
                    let n = r.read(&mut buf).unwrap();
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&buf[..n]);
                }
                assert_eq!(got, samples, "{name}, direct {direct}");
            }
        }
    }
}
