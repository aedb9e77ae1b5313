#!/usr/bin/env bash
# Install what the bot needs (first run only) and start it; settings come from .env.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh
# two glibc heaps, not one per thread: freed image memory then goes back to the system (docs/benchmarks.md, Memory)
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
exec "${VENV:-.venv}/bin/python" -m bot
