"""The Blocks app: header, model status line, tabs, and the queue."""

from __future__ import annotations

import gradio as gr

from ..engine.model_service import FAILED, LOADING, READY
from ..service import Studio
from .align_tab import build_align_tab
from .generate_tab import build_generate_tab



def model_status_markdown(studio: Studio) -> str:
    status = studio.model.status()
    line = f'<span class="status-dot {status.state}">●</span> **Model {status.state}** — {status.detail}'
    if status.fix:
        line += f"  \n**Fix:** {status.fix}"
    return line


def build_app(studio: Studio) -> gr.Blocks:
    with gr.Blocks(title="f5ui — voice cloning studio") as demo:
        gr.Markdown("# f5ui\nClone a voice from a short reference recording with F5-TTS.", elem_id="header")
        status = gr.Markdown(model_status_markdown(studio), elem_id="model-status")
        poll = gr.Timer(1.0, active=True)
        with gr.Tabs():
            with gr.Tab("Generate", id="generate"):
                build_generate_tab(studio)
            with gr.Tab("Align", id="align"):
                build_align_tab(studio)

        def refresh_status():
            # Keep polling only while the model is loading.
            return model_status_markdown(studio), gr.Timer(active=studio.model.state == LOADING)

        poll.tick(refresh_status, outputs=[status, poll], api_visibility="private", queue=False)
        demo.load(refresh_status, outputs=[status, poll], api_visibility="private", queue=False)
    demo.queue(default_concurrency_limit=studio.settings.concurrency)
    return demo
