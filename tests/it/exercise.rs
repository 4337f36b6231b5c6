//! Training exercises end to end: the exercise file's errors, the mix's determinism, a
//! scripted session scored as its script says, the report's table, JSON and picture, the
//! instructor's view, and the console's acknowledgement reaching the session log (tmux).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use kuzet::eval::exercise::Exercise;
use kuzet::source::{IqSource, ReadOutcome, SeekableSource};
use num_complex::Complex32;

use crate::support::{kuzet, kuzet_ok, tmp};

fn captures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("captures")
}

/// An exercise over the bundled benign base whose alerts are known: strong packets
/// (threat) and later a strong hopper (threat), apart in time so the hopper's alert cannot
/// take the packets for hops, and a strong carrier (benign) in a quiet gap of the band,
/// 20 kHz from the base's sensor and from the hopper's lowest channel.
fn known_exercise(dir: &Path) -> PathBuf {
    let text = format!(
        r#"name = "known"
base = "{}"
duration_s = 16
seed = 3

[[inject]]
type = "hopper"
name = "rc"
freq_hz = "433.93M"
bandwidth_hz = "10k"
span_hz = "60k"
snr_db = 25
start_s = 8
stop_s = 12
expect = "threat"
deadline_s = 5

[[inject]]
type = "cw"
name = "neighbour"
freq_hz = "433.875M"
snr_db = 25
start_s = 0.5
stop_s = 14
expect = "benign"
deadline_s = 5

[[inject]]
type = "gfsk"
name = "packets"
freq_hz = "433.99M"
bandwidth_hz = "20k"
burst_ms = 10
period_ms = 100
snr_db = 25
start_s = 1.5
stop_s = 5
expect = "threat"
"#,
        captures().join("benign.h5").display()
    );
    let p = dir.join("known.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs a scripted session; returns the session log's path.
fn scripted(exercise: &Path, trainee: &str, actions: &Path, log: &Path) -> PathBuf {
    let out = kuzet(&[
        "exercise",
        "run",
        s(exercise),
        "--trainee",
        trainee,
        "--actions",
        s(actions),
        "--log",
        s(log),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .lines()
        .find_map(|l| l.strip_prefix("kuzet: session log "))
        .unwrap_or_else(|| panic!("no session log named: {err}"));
    PathBuf::from(line.trim())
}

#[test]
fn a_bad_exercise_names_the_file_the_line_and_the_field() {
    let dir = tmp();
    let good = std::fs::read_to_string(known_exercise(dir.path())).unwrap();
    let cases = [
        (
            "snr_db = 25\nstart_s = 8",
            "snr_db = 250\nstart_s = 8",
            "line 12",
            "snr_db",
        ),
        (
            "freq_hz = \"433.875M\"",
            "freq_hz = \"440M\"",
            "line 21",
            "freq_hz",
        ),
        (
            "expect = \"benign\"",
            "expect = \"friendly\"",
            "line 25",
            "friendly",
        ),
        ("stop_s = 12", "stop_s = 99", "line 14", "stop_s"),
        (
            "duration_s = 16",
            "duration_s = \"long\"",
            "line 3",
            "duration_s",
        ),
        ("seed = 3", "seed = 3\ncolour = \"red\"", "line 5", "colour"),
        // A missing field is named with the line of its table.
        (
            "expect = \"threat\"\n",
            "",
            "line 6",
            "missing field `expect`",
        ),
    ];
    for (from, to, line, field) in cases {
        let text = good.replacen(from, to, 1);
        assert_ne!(text, good, "{from}");
        let p = dir.path().join("bad.toml");
        std::fs::write(&p, &text).unwrap();
        let out = kuzet(&["exercise", "check", s(&p)]);
        assert_eq!(out.status.code(), Some(2), "{to}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(
            err.contains("bad.toml") && err.contains(&format!("{line}:")) && err.contains(field),
            "{to}: {err}"
        );
    }
    // A missing base is named with the line of `base`.
    let p = dir.path().join("nobase.toml");
    std::fs::write(&p, good.replace("benign.h5", "missing.h5")).unwrap();
    let out = kuzet(&["exercise", "check", s(&p)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 2: base:") && err.contains("missing.h5"),
        "{err}"
    );
}

#[test]
fn check_prints_the_timeline() {
    let out = kuzet_ok(&[
        "exercise",
        "check",
        s(&captures().join("exercise-hard.toml")),
    ]);
    assert!(out.contains("looped to 30.00 s"), "{out}");
    assert!(out.contains("dBFS/Hz"), "{out}");
    let rows: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("weak-bursts") || l.contains("short-jam"))
        .collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert!(rows[0].contains("weak-bursts"), "in order of start: {out}");
    assert!(rows[1].contains("jammer") && rows[1].contains('█'), "{out}");
}

/// FNV-1a over the samples' bits.
fn hash(samples: &[Complex32]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for z in samples {
        for b in
            z.re.to_bits()
                .to_le_bytes()
                .iter()
                .chain(&z.im.to_bits().to_le_bytes())
        {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// The next `n` samples (fewer at the end), read in odd sizes.
fn take(src: &mut dyn IqSource, n: usize) -> Vec<Complex32> {
    let mut out = vec![Complex32::default(); n];
    let mut got = 0;
    while got < n {
        let end = (got + 7_777).min(n);
        match src.read_cf32(&mut out[got..end]).unwrap() {
            ReadOutcome::Samples(k) => got += k,
            _ => break,
        }
    }
    out.truncate(got);
    out
}

fn drain(src: &mut dyn IqSource, chunk: usize) -> Vec<Complex32> {
    let mut out = Vec::new();
    let mut buf = vec![Complex32::default(); chunk];
    while let ReadOutcome::Samples(n) = src.read_cf32(&mut buf).unwrap() {
        out.extend_from_slice(&buf[..n]);
    }
    out
}

#[test]
fn the_mix_is_bit_exact_between_runs_after_a_seek_and_in_the_export() {
    let x = Exercise::load(&captures().join("exercise-hard.toml")).unwrap();
    let floor = x.measure_floor().unwrap();
    assert_eq!(
        floor,
        x.measure_floor().unwrap(),
        "the floor is measured alike"
    );
    let mut a = x.mix(&floor, true).unwrap();
    let whole = drain(&mut a, 65_536);
    assert_eq!(whole.len() as u64, x.len_samples());
    let mut b = x.mix(&floor, true).unwrap();
    let again = drain(&mut b, 10_007);
    assert_eq!(hash(&again), hash(&whole), "two runs, other read sizes");
    // Seeks as a trainee makes them, each landing on the samples of the unbroken run:
    // into the jammer (18 s..21 s) between two bursts, back to just before the base's
    // first loop (8 s), forward to mid-burst of the weak emitter, and back to the start.
    let mut c = x.mix(&floor, true).unwrap();
    for (at, what) in [
        (4_812_530u64, "19.25 s"),
        (1_999_990, "the base's loop"),
        (1_300_417, "5.2 s"),
        (0, "the start"),
    ] {
        c.seek(at);
        let got = take(&mut c, 300_001);
        let end = at as usize + got.len();
        assert_eq!(got.len(), 300_001, "{what}");
        assert_eq!(
            hash(&got),
            hash(&whole[at as usize..end]),
            "after a seek to {what}"
        );
    }
    let tail = drain(&mut c, 4_096);
    assert_eq!(
        hash(&tail),
        hash(&whole[300_001..]),
        "reading on after the seeks"
    );
    // The injections are in it: the mix differs from the base alone.
    let base = drain(&mut x.mix(&floor, false).unwrap(), 65_536);
    assert_ne!(hash(&base), hash(&whole));

    // The export is the mix, with the injections as annotations.
    let dir = tmp();
    let out = dir.path().join("mix.h5");
    kuzet_ok(&[
        "exercise",
        "export",
        s(&captures().join("exercise-hard.toml")),
        "-o",
        s(&out),
    ]);
    let rec = kuzet::source::open(&out, &Default::default()).unwrap();
    let labels: Vec<(&str, &str)> = rec
        .annotations
        .iter()
        .map(|a| (a.label.as_str(), a.source.as_str()))
        .collect();
    assert!(
        labels.contains(&("weak-bursts", "synth/gfsk")),
        "{labels:?}"
    );
    assert!(
        labels.contains(&("short-jam", "synth/jammer")),
        "{labels:?}"
    );
    assert!(
        labels.contains(&("beacon", "synth/cw")),
        "the base's own: {labels:?}"
    );
    let mut src = rec.source;
    assert_eq!(src.len_samples(), x.len_samples());
    assert_eq!(hash(&drain(&mut src, 65_536)), hash(&whole));
    // SigMF: the same annotations in the metadata.
    let meta = dir.path().join("mix.sigmf-meta");
    kuzet_ok(&[
        "exercise",
        "export",
        s(&captures().join("exercise-hard.toml")),
        "-o",
        s(&meta),
    ]);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&meta).unwrap()).unwrap();
    let names: Vec<&str> = v["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["core:label"].as_str())
        .collect();
    assert!(
        names.contains(&"short-jam") && names.contains(&"weak-bursts"),
        "{names:?}"
    );
    // An existing output is refused.
    let again = kuzet(&[
        "exercise",
        "export",
        s(&captures().join("exercise-hard.toml")),
        "-o",
        s(&out),
    ]);
    assert_eq!(again.status.code(), Some(2));
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn a_scripted_session_scores_as_its_script_says() {
    let dir = tmp();
    let x = known_exercise(dir.path());
    let logs = dir.path().join("sessions");
    // The trainee: calls the carrier a threat (wrong: it is benign), calls the base's
    // beacon a threat (a known emitter of real air: listed, not graded), calls the hopper
    // a threat 2 s after it starts (in time), never answers the packets (a miss), pauses
    // once, and seeks back 2 s at 15 s.
    let acts = dir.path().join("acts.jsonl");
    std::fs::write(
        &acts,
        concat!(
            r#"{"type":"pause","stream_s":5.0}"#,
            "\n",
            r#"{"type":"resume","stream_s":5.0}"#,
            "\n",
            r#"{"type":"ack","stream_s":6.0,"alert_freq_hz":433.875e6,"verdict":"threat"}"#,
            "\n",
            r#"{"type":"ack","stream_s":7.0,"alert_freq_hz":433.82e6,"verdict":"threat"}"#,
            "\n",
            r#"{"type":"ack","stream_s":10.0,"alert_freq_hz":433.93e6,"verdict":"threat","note":"hopping RC"}"#,
            "\n",
            r#"{"type":"seek","stream_s":15.0,"to_s":13.0}"#,
            "\n",
        ),
    )
    .unwrap();
    let ana = scripted(&x, "ana", &acts, &logs);
    let r = json(&kuzet_ok(&["exercise", "report", s(&ana), "--json"]));
    let outcome = |i: usize| r["injections"][i]["outcome"].as_str().unwrap().to_string();
    assert_eq!(
        [outcome(0), outcome(1), outcome(2)],
        ["correct", "wrong", "missed"],
        "{r}"
    );
    assert_eq!(r["injections"][0]["verdict"], "threat");
    assert_eq!(r["injections"][0]["in_time"], true);
    assert_eq!(r["injections"][0]["note"], "hopping RC");
    assert_eq!(r["injections"][0]["alert_kind"], "hopping");
    assert_eq!(r["detected"], 3);
    assert_eq!(r["points"], 1.0);
    assert_eq!(r["max_points"], 3.0);
    assert_eq!(r["score_pct"], 33.3);
    assert_eq!(r["misses"], 1);
    assert_eq!(r["false_call_count"], 0);
    assert_eq!(r["known_calls"].as_array().unwrap().len(), 1, "{r}");
    // The beacon as measured: within a bin of where it was placed.
    let known_hz = r["known_calls"][0]["freq_hz"].as_f64().unwrap();
    assert!((known_hz - 433.82e6).abs() < 500.0, "{r}");
    assert_eq!(r["pauses"], 1);
    assert_eq!(r["seeks"], 1);
    // The session ran 2 s longer than the exercise: the seek went back 2 s.
    assert_eq!(r["stream_s"], 18.0);
    let log = std::fs::read_to_string(&ana).unwrap();
    let seek = log
        .lines()
        .find(|l| l.contains(r#""type":"seek""#))
        .unwrap();
    assert!(seek.contains(r#""stream_sample":3750000"#), "{seek}");

    // A trainee who does nothing: every alerted injection is a miss.
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let bob = scripted(&x, "bob", &empty, &logs);
    let b = json(&kuzet_ok(&["exercise", "report", s(&bob), "--json"]));
    assert_eq!(
        (b["points"].as_f64(), b["misses"].as_u64()),
        (Some(0.0), Some(3))
    );
    assert_eq!(b["score_pct"], 0.0);

    // Same log, same report; re-running the log as a script gives the same score.
    assert_eq!(
        kuzet_ok(&["exercise", "report", s(&ana), "--json"]),
        kuzet_ok(&["exercise", "report", s(&ana), "--json"])
    );
    let again = scripted(&x, "ana", &ana, &logs);
    let r2 = json(&kuzet_ok(&["exercise", "report", s(&again), "--json"]));
    for k in [
        "points",
        "score_pct",
        "misses",
        "seeks",
        "pauses",
        "stream_s",
    ] {
        assert_eq!(r2[k], r[k], "{k}");
    }

    // The instructor's view: one row per trainee.
    let class = kuzet_ok(&["exercise", "report", s(&ana), s(&bob)]);
    let row = |who: &str| {
        class
            .lines()
            .find(|l| l.starts_with(who))
            .unwrap_or_else(|| panic!("{who}: {class}"))
            .to_string()
    };
    assert!(
        row("ana").contains("33.3%") && row("ana").contains("1/3"),
        "{class}"
    );
    assert!(row("bob").contains("0.0%"), "{class}");
    let cj = json(&kuzet_ok(&[
        "exercise",
        "report",
        s(&ana),
        s(&bob),
        "--json",
    ]));
    assert_eq!(cj["trainees"].as_array().unwrap().len(), 2);
    assert_eq!(cj["trainees"][1]["misses"], 3);
    // Sessions of different exercises are not mixed.
    let other = scripted(&captures().join("exercise-easy.toml"), "cy", &empty, &logs);
    let mixed = kuzet(&["exercise", "report", s(&ana), s(&other)]);
    assert_eq!(mixed.status.code(), Some(2));
}

#[test]
fn the_report_table_matches_its_json_and_draws_a_picture() {
    let dir = tmp();
    let acts = dir.path().join("acts.jsonl");
    std::fs::write(
        &acts,
        concat!(
            r#"{"type":"ack","stream_s":8.0,"alert_freq_hz":433.875e6,"verdict":"threat"}"#,
            "\n",
            r#"{"type":"ack","stream_s":30.0,"verdict":"benign"}"#,
            "\n",
        ),
    )
    .unwrap();
    let log = scripted(
        &captures().join("exercise-hard.toml"),
        "dee",
        &acts,
        dir.path(),
    );
    let table = kuzet_ok(&["exercise", "report", s(&log)]);
    let r = json(&kuzet_ok(&["exercise", "report", s(&log), "--json"]));
    for i in r["injections"].as_array().unwrap() {
        let name = i["name"].as_str().unwrap();
        let row = table
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name}: {table}"));
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells[1], i["type"].as_str().unwrap(), "{row}");
        assert_eq!(cells[2], i["expect"].as_str().unwrap(), "{row}");
        assert!(row.contains(i["outcome"].as_str().unwrap()), "{row}");
        let points = cells.last().unwrap().parse::<f64>().unwrap();
        assert_eq!(points, i["points"].as_f64().unwrap(), "{row}");
        match i["verdict"].as_str() {
            Some(v) => assert!(cells.contains(&v), "{row}"),
            None => assert!(i["time_to_verdict_s"].is_null()),
        }
        if let Some(t) = i["time_to_verdict_s"].as_f64() {
            assert!(row.contains(&format!("{t:.3} s")), "{row}");
        }
    }
    let summary = table.lines().last().unwrap();
    let pct = r["score_pct"].as_f64().unwrap();
    assert!(summary.contains(&format!("score {pct:.1}%")), "{summary}");
    assert!(
        summary.contains(&format!("misses {}", r["misses"])),
        "{summary}"
    );
    assert!(summary.contains(&format!("detector {}/{}", r["detected"], r["total"])));
    assert_eq!(r["injections"][0]["outcome"], "correct", "{r}");

    let svg = dir.path().join("aar.svg");
    let png = dir.path().join("aar.png");
    kuzet_ok(&["exercise", "report", s(&log), "--svg", s(&svg)]);
    kuzet_ok(&["exercise", "report", s(&log), "--png", s(&png)]);
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg"), "{}", &text[..80.min(text.len())]);
    assert!(
        text.contains("data:image/png;base64"),
        "the waterfall is embedded"
    );
    assert!(text.contains("weak-bursts") && text.contains("trainee dee"));
    // A box per threat injection (both are threats), a disc per verdict in the log.
    assert_eq!(text.matches(r##"stroke="#C81414""##).count(), 2, "boxes");
    let acks = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .filter(|l| l.contains(r#""type":"ack""#))
        .count();
    assert!(acks >= 1);
    assert_eq!(text.matches("<circle").count(), acks, "verdict discs");
    // The PNG: the page's size, the waterfall's dark ink and the boxes' red in it.
    let decoder = png::Decoder::new(std::fs::File::open(&png).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((frame.width, frame.height), (1600, 1100));
    assert_eq!(frame.color_type, png::ColorType::Rgb);
    let rgb: Vec<&[u8]> = pixels[..frame.buffer_size()].chunks_exact(3).collect();
    let red = rgb.iter().filter(|p| **p == [200, 20, 20]).count();
    let ink = rgb.iter().filter(|p| p[0] < 90 && p[2] > p[0]).count();
    let white = rgb.iter().filter(|p| **p == [255, 255, 255]).count();
    assert!(red > 2_000, "threat boxes: {red} red pixels");
    assert!(ink > 2_000, "the waterfall's signals: {ink} ink pixels");
    assert!(
        white < rgb.len() * 95 / 100,
        "nearly blank: {white} white pixels"
    );
    // An existing picture is not replaced without --force.
    let again = kuzet(&["exercise", "report", s(&log), "--png", s(&png)]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    kuzet_ok(&["exercise", "report", s(&log), "--png", s(&png), "--force"]);
    // The PNG's name must say PNG; one picture per run.
    let bad = kuzet(&["exercise", "report", s(&log), "--png", s(&svg)]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn run_without_a_terminal_asks_for_actions_and_bad_actions_name_their_line() {
    let dir = tmp();
    let x = captures().join("exercise-easy.toml");
    let out = kuzet(&["exercise", "run", s(&x), "--trainee", "eve"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--actions"));
    let acts = dir.path().join("bad.jsonl");
    std::fs::write(
        &acts,
        "{\"type\":\"pause\",\"stream_s\":1}\n{\"type\":\"ack\",\"stream_s\":2,\"verdict\":\"maybe\"}\n",
    )
    .unwrap();
    let out = kuzet(&[
        "exercise",
        "run",
        s(&x),
        "--trainee",
        "eve",
        "--actions",
        s(&acts),
        "--log",
        s(dir.path()),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.jsonl") && err.contains("line 2"), "{err}");
    // No half session was left behind.
    let logs: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("easy-")
        })
        .collect();
    assert!(logs.is_empty());
}

/// A private tmux server (own socket), killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .args(["-u", "-L", &self.socket])
            .args(args)
            .env("LC_ALL", "C.UTF-8")
            .output()
            .expect("run tmux")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "k"]).stdout).into_owned()
    }

    fn wait(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let t = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "timed out waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

/// `file mm:ss.s` on the status line: the position in the exercise, seconds.
fn file_pos(screen: &str) -> Option<f64> {
    let at = screen.find("file ")? + 5;
    let (m, rest) = screen[at..].split_once(':')?;
    let s: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    Some(m.trim().parse::<f64>().ok()? * 60.0 + s.parse::<f64>().ok()?)
}

/// The console of an exercise in tmux: the trainee acknowledges the hopper's alert with
/// a verdict key and a note, pauses and seeks; the session log has all three, and the
/// report credits the verdict to the injected hopper. Every step waits for what the
/// screen shows, never for a time.
#[test]
fn the_console_takes_a_verdict_a_pause_and_a_seek_in_tmux() {
    if !Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("skipping the exercise console test: tmux is not installed");
        return;
    }
    let dir = tmp();
    let bin = env!("CARGO_BIN_EXE_kuzet");
    let run = format!(
        "{bin} exercise run '{}' --trainee tmux --log '{}'; echo KUZET_EXIT=$?; sleep 60",
        captures().join("exercise-easy.toml").display(),
        dir.path().display()
    );
    let tmux = Tmux {
        socket: format!("kuzet-ex-{}", std::process::id()),
    };
    let started = tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "k",
        // Wide enough for the status line to show the whole notice after a verdict.
        "-x",
        "160",
        "-y",
        "40",
        "sh",
        "-c",
        &run,
    ]);
    assert!(started.status.success(), "{started:?}");
    let s = tmux.wait("an alert", |s| s.contains("new_emitter"));
    // Only what kuzet shows: the exercise's name, never its injections.
    assert!(
        s.contains("exercise easy") && !s.contains("drone-rc"),
        "{s}"
    );
    // The hopper's alert (from 8 s of the exercise); the trainee pauses to think, then
    // walks the desk from the newest row down until the verdict prompt names the
    // hopping alert (Esc backs out of a prompt on another alert, and logs nothing).
    tmux.wait("the hopper's alert", |s| s.contains("hopping"));
    tmux.cmd(&["send-keys", "-t", "k", "Space"]);
    let s = tmux.wait("pause", |s| s.contains("paused"));
    let before = file_pos(&s).unwrap_or_else(|| panic!("no file position:\n{s}"));
    tmux.cmd(&["send-keys", "-t", "k", "Home"]);
    for row in 0.. {
        tmux.cmd(&["send-keys", "-t", "k", "a"]);
        let s = tmux.wait("the verdict prompt", |s| s.contains("verdict on #"));
        let prompt = s
            .lines()
            .rev()
            .find(|l| l.contains("verdict on #"))
            .unwrap();
        assert!(prompt.contains("t threat  b benign  u unsure"), "{prompt}");
        if prompt.contains("hopping") {
            break;
        }
        assert!(row < 40, "no hopping alert on the desk:\n{s}");
        tmux.cmd(&["send-keys", "-t", "k", "Escape"]);
        tmux.wait("the prompt closed", |s| !s.contains("verdict on #"));
        tmux.cmd(&["send-keys", "-t", "k", "j"]);
    }
    tmux.cmd(&["send-keys", "-t", "k", "t"]);
    tmux.wait("the note line", |s| {
        s.contains("threat #") && s.contains("note (Enter")
    });
    tmux.cmd(&["send-keys", "-t", "k", "-l", "drone RC"]);
    tmux.cmd(&["send-keys", "-t", "k", "Enter"]);
    tmux.wait("the verdict logged", |s| {
        s.contains("threat with note (logged)")
    });
    tmux.cmd(&["send-keys", "-t", "k", ">"]);
    tmux.wait("the seek", |s| {
        file_pos(s).is_some_and(|p| p >= before + 9.0)
    });
    tmux.cmd(&["send-keys", "-t", "k", "q"]);
    let s = tmux.wait("a clean exit", |s| s.contains("KUZET_EXIT="));
    assert!(s.contains("KUZET_EXIT=0"), "{s}");
    let log = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .expect("a session log");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(kinds[0], "session");
    assert_eq!(lines[0]["mode"], "console");
    assert_eq!(*kinds.last().unwrap(), "end");
    let acks: Vec<&serde_json::Value> = lines.iter().filter(|l| l["type"] == "ack").collect();
    assert_eq!(acks.len(), 1, "Esc logs nothing: {kinds:?}");
    let ack = acks[0];
    assert_eq!(ack["verdict"], "threat");
    assert_eq!(ack["note"], "drone RC");
    assert_eq!(ack["alert_kind"], "hopping");
    assert!(ack["stream_s"].as_f64().unwrap() > 8.0, "{ack}");
    assert!(
        ack["utc"].as_str().is_some_and(|u| u.ends_with('Z')),
        "{ack}"
    );
    assert!(
        kinds.contains(&"pause") && kinds.contains(&"seek"),
        "{kinds:?}"
    );
    let seek = lines.iter().find(|l| l["type"] == "seek").unwrap();
    assert!(seek["to_s"].as_f64().unwrap() > seek["from_s"].as_f64().unwrap());
    // The log scores: the verdict is the hopper's (in time or late depends on how fast
    // this machine got there, so either).
    let r = json(&kuzet_ok(&[
        "exercise",
        "report",
        log.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(r["trainee"], "tmux");
    let rc = &r["injections"][0];
    assert_eq!(
        (&rc["name"], &rc["verdict"]),
        (&"drone-rc".into(), &"threat".into()),
        "{r}"
    );
    assert!(rc["outcome"] == "correct" || rc["outcome"] == "late", "{r}");
    assert_eq!(rc["note"], "drone RC");
    assert_eq!(r["pauses"], 1);
}
