#!/usr/bin/env bash
# Rebuilds every wasi:http test guest component in this directory: NAME.c -> NAME.wasm.
#
#   eval "$(../shared/tools/guest-toolchain.sh)"   # from the repo root, once
#   tests/http-guests/build.sh
#
# Each guest is a wasm32-wasi core module built by clang-14 against Debian's wasi-libc,
# linking the C bindings that `wit-bindgen c` generates for world weld:http-guests/guest
# (wit/guests.wit, which is wasi:http/proxy) from the WASI 0.2 WIT packages in $WASI_WIT
# (default: <repo>/../shared/spec/wasi/0.2). The guests have no main and use no libc I/O,
# so the core module imports only WASI 0.2 functions and `wasm-tools component new` wraps it
# with no wasi_snapshot_preview1 adapter. It is linked as a reactor (-mexec-model=reactor):
# it exports the handler, `memory`, `cabi_realloc` and `_initialize` (libc's constructors,
# none today), which the component runs once, as the start function of a small core
# instance, when it is instantiated. (As a command, -nostartfiles --no-entry, wasm-ld would
# wrap every export in a call of libc's destructors instead.) Debian's libc.a carries DWARF:
# --strip-debug drops it; the name section stays, for function names in trap backtraces.
# Should a guest ever call libc I/O (printf, snprintf: they link stdio), its core module
# imports wasi_snapshot_preview1 and this script adapts it with the proxy adapter,
# $WELD_GUEST_ADAPTERS/wasi_snapshot_preview1.proxy.wasm, saying so.
#
# Every component is validated, and the script fails if one imports anything
# wasi:http/proxy does not allow or exports anything but wasi:http/incoming-handler.
# Idempotent: the same sources and tools give the same .wasm files.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
WASI_WIT="${WASI_WIT:-$repo/../shared/spec/wasi/0.2}"
GUESTS=(hello echo trap fetch stream)
PKGS=(cli clocks filesystem http io random sockets) # wasi:cli's worlds name filesystem and sockets

die() { echo "build.sh: $*" >&2; exit 1; }
for tool in clang-14 wasm-ld-14 wasm-tools wit-bindgen; do
  command -v "$tool" >/dev/null \
    || die "$tool not found; install the guest toolchain: eval \"\$($repo/../shared/tools/guest-toolchain.sh)\""
done
[ -f /usr/lib/wasm32-wasi/libc.a ] || die "wasi-libc not found (/usr/lib/wasm32-wasi/libc.a); run guest-toolchain.sh"
for pkg in "${PKGS[@]}"; do
  [ -d "$WASI_WIT/$pkg" ] || die "WASI WIT package $WASI_WIT/$pkg not found; set WASI_WIT"
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# wit-bindgen wants one WIT directory whose deps/ holds the packages it uses.
mkdir -p "$work/wit/deps" "$work/gen"
cp "$here/wit/guests.wit" "$work/wit/"
for pkg in "${PKGS[@]}"; do cp -r "$WASI_WIT/$pkg" "$work/wit/deps/"; done
out=$(wit-bindgen c "$work/wit" --world guest --out-dir "$work/gen" 2>&1) || die "wit-bindgen: $out"

TARGET=(--target=wasm32-wasi --sysroot=/usr -O2)
# The generated code is not ours to lint: compile it without -Werror.
clang-14 "${TARGET[@]}" -c -o "$work/guest.o" "$work/gen/guest.c"

# What a wasi:http/proxy component may import, and what these guests export.
allowed_imports='wasi:http/(types|outgoing-handler)|wasi:io/(poll|streams|error)|wasi:clocks/(monotonic-clock|wall-clock)|wasi:random/random|wasi:cli/(stdout|stderr|stdin)'
export_line='export wasi:http/incoming-handler@0.2.12;'

build() {
  local name=$1 core="$work/$1.core.wasm" wit bad adapt=()
  clang-14 "${TARGET[@]}" -Wall -Wextra -Werror -I"$here" -I"$work/gen" \
    -mexec-model=reactor -Wl,--strip-debug -o "$core" \
    "$here/$name.c" "$work/guest.o" "$work/gen/guest_component_type.o"
  if wasm-tools print "$core" | grep -q '(import "wasi_snapshot_preview1"'; then
    local adapter="${WELD_GUEST_ADAPTERS:-}/wasi_snapshot_preview1.proxy.wasm"
    [ -f "$adapter" ] || die "$name calls libc I/O, which needs adapter $adapter; set WELD_GUEST_ADAPTERS (guest-toolchain.sh prints it)"
    echo "note: $name.c calls libc I/O: adapting it with the proxy adapter"
    adapt=(--adapt "wasi_snapshot_preview1=$adapter")
  fi
  wasm-tools component new "$core" "${adapt[@]}" -o "$here/$name.wasm"
  wasm-tools validate "$here/$name.wasm"
  wit=$(wasm-tools component wit "$here/$name.wasm" | sed -n '/^world root/,/^}/p')
  bad=$(echo "$wit" | grep -E '^\s*(import|export) ' \
        | grep -vE "^\s*import ($allowed_imports)@0\.2\.[0-9]+;$" | grep -vF "$export_line" || true)
  [ -z "$bad" ] || die "$name.wasm has imports or exports beyond wasi:http/proxy: $bad"
  echo "$wit" | grep -qF "$export_line" || die "$name.wasm does not export wasi:http/incoming-handler"
  echo "built $name.wasm ($(stat -c %s "$here/$name.wasm") bytes)"
}

if [ $# -gt 0 ]; then GUESTS=("$@"); fi
for g in "${GUESTS[@]}"; do
  [ -f "$here/$g.c" ] || die "no guest $g ($here/$g.c)"
  build "$g"
done
