//! Interchange formats against real third-party readers and writers: the `sigmf` Python
//! package (validation, reading, writing), h5py for ITU-R SM.2117-0 (and the `itusm2117`
//! package when installed), numpy for GNU Radio-style cf32; plus the `kuzet` CLI's
//! behaviour on hostile files.
//!
//! The Python side is found as `$KUZET_PYTHON`, else `/opt/kuzet-py/bin/python`, else
//! `/usr/bin/python3`, else `python3`: the first that imports the modules a test needs.
//! Without one the test prints why and passes, unless `KUZET_REQUIRE_INTEROP=1` (CI sets
//! it after installing them), where a missing module fails the test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const KUZET: &str = env!("CARGO_BIN_EXE_kuzet");

fn candidates() -> Vec<String> {
    let mut c = Vec::new();
    if let Ok(p) = std::env::var("KUZET_PYTHON") {
        c.push(p);
    }
    c.extend(
        ["/opt/kuzet-py/bin/python", "/usr/bin/python3", "python3"]
            .iter()
            .map(|s| s.to_string()),
    );
    c
}

/// A Python interpreter that imports all of `modules`, or None (after saying why).
fn python(modules: &[&str]) -> Option<String> {
    let probe = format!("import {}", modules.join(", "));
    for py in candidates() {
        let ok = Command::new(&py)
            .args(["-c", &probe])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            return Some(py);
        }
    }
    let why = format!(
        "no Python with {} among {:?} (install: scripts/setup.sh --test)",
        modules.join(", "),
        candidates()
    );
    if std::env::var("KUZET_REQUIRE_INTEROP").as_deref() == Ok("1") {
        panic!("KUZET_REQUIRE_INTEROP=1 but {why}");
    }
    eprintln!("skipping: {why}");
    None
}

fn run_py(py: &str, script: &str, args: &[&Path]) -> String {
    let (k, v) = crate::support::NO_HDF5_LOCKING;
    let out = Command::new(py)
        .env(k, v)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "python failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn kuzet(args: &[&str]) -> Output {
    Command::new(KUZET).args(args).output().expect("kuzet runs")
}

fn kuzet_ok(args: &[&str]) -> String {
    let out = kuzet(args);
    assert!(
        out.status.success(),
        "kuzet {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// A short synthetic capture with ground-truth annotations.
fn synth(dir: &Path) -> PathBuf {
    let p = dir.join("scene.h5");
    kuzet_ok(&[
        "synth",
        "-o",
        s(&p),
        "--rate",
        "1M",
        "--freq",
        "433.92M",
        "--duration",
        "0.2s",
        "--emitter",
        "cw:100k:20",
        "--emitter",
        "fm:-200k:15:0.05:0.15",
    ]);
    p
}

#[test]
fn sigmf_export_passes_sigmf_validation_and_reads_back_the_same_samples() {
    let Some(py) = python(&["sigmf", "h5py", "numpy"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let h5 = synth(dir.path());
    let meta = dir.path().join("out.sigmf-meta");
    kuzet_ok(&["convert", s(&h5), s(&meta)]);
    let out = run_py(
        &py,
        r#"
import sys, h5py, numpy as np, sigmf
from sigmf import sigmffile
f = sigmffile.fromfile(sys.argv[1])
f.validate()
x = f.read_samples()
ref = h5py.File(sys.argv[2], 'r')['iq'][:]
assert x.dtype == np.complex64, x.dtype
assert np.array_equal(x, ref), (x[:4], ref[:4])
g = f.get_global_info()
assert g['core:sample_rate'] == 1e6
assert f.get_captures()[0]['core:frequency'] == 433.92e6
anns = f.get_annotations()
print(len(x), len(anns))
"#,
        &[&meta, &h5],
    );
    let mut it = out.split_whitespace();
    assert_eq!(it.next(), Some("200000"));
    assert_eq!(
        it.next(),
        Some("2"),
        "both ground-truth annotations carried"
    );
}

#[test]
fn sigmf_written_by_the_sigmf_package_is_read_with_the_same_samples() {
    let Some(py) = python(&["sigmf", "numpy"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("pkg");
    run_py(
        &py,
        r#"
import sys, numpy as np
from sigmf import SigMFFile
base = sys.argv[1]
rng = np.random.default_rng(7)
raw = rng.integers(-32768, 32767, size=(5000, 2), dtype=np.int16)
raw.tofile(base + '.sigmf-data')
meta = SigMFFile(data_file=base + '.sigmf-data', global_info={
    SigMFFile.DATATYPE_KEY: 'ci16_le', SigMFFile.SAMPLE_RATE_KEY: 250000,
    SigMFFile.DESCRIPTION_KEY: 'written by the sigmf package'})
meta.add_capture(0, metadata={SigMFFile.FREQUENCY_KEY: 868.3e6})
meta.add_capture(3000, metadata={SigMFFile.FREQUENCY_KEY: 869.0e6})
meta.add_annotation(100, 50, metadata={SigMFFile.LABEL_KEY: 'burst',
    SigMFFile.FLO_KEY: 868.2e6, SigMFFile.FHI_KEY: 868.4e6})
meta.tofile(base + '.sigmf-meta')
meta.tofile(base + '.sigmf', toarchive=True)
np.save(base + '.npy', meta.read_samples())
"#,
        &[&base],
    );
    for input in ["pkg.sigmf-meta", "pkg.sigmf"] {
        let out = dir.path().join(format!("{input}.cf32"));
        let err = kuzet_ok(&["convert", s(&dir.path().join(input)), s(&out)]);
        assert!(err.contains("5000 samples"), "{err}");
        assert!(err.contains("centre frequency changes"), "{err}");
        run_py(
            &py,
            r#"
import sys, numpy as np
want = np.load(sys.argv[1])
got = np.fromfile(sys.argv[2], dtype=np.complex64)
assert len(got) == len(want), (len(got), len(want))
assert np.max(np.abs(got - want)) < 1e-6, np.max(np.abs(got - want))
"#,
            &[&dir.path().join("pkg.npy"), &out],
        );
    }
    // Annotations (the burst and the retune) reach a kuzet capture.
    let h5 = dir.path().join("pkg.h5");
    let err = kuzet_ok(&["convert", s(&dir.path().join("pkg.sigmf-meta")), s(&h5)]);
    assert!(err.contains("2 annotation(s)"), "{err}");
}

#[test]
fn sm2117_export_reads_in_h5py_as_the_recommendation_lays_it_out() {
    let Some(py) = python(&["h5py", "numpy"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let h5 = synth(dir.path());
    let itu = dir.path().join("out.h5");
    kuzet_ok(&["convert", "--to", "sm2117", s(&h5), s(&itu)]);
    run_py(
        &py,
        r#"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], 'r')
ds = f['Dataset_0']
assert ds.ndim == 1
assert ds.dtype.names == ('Channel_0',), ds.dtype
ch = ds.dtype['Channel_0']
assert ch.names == ('Real', 'Imag') and ch['Real'] == np.float32 and ch['Imag'] == np.float32, ch
a = ds.attrs
def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)
assert text(a['ITU-R data set class']) == 'I/Q'
assert text(a['ITU-R Recommendation']) == 'Rec. ITU-R SM.2117-0'
assert a['Sampling frequency (Hz)'] == 1e6
assert a['RF carrier frequency (Hz)'] == 433.92e6
assert a['Data set scaling factor'] == 1.0
assert 'Timestamp coarse (s)' in a
ref = h5py.File(sys.argv[2], 'r')['iq'][:]
x = ds['Channel_0']
assert np.array_equal(x['Real'], ref.real) and np.array_equal(x['Imag'], ref.imag)
try:
    from itusm2117 import read_iq_dataset
except ImportError:
    print('itusm2117 not installed: h5py check only')
else:
    meta, rec, chans = read_iq_dataset(sys.argv[1], 'Dataset_0')
    assert chans == ('Channel_0',)
    assert np.allclose(rec[0], ref)
    assert meta['Sampling frequency (Hz)'] == 1e6
"#,
        &[&itu, &h5],
    );
    // And kuzet reads its own export back, annotations included.
    let back = dir.path().join("back.h5");
    let err = kuzet_ok(&["convert", s(&itu), s(&back)]);
    assert!(err.contains("200000 samples, 2 annotation(s)"), "{err}");
}

#[test]
fn sm2117_written_by_itusm2117_is_read() {
    let Some(py) = python(&["itusm2117", "numpy"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("itu.h5");
    run_py(
        &py,
        r#"
import sys, numpy as np
from itusm2117 import write_iq_dataset
rng = np.random.default_rng(3)
iq = (rng.standard_normal(4096) + 1j * rng.standard_normal(4096)).astype(np.complex64) * 0.1
write_iq_dataset(sys.argv[1], iq, 2.048e6, metadata={'carrier_frequency': 1090e6}, mode='w')
iq.tofile(sys.argv[1] + '.ref.cf32')
"#,
        &[&p],
    );
    let out = dir.path().join("got.cf32");
    let err = kuzet_ok(&["convert", s(&p), s(&out)]);
    assert!(err.contains("4096 samples"), "{err}");
    let want = std::fs::read(dir.path().join("itu.h5.ref.cf32")).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), want);
}

#[test]
fn numpy_cf32_round_trips() {
    let Some(py) = python(&["h5py", "numpy"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("gnuradio_100M_2M.cf32");
    run_py(
        &py,
        r#"
import sys, numpy as np
rng = np.random.default_rng(1)
x = (rng.standard_normal(100003) + 1j * rng.standard_normal(100003)).astype(np.complex64)
x.tofile(sys.argv[1])
"#,
        &[&raw],
    );
    let h5 = dir.path().join("k.h5");
    let back = dir.path().join("back.cfile");
    kuzet_ok(&["convert", s(&raw), s(&h5)]);
    kuzet_ok(&["convert", s(&h5), s(&back)]);
    assert_eq!(std::fs::read(&raw).unwrap(), std::fs::read(&back).unwrap());
    run_py(
        &py,
        r#"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], 'r')
x = np.fromfile(sys.argv[2], dtype=np.complex64)
assert np.array_equal(f['iq'][:], x)
assert f.attrs['sample_rate_hz'] == 2e6 and f.attrs['center_freq_hz'] == 100e6
"#,
        &[&h5, &raw],
    );
}

#[test]
fn analyze_reads_raw_and_names_the_file_when_the_rate_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let named = dir.path().join("g001_433.92M_250k.cu8");
    let bytes: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(&named, &bytes).unwrap();
    let out = kuzet(&["analyze", s(&named)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("433.920000 MHz at 250 kS/s"), "{err}");

    let anon = dir.path().join("capture.cu8");
    std::fs::write(&anon, &bytes).unwrap();
    let out = kuzet(&["analyze", s(&anon)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("capture.cu8") && err.contains("--rate"),
        "{err}"
    );
    let out = kuzet(&["analyze", "--rate", "1M", s(&anon)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn hostile_files_fail_with_status_2_and_the_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty_1M.cs16", Vec::new()),
        ("trunc.wav", b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0".to_vec()),
        ("mono.wav", {
            let mut v = b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0".to_vec();
            v.extend_from_slice(&[0x80, 0xbb, 0, 0, 0, 0, 0, 0, 2, 0, 16, 0]);
            v.extend_from_slice(b"data\x04\0\0\0\0\0\0\0");
            v
        }),
        (
            "garbage.h5",
            b"\x89HDF\r\n\x1a\nthis is not really hdf5".to_vec(),
        ),
        (
            "bad.sigmf-meta",
            b"{\"global\": {\"core:datatype\": \"cf32_le\"".to_vec(),
        ),
        ("bad.sigmf", b"not a tar archive at all".to_vec()),
    ];
    for (name, bytes) in &cases {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        if name.ends_with("sigmf-meta") {
            std::fs::write(p.with_extension("sigmf-data"), [0u8; 16]).unwrap();
        }
        let out = kuzet(&["analyze", s(&p)]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(name), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
}

#[test]
fn nan_samples_are_zeroed_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("nan_1M.cf32");
    let mut bytes = Vec::new();
    for i in 0..50_000u32 {
        let v = if i % 1000 == 0 {
            f32::NAN
        } else {
            0.001 * (i % 7) as f32
        };
        bytes.extend_from_slice(&v.to_le_bytes());
        bytes.extend_from_slice(&f32::INFINITY.min(v).to_le_bytes());
    }
    std::fs::write(&p, &bytes).unwrap();
    let out = dir.path().join("clean.cf32");
    let err = kuzet_ok(&["convert", s(&p), s(&out)]);
    assert!(err.contains("NaN/Inf"), "{err}");
}

/// Random mutations of valid headers through every pure parser: no panic, and accepted
/// results stay within the input (the cargo-fuzz targets do the same for much longer).
#[test]
fn parsers_survive_random_mutations() {
    use kuzet::formats::{raw, sigmf, sm2117, wav};
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
    let meta_seed = br#"{"global":{"core:datatype":"ci16_le","core:sample_rate":1e6},
        "captures":[{"core:sample_start":0,"core:frequency":1e8,"core:header_bytes":4},
                    {"core:sample_start":10,"core:frequency":2e8}],
        "annotations":[{"core:sample_start":1,"core:sample_count":2,"core:label":"x"}]}"#;
    let mut wav_seed =
        b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0\x02\0\x80\xbb\0\0\0\0\0\0\x04\0\x10\0".to_vec();
    wav_seed.extend_from_slice(b"auxi\x28\0\0\0");
    wav_seed.extend_from_slice(&[7u8; 40]);
    wav_seed.extend_from_slice(b"data\x10\0\0\0");
    wav_seed.extend_from_slice(&[1u8; 16]);
    let name_seed = b"g001_433.92M_250k.cu8".to_vec();
    let mutate = |seed: &[u8], rng: &mut rand_chacha::ChaCha8Rng| -> Vec<u8> {
        let mut v = seed.to_vec();
        for _ in 0..rng.random_range(1..8) {
            match rng.random_range(0..4) {
                0 if !v.is_empty() => {
                    let i = rng.random_range(0..v.len());
                    v[i] = rng.random();
                }
                1 if !v.is_empty() => {
                    let i = rng.random_range(0..v.len());
                    v.truncate(i);
                }
                2 => {
                    let i = rng.random_range(0..=v.len());
                    v.insert(i, rng.random());
                }
                _ if !v.is_empty() => {
                    let i = rng.random_range(0..v.len());
                    v.remove(i);
                }
                _ => {}
            }
        }
        v
    };
    for _ in 0..20_000 {
        let m = mutate(meta_seed, &mut rng);
        if let Ok(mut meta) = sigmf::parse_meta(&m) {
            let len = rng.random_range(0..1u64 << 20);
            if let Ok(spans) = meta.layout(0, len) {
                let bps = meta.datatype.bytes_per_sample() as u64;
                assert!(spans.iter().all(|s| s.offset + s.samples * bps <= len));
            }
        }
        let w = mutate(&wav_seed, &mut rng);
        if let Ok(info) = wav::parse(&mut std::io::Cursor::new(&w), w.len() as u64) {
            let end = info.data.offset + info.data.samples * info.format.bytes_per_sample() as u64;
            assert!(end <= w.len() as u64);
        }
        let n = mutate(&name_seed, &mut rng);
        let info = raw::parse_name(&String::from_utf8_lossy(&n));
        for v in [info.center_freq_hz, info.sample_rate_hz]
            .into_iter()
            .flatten()
        {
            assert!(v.is_finite() && v > 0.0);
        }
        let attrs = vec![
            (
                sm2117::attr::SAMPLING.to_string(),
                sm2117::AttrValue::Number(f64::from_bits(rng.random())),
            ),
            (
                sm2117::attr::TIME_COARSE.to_string(),
                sm2117::AttrValue::Number(f64::from_bits(rng.random())),
            ),
            (
                sm2117::attr::TIME_FINE.to_string(),
                sm2117::AttrValue::Text(String::from_utf8_lossy(&n).into_owned()),
            ),
        ];
        if let Ok(m) = sm2117::interpret(&attrs) {
            assert!(m.sample_rate_hz > 0.0 && m.sample_rate_hz.is_finite());
        }
    }
}

/// SM.2117 integer channels are fixed point (radix right of the sign bit), times the
/// scaling factor; extra channels are ignored with a warning.
#[test]
fn sm2117_int16_fixed_point_channels_are_scaled() {
    let Some(py) = python(&["h5py", "numpy"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("int.h5");
    run_py(
        &py,
        r#"
import sys, h5py, numpy as np
ch = np.dtype([('Real', '<i2'), ('Imag', '<i2')])
dt = np.dtype([('Channel_0', ch), ('Channel_1', ch)])
d = np.zeros(4, dtype=dt)
d['Channel_0']['Real'] = [16384, -32768, 0, 8192]
d['Channel_0']['Imag'] = [0, 16384, -16384, 8192]
with h5py.File(sys.argv[1], 'w') as f:
    g = f.create_group('site')
    ds = g.create_dataset('Dataset_0', data=d)
    ds.attrs['Sampling frequency (Hz)'] = 1e5
    ds.attrs['RF carrier frequency (Hz)'] = 7.1e6
    ds.attrs['Data set scaling factor'] = 2.0
"#,
        &[&p],
    );
    let out = dir.path().join("o.cf32");
    let err = kuzet_ok(&["convert", s(&p), s(&out)]);
    assert!(err.contains("2 channels; reading Channel_0"), "{err}");
    let b = std::fs::read(&out).unwrap();
    let v: Vec<f32> = b
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    assert_eq!(v, vec![1.0, 0.0, -2.0, 1.0, 0.0, -1.0, 0.5, 0.5]);
}
