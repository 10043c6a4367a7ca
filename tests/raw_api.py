"""The Gradio HTTP API spoken directly, as an attacker (or any non-Python program) would:
POST /gradio_api/call/<endpoint> with a JSON body, then read the event stream. No
gradio_client: it refuses some inputs locally and uploads files itself."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.helpers import generate_inputs

FILE_META = {"_type": "gradio.FileData"}


def file_ref(path: str | Path, **extra: Any) -> dict:
    """A FileData reference as the browser sends it after an upload, but to any path."""
    return {"path": str(path), "meta": FILE_META, **extra}


def generate_args(ref: Any, text: str = "Hi there.", ref_text: str = "Some call me nature, others call me "
                  "mother nature.", **overrides: Any) -> list:
    """The /generate inputs in order (tests.helpers.generate_inputs), for a FileData reference."""
    return generate_inputs(ref, ref_text, text, **overrides)


@dataclass
class Answer:
    status: int  # of the POST
    body: str  # the POST's body, or the event stream when the call was queued
    event: str = ""  # complete | error | "" (refused before queueing)
    data: Any = None

    @property
    def text(self) -> str:
        return self.body


def upload(base_url: str, path: str | Path, timeout: float = 60, headers: dict | None = None) -> str:
    """Upload a file as the browser does; the server-side path Gradio gives it."""
    with open(path, "rb") as handle:
        answer = requests.post(f"{base_url}/gradio_api/upload", files={"files": (Path(path).name, handle)},
                               timeout=timeout, headers=headers)
    answer.raise_for_status()
    return answer.json()[0]


def call(base_url: str, endpoint: str, data: list, timeout: float = 120, raw_body: str | None = None,
         headers: dict | None = None) -> Answer:
    """POST the inputs, then read the event stream to its end (`headers` go with both requests)."""
    body = raw_body if raw_body is not None else json.dumps({"data": data})
    posted = requests.post(f"{base_url}/gradio_api/call/{endpoint}", data=body,
                           headers={"content-type": "application/json", **(headers or {})}, timeout=timeout)
    if posted.status_code != 200:
        return Answer(posted.status_code, posted.text)
    event_id = posted.json()["event_id"]
    stream = requests.get(f"{base_url}/gradio_api/call/{endpoint}/{event_id}", timeout=timeout, stream=True,
                          headers=headers)
    text, event, data_out = "", "", None
    for line in stream.iter_lines(decode_unicode=True):
        text += line + "\n"
        if line.startswith("event: "):
            event = line[len("event: "):]
        elif line.startswith("data: ") and event in ("complete", "error"):
            payload = line[len("data: "):]
            data_out = json.loads(payload) if payload and payload != "null" else None
            break
    return Answer(posted.status_code, text, event, data_out)
