# syntax=docker/dockerfile:1
# f5ui for GPU hosts (RunPod, any CUDA machine) or CPU. The base is python:3.11-slim rather than an
# nvidia/cuda image because the pinned torch 2.8.0 wheels carry their own CUDA 12 runtime (the nvidia-*
# pip packages): the host needs only the NVIDIA driver (`docker run --gpus all`).
# Build steps only install. The volume, the caches on it, the model download and nltk data are the
# start script's job at container start (scripts/start.sh), when the volume exists.
FROM python:3.11-slim-bookworm AS app

RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 f5ui \
 && mkdir -p /data /app/f5ui_data \
 && chown f5ui:f5ui /data /app/f5ui_data

WORKDIR /app
COPY requirements.txt constraints.txt ./
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt

COPY app.py ./
COPY f5ui ./f5ui
COPY assets ./assets
COPY scripts/start.sh ./scripts/start.sh

ENV GRADIO_ANALYTICS_ENABLED=False \
    PYTHONUNBUFFERED=1 \
    PORT=7860
USER f5ui
EXPOSE 7860
# /health answers 200 as soon as the server is up (the model loads in the background; `ready` says when).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${PORT}/health" || exit 1
ENTRYPOINT ["/app/scripts/start.sh"]
CMD ["app"]

# The RunPod serverless worker: the same image started as the worker (docker build --target worker).
FROM app AS worker
HEALTHCHECK NONE
CMD ["worker"]
