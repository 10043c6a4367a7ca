"""How the Projects tab shows a project: the progress line, the chapter's segments as a plain HTML
table (flagged segments in red; a read-only Dataframe would trap keyboard focus), and the choices
of the pickers. Plain functions from the facade's dicts to strings and lists."""

from __future__ import annotations

import html
from typing import Any

STATUS_COLOURS = {"pending": "#6b7280", "done": "#15803d", "flagged": "#dc2626", "failed": "#991b1b",
                  "locked": "#1d4ed8"}
MAX_ROWS = 500  # rows shown at once; a longer chapter says how many more there are


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"


def status_markdown(status: dict[str, Any] | None) -> str:
    """'running · 12 of 40 segments made (2 flagged) · 3 min 10 s of audio · about 4 min left'."""
    if not status:
        return "No project selected."
    counts = status["segments"]
    made = counts["done"] + counts["flagged"] + counts["locked"]
    parts = [f"**{html.escape(status['state'])}**", f"{made} of {status['total']} segments made"]
    if counts["flagged"]:
        parts[-1] += f" ({counts['flagged']} flagged for review)"
    if counts["failed"]:
        parts.append(f"{counts['failed']} failed")
    parts.append(f"{duration(status['audio_seconds'])} of audio")
    if counts["pending"]:
        eta = status["eta_seconds"]
        parts.append(f"about {duration(eta)} left" if eta is not None else "time left: known after the first segment")
    if status.get("current_segment"):
        parts.append(f"making segment #{status['current_segment']}")
    line = " · ".join(parts)
    if status.get("message"):
        line += f"\n\n{html.escape(status['message'])}"
    return line


def segments_table(segments: list[dict[str, Any]]) -> str:
    if not segments:
        return "<p>No segments in this chapter.</p>"
    rows = []
    for s in segments[:MAX_ROWS]:
        colour = STATUS_COLOURS.get(s["status"], "inherit")
        flagged = ", ".join(html.escape(str(w)) for w in s["flagged_words"][:8])
        note = html.escape(s["error"]) if s["error"] else (f"flagged: {flagged}" if flagged else "")
        cue = f"{s['cue'][0]:.2f}–{s['cue'][1]:.2f}" if s.get("cue") else ""
        rows.append(f'<tr class="segment-{s["status"]}" style="color:{colour}"><td>{s["id"]}</td>'
                    f'<td>{html.escape(s["speaker"] or "—")}</td><td>{s["status"]}</td>'
                    f'<td>{s["duration"]:.1f}</td><td>{cue}</td><td>{html.escape(s["text"])}</td><td>{note}</td></tr>')
    more = f"<p>{len(segments) - MAX_ROWS} more segments not shown.</p>" if len(segments) > MAX_ROWS else ""
    return ('<table class="project-segments" style="width:100%;border-collapse:collapse">'
            "<thead><tr><th>id</th><th>speaker</th><th>status</th><th>s</th><th>cue</th><th>text</th><th>check</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}")


def project_choices(projects: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(f"{p['name']} ({p['state']}, {p['id']})", p["id"]) for p in projects]


def chapter_choices(chapters: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(f"{c['position']}. {c['title']}", c["id"]) for c in chapters]


def segment_choices(segments: list[dict[str, Any]]) -> list[tuple[str, int]]:
    out = []
    for s in segments[:MAX_ROWS]:
        text = s["text"] if len(s["text"]) <= 60 else s["text"][:59] + "…"
        out.append((f"#{s['id']} [{s['status']}] {s['speaker'] or '—'}: {text}", s["id"]))
    return out
