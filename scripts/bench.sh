#!/usr/bin/env bash
# `make bench`: the benchmark (bench/README.md) against the local PostgreSQL and Redis, started as
# `make test` starts them and stopped again afterwards if they were started here. The bench makes
# and drops a database of its own (parlor_bench); the demo's and the tests' are never touched.
#   BENCH_SCALE=1 make bench          the issue's sizes (0.1 by default)
#   BENCH_SCALE=1 BENCH_PROFILE=1 make bench
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_dev_env
load_dotenv
trap 'stop_started >/dev/null' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_services
# The pages are rendered in Ukrainian, as the staff see them.
"$PY" scripts/compile_messages.py
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m bench
