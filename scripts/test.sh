#!/usr/bin/env bash
# `make test`: lint, format, migrations and the whole pytest suite against the
# local PostgreSQL and Redis (started if needed, stopped again afterwards if
# they were started here). Every step runs even if an earlier one failed, so
# one run shows every problem; the exit code is non-zero if any failed.
#   PYTEST_ARGS='-k booking -x' make test
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_dev_env
load_dotenv
# Quiet on the way out: pytest's summary should stay the last thing printed.
trap 'stop_started >/dev/null' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

scripts/services.sh chromium
scripts/services.sh pdf
start_services
"$PY" scripts/compile_messages.py

FAILED=()
step() {
    local name="$1"
    shift
    echo "==> $name"
    "$@" || FAILED+=("$name")
}

# eval, so that quoting inside PYTEST_ARGS works as on a command line.
pytest_args=()
eval "pytest_args=(${PYTEST_ARGS:-})"

step "ruff check" ruff check .
step "ruff format" ruff format --check .
step "migrations" "$PY" manage.py makemigrations --check --dry-run
step "pytest" pytest "${pytest_args[@]}"

if [ "${#FAILED[@]}" -gt 0 ]; then
    echo "make test: failed: ${FAILED[*]}" >&2
    exit 1
fi
