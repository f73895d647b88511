#!/usr/bin/env bash
# Regenerates the committed sample month in fixtures/sample (fixed seed, broken files
# included so the quarantine shows). Run from the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf fixtures/sample
cargo run --release --quiet -- generate --persons 3000 --receipts 400 --seed 20260602 \
  --broken-files --out fixtures/sample
