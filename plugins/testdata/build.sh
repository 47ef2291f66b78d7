#!/usr/bin/env bash
# Rebuilds the .wasm test fixtures of this folder and of sdk/testdata from
# their .wat sources (wabt's wat2wasm, Debian package wabt). The built files
# are committed, so that `go test` never needs wabt; CI rebuilds them and
# fails if they differ.
set -euo pipefail
cd "$(dirname "$0")"
for dir in . ../../sdk/testdata; do
  for src in "$dir"/*.wat; do
    wat2wasm "$src" -o "${src%.wat}.wasm"
  done
done
