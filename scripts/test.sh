#!/usr/bin/env bash
# Install the project with its test extra (at the versions constraints.txt pins), check style, types and dead
# code, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh test
venv="${VENV:-.venv}"
"$venv/bin/ruff" check .
"$venv/bin/ruff" format --check .
"$venv/bin/mypy"    # settings in pyproject.toml: strict on bot/core, standard on the rest of bot/
"$venv/bin/vulture" # likewise: code nothing uses
exec "$venv/bin/python" -m pytest "$@"
