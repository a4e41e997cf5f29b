#!/bin/sh
# The modelplane server's container entrypoint (deploy/Dockerfile), also usable on a plain host:
#   1. wait until the database answers (MODELPLANE_DB_WAIT_SECONDS, default 60),
#   2. migrate it to the schema of this modelplane (`modelplane db upgrade`, safe to run from
#      several containers at once),
#   3. exec `modelplane server start`, so the server is the process that gets SIGTERM.
#
# Settings, all from the environment (URLs never go on a command line, where `ps` shows them):
#   MODELPLANE_STORE_URL     the database, e.g. postgresql+psycopg://modelplane:…@postgres/modelplane
#   MODELPLANE_ARTIFACT_URI  where artifact bytes go, e.g. s3://ml-artifacts/modelplane
#   MODELPLANE_HOST (0.0.0.0), MODELPLANE_PORT (8237), MODELPLANE_WORKERS (1),
#   MODELPLANE_LOG_FORMAT (json), MODELPLANE_ADMIN_TOKEN, MODELPLANE_METRICS_TOKEN, AWS_* for S3.
# Arguments are passed on to `modelplane server start` (e.g. --no-webhooks).
set -eu

: "${MODELPLANE_STORE_URL:?set MODELPLANE_STORE_URL to the database URL (postgresql+psycopg://…)}"
: "${MODELPLANE_ARTIFACT_URI:?set MODELPLANE_ARTIFACT_URI to the artifact store (s3://bucket/prefix)}"
host="${MODELPLANE_HOST:-0.0.0.0}"
port="${MODELPLANE_PORT:-8237}"
workers="${MODELPLANE_WORKERS:-1}"
wait_seconds="${MODELPLANE_DB_WAIT_SECONDS:-60}"
export MODELPLANE_LOG_FORMAT="${MODELPLANE_LOG_FORMAT:-json}"

# One line on stderr, as JSON when the server logs JSON (newlines folded, quotes escaped).
log() {
    if [ "$MODELPLANE_LOG_FORMAT" = json ]; then
        text="$(printf '%s' "$2" | tr '\n\t' '  ' | sed 's/\\/\\\\/g; s/"/\\"/g')"
        printf '{"time": "%s", "level": "%s", "logger": "modelplane.entrypoint", "message": "%s"}\n' \
            "$(date -u +%Y-%m-%dT%H:%M:%S.000Z)" "$1" "$text" >&2
    else
        printf 'entrypoint: %s\n' "$2" >&2
    fi
}

deadline=$(($(date +%s) + wait_seconds))
said=""
until problem="$(modelplane db current 2>&1 >/dev/null)"; do
    # Said first, so the log tells what was waited for even when one try outlasts the wait.
    if [ -z "$said" ]; then
        log INFO "waiting for the database (up to ${wait_seconds} s): ${problem}"
        said=yes
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
        log ERROR "the database did not answer within ${wait_seconds} s: ${problem}"
        exit 1
    fi
    sleep 1
done

log INFO "the database answers; migrating it"
upgraded="$(modelplane db upgrade)"
log INFO "$upgraded"
log INFO "starting the server on ${host}:${port} with ${workers} worker(s)"
exec modelplane server start --host "$host" --port "$port" --workers "$workers" "$@"
