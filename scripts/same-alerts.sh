#!/usr/bin/env bash
# Compares the alert logs of two kuzet binaries on the bundled demo, a synthetic scene per
# alert kind, and the demo in every format kuzet converts to; prints one line per case
# and exits 1 if any log differs. For restructurings that must not change behaviour:
#   git worktree add /tmp/old <commit> && (cd /tmp/old && cargo build --release)
#   scripts/same-alerts.sh /tmp/old/target/release/kuzet target/release/kuzet
set -uo pipefail
old=${1:?usage: same-alerts.sh OLD_KUZET NEW_KUZET}
new=${2:?usage: same-alerts.sh OLD_KUZET NEW_KUZET}
old=$(realpath "$old") new=$(realpath "$new")
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
synth() { "$old" synth -o "$@" >/dev/null 2>&1 || { echo "synth $*: failed"; exit 2; }; }

synth cw.h5 --rate 2.4M --format ci8 --duration 4 --emitter cw:300k:20 --emitter fm:-500k:15:1 --emitter gfsk:700k:15
synth hop.h5 --rate 2.4M --duration 4 --emitter hopper:0:12:1
synth jam.h5 --rate 1M --format ci16 --duration 4 --emitter jammer:0:10:2
synth pmr.h5 --freq 446.1M --rate 1M --duration 3 --emitter fm:20k:20:0.5:2.5
synth quiet.h5 --rate 1M --duration 3 --emitter cw:100k:20 --emitter cw:-300k:20
synth changed.h5 --rate 1M --duration 15 --emitter cw:100k:35
"$old" baseline learn quiet.h5 -o base.h5 >/dev/null 2>&1
cp "$root/captures/demo.h5" demo.h5
"$old" convert demo.h5 demo.sigmf-meta >/dev/null 2>&1
"$old" convert demo.h5 demo_433.92M_500k.cu8 >/dev/null 2>&1
"$old" convert demo.h5 demo_433.92M_500k.cs8 >/dev/null 2>&1
"$old" convert demo.h5 demo_433.92M_500k.cs16 >/dev/null 2>&1
"$old" convert demo.h5 demo_433.92M_500k.cf32 >/dev/null 2>&1
"$old" convert demo.h5 demo.sm2117.h5 >/dev/null 2>&1
"$old" convert demo_433.92M_500k.cu8 demo-from-cu8.h5 >/dev/null 2>&1

cases=(
  "analyze demo.h5"
  "analyze demo.h5 --workers 1"
  "analyze demo.h5 --workers 3"
  "analyze cw.h5"
  "analyze hop.h5"
  "analyze jam.h5"
  "analyze pmr.h5"
  "analyze changed.h5 --baseline base.h5"
  "analyze demo.sigmf-meta"
  "analyze demo_433.92M_500k.cu8"
  "analyze demo_433.92M_500k.cs8"
  "analyze demo_433.92M_500k.cs16"
  "analyze demo_433.92M_500k.cf32"
  "analyze demo.sm2117.h5"
  "analyze demo-from-cu8.h5"
  "analyze demo.h5 --fft 4096 --overlap 75 --pfa 1e-8"
  "analyze demo.h5 --evidence ev"
  "replay demo.h5 --speed max --headless"
  "score hop.h5 --json"
)
status=0
for c in "${cases[@]}"; do
  rm -rf ev a-old.jsonl a-new.jsonl
  # shellcheck disable=SC2086
  "$old" $c --alerts a-old.jsonl >old.out 2>/dev/null || { [ "${c%% *}" = score ] && "$old" $c >old.out 2>/dev/null; }
  rm -rf ev
  # shellcheck disable=SC2086
  "$new" $c --alerts a-new.jsonl >new.out 2>/dev/null || { [ "${c%% *}" = score ] && "$new" $c >new.out 2>/dev/null; }
  lines=$(wc -l <old.out)
  if cmp -s old.out new.out && { [ ! -e a-old.jsonl ] || cmp -s a-old.jsonl a-new.jsonl; }; then
    echo "same      $c ($lines lines)"
  else
    echo "DIFFERENT $c"
    status=1
  fi
done
exit $status
