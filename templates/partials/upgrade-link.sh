# pgstate upgrade --method link: pg_upgrade --link of $PGDATA from PostgreSQL $OLD_MAJOR to $NEW_MAJOR
# on the same volume; the old data directory is kept as $PGDATA.$OLD_MAJOR for a rollback.
# Reads PGDATA OLD_MAJOR NEW_MAJOR PGBINOLD PGBINNEW PGUSER INITDB_ARGS.
{% include "partials/upgrade-common.sh" %}

where_we_are
if [ -f "$PGDATA/global/pg_control.old" ] && [ ! -f "$PGDATA/global/pg_control" ]; then
  # An earlier run was stopped after pg_upgrade disabled the old cluster and before the new one
  # was put in place: the new server never ran, so the old cluster is whole. Enable it again.
  rm -rf "$stage"
  mv "$PGDATA/global/pg_control.old" "$PGDATA/global/pg_control"
  log "undid an earlier run that was stopped part way"
fi
state="$("$PGBINOLD/pg_controldata" "$PGDATA" | sed -n 's/^Database cluster state: *//p')"
[ "$state" = "shut down" ] || fail "the cluster in $PGDATA was not shut down cleanly (state: $state): start the old server once and stop it (scale the StatefulSet to 1, then to 0). Nothing was changed"
rm -rf "$stage"

finished=no
undo() {
  [ "$finished" = no ] || return 0
  # Whatever failed, the old cluster is left as it was: pg_upgrade --link only disables it
  # (global/pg_control renamed), and the new server has not run on the linked files.
  rm -rf "$stage"
  if [ -f "$PGDATA/global/pg_control.old" ] && [ ! -f "$PGDATA/global/pg_control" ]; then
    mv "$PGDATA/global/pg_control.old" "$PGDATA/global/pg_control"
  fi
  log "FAILED: the old cluster in $PGDATA is unchanged and starts as before"
}
trap undo EXIT

# The new cluster takes the old one's data checksum setting (pg_upgrade needs them equal);
# PostgreSQL 18's initdb turns checksums on unless told otherwise.
sums="$("$PGBINOLD/pg_controldata" "$PGDATA" | sed -n 's/^Data page checksum version: *//p')"
if [ "$sums" != 0 ]; then
  sums=--data-checksums
elif "$PGBINNEW/initdb" --help | grep -q -- --no-data-checksums; then
  sums=--no-data-checksums
else
  sums=
fi
log "creating the PostgreSQL $NEW_MAJOR cluster in $stage"
# INITDB_ARGS is split into words like the image's POSTGRES_INITDB_ARGS (globbing is off).
# No sync here: pg_upgrade syncs the whole new data directory to disk at its end.
# shellcheck disable=SC2086
"$PGBINNEW/initdb" --pgdata="$stage" --username="$PGUSER" --no-sync $sums ${INITDB_ARGS:-} > /dev/null \
  || fail "initdb of the new cluster failed"
work="$(mktemp -d)"
cd "$work"
# One syncfs() of the volume's filesystem instead of an fsync() of every file (PostgreSQL 17+).
syncfs=
! "$PGBINNEW/pg_upgrade" --help | grep -q -- --sync-method || syncfs=--sync-method=syncfs
upgrade() {
  "$PGBINNEW/pg_upgrade" --old-datadir="$PGDATA" --new-datadir="$stage" --old-bindir="$PGBINOLD" \
    --new-bindir="$PGBINNEW" --username="$PGUSER" --socketdir="$work" --link $syncfs "$@"
}
log "pg_upgrade --check"
upgrade --check || fail "pg_upgrade --check found a problem (above)"
log "pg_upgrade --link"
upgrade || fail "pg_upgrade failed (above)"
# The server's access rules and user maps stay those of the old cluster.
cp "$PGDATA/pg_hba.conf" "$PGDATA/pg_ident.conf" "$stage/"
# The new cluster's checkpoint as pg_upgrade left it: the rollback compares it to tell whether
# the new server has run since (then the linked old files are no longer safe to start).
"$PGBINNEW/pg_controldata" "$stage" | grep '^Latest checkpoint location:' > "$stage/$marker"
swap
finished=yes
log "ok: $PGDATA is PostgreSQL $NEW_MAJOR; the old data directory is kept as $kept, and can be started again only until the new server first starts"
