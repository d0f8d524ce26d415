#!/usr/bin/env bash
# Builds hello.wasm, a WASI 0.2 command component, from hello.c:
#   1. clang-14 + wasi-libc compile it to a wasm32-wasi (WASI preview 1) core module;
#   2. wasm-tools embeds hello.wit's world, which names the one WASI 0.2 import
#      hello.c declares itself (wasi:cli/exit's exit-with-code);
#   3. wasm-tools wraps the module into a component, the preview1 adapter turning
#      its wasi_snapshot_preview1 imports into WASI 0.2 imports.
# Needs the guest toolchain (eval "$(<shared>/tools/guest-toolchain.sh)") and the
# WASI 0.2 WIT packages in $WASI_WIT (default: <repo>/../shared/spec/wasi/0.2).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
WASI_WIT="${WASI_WIT:-$here/../../../shared/spec/wasi/0.2}"
die() { echo "build.sh: $*" >&2; exit 1; }
for tool in clang-14 wasm-tools; do
  command -v "$tool" >/dev/null || die "$tool not found; run: eval \"\$(<shared>/tools/guest-toolchain.sh)\""
done
adapter="${WELD_GUEST_ADAPTERS:-}/wasi_snapshot_preview1.command.wasm"
[ -f "$adapter" ] || die "$adapter not found; set WELD_GUEST_ADAPTERS (guest-toolchain.sh does)"
[ -d "$WASI_WIT/cli" ] || die "no WASI 0.2 WIT in $WASI_WIT; set WASI_WIT"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/wit/deps"
cp "$here/hello.wit" "$work/wit/"
for pkg in cli clocks filesystem io random sockets; do cp -r "$WASI_WIT/$pkg" "$work/wit/deps/"; done

clang-14 --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Wextra -Werror -o "$work/core.wasm" "$here/hello.c"
wasm-tools component embed "$work/wit" --world hello "$work/core.wasm" -o "$work/embedded.wasm"
wasm-tools component new "$work/embedded.wasm" --adapt "wasi_snapshot_preview1=$adapter" -o "$here/hello.wasm"
wasm-tools validate "$here/hello.wasm"
echo "built $here/hello.wasm"
