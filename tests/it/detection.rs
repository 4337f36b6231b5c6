//! The detection figures of issue 4 on fixed synth scenes: hopping, jamming, frequency
//! and bandwidth accuracy, detection probability at 6 dB and 0 dB.

use kuzet::alert::{Alert, AlertKind, AlertState};
use kuzet::formats::CaptureReader;
use kuzet::types::Annotation;

use crate::support::{alerts, kuzet_ok, path, tmp};

/// Synthesises a scenario (TOML text) and analyzes it; returns (truth, alerts).
fn run_scene(toml: &str) -> (Vec<Annotation>, Vec<Alert>) {
    let dir = tmp();
    let scenario = path(&dir, "scene.toml");
    std::fs::write(&scenario, toml).unwrap();
    let cap = path(&dir, "scene.h5");
    kuzet_ok(&[
        "synth",
        "--scenario",
        scenario.to_str().unwrap(),
        "-o",
        cap.to_str().unwrap(),
    ]);
    let truth = CaptureReader::open(&cap).unwrap().annotations().unwrap();
    let out = kuzet_ok(&["analyze", cap.to_str().unwrap()]);
    (truth, alerts(&out))
}

fn raised(alerts: &[Alert], kind: AlertKind) -> Vec<&Alert> {
    alerts
        .iter()
        .filter(|a| a.state == AlertState::Raised && a.kind == kind)
        .collect()
}

#[test]
fn a_hopper_is_one_hopping_alert_within_a_second_and_no_flood() {
    for (hops, dwell_ms) in [(10, 5.0), (16, 10.0), (12, 20.0)] {
        let (_, got) = run_scene(&format!(
            r#"
sample_rate_hz = "2.4M"
center_freq_hz = "2.44G"
duration_s = 4.0
seed = 11
[[emitter]]
type = "hopper"
offset_hz = "0"
bandwidth_hz = "100k"
span_hz = "1.6M"
hops = {hops}
dwell_ms = {dwell_ms}
snr_db = 15.0
start_s = 1.0
"#
        ));
        let hopping = raised(&got, AlertKind::Hopping);
        assert_eq!(hopping.len(), 1, "{hops} hops / {dwell_ms} ms: {got:?}");
        let h = hopping[0];
        assert!(h.first_seen_s >= 0.95 && h.first_seen_s <= 2.0, "{h:?}");
        assert!(h.last_seen_s - 1.0 <= 1.0 + 0.5, "raised late: {h:?}");
        assert!(
            raised(&got, AlertKind::NewEmitter).len() <= 1,
            "{hops} hops / {dwell_ms} ms flooded: {got:?}"
        );
    }
}

#[test]
fn a_wideband_jammer_is_one_jamming_alert_within_half_a_second() {
    let (_, got) = run_scene(
        r#"
sample_rate_hz = "2.4M"
center_freq_hz = "1575.42M"
duration_s = 5.0
seed = 12
[[emitter]]
type = "cw"
offset_hz = "-900k"
snr_db = 20.0
[[emitter]]
type = "jammer"
offset_hz = "100k"
bandwidth_hz = "1.6M"
snr_db = 6.0
start_s = 2.0
stop_s = 4.0
"#,
    );
    let jam = raised(&got, AlertKind::Jamming);
    assert_eq!(jam.len(), 1, "{got:?}");
    let j = jam[0];
    assert!(j.first_seen_s >= 2.0 && j.first_seen_s <= 2.5, "{j:?}");
    assert!((j.freq_hz - 1575.52e6).abs() < 100e3, "{j:?}");
    // The carrier outside the jammed band is one emitter (a watchlist alert: the default
    // band plan watches GNSS L1); nothing else appears.
    assert_eq!(raised(&got, AlertKind::Watchlist).len(), 1, "{got:?}");
    assert!(raised(&got, AlertKind::NewEmitter).is_empty(), "{got:?}");
    assert_eq!(j.band.as_deref(), Some("GNSS L1"));
    let cleared = got
        .iter()
        .find(|a| a.id == j.id && a.state == AlertState::Cleared)
        .unwrap();
    assert!(cleared.last_seen_s < 5.0, "{cleared:?}");
}

#[test]
fn centre_within_a_bin_and_bandwidth_within_25_percent() {
    let (truth, got) = run_scene(
        r#"
sample_rate_hz = "2.4M"
center_freq_hz = "446.1M"
duration_s = 3.0
seed = 13
[[emitter]]
type = "jammer"
name = "wide-noise"
offset_hz = "-500k"
bandwidth_hz = "120k"
snr_db = 15.0
[[emitter]]
type = "jammer"
name = "narrow-noise"
offset_hz = "300k"
bandwidth_hz = "30k"
snr_db = 15.0
[[emitter]]
type = "cw"
name = "carrier"
offset_hz = "700.3k"
snr_db = 15.0
"#,
    );
    let bin_hz = 2.4e6 / 1024.0;
    for t in &truth {
        let centre = (t.freq_lo_hz + t.freq_hi_hz) / 2.0;
        let width = t.freq_hi_hz - t.freq_lo_hz;
        let a = got
            .iter()
            .filter(|a| a.state == AlertState::Cleared)
            .find(|a| (a.freq_hz - centre).abs() <= bin_hz)
            .unwrap_or_else(|| panic!("{} not within a bin: {got:?}", t.label));
        if width > 4.0 * bin_hz {
            let err = (a.bandwidth_hz - width).abs() / width;
            assert!(
                err <= 0.25,
                "{}: {} Hz vs {width} Hz",
                t.label,
                a.bandwidth_hz
            );
        }
    }
}

/// Scene of `n` emitters of 200 ms each, alternating CW and 25 kHz FM, at `snr_db`.
fn short_emitters(n: usize, snr_db: f64, seed: u64) -> String {
    let mut s = format!(
        "sample_rate_hz = \"2.4M\"\ncenter_freq_hz = \"160M\"\nduration_s = {}\nseed = {seed}\n",
        n as f64 * 0.6 + 0.5
    );
    for i in 0..n {
        let kind = if i % 2 == 0 { "cw" } else { "fm" };
        // Spread over the band, away from the edges.
        let offset = -900e3 + (i as f64 * 137e3) % 1.8e6;
        s.push_str(&format!(
            "[[emitter]]\ntype = \"{kind}\"\noffset_hz = {offset}\nbandwidth_hz = \"25k\"\nsnr_db = {snr_db}\nstart_s = {}\nstop_s = {}\n",
            0.5 + i as f64 * 0.6,
            0.7 + i as f64 * 0.6
        ));
    }
    s
}

/// Fraction of annotations with a raised alert overlapping them in time and frequency.
fn pd(truth: &[Annotation], got: &[Alert], rate: f64) -> f64 {
    let bin_hz = rate / 1024.0;
    let hits = truth
        .iter()
        .filter(|t| {
            let (t0, t1) = (
                t.start_sample as f64 / rate,
                (t.start_sample + t.length) as f64 / rate,
            );
            got.iter().any(|a| {
                a.state == AlertState::Raised
                    && a.first_seen_s >= t0 - 0.05
                    && a.first_seen_s <= t1 + 0.3
                    && a.freq_hz >= t.freq_lo_hz - 2.0 * bin_hz
                    && a.freq_hz <= t.freq_hi_hz + 2.0 * bin_hz
            })
        })
        .count();
    hits as f64 / truth.len() as f64
}

#[test]
fn pd_at_6_db_is_at_least_95_percent() {
    let (truth, got) = run_scene(&short_emitters(20, 6.0, 21));
    let p = pd(&truth, &got, 2.4e6);
    assert!(p >= 0.95, "Pd {p} at 6 dB: {got:?}");
}

#[test]
fn pd_at_0_db_is_at_least_half() {
    let (truth, got) = run_scene(&short_emitters(20, 0.0, 22));
    let p = pd(&truth, &got, 2.4e6);
    assert!(p >= 0.5, "Pd {p} at 0 dB");
}

#[test]
fn the_baseline_knows_its_emitters_and_misses_them_when_they_go() {
    let dir = tmp();
    let write = |name: &str, toml: &str| {
        let scenario = path(&dir, &format!("{name}.toml"));
        std::fs::write(&scenario, toml).unwrap();
        let cap = path(&dir, &format!("{name}.h5"));
        kuzet_ok(&[
            "synth",
            "--scenario",
            scenario.to_str().unwrap(),
            "-o",
            cap.to_str().unwrap(),
        ]);
        cap
    };
    let head = "sample_rate_hz = \"1M\"\ncenter_freq_hz = \"100M\"\nseed = 31\n";
    let normal = write(
        "normal",
        &format!("{head}duration_s = 6.0\n[[emitter]]\ntype = \"cw\"\noffset_hz = \"300k\"\nsnr_db = 20.0\n"),
    );
    let baseline = path(&dir, "baseline.h5");
    kuzet_ok(&[
        "baseline",
        "learn",
        normal.to_str().unwrap(),
        "-o",
        baseline.to_str().unwrap(),
    ]);
    // The known carrier plus a newcomer: only the newcomer is new.
    let busy = write(
        "busy",
        &format!(
            "{head}duration_s = 4.0\n[[emitter]]\ntype = \"cw\"\noffset_hz = \"300k\"\nsnr_db = 20.0\n\
             [[emitter]]\ntype = \"cw\"\noffset_hz = \"-200k\"\nsnr_db = 20.0\nstart_s = 1.0\n"
        ),
    );
    let got = alerts(&kuzet_ok(&[
        "analyze",
        busy.to_str().unwrap(),
        "--baseline",
        baseline.to_str().unwrap(),
    ]));
    let new = raised(&got, AlertKind::NewEmitter);
    assert_eq!(new.len(), 1, "{got:?}");
    assert!((new[0].freq_hz - 99.8e6).abs() < 2e3, "{got:?}");
    // Without the baseline both are new.
    let plain = alerts(&kuzet_ok(&["analyze", busy.to_str().unwrap()]));
    assert_eq!(raised(&plain, AlertKind::NewEmitter).len(), 2, "{plain:?}");
    // The known carrier switched off after 1 s: emitter_lost, once.
    let quiet = write(
        "quiet",
        &format!(
            "{head}duration_s = 9.0\n[[emitter]]\ntype = \"cw\"\noffset_hz = \"300k\"\nsnr_db = 20.0\nstop_s = 1.0\n"
        ),
    );
    let got = alerts(&kuzet_ok(&[
        "analyze",
        quiet.to_str().unwrap(),
        "--baseline",
        baseline.to_str().unwrap(),
    ]));
    let lost = raised(&got, AlertKind::EmitterLost);
    assert_eq!(lost.len(), 1, "{got:?}");
    assert!((lost[0].freq_hz - 100.3e6).abs() < 2e3, "{got:?}");
    assert!(
        lost[0].last_seen_s >= 5.5 && lost[0].last_seen_s <= 7.5,
        "{got:?}"
    );
    assert!(raised(&got, AlertKind::NewEmitter).is_empty(), "{got:?}");
}

#[test]
fn a_known_emitter_far_above_its_level_is_a_power_change() {
    let dir = tmp();
    let write = |name: &str, snr: f64| {
        let scenario = path(&dir, &format!("{name}.toml"));
        std::fs::write(
            &scenario,
            format!(
                "sample_rate_hz = \"1M\"\ncenter_freq_hz = \"100M\"\nseed = 32\nduration_s = 4.0\n\
                 [[emitter]]\ntype = \"cw\"\noffset_hz = \"300k\"\nsnr_db = {snr}\n"
            ),
        )
        .unwrap();
        let cap = path(&dir, &format!("{name}.h5"));
        kuzet_ok(&[
            "synth",
            "--scenario",
            scenario.to_str().unwrap(),
            "-o",
            cap.to_str().unwrap(),
        ]);
        cap
    };
    let normal = write("normal", 15.0);
    let baseline = path(&dir, "baseline.h5");
    kuzet_ok(&[
        "baseline",
        "learn",
        normal.to_str().unwrap(),
        "-o",
        baseline.to_str().unwrap(),
    ]);
    let loud = write("loud", 30.0);
    let got = alerts(&kuzet_ok(&[
        "analyze",
        loud.to_str().unwrap(),
        "--baseline",
        baseline.to_str().unwrap(),
    ]));
    assert_eq!(raised(&got, AlertKind::PowerChange).len(), 1, "{got:?}");
    assert!(raised(&got, AlertKind::NewEmitter).is_empty(), "{got:?}");
    // At its usual level it is silent.
    let got = alerts(&kuzet_ok(&[
        "analyze",
        normal.to_str().unwrap(),
        "--baseline",
        baseline.to_str().unwrap(),
    ]));
    assert!(got.is_empty(), "{got:?}");
}

/// One GFSK packet of `burst_ms` at `snr_db` in its 25 kHz, 1 s into a 2 s scene at
/// `rate` (a period longer than the scene: it never repeats).
fn single_burst(rate: &str, burst_ms: f64, snr_db: f64, seed: u64) -> String {
    format!(
        "sample_rate_hz = \"{rate}\"\ncenter_freq_hz = \"433.92M\"\nduration_s = 2.0\nseed = {seed}\n\
         [[emitter]]\ntype = \"gfsk\"\noffset_hz = 40e3\nbandwidth_hz = \"25k\"\nsnr_db = {snr_db}\n\
         start_s = 1.0\nburst_ms = {burst_ms}\nperiod_ms = 5000\n"
    )
}

#[test]
fn a_single_2_ms_burst_at_10_db_is_raised_with_its_figures_at_any_rate() {
    // At the default 10 ms spectra a 2 ms burst is a fifth of the mean (3 dB in a 10 dB
    // burst's band): the per-frame view is what raises it, with the loudest frame's
    // figures. Frames are 1024 samples: 4 ms at 250 kS/s (the burst fills half of one),
    // 1 ms at 1 MS/s, 0.4 ms at 2.4 MS/s.
    for (rate, hz) in [("250k", 250e3), ("1M", 1e6), ("2.4M", 2.4e6)] {
        let (_, got) = run_scene(&single_burst(rate, 2.0, 10.0, 31));
        let all: Vec<&Alert> = got
            .iter()
            .filter(|a| a.state == AlertState::Raised)
            .collect();
        assert_eq!(all.len(), 1, "{rate}: {got:?}");
        let a = all[0];
        assert_eq!(a.kind, AlertKind::NewEmitter, "{rate}: {a:?}");
        // Raised within the burst's spectrum or the next (10 ms each).
        assert!((a.first_seen_s - 1.0).abs() < 0.011, "{rate}: {a:?}");
        assert!(a.last_seen_s <= 1.03, "{rate}: {a:?}");
        let bin = hz / 1024.0;
        assert!((a.freq_hz - 433.96e6).abs() < 12.5e3 + bin, "{rate}: {a:?}");
        assert!(
            a.bandwidth_hz > 10e3 && a.bandwidth_hz < 60e3,
            "{rate}: {a:?}"
        );
        assert!(a.snr_db >= 6.0 && a.snr_db < 16.0, "{rate}: {a:?}");
        assert_eq!(a.activity.as_ref().map(|x| x.bursts), Some(1), "{rate}");
    }
}

/// A scene of 100 ms of CW at `cn0` dB-Hz (synth's CW SNR is over 25 kHz), 2 s into 3 s
/// at 1.024 MS/s (the floor of 4096 bins is two seconds old), at an offset that varies
/// with `seed` and sits off the bin grid.
fn weak_cw(cn0: f64, seed: u64) -> (String, f64) {
    let offset = -300e3 + (seed as f64 * 37e3) % 600e3 + 123.0;
    let snr = cn0 - 10.0 * 25e3f64.log10();
    let scene = format!(
        "sample_rate_hz = \"1.024M\"\ncenter_freq_hz = \"433.92M\"\nduration_s = 3.0\nseed = {seed}\n\
         [[emitter]]\ntype = \"cw\"\noffset_hz = {offset}\nsnr_db = {snr}\nstart_s = 2.0\nstop_s = 2.1\n"
    );
    (scene, 433.92e6 + offset)
}

#[test]
fn weak_cw_at_30_db_hz_over_100_ms_is_found_at_default_settings() {
    // Issue 15's weak-CW figure, end to end at the defaults: the averaged spectra's 1 kHz
    // bins (1.024 MS/s) hold a 30 dB-Hz carrier 2 dB under their noise; the carrier
    // grid's 95 Hz bins hold it 8 dB over theirs. With `--carriers off` the same trials
    // give 0.55 (docs/detection.md has the curves).
    let dir = tmp();
    let mut curve = Vec::new();
    for cn0 in [28.0, 30.0] {
        let mut hits = 0;
        for seed in 1..=20u64 {
            let (scene, f_hz) = weak_cw(cn0, seed);
            let scenario = path(&dir, "cw.toml");
            std::fs::write(&scenario, scene).unwrap();
            let cap = path(&dir, "cw.h5");
            let (scenario, cap) = (scenario.to_str().unwrap(), cap.to_str().unwrap());
            kuzet_ok(&["synth", "--scenario", scenario, "-o", cap, "--force"]);
            let got = alerts(&kuzet_ok(&["analyze", cap]));
            let raised: Vec<&Alert> = got
                .iter()
                .filter(|a| a.state == AlertState::Raised)
                .collect();
            assert!(
                raised.iter().all(|a| (a.freq_hz - f_hz).abs() < 1e3),
                "{cn0} dB-Hz, seed {seed}: a false alert {raised:?}"
            );
            if let Some(a) = raised.first() {
                // Measured in the grid's bins: its own narrow band and SNR in it.
                assert!(a.bandwidth_hz < 300.0 && a.snr_db >= 6.0, "{a:?}");
                hits += 1;
            }
        }
        curve.push((cn0, hits as f64 / 20.0));
    }
    eprintln!("weak CW, 100 ms, default settings, Pd against C/N0 (dB-Hz): {curve:?}");
    assert!(curve[1].1 >= 0.9, "{curve:?}");
}
