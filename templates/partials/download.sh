# pgstate download: one dump (S3_KEY, a key in the bucket, or "latest": the newest under the
# prefix) and its table record from the bucket into BACKUP_DIR, checked against the bucket.
# Reads BACKUP_DIR BACKUP_PREFIX S3_BUCKET S3_PREFIX S3_CREDENTIALS S3_KEY RCLONE_CONFIG_PGSTATE_*.
set -eu
log() { printf '%s pgstate-download: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }
{% include "partials/s3.sh" %}

if [ "$S3_KEY" = latest ]; then
  listing="$(rclone lsf --files-only "$remote")" || fail "cannot list $where"
  name="$(printf '%s\n' "$listing" | grep -E "$dumps" | sort -r | head -n 1)" || true
  [ -n "$name" ] || fail "there is no dump in $where"
  key="$folder$name"
else
  key="$S3_KEY"
  name="${key##*/}"
fi
fetch "pgstate:$S3_BUCKET/$key" "$BACKUP_DIR/$name"
if [ -n "$(rclone lsf --files-only "pgstate:$S3_BUCKET/$key.rows")" ]; then
  fetch "pgstate:$S3_BUCKET/$key.rows" "$BACKUP_DIR/$name.rows"
fi
log "ok: s3://$S3_BUCKET/$key ($(wc -c < "$BACKUP_DIR/$name") bytes) is in $BACKUP_DIR"
