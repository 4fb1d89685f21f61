# pgstate restore: one dump from the backup volume into the database, all or nothing.
# Reads PGHOST PGPORT PGDATABASE PGUSER BACKUP_DIR BACKUP_PREFIX DUMP PASSWORD_FILE.
set -eu
log() { printf '%s pgstate-restore: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

PGPASSWORD="$(cat "$PASSWORD_FILE")" || fail "cannot read the password file $PASSWORD_FILE"
export PGPASSWORD
if [ "$DUMP" = latest ]; then
  DUMP="$(ls -1 "$BACKUP_DIR" | grep -E "^$BACKUP_PREFIX-[0-9]{8}T[0-9]{6}Z-[0-9]+\.(dump|sql\.gz)\$" | sort -r | head -n 1)"
  [ -n "$DUMP" ] || fail "there is no dump in $BACKUP_DIR"
fi
file="$BACKUP_DIR/$DUMP"
[ -f "$file" ] || fail "there is no dump $file"
log "restoring $file into $PGDATABASE on $PGHOST:$PGPORT"
# Owners come back as dumped: the app's objects belong to the app role again (the database
# pod's start step creates it, so it exists wherever pgstate runs the database).
case "$file" in
  *.dump)
    pg_restore --no-password --clean --if-exists --exit-on-error --single-transaction \
      --dbname="$PGDATABASE" "$file" || fail "pg_restore failed; the database is unchanged" ;;
  *.sql.gz)
    gzip -t "$file" || fail "$file is not a valid gzip file"
    # psql would commit a dump cut short (its end just ends a COPY), so check the end first; the
    # last lines of a plain dump are this marker and, since 17.6/16.10/15.14, "\unrestrict KEY".
    gzip -dc "$file" | tail -n 20 | grep -q 'PostgreSQL database dump complete' || fail "$file is incomplete"
    gzip -dc "$file" | psql --no-password --quiet --set=ON_ERROR_STOP=1 --single-transaction \
      --dbname="$PGDATABASE" > /dev/null || fail "psql failed; the database is unchanged" ;;
  *) fail "$file is neither a .dump nor a .sql.gz" ;;
esac
log "ok: restored $DUMP"
