# pgstate drill: the newest dump on the volume restores into the scratch database pgstate_drill,
# every table that had rows when it was dumped has rows, and the scratch database is dropped.
# Any failure exits non-zero and says so: the Job fails, and that is the alert.
# Reads PGHOST PGPORT PGUSER BACKUP_DIR BACKUP_PREFIX JOBS PASSWORD_FILE.
{% set log_as = "drill" %}
{% include "partials/dump-check-start.sh" %}
DUMP="$(ls -1 "$BACKUP_DIR" | grep -E "^$BACKUP_PREFIX-[0-9]{8}T[0-9]{6}Z-[0-9]+\.(dump|sql\.gz)\$" | sort -r | head -n 1)" || true
[ -n "$DUMP" ] || fail "there is no dump in $BACKUP_DIR"
file="$BACKUP_DIR/$DUMP"
scratch=pgstate_drill
drop() { PGDATABASE=postgres psql --no-password --no-psqlrc --quiet --set=ON_ERROR_STOP=1 --command="DROP DATABASE IF EXISTS $scratch WITH (FORCE)"; }
drop || fail "cannot drop the scratch database $scratch"
trap 'drop || log "could not drop the scratch database $scratch"' EXIT
PGDATABASE=postgres psql --no-password --no-psqlrc --quiet --set=ON_ERROR_STOP=1 \
  --command="CREATE DATABASE $scratch TEMPLATE template0" || fail "cannot create the scratch database $scratch"
log "restoring $DUMP into $scratch"
case "$file" in
  *.dump)
    pg_restore --no-password --exit-on-error --jobs="$JOBS" --dbname=$scratch "$file" ||
      fail "$DUMP does not restore" ;;
  *.sql.gz)
    gzip -t "$file" || fail "$DUMP is not a valid gzip file"
    gzip -dc "$file" | tail -n 20 | grep -q 'PostgreSQL database dump complete' || fail "$DUMP is incomplete"
    gzip -dc "$file" | PGDATABASE=$scratch psql --no-password --no-psqlrc --quiet --set=ON_ERROR_STOP=1 \
      --single-transaction > /dev/null || fail "$DUMP does not restore" ;;
  *) fail "$file is neither a .dump nor a .sql.gz" ;;
esac
PGDATABASE=$scratch check_rows "$file.rows"
log "ok: $DUMP restores and its tables have their rows"
