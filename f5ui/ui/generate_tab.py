"""The Generate tab: layout and wiring (the handlers are in generate_handlers.py)."""

from __future__ import annotations

import gradio as gr

from ..engine.synthesis import MAX_TAKES
from ..schema import GenerationParams
from ..service import Studio
from . import inputs
from .actions import AUTO, aligner_choices
from .export_view import build_export
from .generate_handlers import make_generate_handler, make_live_handler, make_stream_handler
from .quality_view import build_quality_output
from .timing_view import build_timing_outputs, render
from .voices import build_save_voice, build_voice_picker

DEFAULTS = GenerationParams()


def build_generate_tab(studio: Studio, voice_lists: list) -> gr.Dropdown:
    """Lay out the tab inside the current Blocks context and wire its events; returns the voice
    picker. `voice_lists` holds every component that lists voices (refreshed after saving one)."""
    max_chars = studio.settings.max_chars
    with gr.Row():
        with gr.Column(scale=1):
            voice = build_voice_picker(studio)
            ref_audio = gr.Audio(label=f"Reference voice (3–12 s of clear speech; files up to "
                                       f"{studio.settings.max_upload_mb:g} MB)", sources=["upload", "microphone"],
                                 type="filepath", elem_id="ref-audio")
            ref_text = gr.Textbox(label="Reference text", lines=2, elem_id="ref-text",
                                  placeholder="The exact words spoken in the reference. Leave empty to transcribe "
                                              "automatically (needs the Whisper model).")
            build_save_voice(studio, ref_audio, ref_text, voice_lists)
            gen_text = gr.Textbox(label="Text to generate", lines=6, elem_id="gen-text",
                                  placeholder="What the cloned voice should say. Long text is split into chunks.",
                                  info=f"Up to {max_chars} characters.")
            with gr.Accordion("Advanced settings", open=False):
                speed = inputs.slider("speed", "Speed", DEFAULTS.speed, 0.05, "1.0 keeps the reference's pace.")
                nfe_step = inputs.slider("nfe_step", "NFE steps", DEFAULTS.nfe_step, 1,
                                   "Denoising steps: fewer is faster, more is cleaner.")
                cfg_strength = inputs.slider("cfg_strength", "CFG strength", DEFAULTS.cfg_strength, 0.1,
                                       "How strongly the text guides the voice.")
                cross_fade = inputs.slider("cross_fade", "Cross-fade (s)", DEFAULTS.cross_fade, 0.01,
                                     "Overlap between chunks of long text.")
                with gr.Row():
                    seed = inputs.seed_number(label="Seed", value=0, elem_id="seed")
                    randomize_seed = inputs.checkbox("Randomize seed", "randomize_seed", value=True)
                remove_silence = inputs.checkbox("Remove long silences", "remove_silence", value=False)
                with gr.Row():
                    word_timings = inputs.checkbox("Word timings", "word_timings", value=True, elem_id="word-timings",
                                                   info="Time every word and write subtitle files.")
                    aligner = gr.Dropdown(aligner_choices(), value=AUTO, label="Aligner",
                                          info="auto tries them in order and says why each was passed over.")
                with gr.Row():
                    max_takes = inputs.count_slider(
                        "max_takes", "Takes of a flagged chunk", 0, MAX_TAKES, 0,
                        f"A chunk whose check flags words is made again, up to this many takes (0: "
                        f"{studio.default_takes()}, the server's default).")
                    normalize_loudness = inputs.checkbox(
                        f"Normalize loudness ({studio.settings.loudness_target:g} LUFS)", "normalize_loudness",
                        value=False)
            generate_btn = gr.Button("Generate", variant="primary", elem_id="generate-btn")
        with gr.Column(scale=1):
            # Plays each chunk as it is generated; the finished take (file, timings, downloads) comes below.
            live_audio = gr.Audio(label="Listen while it generates", streaming=True, autoplay=True,
                                  interactive=False, elem_id="live-audio")
            out_audio = gr.Audio(label="Cloned speech", type="filepath", interactive=False, elem_id="out-audio")
            with gr.Row():
                used_seed = gr.Number(label="Seed used", precision=0, interactive=False)
                used_ref_text = gr.Textbox(label="Reference text used", interactive=False)
            card, quality = build_quality_output("gen")
            backend, karaoke, table, files, raw = build_timing_outputs("gen")
            build_export(studio, "gen", out_audio, raw, api_name="export")
            spectrogram = gr.Image(label="Spectrogram", type="filepath", interactive=False)

    request = [ref_audio, ref_text, gen_text, speed, nfe_step, cfg_strength, cross_fade, seed, randomize_seed,
               remove_silence, word_timings, aligner, voice, max_takes, normalize_loudness]
    final = [out_audio, used_seed, used_ref_text, spectrogram, raw, files, quality]
    after = {"fn": render, "inputs": [raw, out_audio, quality], "outputs": [karaoke, table, backend, card],
             "api_visibility": "private", "queue": False}
    # The browser's button streams; programs keep /generate (one answer) and get /generate_stream.
    generate_btn.click(make_live_handler(studio), inputs=request, outputs=[live_audio, *final],
                       api_visibility="private", concurrency_id="model").then(**after)
    api_generate = gr.Button(visible=False)
    api_generate.click(make_generate_handler(studio), inputs=request, outputs=final, api_name="generate",
                       concurrency_id="model")  # one queue for everything that runs the model
    stream_piece = gr.Audio(type="filepath", visible=False)
    stream_info = gr.JSON(visible=False)
    api_stream = gr.Button(visible=False)
    api_stream.click(make_stream_handler(studio), inputs=request, outputs=[stream_piece, stream_info],
                       api_name="generate_stream", concurrency_id="model")
    return voice
