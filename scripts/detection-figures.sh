#!/usr/bin/env bash
# Detection figures of issue 4, on simulated scenes scored against their ground truth:
#   1. Pd vs in-band SNR (-3..12 dB) for 200 ms narrowband emitters (CW and 25 kHz FM);
#   2. false alerts in one hour of noise (simulated on the fly, no file written).
# Usage: scripts/detection-figures.sh [KUZET_BINARY]   (default target/release/kuzet)
set -euo pipefail
kuzet=${1:-target/release/kuzet}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
scene() { # snr n seed
  local snr=$1 n=$2 seed=$3
  printf 'sample_rate_hz = "2.4M"\ncenter_freq_hz = "160M"\nduration_s = %s\nseed = %s\n' \
    "$(awk "BEGIN{print $n * 0.6 + 0.5}")" "$seed"
  for i in $(seq 0 $((n - 1))); do
    kind=cw; [ $((i % 2)) -eq 1 ] && kind=fm
    off=$(awk "BEGIN{print -900000 + ($i * 137000) % 1800000}")
    printf '[[emitter]]\ntype = "%s"\noffset_hz = %s\nbandwidth_hz = "25k"\nsnr_db = %s\nstart_s = %s\nstop_s = %s\n' \
      "$kind" "$off" "$snr" "$(awk "BEGIN{print 0.5 + $i * 0.6}")" "$(awk "BEGIN{print 0.7 + $i * 0.6}")"
  done
}
echo "Pd vs in-band SNR: 40 emitters (20 CW, 20 FM 25 kHz) of 200 ms each per point, 2.4 MS/s"
printf 'snr_db\tdetected\tPd\n'
for snr in -3 0 3 6 9 12; do
  scene "$snr" 40 $((100 + snr + 3)) > "$dir/s.toml"
  line=$("$kuzet" score "$dir/s.toml" --json 2>/dev/null)
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(sys.argv[2], str(d["detected"]) + "/" + str(d["total"]), d["pd"], sep="\t")' "$line" "$snr"
done
echo
echo "False alerts in one hour of noise (1 MS/s, default settings):"
printf 'sample_rate_hz = "1M"\ncenter_freq_hz = "433.92M"\nduration_s = 3600\nseed = 99\n' > "$dir/noise.toml"
"$kuzet" score "$dir/noise.toml" --json 2>/dev/null |
  python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["false_alert_count"], "false alert(s) in", round(d["stream_s"]), "s:", round(d["false_alerts_per_hour"], 2), "per hour")'
