#!/usr/bin/env bash
# Install what the bot needs (first run only) and start it; settings come from .env.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh
exec "${VENV:-.venv}/bin/python" -m bot
