# syntax=docker/dockerfile:1
# f5ui for GPU hosts (RunPod, any CUDA machine) or CPU. The base is python:3.11-slim rather than an
# nvidia/cuda image because the pinned torch 2.8.0 wheels carry their own CUDA 12 runtime (the nvidia-*
# pip packages): the host needs only the NVIDIA driver (`docker run --gpus all`).
# Build steps only install. The volume, the caches on it, the model download and nltk data are the
# start script's job at container start (scripts/start.sh), when the volume exists.
#   docker build -t f5ui .                          the web app (the last stage is the default target)
#   docker build --target worker -t f5ui-worker .   the RunPod serverless worker

# The pinned packages published only as source, built into wheels here: webrtcvad is C code and needs a
# compiler, which stays in this stage; the others are pure Python. The image itself installs wheels
# only (--only-binary below), so a new source-only dependency fails the build instead of compiling.
FROM python:3.11-slim-bookworm AS wheels
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /tmp/requirements.txt
RUN --mount=type=cache,target=/root/.cache/pip pip wheel --no-deps --wheel-dir /wheels -c /tmp/requirements.txt \
    antlr4-python3-runtime encodec srt transformers-stream-generator typing webrtcvad

# What the app and the worker share: ffmpeg, the pinned packages, the code, a non-root user.
FROM python:3.11-slim-bookworm AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 f5ui \
 && mkdir -p /data /app/f5ui_data \
 && chown f5ui:f5ui /data /app/f5ui_data

WORKDIR /app
COPY requirements.txt ./
RUN --mount=type=cache,target=/root/.cache/pip --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    pip install --only-binary :all: --find-links /wheels -r requirements.txt

COPY app.py ./
COPY f5ui ./f5ui
COPY assets ./assets
COPY scripts/start.sh ./scripts/start.sh

ENV GRADIO_ANALYTICS_ENABLED=False \
    PYTHONUNBUFFERED=1 \
    PORT=7860
USER f5ui
ENTRYPOINT ["/app/scripts/start.sh"]

# The RunPod serverless worker: `docker build --target worker`. RunPod checks it by its fitness check.
FROM runtime AS worker
CMD ["worker"]

# The web app, the default target. /health answers 200 as soon as the server is up (the model loads,
# and with F5UI_PREDOWNLOAD=1 downloads, in the background; `ready` says when).
FROM runtime AS app
EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${F5UI_PORT:-${GRADIO_SERVER_PORT:-${PORT:-7860}}}/health" || exit 1
CMD ["app"]
