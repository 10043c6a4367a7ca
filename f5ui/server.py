"""The HTTP server: FastAPI with /health and /diagnostics, and the Gradio app mounted at /."""

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
    """The FastAPI app. The panel, /health and /diagnostics all read the studio's one Diagnostics."""
    diagnostics = studio.diagnostics
    app = FastAPI(title="f5ui")

    @app.get("/health")
    def health() -> dict:
        """200 whenever the server is up; `ready` is true once a generation can run. Cheap: the
        checks are cached results, only the model state is read live."""
        status = studio.model.status()
        ready = status.state == "ready"
        return {"status": "ok", "ready": ready, "reason": "" if ready else status.detail,
                "model": status.as_dict(), "checks": diagnostics.health_summary()}

    @app.get("/diagnostics")
    def diagnostics_report() -> dict:
        """The full diagnostics report (the same JSON as the /diagnostics API endpoint)."""
        return diagnostics.report()

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
    studio.diagnostics.run_fast()  # milliseconds; one log line per check before anything serves
    app = create_app(studio)
    studio.start()  # the model loads in the background; the UI answers meanwhile
    studio.diagnostics.start_background()  # torch, GPU, aligner imports, hub: seconds, off the main thread
    # Bounded graceful shutdown: open event streams would otherwise keep `docker stop` waiting for SIGKILL.
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", timeout_graceful_shutdown=3)
