#!/usr/bin/env bash
# Rebuilds every policy module of the repository from source, reproducibly:
# each example's <example>/<language>/policy.wasm, and the conformance
# module of each SDK (sdk/testdata/vectors). The same sources and
# toolchains give the same bytes, so CI runs this and fails if a committed
# module differs (git diff --exit-code). The committed modules were built
# with the toolchains listed in .toolchains beside this script; the script
# warns when one differs, as its bytes will.
#
# Usage: policies-examples/build.sh [target ...]     (default: everything)
#   target: an example (trusted-hosts), one implementation of one
#   (trusted-hosts/rust), a language (rust: its examples and its SDK's
#   conformance module), or sdk (every conformance module).
#
# Toolchains (see .ci/run for installing them on Debian 12): Go; Debian's
# rustc/cargo with libstd-rust-dev-wasm32; clang, lld and wasi-libc; Node.js
# (with npm ci in sdk/assemblyscript); wabt.
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
repo=$(cd .. && pwd)
languages=(go rust c assemblyscript wat)

# Debian's Rust comes first: a rustup toolchain earlier on PATH usually has
# no WebAssembly standard library.
cargo=${CARGO:-$(command -v /usr/bin/cargo || command -v cargo || true)}
rustc=${RUSTC:-$(command -v /usr/bin/rustc || command -v rustc || true)}
clang=${CLANG:-clang}
wasm_ld=${WASM_LD:-wasm-ld}
asc="$repo/sdk/assemblyscript/node_modules/.bin/asc"

version() {
  case $1 in
    go) go env GOVERSION ;;
    rustc) "$rustc" --version ;;
    clang) "$clang" --version | head -1 ;;
    asc) "$asc" --version ;;
    wat2wasm) wat2wasm --version ;;
  esac
}

# check_toolchain warns once if a toolchain differs from the committed one.
declare -A checked
check_toolchain() {
  [[ -n ${checked[$1]:-} ]] && return
  checked[$1]=1
  local want have
  want=$(sed -n "s/^$1: //p" .toolchains)
  have=$(version "$1" 2>/dev/null || echo missing)
  if [[ "$have" != "$want" ]]; then
    echo "build.sh: warning: $1 is $have; the committed modules were built with $want" >&2
  fi
}

report() {
  printf '%s  %8d bytes  %s\n' "$(sha256sum "$1" | cut -c1-16)" "$(stat -c %s "$1")" "${1#"$repo"/}"
}

build_go() { # dir out
  check_toolchain go
  (cd "$1" && env -u GOAMD64 -u GODEBUG GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 GOFLAGS=-mod=readonly GOWASM= \
    GOEXPERIMENT= go build -buildmode=c-shared -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o "$2" .)
}

# Rust crates are built in a fixed folder that mirrors the repository:
# cargo (1.65) hashes the absolute location of a path dependency outside
# the crate's workspace, here the SDK, into every symbol's metadata, so the
# bytes would depend on where the repository is.
rust_root=/tmp/registrar-rust-build

build_rust() { # dir out
  check_toolchain rustc
  [[ -x "$cargo" && -x "$rustc" ]] || { echo "build.sh: Rust (cargo, rustc) is not installed" >&2; exit 1; }
  local rel=${1#"$repo"/} crate
  crate=$(sed -n 's/^name = "\(.*\)"/\1/p' "$1/Cargo.toml" | head -1 | tr - _)
  mkdir -p "$rust_root"
  (
    flock 9
    # Only the sources; cp -p keeps modification times, so cargo rebuilds
    # what changed.
    local d
    for d in sdk/rust "$rel"; do
      rm -rf "${rust_root:?}/$d/src"
      mkdir -p "$rust_root/$d"
      cp -p "$repo/$d/Cargo.toml" "$repo/$d/Cargo.lock" "$rust_root/$d/"
      cp -pr "$repo/$d/src" "$rust_root/$d/"
    done
    cd "$rust_root/$rel" && env RUSTC="$rustc" CARGO_TARGET_DIR="$rust_root/target" \
      RUSTFLAGS="-C target-feature=+bulk-memory,+mutable-globals --remap-path-prefix=$rust_root=/registrar" \
      "$cargo" build --offline --locked --release --target wasm32-unknown-unknown --quiet
  ) 9>"$rust_root.lock"
  cp "$rust_root/target/wasm32-unknown-unknown/release/$crate.wasm" "$2"
}

build_c() { # dir out [sources...]
  check_toolchain clang
  local dir=$1 out=$2 obj
  shift 2
  obj=$(mktemp -d)
  local objs=() src
  for src in "$@"; do
    # clang -c, then wasm-ld: clang 14 would run any wasm-opt on PATH after
    # linking, without the feature flags (sdk/c/README.md).
    "$clang" --target=wasm32-wasi -O2 -mbulk-memory -mmutable-globals -std=gnu11 -Wall -Wextra -Werror \
      -ffile-prefix-map="$repo"=/registrar -I"$repo/sdk/c" -c "$src" -o "$obj/$(basename "$src").o"
    objs+=("$obj/$(basename "$src").o")
  done
  "$wasm_ld" -m wasm32 -L/usr/lib/wasm32-wasi /usr/lib/wasm32-wasi/crt1-reactor.o --entry _initialize --strip-all \
    "${objs[@]}" -lc "$("$clang" --target=wasm32-wasi -print-libgcc-file-name)" -o "$out"
  rm -rf "$obj"
}

build_assemblyscript() { # entry out
  check_toolchain asc
  [[ -x "$asc" ]] || (cd "$repo/sdk/assemblyscript" && npm ci --no-audit --no-fund --silent)
  # From the repository's root, so that the paths compiled into abort
  # messages are the same wherever the repository is. Examples import the
  # SDK by its package name, as a policy outside the repository does after
  # npm install; policies-examples/node_modules links the name to
  # sdk/assemblyscript, and --path names that folder to asc.
  (cd "$repo" && "$asc" "${1#"$repo"/}" -o "${2#"$repo"/}" -O3 --runtime minimal \
    --path policies-examples/node_modules --use abort=~lib/@registrar-dev/registrar-sdk/assembly/abort/abort)
}

build_wat() { # source out
  check_toolchain wat2wasm
  wat2wasm "$1" -o "$2"
}

# build_example builds one implementation of an example.
build_example() { # example lang
  local dir="$here/$1/$2"
  case $2 in
    go) build_go "$dir" "$dir/policy.wasm" ;;
    rust) build_rust "$dir" "$dir/policy.wasm" ;;
    c) build_c "$dir" "$dir/policy.wasm" $(ls "$dir"/*.c | grep -v _test.c) "$repo/sdk/c/registrar.c" ;;
    assemblyscript) build_assemblyscript "$dir/policy.ts" "$dir/policy.wasm" ;;
    wat) build_wat "$dir/policy.wat" "$dir/policy.wasm" ;;
  esac
  report "$dir/policy.wasm"
}

# build_conformance builds an SDK's conformance module.
build_conformance() { # lang
  local out
  case $1 in
    go)
      out="$repo/sdk/go/internal/conformance/conformance.wasm"
      build_go "$repo/sdk/go/internal/conformance" "$out" ;;
    rust)
      out="$repo/sdk/rust/conformance/conformance.wasm"
      build_rust "$repo/sdk/rust/conformance" "$out" ;;
    c)
      out="$repo/sdk/c/conformance/conformance.wasm"
      build_c "$repo/sdk/c/conformance" "$out" "$repo/sdk/c/conformance/conformance.c" "$repo/sdk/c/registrar.c" ;;
    assemblyscript)
      check_toolchain asc
      out="$repo/sdk/assemblyscript/conformance/conformance.wasm"
      [[ -x "$asc" ]] || (cd "$repo/sdk/assemblyscript" && npm ci --no-audit --no-fund --silent)
      (cd "$repo/sdk/assemblyscript" && node build.mjs) ;;
    *) return ;;
  esac
  report "$out"
}

examples() {
  local f
  for f in */cases.json; do echo "${f%/cases.json}"; done
}

# targets expands the arguments into "example lang" and "sdk lang" lines.
targets() {
  local t ex lang
  [[ $# -eq 0 ]] && set -- sdk $(examples)
  for t in "$@"; do
    t=${t%/}
    if [[ $t == sdk ]]; then
      for lang in "${languages[@]}"; do echo "sdk $lang"; done
    elif [[ " ${languages[*]} " == *" $t "* ]]; then
      echo "sdk $t"
      for ex in $(examples); do [[ -d $ex/$t ]] && echo "$ex $t"; done
    elif [[ $t == */* && -d $t ]]; then
      echo "${t%%/*} ${t#*/}"
    elif [[ -f $t/cases.json ]]; then
      for lang in "${languages[@]}"; do [[ -d $t/$lang ]] && echo "$t $lang"; done
    else
      echo "build.sh: unknown target $t" >&2
      exit 2
    fi
  done
}

targets "$@" | while read -r what lang; do
  if [[ $what == sdk ]]; then
    build_conformance "$lang"
  else
    build_example "$what" "$lang"
  fi
done
