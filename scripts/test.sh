#!/usr/bin/env bash
# Install the project with its test extra (at the versions constraints.txt pins), check style, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh test
venv="${VENV:-.venv}"
"$venv/bin/ruff" check .
"$venv/bin/ruff" format --check .
exec "$venv/bin/python" -m pytest "$@"
