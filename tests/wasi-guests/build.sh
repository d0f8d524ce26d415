#!/usr/bin/env bash
# Rebuilds every test guest component in this directory: NAME.c -> NAME.wasm.
#
#   eval "$(../shared/tools/guest-toolchain.sh)"   # from the repo root, once
#   tests/wasi-guests/build.sh
#
# Each guest is a wasm32-wasi (preview 1) core module built by clang-14 against
# Debian's wasi-libc, wrapped into a WASI 0.2 command component by wasm-tools with
# the wasi_snapshot_preview1 command adapter. Each also links C bindings that
# `wit-bindgen c` generates for its world in wit/guests.wit (the WASI 0.2
# interfaces it calls directly: at least wasi:cli/exit's exit-with-code) from the
# WASI 0.2 WIT packages in $WASI_WIT (default: <repo>/../shared/spec/wasi/0.2).
# Idempotent: the same sources and tools give the same .wasm files.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
WASI_WIT="${WASI_WIT:-$repo/../shared/spec/wasi/0.2}"

die() { echo "build.sh: $*" >&2; exit 1; }
for tool in clang-14 wasm-tools wit-bindgen; do
  command -v "$tool" >/dev/null \
    || die "$tool not found; install the guest toolchain: eval \"\$($repo/../shared/tools/guest-toolchain.sh)\""
done
[ -f /usr/lib/wasm32-wasi/libc.a ] || die "wasi-libc not found (/usr/lib/wasm32-wasi/libc.a); run guest-toolchain.sh"
adapter="${WELD_GUEST_ADAPTERS:-}/wasi_snapshot_preview1.command.wasm"
[ -f "$adapter" ] || die "adapter $adapter not found; set WELD_GUEST_ADAPTERS (guest-toolchain.sh prints it)"
for pkg in cli clocks filesystem io random sockets; do
  [ -d "$WASI_WIT/$pkg" ] || die "WASI WIT package $WASI_WIT/$pkg not found; set WASI_WIT"
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# wit-bindgen wants one WIT directory whose deps/ holds the packages it uses.
mkdir -p "$work/wit/deps" "$work/gen"
cp "$here/wit/guests.wit" "$work/wit/"
for pkg in cli clocks filesystem io random sockets; do cp -r "$WASI_WIT/$pkg" "$work/wit/deps/"; done

CFLAGS=(--target=wasm32-wasi --sysroot=/usr -O2 -Wall -Wextra -Werror -I"$here" -I"$work/gen")

# build NAME WORLD: NAME.c + the bindings of WORLD -> NAME.wasm
build() {
  local name=$1 world=$2 stem=${2//-/_} out
  out=$(wit-bindgen c "$work/wit" --world "$world" --out-dir "$work/gen" 2>&1) || die "wit-bindgen: $out"
  # The generated code is not ours to lint: compile it without -Werror.
  clang-14 --target=wasm32-wasi --sysroot=/usr -O2 -c -o "$work/$stem.o" "$work/gen/$stem.c"
  clang-14 "${CFLAGS[@]}" -o "$work/$name.core.wasm" "$here/$name.c" \
    "$work/$stem.o" "$work/gen/${stem}_component_type.o"
  wasm-tools component new "$work/$name.core.wasm" \
    --adapt "wasi_snapshot_preview1=$adapter" -o "$here/$name.wasm"
  wasm-tools validate "$here/$name.wasm"
  # A guest must import nothing but WASI 0.2 interfaces.
  local bad
  bad=$(wasm-tools component wit "$here/$name.wasm" | sed -n '/^world root/,/^}/p' \
        | grep -E '^\s*(import|export) ' | grep -vE '^\s*(import|export) wasi:[a-z-]+/[a-z-]+@0\.2\.[0-9]+;$' || true)
  [ -z "$bad" ] || die "$name.wasm has non-WASI-0.2 imports or exports: $bad"
  echo "built $name.wasm ($(stat -c %s "$here/$name.wasm") bytes)"
}

build cli libc-guest
build fs libc-guest
build copy libc-guest
build wasi-direct wasi-direct
build sockets sockets
