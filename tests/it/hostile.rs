//! Hostile HDF5 files (issue 13): a file that points outside itself (external raw
//! storage, an external link, a virtual dataset), one that declares far more samples than
//! it stores, and the damaged files that once crashed or hung libhdf5. Each gets one
//! clear line naming the file and exit status 2 (or, for damage kuzet can read past,
//! exit 0), within seconds, and `convert` never copies another file's bytes. The crafted
//! files are made here with h5py; the damaged ones are kept in `fuzz/corpus/`.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use crate::support::{python, tmp};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs the kuzet binary; a run that has not ended after 60 s is killed and fails the
/// test (the hangs this file guards against would otherwise hang the suite).
fn kuzet(args: &[&str]) -> Output {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_kuzet"))
        .args(args)
        .env("HDF5_USE_FILE_LOCKING", "FALSE")
        .stdin(Stdio::null())
        // Alerts are not looked at; a full pipe would stall the run.
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kuzet");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("kuzet {args:?} still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// The one line a refusal prints; fails unless the run exited 2 with exactly one error
/// line (warnings before it are allowed) naming `file`.
fn refusal(out: &Output, file: &Path) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{}: {err}", file.display());
    let errors: Vec<&str> = err
        .lines()
        .filter(|l| !l.starts_with("kuzet: warning: "))
        .collect();
    assert_eq!(errors.len(), 1, "{}: {err}", file.display());
    assert!(errors[0].contains(s(file)), "{}: {err}", file.display());
    errors[0].to_string()
}

/// Root attributes of a valid kuzet capture, in h5py.
const KUZET_ATTRS: &str = "
def kuzet_attrs(f):
    f.attrs['format'] = 'kuzet-capture'
    f.attrs['version'] = 1
    f.attrs['sample_rate_hz'] = 1e6
    f.attrs['center_freq_hz'] = 433.92e6
";

#[test]
fn external_raw_storage_is_refused_and_nothing_is_copied() {
    let dir = tmp();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, b"TOP-SECRET ".repeat(800)).unwrap();
    let kuzet_h5 = dir.path().join("x.h5");
    let sm_h5 = dir.path().join("x.sm2117.h5");
    let zero_h5 = dir.path().join("zero.h5");
    python(
        &format!(
            "{KUZET_ATTRS}
import h5py, numpy as np, sys
secret, kz, sm, zero = sys.argv[1:5]
with h5py.File(kz, 'w') as f:
    kuzet_attrs(f)
    f.create_dataset('iq', shape=(1024,), dtype='c8', external=[(secret, 0, 8192)])
ch = np.dtype([('Real', '<f4'), ('Imag', '<f4')])
with h5py.File(sm, 'w') as f:
    d = f.create_dataset('Dataset_0', shape=(1024,), dtype=np.dtype([('Channel_0', ch)]),
                         external=[(secret, 0, 8192)])
    d.attrs['Sampling frequency (Hz)'] = 1e6
with h5py.File(zero, 'w') as f:
    kuzet_attrs(f)
    f.create_dataset('iq', shape=(2**40,), dtype='c8',
                     external=[('/dev/zero', 0, h5py.h5f.UNLIMITED)])
"
        ),
        &[&secret, &kuzet_h5, &sm_h5, &zero_h5],
    );
    for input in [&kuzet_h5, &sm_h5, &zero_h5] {
        let out_meta = dir.path().join("out.sigmf-meta");
        let t0 = Instant::now();
        let line = refusal(&kuzet(&["convert", s(input), s(&out_meta)]), input);
        assert!(line.contains("another file"), "{line}");
        assert!(t0.elapsed() < Duration::from_secs(20), "{line}");
        for out in [&out_meta, &out_meta.with_extension("sigmf-data")] {
            let copied = std::fs::read(out).unwrap_or_default();
            assert!(
                !copied.windows(10).any(|w| w == b"TOP-SECRET"),
                "{} holds the secret",
                out.display()
            );
        }
        refusal(&kuzet(&["analyze", s(input)]), input);
    }
}

#[test]
fn external_links_and_virtual_datasets_are_refused() {
    let dir = tmp();
    let target = dir.path().join("target.h5");
    let linked = dir.path().join("linked.h5");
    let nested = dir.path().join("nested.sm2117.h5");
    let vds = dir.path().join("virtual.h5");
    python(
        &format!(
            "{KUZET_ATTRS}
import h5py, numpy as np, sys
target, linked, nested, vds = sys.argv[1:5]
with h5py.File(target, 'w') as f:
    kuzet_attrs(f)
    f['iq'] = np.ones(1024, dtype='c8')
with h5py.File(linked, 'w') as f:
    kuzet_attrs(f)
    f['iq'] = h5py.ExternalLink(target, '/iq')
with h5py.File(nested, 'w') as f:
    f.create_group('measurements')['Dataset_0'] = h5py.ExternalLink(target, '/iq')
with h5py.File(vds, 'w') as f:
    kuzet_attrs(f)
    layout = h5py.VirtualLayout(shape=(1024,), dtype='c8')
    layout[:] = h5py.VirtualSource(target, 'iq', shape=(1024,))
    f.create_virtual_dataset('iq', layout)
"
        ),
        &[&target, &linked, &nested, &vds],
    );
    // The target itself is a valid capture: the refusals are about the links alone.
    assert_eq!(kuzet(&["analyze", s(&target)]).status.code(), Some(0));
    for (input, words) in [
        (&linked, "`/iq` is an external link"),
        (&nested, "`/measurements/Dataset_0` is an external link"),
        (&vds, "`/iq` is a virtual dataset"),
    ] {
        let out_meta = dir.path().join("out.sigmf-meta");
        let line = refusal(&kuzet(&["convert", s(input), s(&out_meta)]), input);
        assert!(line.contains(words), "{line}");
        assert!(!out_meta.with_extension("sigmf-data").exists(), "{line}");
        refusal(&kuzet(&["analyze", s(input)]), input);
    }
}

/// A baseline made by h5py in kuzet's layout, with `occupancy` stored as `storage`
/// says: "inside", "external" (another file) or "huge" (declared 2^40 values, none stored).
fn baseline(dir: &Path, name: &str, storage: &str) -> PathBuf {
    let p = dir.join(name);
    let other = dir.join("other.bin");
    std::fs::write(&other, [0u8; 1024]).unwrap();
    python(
        "
import h5py, numpy as np, sys
p, storage, other = sys.argv[1], sys.argv[2], sys.argv[3]
bins = 256
with h5py.File(p, 'w') as f:
    f.attrs['format'] = 'kuzet-baseline'
    f.attrs['version'] = 1
    f.attrs['center_freq_hz'] = 0.0
    f.attrs['sample_rate_hz'] = 1e6
    f.attrs['seconds'] = 1.0
    f.attrs['bins'] = np.uint64(bins)
    for name in ['power_db_mean', 'power_db_std', 'floor_db']:
        f[name] = np.zeros(bins, dtype='<f4')
    if storage == 'external':
        f.create_dataset('occupancy', shape=(bins,), dtype='<f4', external=[(other, 0, 1024)])
    elif storage == 'huge':
        f.create_dataset('occupancy', shape=(2**40,), dtype='<f4', chunks=(1024,))
    else:
        f['occupancy'] = np.zeros(bins, dtype='<f4')
    f['emitters'] = np.zeros(0, dtype=[('freq_hz', '<f8'), ('bandwidth_hz', '<f8'),
                                        ('power_dbfs', '<f8'), ('duty', '<f8')])
",
        &[&p, Path::new(storage), &other],
    );
    p
}

#[test]
fn baselines_stored_outside_or_declared_huge_are_refused() {
    let dir = tmp();
    let cap = dir.path().join("cap.h5");
    python(
        &format!(
            "{KUZET_ATTRS}
import h5py, numpy as np, sys
with h5py.File(sys.argv[1], 'w') as f:
    kuzet_attrs(f)
    f['iq'] = (np.random.default_rng(1).standard_normal(8192) * 0.01).astype('c8')
"
        ),
        &[&cap],
    );
    let good = baseline(dir.path(), "good.h5", "inside");
    let out = kuzet(&["analyze", "--baseline", s(&good), "--fft", "256", s(&cap)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (storage, words) in [
        ("external", "another file"),
        ("huge", "`occupancy` has 1099511627776 values"),
    ] {
        let b = baseline(dir.path(), &format!("{storage}.h5"), storage);
        let t0 = Instant::now();
        let out = kuzet(&["analyze", "--baseline", s(&b), "--fft", "256", s(&cap)]);
        let line = refusal(&out, &b);
        assert!(line.contains(words), "{line}");
        assert!(t0.elapsed() < Duration::from_secs(20), "{line}");
    }
}

#[test]
fn declared_lengths_are_read_only_as_far_as_the_file_stores_data() {
    let dir = tmp();
    let none = dir.path().join("none.h5");
    let some = dir.path().join("some.h5");
    let contiguous = dir.path().join("contiguous.h5");
    let bomb = dir.path().join("bomb.h5");
    let sm = dir.path().join("none.sm2117.h5");
    python(
        &format!(
            "{KUZET_ATTRS}
import h5py, numpy as np, sys
none, some, contiguous, bomb, sm = sys.argv[1:6]
with h5py.File(none, 'w') as f:
    kuzet_attrs(f)
    f.create_dataset('iq', shape=(2**40,), maxshape=(None,), dtype='c8', chunks=(1024,))
with h5py.File(some, 'w') as f:
    kuzet_attrs(f)
    d = f.create_dataset('iq', shape=(2**60,), maxshape=(None,), dtype='c8', chunks=(1024,))
    d[:2048] = np.full(2048, 0.5 + 0.25j, dtype='c8')
with h5py.File(contiguous, 'w') as f:
    kuzet_attrs(f)
    f.create_dataset('iq', shape=(2**32,), dtype='c8')
with h5py.File(bomb, 'w') as f:
    kuzet_attrs(f)
    d = f.create_dataset('iq', shape=(2**40,), dtype='c8', chunks=(1 << 20,),
                         compression='gzip', compression_opts=9)
    d[:1 << 20] = np.zeros(1 << 20, dtype='c8')
ch = np.dtype([('Real', '<f4'), ('Imag', '<f4')])
with h5py.File(sm, 'w') as f:
    d = f.create_dataset('Dataset_0', shape=(2**50,), dtype=np.dtype([('Channel_0', ch)]),
                         chunks=(4096,))
    d.attrs['Sampling frequency (Hz)'] = 1e6
"
        ),
        &[&none, &some, &contiguous, &bomb, &sm],
    );
    for input in [&none, &contiguous, &sm] {
        let t0 = Instant::now();
        let line = refusal(&kuzet(&["analyze", s(input)]), input);
        assert!(line.contains("stores none of them"), "{line}");
        let out = dir.path().join("out.cf32");
        refusal(&kuzet(&["convert", s(input), s(&out)]), input);
        assert!(!out.exists() || std::fs::metadata(&out).unwrap().len() == 0);
        assert!(t0.elapsed() < Duration::from_secs(20), "{line}");
    }
    // Two stored chunks of 2^60 declared: those are read, with a warning, and nothing more.
    let out = dir.path().join("some.cf32");
    let run = kuzet(&["convert", s(&some), s(&out)]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{err}");
    assert!(
        err.contains("declares 1152921504606846976 samples"),
        "{err}"
    );
    assert_eq!(std::fs::metadata(&out).unwrap().len(), 2048 * 8);
    // A compressed chunk stands for at most 1100 times its stored bytes.
    let bomb_len = std::fs::metadata(&bomb).unwrap().len();
    let out = dir.path().join("bomb.cf32");
    let t0 = Instant::now();
    let run = kuzet(&["convert", s(&bomb), s(&out)]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{err}");
    assert!(err.contains("declares 1099511627776 samples"), "{err}");
    assert!(
        std::fs::metadata(&out).unwrap().len() <= bomb_len * 1100,
        "{err}"
    );
    assert!(t0.elapsed() < Duration::from_secs(30));
}

/// Where the damaged files that once crashed or hung kuzet are kept, by the reader they
/// go through.
fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "h5"))
        .collect();
    files.sort();
    files
}

/// Every damaged file of the regression corpus, through the real binary: each run ends
/// by itself within seconds, in exit 2 with one line naming the file, or in exit 0 where
/// the damage is in something kuzet can do without (named `readable-*`); never in a
/// signal.
#[test]
fn damaged_files_that_crashed_libhdf5_fail_cleanly() {
    let dir = tmp();
    let cap = dir.path().join("cap.h5");
    python(
        &format!(
            "{KUZET_ATTRS}
import h5py, numpy as np, sys
with h5py.File(sys.argv[1], 'w') as f:
    kuzet_attrs(f)
    f['iq'] = np.zeros(4096, dtype='c8')
"
        ),
        &[&cap],
    );
    let mut runs = 0;
    for target in ["kuzet_h5", "sm2117_h5", "baseline_h5"] {
        for file in corpus(target) {
            let out_meta = dir.path().join("out.sigmf-meta");
            let commands: Vec<Vec<&str>> = if target == "baseline_h5" {
                vec![vec![
                    "analyze",
                    "--baseline",
                    s(&file),
                    "--fft",
                    "256",
                    s(&cap),
                ]]
            } else {
                vec![
                    vec!["analyze", s(&file)],
                    vec!["convert", s(&file), s(&out_meta)],
                ]
            };
            for args in commands {
                let _ = std::fs::remove_file(&out_meta);
                let _ = std::fs::remove_file(out_meta.with_extension("sigmf-data"));
                let out = kuzet(&args);
                let name = file.file_name().unwrap().to_string_lossy();
                if name.starts_with("readable-") {
                    let err = String::from_utf8_lossy(&out.stderr);
                    assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
                } else {
                    refusal(&out, &file);
                }
                runs += 1;
            }
        }
    }
    assert!(runs >= 10, "only {runs} runs: is the corpus there?");
}
