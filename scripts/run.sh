#!/usr/bin/env bash
# Set up (idempotent) and launch the app. Extra arguments go to app.py (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh app
exec .venv/bin/python app.py "$@"
