"""The README's client examples (gradio_client, OpenAI, curl, @gradio/client from Node) run as written
against a live app."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent


def test_readme_client_example_runs(live_app, ref_clip, monkeypatch, tmp_path, capsys):
    readme = (ROOT / "README.md").read_text()
    example = next(block for block in re.findall(r"```python\n(.*?)```", readme, re.S) if "gradio_client" in block)
    assert 'api_name="/generate"' in example
    ref, _ = ref_clip
    (tmp_path / "voice.wav").write_bytes(ref.read_bytes())
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(example.replace("http://127.0.0.1:7860/", live_app.url + "/"), "README.md", "exec"), namespace)
    assert namespace["seed"] == 42
    assert sf.info(namespace["audio_path"]).duration > 1.0
    printed = capsys.readouterr().out
    assert namespace["audio_path"] in printed
    assert [w["word"] for w in namespace["timings"]["words"]][:2] == ["Hello!", "This"]
    assert "Hello!" in printed
    # The /align block continues with the same client.
    align_example = next(b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if 'api_name="/align"' in b)
    exec(compile(align_example, "README.md", "exec"), namespace)
    assert capsys.readouterr().out.startswith(namespace["timings"]["backend"] + " ")


def python_block(readme: str, marker: str) -> str:
    return next(b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if marker in b)


def test_readme_voices_export_and_openai_examples_run(live_app, ref_clip, monkeypatch, tmp_path, capsys):
    """Each block continues where the one before it left off, as a reader would type them."""
    readme = (ROOT / "README.md").read_text()
    (tmp_path / "voice.wav").write_bytes(ref_clip[0].read_bytes())
    monkeypatch.chdir(tmp_path)
    from gradio_client import Client, handle_file

    namespace: dict = {"client": live_app.client(), "Client": Client, "handle_file": handle_file}
    for marker in ('api_name="/save_voice"', 'api_name="/export"', "from openai import OpenAI",
                   "with_streaming_response", 'api_name="/check"', 'api_name="/generate_stream"'):
        code = python_block(readme, marker).replace("http://127.0.0.1:7860", live_app.url)
        exec(compile(code, "README.md", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "Narrator" in printed and "manifest.json (download)" in printed
    assert "word accuracy 100%" in printed  # the reference recording says its own text
    assert "piece 0 at 0.00 s" in printed and "whole take" in printed
    assert sf.info(str(tmp_path / "streamed.mp3")).duration > 0.5
    assert sf.info(str(tmp_path / "hello.wav")).duration > 0.5
    curl = re.search(r"```bash\n(curl .*?)```", readme, re.S).group(1).replace("http://127.0.0.1:7860", live_app.url)
    subprocess.run(["bash", "-c", curl], check=True, cwd=tmp_path, timeout=120)
    from pydub import AudioSegment

    assert AudioSegment.from_file(str(tmp_path / "hello.mp3"), format="mp3").duration_seconds > 0.5


def test_readme_has_exactly_two_setup_commands():
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)```", quick_start, re.S)
    assert [c.split("#")[0].strip() for c in commands] == ["bash scripts/run.sh", "bash scripts/test.sh"]
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


@pytest.fixture(scope="session")
def node_client(tmp_path_factory) -> Path:
    """A folder where Node finds @gradio/client: tests/js, installed with `npm ci` as scripts/setup.sh test
    does (done here when it has not been)."""
    assert shutil.which("node") and shutil.which("npm"), "Node.js is required (scripts/setup.sh test installs it)"
    js = ROOT / "tests" / "js"
    if not (js / "node_modules" / "@gradio" / "client" / "package.json").is_file():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=js, check=True, timeout=900)
    folder = tmp_path_factory.mktemp("js-client")
    (folder / "node_modules").symlink_to(js / "node_modules", target_is_directory=True)
    return folder


def test_readme_javascript_client_example_runs(live_app, ref_clip, node_client):
    """The README's @gradio/client block, run by Node as written (the app's address aside)."""
    readme = (ROOT / "README.md").read_text()
    example = next(block for block in re.findall(r"```js\n(.*?)```", readme, re.S) if "@gradio/client" in block)
    (node_client / "voice.wav").write_bytes(ref_clip[0].read_bytes())
    (node_client / "speak.mjs").write_text(example.replace("http://127.0.0.1:7860/", live_app.url + "/"))
    done = subprocess.run(["node", "speak.mjs"], cwd=node_client, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    url, seed, words = done.stdout.strip().split(" ", 2)
    assert url.startswith(live_app.url + "/") and url.endswith(".wav") and seed == "42"
    assert words == "Hello from JavaScript."
    assert sf.info(io.BytesIO(requests.get(url, timeout=60).content)).duration > 0.5
