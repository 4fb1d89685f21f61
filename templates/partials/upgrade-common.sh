# Shared by the upgrade scripts. Reads PGDATA OLD_MAJOR NEW_MAJOR.
set -eu
set -f
log() { printf '%s pgstate-upgrade: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }
case "$OLD_MAJOR$NEW_MAJOR" in *[!0-9]*|'') fail "OLD_MAJOR and NEW_MAJOR must be numbers" ;; esac
# The old data directory is kept beside the new one; the new one is built under another name and
# renamed into place only when it is complete.
kept="$PGDATA.$OLD_MAJOR"
stage="$PGDATA.new-$NEW_MAJOR"
discard="$PGDATA.discard-$NEW_MAJOR"
marker=pgstate-upgrade
version() { cat "$1/PG_VERSION" 2> /dev/null || true; }
# A pod's UID has no passwd entry, and initdb and pg_upgrade need one: fake it as the image's
# entrypoint does (nss_wrapper).
if ! id -un > /dev/null 2>&1; then
  nss="$(mktemp -d)"
  printf 'postgres:x:%s:%s:PostgreSQL:%s:/bin/false\n' "$(id -u)" "$(id -g)" "$nss" > "$nss/passwd"
  printf 'postgres:x:%s:\n' "$(id -g)" > "$nss/group"
  NSS_WRAPPER_PASSWD="$nss/passwd" NSS_WRAPPER_GROUP="$nss/group" LD_PRELOAD=libnss_wrapper.so
  export NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP LD_PRELOAD
fi
# A server of this or another pod leaves postmaster.pid in the data directory while it runs (and
# after a crash); its PID means nothing across pods, so the file alone decides.
not_in_use() {
  [ ! -e "$1/postmaster.pid" ] || fail "a server is using $1 (it has a postmaster.pid): scale the StatefulSet to 0 and wait until its pod is gone (kubectl wait --for=delete pod/...); if the server crashed, start it once and stop it cleanly. Nothing was changed"
}
# Called when $PGDATA is missing: a run was stopped between the two renames. Finish it.
finish_swap() {
  if [ "$(version "$kept")" = "$OLD_MAJOR" ] && [ -f "$stage/$marker" ]; then
    mv "$stage" "$PGDATA"
    log "ok: finished an interrupted run: $PGDATA is PostgreSQL $NEW_MAJOR, the old data is kept in $kept"
    exit 0
  fi
  fail "there is no data directory $PGDATA (and no finished upgrade to put there)"
}
# Checks where the volume stands; exits 0 when the upgrade is already done.
where_we_are() {
  case "$(version "$PGDATA")" in
    "$NEW_MAJOR")
      log "ok: $PGDATA is already PostgreSQL $NEW_MAJOR (the old data is kept in $kept); nothing to do"
      exit 0 ;;
    "$OLD_MAJOR") ;;
    "") finish_swap ;;
    *) fail "$PGDATA holds PostgreSQL $(version "$PGDATA"), neither $OLD_MAJOR nor $NEW_MAJOR: check --from" ;;
  esac
  not_in_use "$PGDATA"
  [ ! -e "$kept" ] || fail "$kept exists (the data kept by an earlier upgrade?): move or delete it first. Nothing was changed"
}
# Puts the finished new cluster in place: the old directory becomes $kept, the stage $PGDATA.
swap() {
  mv "$PGDATA" "$kept"
  mv "$stage" "$PGDATA"
}
