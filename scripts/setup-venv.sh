#!/usr/bin/env bash
# Create .venv (if missing) and install the project into it; with "test", the test extra too. Every package
# is installed at the version constraints.txt pins. Skipped when neither pyproject.toml nor constraints.txt
# has changed since the last install of the same kind.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${VENV:-.venv}"
kind="${1:-run}"
stamp="$venv/.installed-$kind"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
  extra=""
  [ "$kind" = "test" ] && extra="[test]"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -c constraints.txt --editable ".$extra"
  touch "$stamp"
fi
