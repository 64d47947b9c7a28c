#!/usr/bin/env bash
# `make restore FILE=var/backups/parlor-....tar`: replaces the database (everything in its public
# schema) and the files under MEDIA_ROOT with the archive's. The files there before are kept
# beside it as MEDIA_ROOT.before-restore-<time>. Asks before it starts unless given --yes.
#   scripts/restore.sh [--yes] FILE
set -euo pipefail

YES=
if [ "${1:-}" = "--yes" ]; then
    YES=1
    shift
fi
FILE="${1:-}"
[ -n "$FILE" ] || { echo "usage: make restore FILE=var/backups/parlor-YYYYmmdd-HHMMSS.tar" >&2; exit 2; }
[ -f "$FILE" ] || { echo "restore.sh: no such file: $FILE" >&2; exit 2; }
FILE="$(cd "$(dirname "$FILE")" && pwd -P)/$(basename "$FILE")"

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

load_dotenv
trap stop_started EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
start_services

MEDIA="${MEDIA_ROOT:-$ROOT/var/media}"
# The URL without its password, to say where the data goes.
TARGET="$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(p._replace(netloc=p.netloc.rpartition("@")[2]).geturl())' "$DATABASE_URL")"
if [ -z "$YES" ]; then
    echo "This replaces every table of $TARGET and the files in $MEDIA with those of $FILE."
    read -r -p "Type yes to go on: " answer
    [ "$answer" = "yes" ] || { echo "Nothing changed."; exit 1; }
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"; stop_started' EXIT
tar -C "$WORK" -xf "$FILE" database.dump media.tar

# An empty public schema, then the dump in one transaction: all of it or, on an error, nothing.
"$(pg_tool psql)" --quiet --no-psqlrc --set=ON_ERROR_STOP=1 --dbname="$DATABASE_URL" \
    --command="DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;"
"$(pg_tool pg_restore)" --dbname="$DATABASE_URL" --no-owner --no-privileges --exit-on-error --single-transaction \
    "$WORK/database.dump"

if [ -d "$MEDIA" ] && [ -n "$(ls -A "$MEDIA")" ]; then
    mv "$MEDIA" "$MEDIA.before-restore-$(date -u +%Y%m%d-%H%M%S)"
fi
mkdir -p "$MEDIA"
tar -C "$MEDIA" -xf "$WORK/media.tar"
echo "Restored $FILE into $TARGET and $MEDIA"
