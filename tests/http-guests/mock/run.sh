#!/usr/bin/env bash
# Tests the guests' C logic natively, without WebAssembly or a wasi:http host: compiles each
# NAME.c with the host's gcc (AddressSanitizer and UBSan on) against the same wit-bindgen
# header the real build uses, links it with mock/host.c (a mock of every binding function
# the guests call, which enforces the resource and stream rules a strict host does), and
# runs mock/scenarios.h. Needs gcc and wit-bindgen (the guest toolchain:
# eval "$(../shared/tools/guest-toolchain.sh)" from the repo root).
#
#   tests/http-guests/mock/run.sh [GUEST...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
guests="$(cd "$here/.." && pwd)"
repo="$(cd "$guests/../.." && pwd)"
WASI_WIT="${WASI_WIT:-$repo/../shared/spec/wasi/0.2}"
die() { echo "run.sh: $*" >&2; exit 1; }
for tool in gcc wit-bindgen; do command -v "$tool" >/dev/null || die "$tool not found"; done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/wit/deps" "$work/gen"
cp "$guests/wit/guests.wit" "$work/wit/"
for pkg in cli clocks filesystem http io random sockets; do
  [ -d "$WASI_WIT/$pkg" ] || die "WASI WIT package $WASI_WIT/$pkg not found; set WASI_WIT"
  cp -r "$WASI_WIT/$pkg" "$work/wit/deps/"
done
out=$(wit-bindgen c "$work/wit" --world guest --out-dir "$work/gen" 2>&1) || die "wit-bindgen: $out"

status=0
for g in "${@:-hello echo trap fetch stream}"; do
  for name in $g; do
    gcc -std=gnu11 -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined -fno-sanitize-recover=undefined \
      -I"$guests" -I"$work/gen" -I"$here" -DGUEST_NAME="\"$name\"" \
      -o "$work/mock-$name" "$guests/$name.c" "$here/host.c"
    ASAN_OPTIONS=detect_leaks=1 "$work/mock-$name" || status=1
  done
done
exit $status
