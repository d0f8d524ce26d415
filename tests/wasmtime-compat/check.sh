#!/usr/bin/env bash
# Proves that tests/all/wasmtime_compat.rs is a valid Wasmtime 48 program: builds a throwaway
# crate outside the repository that depends on the real `wasmtime = "=48.0.10"`, includes that
# same file with its one alias line (`use weld as wasmtime;`) replaced by `use wasmtime;`, and
# runs its tests there. Not run by CI (it compiles Wasmtime, which takes a while).
#
# Usage: tests/wasmtime-compat/check.sh [crate-dir]   (default /tmp/compat-wasmtime)
# CARGO_TARGET_DIR is honoured; by default the crate builds in its own target/.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
src="$repo/tests/all/wasmtime_compat.rs"
dir=${1:-/tmp/compat-wasmtime}
case "$dir" in
    "$repo"|"$repo"/*) echo "the crate must be outside the repository" >&2; exit 2 ;;
esac

alias_lines=$(grep -c '^use weld as wasmtime;$' "$src" || true)
if [ "$alias_lines" != 1 ]; then
    echo "$src must contain exactly one line \`use weld as wasmtime;\` (found $alias_lines)" >&2
    exit 2
fi
if grep -n '\bweld\b' "$src" | grep -v '^[0-9]*:use weld as wasmtime;$' | grep -v '^[0-9]*: *//'; then
    echo "$src names weld outside its alias line" >&2
    exit 2
fi

mkdir -p "$dir/src" "$dir/tests"
cat > "$dir/Cargo.toml" <<'TOML'
[package]
name = "compat-wasmtime"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
wasmtime = { version = "=48.0.10", default-features = false, features = ["std", "component-model", "cranelift", "runtime", "wat"] }

[workspace]
TOML
echo "//! Empty: the tests are in tests/." > "$dir/src/lib.rs"
sed 's/^use weld as wasmtime;$/use wasmtime;/' "$src" > "$dir/tests/wasmtime_compat_body.rs"
cat > "$dir/tests/compat.rs" <<'RS'
//! tests/all/wasmtime_compat.rs from the weld repository, compiled against Wasmtime 48.
#[path = "wasmtime_compat_body.rs"]
mod wasmtime_compat;
RS

cd "$dir"
cargo test --test compat 2>&1 | tee "$dir/last-run.txt"
