//! `kuzet score` end to end: synthesise the narrowband scene, score the detector on it.

use std::path::Path;

use crate::support::{kuzet, kuzet_ok, tmp};

fn synth_narrowband(dir: &Path) -> String {
    let cap = dir.join("nb.h5");
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/narrowband.toml");
    let cap = cap.to_str().unwrap().to_string();
    kuzet_ok(&["synth", "--scenario", scenario, "-o", &cap]);
    cap
}

#[test]
fn every_narrowband_emitter_is_detected_with_the_right_kind() {
    let dir = tmp();
    let cap = synth_narrowband(dir.path());

    let json = kuzet_ok(&["score", &cap, "--json"]);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    let emitters = v["emitters"].as_array().unwrap();
    assert_eq!(emitters.len(), 4, "{v}");
    for e in emitters {
        let label = &e["label"];
        assert_eq!(e["detected"], true, "{label} missed: {e}");
        assert_eq!(e["kind_correct"], true, "{label}: {e}");
        // Within one bin, as the e2e test of issue 2 established.
        let bins = e["freq_error_bins"].as_f64().unwrap();
        assert!(bins.abs() <= 1.0, "{label}: {bins} bins off");
        let t = e["time_to_alert_s"].as_f64().unwrap();
        assert!((-0.5..=1.0).contains(&t), "{label}: time to alert {t}");
    }
    assert_eq!(v["detected"], 4);
    assert_eq!(v["total"], 4);
    assert_eq!(v["pd"], 1.0);
    assert_eq!(v["false_alerts"].as_array().unwrap().len(), 0, "{v}");

    // The table for people: one row per emitter and the summary line.
    let table = kuzet_ok(&["score", &cap]);
    for label in ["carrier", "voice", "packets", "weak-carrier"] {
        assert!(table.contains(label), "{table}");
    }
    let last = table.lines().last().unwrap();
    assert!(last.starts_with("Pd = 4/4"), "{table}");
}

#[test]
fn a_bad_band_plan_fails_before_the_run_naming_its_line() {
    let dir = tmp();
    let plan = dir.path().join("plan.toml");
    std::fs::write(
        &plan,
        "[[band]]\nname = \"A\"\nlo_hz = \"2M\"\nhi_hz = \"1M\"\n",
    )
    .unwrap();
    let cap = synth_small(dir.path());
    for cmd in ["analyze", "score"] {
        let out = kuzet(&[cmd, &cap, "--bandplan", plan.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        assert!(
            out.stdout.is_empty(),
            "{cmd}: no alerts before the plan is valid"
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("plan.toml") && err.contains("line 4"),
            "{cmd}: {err}"
        );
    }
}

fn synth_small(dir: &Path) -> String {
    let cap = dir.join("small.h5");
    let cap = cap.to_str().unwrap().to_string();
    kuzet_ok(&["synth", "--duration", "0.2s", "--rate", "250k", "-o", &cap]);
    cap
}
