#!/usr/bin/env bash
# Times the release binary as a whole process: several runs per case, the median wall time and
# the peak RSS, each printed beside its goal. Installs nothing and needs no network: it uses
# hyperfine when it is on PATH (`apt-get install -y hyperfine`) and GNU time (/usr/bin/time -v)
# otherwise; peak RSS always comes from /usr/bin/time -v (the `time` package). python3 reads
# hyperfine's results.
#
#   bench/run.sh                 # builds with bench/release-static.sh first
#   RUNS=31 bench/run.sh         # more runs per case (default 21; the 1,000-config cases use RUNS/3)
#   PGSTATE=path/to/pgstate bench/run.sh   # time another binary (no build)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${RUNS:-21}"
big_runs=$(( runs / 3 > 5 ? runs / 3 : 5 ))
if [[ -z "${PGSTATE:-}" ]]; then
  # the shipped binary: static, at a fixed address (bench/release-static.sh prints its path)
  PGSTATE="$root/$(bash "$root/bench/release-static.sh" | tail -n 1)"
fi
bin="$PGSTATE"
if [[ ! -x /usr/bin/time ]]; then
  echo "bench/run.sh needs GNU time at /usr/bin/time for peak RSS (apt-get install -y time); not installing it" >&2
  exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# N database configs, each with its own name and namespace (no collisions), varied a little so
# every template path is taken: backups on odd ones, a local volume every tenth.
generate() {
  local n="$1" dir="$2" i
  mkdir -p "$dir"
  for ((i = 0; i < n; i++)); do
    {
      printf 'name: db-%04d\nnamespace: team-%04d\n' "$i" "$i"
      printf 'labels: {team: t%d}\n' $((i % 7))
      printf 'postgres:\n  image: postgres:17.2\n  database: app%d\n  storage:\n    size: %dGi\n    class: fast\n' "$i" $((i % 50 + 1))
      if ((i % 10 == 0)); then
        printf '    local: {node: node%d, path: /data/db-%04d}\n' $((i % 3)) "$i"
      fi
      if ((i % 2 == 1)); then
        printf 'backup: {schedule: "0 %d * * *", keep: %d}\n' $((i % 24)) $((i % 9 + 2))
      fi
      printf 'app:\n  image: ghcr.io/acme/app-%d:1.%d.0\n  replicas: %d\n' "$i" $((i % 10)) $((i % 3 + 1))
    } >"$dir/db-$(printf %04d "$i").yaml"
  done
}
generate 100 "$work/db100"
generate 1000 "$work/db1000"

# median wall milliseconds of `$@` over $n runs (output to /dev/null); exits if it fails
median_ms() {
  local n="$1"; shift
  if command -v hyperfine >/dev/null; then
    hyperfine --style none --warmup 2 --runs "$n" --export-json "$work/h.json" -N -- "$(printf '%q ' "$@")" >/dev/null 2>&1 \
      || { echo "failed: $*" >&2; exit 1; }
    python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["results"][0]["median"]*1000))' "$work/h.json"
  else
    # GNU time's %e has 10 ms resolution, so wall time comes from date's nanoseconds
    local i s e times=()
    "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }   # warm-up, and it must pass
    for ((i = 0; i < n; i++)); do
      s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N)
      times+=( "$(( (e - s) / 1000 ))" )
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f\n", a[int((NR+1)/2)]/1000}'
  fi
}

# peak RSS in KiB (the largest of 3 runs)
peak_kib() {
  local i max=0 r
  for i in 1 2 3; do
    /usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>&1
    r=$(tail -1 "$work/rss")
    ((r > max)) && max=$r
  done
  echo "$max"
}

verdict() { if awk "BEGIN {exit !($1)}"; then echo ok; else echo MISSED; fi; }

tool=$(command -v hyperfine >/dev/null && echo hyperfine || echo "date+GNU time")
echo "pgstate benchmark: $bin; $runs runs per case ($big_runs for 1,000 configs), medians, timer: $tool"
printf '%-42s %12s %12s   %s\n' case "median ms" "peak MiB" goal
for f in calculator tfvisualizer healthcare; do
  ms=$(median_ms "$runs" "$bin" render -c "$root/fixtures/$f.yaml")
  kib=$(peak_kib "$bin" render -c "$root/fixtures/$f.yaml")
  mib=$(awk "BEGIN {printf \"%.1f\", $kib/1024}")
  printf '%-42s %12s %12s   <= 2 ms: %s; <= 10 MiB: %s\n' "render $f.yaml" "$ms" "$mib" \
    "$(verdict "$ms <= 2")" "$(verdict "$mib <= 10")"
done
for cmd in render check; do
  t100=$(median_ms "$runs" "$bin" "$cmd" -c "$work/db100")
  t1000=$(median_ms "$big_runs" "$bin" "$cmd" -c "$work/db1000")
  kib=$(peak_kib "$bin" "$cmd" -c "$work/db1000")
  mib=$(awk "BEGIN {printf \"%.1f\", $kib/1024}")
  ratio=$(awk "BEGIN {printf \"%.2f\", $t1000/$t100}")
  printf '%-42s %12s %12s\n' "$cmd -c DIR (100 configs)" "$t100" "-"
  printf '%-42s %12s %12s   <= 250 ms: %s\n' "$cmd -c DIR (1,000 configs)" "$t1000" "$mib" "$(verdict "$t1000 <= 250")"
  printf '%-42s %12s %12s   <= 11: %s\n' "$cmd time(1000)/time(100)" "$ratio" "-" "$(verdict "$ratio <= 11")"
done
