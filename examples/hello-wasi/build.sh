#!/usr/bin/env bash
# Builds hello.wasm, a WASI 0.2 command component, from hello.c:
#   1. clang-14 + wasi-libc compile it to a wasm32-wasi (WASI preview 1) core module;
#   2. wasm-tools wraps that module into a component, with the preview1 adapter
#      turning its wasi_snapshot_preview1 imports into WASI 0.2 imports.
# Needs the guest toolchain:  eval "$(/work/shared/tools/guest-toolchain.sh)"
set -euo pipefail
cd "$(dirname "$0")"
for tool in clang-14 wasm-tools; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool not found; run: eval \"\$(<shared>/tools/guest-toolchain.sh)\"" >&2; exit 1; }
done
adapter="${WELD_GUEST_ADAPTERS:-}/wasi_snapshot_preview1.command.wasm"
[ -f "$adapter" ] || { echo "build.sh: $adapter not found; set WELD_GUEST_ADAPTERS (guest-toolchain.sh does)" >&2; exit 1; }

core=$(mktemp --suffix=.core.wasm)
trap 'rm -f "$core"' EXIT
clang-14 --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Wextra -Werror -o "$core" hello.c
wasm-tools component new "$core" --adapt "wasi_snapshot_preview1=$adapter" -o hello.wasm
wasm-tools validate hello.wasm
echo "built $(pwd)/hello.wasm"
