# pgstate upload: the dump the backup step just verified goes to the bucket, is read back (size
# and MD5), and only then are the bucket's dumps beyond KEEP pruned. Runs after the backup step.
# Reads BACKUP_DIR BACKUP_PREFIX KEEP S3_BUCKET S3_PREFIX S3_CREDENTIALS RCLONE_CONFIG_PGSTATE_*.
set -eu
log() { printf '%s pgstate-upload: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }
{% include "partials/s3.sh" %}

newest="$(ls -1 "$BACKUP_DIR" | grep -E "$dumps" | sort -r | head -n 1)" || true
[ -n "$newest" ] || fail "there is no dump in $BACKUP_DIR to upload"
# put NAME: upload, read back; a copy that does not read back as the file is removed again.
put() {
  rclone copyto "$BACKUP_DIR/$1" "$remote$1" || fail "uploading $1 to $where failed; the bucket's older dumps are untouched"
  want="$(md5sum < "$BACKUP_DIR/$1" | cut -c1-32);$(wc -c < "$BACKUP_DIR/$1" | tr -d ' ')"
  got="$(rclone lsf --format hs --hash MD5 "$remote$1")" || fail "cannot read back $where$1"
  if [ "$got" != "$want" ]; then
    rclone deletefile "$remote$1" || true
    fail "$where$1 reads back as $got (md5;bytes), not $want; removed it"
  fi
}
# The table record first: a dump in the bucket always has its record beside it.
[ ! -f "$BACKUP_DIR/$newest.rows" ] || put "$newest.rows"
put "$newest"
log "uploaded $where$newest ($(wc -c < "$BACKUP_DIR/$newest") bytes, read back)"

listing="$(rclone lsf --files-only "$remote")" || fail "cannot list $where to prune it"
for old in $(printf '%s\n' "$listing" | grep -E "$dumps" | sort -r | tail -n +"$((KEEP + 1))"); do
  rclone deletefile "$remote$old" || fail "cannot prune $where$old"
  if printf '%s\n' "$listing" | grep -qxF "$old.rows"; then
    rclone deletefile "$remote$old.rows" || fail "cannot prune $where$old.rows"
  fi
  log "pruned $where$old"
done
log "ok: keeping the newest $KEEP in $where"
