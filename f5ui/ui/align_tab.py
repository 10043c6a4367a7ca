"""The Align tab: any recording plus its transcript → word timings and subtitle files."""

from __future__ import annotations

import gradio as gr

from ..service import Studio
from .actions import AUTO, aligner_choice, aligner_choices, shown_as
from .export_view import build_export
from .timing_view import build_timing_outputs, render, subtitle_file_list


def make_align_handler(studio: Studio):
    def align(audio, transcript, language="", aligner=AUTO):
        with shown_as("align"):
            timed = studio.align(audio, transcript or "", language=(language or "").strip() or None,
                                 aligner=aligner_choice(aligner))
        return timed.alignment.to_dict(), subtitle_file_list(timed.files)

    return align


def build_align_tab(studio: Studio) -> None:
    with gr.Row():
        with gr.Column(scale=1):
            limits = studio.settings
            audio = gr.Audio(label=f"Recording (up to {limits.max_align_seconds / 60:g} min, files up to "
                                   f"{limits.max_upload_mb:g} MB)", sources=["upload", "microphone"], type="filepath",
                             elem_id="align-audio")
            transcript = gr.Textbox(label="Transcript", lines=6, elem_id="align-transcript",
                                    placeholder="The words spoken in the recording, in order.")
            with gr.Row():
                language = gr.Textbox(label="Language", value=studio.settings.language, max_lines=1,
                                      info="ISO 639-1 code, e.g. en, de, fr.")
                aligner = gr.Dropdown(aligner_choices(), value=AUTO, label="Aligner")
            align_btn = gr.Button("Align words", variant="primary", elem_id="align-btn")
        with gr.Column(scale=1):
            backend, karaoke, table, files, raw = build_timing_outputs("align")
            build_export(studio, "align", audio, raw, api_name=None)  # the same /export as the Generate tab

    align_btn.click(
        make_align_handler(studio),
        inputs=[audio, transcript, language, aligner],
        outputs=[raw, files],
        api_name="align",
        concurrency_id="aligner",
    ).then(render, inputs=[raw, audio], outputs=[karaoke, table, backend], api_visibility="private", queue=False)
