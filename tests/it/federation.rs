//! Federation with a real broker: each test starts its own Mosquitto (Debian's
//! `/usr/sbin/mosquitto`) on a free loopback port, with its config and persistence in a
//! tempdir, and kills it when dropped. Posts are the real binary; so is HQ (`kuzet hq
//! --headless`, whose stdout is the merged stream).
//!
//! The alert source: `kuzet synth` writes an 8 s scene at 250 kS/s with 40 carriers, each
//! on for 0.3 s at its own frequency, one every 0.2 s; `kuzet replay --loop --speed 1`
//! paces it at real time, which gives at least a raised and a cleared line per carrier: an
//! alert line every 100 ms or more often (about three with the current detector), the same
//! lines on every run (the detector is deterministic).
//! Nothing here asserts on a duration: every wait is on a condition, with deadlines far
//! beyond what a loaded machine needs.
//!
//! What HQ received is compared with the post's alert log (the outbox): every line of it,
//! once, in log order, with seqs 0, 1, 2, ….

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use kuzet::alert::Alert;
use kuzet::sinks::federation::AlertMessage;

use crate::support::{kuzet, kuzet_ok, tmp};

const BIN: &str = env!("CARGO_BIN_EXE_kuzet");
const MOSQUITTO: &str = "/usr/sbin/mosquitto";

/// A generous deadline for anything that should take seconds.
const PATIENCE: Duration = Duration::from_secs(90);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until `ok()` holds; panics naming `what` (and showing `detail()`) if it never
/// does within [`PATIENCE`].
fn wait_until(what: &str, mut ok: impl FnMut() -> bool, detail: impl Fn() -> String) {
    let t0 = Instant::now();
    while !ok() {
        assert!(
            t0.elapsed() < PATIENCE,
            "timed out waiting for {what}\n{}",
            detail()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

/// A Mosquitto of the test's own, with persistence, killed when dropped.
struct Broker {
    conf: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Broker {
    /// Writes the config into `dir` (`extra` lines added) and starts the broker.
    fn start(dir: &Path, extra: &str) -> Broker {
        assert!(
            Path::new(MOSQUITTO).exists(),
            "{MOSQUITTO} is required (apt-get install mosquitto; scripts/setup.sh --test)"
        );
        let port = free_port();
        let store = dir.join("store");
        std::fs::create_dir_all(&store).unwrap();
        // Run as root, Mosquitto switches to its own user unless told otherwise, and
        // could not write its store in our tempdir.
        let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
        let conf = dir.join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "{}listener {port} 127.0.0.1\n{extra}\npersistence true\npersistence_location {}/\n\
                 autosave_interval 1\nmax_queued_messages 0\nlog_dest file {}\n",
                if root { "user root\n" } else { "" },
                store.display(),
                dir.join("mosquitto.log").display(),
            ),
        )
        .unwrap();
        let mut b = Broker {
            conf,
            port,
            child: None,
        };
        b.resume();
        b
    }

    fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// Starts (again) on the same port and store; returns once it accepts connections.
    fn resume(&mut self) {
        assert!(self.child.is_none());
        let child = Command::new(MOSQUITTO)
            .arg("-c")
            .arg(&self.conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let port = self.port;
        wait_until(
            "mosquitto to listen",
            || TcpStream::connect(("127.0.0.1", port)).is_ok(),
            || {
                std::fs::read_to_string(self.conf.with_file_name("mosquitto.log"))
                    .unwrap_or_default()
            },
        );
    }

    /// Stops it as an operator would (SIGTERM: it saves its store) and waits for it.
    fn stop(&mut self) {
        let mut child = self.child.take().unwrap();
        signal(&child, "-TERM");
        child.wait().unwrap();
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A kuzet process whose stdout and stderr go to files; killed when dropped.
struct Proc {
    child: Option<Child>,
    out: PathBuf,
    err: PathBuf,
}

impl Proc {
    fn spawn(dir: &Path, name: &str, args: &[&str], env: &[(&str, &str)]) -> Proc {
        let out = dir.join(format!("{name}.out"));
        let err = dir.join(format!("{name}.err"));
        let child = Command::new(BIN)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .unwrap();
        Proc {
            child: Some(child),
            out,
            err,
        }
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    /// Waits for the process to exit by itself; panics with its stderr when it fails.
    fn wait_ok(&mut self) {
        let mut child = self.child.take().unwrap();
        let t0 = Instant::now();
        loop {
            if let Some(st) = child.try_wait().unwrap() {
                assert!(st.success(), "kuzet failed ({st}):\n{}", self.stderr());
                return;
            }
            assert!(
                t0.elapsed() < PATIENCE,
                "kuzet did not finish:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGKILL, as a power cut or the OOM killer would.
    fn kill_hard(&mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Ctrl-C, then waits.
    fn interrupt(&mut self) {
        let mut child = self.child.take().unwrap();
        signal(&child, "-INT");
        let st = child.wait().unwrap();
        assert!(st.success(), "{st}:\n{}", self.stderr());
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// HQ, headless, subscribed (its session exists at the broker) before it returns.
fn start_hq(dir: &Path, url: &str, env: &[(&str, &str)], more: &[&str]) -> Proc {
    let state = dir.join("hq-state");
    let mut args = vec![
        "hq",
        "--mqtt",
        url,
        "--headless",
        "--id",
        "test-hq",
        "--state-dir",
        state.to_str().unwrap(),
    ];
    args.extend_from_slice(more);
    let hq = Proc::spawn(dir, "hq", &args, env);
    wait_until(
        "HQ to subscribe",
        || hq.stderr().contains("subscribed to kuzet/+/alerts"),
        || hq.stderr(),
    );
    hq
}

/// The 8 s scene of many short carriers (see the module doc).
fn scene(dir: &Path) -> PathBuf {
    let path = dir.join("scene.h5");
    let mut args = vec![
        "synth".to_string(),
        "-o".into(),
        path.to_str().unwrap().into(),
        "--rate".into(),
        "250k".into(),
        "--duration".into(),
        "8".into(),
        "--format".into(),
        "ci8".into(),
    ];
    for k in 0..40 {
        let start = 0.2 * k as f64;
        args.push("--emitter".into());
        args.push(format!(
            "cw:{}:25:{start:.1}:{:.1}",
            -100_000 + 5_000 * k,
            start + 0.3
        ));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    kuzet_ok(&args);
    path
}

/// A post replaying `scene` at real time, looping, for `seconds`, publishing as `post`
/// with its outbox at `log`.
fn start_post(
    dir: &Path,
    name: &str,
    scene: &Path,
    seconds: u32,
    url: &str,
    log: &Path,
    more: &[&str],
) -> Proc {
    let duration = format!("{seconds}s");
    let state = dir.join("post-state");
    let mut args = vec![
        "replay",
        scene.to_str().unwrap(),
        "--loop",
        "--speed",
        "1",
        "--headless",
        "--duration",
        &duration,
        "--alerts",
        log.to_str().unwrap(),
        "--mqtt",
        url,
        "--post",
        "p1",
        "--state-dir",
        state.to_str().unwrap(),
        "--mqtt-drain",
        "90s",
    ];
    args.extend_from_slice(more);
    Proc::spawn(dir, name, &args, &[])
}

fn lines(path: &Path) -> Vec<String> {
    match std::fs::File::open(path) {
        Ok(f) => BufReader::new(f)
            .lines()
            .map_while(Result::ok)
            .filter(|l| !l.is_empty())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// HQ's merged stream, parsed.
fn received(hq: &Proc) -> Vec<AlertMessage> {
    lines(&hq.out)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad HQ line {l}: {e}")))
        .collect()
}

/// Every line of the post's log reached HQ once, in order, with seq = line index.
fn assert_delivered(log: &Path, hq: &Proc) {
    let logged: Vec<Alert> = lines(log)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got = received(hq);
    let seqs: Vec<u64> = got.iter().map(|m| m.seq).collect();
    let want: Vec<u64> = (0..logged.len() as u64).collect();
    assert_eq!(seqs, want, "every line once, in order");
    for (m, a) in got.iter().zip(&logged) {
        assert_eq!(m.post, "p1");
        assert_eq!(&m.alert, a, "seq {}", m.seq);
    }
}

/// (a) The broker stops for 30 s in the middle of a run with an alert line every 100 ms:
/// HQ still gets every line, once, in order.
#[test]
fn a_broker_outage_of_30_s_loses_nothing() {
    let dir = tmp();
    let d = dir.path();
    let scene = scene(d);
    let mut broker = Broker::start(d, "allow_anonymous true");
    let mut hq = start_hq(d, &broker.url(), &[], &[]);
    let log = d.join("alerts.jsonl");
    let mut post = start_post(d, "post", &scene, 36, &broker.url(), &log, &[]);
    wait_until(
        "HQ to hear 20 alerts",
        || received(&hq).len() >= 20,
        || post.stderr(),
    );
    broker.stop();
    let at_stop = lines(&log).len();
    // The broker stays away 30 s (the outage the issue asks for, not a measurement); the
    // post keeps monitoring meanwhile: its log grows though nothing can be sent.
    std::thread::sleep(Duration::from_secs(30));
    wait_until(
        "the post to log 30 lines during the outage",
        || lines(&log).len() >= at_stop + 30,
        || post.stderr(),
    );
    broker.resume();
    post.wait_ok();
    let logged = lines(&log).len();
    wait_until(
        "HQ to receive the whole log",
        || received(&hq).len() >= logged,
        || {
            format!(
                "HQ has {} of {logged}\n{}",
                received(&hq).len(),
                hq.stderr()
            )
        },
    );
    hq.interrupt();
    assert_delivered(&log, &hq);
    let err = post.stderr();
    assert_eq!(
        err.matches("no link to").count(),
        1,
        "said once per outage:\n{err}"
    );
    assert!(err.contains("backlog 0, lost 0"), "{err}");
}

/// (b) A post killed with SIGKILL mid-run — during an outage, with a backlog in its
/// outbox — and restarted on the same log sends everything; lines resent from a cursor
/// that lagged (as after a crash between an acknowledgement and the cursor's write) are
/// dropped by HQ.
#[test]
fn a_post_killed_mid_run_resumes_from_its_cursor() {
    let dir = tmp();
    let d = dir.path();
    let scene = scene(d);
    let mut broker = Broker::start(d, "allow_anonymous true");
    let mut hq = start_hq(d, &broker.url(), &[], &[]);
    let log = d.join("alerts.jsonl");
    let cursor = d.join("post-state/cursor/p1.json");
    let mut post = start_post(d, "post", &scene, 600, &broker.url(), &log, &[]);
    wait_until(
        "HQ to hear 10 alerts",
        || received(&hq).len() >= 10,
        || post.stderr(),
    );
    let early_cursor = std::fs::read(&cursor).unwrap();
    let early_seq = serde_json::from_slice::<serde_json::Value>(&early_cursor).unwrap()["seq"]
        .as_u64()
        .unwrap();
    // Well past the early cursor, so that the restart has lines to send again.
    wait_until(
        "HQ to hear 10 alerts past the early cursor",
        || received(&hq).len() as u64 >= early_seq + 10,
        || post.stderr(),
    );
    broker.stop();
    // HQ has every seq below this; the stale cursor makes the post send them again.
    let shown = received(&hq).len() as u64;
    let at_stop = lines(&log).len();
    wait_until(
        "a backlog of 15 lines",
        || lines(&log).len() >= at_stop + 15,
        || post.stderr(),
    );
    post.kill_hard();
    // The crash also lost the cursor's latest writes.
    std::fs::write(&cursor, &early_cursor).unwrap();
    broker.resume();
    let mut again = start_post(d, "again", &scene, 3, &broker.url(), &log, &[]);
    again.wait_ok();
    assert!(
        again.stderr().contains("resuming the outbox"),
        "{}",
        again.stderr()
    );
    let logged = lines(&log).len();
    wait_until(
        "HQ to receive the whole log",
        || received(&hq).len() >= logged,
        || {
            format!(
                "HQ has {} of {logged}\n{}",
                received(&hq).len(),
                hq.stderr()
            )
        },
    );
    hq.interrupt();
    assert_delivered(&log, &hq);
    let summary = hq.stderr();
    let repeats: u64 = summary
        .split("; ")
        .find_map(|p| p.strip_suffix(" repeat(s) dropped"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no summary:\n{summary}"));
    assert!(
        shown > early_seq && repeats >= shown - early_seq,
        "the stale cursor's {} resends were dropped: {summary}",
        shown - early_seq
    );
}

/// (c) A broker that is down when the post starts: monitoring goes on, the post says so
/// once, and everything goes out once the broker is up.
#[test]
fn a_broker_down_at_start_gets_the_backlog_when_it_comes_up() {
    let dir = tmp();
    let d = dir.path();
    let scene = scene(d);
    let mut broker = Broker::start(d, "allow_anonymous true");
    // HQ's session is made, then the broker goes away before the post starts.
    let mut hq = start_hq(d, &broker.url(), &[], &[]);
    broker.stop();
    let log = d.join("alerts.jsonl");
    let mut post = start_post(d, "post", &scene, 12, &broker.url(), &log, &[]);
    wait_until(
        "20 lines in the outbox",
        || lines(&log).len() >= 20,
        || post.stderr(),
    );
    wait_until(
        "the post to say the broker is away",
        || post.stderr().contains("no link to"),
        || post.stderr(),
    );
    assert!(received(&hq).is_empty());
    broker.resume();
    post.wait_ok();
    // Its stdout had every alert all along: monitoring never waited for the broker.
    assert_eq!(post.stdout().lines().count(), lines(&log).len());
    let logged = lines(&log).len();
    wait_until(
        "HQ to receive the whole log",
        || received(&hq).len() >= logged,
        || {
            format!(
                "HQ has {} of {logged}\n{}",
                received(&hq).len(),
                hq.stderr()
            )
        },
    );
    hq.interrupt();
    assert_delivered(&log, &hq);
    assert_eq!(post.stderr().matches("no link to").count(), 1);

    // HQ restarts with its memory; the post's cursor is wound back to the start of its log,
    // so it sends every line again: the restarted HQ shows none of them.
    let hq2 = start_hq(d, &broker.url(), &[], &[]);
    let cursor = d.join("post-state/cursor/p1.json");
    let mut c: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&cursor).unwrap()).unwrap();
    c["offset"] = 0.into();
    c["seq"] = 0.into();
    std::fs::write(&cursor, serde_json::to_vec(&c).unwrap()).unwrap();
    let mut resend = start_post(d, "resend", &scene, 1, &broker.url(), &log, &[]);
    resend.wait_ok();
    let all = lines(&log).len();
    let mut hq2 = hq2;
    // Offline (retained, on subscribing), online, offline again once the resend run has
    // stopped cleanly, after its last line.
    wait_until(
        "HQ to hear the resend run stop",
        || hq2.stderr().matches("post p1 is offline").count() >= 2,
        || hq2.stderr(),
    );
    hq2.interrupt();
    let fresh = received(&hq2);
    assert!(
        fresh.iter().all(|m| m.seq >= logged as u64),
        "only the resend run's own new lines: {:?}",
        fresh.iter().map(|m| m.seq).collect::<Vec<_>>()
    );
    assert_eq!(fresh.len(), all - logged);
    assert!(
        hq2.stderr()
            .contains(&format!("{logged} repeat(s) dropped")),
        "{}",
        hq2.stderr()
    );
}

/// Runs kuzet and checks the bad-input contract: exit 2, one line on stderr naming `flag`.
fn fails_naming(args: &[&str], env: &[(&str, &str)], flag: &str) {
    let out: Output = Command::new(BIN)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: one line, got {err}");
    assert!(err.contains(flag), "{args:?} names {flag}: {err}");
    assert!(out.stdout.is_empty());
}

/// (d) A bad URL or TLS file stops the command before it starts, exit 2, one line naming
/// the flag; an unreachable broker is not an error.
#[test]
fn bad_urls_and_tls_files_exit_2_and_an_unreachable_broker_does_not() {
    let dir = tmp();
    let d = dir.path();
    let cap = d.join("noise.h5");
    kuzet_ok(&[
        "synth",
        "-o",
        cap.to_str().unwrap(),
        "--rate",
        "250k",
        "--duration",
        "2",
        "--emitter",
        "cw:50k:25:0.5",
    ]);
    let cap = cap.to_str().unwrap();
    let garbage = d.join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    let garbage = garbage.to_str().unwrap();
    let auth = d.join("auth.txt");
    std::fs::write(&auth, "no colon here\n").unwrap();
    let auth = auth.to_str().unwrap();
    let st = d.join("state");
    let st = st.to_str().unwrap();
    for (args, flag) in [
        (vec!["--mqtt", "tcp://127.0.0.1:1883"], "--mqtt"),
        (vec!["--mqtt", "mqtt://127.0.0.1:0"], "--mqtt"),
        (vec!["--mqtt", "mqtt://user:pw@127.0.0.1"], "--mqtt"),
        (vec!["--mqtt", "mqtts://127.0.0.1:8883"], "--mqtt-ca"),
        (
            vec![
                "--mqtt",
                "mqtts://127.0.0.1:8883",
                "--mqtt-ca",
                "/nonexistent/ca.pem",
            ],
            "--mqtt-ca",
        ),
        (
            vec!["--mqtt", "mqtts://127.0.0.1:8883", "--mqtt-ca", garbage],
            "--mqtt-ca",
        ),
        (
            vec!["--mqtt", "mqtt://127.0.0.1:1883", "--mqtt-ca", garbage],
            "--mqtt-ca",
        ),
        (
            vec!["--mqtt", "mqtt://127.0.0.1:1883", "--mqtt-auth", auth],
            "--mqtt-auth",
        ),
        (
            vec!["--mqtt", "mqtt://127.0.0.1:1883", "--post", "a/b"],
            "--post",
        ),
    ] {
        let mut all = vec!["analyze", cap, "--state-dir", st];
        all.extend(args);
        fails_naming(&all, &[], flag);
    }
    fails_naming(&["hq", "--mqtt", "http://hq"], &[], "--mqtt");
    fails_naming(
        &[
            "hq",
            "--mqtt",
            "mqtts://127.0.0.1:8883",
            "--mqtt-ca",
            garbage,
        ],
        &[],
        "--mqtt-ca",
    );

    // Nothing listens on this port: the run completes, exit 0, alerts on stdout, the
    // backlog stays in the outbox (the default one under the state dir) for next time.
    let port = free_port();
    let url = format!("mqtt://127.0.0.1:{port}");
    let out = kuzet(&[
        "analyze",
        cap,
        "--mqtt",
        &url,
        "--post",
        "lonely",
        "--state-dir",
        st,
        "--mqtt-drain",
        "1s",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!out.stdout.is_empty(), "alerts on stdout");
    let outbox = d.join("state/outbox/lonely.jsonl");
    assert!(
        err.contains("no --alerts given") && err.contains("lonely.jsonl"),
        "{err}"
    );
    assert!(
        err.contains("no link to") && err.contains("stay in"),
        "{err}"
    );
    assert_eq!(
        lines(&outbox).len(),
        String::from_utf8_lossy(&out.stdout).lines().count()
    );
}

/// `mqtts://` with a CA file and a login: a test CA (openssl) signs the broker's
/// certificate; the post logs in from `--mqtt-auth FILE`, HQ from the environment; an
/// anonymous client is refused, so the login is what let them in.
#[test]
fn tls_and_logins_from_a_file_and_the_environment() {
    let dir = tmp();
    let d = dir.path();
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(d)
            .output()
            .expect("openssl is required (scripts/setup.sh --test)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=kuzet test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(d.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ]);
    let pw = d.join("passwd");
    std::fs::write(&pw, "").unwrap();
    for (user, pass) in [("post1", "s3cret:with:colons"), ("hq", "hq-pass")] {
        let ok = Command::new("mosquitto_passwd")
            .args(["-b", pw.to_str().unwrap(), user, pass])
            .status()
            .unwrap()
            .success();
        assert!(ok, "mosquitto_passwd");
    }
    let extra = format!(
        "allow_anonymous false\npassword_file {}\ncafile {}\ncertfile {}\nkeyfile {}",
        pw.display(),
        d.join("ca.pem").display(),
        d.join("server.pem").display(),
        d.join("server.key").display()
    );
    let broker = Broker::start(d, &extra);
    let url = format!("mqtts://127.0.0.1:{}", broker.port);
    let ca = d.join("ca.pem");
    let ca = ca.to_str().unwrap();
    let mut hq = start_hq(
        d,
        &url,
        &[
            ("KUZET_MQTT_USER", "hq"),
            ("KUZET_MQTT_PASSWORD", "hq-pass"),
        ],
        &["--mqtt-ca", ca],
    );
    let auth = d.join("post.auth");
    std::fs::write(&auth, "post1:s3cret:with:colons\n").unwrap();
    let cap = d.join("c.h5");
    kuzet_ok(&[
        "synth",
        "-o",
        cap.to_str().unwrap(),
        "--rate",
        "250k",
        "--duration",
        "2",
        "--emitter",
        "cw:50k:25:0.5",
    ]);
    let log = d.join("alerts.jsonl");
    let st = d.join("st");
    let post = kuzet(&[
        "analyze",
        cap.to_str().unwrap(),
        "--alerts",
        log.to_str().unwrap(),
        "--mqtt",
        &url,
        "--mqtt-ca",
        ca,
        "--mqtt-auth",
        auth.to_str().unwrap(),
        "--post",
        "p1",
        "--state-dir",
        st.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&post.stderr);
    assert!(post.status.success(), "{err}");
    assert!(err.contains("backlog 0"), "{err}");
    let logged = lines(&log).len();
    assert!(logged >= 2, "{err}");
    wait_until(
        "HQ to receive the log over TLS",
        || received(&hq).len() >= logged,
        || hq.stderr(),
    );
    hq.interrupt();
    assert_delivered(&log, &hq);

    // Without the login the broker refuses: the post says so, keeps its backlog, exit 0.
    let anon = kuzet(&[
        "analyze",
        cap.to_str().unwrap(),
        "--mqtt",
        &url,
        "--mqtt-ca",
        ca,
        "--post",
        "anon",
        "--state-dir",
        st.to_str().unwrap(),
        "--mqtt-drain",
        "1s",
    ]);
    let err = String::from_utf8_lossy(&anon.stderr);
    assert!(anon.status.success(), "{err}");
    assert!(
        err.contains("no link to") && err.contains("stay in"),
        "{err}"
    );
}

/// A long outage's backlog, written into the outbox with its cursor at the start (as if the
/// post had logged it all while the broker was away), over the quota: the oldest info lines
/// are given up, every warning and the newest info lines go out in one burst, in order, and
/// the loss is reported.
#[test]
fn a_backlog_over_the_quota_gives_up_the_oldest_info_lines() {
    use kuzet::alert::{AlertKind, AlertState, Severity};
    use kuzet::sinks::federation::{Cursor, LogId};
    let dir = tmp();
    let d = dir.path();
    let broker = Broker::start(d, "allow_anonymous true");
    let mut hq = start_hq(d, &broker.url(), &[], &[]);
    let log = d.join("alerts.jsonl");
    let mut text = String::new();
    let mut warnings = Vec::new();
    for i in 0..4000u64 {
        let severity = if i % 8 == 0 {
            warnings.push(i);
            Severity::Warning
        } else {
            Severity::Info
        };
        let a = Alert {
            id: i + 1,
            kind: AlertKind::NewEmitter,
            state: AlertState::Raised,
            severity,
            first_seen_s: i as f64,
            last_seen_s: i as f64,
            freq_hz: 433.92e6,
            bandwidth_hz: 12_500.0,
            power_dbfs: -40.0,
            snr_db: 20.0,
            band: None,
            evidence: None,
            activity: None,
        };
        text += &serde_json::to_string(&a).unwrap();
        text.push('\n');
    }
    std::fs::write(&log, &text).unwrap();
    let state = d.join("post-state");
    std::fs::create_dir_all(state.join("cursor")).unwrap();
    let cursor = Cursor {
        log: LogId::of(&log).unwrap(),
        offset: 0,
        seq: 0,
        next_unused: 0,
        dropped: Vec::new(),
        lost: 0,
    };
    std::fs::write(
        state.join("cursor/p1.json"),
        serde_json::to_vec(&cursor).unwrap(),
    )
    .unwrap();
    // A capture too short to alert: the run's work is the backlog.
    let cap = d.join("quiet.h5");
    kuzet_ok(&[
        "synth",
        "-o",
        cap.to_str().unwrap(),
        "--rate",
        "250k",
        "--duration",
        "0.2",
    ]);
    let out = kuzet(&[
        "analyze",
        cap.to_str().unwrap(),
        "--alerts",
        log.to_str().unwrap(),
        "--mqtt",
        &broker.url(),
        "--post",
        "p1",
        "--state-dir",
        state.to_str().unwrap(),
        "--mqtt-quota",
        "1000",
        "--mqtt-drain",
        "90s",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("published 1000, acknowledged 1000, backlog 0, lost 3000"),
        "{err}"
    );
    // Kept: all 500 warnings and the newest 500 info lines.
    let newest_info: Vec<u64> = (0..4000u64)
        .filter(|i| i % 8 != 0)
        .rev()
        .take(500)
        .collect();
    let mut want: Vec<u64> = warnings.iter().copied().chain(newest_info).collect();
    want.sort_unstable();
    wait_until(
        "HQ to receive the kept lines",
        || received(&hq).len() >= 1000,
        || hq.stderr(),
    );
    hq.interrupt();
    let got: Vec<u64> = received(&hq).iter().map(|m| m.seq).collect();
    assert_eq!(got, want);
}
