# pgstate upgrade, last step: with the PostgreSQL $NEW_MAJOR server up, update every database's
# extensions to the versions the new server ships and gather the planner statistics.
# Reads PGHOST PGPORT PGUSER PASSWORD_FILE NEW_MAJOR.
set -eu
log() { printf '%s pgstate-upgrade: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

PGPASSWORD="$(cat "$PASSWORD_FILE")" || fail "cannot read the password file $PASSWORD_FILE"
export PGPASSWORD
q() { psql --no-password --no-psqlrc --tuples-only --no-align --set=ON_ERROR_STOP=1 "$@"; }
server="$(q --dbname=postgres --command='SHOW server_version_num')" || fail "cannot reach the server at $PGHOST:$PGPORT"
[ "$((server / 10000))" = "$NEW_MAJOR" ] || fail "the server at $PGHOST:$PGPORT is version $server, not PostgreSQL $NEW_MAJOR: apply the StatefulSet of the new image first"
dbs="$(mktemp)"
q --dbname=postgres --command="SELECT datname FROM pg_database WHERE datallowconn ORDER BY 1" > "$dbs"
while IFS= read -r db; do
  # The name goes through the environment: as --dbname it could be read as a connection string.
  PGDATABASE="$db"
  export PGDATABASE
  q --command="SELECT format('ALTER EXTENSION %I UPDATE;', extname) FROM pg_extension ORDER BY 1" \
    | q > /dev/null || fail "updating the extensions of $db failed"
done < "$dbs"
unset PGDATABASE
# PostgreSQL 18's pg_upgrade carries the statistics over; older ones leave them to be gathered.
if [ "$NEW_MAJOR" -ge 18 ]; then
  vacuumdb --no-password --all --analyze-in-stages --missing-stats-only || fail "vacuumdb failed"
else
  vacuumdb --no-password --all --analyze-in-stages || fail "vacuumdb failed"
fi
log "ok: extensions updated and statistics gathered on PostgreSQL $NEW_MAJOR"
