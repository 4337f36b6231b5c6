//! Bad input: every case gives one clear line naming the file and the problem, exit 2,
//! no panic.

use std::path::Path;

use hdf5::H5Type;
use kuzet::formats::{CaptureWriter, WriterOptions};
use kuzet::types::StreamMeta;
use num_complex::Complex32;

use crate::support::{kuzet, kuzet_ok, path, tmp};

/// Runs `kuzet analyze <p>` and checks the failure contract; returns the error line.
fn analyze_fails(p: &Path) -> String {
    let out = kuzet(&["analyze", p.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(out.stdout.is_empty(), "no alerts on failure");
    assert_eq!(stderr.lines().count(), 1, "one line, got: {stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{stderr}"
    );
    let name = p.file_name().unwrap().to_str().unwrap();
    assert!(stderr.contains(name), "names the file: {stderr}");
    stderr
}

fn meta(rate: f64) -> StreamMeta {
    StreamMeta {
        sample_rate_hz: rate,
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

fn write_capture(p: &Path, samples: &[Complex32]) {
    let mut w = CaptureWriter::create(p, &meta(1e6), &WriterOptions::default()).unwrap();
    w.append(samples).unwrap();
    w.finish().unwrap();
}

#[test]
fn missing_file() {
    let dir = tmp();
    let e = analyze_fails(&path(&dir, "nope.h5"));
    assert!(e.contains("no such file"), "{e}");
}

#[test]
fn not_hdf5() {
    let dir = tmp();
    let p = path(&dir, "notes.h5");
    std::fs::write(&p, "this is not a capture\n").unwrap();
    let e = analyze_fails(&p);
    assert!(e.contains("not an HDF5 file"), "{e}");
}

#[test]
fn hdf5_without_iq() {
    let dir = tmp();
    let p = path(&dir, "noiq.h5");
    let f = hdf5::File::create(&p).unwrap();
    f.new_dataset::<f32>().shape(10).create("samples").unwrap();
    drop(f);
    let e = analyze_fails(&p);
    assert!(e.contains("`/iq`"), "{e}");
}

#[derive(H5Type, Clone, Copy)]
#[repr(C)]
struct RealImag {
    real: f32,
    imag: f32,
}

#[test]
fn wrong_dtype_is_refused_not_read_as_garbage() {
    let dir = tmp();
    // Same size as complex64, other field names: HDF5 would read zeros without a word.
    let p = path(&dir, "realimag.h5");
    let f = hdf5::File::create(&p).unwrap();
    let ds = f.new_dataset::<RealImag>().shape(100).create("iq").unwrap();
    ds.write(
        &[RealImag {
            real: 1.0,
            imag: 2.0,
        }; 100],
    )
    .unwrap();
    f.new_attr::<f64>()
        .create("sample_rate_hz")
        .unwrap()
        .write_scalar(&1e6)
        .unwrap();
    drop((ds, f));
    let e = analyze_fails(&p);
    assert!(
        e.contains("`/iq` is compound {real: float32, imag: float32}"),
        "{e}"
    );

    let p = path(&dir, "float64.h5");
    let f = hdf5::File::create(&p).unwrap();
    f.new_dataset::<f64>().shape(100).create("iq").unwrap();
    f.new_attr::<f64>()
        .create("sample_rate_hz")
        .unwrap()
        .write_scalar(&1e6)
        .unwrap();
    drop(f);
    let e = analyze_fails(&p);
    assert!(e.contains("float64 of shape [100]"), "{e}");
}

#[test]
fn zero_or_negative_sample_rate() {
    let dir = tmp();
    for (name, rate) in [("zero.h5", 0.0), ("neg.h5", -2.4e6)] {
        let p = path(&dir, name);
        let f = hdf5::File::create(&p).unwrap();
        f.new_dataset::<Complex32>()
            .shape(100)
            .create("iq")
            .unwrap();
        f.new_attr::<f64>()
            .create("sample_rate_hz")
            .unwrap()
            .write_scalar(&rate)
            .unwrap();
        drop(f);
        let e = analyze_fails(&p);
        assert!(
            e.contains("sample_rate_hz") && e.contains("positive"),
            "{e}"
        );
    }
}

#[test]
fn empty_capture() {
    let dir = tmp();
    let p = path(&dir, "empty.h5");
    write_capture(&p, &[]);
    let e = analyze_fails(&p);
    assert!(e.contains("no samples"), "{e}");
}

#[test]
fn truncated_capture() {
    let dir = tmp();
    let p = path(&dir, "cut.h5");
    write_capture(&p, &vec![Complex32::new(0.1, 0.1); 200_000]);
    let len = std::fs::metadata(&p).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
    f.set_len(len / 2).unwrap();
    drop(f);
    analyze_fails(&p);
}

#[test]
fn unknown_flag_values() {
    let dir = tmp();
    let p = path(&dir, "ok.h5");
    write_capture(&p, &vec![Complex32::new(0.0, 0.0); 10_000]);
    let ps = p.to_str().unwrap();
    for args in [
        vec!["analyze", ps, "--window", "triangle"],
        vec!["analyze", ps, "--fft", "lots"],
        vec!["analyze", ps, "--duration", "soon"],
        vec!["analyze", ps, "--pfa", "2"],
        vec!["analyze", ps, "--fft", "4"],
        vec!["synth", "-o", "/dev/null", "--emitter", "laser:0:10"],
        vec!["synth", "-o", "/dev/null", "--rate", "-1"],
    ] {
        let out = kuzet(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn nan_samples_are_counted_and_skipped() {
    let dir = tmp();
    let p = path(&dir, "nan.h5");
    let mut x = vec![Complex32::new(1e-3, -1e-3); 200_000];
    x[1000] = Complex32::new(f32::NAN, 0.0);
    x[150_000] = Complex32::new(0.0, f32::INFINITY);
    write_capture(&p, &x);
    let out = kuzet(&["analyze", p.to_str().unwrap()]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2 NaN/Inf samples"), "{stderr}");
}

#[test]
fn scenario_errors_name_the_line() {
    let dir = tmp();
    let p = path(&dir, "bad.toml");
    std::fs::write(
        &p,
        "sample_rate_hz = \"2.4M\"\nduration_s = 1\n[[emitter]]\ntype = \"cw\"\nsnr = 10\n",
    )
    .unwrap();
    let out = kuzet(&[
        "synth",
        "--scenario",
        p.to_str().unwrap(),
        "-o",
        "/dev/null",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bad.toml") && stderr.contains("line 5"),
        "{stderr}"
    );
    assert!(stderr.contains("snr"), "{stderr}");
}

#[test]
fn help_lists_the_commands() {
    let out = kuzet_ok(&["--help"]);
    assert!(out.contains("analyze") && out.contains("synth"));
}
