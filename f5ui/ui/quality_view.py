"""The quality report as a compact card (figures, flagged words, takes per chunk), rendered from
its JSON, so the UI shows exactly what the API returns."""

from __future__ import annotations

import html
from typing import Any

import gradio as gr


def _figure(label: str, value: str, good: bool | None = None) -> str:
    css = "" if good is None else ("good" if good else "bad")
    return f'<span>{html.escape(label)}: <b class="{css}">{html.escape(value)}</b></span>'


def quality_card(report: dict[str, Any] | None) -> str:
    if not report:
        return ""
    figures = []
    if report.get("word_accuracy") is not None:
        accuracy = report["word_accuracy"]
        figures.append(_figure("word accuracy", f"{accuracy:.0%}", accuracy >= 0.999))
    if report.get("similarity") is not None:
        figures.append(_figure("speaker similarity", f"{report['similarity']:.2f}", report["similarity"] >= 0.75))
    loud = report.get("loudness") or {}
    if loud.get("lufs") is not None:
        figures.append(_figure("loudness", f"{loud['lufs']:.1f} LUFS"))
    if loud:
        figures.append(_figure("peak", f"{loud['peak_dbfs']:.1f} dBFS", loud["clipped_samples"] == 0))
        if loud["clipped_samples"]:
            figures.append(_figure("clipped samples", str(loud["clipped_samples"]), False))
        if loud["long_silences"]:
            gaps = ", ".join(f"{a:.1f}–{b:.1f} s" for a, b in loud["long_silences"])
            figures.append(_figure("long silences", gaps, False))
    parts = [f'<div class="quality-card" id="quality-card"><p class="figures">{"".join(figures)}</p>']
    flagged = report.get("flagged") or []
    if flagged:
        words = ", ".join(f'<span class="bad">{html.escape(w["word"])}</span> ({w["status"]} at {w["start"]:.2f} s)'
                          for w in flagged)
        parts.append(f"<p>Flagged: {words}</p>")
    elif report.get("word_accuracy") is not None:
        parts.append('<p class="good">Every checked word was spoken once.</p>')
    retaken = [c for c in report.get("chunks", []) if len(c["takes"]) > 1]
    for chunk in retaken:
        seeds = ", ".join(f"seed {t['seed']}" + (" (kept)" if i == chunk["chosen"] else "")
                          for i, t in enumerate(chunk["takes"]))
        parts.append(f"<p>Chunk {chunk['index'] + 1}: {len(chunk['takes'])} takes: {html.escape(seeds)}</p>")
    for note in report.get("notes", []):
        parts.append(f"<p><i>{html.escape(note)}</i></p>")
    return "".join(parts) + "</div>"


def statuses(report: dict[str, Any] | None, count: int) -> list[str]:
    """Each word's status ("" when unchecked), when the report covers the same `count` words."""
    words = (report or {}).get("words") or []
    if len(words) != count:
        return [""] * count
    return ["" if not w["checked"] else ("" if w["status"] == "spoken" else w["status"]) for w in words]


def build_quality_output(prefix: str) -> tuple[gr.HTML, gr.JSON]:
    card = gr.HTML(elem_id=f"{prefix}-quality")
    with gr.Accordion("Quality report (JSON)", open=False):
        raw = gr.JSON(label="Quality", elem_id=f"{prefix}-quality-json")
    return card, raw
