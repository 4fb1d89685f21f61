# pgstate backup: dump, verify, then rename; prune only after a verified dump.
# Reads PGHOST PGPORT PGDATABASE PGUSER BACKUP_DIR BACKUP_PREFIX FORMAT KEEP PASSWORD_FILE.
set -eu
log() { printf '%s pgstate-backup: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

[ -d "$BACKUP_DIR" ] || fail "the backup volume is not mounted at $BACKUP_DIR"
probe="$BACKUP_DIR/.pgstate-write-test.$$"
( : > "$probe" ) 2>/dev/null || fail "the backup volume at $BACKUP_DIR is not writable"
rm -f "$probe"
# A job killed mid-dump leaves its partial file. No job outlives activeDeadlineSeconds (6 h), so
# a partial untouched for longer is litter; a younger one may belong to a job still running.
find "$BACKUP_DIR" -maxdepth 1 -type f -name ".partial-$BACKUP_PREFIX-*" -mmin +360 |
  while read -r old; do rm -f "$old" && log "removed $old, left by a killed job"; done
PGPASSWORD="$(cat "$PASSWORD_FILE")" || fail "cannot read the password file $PASSWORD_FILE"
export PGPASSWORD

case "$FORMAT" in
  custom) ext=dump ;;
  gzip) ext=sql.gz ;;
  *) fail "unknown FORMAT $FORMAT (custom or gzip)" ;;
esac
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
n=0
while [ -e "$BACKUP_DIR/$BACKUP_PREFIX-$stamp-$(printf %02d "$n").$ext" ]; do n=$((n + 1)); done
final="$BACKUP_DIR/$BACKUP_PREFIX-$stamp-$(printf %02d "$n").$ext"
tmp="$BACKUP_DIR/.partial-$BACKUP_PREFIX-$stamp.$$.$ext"
trap 'rm -f "$tmp" "$tmp.failed"' EXIT

if [ "$FORMAT" = custom ]; then
  pg_dump --no-password --format=custom --file="$tmp" || fail "pg_dump of $PGDATABASE on $PGHOST:$PGPORT failed"
  pg_restore --list "$tmp" > /dev/null || fail "the new dump does not read back with pg_restore --list"
else
  { pg_dump --no-password --format=plain --clean --if-exists || touch "$tmp.failed"; } | gzip -c > "$tmp"
  [ ! -e "$tmp.failed" ] || fail "pg_dump of $PGDATABASE on $PGHOST:$PGPORT failed"
  gzip -t "$tmp" || fail "the new dump is not a valid gzip file"
  gzip -dc "$tmp" | tail -n 20 | grep -q 'PostgreSQL database dump complete' || fail "the new dump is incomplete"
fi
[ -s "$tmp" ] || fail "the new dump is empty"
mv "$tmp" "$final"

# Keep the newest KEEP dumps (names sort by time); the one just verified is among them.
ls -1 "$BACKUP_DIR" | grep -E "^$BACKUP_PREFIX-[0-9]{8}T[0-9]{6}Z-[0-9]+\.$ext\$" | sort -r | tail -n +"$((KEEP + 1))" |
  while read -r old; do rm -f "$BACKUP_DIR/$old" && log "pruned $old"; done
log "ok: $final ($(wc -c < "$final") bytes); keeping the newest $KEEP"
