#!/usr/bin/env bash
# Rebuilds the policy.wasm of every example from its source, reproducibly:
# the same source and Go toolchain give the same bytes, so CI runs this and
# fails if a committed .wasm differs (git diff --exit-code). The committed
# files were built with the Go version in .go-version beside this script;
# another toolchain makes other bytes.
#
# Usage: policies-examples/build.sh [example ...]   (default: all)
set -euo pipefail
cd "$(dirname "$0")"

want=$(cat .go-version)
have=$(go env GOVERSION)
if [[ "$have" != "$want" ]]; then
  echo "build.sh: warning: Go is $have; the committed modules were built with $want" >&2
fi

# Nothing from the environment may change the output.
export GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 GOFLAGS=-mod=readonly GOWASM= GOEXPERIMENT=
unset GOAMD64 GODEBUG

examples=("$@")
if [[ ${#examples[@]} -eq 0 ]]; then
  for dir in */; do
    [[ -f "$dir/go.mod" ]] && examples+=("${dir%/}")
  done
fi
for ex in "${examples[@]}"; do
  (cd "$ex" && go build -buildmode=c-shared -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o policy.wasm .)
  printf '%s  %8d bytes  %s\n' "$(sha256sum "$ex/policy.wasm" | cut -c1-16)" "$(stat -c %s "$ex/policy.wasm")" "$ex/policy.wasm"
done
