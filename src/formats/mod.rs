//! Every byte kuzet reads from or writes to disk: kuzet's own HDF5 capture format
//! ([`kuzet`]), raw IQ encodings ([`raw`]), SigMF ([`sigmf`]), WAV IQ ([`wav`]), ITU-R
//! SM.2117-0 HDF5 ([`sm2117`]), the baseline file ([`baseline`]), the known-emitters file
//! ([`known`]) and the convert sinks ([`export`]). Imports only the shared types: sources
//! and sinks build on it.
//!
//! kuzet's HDF5 capture layout, as DESIGN.md specifies it:
//! - `/iq`: one-dimensional, chunked, extendible complex64 stored as the compound
//!   `{r: f32, i: f32}` (what h5py writes for numpy `complex64`); or the compact variant,
//!   int8/int16 of shape `[N, 2]` with a `scale` attribute (`sample = raw * scale`).
//! - root attributes `format = "kuzet-capture"`, `version = 1`, `sample_rate_hz`,
//!   `center_freq_hz`, `start_time_utc`, `gain_db`, `device`, `description`;
//! - `/annotations`: optional table `(start_sample, length, freq_lo_hz, freq_hi_hz, label,
//!   source)`, ground truth from `kuzet synth` or alerts from the recorder.
//!
//! The writer can run in SWMR mode (libver v1.10, every object created before
//! `start_swmr`, a flush per block) so that a recording whose process dies still opens up
//! to its last flush; the reader falls back to SWMR read mode for such files.

pub mod baseline;
pub mod convert;
pub mod export;
pub mod h5guard;
mod h5raw;
pub mod known;
pub mod kuzet;
pub mod raw;
pub mod samples;
pub mod sigmf;
pub mod sm2117;
pub mod wav;

pub use kuzet::{CaptureReader, CaptureWriter, WriterOptions};

/// What every recording reader offers: complex floats from any sample, as
/// `source::recording` streams them.
pub trait SampleReader: Send + std::fmt::Debug {
    /// Reads up to `out.len()` samples from the position; 0 at the end.
    ///
    /// # Errors
    /// A read error naming the file.
    fn read(&mut self, out: &mut [num_complex::Complex32]) -> crate::Result<usize>;
    /// Samples in the recording.
    fn len(&self) -> u64;
    /// True for a recording of no samples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Index of the next sample `read` returns.
    fn position(&self) -> u64;
    /// Moves the position to `index`, clamped to the length.
    fn seek(&mut self, index: u64);
    /// Samples read as zero because they were NaN or infinite.
    fn non_finite_samples(&self) -> u64;
}

macro_rules! sample_reader {
    ($t:ty) => {
        impl SampleReader for $t {
            fn read(&mut self, out: &mut [num_complex::Complex32]) -> crate::Result<usize> {
                <$t>::read(self, out)
            }
            fn len(&self) -> u64 {
                <$t>::len(self)
            }
            fn position(&self) -> u64 {
                <$t>::position(self)
            }
            fn seek(&mut self, index: u64) {
                <$t>::seek(self, index)
            }
            fn non_finite_samples(&self) -> u64 {
                <$t>::non_finite_samples(self)
            }
        }
    };
}

sample_reader!(raw::SpanReader);
sample_reader!(sm2117::Sm2117Reader);
sample_reader!(kuzet::CaptureReader);

/// Refuses what is not a regular file (a FIFO, a device, a socket, a directory) before it
/// is opened: opening a FIFO with no writer blocks for ever, and a device never ends.
///
/// # Errors
/// `NotFound` and the like from the file system; `InvalidInput` naming what it is.
pub fn require_regular(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let t = std::fs::metadata(path)?.file_type();
    let what = if t.is_file() {
        return Ok(());
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else {
        "not a regular file"
    };
    Err(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("is {what}, not a recording file"),
    ))
}

/// Reads a settings file (band plan, scenario, exercise, known emitters) as text, refusing
/// what is not a regular file or is larger than any settings file could be.
///
/// # Errors
/// [`crate::Error::Io`] naming the file.
pub fn read_settings(path: &std::path::Path) -> crate::Result<String> {
    /// Far beyond any hand-written settings file; a larger one is a mistake or an attack.
    const MAX_BYTES: u64 = 16 << 20;
    let io = |source| crate::Error::Io {
        path: path.to_path_buf(),
        source,
    };
    require_regular(path).map_err(io)?;
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_BYTES {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("is {len} bytes; a settings file holds at most {MAX_BYTES}"),
        )));
    }
    std::fs::read_to_string(path).map_err(io)
}

/// Bytes an unprivileged writer can still put on the file system holding `path` (a file
/// or directory; for a file not yet created, its directory); `None` when it cannot be
/// told.
pub fn free_bytes(path: &std::path::Path) -> Option<u64> {
    let dir = if path.is_dir() {
        path
    } else {
        path.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."))
    };
    let st = rustix::fs::statvfs(dir).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

/// How samples are stored in `/iq`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SampleFormat {
    /// complex64 `{r: f32, i: f32}`.
    Cf32,
    /// int16 `[N, 2]`, `sample = raw * scale`.
    Ci16 {
        /// Value of one least-significant bit.
        scale: f32,
    },
    /// int8 `[N, 2]`, `sample = raw * scale`.
    Ci8 {
        /// Value of one least-significant bit.
        scale: f32,
    },
}

impl SampleFormat {
    /// Bytes per complex sample on disk.
    pub fn bytes_per_sample(&self) -> usize {
        match self {
            SampleFormat::Cf32 => 8,
            SampleFormat::Ci16 { .. } => 4,
            SampleFormat::Ci8 { .. } => 2,
        }
    }

    /// Short name: `cf32`, `ci16`, `ci8`.
    pub fn name(&self) -> &'static str {
        match self {
            SampleFormat::Cf32 => "cf32",
            SampleFormat::Ci16 { .. } => "ci16",
            SampleFormat::Ci8 { .. } => "ci8",
        }
    }
}
