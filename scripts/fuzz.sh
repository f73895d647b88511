#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for SECONDS each, one after another, and prints
# one line per target: executions, exec/s, coverage (cov/ft), corpus size and crash
# inputs found, then the distinct panic sites behind those crashes.
# Exits 1 if any target crashed (the inputs are in fuzz/artifacts/<target>/).
#
#   scripts/fuzz.sh SECONDS [TARGET...]      e.g. scripts/fuzz.sh 30 uke_reader
#
# Needs the nightly toolchain; installs cargo-fuzz when it is missing. All targets are
# built once up front (`cargo fuzz build`: release, AddressSanitizer, debug assertions)
# and the built binaries then run in turn, so every target fuzzes the same build even
# while src/ changes. Each runs in libFuzzer's fork mode with one job at a time
# (-fork=1 -ignore_crashes=1): a crash is saved and counted, and fuzzing goes on for the
# full SECONDS instead of stopping at the first known crash. The working corpus
# (fuzz/corpus/<target>, grown from fuzz/seeds/<target>), crash inputs
# (fuzz/artifacts/<target>/) and libFuzzer's output (fuzz/logs/<target>.log) are
# git-ignored. Run one fuzzer at a time: the machine is small and shared.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -lt 1 || ! $1 =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/fuzz.sh SECONDS [TARGET...]" >&2
  exit 2
fi
seconds=$1
shift

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz.sh: the nightly toolchain is needed (rustup toolchain install nightly)" >&2
  exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: installing cargo-fuzz" >&2
  cargo install --locked cargo-fuzz
fi

if [[ $# -gt 0 ]]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list --fuzz-dir fuzz)
fi

echo "fuzz.sh: building the fuzz targets" >&2
cargo +nightly fuzz build --fuzz-dir fuzz >&2
bin_dir=fuzz/target/$(rustc +nightly -vV | sed -n 's/^host: //p')/release

# The panic site ("crate-x.y.z/src/file.rs:L:C: message") of one crash input.
panic_site() {
  timeout 60 "$bin_dir/$1" "$2" 2>&1 |
    grep -m1 -A1 "panicked at" |
    sed -E 's#.*panicked at (.*/index\.crates\.io-[^/]*/|\./)?##' | paste -sd ' ' ||
    true
}

mkdir -p fuzz/logs
crashed=()
printf '%-18s %11s %7s %6s %6s %7s %8s\n' target execs exec/s cov ft corpus crashes
for target in "${targets[@]}"; do
  corpus=fuzz/corpus/$target
  artifacts=fuzz/artifacts/$target
  log=fuzz/logs/$target.log
  mkdir -p "$corpus" "$artifacts"
  marker=$(mktemp)
  args=(-fork=1 -ignore_crashes=1 -max_total_time="$seconds" -timeout=10
    -artifact_prefix="$artifacts/")
  if [[ -f fuzz/dicts/$target.dict ]]; then
    args+=(-dict="fuzz/dicts/$target.dict")
  fi

  "$bin_dir/$target" "${args[@]}" "$corpus" "fuzz/seeds/$target" >"$log" 2>&1 || true

  # The last status line: "#EXECS: cov: C ft: F corp: N exec/s: R oom/timeout/crash: ..."
  status=$(grep -E '^#[0-9]+: cov: ' "$log" | tail -1 || true)
  field() { sed -nE "s#.*$1 ([0-9]+).*#\\1#p" <<<"$status"; }
  execs=$(sed -nE 's/^#([0-9]+):.*/\1/p' <<<"$status")
  elapsed=$(field ' time:')
  rate=$((${execs:-0} / (${elapsed:-0} > 0 ? ${elapsed:-0} : 1)))
  mapfile -t found < <(find "$artifacts" -type f -newer "$marker" \
    \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' -o -name 'leak-*' \))
  rm -f "$marker"

  printf '%-18s %11s %7s %6s %6s %7s %8s\n' "$target" "${execs:-?}" "$rate" \
    "$(field cov:)" "$(field ft:)" "$(find "$corpus" -type f | wc -l)" "${#found[@]}"
  if [[ -z $status ]]; then
    echo "    did not run: see $log" >&2
    crashed+=("$target")
  elif [[ ${#found[@]} -gt 0 ]]; then
    crashed+=("$target")
    for f in "${found[@]:0:100}"; do
      case $(basename "$f") in
        crash-*) panic_site "$target" "$f" ;;
        *) basename "$f" | cut -d- -f1 ;;
      esac
    done | sort | uniq -c | sort -rn | sed -E 's/^ *([0-9]+) /    \1x /'
  fi
done

if [[ ${#crashed[@]} -gt 0 ]]; then
  echo "fuzz.sh: crashes in: ${crashed[*]} (inputs in fuzz/artifacts/, output in fuzz/logs/)" >&2
  exit 1
fi
