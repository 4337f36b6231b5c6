#!/usr/bin/python3
"""Byte-mutation fuzzing of kuzet's HDF5 readers through the real binary.

Makes small seed files (kuzet captures from `kuzet synth`, their SM.2117 and baseline
conversions, and h5py-written files in several layouts), mutates them (a random byte, one
bit flipped, eight bits flipped, a run of bytes overwritten, a truncation) and runs each
mutant through `kuzet analyze` and `kuzet convert` (a baseline mutant through
`kuzet analyze --baseline`) as subprocesses with a wall-clock timeout and an address-space
limit. Every run must end in exit 0, or in exit 2 with exactly one line on stderr; a
signal, a timeout, another exit status, several lines or a peak RSS over the limit are
findings, and the file that caused each is kept in OUT/findings/.

    /usr/bin/python3 scripts/fuzz-hdf5.py --kuzet target/release/kuzet --files 2000

Needs h5py and numpy (Debian: python3-h5py). Runs one subprocess at a time under
`nice -n 19`, so it leaves the machine's other core alone. Prints a JSON summary last
and writes it to OUT/summary.json. Deterministic for a given --seed.
"""

import argparse
import collections
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")

import h5py  # noqa: E402
import numpy as np  # noqa: E402


def run(cmd, **kw):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)


def make_seeds(kuzet, d):
    """Small valid inputs; returns [(path, kind)] with kind 'recording' or 'baseline'."""
    seeds = []
    cap = os.path.join(d, "synth.h5")
    run([kuzet, "synth", "-o", cap, "--duration", "20ms", "--rate", "200k",
         "--emitter", "cw:10k:20"])
    seeds.append((cap, "recording"))
    for fmt in ["ci16", "ci8"]:
        p = os.path.join(d, f"synth-{fmt}.h5")
        run([kuzet, "synth", "-o", p, "--duration", "20ms", "--rate", "200k",
             "--format", fmt, "--emitter", "fm:-30k:15"])
        seeds.append((p, "recording"))
    sm = os.path.join(d, "synth.sm2117.h5")
    run([kuzet, "convert", cap, sm])
    seeds.append((sm, "recording"))
    base = os.path.join(d, "baseline.h5")
    run([kuzet, "baseline", "learn", "-o", base, cap, "--fft", "256"])
    seeds.append((base, "baseline"))

    rng = np.random.default_rng(7)
    iq = (rng.standard_normal(600) + 1j * rng.standard_normal(600)).astype("c8") * 0.01

    def kuzet_attrs(f, vlen=True):
        if vlen:
            f.attrs["format"] = "kuzet-capture"  # h5py: variable-length UTF-8
            f.attrs["device"] = "h5py test rig"
            f.attrs["start_time_utc"] = "2024-01-02T03:04:05Z"
        else:
            f.attrs["format"] = np.bytes_(b"kuzet-capture")
            f.attrs["description"] = np.bytes_(b"fixed")
        f.attrs["version"] = 1
        f.attrs["sample_rate_hz"] = 250e3
        f.attrs["center_freq_hz"] = 433.92e6

    layouts = {
        "h5py-contig.h5": dict(data=iq),
        "h5py-chunked.h5": dict(data=iq, chunks=(128,), maxshape=(None,)),
        "h5py-gzip.h5": dict(data=iq, chunks=(256,), compression="gzip", shuffle=True),
        "h5py-compact.h5": dict(data=iq[:300]),
    }
    for name, kw in layouts.items():
        p = os.path.join(d, name)
        with h5py.File(p, "w", libver="earliest" if "contig" in name else "latest") as f:
            kuzet_attrs(f, vlen="gzip" not in name)
            if name == "h5py-compact.h5":
                dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
                dcpl.set_layout(h5py.h5d.COMPACT)
                sid = h5py.h5s.create_simple((300,))
                tid = h5py.h5t.py_create(np.dtype("c8"))
                dsid = h5py.h5d.create(f.id, b"iq", tid, sid, dcpl=dcpl)
                dsid.write(h5py.h5s.ALL, h5py.h5s.ALL, np.ascontiguousarray(kw["data"]))
            else:
                f.create_dataset("iq", **kw)
        seeds.append((p, "recording"))
    p = os.path.join(d, "h5py-i16.h5")
    with h5py.File(p, "w") as f:
        kuzet_attrs(f)
        pairs = (np.stack([iq.real, iq.imag], axis=1) * 30000).astype("<i2")
        ds = f.create_dataset("iq", data=pairs, chunks=(150, 2))
        ds.attrs["scale"] = 1 / 32768
        ann = np.zeros(2, dtype=[("start_sample", "<u8"), ("length", "<u8"),
                                 ("freq_lo_hz", "<f8"), ("freq_hi_hz", "<f8"),
                                 ("label", "S64"), ("source", "S32")])
        f.create_dataset("annotations", data=ann)
    seeds.append((p, "recording"))
    # SM.2117 as the itusm2117 package writes it: two channels, attributes as text.
    p = os.path.join(d, "h5py-sm2117.h5")
    ch = np.dtype([("Real", "<f4"), ("Imag", "<f4")])
    row = np.dtype([("Channel_0", ch), ("Channel_1", ch)])
    data = np.zeros(500, dtype=row)
    data["Channel_0"]["Real"] = iq.real[:500]
    data["Channel_0"]["Imag"] = iq.imag[:500]
    with h5py.File(p, "w") as f:
        g = f.create_group("measurements")
        ds = g.create_dataset("Dataset_0", data=data, chunks=(200,))
        ds.attrs["ITU-R data set class"] = "I/Q"
        ds.attrs["Sampling frequency (Hz)"] = 1e6
        ds.attrs["RF carrier frequency (Hz)"] = "98.5e6"
        ds.attrs["Comment"] = "two channels"
        ds.attrs["Timestamp coarse (s)"] = np.int64(1_700_000_000)
    seeds.append((p, "recording"))
    return seeds


def data_ranges(path):
    """Byte ranges holding raw sample data, so mutations can favour metadata."""
    out = []
    try:
        with h5py.File(path, "r") as f:
            def visit(_name, obj):
                if not isinstance(obj, h5py.Dataset):
                    return
                off = obj.id.get_offset()
                if off is not None:
                    out.append((off, off + obj.id.get_storage_size()))
                elif obj.chunks:
                    for i in range(obj.id.get_num_chunks()):
                        c = obj.id.get_chunk_info(i)
                        out.append((c.byte_offset, c.byte_offset + c.size))
            f.visititems(visit)
    except Exception:  # noqa: BLE001 - a seed h5py cannot walk is mutated uniformly
        pass
    return out


def pick_offset(rng, size, ranges):
    for _ in range(20):
        off = rng.randrange(size)
        # Nine in ten mutations land outside sample data, where the parser lives.
        if not any(a <= off < b for a, b in ranges) or rng.random() < 0.1:
            return off
    return rng.randrange(size)


def mutate(rng, data, ranges):
    b = bytearray(data)
    kind = rng.choice(["byte", "byte", "bit", "bit", "bits8", "run", "truncate"])
    if kind == "truncate":
        return bytes(b[: rng.randrange(8, len(b))]), f"truncate@{len(b)}"
    if kind == "bits8":
        desc = []
        for _ in range(8):
            off = pick_offset(rng, len(b), ranges)
            bit = rng.randrange(8)
            b[off] ^= 1 << bit
            desc.append(f"{off}.{bit}")
        return bytes(b), "bits8@" + ",".join(desc)
    off = pick_offset(rng, len(b), ranges)
    if kind == "byte":
        b[off] = rng.choice([0, 0xFF, 0x7F, 0x80, 1, rng.randrange(256)])
        return bytes(b), f"byte@{off}={b[off]:#x}"
    if kind == "bit":
        bit = rng.randrange(8)
        b[off] ^= 1 << bit
        return bytes(b), f"bit@{off}.{bit}"
    n = rng.randrange(2, 9)
    for i in range(off, min(off + n, len(b))):
        b[i] = rng.choice([0, 0xFF])
    return bytes(b), f"run@{off}+{n}"


def limit(mem_mb):
    def pre():
        os.nice(19)
        lim = mem_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return pre


def execute(cmd, timeout, mem_mb):
    """Runs cmd; returns (status, stderr, peak_rss_mb, seconds). The status is the exit
    code, minus the signal number, or "timeout"."""
    t0 = time.monotonic()
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err,
                             stdin=subprocess.DEVNULL, preexec_fn=limit(mem_mb),
                             start_new_session=True)
        while True:
            # wait4 gives this child's own peak RSS (RUSAGE_CHILDREN would be the max
            # over every child so far).
            pid, st, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - t0 > timeout:
                os.killpg(p.pid, signal.SIGKILL)
                os.wait4(p.pid, 0)
                p.returncode = -9
                err.seek(0)
                return "timeout", err.read(), 0, time.monotonic() - t0
            time.sleep(0.005)
        p.returncode = 0  # reaped here; keeps Popen from waiting again
        status = os.waitstatus_to_exitcode(st)
        err.seek(0)
        return status, err.read(), ru.ru_maxrss / 1024, time.monotonic() - t0


def classify(status, err, rss, max_rss_mb):
    if status == "timeout":
        return "hang"
    if status < 0:
        return f"signal {signal.Signals(-status).name}"
    if rss > max_rss_mb:
        return "memory"
    lines = [ln for ln in err.decode("utf-8", "replace").splitlines() if ln.strip()]
    if status == 2:
        # Warnings about what the file holds may come first; the error is one line.
        errors = [ln for ln in lines if not ln.startswith("kuzet: warning: ")]
        return "exit2-one-line" if len(errors) == 1 else "exit2-several-lines"
    if status == 0:
        return "ok"
    return f"exit {status}"


FINDINGS = ("hang", "signal", "exit2-several-lines", "memory", "exit ")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kuzet", default="target/release/kuzet")
    ap.add_argument("--files", type=int, default=2000, help="mutants to make [2000]")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds per run [20]")
    ap.add_argument("--mem-mb", type=int, default=4096, help="address-space limit [4096]")
    ap.add_argument("--max-rss-mb", type=int, default=600,
                    help="peak RSS that counts as an allocation explosion [600]")
    ap.add_argument("--out", default=None, help="findings and summary [a temp dir]")
    ap.add_argument("--replay", default=None,
                    help="run the files in this folder instead of mutants")
    ap.add_argument("--make-seeds", default=None, metavar="DIR",
                    help="only write the seed files to DIR (a starting corpus for cargo-fuzz)")
    args = ap.parse_args()
    kuzet = os.path.abspath(args.kuzet)
    if args.make_seeds:
        os.makedirs(args.make_seeds, exist_ok=True)
        for p, _ in make_seeds(kuzet, args.make_seeds):
            print(p)
        return 0
    out = args.out or tempfile.mkdtemp(prefix="kuzet-fuzz-")
    os.makedirs(os.path.join(out, "findings"), exist_ok=True)
    work = tempfile.mkdtemp(prefix="kuzet-fuzz-work-")
    seeds_dir = os.path.join(work, "seeds")
    os.makedirs(seeds_dir)
    seeds = make_seeds(kuzet, seeds_dir)
    good_capture = seeds[0][0]
    rng = random.Random(args.seed)
    counts = collections.Counter()
    by_seed = collections.defaultdict(collections.Counter)
    findings = []
    execs = 0
    peak_rss = 0.0
    slowest = 0.0
    started = time.monotonic()

    if args.replay:
        names = sorted(os.listdir(args.replay))
        jobs = [(os.path.join(args.replay, n), "baseline" if "baseline" in n else "recording",
                 n, "replay") for n in names]
    else:
        jobs = []
        loaded = [(p, k, open(p, "rb").read(), data_ranges(p)) for p, k in seeds]
        for i in range(args.files):
            p, k, data, ranges = loaded[i % len(loaded)]
            mutant, how = mutate(rng, data, ranges)
            name = f"{i:05d}-{os.path.basename(p).replace('.h5', '')}.h5"
            path = os.path.join(work, name)
            with open(path, "wb") as f:
                f.write(mutant)
            jobs.append((path, k, os.path.basename(p), how))

    for n, (path, kind, seed_name, how) in enumerate(jobs):
        outp = os.path.join(work, "out.sigmf-meta")
        cmds = []
        if kind == "baseline":
            cmds.append(("analyze-baseline",
                         [kuzet, "analyze", "--baseline", path, "--fft", "256", good_capture]))
        else:
            cmds.append(("analyze", [kuzet, "analyze", path]))
            cmds.append(("convert", [kuzet, "convert", path, outp]))
        for label, cmd in cmds:
            for leftover in [outp, outp.replace("-meta", "-data")]:
                if os.path.exists(leftover):
                    os.remove(leftover)
            status, err, rss, secs = execute(cmd, args.timeout, args.mem_mb)
            execs += 1
            peak_rss = max(peak_rss, rss)
            slowest = max(slowest, secs)
            c = classify(status, err, rss, args.max_rss_mb)
            counts[c] += 1
            by_seed[seed_name][c] += 1
            if c.startswith(FINDINGS):
                keep = os.path.join(out, "findings", f"{c.replace(' ', '-')}-{os.path.basename(path)}")
                shutil.copy(path, keep)
                findings.append(dict(file=keep, command=label, result=c, mutation=how,
                                     stderr=err.decode("utf-8", "replace")[-400:]))
                print(f"FINDING {c}: {label} {keep} ({how})", file=sys.stderr, flush=True)
        if not args.replay:
            os.remove(path)
        if (n + 1) % 200 == 0:
            print(f"{n + 1}/{len(jobs)} files, {execs} runs: {dict(counts)}",
                  file=sys.stderr, flush=True)

    summary = dict(
        kuzet=kuzet,
        files=len(jobs),
        executions=execs,
        seeds=[os.path.basename(p) for p, _ in seeds],
        results=dict(counts),
        signals=sum(v for k, v in counts.items() if k.startswith("signal")),
        hangs=counts["hang"],
        peak_rss_mb=round(peak_rss, 1),
        slowest_run_s=round(slowest, 2),
        wall_s=round(time.monotonic() - started, 1),
        findings=findings,
        by_seed={k: dict(v) for k, v in by_seed.items()},
    )
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({k: v for k, v in summary.items() if k not in ("findings", "by_seed")}))
    print(f"findings and summary: {out}", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
