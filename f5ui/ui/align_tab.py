"""The Align tab: any recording plus its transcript → word timings and subtitle files; and the
check of the recording against its transcript (which words are missing, repeated or garbled)."""

from __future__ import annotations

import gradio as gr

from ..service import Studio
from .actions import AUTO, aligner_choice, aligner_choices, caller_of, shown_as
from .export_view import build_export
from .quality_view import build_quality_output
from .timing_view import build_timing_outputs, render, subtitle_file_list


def make_align_handler(studio: Studio):
    def align(audio, transcript, language="", aligner=AUTO, request: gr.Request = None):
        with shown_as("align"):
            timed = studio.align(audio, transcript or "", language=(language or "").strip() or None,
                                 aligner=aligner_choice(aligner), caller=caller_of(request))
        return timed.alignment.to_dict(), subtitle_file_list(timed.files)

    return align


def make_check_handler(studio: Studio):
    def check(audio, text, reference=None, language="", request: gr.Request = None):
        with shown_as("check"):
            report = studio.check(audio, text or "", reference, language=(language or "").strip() or None,
                                  caller=caller_of(request))
        return report.to_dict()

    return check


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
            with gr.Row():
                align_btn = gr.Button("Align words", variant="primary", elem_id="align-btn")
                check_btn = gr.Button("Check the words", elem_id="check-btn")
            reference = gr.Audio(label="Reference voice, for speaker similarity (optional)", type="filepath",
                                 sources=["upload"], elem_id="check-reference")
        with gr.Column(scale=1):
            card, quality = build_quality_output("align")
            backend, karaoke, table, files, raw = build_timing_outputs("align")
            build_export(studio, "align", audio, raw, api_name=None)  # the same /export as the Generate tab

    align_btn.click(
        make_align_handler(studio),
        inputs=[audio, transcript, language, aligner],
        outputs=[raw, files],
        api_name="align",
        concurrency_id="aligner",
    ).then(lambda timing, path, report: render(timing, path, report, warn="timing"), inputs=[raw, audio, quality],
           outputs=[karaoke, table, backend, card], api_visibility="private", queue=False)
    check_btn.click(
        make_check_handler(studio),
        inputs=[audio, transcript, reference, language],
        outputs=[quality],
        api_name="check",
        concurrency_id="aligner",
    ).then(lambda timing, path, report: render(timing, path, report, warn="quality"), inputs=[raw, audio, quality],
           outputs=[karaoke, table, backend, card], api_visibility="private", queue=False)
    # The timings and the check are shown together only while they are of the recording and the
    # transcript on the page: a new one of either clears both (and anything exported of them).
    for source in (audio, transcript):
        source.change(lambda: (None, None, None, *render(None, None)), outputs=[raw, files, quality, karaoke, table,
                      backend, card], api_visibility="private", queue=False)
