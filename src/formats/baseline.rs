//! The baseline file (`kuzet baseline learn -o FILE`, loaded with `--baseline FILE`):
//! [`Baseline::save`] and [`Baseline::load`].
//!
//! Layout (`*.h5`): root attributes `format = "kuzet-baseline"`, `version = 1`,
//! `center_freq_hz`, `sample_rate_hz`, `bins`, `seconds`; datasets `occupancy`,
//! `power_db_mean`, `power_db_std`, `floor_db` (f32, one per bin, fft-shifted order) and
//! `emitters` (compound `{freq_hz, bandwidth_hz, power_dbfs, duty}`, f64).

use std::path::Path;

use hdf5::types::VarLenUnicode;
use hdf5::H5Type;

use super::h5guard;
use crate::error::{CaptureProblem, Error, Result};
use crate::types::{Baseline, KnownEmitter};

/// Value of the root attribute `format`.
pub const FORMAT: &str = "kuzet-baseline";
/// Format version this build writes and the newest it reads.
pub const VERSION: i64 = 1;

/// On-disk row of `emitters`.
#[derive(H5Type, Clone, Copy, Debug)]
#[repr(C)]
struct EmitterRow {
    freq_hz: f64,
    bandwidth_hz: f64,
    power_dbfs: f64,
    duty: f64,
}

const DATASETS: [&str; 4] = ["occupancy", "power_db_mean", "power_db_std", "floor_db"];

/// The most bins a baseline has: the largest FFT the spectrum stage accepts.
const MAX_BINS: u64 = 1 << 20;
/// The most known emitters read: a bound on what a crafted table can make kuzet allocate
/// (a learned baseline has at most one per few bins).
const MAX_EMITTERS: u64 = 1 << 20;

/// Opens one of the baseline's one-dimensional datasets after checking that its data is
/// in the file and that it holds `want` rows (exactly, or at most with `at_most`), so the
/// read that follows allocates only what the file really stores.
fn checked_dataset(
    file: &hdf5::File,
    path: &Path,
    name: &'static str,
    want: u64,
    at_most: bool,
) -> Result<hdf5::Dataset, String> {
    let ds = file
        .dataset(name)
        .map_err(|e| format!("dataset `{name}`: {e}"))?;
    let check = || -> Result<(), CaptureProblem> {
        h5guard::refuse_outside_storage(&ds, name)?;
        let declared = ds.size() as u64;
        let fits = if at_most {
            declared <= want
        } else {
            declared == want
        };
        if ds.ndim() != 1 || !fits {
            return Err(CaptureProblem::BadField {
                field: "dataset",
                why: format!(
                    "`{name}` has {declared} values of shape {:?}, expected {}{want}",
                    ds.shape(),
                    if at_most { "at most " } else { "one per bin: " }
                ),
            });
        }
        match h5guard::readable_rows(&ds, name, path, "values")? {
            (_, None) => Ok(()),
            (_, Some(overstated)) => Err(CaptureProblem::Truncated(overstated)),
        }
    };
    check().map_err(|e| e.to_string())?;
    Ok(ds)
}

impl Baseline {
    /// Writes the baseline as HDF5 (truncating).
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be created or written.
    pub fn save(&self, path: &Path) -> Result<()> {
        self.write(path).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other(format!("writing baseline: {e}")),
        })
    }

    fn write(&self, path: &Path) -> hdf5::Result<()> {
        let file = hdf5::File::with_options()
            .with_fapl(|p| {
                // Strong: closing really closes, so the file can be reopened in-process.
                p.fclose_degree(hdf5::file::FileCloseDegree::Strong)
            })
            .create(path)?;
        let format: VarLenUnicode = FORMAT
            .parse()
            .map_err(|e| hdf5::Error::from(format!("{e}")))?;
        file.new_attr::<VarLenUnicode>()
            .create("format")?
            .write_scalar(&format)?;
        file.new_attr::<i64>()
            .create("version")?
            .write_scalar(&VERSION)?;
        for (name, v) in [
            ("center_freq_hz", self.center_freq_hz),
            ("sample_rate_hz", self.sample_rate_hz),
            ("seconds", self.seconds),
        ] {
            file.new_attr::<f64>().create(name)?.write_scalar(&v)?;
        }
        file.new_attr::<u64>()
            .create("bins")?
            .write_scalar(&(self.bins as u64))?;
        for (name, data) in DATASETS.iter().zip([
            &self.occupancy,
            &self.power_db_mean,
            &self.power_db_std,
            &self.floor_db,
        ]) {
            file.new_dataset_builder()
                .with_data(data.as_slice())
                .create(*name)?;
        }
        let rows: Vec<EmitterRow> = self
            .emitters
            .iter()
            .map(|e| EmitterRow {
                freq_hz: e.freq_hz,
                bandwidth_hz: e.bandwidth_hz,
                power_dbfs: e.power_dbfs,
                duty: e.duty,
            })
            .collect();
        file.new_dataset_builder()
            .with_data(rows.as_slice())
            .create("emitters")?;
        file.close()
    }

    /// Reads a baseline written by [`Baseline::save`].
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read; [`Error::InvalidFile`] when it is not
    /// HDF5, not a kuzet baseline (a capture, say), of a newer version, or inconsistent.
    pub fn load(path: &Path) -> Result<Baseline> {
        let invalid = |msg: String| Error::InvalidFile {
            path: path.to_path_buf(),
            msg,
        };
        let head = read_head(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if head != HDF5_SIGNATURE {
            return Err(invalid(
                "not an HDF5 file (expected a kuzet baseline)".into(),
            ));
        }
        let file = hdf5::File::open(path).map_err(|e| invalid(format!("HDF5: {e}")))?;
        Self::read(&file, path).map_err(invalid)
    }

    fn read(file: &hdf5::File, path: &Path) -> Result<Baseline, String> {
        h5guard::refuse_external_links(file).map_err(|e| e.to_string())?;
        let format = super::kuzet::reader::read_string(file, "format")
            .map_err(|e| format!("attribute `format`: {e}"))?;
        match format.as_deref() {
            Some(FORMAT) => {}
            Some(other) => {
                return Err(format!(
                    "is a `{other}` file, expected `{FORMAT}` (learn one with `kuzet baseline`)"
                ))
            }
            None => return Err(format!("no `format` attribute: not a {FORMAT} file")),
        }
        let h5 = |what: &str, e: hdf5::Error| format!("{what}: {e}");
        let version: i64 = file
            .attr("version")
            .and_then(|a| a.read_scalar())
            .map_err(|e| h5("attribute `version`", e))?;
        if version > VERSION {
            return Err(format!(
                "version {version} is newer than this kuzet reads ({VERSION})"
            ));
        }
        let f64_attr = |name: &str| -> Result<f64, String> {
            file.attr(name)
                .and_then(|a| a.read_scalar::<f64>())
                .map_err(|e| h5(&format!("attribute `{name}`"), e))
        };
        let center_freq_hz = f64_attr("center_freq_hz")?;
        let sample_rate_hz = f64_attr("sample_rate_hz")?;
        let seconds = f64_attr("seconds")?;
        let bins = file
            .attr("bins")
            .and_then(|a| a.read_scalar::<u64>())
            .map_err(|e| h5("attribute `bins`", e))? as usize;
        if !(sample_rate_hz.is_finite() && sample_rate_hz > 0.0 && bins > 0) {
            return Err(format!(
                "sample_rate_hz ({sample_rate_hz}) and bins ({bins}) must be positive"
            ));
        }
        if bins as u64 > MAX_BINS {
            return Err(format!("bins ({bins}) is more than {MAX_BINS}"));
        }
        let mut columns = Vec::with_capacity(DATASETS.len());
        for name in DATASETS {
            let v: Vec<f32> = checked_dataset(file, path, name, bins as u64, false)?
                .read_raw()
                .map_err(|e| h5(&format!("dataset `{name}`"), e))?;
            if v.len() != bins {
                return Err(format!(
                    "dataset `{name}` has {} values, expected one per bin ({bins})",
                    v.len()
                ));
            }
            columns.push(v);
        }
        let rows: Vec<EmitterRow> = checked_dataset(file, path, "emitters", MAX_EMITTERS, true)?
            .read_raw()
            .map_err(|e| h5("dataset `emitters`", e))?;
        let mut it = columns.into_iter();
        let mut next = || it.next().unwrap_or_default();
        Ok(Baseline {
            center_freq_hz,
            sample_rate_hz,
            bins,
            occupancy: next(),
            power_db_mean: next(),
            power_db_std: next(),
            floor_db: next(),
            emitters: rows
                .iter()
                .map(|r| KnownEmitter {
                    freq_hz: r.freq_hz,
                    bandwidth_hz: r.bandwidth_hz,
                    power_dbfs: r.power_dbfs,
                    duty: r.duty,
                })
                .collect(),
            seconds,
        })
    }
}

const HDF5_SIGNATURE: [u8; 8] = [0x89, b'H', b'D', b'F', b'\r', b'\n', 0x1a, b'\n'];

/// The first 8 bytes of a file (fewer if it is shorter).
fn read_head(path: &Path) -> std::io::Result<[u8; 8]> {
    use std::io::Read;
    super::require_regular(path)?;
    let mut head = [0u8; 8];
    let mut f = std::fs::File::open(path)?;
    let mut got = 0;
    while got < head.len() {
        let n = f.read(&mut head[got..])?;
        if n == 0 {
            break;
        }
        got += n;
    }
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A baseline of 64 bins with one emitter and some never-occupied bins (NaN levels).
    fn sample() -> Baseline {
        let bins = 64;
        let occupancy: Vec<f32> = (0..bins)
            .map(|i| if (20..25).contains(&i) { 0.25 } else { 0.0 })
            .collect();
        let level = |on: f32| {
            occupancy
                .iter()
                .map(|&o| if o > 0.0 { on } else { f32::NAN })
                .collect::<Vec<_>>()
        };
        Baseline {
            center_freq_hz: 433.92e6,
            sample_rate_hz: 64_000.0,
            bins,
            power_db_mean: level(-40.0),
            power_db_std: level(0.5),
            floor_db: vec![-60.0; bins],
            occupancy,
            emitters: vec![KnownEmitter {
                freq_hz: 433.9215e6,
                bandwidth_hz: 5000.0,
                power_dbfs: -40.0,
                duty: 0.25,
            }],
            seconds: 0.4,
        }
    }

    #[test]
    fn save_load_round_trip() {
        let b = sample();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("baseline.h5");
        b.save(&p).unwrap();
        let back = Baseline::load(&p).unwrap();
        // NaN != NaN: compare the bits of the per-bin columns.
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back.power_db_mean), bits(&b.power_db_mean));
        assert_eq!(bits(&back.power_db_std), bits(&b.power_db_std));
        assert_eq!(back.occupancy, b.occupancy);
        assert_eq!(back.floor_db, b.floor_db);
        assert_eq!(back.emitters, b.emitters);
        assert_eq!(
            (
                back.center_freq_hz,
                back.sample_rate_hz,
                back.bins,
                back.seconds
            ),
            (b.center_freq_hz, b.sample_rate_hz, b.bins, b.seconds)
        );
    }

    #[test]
    fn an_empty_baseline_round_trips() {
        let b = Baseline {
            emitters: Vec::new(),
            ..sample()
        };
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("empty.h5");
        b.save(&p).unwrap();
        let back = Baseline::load(&p).unwrap();
        assert!(back.emitters.is_empty());
        assert_eq!(back.bins, 64);
    }

    #[test]
    fn wrong_files_get_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Baseline::load(&dir.path().join("none.h5")).unwrap_err();
        assert!(matches!(missing, Error::Io { .. }), "{missing}");

        let text = dir.path().join("plan.toml");
        std::fs::write(&text, "not hdf5 at all").unwrap();
        let e = Baseline::load(&text).unwrap_err().to_string();
        assert!(e.contains("not an HDF5 file"), "{e}");

        // A capture is HDF5 but not a baseline.
        let cap = dir.path().join("cap.h5");
        let meta = crate::types::StreamMeta {
            sample_rate_hz: 1e6,
            center_freq_hz: 1e8,
            start_time_utc: None,
            gain_db: None,
            device: String::new(),
            description: String::new(),
            origin: String::new(),
            total_samples: None,
            live: false,
        };
        let w =
            crate::formats::kuzet::CaptureWriter::create(&cap, &meta, &Default::default()).unwrap();
        w.finish().unwrap();
        let e = Baseline::load(&cap).unwrap_err().to_string();
        assert!(
            e.contains("kuzet-capture") && e.contains("kuzet-baseline"),
            "{e}"
        );

        let nodir = sample()
            .save(&dir.path().join("no/such/dir.h5"))
            .unwrap_err();
        assert!(matches!(nodir, Error::Io { .. }), "{nodir}");
    }
}
