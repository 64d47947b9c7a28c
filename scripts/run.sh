#!/usr/bin/env bash
# `make run`: services, migrations, messages, demo data on the first run, then
# web + worker + beat in the foreground under honcho. Ctrl-C (or SIGTERM)
# stops all three and then the local PostgreSQL and Redis; their data stays
# in var/ for the next run.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_dev_env
load_dotenv
PORT="${PORT:-8000}"
mkdir -p var

# Say it now rather than after the services, migrations and a runserver crash.
if ! python3 -c 'import socket, sys; socket.create_server(("127.0.0.1", int(sys.argv[1])))' "$PORT" 2>/dev/null; then
    echo "run.sh: port $PORT on 127.0.0.1 is in use; try: PORT=8001 make run" >&2
    exit 1
fi

# Every process below pid $1, children first listed last.
descendants() {
    local child
    for child in $(pgrep -P "$1"); do
        descendants "$child"
        echo "$child"
    done
}

HONCHO_PID=
cleanup() {
    local status=$?
    trap - EXIT INT TERM HUP
    # If our output went to a pipe whose reader died with the same Ctrl-C,
    # an echo must not kill us before the servers are stopped.
    trap '' PIPE
    if [ -n "$HONCHO_PID" ] && kill -0 "$HONCHO_PID" 2>/dev/null; then
        # honcho answers TERM by stopping every process group it started and
        # SIGKILLs what is left after 5 s; a second signal is ignored.
        local tree
        tree=$(descendants "$HONCHO_PID")
        kill -TERM "$HONCHO_PID" 2>/dev/null || true
        # honcho cannot do that when its own output is gone (`make run | tee`
        # and the tee died with the Ctrl-C): then stop its processes directly.
        local waited=0
        while kill -0 "$HONCHO_PID" 2>/dev/null && [ "$waited" -lt 20 ]; do
            sleep 0.5
            waited=$((waited + 1))
        done
        if kill -0 "$HONCHO_PID" 2>/dev/null; then
            # shellcheck disable=SC2086 # a list of pids
            kill -TERM $tree "$HONCHO_PID" 2>/dev/null || true
            sleep 5
            # shellcheck disable=SC2086
            kill -KILL $tree "$HONCHO_PID" 2>/dev/null || true
        fi
    fi
    if [ -n "$HONCHO_PID" ]; then
        wait "$HONCHO_PID" 2>/dev/null || true
    fi
    # Output gone with the tee? Then stop the servers quietly rather than not at all.
    if ! echo 2>/dev/null; then
        exec >/dev/null 2>&1
    fi
    scripts/services.sh stop || status=1
    exit "$status"
}
trap cleanup EXIT
# Make a signal end the script, so cleanup runs through the EXIT trap.
# Ctrl-C is how a person stops it: a clean stop, not an error for make to report.
trap 'exit 0' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

scripts/services.sh start
eval "$(scripts/services.sh env)"

"$PY" manage.py migrate --noinput
"$PY" scripts/compile_messages.py
# seed_demo is idempotent, but skipping it keeps later starts fast and leaves
# demo records the user changed or deleted alone.
if [ ! -f var/.demo-seeded ]; then
    "$PY" manage.py seed_demo
    touch var/.demo-seeded
fi

cat <<BANNER

  Parlor is starting at  http://127.0.0.1:$PORT/

  Demo logins, all with the password  parlor-demo
    manager     the manager (then a two-factor code: run
                scripts/with-services.sh .venv/bin/python manage.py demo_code
                or add the key OBQX E3DP OIWW IZLN N4WX I33U OAWW WZLZ to an authenticator app)
    reception   the front desk
    masseur1    a masseur

  Emails (reminders, notices to reception) are written as files to
    $ROOT/var/mail/   (set EMAIL_BACKEND in .env for SMTP)

  Ctrl-C stops the web server, the worker, beat, PostgreSQL and Redis.

BANNER

# In the background so that `wait` returns as soon as a signal arrives, and
# the traps above run while honcho shuts its processes down. honcho sets
# PORT=$PORT for the first Procfile entry (web). `-e /dev/null`: .env is
# already loaded, and honcho's own reading would override the environment.
honcho start -f Procfile -e /dev/null -p "$PORT" &
HONCHO_PID=$!
wait "$HONCHO_PID"
