#!/usr/bin/env bash
# Project-local PostgreSQL and Redis for development and tests.
#
#   scripts/services.sh start            start what is needed (idempotent)
#   scripts/services.sh stop [NAME...]   stop the local postgres/redis (data kept)
#   scripts/services.sh env              print `export DATABASE_URL=...;` lines
#   scripts/services.sh status           one line per service
#   scripts/services.sh running NAME     exit 0 if the local NAME is running
#   scripts/services.sh chromium         make sure /usr/bin/chromium exists
#   scripts/services.sh pdf              make sure WeasyPrint's libraries (pango) and a Cyrillic font exist
#   scripts/services.sh clean            stop, then delete the local data
#
# A DATABASE_URL or REDIS_URL already in the environment wins: that service is
# then neither started nor stopped here. Otherwise the servers run from the
# system's binaries but with their own data under var/ and their own ports, so
# they never touch a system PostgreSQL on 5432 or Redis on 6379.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
VAR="$ROOT/var"
PG_DIR="$VAR/pg"          # data/, run/ (socket), log, PORT; may be a symlink
REDIS_DIR="$VAR/redis"    # appendonly data, redis.pid, redis.log, PORT
PG_USER_DB=parlor         # role and database name

say() { printf '%s\n' "$*"; }
die() { printf 'services.sh: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

# apt-get update is slow and only needed once per invocation.
APT_UPDATED=
apt_install() {
    is_root || die "internal: apt_install needs root"
    export DEBIAN_FRONTEND=noninteractive
    if [ -z "$APT_UPDATED" ]; then
        say "Installing $*: apt-get update..."
        apt-get update -qq
        APT_UPDATED=1
    fi
    say "Installing $* with apt-get..."
    apt-get install -y -qq "$@" >/dev/null
}

# First free TCP port on 127.0.0.1 from $1 upward. SO_REUSEADDR mirrors what
# postgres and redis set, so a port held only by TIME_WAIT counts as free.
free_port() {
    python3 - "$1" <<'EOF'
import socket, sys
for port in range(int(sys.argv[1]), 65536):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    sys.exit("services.sh: no free TCP port found")
EOF
}

port_is_free() { [ "$(free_port "$1")" = "$1" ]; }

pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# wait_for SECONDS COMMAND...: retry COMMAND every 0.2 s until it succeeds.
wait_for() {
    local tries=$(($1 * 5))
    shift
    while ! "$@"; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || return 1
        sleep 0.2
    done
}

# ---------------------------------------------------------------- PostgreSQL

# initdb and postgres refuse to run as root, so as root they run as the
# unprivileged `postgres` user that Debian's packages create. `cd /` avoids
# "could not change directory to /root" noise from the child.
PG_RUN_AS=
as_pg() {
    if [ -n "$PG_RUN_AS" ]; then
        (cd / && runuser -u "$PG_RUN_AS" -- "$@")
    else
        "$@"
    fi
}

PG_BIN=
find_pg_bin() {
    local dir ver=
    PG_BIN=
    # A cluster only runs with the major version that created it, so prefer
    # that one if it is still installed; otherwise the newest full server
    # (a client-only install has psql in that folder but no initdb/postgres).
    if [ -f "$PG_DIR/data/PG_VERSION" ]; then
        ver="$(cat "$PG_DIR/data/PG_VERSION")"
        if [ -x "/usr/lib/postgresql/$ver/bin/postgres" ]; then
            PG_BIN="/usr/lib/postgresql/$ver/bin"
            return 0
        fi
    fi
    # shellcheck disable=SC2012  # plain version-number folders; sort -V orders 9 < 10
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ] && [ -x "$dir/pg_ctl" ]; then
            PG_BIN="$dir"
            break
        fi
    done
    # Not Debian: fall back to whatever is on PATH.
    if [ -z "$PG_BIN" ] && command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        PG_BIN="$(dirname "$(command -v initdb)")"
    fi
    if [ -n "$ver" ] && [ -n "$PG_BIN" ]; then
        die "var/pg/data was made by PostgreSQL $ver, which is no longer installed (found $PG_BIN); install postgresql-$ver or remove var/pg"
    fi
    [ -n "$PG_BIN" ]
}

ensure_pg_bin() {
    find_pg_bin && return 0
    if is_root; then
        # The package may also create and start a system cluster on 5432;
        # harmless, we never use it.
        apt_install postgresql postgresql-contrib
        find_pg_bin || die "PostgreSQL server binaries still not found after apt-get install postgresql"
    else
        die "PostgreSQL server not found: run 'sudo apt-get install postgresql' (or set DATABASE_URL)"
    fi
}

pg_port() { cat "$PG_DIR/PORT" 2>/dev/null || true; }

pg_running() {
    [ -d "$PG_DIR/data" ] || return 1
    find_pg_bin || return 1
    local port; port="$(pg_port)"
    [ -n "$port" ] || return 1
    as_pg "$PG_BIN/pg_ctl" status -D "$PG_DIR/data" >/dev/null 2>&1 &&
        "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port"
}

# The postgres user may only reach var/pg through its real path (see below),
# so every path handed to the server is resolved.
resolve_pg_dir() {
    if [ -d "$PG_DIR" ]; then PG_DIR="$(cd "$PG_DIR" && pwd -P)"; fi
}

# Where var/pg lives. As root, the postgres user must be able to reach it; a
# clone under /root (mode 700) is out of its reach, so then the data goes to a
# per-clone folder under /var/tmp and var/pg points there.
prepare_pg_dir() {
    mkdir -p "$VAR"
    if is_root; then
        PG_RUN_AS=postgres
        id postgres >/dev/null 2>&1 || die "no 'postgres' user to run PostgreSQL as (PostgreSQL refuses to run as root)"
    fi

    if [ -L "$PG_DIR" ]; then
        # Recreate the target if /var/tmp was cleaned since.
        local target; target="$(readlink "$PG_DIR")"
        [ -d "$target" ] || install -d -m 700 ${PG_RUN_AS:+-o "$PG_RUN_AS" -g "$PG_RUN_AS"} "$target"
    elif [ ! -d "$PG_DIR" ]; then
        if [ -z "$PG_RUN_AS" ] || as_pg test -x "$VAR"; then
            install -d -m 700 ${PG_RUN_AS:+-o "$PG_RUN_AS" -g "$PG_RUN_AS"} "$PG_DIR"
        else
            local hash target
            hash="$(printf '%s' "$ROOT" | sha1sum | cut -c1-12)"
            target="/var/tmp/parlor-pg-$hash"
            install -d -m 700 -o "$PG_RUN_AS" -g "$PG_RUN_AS" "$target"
            ln -s "$target" "$PG_DIR"
            say "The postgres user cannot reach $ROOT, so PostgreSQL data is kept in $target (var/pg links there)."
        fi
    fi

    resolve_pg_dir
    if [ -n "$PG_RUN_AS" ]; then
        as_pg test -w "$PG_DIR/." ||
            die "the postgres user cannot write to $PG_DIR; remove var/pg and retry"
    fi
}

pg_init() {
    local port locale sockdir
    port="$(free_port 55432)"
    sockdir="$(cd "$PG_DIR" && pwd -P)/run"
    # Character classes (pg_trgm, upper/lower) come from the libc locale: the
    # plain C locale treats every Cyrillic letter as punctuation.
    if locale -a 2>/dev/null | grep -qix 'c.utf-\?8'; then
        locale=C.UTF-8
    elif locale -a 2>/dev/null | grep -qix 'en_US.utf-\?8'; then
        locale=en_US.UTF-8
    else
        locale=C
        say "warning: no UTF-8 locale found; PostgreSQL uses locale C (pg_trgm will ignore non-ASCII letters)"
    fi
    say "Creating a local PostgreSQL cluster in var/pg (port $port)..."
    as_pg mkdir -p "$PG_DIR/run"
    # Sorting follows Ukrainian rules (І, Ї, Є, Ґ in their places, Cyrillic
    # before Latin) through ICU, as in docker-compose.yml; a server built
    # without ICU still works, sorting by code point.
    if ! as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$PG_USER_DB" --auth=trust --encoding=UTF8 \
        --locale="$locale" --locale-provider=icu --icu-locale=uk-UA >"$PG_DIR/initdb.log" 2>&1; then
        say "warning: initdb with ICU (uk-UA) failed, using the libc locale $locale for sorting too"
        as_pg rm -rf "$PG_DIR/data"
        as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$PG_USER_DB" --auth=trust --encoding=UTF8 \
            --locale="$locale" >>"$PG_DIR/initdb.log" 2>&1 ||
            { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
    fi
    # Unix socket paths are limited to ~107 bytes; in a deep clone we rely on
    # TCP alone rather than fail.
    if [ "${#sockdir}" -gt 90 ]; then sockdir=""; fi
    as_pg tee -a "$PG_DIR/data/postgresql.conf" >/dev/null <<EOF

# --- parlor: project-local cluster (scripts/services.sh) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sockdir'
# Losing the last moments of work on an OS crash is fine for dev/test data,
# and it makes the test suite's many small commits much cheaper.
synchronous_commit = off
include_if_exists = 'port.conf'
EOF
    pg_set_port "$port"
}

# The port lives in its own file so a busy port can be replaced cleanly.
pg_set_port() {
    printf "port = %s\n" "$1" | as_pg tee "$PG_DIR/data/port.conf" >/dev/null
    printf "%s\n" "$1" | as_pg tee "$PG_DIR/PORT" >/dev/null
}

pg_start() {
    if pg_external; then
        say "PostgreSQL: using DATABASE_URL from the environment."
        return 0
    fi
    ensure_pg_bin
    prepare_pg_dir
    if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
        pg_init
    fi
    local port; port="$(pg_port)"
    if as_pg "$PG_BIN/pg_ctl" status -D "$PG_DIR/data" >/dev/null 2>&1; then
        # Ours is up, or still starting (another `start` a moment ago).
        wait_for 30 "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" ||
            die "the local PostgreSQL is running but does not answer on port $port; see var/pg/log, or run 'scripts/services.sh stop' and retry"
        say "PostgreSQL: already running on 127.0.0.1:$port."
    else
        # Another program (or another clone's cluster) may have taken the
        # port since we chose it.
        if ! port_is_free "$port"; then
            local new; new="$(free_port $((port + 1)))"
            say "PostgreSQL: port $port is taken, moving the local cluster to $new."
            port="$new"
            pg_set_port "$port"
        fi
        say "PostgreSQL: starting on 127.0.0.1:$port (log: var/pg/log)..."
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 60 start >/dev/null ||
            { tail -n 20 "$PG_DIR/log" >&2 || true; die "PostgreSQL did not start; see var/pg/log"; }
    fi
    if ! "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$port" -U "$PG_USER_DB" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$PG_USER_DB'" | grep -q 1; then
        "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U "$PG_USER_DB" "$PG_USER_DB"
    fi
}

pg_stop() {
    [ -d "$PG_DIR/data" ] || return 0
    is_root && PG_RUN_AS=postgres
    find_pg_bin || return 0
    if as_pg "$PG_BIN/pg_ctl" status -D "$PG_DIR/data" >/dev/null 2>&1; then
        say "PostgreSQL: stopping the local cluster..."
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop >/dev/null
    fi
}

# A DATABASE_URL equal to this one came from an earlier `eval "$(... env)"`
# in the user's shell: still ours to start.
pg_local_url() {
    local port; port="$(pg_port)"
    [ -n "$port" ] && printf 'postgres://%s@127.0.0.1:%s/%s' "$PG_USER_DB" "$port" "$PG_USER_DB"
}

pg_external() { [ -n "${DATABASE_URL:-}" ] && [ "$DATABASE_URL" != "$(pg_local_url)" ]; }

pg_url() {
    if [ -n "${DATABASE_URL:-}" ]; then
        printf '%s' "$DATABASE_URL"
    else
        pg_local_url || die "no local PostgreSQL yet: run 'scripts/services.sh start' first"
    fi
}

# --------------------------------------------------------------------- Redis

redis_port() { cat "$REDIS_DIR/PORT" 2>/dev/null || true; }

redis_pid() {
    local pid port
    pid="$(cat "$REDIS_DIR/redis.pid" 2>/dev/null || true)"
    port="$(redis_port)"
    [ -n "$pid" ] && [ -n "$port" ] || return 1
    # The pid may have been reused by an unrelated process since; redis sets
    # its title to "redis-server 127.0.0.1:PORT".
    case "$(ps -o args= -p "$pid" 2>/dev/null)" in
        *redis-server*:"$port"*) printf '%s' "$pid" ;;
        *) return 1 ;;
    esac
}

redis_running() {
    redis_pid >/dev/null &&
        [ "$(redis-cli -h 127.0.0.1 -p "$(redis_port)" ping 2>/dev/null)" = PONG ]
}

ensure_redis_bin() {
    command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return 0
    if is_root; then
        apt_install redis-server
    else
        die "redis-server not found: run 'sudo apt-get install redis-server' (or set REDIS_URL)"
    fi
}

redis_start() {
    if redis_external; then
        say "Redis: using REDIS_URL from the environment."
        return 0
    fi
    ensure_redis_bin
    mkdir -p "$REDIS_DIR"
    local port; port="$(redis_port)"
    if redis_pid >/dev/null; then
        # Ours is up, or still loading its append-only file.
        wait_for 30 redis_running ||
            die "the local Redis is running but does not answer on port $port; see var/redis/redis.log, or run 'scripts/services.sh stop' and retry"
        say "Redis: already running on 127.0.0.1:$port."
        return 0
    fi
    if [ -z "$port" ] || ! port_is_free "$port"; then
        local new; new="$(free_port $(( ${port:-56378} + 1 )))"
        [ -z "$port" ] || say "Redis: port $port is taken, moving to $new."
        port="$new"
        printf '%s\n' "$port" >"$REDIS_DIR/PORT"
    fi
    say "Redis: starting on 127.0.0.1:$port (log: var/redis/redis.log)..."
    # appendonly keeps queued tasks and results across runs. A daemonized
    # redis leaves our process group, so Ctrl-C reaches it only via `stop`.
    redis-server --daemonize yes --bind 127.0.0.1 --port "$port" \
        --dir "$REDIS_DIR" --pidfile "$REDIS_DIR/redis.pid" \
        --logfile "$REDIS_DIR/redis.log" --appendonly yes >/dev/null
    wait_for 30 redis_running || {
        tail -n 20 "$REDIS_DIR/redis.log" >&2 || true
        die "Redis did not start; see var/redis/redis.log"
    }
}

redis_stop() {
    local pid port
    pid="$(redis_pid)" || return 0
    port="$(redis_port)"
    say "Redis: stopping the local server..."
    # SHUTDOWN flushes the append-only file before exiting.
    redis-cli -h 127.0.0.1 -p "$port" shutdown >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    wait_for 30 pid_gone "$pid" || die "Redis (pid $pid) did not stop"
}

redis_local_url() {
    local port; port="$(redis_port)"
    [ -n "$port" ] && printf 'redis://127.0.0.1:%s/0' "$port"
}

redis_external() { [ -n "${REDIS_URL:-}" ] && [ "$REDIS_URL" != "$(redis_local_url)" ]; }

redis_url() {
    if [ -n "${REDIS_URL:-}" ]; then
        printf '%s' "$REDIS_URL"
    else
        redis_local_url || die "no local Redis yet: run 'scripts/services.sh start' first"
    fi
}

# -------------------------------------------------------------- other checks

ensure_chromium() {
    [ -x /usr/bin/chromium ] && return 0
    if is_root; then
        apt_install chromium
    else
        die "Chromium not found for the browser tests: run 'sudo apt-get install chromium'"
    fi
}

# The client's export renders its PDF with WeasyPrint, which loads pango through cffi
# at import time, and needs a font with Cyrillic letters (DejaVu Sans).
PDF_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)
pdf_libs_present() {
    ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so.0' &&
        ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0' &&
        [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]
}

ensure_pdf_libs() {
    pdf_libs_present && return 0
    if is_root; then
        apt_install "${PDF_PACKAGES[@]}"
    else
        die "WeasyPrint's libraries are missing for the client export: run 'sudo apt-get install ${PDF_PACKAGES[*]}'"
    fi
}

# ---------------------------------------------------------------------- main

services_of() { if [ "$#" -eq 0 ]; then echo postgres redis; else echo "$@"; fi; }

cmd="${1:-}"
[ "$#" -gt 0 ] && shift
resolve_pg_dir
case "$cmd" in
    start)
        command -v python3 >/dev/null || die "python3 not found (needed to pick free ports)"
        pg_start
        redis_start
        ;;
    stop)
        # Only the local servers: a DATABASE_URL/REDIS_URL server is not ours.
        for s in $(services_of "$@"); do
            case "$s" in
                postgres) pg_stop ;;
                redis) redis_stop ;;
                *) die "unknown service: $s" ;;
            esac
        done
        ;;
    env)
        # Assigned first so that a failure stops us instead of printing ''.
        db_url="$(pg_url)"
        redis_url="$(redis_url)"
        printf 'export DATABASE_URL=%q;\n' "$db_url"
        printf 'export REDIS_URL=%q;\n' "$redis_url"
        ;;
    running)
        is_root && PG_RUN_AS=postgres
        case "${1:-}" in
            postgres) pg_running ;;
            redis) redis_running ;;
            *) die "usage: services.sh running postgres|redis" ;;
        esac
        ;;
    status)
        is_root && PG_RUN_AS=postgres
        if pg_external; then say "postgres: from DATABASE_URL"
        elif pg_running; then say "postgres: running on 127.0.0.1:$(pg_port)"
        else say "postgres: stopped"; fi
        if redis_external; then say "redis: from REDIS_URL"
        elif redis_running; then say "redis: running on 127.0.0.1:$(redis_port)"
        else say "redis: stopped"; fi
        ;;
    chromium)
        ensure_chromium
        ;;
    pdf)
        ensure_pdf_libs
        ;;
    clean)
        pg_stop
        redis_stop
        # PG_DIR is resolved, so this also removes data kept under /var/tmp
        # (see prepare_pg_dir) along with the var/pg link to it.
        rm -rf "$PG_DIR" "$VAR/pg" "$REDIS_DIR"
        ;;
    *)
        sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
        exit 2
        ;;
esac
