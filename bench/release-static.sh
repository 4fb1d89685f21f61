#!/usr/bin/env bash
# Builds the fast release binary: on Linux with glibc it is linked statically and at a fixed
# address (no dynamic loader, no shared libraries to map, no relocations at start-up; see
# docs/performance.md for the numbers). Everyday builds (`cargo build --release`,
# `cargo install`) stay ordinary dynamic binaries in target/release/.
#
#   bash bench/release-static.sh          # prints the binary's path on its last line
#
# The flags go through RUSTFLAGS with an explicit --target: cargo then applies them to pgstate
# only, never to proc-macros and build scripts (which must stay dynamic).
set -euo pipefail
cd "$(dirname "$0")/.."
host=$(rustc -vV | sed -n 's/^host: //p')
flags=""
case "$host" in
  *-linux-gnu) flags="-C target-feature=+crt-static -C relocation-model=static" ;;
esac
RUSTFLAGS="${flags}" cargo build --profile release-static --target "$host" --locked --bin pgstate >&2
echo "target/$host/release-static/pgstate"
