"""Word-timing widgets shared by the Generate and Align tabs. Everything here renders from the
timings JSON (AlignmentResult.to_dict()), so the UI shows exactly what the API returns."""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import quote

import gradio as gr

from .quality_view import quality_card, statuses

WORD_COLUMNS = ["#", "word", "start (s)", "end (s)", "confidence", "interpolated", "check"]


def file_url(path: str | Path) -> str:
    """Relative URL Gradio serves an allowed file under (relative, so it works behind a path prefix)."""
    return "gradio_api/file=" + quote(str(Path(path).resolve()))


def karaoke_html(timing: dict | None, audio_path: str | None, quality: dict | None = None) -> str:
    """An audio player with the words as spans; assets/karaoke.js highlights the word being spoken
    and seeks when a word is clicked. Words the check flagged are red."""
    if not timing or not timing.get("words") or not audio_path:
        return ""
    spans = []
    for word, status in zip(timing["words"], statuses(quality, len(timing["words"]))):
        css = "kw interpolated" if word["interpolated"] else "kw"
        if status:
            css += f" flagged flag-{status}"
        title = f'{word["start"]:.2f}–{word["end"]:.2f} s' + (f" ({status})" if status else "")
        spans.append(f'<span class="{css}" data-start="{word["start"]}" data-end="{word["end"]}" '
                     f'title="{title}">{html.escape(word["word"])}</span>')
    return (f'<div class="karaoke"><audio controls preload="auto" src="{file_url(audio_path)}"></audio>'
            f'<p class="karaoke-words">{" ".join(spans)}</p></div>')


def word_rows(timing: dict | None, quality: dict | None = None) -> list[list]:
    if not timing:
        return []
    checks = statuses(quality, len(timing["words"]))
    return [[i + 1, w["word"], w["start"], w["end"], w["confidence"], "yes" if w["interpolated"] else "",
             f"❌ {checks[i]}" if checks[i] else ""] for i, w in enumerate(timing["words"])]


def backend_markdown(timing: dict | None) -> str:
    """Which aligner produced the times, and why each earlier one did not."""
    if not timing:
        return ""
    lines = [f"**Word timings by `{timing['backend']}`**"
             + (" (low confidence)" if timing.get("low_confidence") else "")]
    for attempt in timing.get("attempts", []):
        lines.append(f"- `{attempt['backend']}` **{attempt['status']}**: {html.escape(attempt['reason'])}")
    if timing.get("warning"):
        lines.append(f"\n⚠ {html.escape(timing['warning'])}")
    return "\n".join(lines)


def render(timing: dict | None, audio_path: str | None, quality: dict | None = None, warn: str = "both"):
    """Outputs for (karaoke, word table, backend notes, quality card); `warn`: which of the two
    results was just made and so may warn ("timing", "quality" or "both")."""
    if timing and timing.get("warning") and warn != "quality":
        gr.Warning(timing["warning"])
    if quality and quality.get("flagged") and warn != "timing":
        gr.Warning("The check flagged " + ", ".join(f"{w['word']!r} ({w['status']})" for w in quality["flagged"]))
    return (karaoke_html(timing, audio_path, quality), word_rows(timing, quality), backend_markdown(timing),
            quality_card(quality))


def build_timing_outputs(prefix: str):
    """Karaoke view, word table, backend notes, subtitle downloads and raw JSON, in the current context."""
    backend = gr.Markdown(elem_id=f"{prefix}-timing-backend")
    karaoke = gr.HTML(elem_id=f"{prefix}-karaoke")
    table = gr.Dataframe(headers=WORD_COLUMNS, label="Words", interactive=False, elem_id=f"{prefix}-words",
                         wrap=True)
    files = gr.File(label="Subtitles and timings (SRT words, SRT phrases, WebVTT, JSON, CSV, ASS)",
                    file_count="multiple", interactive=False, elem_id=f"{prefix}-subtitles")
    with gr.Accordion("Timings JSON", open=False):
        raw = gr.JSON(label="Timings", elem_id=f"{prefix}-timings-json")
    return backend, karaoke, table, files, raw


def subtitle_file_list(files: dict[str, Path] | None) -> list[str]:
    order = ("srt_words", "srt_phrases", "vtt", "json", "csv", "ass")
    return [str(files[k]) for k in order if files and k in files]
