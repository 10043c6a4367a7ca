"""Runs the checks and keeps their results: fast ones (files, settings, PATH, package
metadata) before the UI serves, slow ones (torch and the GPU, real imports of optional
packages, the hub) in a background thread at start and on refresh, live ones (the model's
state) at report time. The status panel, GET /health, GET /diagnostics, the `/diagnostics`
API and the start-up log all read one report."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from ..schema import ERROR, OFF, OK, READY, STATUSES, WARN, Check
from .context import Context

log = logging.getLogger("f5ui.diagnostics")

CheckFn = Callable[[Context], list[Check]]
LiveFn = Callable[[Context], Check]
SlowStep = tuple[str, tuple[CheckFn, ...]]  # (name shown while it runs, its checks in order)
# Display order of the groups in the panel and the JSON.
GROUPS = ("model", "system", "storage", "audio", "alignment", "quality", "network", "export")


def log_check(check: Check) -> None:
    level = {OK: logging.INFO, OFF: logging.INFO, WARN: logging.WARNING, ERROR: logging.ERROR}[check.status]
    fix = f" | fix: {check.fix}" if check.fix else ""
    log.log(level, "check %-18s %-5s %s%s", check.name, check.status, check.detail, fix)


class Diagnostics:
    """The checks of one app. Thread-safe: the background thread and requests share it."""

    def __init__(self, context: Context, fast: Sequence[CheckFn], slow: Sequence[SlowStep],
                 live: Sequence[LiveFn]) -> None:
        self.context = context
        self.fast, self.slow, self.live = tuple(fast), tuple(slow), tuple(live)
        self._lock = threading.Lock()
        self._fast: list[Check] | None = None
        self._slow: dict[str, Check] = {}  # by name: a newer result replaces the older one
        self._pending: list[str] = []  # slow steps not finished in the current run
        self._thread: threading.Thread | None = None

    # --- running -------------------------------------------------------------------
    def run_fast(self, log_results: bool = True) -> list[Check]:
        """The checks that need no heavy import: run before the UI serves (milliseconds)."""
        checks = [check for step in self.fast for check in self._safely(step)]
        with self._lock:
            self._fast = checks
        if log_results:
            for check in checks:
                log_check(check)
        return checks

    def run_slow(self) -> list[Check]:
        """The slow steps in order. Seconds: call it from a background thread (start_background)
        unless a caller wants to wait."""
        with self._lock:
            self._pending = [name for name, _ in self.slow]
        results: dict[str, Check] = {}
        for name, steps in self.slow:
            checks = [check for step in steps for check in self._safely(step)]
            with self._lock:
                self._slow.update((check.name, check) for check in checks)
                self._pending.remove(name)
            for check in checks:
                if results.get(check.name) != check:  # the import probes repeat unchanged aligner rows
                    log_check(check)
                results[check.name] = check
        return list(results.values())

    def start_background(self) -> bool:
        """Run the slow checks in a daemon thread; False when a run is already going."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return False
            self._thread = threading.Thread(target=self.run_slow, name="f5ui-diagnostics", daemon=True)
            self._thread.start()
            return True

    def refresh(self) -> None:
        """Fast checks again now, slow ones in the background (the panel's Refresh button)."""
        self.run_fast(log_results=False)
        self.start_background()

    def _safely(self, step: CheckFn) -> list[Check]:
        # A broken check must never take the status panel (or start-up) down with it.
        name = step.__name__.strip("_").replace("_", " ")
        try:
            return step(self.context)
        except Exception as exc:
            log.exception("diagnostic check %s raised", name)
            return [Check(name, "system", WARN, f"The check itself failed: {type(exc).__name__}: {exc}",
                          "See the log for the traceback and report it.")]

    # --- reporting -----------------------------------------------------------------
    def checks(self) -> list[Check]:
        """Every check, the live ones computed now, in group order. A slow result replaces the fast
        check of the same name (boto3 installed → boto3 imports)."""
        if self._fast is None:
            self.run_fast()
        merged: dict[str, Check] = {}
        live = [fn(self.context) for fn in self.live]
        with self._lock:
            for check in (*live, *(self._fast or []), *self._slow.values()):
                merged[check.name] = check
        return sorted(merged.values(), key=lambda c: GROUPS.index(c.group) if c.group in GROUPS else len(GROUPS))

    def report(self) -> dict[str, Any]:
        """The full report as JSON-able data: {generated_at, summary, ready, pending, checks}."""
        checks = self.checks()
        counts = Counter(c.status for c in checks)
        return {
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "summary": {status: counts.get(status, 0) for status in STATUSES},
            "ready": self.context.model.state == READY,
            "pending": list(self._pending),
            "checks": [c.as_dict() for c in checks],
        }

    def health_summary(self) -> dict[str, Any]:
        """The compact form of report() for /health: counts and the names of what is wrong."""
        report = self.report()
        names = {status: [c["name"] for c in report["checks"] if c["status"] == status] for status in (ERROR, WARN)}
        return {**report["summary"], "errors": names[ERROR], "warnings": names[WARN], "pending": report["pending"]}
