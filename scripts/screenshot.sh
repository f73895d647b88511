#!/usr/bin/env bash
# Renders a finished run's report.html and takes a headless-Chromium screenshot of it.
#
#   scripts/screenshot.sh RUN_DIR OUT.png
#
# Writes RUN_DIR/report.html with `reseclear report --run RUN_DIR` first (the binary is
# $RESECLEAR, else target/release/reseclear, else target/debug/reseclear, else
# `reseclear` on PATH). NO_RENDER=1 screenshots the report.html already in RUN_DIR.
# WINDOW=WIDTHxHEIGHT changes the window (default 1400x3000: the top of the page).
# Needs chromium (`apt-get install -y chromium`); no network is used.
set -euo pipefail

if [ "$#" -ne 2 ]; then
    echo "usage: $0 RUN_DIR OUT.png" >&2
    exit 2
fi
run_dir=$1
out=$2
here=$(cd "$(dirname "$0")/.." && pwd)

if [ ! -d "$run_dir" ]; then
    echo "$0: $run_dir is not a directory" >&2
    exit 2
fi

if [ "${NO_RENDER:-0}" != "1" ]; then
    bin=${RESECLEAR:-}
    if [ -z "$bin" ]; then
        for candidate in "$here/target/release/reseclear" "$here/target/debug/reseclear"; do
            if [ -x "$candidate" ]; then
                bin=$candidate
                break
            fi
        done
    fi
    bin=${bin:-reseclear}
    "$bin" report --run "$run_dir"
fi

page="$(cd "$run_dir" && pwd)/report.html"
if [ ! -f "$page" ]; then
    echo "$0: $page was not written" >&2
    exit 1
fi

chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$chromium" ]; then
    echo "$0: chromium is not installed (apt-get install -y chromium)" >&2
    exit 1
fi

window=${WINDOW:-1400x3000}
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
out_abs="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"

"$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-dev-shm-usage --hide-scrollbars \
    --user-data-dir="$profile" \
    --window-size="${window/x/,}" \
    --screenshot="$out_abs" \
    "file://$page" 2>/dev/null

if [ ! -s "$out_abs" ]; then
    echo "$0: chromium wrote no screenshot" >&2
    exit 1
fi
echo "$out_abs"
