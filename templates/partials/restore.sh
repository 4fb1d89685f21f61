# pgstate restore: one dump from the backup volume into the database, all or nothing.
# A custom-format dump is restored with JOBS parallel jobs into the scratch database
# pgstate_restore, checked, and then swapped in by renaming (the old database is dropped after);
# a plain SQL dump runs in one transaction. Either way a failure leaves the database as it was.
# Reads PGHOST PGPORT PGDATABASE PGUSER BACKUP_DIR BACKUP_PREFIX DUMP JOBS PASSWORD_FILE.
# The target's name comes from PGDATABASE and goes to SQL as a quoted psql variable, never as
# --dbname (libpq reads a name with `=` or a URL prefix as a connection string).
{% set log_as = "restore" %}
{% include "partials/dump-check-start.sh" %}
if [ "$DUMP" = latest ]; then
  DUMP="$(ls -1 "$BACKUP_DIR" | grep -E "^$BACKUP_PREFIX-[0-9]{8}T[0-9]{6}Z-[0-9]+\.(dump|sql\.gz)\$" | sort -r | head -n 1)"
  [ -n "$DUMP" ] || fail "there is no dump in $BACKUP_DIR"
fi
file="$BACKUP_DIR/$DUMP"
[ -f "$file" ] || fail "there is no dump $file"
target="$PGDATABASE"
log "restoring $file into $target on $PGHOST:$PGPORT"
# admin: psql on the maintenance database, with the target's name in the variable `target`.
admin() {
  PGDATABASE=postgres psql --no-password --no-psqlrc --quiet --tuples-only --no-align \
    --set=ON_ERROR_STOP=1 --set=target="$target" "$@"
}
case "$file" in
  *.dump)
    scratch=pgstate_restore
    # A restore killed earlier leaves its scratch database; nothing else uses that name.
    admin --command="DROP DATABASE IF EXISTS $scratch WITH (FORCE)" || fail "cannot drop the scratch database $scratch"
    # The scratch database gets the target's owner, encoding and collation.
    admin <<SQL || fail "cannot create the scratch database $scratch"
SELECT format('CREATE DATABASE $scratch TEMPLATE template0 OWNER %I ENCODING %L LC_COLLATE %L LC_CTYPE %L',
              coalesce(pg_get_userbyid(d.datdba), current_user), pg_encoding_to_char(coalesce(d.encoding, t.encoding)),
              coalesce(d.datcollate, t.datcollate), coalesce(d.datctype, t.datctype))
FROM pg_database t LEFT JOIN pg_database d ON d.datname = :'target' WHERE t.datname = 'template0'
\gexec
SQL
    # Owners come back as dumped: the app's objects belong to the app role again (the database
    # pod's start step creates it, so it exists wherever pgstate runs the database).
    pg_restore --no-password --exit-on-error --jobs="$JOBS" --dbname=$scratch "$file" ||
      fail "pg_restore failed; $target is unchanged (the next restore drops the scratch database $scratch)"
    PGDATABASE=$scratch check_rows "$file.rows"
    # The swap: no session may be connected to either database while it is renamed. New
    # connections to the target are refused, the open ones ended, then both renames commit
    # together; the old database is dropped after.
    admin > /dev/null <<SQL || { echo 'ALTER DATABASE :"target" WITH ALLOW_CONNECTIONS true;' | admin 2> /dev/null || true; fail "the swap failed; $target is unchanged"; }
SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'target') AS had_target \gset
\if :had_target
ALTER DATABASE :"target" WITH ALLOW_CONNECTIONS false;
SELECT count(pg_terminate_backend(pid, 10000)) FROM pg_stat_activity WHERE datname IN (:'target', '$scratch') AND pid <> pg_backend_pid();
DROP DATABASE IF EXISTS pgstate_replaced;
BEGIN;
ALTER DATABASE :"target" RENAME TO pgstate_replaced;
ALTER DATABASE $scratch RENAME TO :"target";
COMMIT;
DROP DATABASE pgstate_replaced;
\else
ALTER DATABASE $scratch RENAME TO :"target";
\endif
SQL
    ;;
  *.sql.gz)
    gzip -t "$file" || fail "$file is not a valid gzip file"
    # psql would commit a dump cut short (its end just ends a COPY), so check the end first; the
    # last lines of a plain dump are this marker and, since 17.6/16.10/15.14, "\unrestrict KEY".
    gzip -dc "$file" | tail -n 20 | grep -q 'PostgreSQL database dump complete' || fail "$file is incomplete"
    gzip -dc "$file" | psql --no-password --quiet --set=ON_ERROR_STOP=1 --single-transaction \
      > /dev/null || fail "psql failed; the database is unchanged" ;;
  *) fail "$file is neither a .dump nor a .sql.gz" ;;
esac
log "ok: restored $DUMP"
