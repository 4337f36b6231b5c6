//! One reader, one answer: the same samples through every container kuzet reads (raw,
//! SigMF, kuzet HDF5 after `kuzet convert`) give byte-identical alert logs, and so does
//! any number of spectrum workers.

use std::path::Path;
use std::process::Command;

const KUZET: &str = env!("CARGO_BIN_EXE_kuzet");

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// Runs kuzet; returns stdout (the alert log), failing with its stderr.
fn run(args: &[&str]) -> String {
    let out = Command::new(KUZET).args(args).output().expect("kuzet runs");
    assert!(
        out.status.success(),
        "kuzet {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 alert log")
}

/// A scene with a carrier, an FM transmitter and short bursts, so the logs have lines of
/// every state to compare.
fn scene(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("scene.h5");
    run(&[
        "synth",
        "-o",
        s(&p),
        "--rate",
        "250k",
        "--freq",
        "433.92M",
        "--duration",
        "1.5s",
        "--noise-dbfs",
        "-40",
        "--emitter",
        "cw:60k:20",
        "--emitter",
        "fm:-40k:15:0.2:0.9",
        "--emitter",
        "cw:20k:25:0.5:0.52",
    ]);
    p
}

#[test]
fn raw_sigmf_and_kuzet_hdf5_of_the_same_samples_give_the_same_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let scene = scene(dir.path());
    for (ext, datatype) in [
        ("cu8", "cu8"),
        ("cs8", "ci8"),
        ("cs16", "ci16_le"),
        ("cf32", "cf32_le"),
    ] {
        let raw = dir.path().join(format!("x.{ext}"));
        run(&["convert", s(&scene), s(&raw)]);
        let from_raw = run(&["analyze", s(&raw), "--rate", "250k", "--freq", "433.92M"]);
        assert!(
            from_raw.contains("\"raised\""),
            "{ext}: the scene must raise alerts to compare:\n{from_raw}"
        );

        // The same bytes as a SigMF recording.
        let data = dir.path().join(format!("y-{ext}.sigmf-data"));
        std::fs::copy(&raw, &data).unwrap();
        let meta = dir.path().join(format!("y-{ext}.sigmf-meta"));
        std::fs::write(
            &meta,
            serde_json::json!({
                "global": {"core:datatype": datatype, "core:sample_rate": 250000.0,
                           "core:version": "1.0.0"},
                "captures": [{"core:sample_start": 0, "core:frequency": 433.92e6}],
                "annotations": []
            })
            .to_string(),
        )
        .unwrap();
        let from_sigmf = run(&["analyze", s(&meta)]);
        assert_eq!(from_raw, from_sigmf, "{ext}: raw and SigMF differ");

        // The same samples converted into kuzet HDF5.
        let h5 = dir.path().join(format!("z-{ext}.h5"));
        run(&[
            "convert",
            s(&raw),
            s(&h5),
            "--rate",
            "250k",
            "--freq",
            "433.92M",
        ]);
        let from_h5 = run(&["analyze", s(&h5)]);
        assert_eq!(from_raw, from_h5, "{ext}: raw and kuzet HDF5 differ");
    }
}

#[test]
fn the_alerts_do_not_depend_on_the_number_of_workers() {
    let dir = tempfile::tempdir().unwrap();
    let scene = scene(dir.path());
    let one = run(&["analyze", s(&scene), "--workers", "1"]);
    assert!(one.contains("\"raised\""), "{one}");
    for w in ["2", "3", "5"] {
        assert_eq!(
            one,
            run(&["analyze", s(&scene), "--workers", w]),
            "--workers {w}"
        );
    }
}
