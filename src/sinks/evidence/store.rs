//! Evidence clips as kuzet HDF5 captures in one directory, under a disk quota.
//!
//! The quota counts only files kuzet named as evidence (`<UTC time>-<kind>.h5`), so
//! pointing `--evidence` at a directory with other files never deletes them. The oldest
//! evidence (by modification time) goes first; a clip still being written never does.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use num_complex::Complex32;

use super::engine::{ClipStore, ClipWriter};
use crate::alert::AlertKind;
use crate::error::Result;
use crate::formats::{CaptureWriter, SampleFormat, WriterOptions};
use crate::types::Annotation;
use crate::types::StreamMeta;

/// True for names kuzet gives evidence: `20261125T013317.123Z-hopping.h5` (with an
/// optional `-2`, `-3`, ... before the extension).
pub(crate) fn is_evidence_name(name: &str) -> bool {
    let b = name.as_bytes();
    name.ends_with(".h5")
        && b.len() > 17
        && b[..8].iter().all(u8::is_ascii_digit)
        && b[8] == b'T'
        && b[9..15].iter().all(u8::is_ascii_digit)
        && name.contains("Z-")
}

/// A sample type the pipeline's blocks carry, as a clip stores it.
pub(crate) trait ClipSample: Copy + Default + Send + 'static {
    /// The on-disk format that stores these samples as they are, each worth `scale`.
    fn clip_format(scale: f32) -> SampleFormat;
    /// Appends to a clip written in that format.
    fn append_to(w: &mut CaptureWriter, samples: &[Self]) -> Result<()>;
}

impl ClipSample for Complex32 {
    fn clip_format(_scale: f32) -> SampleFormat {
        SampleFormat::Cf32
    }
    fn append_to(w: &mut CaptureWriter, samples: &[Self]) -> Result<()> {
        w.append(samples)
    }
}

impl ClipSample for [i8; 2] {
    fn clip_format(scale: f32) -> SampleFormat {
        SampleFormat::Ci8 { scale }
    }
    fn append_to(w: &mut CaptureWriter, samples: &[Self]) -> Result<()> {
        w.append_pairs(samples)
    }
}

impl ClipSample for [i16; 2] {
    fn clip_format(scale: f32) -> SampleFormat {
        SampleFormat::Ci16 { scale }
    }
    fn append_to(w: &mut CaptureWriter, samples: &[Self]) -> Result<()> {
        w.append_pairs(samples)
    }
}

/// Writes clips into a directory.
pub(crate) struct Hdf5Store {
    dir: PathBuf,
    meta: StreamMeta,
    /// On-disk format: the blocks' own (complex64, or a capture's int8 or int16 with its
    /// scale).
    format: SampleFormat,
    utc0: Option<chrono::DateTime<chrono::Utc>>,
    quota: Option<u64>,
    /// Bytes of samples written since the directory was last measured: it is measured
    /// again once a sixty-fourth of the quota has been written, not after every block
    /// (a scan stats every clip).
    since_check: u64,
}

impl Hdf5Store {
    pub fn new(
        dir: PathBuf,
        meta: StreamMeta,
        format: SampleFormat,
        utc0: Option<chrono::DateTime<chrono::Utc>>,
        quota: Option<u64>,
    ) -> Self {
        Hdf5Store {
            dir,
            meta,
            format,
            utc0,
            quota,
            since_check: 0,
        }
    }

    /// Evidence files in the directory with their size and age, oldest first.
    fn evidence_files(&self) -> Vec<(PathBuf, u64, SystemTime)> {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut v: Vec<_> = rd
            .flatten()
            .filter(|e| is_evidence_name(&e.file_name().to_string_lossy()))
            .filter_map(|e| {
                let md = e.metadata().ok()?;
                md.is_file().then(|| {
                    (
                        e.path(),
                        md.len(),
                        md.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                    )
                })
            })
            .collect();
        v.sort_by(|a, b| a.2.cmp(&b.2).then_with(|| a.0.cmp(&b.0)));
        v
    }

    /// Deletes the oldest finished evidence until the directory is under `quota`;
    /// returns the bytes still over.
    fn make_room(&self, quota: u64, open: &[&Path]) -> u64 {
        let files = self.evidence_files();
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        for (path, len, _) in &files {
            if total <= quota {
                break;
            }
            if open.iter().any(|o| same_file(o, path)) {
                continue;
            }
            match std::fs::remove_file(path) {
                Ok(()) => {
                    eprintln!(
                        "kuzet: evidence: deleted {} to stay under the quota",
                        path.display()
                    );
                    total -= len;
                }
                Err(e) => eprintln!(
                    "kuzet: evidence: cannot delete {} to make room: {e}",
                    path.display()
                ),
            }
        }
        total.saturating_sub(quota)
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || a.file_name() == b.file_name()
}

impl<T: ClipSample> ClipStore<T> for Hdf5Store {
    fn create(
        &mut self,
        path: &Path,
        first: u64,
        trigger: AlertKind,
        open: &[&Path],
    ) -> Result<(Box<dyn ClipWriter<T>>, PathBuf)> {
        if let Some(q) = self.quota {
            self.make_room(q, open);
        }
        let mut meta = self.meta.clone();
        meta.start_time_utc = self.utc0.map(|t| {
            let at =
                t + chrono::Duration::nanoseconds((self.meta.seconds(first) * 1e9).round() as i64);
            at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        });
        meta.description = format!(
            "evidence cut by kuzet from {}, stream samples from {first}, triggered by {}",
            self.meta.origin,
            trigger.as_str()
        );
        let opts = WriterOptions {
            // The samples exactly as the pipeline saw them.
            format: self.format,
            swmr: true,
            // `H5Clip` decides when.
            flush_every: u64::MAX,
            extra_attrs: vec![("trigger".into(), trigger.as_str().into())],
            source_first_sample: Some(first),
            // Another kuzet writing evidence into the same directory may have taken the
            // name: the next free one is used instead (`-2`, `-3`, …), never shared.
            exclusive: true,
            ..WriterOptions::default()
        };
        let mut path = path.to_path_buf();
        let stem = path.with_extension("");
        let mut n = 2;
        let w = loop {
            match CaptureWriter::create(&path, &meta, &opts) {
                Ok(w) => break w,
                Err(crate::Error::Capture {
                    problem: crate::error::CaptureProblem::Io(e),
                    ..
                }) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => {
                    path = PathBuf::from(format!("{}-{n}.h5", stem.display()));
                    n += 1;
                }
                Err(e) => {
                    // Claimed, then failed (a full disk): nothing in it is evidence.
                    let _ = std::fs::remove_file(&path);
                    return Err(e);
                }
            }
        };
        let clip = H5Clip {
            w,
            last_flush: Instant::now(),
            unflushed: 0,
            stream_second: self.meta.index_at(1.0).max(1),
        };
        Ok((Box::new(clip), path))
    }

    fn discard(&mut self, path: &Path) {
        let _ = std::fs::remove_file(path);
    }

    fn has_quota(&self) -> bool {
        self.quota.is_some()
    }

    fn over_quota(&mut self, written: u64, open: &[&Path]) -> Option<PathBuf> {
        let q = self.quota?;
        self.since_check += written * self.format.bytes_per_sample() as u64;
        if self.since_check < q / 64 {
            return None;
        }
        self.since_check = 0;
        if self.make_room(q, open) == 0 {
            return None;
        }
        // Only clips being written are left: cut the oldest one.
        open.first().map(|p| p.to_path_buf())
    }

    fn finished(&mut self, _path: &Path) {}
}

/// A clip being written, flushed often enough that a crash loses little: at least every
/// [`FLUSH_EVERY`] of wall time (a live stream: about every block) and every second of
/// stream (a capture analysed at hundreds of times real time, where a flush per block
/// would be thousands of flushes a second, each rewriting the partly filled chunk).
struct H5Clip {
    w: CaptureWriter,
    last_flush: Instant,
    unflushed: u64,
    stream_second: u64,
}

/// Longest wall time between flushes of a clip.
const FLUSH_EVERY: Duration = Duration::from_millis(50);

impl<T: ClipSample> ClipWriter<T> for H5Clip {
    fn append(&mut self, samples: &[T]) -> Result<()> {
        T::append_to(&mut self.w, samples)?;
        self.unflushed += samples.len() as u64;
        if self.unflushed >= self.stream_second || self.last_flush.elapsed() >= FLUSH_EVERY {
            ClipWriter::<T>::flush(self)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.w.flush()?;
        self.unflushed = 0;
        self.last_flush = Instant::now();
        Ok(())
    }

    fn set_annotation(&mut self, row: u64, a: &Annotation) -> Result<()> {
        self.w.set_annotation(row, a)
    }

    fn finish(self: Box<Self>) -> Result<()> {
        self.w.finish().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_only_its_own_names() {
        assert!(is_evidence_name("20261125T013317.123Z-hopping.h5"));
        assert!(is_evidence_name("20261125T013317.123Z-new_emitter-2.h5"));
        assert!(!is_evidence_name("capture.h5"));
        assert!(!is_evidence_name("20261125T013317.123Z-hopping.sigmf-data"));
        assert!(!is_evidence_name(
            "kuzet-20261125T013317Z-433.92MHz-0001.h5"
        ));
    }
}
