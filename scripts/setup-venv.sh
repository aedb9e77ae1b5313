#!/usr/bin/env bash
# Create .venv (if missing) and install the project into it; with "test", the test extra too.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${VENV:-.venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
extra=""
[ "${1:-}" = "test" ] && extra="[test]"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --editable ".$extra"
