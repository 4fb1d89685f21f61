# pgstate upgrade --method dump, step 1: a dump of every database and role of the running
# PostgreSQL $OLD_MAJOR server, written to a temporary name and renamed once it is verified.
# Reads PGHOST PGPORT PGUSER PASSWORD_FILE BACKUP_DIR DUMP OLD_MAJOR NEW_MAJOR.
set -eu
log() { printf '%s pgstate-upgrade: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

PGPASSWORD="$(cat "$PASSWORD_FILE")" || fail "cannot read the password file $PASSWORD_FILE"
export PGPASSWORD
server="$(psql --no-password --no-psqlrc --tuples-only --no-align --dbname=postgres \
  --command='SHOW server_version_num')" || fail "cannot reach the server at $PGHOST:$PGPORT"
[ "$((server / 10000))" = "$OLD_MAJOR" ] || fail "the server at $PGHOST:$PGPORT is version $server, not PostgreSQL $OLD_MAJOR"
file="$BACKUP_DIR/$DUMP"
partial="$BACKUP_DIR/.$DUMP.partial"
log "dumping every database of $PGHOST:$PGPORT (PostgreSQL $OLD_MAJOR) to $file"
rm -f "$partial"
# A pipeline's status is its last command's: the checks below catch a failed pg_dumpall.
{ pg_dumpall --no-password || echo "pgstate: pg_dumpall failed"; } | gzip -1 > "$partial" || fail "cannot write $partial"
gzip -t "$partial" || fail "$partial is not a valid gzip file"
gzip -dc "$partial" | tail -n 5 | grep -q '^pgstate: pg_dumpall failed' && fail "pg_dumpall failed (above)"
gzip -dc "$partial" | tail -n 20 | grep -q 'PostgreSQL database cluster dump complete' || fail "the dump is incomplete"
mv "$partial" "$file"
log "ok: $file ($(du -k "$file" | cut -f1) kB) is complete; next: scale the StatefulSet to 0 and run the restore step"
