# check_rows RECORD: every table that had rows when the dump was taken has rows now.
check_rows() {
  [ -f "$1" ] || { log "no table record $1 beside the dump (taken before pgstate recorded one): only the restore itself is checked"; return 0; }
  want="$(mktemp)" got="$(mktemp)"
  grep '|t$' "$1" | sort > "$want" || true
  table_rows > "$got.all" || fail "cannot list the tables of the restored database"
  grep '|t$' "$got.all" | sort > "$got" || true
  missing="$(comm -23 "$want" "$got" | sed 's/|t$//')"
  rm -f "$want" "$got" "$got.all"
  [ -z "$missing" ] || fail "tables that had rows when the dump was taken are empty or missing after the restore: $(echo $missing)"
  log "every table that had rows at dump time ($(grep -c '|t$' "$1")) has rows"
}
