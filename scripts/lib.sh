# Shared by run.sh, test.sh and with-services.sh; sourced, not run.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT" || exit 1
# shellcheck disable=SC2034  # used by the scripts that source this file
PY="$ROOT/.venv/bin/python"

# Processes started from here (honcho's, celery's) find the venv's tools
# without the Procfile naming .venv.
export VIRTUAL_ENV="$ROOT/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"

# The settings read only the environment. A .env file is the usual place for
# local overrides, and services.sh must see a DATABASE_URL/REDIS_URL set
# there, or it would start local servers the app then doesn't use.
# Read as docker compose reads it (KEY=value, optional quotes, no shell
# expansion: `DEFAULT_FROM_EMAIL=Parlor <x@y>` must not be a redirection);
# a variable already in the environment wins, as with compose.
load_dotenv() {
    [ -f .env ] || return 0
    local line key value
    while IFS= read -r line || [ -n "$line" ]; do
        line="${line%$'\r'}"
        [[ "$line" =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
        key="${BASH_REMATCH[2]}"
        value="${BASH_REMATCH[3]}"
        if [[ "$value" =~ ^\"(.*)\"$ ]] || [[ "$value" =~ ^\'(.*)\'$ ]]; then
            value="${BASH_REMATCH[1]}"
        fi
        [ -n "${!key+set}" ] || export "$key=$value"
    done <.env
}

# `make run` and `make test` run in debug mode with a key, and no key is committed (the settings
# refuse to start without one): the first run writes DEBUG=true and a random SECRET_KEY of this
# checkout's own into the git-ignored .env (or the file given). What is set already, in the file
# or in the environment, is left alone. Call it before load_dotenv.
ensure_dev_env() {
    local file="${1:-.env}"
    if [ -z "${SECRET_KEY:-}" ] && ! grep -qE '^[[:space:]]*(export[[:space:]]+)?SECRET_KEY=' "$file" 2>/dev/null; then
        # A file of its own user only: the key signs sessions and client links.
        (umask 077 && touch "$file")
        _append_line "$file" "# Development only, written by make run/make test (scripts/lib.sh)."
        _append_line "$file" "SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')"
    fi
    if [ -z "${DEBUG:-}" ] && ! grep -qE '^[[:space:]]*(export[[:space:]]+)?DEBUG=' "$file" 2>/dev/null; then
        _append_line "$file" "DEBUG=true"
    fi
}

# Appends one line, first ending the file's last line if it has no newline.
_append_line() {
    if [ -s "$1" ] && [ -n "$(tail -c1 "$1")" ]; then echo >>"$1"; fi
    printf '%s\n' "$2" >>"$1"
}

# The newest installed PostgreSQL client program NAME (pg_dump, pg_restore, psql): a newer one
# reads and writes an older server's data, never the other way round.
pg_tool() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/$1" ]; then
            echo "$dir/$1"
            return 0
        fi
    done
    command -v "$1" || { echo "$1 not found: sudo apt-get install postgresql-client" >&2; return 1; }
}

# Starts the services and exports their URLs. STARTED_HERE lists the local
# ones that were not already running, so stop_started leaves alone those
# another `make run` or the user started.
STARTED_HERE=()
start_services() {
    local s
    for s in postgres redis; do
        scripts/services.sh running "$s" || STARTED_HERE+=("$s")
    done
    scripts/services.sh start
    eval "$(scripts/services.sh env)"
}

stop_started() {
    if [ "${#STARTED_HERE[@]}" -gt 0 ]; then
        scripts/services.sh stop "${STARTED_HERE[@]}"
    fi
}
