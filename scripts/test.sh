#!/usr/bin/env bash
# Set up (idempotent), lint, and run the whole test suite. Needs no GPU and no model hub.
# Extra arguments go to pytest, e.g. -m "not live and not browser" for the fast part alone.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/ruff check .
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
exec .venv/bin/python -m pytest tests -ra "$@"
