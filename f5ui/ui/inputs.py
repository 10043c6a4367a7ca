"""Input components that check what the API sends before Gradio converts it.

A browser sends what the widget allows; a program can send anything: "no" for a checkbox
(which Python reads as true), NaN or a string for a number. Each component here checks its
payload first and answers a bad one with a message that names the setting and what it takes.
Null (what a JS or raw-HTTP caller sends for an input it leaves off) passes as None, unconverted:
the handler uses the input's default. The instance's preprocess is wrapped rather than subclassed:
Gradio writes a .pyi stub next to the module of every Component subclass when it is imported."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import gradio as gr

from ..engine.synthesis import MAX_SEED, RANGES


def invalid(message: str) -> gr.Error:
    return gr.Error(message, title="Invalid input", print_exception=False)


def _guard(component: gr.components.Component, check: Callable[[Any], None]) -> Any:
    convert = component.preprocess

    def preprocess(payload: Any) -> Any:
        if payload is None:  # left off: the handler's default (a Slider's own preprocess fails on None)
            return None
        check(payload)
        return convert(payload)

    component.preprocess = preprocess
    return component


def _shown(payload: Any) -> str:
    text = repr(payload)
    return text if len(text) <= 40 else text[:39] + "…"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def slider(name: str, label: str, value: float, step: float, info: str) -> gr.Slider:
    """A slider over RANGES[name]; out of range, NaN or not a number is refused with the range."""
    low, high, hint = RANGES[name]

    def check(payload: Any) -> None:
        if not _is_number(payload) or not low <= payload <= high:
            raise invalid(f"{label} = {_shown(payload)} is out of range. Use a value from {low} to {high} ({hint}).")

    return _guard(gr.Slider(low, high, value=value, step=step, label=label, info=info), check)


def seed_number(**kwargs: Any) -> gr.Number:
    """The seed: a whole number from 0 to MAX_SEED, or -1 (random)."""

    def check(payload: Any) -> None:
        if not _is_number(payload) or payload != int(payload) or not -1 <= payload <= MAX_SEED:
            raise invalid(f"seed = {_shown(payload)} is out of range. Use a whole number from 0 to {MAX_SEED}, "
                          "or -1 for a random seed.")

    return _guard(gr.Number(precision=0, minimum=-1, **kwargs), check)


def checkbox(label: str, api_name: str, **kwargs: Any) -> gr.Checkbox:
    """A checkbox that takes true or false only ("no" would otherwise read as true)."""

    def check(payload: Any) -> None:
        if not isinstance(payload, bool):
            raise invalid(f"{api_name} must be true or false, not {_shown(payload)}.")

    return _guard(gr.Checkbox(label=label, **kwargs), check)


def count_slider(api_name: str, label: str, low: int, high: int, value: int, info: str) -> gr.Slider:
    """A whole number from `low` to `high`."""

    def check(payload: Any) -> None:
        if not _is_number(payload) or payload != int(payload) or not low <= payload <= high:
            raise invalid(f"{api_name} = {_shown(payload)} is out of range. Use a whole number from {low} to {high}.")

    return _guard(gr.Slider(low, high, value=value, step=1, label=label, info=info), check)
