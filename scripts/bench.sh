#!/usr/bin/env bash
# Whole-pipeline benchmark: generates a month of the given size once (cached under
# bench-data/, git-ignored; the generation's wall time and peak RSS printed when it
# runs), runs `reseclear run` on it under /usr/bin/time, and prints wall time, peak RSS,
# the per-stage timings and the evaluation against the truth.
#
#   scripts/bench.sh S    100k persons,  50k receipts
#   scripts/bench.sh M    10M persons,   5M receipts
#   scripts/bench.sh L    30M persons,   20M receipts
#   scripts/bench.sh P R  P persons, R receipts
# Each with 5 % tier-2 and 5 % tier-3 receipts, in the realistic mix of kinds of claim
# (医科, DPC, 歯科, 調剤). Run from anywhere.
# Environment: RESECLEAR_BIN uses that binary instead of building one; BENCH_DATA puts
# the generated months and outputs elsewhere than bench-data/; KINDS=ika (or any list
# `generate --kinds` takes) makes a month of those kinds only, cached apart.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-S}" in
  S) persons=100000; receipts=50000 ;;
  M) persons=10000000; receipts=5000000 ;;
  L) persons=30000000; receipts=20000000 ;;
  *) persons=$1; receipts=${2:?give persons and receipts}; ;;
esac
kinds="${KINDS:-ika,dpc,shika,chozai}"
tier="${persons}p_${receipts}r"
if [ -n "${KINDS:-}" ]; then
  tier="${tier}_${KINDS//,/-}"
fi
root="${BENCH_DATA:-bench-data}"
data="$root/$tier"
out="$root/$tier.out"
if [ -n "${RESECLEAR_BIN:-}" ]; then
  bin=$RESECLEAR_BIN
else
  cargo build --release --quiet
  bin=target/release/reseclear
fi
generated="cached in $data"
if [ ! -f "$data/truth.parquet" ]; then
  rm -rf "$data"
  gentime=$(mktemp)
  /usr/bin/time -f '%e s, peak RSS %M KiB' -o "$gentime" \
    "$bin" generate --persons "$persons" --receipts "$receipts" --seed 42 --kinds "$kinds" \
    --out "$data" >/dev/null
  generated=$(cat "$gentime")
  rm -f "$gentime"
fi
rm -rf "$out"
timefile=$(mktemp)
/usr/bin/time -v -o "$timefile" "$bin" --quiet run --input "$data" --out "$out" --force
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$timefile")
rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$timefile")
rm -f "$timefile"
printf '%-28s %s\n' "month" "$tier ($(nproc) cores)"
printf '%-28s %s\n' "generate" "$generated"
printf '%-28s %s\n' "wall time" "$wall"
printf '%-28s %s MiB\n' "peak RSS" "$((rss_kb / 1024))"
python3 - "$out/timings.json" <<'PY' 2>/dev/null || sed 's/^/  /' "$out/timings.json"
import json, sys
for stage, secs in json.load(open(sys.argv[1]))["stages"]:
    print(f"{'  stage ' + stage:<28} {secs:.2f} s")
PY
"$bin" evaluate --truth "$data/truth.parquet" --run "$out" | sed -n '1,8p'
