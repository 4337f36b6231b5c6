//! The operator console end to end: the real binary in a real terminal (tmux), keys sent
//! as an operator would type them, the screen read back with `capture-pane`.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_kuzet");

/// How long a test waits for something to show. Generous: the machines that run these
/// are shared and loaded, and a wait ends as soon as the screen (or file) is right.
const DEADLINE: Duration = Duration::from_secs(120);

/// A private tmux server (own socket), killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> Output {
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

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "k"];
        args.extend_from_slice(keys);
        assert!(self.cmd(&args).status.success());
    }

    /// Waits until the screen satisfies `ok`; panics with the last screen if it never does.
    fn wait(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let t = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            assert!(
                t.elapsed() < DEADLINE,
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

fn tmux_available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn synth(path: &Path) {
    let out = Command::new(BIN)
        .args(["synth", "-o"])
        .arg(path)
        .args([
            "--rate",
            "1M",
            "--duration",
            "4s",
            "--emitter",
            "cw:-200k:20",
        ])
        .output()
        .expect("run kuzet synth");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn console_shows_alerts_help_acknowledges_and_quits_cleanly_in_tmux() {
    if !tmux_available() {
        eprintln!("skipping console_in_tmux: tmux is not installed (apt-get install tmux)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("e2e.h5");
    let log = dir.path().join("alerts.jsonl");
    synth(&capture);
    let tmux = Tmux {
        socket: format!("kuzet-e2e-{}", std::process::id()),
    };
    // The shell prints the exit status once the console has restored the terminal, and
    // keeps the pane open so the test can read it.
    let run = format!(
        "{BIN} replay '{}' --loop --alerts '{}'; echo KUZET_EXIT=$?; sleep 60",
        capture.display(),
        log.display()
    );
    let started = tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "k",
        "-x",
        "100",
        "-y",
        "30",
        "sh",
        "-c",
        &run,
    ]);
    assert!(started.status.success(), "{:?}", started);

    let s = tmux.wait("the console", |s| {
        s.contains("REPLAY") && s.contains(" MHz ")
    });
    assert!(
        s.contains("e2e.h5") && s.contains("1 MS/s") && s.contains("ALERTS"),
        "{s}"
    );
    // The carrier 200 kHz below centre is raised as a new emitter.
    let s = tmux.wait("an alert row", |s| s.contains("new_emitter"));
    assert!(s.contains("433.7200"), "{s}");

    // Transport keys reach the paced source: pause, then faster.
    tmux.keys(&["Space"]);
    tmux.wait("pause", |s| s.contains("paused 1×"));
    tmux.keys(&["]", "Space"]);
    tmux.wait("play at 2x", |s| s.contains("▶ 2×"));

    tmux.keys(&["?"]);
    let s = tmux.wait("the help overlay", |s| s.contains("Keys"));
    assert!(s.contains("acknowledge the alert") && s.contains("loop on / off"));
    tmux.keys(&["?"]);
    tmux.wait("the help overlay to close", |s| !s.contains("Keys"));

    tmux.keys(&["a"]);
    tmux.wait("the acknowledgement", |s| {
        s.contains("ack #")
            && s.lines()
                .any(|l| l.contains("new_emitter") && l.trim_end().ends_with("ack"))
    });

    tmux.keys(&["q"]);
    let s = tmux.wait("a clean exit", |s| s.contains("KUZET_EXIT="));
    assert!(s.contains("KUZET_EXIT=0"), "{s}");
    assert!(
        !s.contains("ALERTS"),
        "terminal restored (alternate screen left):\n{s}"
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("\"kind\":\"new_emitter\""), "{logged}");
    assert!(logged.contains("\"acknowledged\":true"), "{logged}");
}

#[test]
fn replay_without_a_terminal_prints_json_lines_like_analyze() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("headless.h5");
    synth(&capture);
    let run = |args: &[&str]| {
        let out = Command::new(BIN).args(args).arg(&capture).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    // stdout is a pipe here, so no console even without --headless.
    let replayed = run(&["replay", "--speed", "max"]);
    let analyzed = run(&["analyze"]);
    assert!(replayed.contains("\"kind\":\"new_emitter\""), "{replayed}");
    assert_eq!(replayed, analyzed, "same alerts at any speed");
    let out = Command::new(BIN)
        .args(["replay", "--speed", "3"])
        .arg(&capture)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--speed"));
}

#[test]
fn console_seek_and_loop_keys_work_on_a_raw_recording() {
    if !tmux_available() {
        eprintln!("skipping console seek on raw: tmux is not installed (apt-get install tmux)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("scene.h5");
    synth(&capture);
    let raw = dir.path().join("g001_433.92M_1M.cu8");
    let out = Command::new(BIN)
        .arg("convert")
        .args([&capture, &raw])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tmux = Tmux {
        socket: format!("kuzet-raw-{}", std::process::id()),
    };
    let run = format!(
        "{BIN} replay '{}'; echo KUZET_EXIT=$?; sleep 60",
        raw.display()
    );
    let started = tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "k",
        "-x",
        "100",
        "-y",
        "30",
        "sh",
        "-c",
        &run,
    ]);
    assert!(started.status.success(), "{:?}", started);
    let s = tmux.wait("the console", |s| s.contains("/ 00:04.0"));
    assert!(s.contains("433.92 MHz") && s.contains("1 MS/s"), "{s}");

    // Paused, so only the keys move the file position: +10 s clamps to the end of the
    // 4 s file, -10 s to its start.
    tmux.keys(&["Space"]);
    tmux.wait("pause", |s| s.contains("paused 1×"));
    tmux.keys(&[">"]);
    tmux.wait("the seek to the end", |s| s.contains("/ 00:04.0 (100%)"));
    tmux.keys(&["<"]);
    tmux.wait("the seek to the start", |s| {
        s.contains("file 00:00.0 / 00:04.0 (0%)")
    });
    tmux.keys(&["l"]);
    tmux.wait("loop on", |s| s.contains("paused 1× loop"));

    tmux.keys(&["q"]);
    let s = tmux.wait("a clean exit", |s| s.contains("KUZET_EXIT="));
    assert!(s.contains("KUZET_EXIT=0"), "{s}");
}

/// SIGTERM (like SIGHUP, SIGQUIT and Ctrl-C) ends a replay on a terminal cleanly: the
/// alternate screen is left, the summary printed, the exit status 0.
#[test]
fn sigterm_restores_the_terminal_in_tmux() {
    if !tmux_available() {
        eprintln!("skipping sigterm in tmux: tmux is not installed (apt-get install tmux)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("sig.h5");
    let pidfile = dir.path().join("pid");
    synth(&capture);
    let tmux = Tmux {
        socket: format!("kuzet-sig-{}", std::process::id()),
    };
    // `exec`: the pane's shell becomes kuzet, so the pid written is kuzet's, and the pane
    // stays (remain-on-exit) to show what kuzet left on the terminal.
    let run = format!(
        "echo $$ > '{}'; exec {BIN} replay '{}' --loop",
        pidfile.display(),
        capture.display()
    );
    let started = tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "k",
        "-x",
        "100",
        "-y",
        "30",
        "sh",
        "-c",
        &run,
    ]);
    assert!(started.status.success(), "{started:?}");
    assert!(tmux
        .cmd(&["set-option", "-t", "k", "remain-on-exit", "on"])
        .status
        .success());
    tmux.wait("the console", |s| s.contains("ALERTS"));
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    let killed = Command::new("kill")
        .args(["-s", "TERM", pid.trim()])
        .status()
        .unwrap();
    assert!(killed.success());
    // tmux marks the pane dead when the terminal closes and learns the exit status when
    // it reaps the process, a moment later: wait for either the status or the signal.
    let t = Instant::now();
    let ended = loop {
        let out = tmux.cmd(&[
            "display-message",
            "-p",
            "-t",
            "k",
            "#{pane_dead}:#{pane_dead_status}/#{pane_dead_signal}",
        ]);
        let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if v.starts_with("1:") && v != "1:/" {
            break v;
        }
        // On a loaded machine tmux can see the terminal close well before it reaps the
        // process ("1:/"): the kernel holds the exit status of a zombie in /proc.
        if let Some(code) = zombie_exit(pid.trim()) {
            break code;
        }
        assert!(t.elapsed() < DEADLINE, "kuzet still running: {v}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        ended,
        "1:0/",
        "exit status / killing signal\n{}",
        tmux.screen()
    );
    let s = tmux.screen();
    assert!(!s.contains("ALERTS"), "alternate screen left:\n{s}");
    assert!(s.contains("samples ("), "summary printed:\n{s}");
}

/// The exit of process `pid` if it is a zombie (exited, not yet reaped by its parent),
/// in tmux's `pane_dead:status/signal` form: `/proc/PID/stat` field 52 is the wait status.
fn zombie_exit(pid: &str) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    if fields.first() != Some(&"Z") {
        return None;
    }
    // Field 52 of the whole line is the 50th after the name (fields 1 and 2).
    let status: i32 = fields.get(49)?.parse().ok()?;
    Some(if status & 0x7f == 0 {
        format!("1:{}/", (status >> 8) & 0xff)
    } else {
        format!("1:/{}", status & 0x7f)
    })
}

/// A capture whose carrier 200 kHz below centre is on from 1 s to 2.5 s of 6 s: quiet for
/// longer than the hold time across each loop, so every loop raises it again.
fn synth_on_off(path: &Path) {
    let out = Command::new(BIN)
        .args(["synth", "-o"])
        .arg(path)
        .args([
            "--rate",
            "1M",
            "--duration",
            "6s",
            "--emitter",
            "cw:-200k:20:1:2.5",
        ])
        .output()
        .expect("run kuzet synth");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The stream time on the status line (`t 01:23.4`).
fn stream_time(screen: &str) -> Option<f64> {
    let at = screen.find("│ t ")? + "│ t ".len();
    let t = screen[at..].split_whitespace().next()?;
    let (m, s) = t.split_once(':')?;
    Some(m.parse::<f64>().ok()? * 60.0 + s.parse::<f64>().ok()?)
}

/// The alert-log lines that raise an alert for the carrier at 433.72 MHz (operator lines
/// repeat an alert's figures; they are not raises).
fn carrier_raises(log: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| {
            v["state"] == "raised"
                && v.get("marked_known").is_none()
                && v.get("acknowledged").is_none()
                && v.get("suppressed").is_none()
                && (v["freq_hz"].as_f64().unwrap_or(0.0) - 433.72e6).abs() < 5e3
        })
        .collect()
}

/// Waits for `ok` (on files rather than the screen), with the same generous deadline.
fn wait_until(tmux: &Tmux, what: &str, ok: impl Fn() -> bool) {
    let t = Instant::now();
    while !ok() {
        assert!(
            t.elapsed() < DEADLINE,
            "timed out waiting for {what}; screen:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts `kuzet replay ARGS` in an 80×24 tmux pane (the smallest screen the console
/// promises to work on); `name` keeps the test's tmux server apart from the others'.
fn console(name: &str, args: &str) -> Tmux {
    let tmux = Tmux {
        socket: format!("kuzet-{name}-{}", std::process::id()),
    };
    let run = format!("{BIN} replay {args}; echo KUZET_EXIT=$?; sleep 60");
    let started = tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "k",
        "-x",
        "80",
        "-y",
        "24",
        "sh",
        "-c",
        &run,
    ]);
    assert!(started.status.success(), "{started:?}");
    tmux
}

/// The alert desk: the screen from the desk's title down (the status line and a
/// notice may name the same frequency).
fn desk(screen: &str) -> String {
    match screen.find(" ALERTS ") {
        Some(at) => screen[at..].to_string(),
        None => String::new(),
    }
}

/// Waits until the stream has run `loops` more loops of the 6 s capture past `from`.
fn wait_loops(tmux: &Tmux, from: f64, loops: f64) {
    tmux.wait("the replay to loop on", |s| {
        stream_time(s).is_some_and(|t| t > from + loops * 6.0 + 1.0)
    });
}

#[test]
fn marking_an_emitter_known_in_tmux_silences_it_from_the_next_loop() {
    if !tmux_available() {
        eprintln!("skipping mark known in tmux: tmux is not installed (apt-get install tmux)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (capture, log, known) = (
        dir.path().join("onoff.h5"),
        dir.path().join("alerts.jsonl"),
        dir.path().join("known.toml"),
    );
    synth_on_off(&capture);
    let tmux = console(
        "known",
        &format!(
            "'{}' --loop --speed 4 --alerts '{}' --known '{}'",
            capture.display(),
            log.display(),
            known.display()
        ),
    );
    // Unknown, the carrier is raised again on every loop.
    wait_until(&tmux, "two raises of the carrier", || {
        carrier_raises(&log).len() >= 2
    });
    tmux.wait("its row on the desk", |s| desk(s).contains("433.7200"));
    // The newest alert is selected: K, a note, Enter.
    tmux.keys(&["K"]);
    tmux.wait("the note line for the carrier", |s| {
        s.contains("known #") && s.contains("433.7200 MHz, note (Enter")
    });
    tmux.keys(&["ours", "Enter"]);
    let s = tmux.wait("the mark on the spectrum", |s| s.contains("▼ours"));
    assert!(s.contains("known, saved to known.toml"), "{s}");
    let marked_at = stream_time(&s).unwrap();
    wait_until(&tmux, "the mark in the alert log", || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("\"marked_known\":true"))
    });
    let file = std::fs::read_to_string(&known).unwrap();
    assert!(
        file.contains("[[known]]") && file.contains("note = \"ours\""),
        "{file}"
    );
    assert!(file.contains("freq_hz = 43371"), "{file}");

    // Two more loops: the carrier came back on each, and nothing was raised for it.
    wait_loops(&tmux, marked_at, 2.0);
    let later: Vec<_> = carrier_raises(&log)
        .into_iter()
        .filter(|v| v["first_seen_s"].as_f64().unwrap() > marked_at)
        .collect();
    assert!(later.is_empty(), "raised after the mark: {later:?}");
    tmux.keys(&["q"]);
    let s = tmux.wait("a clean exit", |s| s.contains("KUZET_EXIT="));
    assert!(s.contains("KUZET_EXIT=0"), "{s}");

    // The file the console wrote is a known-emitters file like any other: a headless run
    // with it raises nothing for the carrier.
    let out = Command::new(BIN)
        .arg("analyze")
        .arg(&capture)
        .arg("--known")
        .arg(&known)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let carrier: Vec<_> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| {
            v["kind"] == "new_emitter"
                && (v["freq_hz"].as_f64().unwrap_or(0.0) - 433.72e6).abs() < 5e3
        })
        .collect();
    assert!(carrier.is_empty(), "{carrier:?}");
}

#[test]
fn suppressing_in_tmux_hides_the_alert_and_the_log_keeps_it() {
    if !tmux_available() {
        eprintln!("skipping suppress in tmux: tmux is not installed (apt-get install tmux)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (capture, log) = (dir.path().join("onoff.h5"), dir.path().join("alerts.jsonl"));
    synth_on_off(&capture);
    let tmux = console(
        "suppress",
        &format!(
            "'{}' --loop --speed 4 --alerts '{}'",
            capture.display(),
            log.display()
        ),
    );
    tmux.wait("the carrier on the desk", |s| desk(s).contains("433.7200"));
    // s, then 2: the emitter for an hour.
    tmux.keys(&["s"]);
    tmux.wait("the duration menu", |s| {
        s.contains("suppress new_emitter at 433.7200 MHz for  1 15 min  2 1 h  3 8 h")
    });
    tmux.keys(&["2"]);
    let s = tmux.wait("the desk without it", |s| {
        desk(s).contains("1 suppressed") && !desk(s).contains("433.7200")
    });
    assert!(
        s.contains("suppressed new_emitter at 433.7200 MHz for 1 h (logged)"),
        "{s}"
    );
    let suppressed_at = stream_time(&s).unwrap();
    // Two more loops, each raising the carrier again: the desk never shows it.
    wait_loops(&tmux, suppressed_at, 2.0);
    let s = tmux.screen();
    assert!(
        !desk(&s).contains("433.7200") && desk(&s).contains("1 suppressed"),
        "{s}"
    );
    // Nothing is deleted: the raises go on in the log, beside the suppression.
    let later = carrier_raises(&log)
        .into_iter()
        .filter(|v| v["first_seen_s"].as_f64().unwrap() > suppressed_at)
        .count();
    assert!(later >= 1, "the log lost the suppressed alerts");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("\"suppressed\":true")
            && logged.contains("\"suppressed_scope\":\"emitter\""),
        "{logged}"
    );

    // u lists it; Del lifts it and the desk has the carrier again.
    tmux.keys(&["u"]);
    tmux.wait("the list", |s| {
        s.contains("SUPPRESSED") && s.contains("new_emitter at 433.7200 MHz")
    });
    tmux.keys(&["DC", "u"]);
    tmux.wait("the carrier back on the desk", |s| {
        let d = desk(s);
        d.contains("433.7200") && !d.contains("suppressed")
    });
    wait_until(&tmux, "the lifting in the log", || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("suppression_lifted_utc"))
    });
    tmux.keys(&["q"]);
    let s = tmux.wait("a clean exit", |s| s.contains("KUZET_EXIT="));
    assert!(s.contains("KUZET_EXIT=0"), "{s}");
}

#[test]
fn a_critical_alert_rings_and_runs_the_on_critical_command_in_tmux() {
    if !tmux_available() {
        eprintln!("skipping the bell in tmux: tmux is not installed (apt-get install tmux)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (capture, paged, raw) = (
        dir.path().join("jam.h5"),
        dir.path().join("paged.jsonl"),
        dir.path().join("raw.out"),
    );
    // A barrage jammer in UHF land mobile, where the default plan makes jamming critical.
    let out = Command::new(BIN)
        .args(["synth", "-o"])
        .arg(&capture)
        .args(["--rate", "1M", "--freq", "450M", "--duration", "4s"])
        .args(["--emitter", "jammer:0:15:1:3"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tmux = console(
        "bell",
        &format!(
            "'{}' --on-critical 'cat >> {}'",
            capture.display(),
            paged.display()
        ),
    );
    // What kuzet writes to the terminal, bytes and all (the jammer starts 1 s in).
    let piped = tmux.cmd(&[
        "pipe-pane",
        "-t",
        "k",
        &format!("cat >> '{}'", raw.display()),
    ]);
    assert!(piped.status.success(), "{piped:?}");
    tmux.wait("the critical alert and its bell", |s| {
        s.contains("CRIT") && s.contains("jamming") && s.contains("BELL critical #")
    });
    wait_until(&tmux, "the command's output", || {
        std::fs::read_to_string(&paged).is_ok_and(|p| p.ends_with('\n'))
    });
    let paged = std::fs::read_to_string(&paged).unwrap();
    let lines: Vec<serde_json::Value> = paged
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "once per alert: {paged}");
    assert_eq!(lines[0]["kind"], "jamming");
    assert_eq!(lines[0]["severity"], "critical");
    // The terminal got the bell character.
    wait_until(&tmux, "the bell on the terminal", || {
        std::fs::read(&raw).is_ok_and(|b| b.contains(&0x07))
    });
    tmux.keys(&["q"]);
    let s = tmux.wait("a clean exit", |s| s.contains("KUZET_EXIT="));
    assert!(s.contains("KUZET_EXIT=0"), "{s}");
}
