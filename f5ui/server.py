"""The HTTP server: FastAPI with /health, and the Gradio app mounted at /."""

from __future__ import annotations

import logging
from pathlib import Path

import gradio as gr
import uvicorn
from fastapi import FastAPI

from .config import Settings
from .logs import configure_logging
from .service import Studio
from .ui.app import build_app

log = logging.getLogger(__name__)
ASSETS = Path(__file__).resolve().parent.parent / "assets"


def create_app(studio: Studio) -> FastAPI:
    app = FastAPI(title="f5ui")

    @app.get("/health")
    def health() -> dict:
        """200 whenever the server is up; `ready` is true once a generation can run."""
        status = studio.model.status()
        return {"status": "ok", "ready": status.state == "ready", "model": status.as_dict()}

    demo = build_app(studio)
    return gr.mount_gradio_app(
        app, demo, path="/",
        theme=gr.themes.Soft(), css_paths=[ASSETS / "style.css"],
        head=f"<script>{(ASSETS / 'karaoke.js').read_text()}</script>",
        allowed_paths=[str(studio.output_dir)],
        ssr_mode=False, show_error=True,
    )


def serve(settings: Settings) -> None:
    studio_log_dir = settings.writable_dir("logs")
    log_file = configure_logging(studio_log_dir)
    log.info("f5ui starting on http://%s:%d (log file %s)", settings.host, settings.port, log_file)
    # Gradio calls matplotlib.use("agg") around every event; if that runs while the loader thread is
    # half-way through importing pyplot (f5-tts imports it), the event fails. Import it here first (~0.2 s).
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401

    studio = Studio(settings)
    app = create_app(studio)
    studio.start()  # the model loads in the background; the UI answers meanwhile
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
