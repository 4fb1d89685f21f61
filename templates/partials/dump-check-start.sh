{# The start of a script that restores a dump and checks its rows (restore, drill): strict
   mode, log and fail under the script's name (`log_as`), the table-row helpers, the password. #}
set -eu
log() { printf '%s pgstate-{{ log_as }}: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }
{% include "partials/table-rows.sh" %}
{% include "partials/check-rows.sh" %}

PGPASSWORD="$(cat "$PASSWORD_FILE")" || fail "cannot read the password file $PASSWORD_FILE"
export PGPASSWORD
