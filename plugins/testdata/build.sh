#!/usr/bin/env bash
# Rebuilds the .wasm test fixtures of this folder and of sdk/testdata from
# their .wat sources (wabt's wat2wasm, Debian package wabt). The built files
# are committed, so that `go test` never needs wabt; CI rebuilds them and
# fails if they differ.
#
# A fixture <name>.wat with a <name>.cases.json beside it ships those
# self-test cases: the file's bytes are appended to <name>.wasm as its
# registrar.cases custom section (sdk/ABI.md §7). wat2wasm 1.0.32 parses
# (@custom ...) annotations but does not emit them, hence the appending.
set -euo pipefail
cd "$(dirname "$0")"

# uleb128 N writes N as unsigned LEB128.
uleb128() {
  local n=$1 b
  while :; do
    b=$((n & 0x7f))
    n=$((n >> 7))
    if ((n)); then b=$((b | 0x80)); fi
    printf "\\x$(printf %02x "$b")"
    ((n)) || break
  done
}

# append_section FILE NAME PAYLOAD appends a custom section (id 0, size,
# name length, name, payload) to a module.
append_section() {
  local file=$1 name=$2 payload=$3 namelen size
  namelen=$(uleb128 "${#name}" | wc -c)
  size=$((namelen + ${#name} + $(wc -c <"$payload")))
  {
    printf '\x00'
    uleb128 "$size"
    uleb128 "${#name}"
    printf '%s' "$name"
    cat "$payload"
  } >>"$file"
}

for dir in . ../../sdk/testdata; do
  for src in "$dir"/*.wat; do
    wat2wasm "$src" -o "${src%.wat}.wasm"
    if [[ -f "${src%.wat}.cases.json" ]]; then
      append_section "${src%.wat}.wasm" registrar.cases "${src%.wat}.cases.json"
    fi
  done
done
