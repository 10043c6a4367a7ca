"""The HTTP server: FastAPI with /health and /diagnostics, the hang-up watch and the request guard in
front of everything, and the Gradio app mounted at /; uvicorn with the limits of f5ui/listener.py."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import gradio as gr
import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from .access import AccessGate, create_access_router
from .accounts import DIAGNOSTICS, NOBODY, Accounts, Forbidden, caller_in, permit
from .config import Settings
from .diagnostics import Diagnostics, diagnostics_for
from .download import fetch_beside
from .hangup_watch import HangupWatch
from .listener import server_options
from .logs import configure_logging
from .openai_api import create_openai_router
from .paths import FileGate
from .projects.studio import projects_for
from .request_guard import RequestGuard, UploadLimits
from .retention import Retention
from .schema import READY
from .service import Studio
from .ui.app import build_app
from .workers import shutdown_all

log = logging.getLogger(__name__)
ASSETS = Path(__file__).resolve().parent.parent / "assets"


def create_app(studio: Studio, diagnostics: Diagnostics, retention: Retention | None = None) -> FastAPI:
    """The FastAPI app. The panel, /health and /diagnostics all read the one `diagnostics`."""
    settings = studio.settings
    accounts = Accounts(settings)
    log.info("Access control %s", accounts.describe())
    app = FastAPI(title="f5ui", exception_handlers=QUIET_VALIDATION)

    @app.get("/health")
    def health() -> dict:
        """200 whenever the server is up; `ready` is true once a generation can run. Cheap: the
        checks are cached results, only the model state is read live."""
        status = studio.model.status()
        ready = status.state == READY
        return {"status": "ok", "ready": ready, "reason": "" if ready else status.detail,
                "model": status.as_dict(), "queue": {"waiting": studio.model.waiting},
                "checks": diagnostics.health_summary()}

    @app.get("/diagnostics", response_model=None)
    def diagnostics_report(request: Request) -> dict | JSONResponse:
        """The full diagnostics report (the same JSON as the /diagnostics API endpoint)."""
        try:
            permit(caller_in(request.state) or NOBODY, DIAGNOSTICS)
        except Forbidden as error:
            return JSONResponse({"error": str(error), "detail": str(error)}, status_code=403)
        return diagnostics.report()

    # Before the Gradio mount, which takes every other path.
    app.include_router(create_openai_router(studio))
    app.include_router(create_access_router(accounts))
    max_upload_bytes = int(settings.max_upload_mb * 2**20)
    delete_cache = None
    if retention is not None and retention.enabled:  # Gradio's own copies, besides our sweep of its folder
        delete_cache = (max(1, int(retention.interval)), max(1, int(retention.max_age_s)))
    demo = build_app(studio, diagnostics, delete_cache=delete_cache)
    uploads = UploadLimits(max_upload_bytes, max(1, settings.max_upload_files), settings.upload_dir,
                           max(0.0, settings.upload_folder_mb) * 2**20)
    app.add_middleware(RequestGuard, gate=FileGate([settings.upload_dir]), uploads=uploads)
    # Outside the guard: it must see the connection's own receive (AccessGate passes it on unchanged).
    app.add_middleware(HangupWatch, hangups=studio.hangups)
    app.add_middleware(AccessGate, accounts=accounts)  # outermost: a refused request costs no body read
    app = gr.mount_gradio_app(
        app, demo, path="/",
        theme=gr.themes.Soft(), css_paths=[ASSETS / "style.css"],
        head=f"<script>{(ASSETS / 'karaoke.js').read_text()}</script>",
        # What handlers return is served from here: outputs, and local exports (both under unguessable names).
        allowed_paths=[str(studio.output_dir), str(settings.writable_dir("exports"))],
        max_file_size=max_upload_bytes,
        ssr_mode=False, show_error=True,
        # Gradio's own login check on its routes, a second lock behind AccessGate; handlers see the name.
        auth_dependency=gradio_user if accounts.enabled else None,
        app_kwargs={"exception_handlers": QUIET_VALIDATION},  # Gradio's own routes answer 422s without the body
    )
    # Gradio checks that an input file was uploaded only once the Blocks "has launched", which
    # launch() sets and mount_gradio_app does not: without this, any server path is accepted.
    demo.has_launched = True
    app.state.blocks = demo
    return app


def gradio_user(request: Request) -> str | None:
    """The name Gradio shows for the caller AccessGate found (a guest is "guest"); None refuses."""
    caller = caller_in(request.state)
    return (caller.name or caller.role) if caller else None


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422, without the `input` (and `ctx`) it would echo: a refused body is never sent back."""
    errors = [{key: error.get(key) for key in ("type", "loc", "msg")} for error in exc.errors()[:20]]
    return JSONResponse({"detail": errors}, status_code=422)


QUIET_VALIDATION = {RequestValidationError: _validation_error}


def serve(settings: Settings) -> None:
    studio_log_dir = settings.writable_dir("logs")
    log_file = configure_logging(studio_log_dir)
    log.info("f5ui starting on http://%s:%d (log file %s)", settings.host, settings.port, log_file)
    # Gradio reads its upload folder from GRADIO_TEMP_DIR when components are built; ours is this server's
    # own folder in the data dir, whatever the variable said: files a request may name are only the ones
    # this server received, never every file of a broad folder such as /tmp.
    configured = os.environ.get("GRADIO_TEMP_DIR")
    if configured and Path(configured).expanduser().resolve() != settings.upload_dir:
        log.warning("GRADIO_TEMP_DIR=%s is not used: uploads go to this server's own folder %s", configured,
                    settings.upload_dir)
    os.environ["GRADIO_TEMP_DIR"] = str(settings.upload_dir)
    # Gradio calls matplotlib.use("agg") around every event; if that runs while the loader thread is
    # half-way through importing pyplot (f5-tts imports it), the event fails. Import it here first (~0.2 s).
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401

    studio = Studio(settings)
    diagnostics = diagnostics_for(studio)
    diagnostics.run_fast()  # milliseconds; one log line per check before anything serves
    retention = Retention([studio.output_dir, settings.upload_dir], settings.retention_hours)
    retention.start()  # deletes what earlier runs left past the retention, then sweeps periodically
    if studio.exports.kind == "local":
        Retention([settings.writable_dir("exports")], settings.export_retention_hours).start()
    if settings.predownload:  # beside the server: /health answers during a long first download
        fetch_beside(settings.download_timeout)
    app = create_app(studio, diagnostics, retention)
    studio.start()  # the model loads in the background; the UI answers meanwhile
    projects_for(studio).start()  # runs the server stopped during go on (each waits for the model)
    diagnostics.start_background()  # torch, GPU, aligner imports, hub: seconds, off the main thread
    # Bounded graceful shutdown: open event streams would otherwise keep `docker stop` waiting for SIGKILL.
    # Connection limits, the header/read timeout and the security headers: f5ui/listener.py.
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", timeout_graceful_shutdown=3,
                    **server_options(settings))
    finally:
        shutdown_all()  # the decoder processes stop with the server
