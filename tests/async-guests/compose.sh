#!/usr/bin/env bash
# Rebuilds the three composed async test components in tests/async-guests/ by plugging each
# jco p3 "callee" fixture into its matching "caller" fixture with `wac plug`.
# Run from the repository root, after: eval "$(../shared/tools/guest-toolchain.sh)"
set -euo pipefail

SRC=../shared/components/jco
PREFIX=packages__jco-transpile__test__fixtures__components__p3__general__
OUT=tests/async-guests

command -v wac >/dev/null || { echo "wac not on PATH; run: eval \"\$(../shared/tools/guest-toolchain.sh)\"" >&2; exit 1; }
command -v wasm-tools >/dev/null || { echo "wasm-tools not on PATH; run: eval \"\$(../shared/tools/guest-toolchain.sh)\"" >&2; exit 1; }
[ -d "$SRC" ] || { echo "$SRC not found; run this from the repository root" >&2; exit 1; }

for name in borrowing post-return transmit; do
  caller="$SRC/${PREFIX}async-$name-caller.wasm"
  callee="$SRC/${PREFIX}async-$name-callee.wasm"
  out="$OUT/$name.composed.wasm"
  wac plug "$caller" --plug "$callee" -o "$out"
  wasm-tools validate --features all "$out"
  echo "built $out"
done
