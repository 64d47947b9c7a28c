#!/usr/bin/env bash
# Runs one command with DATABASE_URL and REDIS_URL pointing at running
# servers, then stops the local ones it had to start:
#   scripts/with-services.sh .venv/bin/python manage.py shell
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "$#" -gt 0 ] || { echo "usage: scripts/with-services.sh COMMAND [ARG...]" >&2; exit 2; }
ensure_dev_env
load_dotenv
# An interrupted command must still stop the servers; `exit` runs the EXIT trap.
trap stop_started EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
start_services
"$@"
