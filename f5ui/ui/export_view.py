"""The Export controls shared by the Generate and Align tabs: a format, a button, and what came of
it (clickable links to the bucket, or downloads of the local copies)."""

from __future__ import annotations

import html
from typing import Any

import gradio as gr

from ..service import EXPORT_FORMATS, Studio
from .actions import caller_of, shown_as


def links_markdown(result: dict[str, Any] | None) -> str:
    """Where the export went, with one link per file."""
    if not result:
        return ""
    if result["kind"] == "s3":
        lines = [f"**Exported to `{html.escape(result['location'])}`** — links valid for a limited time:"]
        lines += [f"- [{html.escape(f['name'])}]({f['url']}) ({f['bytes'] / 1024:.0f} KB)" for f in result["files"]]
    else:
        lines = [f"**Saved on the server in `{html.escape(result['location'])}`** (no S3 bucket is configured); "
                 "download the files below."]
    return "\n".join(lines)


def make_export_handler(studio: Studio):
    def export(audio, timings=None, audio_format="mp3", request: gr.Request = None):
        with shown_as("export"):
            result = studio.export(audio, timings, audio_format or "mp3", caller=caller_of(request))
        data = result.to_dict()
        downloads = [f.local_path for f in result.files] if result.kind == "local" else None
        return data, downloads

    return export


def build_export(studio: Studio, prefix: str, audio: gr.components.Component, timings: gr.JSON,
                 api_name: str | None) -> None:
    """Lay out the export controls in the current context, exporting `audio` and its `timings`."""
    target = "the S3 bucket" if studio.exports.kind == "s3" else "a folder on the server (no S3 bucket configured)"
    with gr.Accordion("Export", open=False, elem_id=f"{prefix}-export"):
        gr.Markdown(f"Audio, every timing file and a manifest, to {target}.")
        with gr.Row():
            audio_format = gr.Dropdown(list(EXPORT_FORMATS), value="mp3", label="Compressed copy",
                                       info="wav: only the WAV.", elem_id=f"{prefix}-export-format")
            button = gr.Button("Export", elem_id=f"{prefix}-export-btn")
        links = gr.Markdown(elem_id=f"{prefix}-export-links")
        downloads = gr.File(label="Exported files", file_count="multiple", interactive=False,
                            elem_id=f"{prefix}-export-files")
        with gr.Accordion("Export result (JSON)", open=False):
            result = gr.JSON(label="Export")
    visibility = "public" if api_name else "private"
    button.click(make_export_handler(studio), inputs=[audio, timings, audio_format], outputs=[result, downloads],
                 api_name=api_name, api_visibility=visibility, concurrency_id="export").then(
        links_markdown, inputs=[result], outputs=[links], api_visibility="private", queue=False)
