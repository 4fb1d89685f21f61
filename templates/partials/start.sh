# pgstate start: the image reads POSTGRES_PASSWORD_FILE only when it creates the database, so on
# a data directory from an earlier start, set the passwords and the app role from the mounted
# Secret files first ({{ paths.roles_script }}, on a server that listens on its socket only), then
# run the image's entrypoint with the container's arguments.
set -Eeuo pipefail
if [ -s "$PGDATA/PG_VERSION" ]; then
  pg_ctl --pgdata="$PGDATA" --wait --timeout=600 --silent \
    --options="$(printf '%q ' "${@:2}") -c listen_addresses=''" start
  if ! . {{ paths.initdb_dir }}/{{ paths.roles_script }}; then
    pg_ctl --pgdata="$PGDATA" --mode=fast --wait --silent stop
    printf 'pgstate-start: FAILED to set the passwords and the app role\n' >&2
    exit 1
  fi
  pg_ctl --pgdata="$PGDATA" --mode=fast --wait --silent stop
fi
exec docker-entrypoint.sh "$@"
