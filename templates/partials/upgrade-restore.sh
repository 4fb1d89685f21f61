# pgstate upgrade --method dump, step 2: a new PostgreSQL $NEW_MAJOR cluster beside the old data
# directory, the dump of step 1 restored into it, then the new one put in place; the old data
# directory is kept as $PGDATA.$OLD_MAJOR for a rollback.
# Reads PGDATA OLD_MAJOR NEW_MAJOR PGUSER BACKUP_DIR DUMP INITDB_ARGS.
{% include "partials/upgrade-common.sh" %}

where_we_are
file="$BACKUP_DIR/$DUMP"
[ -f "$file" ] || fail "there is no dump $file: run the dump step first. Nothing was changed"
gzip -t "$file" || fail "$file is not a valid gzip file. Nothing was changed"
rm -rf "$stage"
work="$(mktemp -d)"
finished=no
undo() {
  [ "$finished" = no ] || return 0
  pg_ctl stop --pgdata="$stage" --mode=immediate > /dev/null 2>&1 || true
  rm -rf "$stage"
  log "FAILED: the old data directory $PGDATA is unchanged and starts as before"
}
trap undo EXIT
log "creating the PostgreSQL $NEW_MAJOR cluster in $stage"
# shellcheck disable=SC2086
# No sync here: the whole data directory is synced once the restore is done.
initdb --pgdata="$stage" --username="$PGUSER" --no-sync --auth-local=trust --auth-host=scram-sha-256 \
  ${INITDB_ARGS:-} > /dev/null || fail "initdb of the new cluster failed"
pg_ctl start --pgdata="$stage" --wait --timeout=300 --log="$work/server.log" \
  --options="-c listen_addresses='' -c unix_socket_directories='$work'" > /dev/null \
  || { cat "$work/server.log" >&2; fail "the new server does not start"; }
log "restoring $file"
# The dump creates every role, and the install user exists already: skip that one statement.
me="$(psql --no-psqlrc --tuples-only --no-align --host="$work" --dbname=postgres \
  --command='SELECT quote_ident(current_user)')"
gzip -dc "$file" \
  | awk -v skip="CREATE ROLE $me;" '!seen && $0 == skip { seen = 1; next } { print }' \
  | psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1 --host="$work" --dbname=postgres > /dev/null \
  || fail "the restore failed (above)"
pg_ctl stop --pgdata="$stage" --mode=fast --wait > /dev/null || fail "the new server does not stop"
initdb --pgdata="$stage" --sync-only > /dev/null || fail "cannot sync $stage to disk"
# The server's access rules and user maps stay those of the old cluster.
cp "$PGDATA/pg_hba.conf" "$PGDATA/pg_ident.conf" "$stage/"
: > "$stage/$marker"
swap
finished=yes
log "ok: $PGDATA is PostgreSQL $NEW_MAJOR; the old data directory is kept as $kept"
