"""The Blocks app: header, status panel, tabs, and the queue."""

from __future__ import annotations

import gradio as gr

from ..diagnostics import Diagnostics
from ..projects.studio import projects_for
from ..service import Studio
from .align_tab import build_align_tab
from .generate_tab import build_generate_tab
from .projects_api import register_project_api
from .projects_tab import build_projects_tab
from .status_panel import build_status_panel
from .voices import build_voices_tab, refreshed, register_voice_api


def build_app(studio: Studio, diagnostics: Diagnostics, delete_cache: tuple[int, int] | None = None) -> gr.Blocks:
    """`delete_cache` = (every s, older than s): Gradio deletes its own copies of uploads and outputs."""
    with gr.Blocks(title="f5ui — voice cloning studio", delete_cache=delete_cache) as demo:
        gr.Markdown("# f5ui\nClone a voice from a short reference recording with F5-TTS.", elem_id="header")
        build_status_panel(diagnostics)
        voice_lists: list = []  # every component that lists saved voices, refreshed together
        with gr.Tabs():
            with gr.Tab("Generate", id="generate"):
                voice_lists.append(build_generate_tab(studio, voice_lists))
            with gr.Tab("Align", id="align"):
                build_align_tab(studio)
            with gr.Tab("Voices", id="voices"):
                voice_lists.extend(build_voices_tab(studio, voice_lists))
            with gr.Tab("Projects", id="projects"):
                voice_lists.append(build_projects_tab(projects_for(studio), [v.name for v in studio.voice_list()]))
        register_voice_api(studio)
        register_project_api(projects_for(studio))
        # Voices saved by another session (or before a restart) show up when the page loads.
        # No progress shown: a tracker on the Voices tab, hidden while this ran, kept spinning once the tab
        # was opened (Gradio 6.17, in Chromium), which blocked its controls.
        gr.on(None, lambda: refreshed(studio, voice_lists), outputs=voice_lists, api_visibility="private",
              queue=False, show_progress="hidden")
    demo.queue(default_concurrency_limit=studio.settings.concurrency, max_size=studio.settings.max_queue)
    return demo
