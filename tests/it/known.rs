//! The known-emitters file (`--known FILE`, docs/known.md) on the commands that detect:
//! every one loads it and names the line of a mistake; what it lists is never a
//! `new_emitter`, while `power_change` and `emitter_lost` still watch it.

use std::path::Path;

use crate::support::{kuzet, kuzet_ok, path, tmp};

/// 7 s at 1 MS/s around 433.92 MHz: carriers at 433.72 and 434.07 MHz, 20 dB up.
fn two_carriers(cap: &Path) {
    kuzet_ok(&[
        "synth",
        "-o",
        cap.to_str().unwrap(),
        "--rate",
        "1M",
        "--duration",
        "7s",
        "--emitter",
        "cw:-200k:20",
        "--emitter",
        "cw:150k:20",
    ]);
}

fn lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// Raised alerts of `kind` within 5 kHz of `freq_hz`.
fn raised<'a>(
    alerts: &'a [serde_json::Value],
    kind: &str,
    freq_hz: f64,
) -> Vec<&'a serde_json::Value> {
    alerts
        .iter()
        .filter(|a| {
            a["state"] == "raised"
                && a["kind"] == kind
                && (a["freq_hz"].as_f64().unwrap() - freq_hz).abs() < 5e3
        })
        .collect()
}

#[test]
fn what_the_known_file_lists_is_never_new_but_still_watched() {
    let dir = tmp();
    let cap = path(&dir, "two.h5");
    two_carriers(&cap);
    let plain = lines(&kuzet_ok(&["analyze", cap.to_str().unwrap()]));
    let (a, b) = (433.72e6, 434.07e6);
    assert_eq!(raised(&plain, "new_emitter", a).len(), 1, "{plain:?}");
    let b_new = raised(&plain, "new_emitter", b);
    assert_eq!(b_new.len(), 1, "{plain:?}");
    let b_dbfs = b_new[0]["power_dbfs"].as_f64().unwrap();

    // A as written by hand (units, a label); B listed 30 dB quieter than it is; an
    // always-on transmitter at 434.2 MHz that never comes on.
    let known = path(&dir, "known.toml");
    std::fs::write(
        &known,
        format!(
            r#"# post north
[[known]]
freq_hz = "433.72M"
bandwidth_hz = "5k"
label = "gate remote"

[[known]]
freq_hz = 434070000
bandwidth_hz = 5000
power_dbfs = {quiet:.1}

[[known]]
freq_hz = "434.2M"
bandwidth_hz = "10k"
power_dbfs = -40.0
always_on = true
"#,
            quiet = b_dbfs - 30.0
        ),
    )
    .unwrap();
    let args = ["--known", known.to_str().unwrap()];
    let analyzed = kuzet_ok(&[&["analyze", cap.to_str().unwrap()], &args[..]].concat());
    let got = lines(&analyzed);
    assert!(raised(&got, "new_emitter", a).is_empty(), "{got:?}");
    assert!(raised(&got, "new_emitter", b).is_empty(), "{got:?}");
    assert!(
        got.iter()
            .all(|x| (x["freq_hz"].as_f64().unwrap() - a).abs() > 5e3),
        "A, listed without a level: nothing at all about it: {got:?}"
    );
    assert_eq!(raised(&got, "power_change", b).len(), 1, "{got:?}");
    let lost = raised(&got, "emitter_lost", 434.2e6);
    assert_eq!(lost.len(), 1, "{got:?}");
    assert!(lost[0]["first_seen_s"].as_f64().unwrap() < 1.0, "{lost:?}");
    assert!(lost[0]["last_seen_s"].as_f64().unwrap() >= 5.0, "{lost:?}");

    // A replay without a console reads it the same way.
    let replayed = kuzet_ok(
        &[
            &[
                "replay",
                cap.to_str().unwrap(),
                "--speed",
                "max",
                "--headless",
            ],
            &args[..],
        ]
        .concat(),
    );
    assert_eq!(replayed, analyzed);
}

#[test]
fn every_detecting_command_loads_the_known_file_and_names_a_bad_line() {
    let dir = tmp();
    let cap = path(&dir, "two.h5");
    two_carriers(&cap);
    let known = path(&dir, "known.toml");
    std::fs::write(
        &known,
        "[[known]]\nfreq_hz = \"433.92M\"\nbandwidth_hz = 0\n",
    )
    .unwrap();
    let (c, k) = (cap.to_str().unwrap(), known.to_str().unwrap());
    let learned = path(&dir, "baseline.h5");
    let device = "driver=kuzetsim,serial=kuzetsim-known,realtime=false";
    let commands: [&[&str]; 5] = [
        &["analyze", c],
        &["replay", c, "--headless"],
        &["score", c],
        &["baseline", "learn", c, "-o", learned.to_str().unwrap()],
        &[
            "watch",
            "--headless",
            "--device",
            device,
            "--freq",
            "433.92M",
            "--rate",
            "1M",
            "--duration",
            "1s",
        ],
    ];
    for cmd in commands {
        let out = kuzet(&[cmd, &["--known", k][..]].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}: {err}");
        assert!(
            err.contains("known.toml: line 3: bandwidth_hz must be positive, got 0"),
            "{cmd:?}: {err}"
        );
    }
    assert!(!learned.exists());

    // A missing file is a mistyped name wherever no console could create it.
    let missing = path(&dir, "nknown.toml");
    for cmd in [commands[0], commands[1]] {
        let out = kuzet(&[cmd, &["--known", missing.to_str().unwrap()][..]].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}: {err}");
        assert!(err.contains("nknown.toml"), "{cmd:?}: {err}");
    }
}
