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

# How long each step of the start took, printed with the banner: a slow first start shows where.
TIMES=()
timed() {
    local label="$1" started=$SECONDS
    shift
    "$@"
    TIMES+=("$label $((SECONDS - started)) s")
}

scripts/services.sh pdf
timed "services" scripts/services.sh start
eval "$(scripts/services.sh env)"

timed "migrate" "$PY" manage.py migrate --noinput
timed "messages" "$PY" scripts/compile_messages.py
# seed_demo is idempotent, but skipping it keeps later starts fast and leaves
# demo records the user changed or deleted alone.
if [ ! -f var/.demo-seeded ]; then
    timed "demo data" "$PY" manage.py seed_demo
    touch var/.demo-seeded
fi

# As root (a container, CI) the product itself runs as an unprivileged user, as PostgreSQL does:
# a web server or a Celery worker (which warns about it) has no business with root's powers. That
# user must be able to run the venv's Python and read the clone; when either lives in a private home
# (a clone under /root, a pyenv Python in /root/.pyenv) it cannot, and then they run as root and say so.
# Where parlor.mail.EmlFileBackend writes: EMAIL_FILE_PATH from .env, else var/mail.
MAIL_DIR="${EMAIL_FILE_PATH:-$ROOT/var/mail}"
mkdir -p "$MAIL_DIR" var/media var/celery
RUN_AS=
if [ "$(id -u)" -eq 0 ]; then
    id parlor >/dev/null 2>&1 ||
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin parlor
    if runuser -u parlor -- "$PY" -c 'import django' 2>/dev/null; then
        chown -R parlor: "$MAIL_DIR" var/media var/celery
        RUN_AS="setpriv --reuid=parlor --regid=parlor --init-groups"
    else
        echo "run.sh: the user 'parlor' cannot run $PY ($(readlink -f "$PY")) in $ROOT," \
            "so web, worker and beat run as root (Celery will warn about it)." >&2
    fi
fi
export RUN_AS

cat <<BANNER

  Parlor is starting at  http://127.0.0.1:$PORT/

  Demo logins, all with the password  parlor-demo
    manager     the manager (then a two-factor code: run
                scripts/with-services.sh .venv/bin/python manage.py demo_code
                or add the key OBQX E3DP OIWW IZLN N4WX I33U OAWW WZLZ to an authenticator app)
    reception   the front desk
    masseur1    a masseur, mornings on weekdays
    masseur2    a masseur, afternoons on weekdays
    masseur3    a masseur, Monday to Saturday
    masseur4    a newer masseur (not yet for therapeutic or children's massage)

  Emails (reminders, notices to reception) are saved, one .eml file each
  named by its subject (open it in any mail program), in
    $MAIL_DIR/
  (set EMAIL_BACKEND in .env for SMTP)

  Ctrl-C stops the web server, the worker, beat, PostgreSQL and Redis.
  Start-up took: $(IFS=,; echo "${TIMES[*]}" | sed 's/,/, /g')

BANNER

# In the background so that `wait` returns as soon as a signal arrives, and
# the traps above run while honcho shuts its processes down. honcho sets
# PORT=$PORT for the first Procfile entry (web). `-e /dev/null`: .env is
# already loaded, and honcho's own reading would override the environment.
honcho start -f Procfile -e /dev/null -p "$PORT" &
HONCHO_PID=$!
wait "$HONCHO_PID"
