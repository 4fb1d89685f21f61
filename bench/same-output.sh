#!/usr/bin/env bash
# Proves a refactor changed no output: runs two pgstate binaries over every fixture, every
# invalid fixture, every Bitnami case and a generated 1,000-config fleet, through every command
# that prints something deterministic, and compares stdout, stderr and the exit code with cmp.
#
#   bench/same-output.sh OLD_BINARY [NEW_BINARY]   # NEW defaults to target/debug/pgstate
#
# Exits 0 when every case is byte-identical, 1 (listing the cases) otherwise.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
old="$(realpath "${1:?usage: bench/same-output.sh OLD_BINARY [NEW_BINARY]}")"
new="$(realpath "${2:-$root/target/debug/pgstate}")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$root"

# the fleet: the same generator as bench/run.sh
fleet="$work/fleet"
mkdir -p "$fleet"
for ((i = 0; i < 1000; i++)); do
  {
    printf 'name: db-%04d\nnamespace: team-%04d\n' "$i" "$i"
    printf 'labels: {team: t%d}\n' $((i % 7))
    printf 'postgres:\n  image: postgres:17.2\n  database: app%d\n  storage:\n    size: %dGi\n    class: fast\n' "$i" $((i % 50 + 1))
    ((i % 10 == 0)) && printf '    local: {node: node%d, path: /data/db-%04d}\n' $((i % 3)) "$i"
    ((i % 2 == 1)) && printf 'backup: {schedule: "0 %d * * *", keep: %d}\n' $((i % 24)) $((i % 9 + 2))
    printf 'app:\n  image: ghcr.io/acme/app-%d:1.%d.0\n  replicas: %d\n' "$i" $((i % 10)) $((i % 3 + 1))
  } >"$fleet/db-$(printf %04d "$i").yaml"
done

cases="$work/cases"
: >"$cases"
add() { printf '%s\n' "$*" >>"$cases"; }

add render
add check
add check --format json
add schema
add connection
add graph
add init -o -
for preset in calculator tfvisualizer healthcare ha; do add init --preset "$preset" -o -; done
for f in fixtures/*.yaml fixtures/course; do
  add render -c "$f"
  add render -c "$f" --format json
  add check -c "$f" --format json
  add check -c "$f" --format github
  add connection -c "$f" --format yaml
  add graph -c "$f" --format dot
  add restore -c "$f" --latest
  add upgrade -c "$f" --from 15
  add upgrade -c "$f" --from 15 --method dump
  add upgrade -c "$f" --from 15 --rollback
done
for f in fixtures/*.yaml; do
  for e in $(grep -A50 '^environments:' "$f" 2>/dev/null | sed -n 's/^  \([a-z][a-z0-9-]*\):.*/\1/p'); do
    add render -c "$f" --env "$e"
  done
done
for f in fixtures/invalid/*.yaml; do
  add render -c "$f"
  add check -c "$f" --format json
done
for f in fixtures/bitnami/*.yaml fixtures/bitnami/invalid/*.yaml; do
  add init --from-bitnami "$f" -o -
done
add render -c "$fleet"
add check -c "$fleet"

run() { # binary outdir n args...
  local bin="$1" out="$2" n="$3"; shift 3
  local rc=0
  (cd "$work/cwd" && env -u PGSTATE_PASSWORD "$bin" "$@" >"$out/$n.out" 2>"$out/$n.err" </dev/null) || rc=$?
  echo "$rc" >"$out/$n.rc"
}

mkdir -p "$work/old" "$work/new" "$work/cwd"
n=0
while IFS= read -r line; do
  read -ra args <<<"$line"
  abs=()
  for a in "${args[@]}"; do
    if [[ -e "$root/$a" ]]; then abs+=("$root/$a"); else abs+=("$a"); fi
  done
  run "$old" "$work/old" "$n" "${abs[@]}"
  run "$new" "$work/new" "$n" "${abs[@]}"
  n=$((n + 1))
done <"$cases"

# --out-dir trees, for every fixture
for f in fixtures/*.yaml; do
  b="$(basename "$f" .yaml)"
  (cd "$work/cwd" && "$old" render -c "$root/$f" --out-dir "$work/old/dir-$b" >/dev/null 2>&1) || true
  (cd "$work/cwd" && "$new" render -c "$root/$f" --out-dir "$work/new/dir-$b" >/dev/null 2>&1) || true
done

bad=0
i=0
while IFS= read -r line; do
  for s in out err rc; do
    if ! cmp -s "$work/old/$i.$s" "$work/new/$i.$s"; then
      echo "differs ($s): pgstate $line"
      bad=$((bad + 1))
    fi
  done
  i=$((i + 1))
done <"$cases"
if ! diff -r "$work/old" "$work/new" >/dev/null 2>&1; then
  for d in "$work"/old/dir-*; do
    diff -r "$d" "$work/new/$(basename "$d")" >/dev/null 2>&1 || { echo "differs (out-dir): $(basename "$d")"; bad=$((bad + 1)); }
  done
fi
echo "compared $i commands (stdout, stderr, exit code) and $(ls -d "$work"/old/dir-* | wc -l) --out-dir trees: $bad differ"
[[ $bad -eq 0 ]]
