{#- Redis's start: the password from the mounted Secret file into a copy of redis.conf that only
    the Redis user can read (see docs/redis.md), then redis-server on that copy. #}
set -eu
password={{ paths.redis_secret_dir }}/password
[ -s "$password" ] || { echo "pgstate: $password is empty; Redis would run without a password" >&2; exit 1; }
# Every byte of the password as \xHH, which redis.conf reads inside double quotes (quotes,
# backslashes, a trailing newline included), into a copy of redis.conf only this user can
# read: the password is never on a command line or in the environment.
umask 077
hex=$(od -An -v -tx1 "$password" | tr -d ' \n' | sed 's/../\\x&/g')
{ cat {{ paths.redis_conf_dir }}/redis.conf; printf 'requirepass "%s"\n' "$hex"; } > {{ paths.redis_run_dir }}/redis.conf
exec redis-server {{ paths.redis_run_dir }}/redis.conf
