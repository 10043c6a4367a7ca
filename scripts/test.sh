#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite. Needs no GPU and no model hub.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
exec .venv/bin/python -m pytest tests -ra "$@"
