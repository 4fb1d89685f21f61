# The bucket, for rclone: its remote `pgstate` comes from the RCLONE_CONFIG_PGSTATE_* variables,
# the keys from the mounted Secret (never from the environment of the manifest).
RCLONE_CONFIG_PGSTATE_ACCESS_KEY_ID="$(cat "$S3_CREDENTIALS/ACCESS_KEY_ID")" || fail "cannot read ACCESS_KEY_ID of the S3 Secret at $S3_CREDENTIALS"
RCLONE_CONFIG_PGSTATE_SECRET_ACCESS_KEY="$(cat "$S3_CREDENTIALS/ACCESS_SECRET_KEY")" || fail "cannot read ACCESS_SECRET_KEY of the S3 Secret at $S3_CREDENTIALS"
export RCLONE_CONFIG_PGSTATE_ACCESS_KEY_ID RCLONE_CONFIG_PGSTATE_SECRET_ACCESS_KEY
folder="${S3_PREFIX:+$S3_PREFIX/}"
remote="pgstate:$S3_BUCKET/$folder"
where="s3://$S3_BUCKET/$folder"
dumps='^'"$BACKUP_PREFIX"'-[0-9]{8}T[0-9]{6}Z-[0-9]+\.(dump|sql\.gz)$'
# fetch FROM TO: download one object, then check size and MD5 against what the bucket says.
fetch() {
  rclone copyto "$1" "$2" || fail "downloading $1 failed"
  got="$(md5sum < "$2" | cut -c1-32);$(wc -c < "$2" | tr -d ' ')"
  want="$(rclone lsf --format hs --hash MD5 "$1")" || fail "cannot read the size and checksum of $1"
  [ "$got" = "$want" ] || fail "$1 downloaded as $got (md5;bytes), the bucket says $want"
}
