{#- Redis's probe, one `sh -c` argument: exactly PONG from an authenticated ping. `$(cat)` would drop
    a trailing newline the password may have; redis-cli exits 0 even when refused, and a Redis
    without a password answers PONG after a failed AUTH warning: only exactly PONG passes. #}
REDISCLI_AUTH="$(cat {{ paths.redis_secret_dir }}/password; echo .)"; export REDISCLI_AUTH="${REDISCLI_AUTH%.}"; [ "$(redis-cli -h 127.0.0.1 -p {{ redis.port }} ping 2>&1)" = PONG ]
{#- no final line break: the script is one argument of the probe's command #}
