# pgstate backup: dump, verify, record which tables have rows, then rename; prune only after a
# verified dump.
# Reads PGHOST PGPORT PGDATABASE PGUSER BACKUP_DIR BACKUP_PREFIX FORMAT COMPRESSION KEEP
# PASSWORD_FILE.
set -eu
log() { printf '%s pgstate-backup: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }
{% include "partials/table-rows.sh" %}

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
# custom: zstd from PostgreSQL 16 on (faster and smaller), gzip (pg_dump's default) before.
major="$(pg_dump --version | sed -n 's/^pg_dump (PostgreSQL) \([0-9]*\).*/\1/p')"
compress=
case "$FORMAT:$COMPRESSION" in
  custom:auto) [ "${major:-0}" -lt 16 ] || compress=--compress=zstd ;;
  custom:zstd)
    [ "${major:-0}" -ge 16 ] || fail "compression zstd needs a PostgreSQL 16 or newer pg_dump; this one is ${major:-unknown}: use a newer backup.image, or compression: gzip"
    compress=--compress=zstd ;;
  custom:gzip | gzip:auto | gzip:gzip) ;;
  *) fail "unknown COMPRESSION $COMPRESSION for FORMAT $FORMAT" ;;
esac
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
n=0
while [ -e "$BACKUP_DIR/$BACKUP_PREFIX-$stamp-$(printf %02d "$n").$ext" ]; do n=$((n + 1)); done
final="$BACKUP_DIR/$BACKUP_PREFIX-$stamp-$(printf %02d "$n").$ext"
tmp="$BACKUP_DIR/.partial-$BACKUP_PREFIX-$stamp.$$.$ext"
trap 'rm -f "$tmp" "$tmp.failed" "$tmp.rows"' EXIT

if [ "$FORMAT" = custom ]; then
  pg_dump --no-password --format=custom $compress --file="$tmp" || fail "pg_dump of $PGDATABASE on $PGHOST:$PGPORT failed"
  pg_restore --list "$tmp" > /dev/null || fail "the new dump does not read back with pg_restore --list"
else
  { pg_dump --no-password --format=plain --clean --if-exists || touch "$tmp.failed"; } | gzip -c > "$tmp"
  [ ! -e "$tmp.failed" ] || fail "pg_dump of $PGDATABASE on $PGHOST:$PGPORT failed"
  gzip -t "$tmp" || fail "the new dump is not a valid gzip file"
  gzip -dc "$tmp" | tail -n 20 | grep -q 'PostgreSQL database dump complete' || fail "the new dump is incomplete"
fi
[ -s "$tmp" ] || fail "the new dump is empty"
table_rows > "$tmp.rows" || fail "cannot record which tables have rows"
mv "$tmp.rows" "$final.rows"
mv "$tmp" "$final"

# Keep the newest KEEP dumps (names sort by time); the one just verified is among them.
ls -1 "$BACKUP_DIR" | grep -E "^$BACKUP_PREFIX-[0-9]{8}T[0-9]{6}Z-[0-9]+\.$ext\$" | sort -r | tail -n +"$((KEEP + 1))" |
  while read -r old; do rm -f "$BACKUP_DIR/$old" "$BACKUP_DIR/$old.rows" && log "pruned $old"; done
log "ok: $final ($(wc -c < "$final") bytes${compress:+, zstd}); keeping the newest $KEEP"
