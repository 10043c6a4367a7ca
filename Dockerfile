# f5ui on a GPU host (RunPod, any CUDA machine) or CPU. The torch wheels pinned in
# requirements.txt carry their own CUDA runtime; the host needs only the NVIDIA driver.
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg curl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt constraints.txt ./
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt \
 && python -m nltk.downloader -d /usr/local/share/nltk_data punkt_tab

COPY app.py ./
COPY f5ui ./f5ui
COPY assets ./assets

# Listen on all interfaces; keep outputs, caches and the Hugging Face cache on a volume.
ENV F5UI_HOST=0.0.0.0 \
    F5UI_PORT=7860 \
    F5UI_DATA_DIR=/data \
    HF_HOME=/data/hf \
    GRADIO_ANALYTICS_ENABLED=False
VOLUME /data
EXPOSE 7860

# /health answers 200 as soon as the server is up (the model loads in the background).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD curl -fsS http://127.0.0.1:7860/health || exit 1

CMD ["python", "app.py"]
