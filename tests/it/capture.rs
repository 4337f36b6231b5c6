//! The HDF5 capture format against a real third-party client: h5py.

use kuzet::formats::{CaptureReader, CaptureWriter, SampleFormat, WriterOptions};
use kuzet::types::Annotation;
use kuzet::types::StreamMeta;
use num_complex::Complex32;

use crate::support::{path, python, tmp};

fn meta() -> StreamMeta {
    StreamMeta {
        sample_rate_hz: 2.4e6,
        center_freq_hz: 433.92e6,
        start_time_utc: Some("2026-11-24T12:00:00Z".into()),
        gain_db: Some(30.0),
        device: "test".into(),
        description: "round trip".into(),
        origin: String::new(),
        total_samples: None,
        live: false,
    }
}

fn ramp(n: usize) -> Vec<Complex32> {
    (0..n)
        .map(|i| Complex32::new(i as f32 * 1e-3, -(i as f32) * 2e-3))
        .collect()
}

#[test]
fn h5py_reads_what_kuzet_writes_as_complex64() {
    let dir = tmp();
    let p = path(&dir, "w.h5");
    let mut w = CaptureWriter::create(&p, &meta(), &WriterOptions::default()).unwrap();
    let x = ramp(100_000);
    // Uneven appends exercise the extendible dataset.
    w.append(&x[..12_345]).unwrap();
    w.append(&x[12_345..]).unwrap();
    w.annotate(&Annotation {
        start_sample: 10,
        length: 20,
        freq_lo_hz: 433.9e6,
        freq_hi_hz: 433.95e6,
        label: "beacon".into(),
        source: "synth/cw".into(),
    })
    .unwrap();
    assert_eq!(w.finish().unwrap(), 100_000);
    let script = r#"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
iq = f["iq"][:]
assert iq.dtype == np.complex64, iq.dtype
n = np.arange(100000, dtype=np.float32)
expect = (n * np.float32(1e-3) - 1j * n * np.float32(2e-3)).astype(np.complex64)
assert np.array_equal(iq, expect), "samples differ"
a = f.attrs
assert a["format"] == "kuzet-capture", a["format"]
assert int(a["version"]) == 1
assert float(a["sample_rate_hz"]) == 2.4e6
assert float(a["center_freq_hz"]) == 433.92e6
assert a["start_time_utc"] == "2026-11-24T12:00:00Z"
ann = f["annotations"][:]
assert len(ann) == 1 and ann[0]["start_sample"] == 10 and ann[0]["label"].decode() == "beacon"
print("ok", len(iq))
"#;
    assert_eq!(python(script, &[&p]).trim(), "ok 100000");
}

#[test]
fn kuzet_reads_what_h5py_writes() {
    let dir = tmp();
    let p = path(&dir, "py.h5");
    // Fixed-length and variable-length string attributes, an integer rate, complex64 data.
    let script = r#"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    n = np.arange(5000, dtype=np.float32)
    f.create_dataset("iq", data=((n % 100) * 0.25 - 1j * (n % 7)).astype(np.complex64),
                     chunks=(1024,), maxshape=(None,))
    f.attrs["format"] = "kuzet-capture"
    f.attrs["version"] = 1
    f.attrs["sample_rate_hz"] = 250000
    f.attrs["center_freq_hz"] = 433.92e6
    f.attrs["device"] = np.bytes_("rtlsdr")
    f.attrs["description"] = "written by h5py"
"#;
    python(script, &[&p]);
    let mut r = CaptureReader::open(&p).unwrap();
    assert_eq!(r.len(), 5000);
    assert_eq!(r.meta().sample_rate_hz, 250_000.0);
    assert_eq!(r.meta().device, "rtlsdr");
    assert_eq!(r.meta().description, "written by h5py");
    let mut buf = vec![Complex32::default(); 6000];
    assert_eq!(r.read(&mut buf).unwrap(), 5000);
    for (i, s) in buf[..5000].iter().enumerate() {
        // Exactly representable values: any conversion slip shows.
        assert_eq!(s.re, (i % 100) as f32 * 0.25, "re at {i}");
        assert_eq!(s.im, -((i % 7) as f32), "im at {i}");
    }
    assert_eq!(r.read(&mut buf).unwrap(), 0);
}

#[test]
fn compact_int8_and_int16_read_transparently() {
    let dir = tmp();
    for (name, format, tol) in [
        (
            "c8.h5",
            SampleFormat::Ci8 { scale: 1.0 / 127.0 },
            0.5 / 127.0,
        ),
        (
            "c16.h5",
            SampleFormat::Ci16 {
                scale: 1.0 / 32767.0,
            },
            0.5 / 32767.0,
        ),
    ] {
        let p = path(&dir, name);
        let opts = WriterOptions {
            format,
            ..WriterOptions::default()
        };
        let mut w = CaptureWriter::create(&p, &meta(), &opts).unwrap();
        let x: Vec<Complex32> = (0..3000)
            .map(|i| Complex32::from_polar(0.9, i as f32 * 0.05))
            .collect();
        w.append(&x).unwrap();
        w.finish().unwrap();
        let mut r = CaptureReader::open(&p).unwrap();
        assert_eq!(r.sample_format(), format);
        let mut buf = vec![Complex32::default(); 3000];
        assert_eq!(r.read(&mut buf).unwrap(), 3000);
        for (a, b) in buf.iter().zip(&x) {
            assert!((a - b).norm() <= tol * 1.5, "{a} vs {b}");
        }
        // h5py sees the documented [N, 2] layout with a scale attribute.
        let out = python(
            r#"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
d = f["iq"]
print(d.shape[1], d.dtype, d.attrs["scale"] > 0)
"#,
            &[&p],
        );
        let expect_dtype = if name == "c8.h5" { "int8" } else { "int16" };
        assert_eq!(out.trim(), format!("2 {expect_dtype} True"));
    }
}

#[test]
fn swmr_recording_reads_back_while_open() {
    let dir = tmp();
    let p = path(&dir, "live.h5");
    let opts = WriterOptions {
        swmr: true,
        flush_every: 0,
        ..WriterOptions::default()
    };
    let mut w = CaptureWriter::create(&p, &meta(), &opts).unwrap();
    w.append(&ramp(50_000)).unwrap();
    // The writer is still open: a second process reads what was flushed.
    let out = python(
        r#"
import sys, h5py
f = h5py.File(sys.argv[1], "r", libver="latest", swmr=True)
print(f["iq"].shape[0])
"#,
        &[&p],
    );
    assert_eq!(out.trim(), "50000");
    w.finish().unwrap();
}
