"""The status panel: a one-line summary that is always visible, the checks in an
accordion, Refresh / Retry model load, and the report as a JSON download. The
`/diagnostics` API endpoint returns the same report."""

from __future__ import annotations

import hashlib
import html
import json
from pathlib import Path
from typing import Any

import gradio as gr

from ..accounts import DIAGNOSTICS, access_enabled, permit
from ..diagnostics import Diagnostics
from ..engine.model_service import ModelService
from ..schema import FAILED, LOADING
from .actions import caller_of, shown_as

STATUS_STYLE = {  # inline: the panel must read the same with any theme
    "ok": ("OK", "#16a34a"),
    "warn": ("WARN", "#d97706"),
    "error": ("ERROR", "#dc2626"),
    "off": ("OFF", "#6b7280"),
}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary_markdown(model: ModelService, report: dict[str, Any]) -> str:
    """Model state and the count of checks by status, on one line (plus the fix when the model failed)."""
    status = model.status()
    counts = report["summary"]
    parts = [f"{counts['ok']} ok", _plural(counts["warn"], "warning"), _plural(counts["error"], "error"),
             f"{counts['off']} off"]
    line = (f'<span class="status-dot {status.state}">●</span> **Model {status.state}** — {status.detail}'
            f" · checks: {', '.join(parts)}")
    if report["pending"]:
        line += " · more checks running…"
    if status.fix:
        line += f"  \n**Fix:** {status.fix}"
    return line


def checks_table_html(report: dict[str, Any]) -> str:
    """The checks as an HTML table; every value escaped (paths and messages come from the system)."""
    rows = []
    for check in report["checks"]:
        label, color = STATUS_STYLE[check["status"]]
        rows.append(
            f'<tr class="check check-{check["status"]}" data-check="{html.escape(check["name"])}">'
            f'<td style="color:{color};font-weight:600;white-space:nowrap">{label}</td>'
            f'<td style="white-space:nowrap">{html.escape(check["name"])}</td>'
            f"<td>{html.escape(check['detail'])}</td><td>{html.escape(check['fix'])}</td></tr>")
    pending = (f"<p>Still checking: {html.escape(', '.join(report['pending']))}…</p>" if report["pending"] else "")
    return (f'{pending}<table class="status-checks" style="width:100%;font-size:0.9em">'
            "<thead><tr><th>Status</th><th>Check</th><th>Detail</th><th>Fix</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            f"<p style=\"font-size:0.8em\">Checked {html.escape(report['generated_at'])}</p>")


def write_report_file(report: dict[str, Any], folder: Path) -> Path:
    """The report as a JSON file for the download button. Named by its content (without the
    timestamp), so polling while nothing changes writes nothing new."""
    stable = json.dumps({k: v for k, v in report.items() if k != "generated_at"}, sort_keys=True)
    digest = hashlib.sha1(stable.encode()).hexdigest()[:12]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"f5ui-diagnostics-{digest}.json"
    if not path.exists():
        path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return path


def build_status_panel(diagnostics: Diagnostics) -> None:
    """Lay out the panel inside the current Blocks context and wire its events."""
    model = diagnostics.context.model
    report_dir = Path(diagnostics.context.output_dir) / "diagnostics"
    first = diagnostics.report()
    # The summary is what /health tells anyone; the checks (paths, versions) are for callers who may read
    # the diagnostics. With access control on, the page load fills them in for those (never the page config).
    private = access_enabled(diagnostics.context.settings)
    summary = gr.Markdown(summary_markdown(model, first), elem_id="model-status")
    with gr.Accordion("System status: checks and fixes", open=False, elem_id="status-details"):
        table = gr.HTML("" if private else checks_table_html(first), elem_id="status-table")
        with gr.Row():
            refresh_btn = gr.Button("Refresh checks", size="sm", elem_id="status-refresh")
            retry_btn = gr.Button("Retry model load", size="sm", variant="primary", elem_id="retry-model",
                                  visible=model.state == FAILED)
            download = gr.DownloadButton("Download report (JSON)", value=None, size="sm",
                                         elem_id="status-download")
    poll = gr.Timer(1.0, active=True)

    def panel(request: gr.Request = None) -> tuple:
        report = diagnostics.report()
        # Poll only while something is still changing by itself.
        busy = model.state == LOADING or bool(report["pending"])
        readable = caller_of(request).may(DIAGNOSTICS)
        return (summary_markdown(model, report),
                checks_table_html(report) if readable else "<p>Sign in to see the checks.</p>",
                gr.Button(visible=model.state == FAILED),
                str(write_report_file(report, report_dir)) if readable else None, gr.Timer(active=busy))

    def refresh(request: gr.Request = None) -> tuple:
        if caller_of(request).may(DIAGNOSTICS):  # seconds of probes: not for anyone who happens by
            diagnostics.refresh()
        return panel(request)

    def retry(request: gr.Request = None) -> tuple:
        model.ensure_loading()  # a no-op unless the model failed (or never started)
        return panel(request)

    outputs = [summary, table, retry_btn, download, poll]
    quiet = dict(api_visibility="private", queue=False, show_progress="hidden")  # polling must not flicker
    poll.tick(panel, outputs=outputs, **quiet)
    refresh_btn.click(refresh, outputs=outputs, **quiet)
    retry_btn.click(retry, outputs=outputs, **quiet)
    gr.on(None, panel, outputs=outputs, **quiet)  # on page load

    def report(request: gr.Request) -> dict:
        """The diagnostics report: every check with status, detail and fix."""
        with shown_as("read the diagnostics"):
            permit(caller_of(request), DIAGNOSTICS)
        return diagnostics.report()

    # The one public endpoint of the panel, for programs (gradio_client); runs only when called.
    gr.api(report, api_name="diagnostics", queue=False)
