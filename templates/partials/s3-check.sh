# pgstate s3 check: before anything is dumped, the bucket answers with these credentials, so a
# wrong key or a store that is down fails the Job at once and changes nothing, here or there.
# Reads BACKUP_PREFIX S3_BUCKET S3_PREFIX S3_CREDENTIALS RCLONE_CONFIG_PGSTATE_*.
set -eu
log() { printf '%s pgstate-s3-check: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }
{% include "partials/s3.sh" %}

rclone lsf --files-only "$remote" > /dev/null || fail "cannot list $where: check the endpoint, the bucket and the keys in the Secret"
log "ok: $where answers"
