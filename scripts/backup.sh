#!/usr/bin/env bash
# `make backup`: the database (pg_dump, custom format) and the uploaded files under MEDIA_ROOT
# (clearance scans) into one archive, var/backups/parlor-YYYYmmdd-HHMMSS.tar (BACKUP_DIR moves
# it). `make restore FILE=...` puts both back. The archive holds health data: it is written
# readable by its owner only; keep it as carefully as the database.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

load_dotenv
trap stop_started EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
start_services

MEDIA="${MEDIA_ROOT:-$ROOT/var/media}"
OUT_DIR="${BACKUP_DIR:-$ROOT/var/backups}"
STAMP="$(date -u +%Y%m%d-%H%M%S)"
umask 077
mkdir -p "$OUT_DIR"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"; stop_started' EXIT

pg_dump_bin="$(pg_tool pg_dump)"
"$pg_dump_bin" --dbname="$DATABASE_URL" --format=custom --no-owner --no-privileges --file="$WORK/database.dump"
mkdir -p "$MEDIA"
tar -C "$MEDIA" -cf "$WORK/media.tar" .
{
    echo "made_at=$STAMP"
    echo "pg_dump=$("$pg_dump_bin" --version)"
    echo "media_files=$(find "$MEDIA" -type f | wc -l)"
} >"$WORK/MANIFEST"

ARCHIVE="$OUT_DIR/parlor-$STAMP.tar"
tar -C "$WORK" -cf "$ARCHIVE" MANIFEST database.dump media.tar
echo "Backup written to $ARCHIVE"
