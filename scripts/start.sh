#!/usr/bin/env bash
# Container entrypoint: find the persistent volume, lay out the data dir on it, point the caches
# there, optionally fetch the model, then launch. Everything here needs the running environment
# (the volume exists only now), so none of it happens at build time.
#   start.sh app      the web app on 0.0.0.0:${PORT:-7860} (default)
#   start.sh worker   the RunPod serverless worker
# Reads: F5UI_DATA_DIR (else the first writable of F5UI_VOLUMES: /runpod-volume, /workspace, /data),
# PORT, F5UI_PREDOWNLOAD=1 and F5UI_DOWNLOAD_TIMEOUT (seconds, default 1800), HF_HUB_OFFLINE, PYTHON.
# Without a volume the data dir is ./f5ui_data of the working directory (/app in the image).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
role="${1:-app}"
python="${PYTHON:-python}"
say() { printf '%s start.sh: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

case "$role" in
  app|worker) ;;
  *) say "unknown role '$role' (use app or worker)"; exit 2 ;;
esac

# One implementation of "where does state live" (f5ui/hosting.py), shared with the app itself.
exports="$("$python" -m f5ui.hosting exports)"
eval "$exports"
say "data dir $F5UI_DATA_DIR ($F5UI_STORAGE)"
if [ -n "$F5UI_STORAGE_NOTE" ]; then say "warning: $F5UI_STORAGE_NOTE"; fi

created=()
for sub in $("$python" -m f5ui.hosting layout); do
  if [ ! -d "$F5UI_DATA_DIR/$sub" ]; then
    if mkdir -p "$F5UI_DATA_DIR/$sub" 2>/dev/null; then
      created+=("$sub")
    else
      say "warning: cannot create $F5UI_DATA_DIR/$sub; the app falls back to a temp dir and says so in its status panel"
    fi
  fi
done
if [ ${#created[@]} -gt 0 ]; then say "created ${created[*]}"; else say "layout already in place"; fi

offline=""
case "${HF_HUB_OFFLINE:-}" in 1|true|TRUE|yes|on) offline=1 ;; esac

# WhisperX splits sentences with nltk's punkt_tab: keep it on the volume, fetched once.
if "$python" -c "import nltk; nltk.data.find('tokenizers/punkt_tab/english/')" 2>/dev/null; then
  say "nltk punkt_tab present"
elif [ -n "$offline" ]; then
  say "nltk punkt_tab missing and HF_HUB_OFFLINE is set: not downloading (WhisperX stays off, with the reason)"
else
  timeout 120 "$python" -m nltk.downloader -q -d "$NLTK_DATA" punkt_tab </dev/null >/dev/null 2>&1 \
    && say "nltk punkt_tab downloaded" || say "warning: nltk punkt_tab could not be downloaded; WhisperX stays off"
fi

if [ "${F5UI_PREDOWNLOAD:-0}" = "1" ]; then
  say "fetching the model (at most ${F5UI_DOWNLOAD_TIMEOUT:-1800} s)"
  timeout "${F5UI_DOWNLOAD_TIMEOUT:-1800}" "$python" -m f5ui.download \
    || say "warning: the model download failed or timed out; the app starts anyway and its status panel says why"
fi

if [ "$role" = worker ]; then
  say "starting the serverless worker"
  exec "$python" -m f5ui.serverless
fi
say "starting the app on 0.0.0.0:${PORT:-7860}"
exec "$python" "$root/app.py" --host "${F5UI_HOST:-0.0.0.0}" --port "${PORT:-${F5UI_PORT:-7860}}"
