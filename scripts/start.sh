#!/usr/bin/env bash
# Container entrypoint: find the persistent volume, lay out the data dir on it, point the caches
# there, optionally fetch the model, then launch. Everything here needs the running environment
# (the volume exists only now), so none of it happens at build time.
#   start.sh app      the web app on 0.0.0.0:${PORT:-7860} (the image's default CMD)
#   start.sh worker   the RunPod serverless worker
# Reads: F5UI_DATA_DIR (else the first writable of F5UI_VOLUMES: /runpod-volume, /workspace, /data),
# PORT, F5UI_PREDOWNLOAD=1 and F5UI_DOWNLOAD_TIMEOUT (seconds, default 1800), HF_HUB_OFFLINE, PYTHON.
# The app listens on F5UI_HOST (else GRADIO_SERVER_NAME, else 0.0.0.0) and F5UI_PORT (else GRADIO_SERVER_PORT,
# else PORT, else 7860): the Dockerfile's HEALTHCHECK reads the same.
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

# WhisperX splits sentences with nltk's punkt_tab: keep it on the volume. f5ui.punkt judges the outcome by
# looking for the data (the downloader exits 0 when it fails) and tries at most once a day per volume.
set +e
timeout 120 "$python" -m f5ui.punkt </dev/null
punkt=$?
set -e
if [ "$punkt" -eq 124 ]; then
  say "warning: nltk punkt_tab was still downloading after 120 s and was stopped; WhisperX stays off; tried again tomorrow"
fi

fetch_model() {
  say "fetching the model (at most ${F5UI_DOWNLOAD_TIMEOUT:-1800} s)"
  if timeout "${F5UI_DOWNLOAD_TIMEOUT:-1800}" "$python" -m f5ui.download; then
    say "the model files are in the cache"
  else
    say "warning: the model download failed or timed out; the worker starts anyway and its log says why"
  fi
}

if [ "$role" = worker ]; then
  # A worker has no health check to fail: it fetches first, then its fitness check loads the model.
  if [ "${F5UI_PREDOWNLOAD:-0}" = "1" ]; then fetch_model; fi
  say "starting the serverless worker"
  exec "$python" -m f5ui.serverless
fi
# The app fetches the model itself with F5UI_PREDOWNLOAD=1, beside its server: /health answers (ready: false)
# from the first seconds, so the container's health check passes during a long first download.
# f5ui.hosting exported F5UI_HOST / F5UI_PORT from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT where ours were unset.
host="${F5UI_HOST:-0.0.0.0}"
port="${F5UI_PORT:-${PORT:-7860}}"
say "starting the app on $host:$port"
exec "$python" "$root/app.py" --host "$host" --port "$port"
