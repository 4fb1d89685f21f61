# pgstate upgrade --rollback: puts the kept PostgreSQL $OLD_MAJOR data directory back in place.
# Reads PGDATA OLD_MAJOR NEW_MAJOR, and pg_controldata of PostgreSQL $NEW_MAJOR from PGBINNEW.
{% include "partials/upgrade-common.sh" %}

if [ ! -d "$kept" ]; then
  [ "$(version "$PGDATA")" = "$OLD_MAJOR" ] || fail "there is no kept data directory $kept to go back to"
  log "ok: $PGDATA is PostgreSQL $OLD_MAJOR already; nothing to roll back"
  exit 0
fi
[ "$(version "$kept")" = "$OLD_MAJOR" ] || fail "$kept is not a PostgreSQL $OLD_MAJOR data directory"
not_in_use "$kept"
linked=no
[ ! -f "$kept/global/pg_control.old" ] || linked=yes
if [ -d "$PGDATA" ]; then
  [ "$(version "$PGDATA")" = "$NEW_MAJOR" ] || fail "$PGDATA is not PostgreSQL $NEW_MAJOR: nothing was changed"
  not_in_use "$PGDATA"
  if [ "$linked" = yes ]; then
    now="$("$PGBINNEW/pg_controldata" "$PGDATA" | grep '^Latest checkpoint location:')"
    [ -f "$PGDATA/$marker" ] && [ "$now" = "$(cat "$PGDATA/$marker")" ] || fail "the PostgreSQL $NEW_MAJOR server has run on $PGDATA since the upgrade. With --link its files are the old cluster's files, so $kept is no longer safe to start. Stay on $NEW_MAJOR, or restore a dump (pgstate restore). Nothing was changed"
  fi
  mv "$PGDATA" "$discard"
fi
if [ "$linked" = yes ] && [ ! -f "$kept/global/pg_control" ]; then
  mv "$kept/global/pg_control.old" "$kept/global/pg_control"
fi
mv "$kept" "$PGDATA"
# Removing the links of a --link upgrade leaves the old cluster's files as they are.
rm -rf "$discard"
log "ok: $PGDATA is PostgreSQL $OLD_MAJOR again; apply the StatefulSet of the old image"
