#!/usr/bin/env python3
"""Federation figures (issue 16): a benchmark, not a test. Starts its own Mosquitto on a free
loopback port (persistence on, store in a tempdir), HQ (`kuzet hq --headless`) and posts (the
real binary), and prints the figures that docs/federation.md records.

  1. latency   alert-to-HQ latency with the link up: one post replays the test scene at real
               time for 60 s; the harness timestamps each alert line as the post writes it to
               stdout (right after its alert log) and as HQ writes it; median and p99.
  2. soak      5 minutes of one post replaying the scene (~30 alert lines/s with the current
               detector, ~10 with the first-round one) with three broker outages (SIGTERM,
               restarted on the same store) and one SIGKILL of the post (restarted on the same
               outbox): lines lost (in the post's log, never at HQ), duplicates in HQ's output,
               repeats HQ dropped.
  3. posts     50 posts (processes) at once: (a) live, each replaying at real time for 60 s —
               messages/s through the broker, HQ's lag, CPU per post; (b) burst, each with a
               backlog of 2,000 lines flushed at once (as after an outage) — messages/s end to
               end, CPU per post while publishing.

Usage: scripts/federation-figures.py [--quick] [--bin target/release/kuzet]
Needs /usr/sbin/mosquitto (scripts/setup.sh --test). Build first: cargo build --release.
"""

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

MOSQUITTO = "/usr/sbin/mosquitto"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Broker:
    def __init__(self, d):
        self.port = free_port()
        store = os.path.join(d, "store")
        os.makedirs(store, exist_ok=True)
        self.conf = os.path.join(d, "mosquitto.conf")
        with open(self.conf, "w") as f:
            if os.getuid() == 0:
                f.write("user root\n")
            f.write(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n")
            f.write(f"persistence true\npersistence_location {store}/\nautosave_interval 1\n")
            f.write("max_queued_messages 0\nmax_inflight_messages 100\n")
            f.write(f"log_dest file {d}/mosquitto.log\n")
        self.proc = None
        self.start()

    @property
    def url(self):
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self):
        self.proc = subprocess.Popen([MOSQUITTO, "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("mosquitto did not start")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait()

    def cpu_s(self):
        return proc_cpu(self.proc.pid)


def proc_cpu(pid):
    """CPU seconds (user + system) of a running process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Lines:
    """Reads a process's stdout in a thread, timestamping each line as it arrives."""

    def __init__(self, proc):
        self.items = []
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self.run, args=(proc,), daemon=True)
        self.t.start()

    def run(self, proc):
        for line in proc.stdout:
            t = time.monotonic()
            with self.lock:
                self.items.append((t, line))

    def snapshot(self):
        with self.lock:
            return list(self.items)


def start_hq(kuzet, d, url):
    p = subprocess.Popen([kuzet, "hq", "--mqtt", url, "--headless", "--id", "bench-hq",
                          "--state-dir", os.path.join(d, "hq-state")],
                         stdout=subprocess.PIPE, stderr=open(os.path.join(d, "hq.err"), "w"),
                         text=True, bufsize=1)
    out = Lines(p)
    wait(lambda: "subscribed" in open(os.path.join(d, "hq.err")).read(), 30, "HQ subscribed")
    return p, out


def stop_hq(p, d):
    p.send_signal(signal.SIGINT)
    p.wait()
    return open(os.path.join(d, "hq.err")).read()


def wait(cond, timeout, what):
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise SystemExit(f"timed out: {what}")
        time.sleep(0.05)


def scene(kuzet, d):
    path = os.path.join(d, "scene.h5")
    args = [kuzet, "synth", "-o", path, "--rate", "250k", "--duration", "8", "--format", "ci8"]
    for k in range(40):
        args += ["--emitter", f"cw:{-100000 + 5000 * k}:25:{0.2 * k:.1f}:{0.2 * k + 0.3:.1f}"]
    subprocess.run(args, check=True, stderr=subprocess.DEVNULL)
    return path


def post_args(kuzet, sc, seconds, url, log, post, state):
    return [kuzet, "replay", sc, "--loop", "--speed", "1", "--headless", "--duration",
            f"{seconds}s", "--alerts", log, "--mqtt", url, "--post", post, "--state-dir", state,
            "--mqtt-drain", "60s", "--workers", "1"]


def messages(lines, post=None):
    out = []
    for _, l in lines:
        m = json.loads(l)
        if post is None or m["post"] == post:
            out.append(m)
    return out


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def latency(kuzet, d, seconds):
    broker = Broker(d)
    hq, hq_out = start_hq(kuzet, d, broker.url)
    sc = scene(kuzet, d)
    log = os.path.join(d, "lat.jsonl")
    post = subprocess.Popen(post_args(kuzet, sc, seconds, broker.url, log, "lat",
                                      os.path.join(d, "st")),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            bufsize=1)
    post_out = Lines(post)
    post.wait()
    post_out.t.join()
    n = len(post_out.snapshot())
    wait(lambda: len(hq_out.snapshot()) >= n, 60, "HQ has every line")
    stop_hq(hq, d)
    broker.stop()
    sent = post_out.snapshot()
    got = {json.loads(l)["seq"]: t for t, l in hq_out.snapshot()}
    lat = [(got[i] - t) * 1e3 for i, (t, _) in enumerate(sent) if i in got]
    return {
        "lines": n,
        "median_ms": round(statistics.median(lat), 2),
        "p99_ms": round(pct(lat, 0.99), 2),
        "max_ms": round(max(lat), 2),
    }


def soak(kuzet, d, total_s, outages, kill_at):
    broker = Broker(d)
    hq, hq_out = start_hq(kuzet, d, broker.url)
    sc = scene(kuzet, d)
    log = os.path.join(d, "soak.jsonl")
    st = os.path.join(d, "st")
    t0 = time.monotonic()
    post = subprocess.Popen(post_args(kuzet, sc, total_s, broker.url, log, "soak", st),
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, "p1.err"), "w"))
    events = sorted([(a, "stop") for a, _ in outages] + [(a + b, "start") for a, b in outages]
                    + [(kill_at, "kill")])
    down_s = 0.0
    for at, what in events:
        time.sleep(max(0.0, t0 + at - time.monotonic()))
        if what == "stop":
            broker.stop()
        elif what == "start":
            broker.start()
        else:
            post.kill()
            post.wait()
            left = max(5, int(total_s - (time.monotonic() - t0)))
            post = subprocess.Popen(post_args(kuzet, sc, left, broker.url, log, "soak", st),
                                    stdout=subprocess.DEVNULL,
                                    stderr=open(os.path.join(d, "p2.err"), "w"))
    post.wait()
    with open(log) as f:
        logged = sum(1 for l in f if l.strip())
    wait(lambda: len(hq_out.snapshot()) >= logged, 120, "HQ has the whole log")
    time.sleep(2)
    summary = stop_hq(hq, d)
    broker.stop()
    seqs = [m["seq"] for m in messages(hq_out.snapshot())]
    repeats = 0
    for part in summary.split("; "):
        if part.endswith(" repeat(s) dropped"):
            repeats = int(part.split()[0])
    return {
        "seconds": round(time.monotonic() - t0),
        "logged": logged,
        "at_hq": len(set(seqs)),
        "lost": len(set(range(logged)) - set(seqs)),
        "duplicates_in_hq_output": len(seqs) - len(set(seqs)),
        "in_order": seqs == sorted(seqs),
        "repeats_dropped_by_hq": repeats,
        "outages": len(outages),
        "sigkills": 1,
    }


def many_live(kuzet, d, posts, seconds):
    broker = Broker(d)
    hq, hq_out = start_hq(kuzet, d, broker.url)
    sc = scene(kuzet, d)
    procs = []
    b0, h0 = broker.cpu_s(), proc_cpu(hq.pid)
    t0 = time.monotonic()
    for i in range(posts):
        log = os.path.join(d, f"p{i}.jsonl")
        procs.append((subprocess.Popen(post_args(kuzet, sc, seconds, broker.url, log, f"p{i}",
                                                 os.path.join(d, "st")),
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
                      log))
    cpu = []
    for p, _ in procs:
        _, _, ru = os.wait4(p.pid, 0)
        cpu.append(ru.ru_utime + ru.ru_stime)
    t_posts = time.monotonic()
    logged = 0
    for _, log in procs:
        with open(log) as f:
            logged += sum(1 for l in f if l.strip())
    wait(lambda: len(hq_out.snapshot()) >= logged, 120, "HQ has every post's log")
    lag = hq_out.snapshot()[-1][0] - t_posts
    wall = time.monotonic() - t0
    b1, h1 = broker.cpu_s(), proc_cpu(hq.pid)
    stop_hq(hq, d)
    broker.stop()
    got = messages(hq_out.snapshot())
    return {
        "posts": posts,
        "seconds": seconds,
        "messages": len(got),
        "logged": logged,
        "msgs_per_s": round(len(got) / seconds, 1),
        "hq_done_after_last_post_s": round(max(0.0, lag), 2),
        "cpu_per_post_pct": round(statistics.mean(cpu) / seconds * 100, 2),
        "cpu_per_post_s": round(statistics.mean(cpu), 2),
        "broker_cpu_pct": round((b1 - b0) / wall * 100, 1),
        "hq_cpu_pct": round((h1 - h0) / wall * 100, 1),
    }


def many_burst(kuzet, d, posts, backlog):
    """Each post has `backlog` lines waiting in its outbox (cursor at the start) and a
    capture too short to add any: what it does is publish."""
    broker = Broker(d)
    hq, hq_out = start_hq(kuzet, d, broker.url)
    tiny = os.path.join(d, "tiny.h5")
    subprocess.run([kuzet, "synth", "-o", tiny, "--rate", "250k", "--duration", "0.1"],
                   check=True, stderr=subprocess.DEVNULL)
    line = json.dumps({"id": 1, "kind": "new_emitter", "state": "raised", "severity": "warning",
                       "first_seen_s": 1.0, "last_seen_s": 1.0, "freq_hz": 433.92e6,
                       "bandwidth_hz": 12500.0, "power_dbfs": -40.0, "snr_db": 20.0,
                       "band": "LPD433"}, separators=(",", ":")) + "\n"
    st = os.path.join(d, "st")
    os.makedirs(os.path.join(st, "cursor"), exist_ok=True)
    for i in range(posts):
        log = os.path.join(d, f"b{i}.jsonl")
        with open(log, "w") as f:
            f.write(line * backlog)
        s = os.stat(log)
        with open(os.path.join(st, "cursor", f"b{i}.json"), "w") as f:
            json.dump({"log": {"path": log, "dev": s.st_dev, "ino": s.st_ino}, "offset": 0,
                       "seq": 0, "next_unused": 0, "dropped": [], "lost": 0}, f)
    b0, h0 = broker.cpu_s(), proc_cpu(hq.pid)
    t0 = time.monotonic()
    procs = [subprocess.Popen([kuzet, "analyze", tiny, "--alerts", os.path.join(d, f"b{i}.jsonl"),
                               "--mqtt", broker.url, "--post", f"b{i}", "--state-dir", st,
                               "--mqtt-drain", "120s", "--workers", "1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for i in range(posts)]
    cpu = []
    for p in procs:
        _, _, ru = os.wait4(p.pid, 0)
        cpu.append(ru.ru_utime + ru.ru_stime)
    total = posts * backlog
    wait(lambda: len(hq_out.snapshot()) >= total, 300, "HQ has every backlog")
    wall = hq_out.snapshot()[-1][0] - t0
    b1, h1 = broker.cpu_s(), proc_cpu(hq.pid)
    stop_hq(hq, d)
    broker.stop()
    return {
        "posts": posts,
        "backlog_each": backlog,
        "messages": total,
        "seconds": round(wall, 2),
        "msgs_per_s": round(total / wall),
        "cpu_per_post_s": round(statistics.mean(cpu), 3),
        "cpu_per_1000_msgs_ms": round(statistics.mean(cpu) / backlog * 1000 * 1000, 1),
        "broker_cpu_pct": round((b1 - b0) / wall * 100, 1),
        "hq_cpu_pct": round((h1 - h0) / wall * 100, 1),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/kuzet")
    ap.add_argument("--quick", action="store_true", help="short runs, to check the harness")
    ap.add_argument("--only", choices=["latency", "soak", "posts"])
    a = ap.parse_args()
    if not os.path.exists(MOSQUITTO):
        raise SystemExit(f"{MOSQUITTO} is required (scripts/setup.sh --test)")
    kuzet = os.path.abspath(a.bin)
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    q = a.quick
    results = {"cores": os.cpu_count()}
    for name, run in [
        ("latency", lambda d: latency(kuzet, d, 10 if q else 60)),
        ("soak", lambda d: soak(kuzet, d, 40 if q else 300,
                                [(5, 4), (15, 4), (25, 4)] if q else [(40, 20), (120, 30), (220, 15)],
                                20 if q else 170)),
        ("posts_live", lambda d: many_live(kuzet, d, 5 if q else 50, 10 if q else 60)),
        ("posts_burst", lambda d: many_burst(kuzet, d, 5 if q else 50, 200 if q else 2000)),
    ]:
        if a.only and not name.startswith(a.only):
            continue
        d = tempfile.mkdtemp(prefix=f"kuzet-fed-{name}-")
        try:
            results[name] = run(d)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        print(json.dumps({name: results[name]}), flush=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    sys.exit(main())
