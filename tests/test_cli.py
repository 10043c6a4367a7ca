"""The CLI runs the same generation as the UI and reports problems without a trace."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import soundfile as sf

from tests.helpers import PATIENCE

ROOT = Path(__file__).resolve().parent.parent


def run_cli(tiny_env, tmp_path, *args):
    env = dict(os.environ, **tiny_env, F5UI_DATA_DIR=str(tmp_path / "data"))
    return subprocess.run([sys.executable, "-m", "f5ui.cli", "generate", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=PATIENCE)


def test_cli_generates_a_wav(tiny_env, tmp_path, ref_clip):
    ref, ref_text = ref_clip
    out = tmp_path / "out.wav"
    done = run_cli(tiny_env, tmp_path, "--ref", str(ref), "--ref-text", ref_text, "--text", "From the shell.",
                   "--out", str(out), "--nfe-step", "8", "--seed", "9")
    assert done.returncode == 0, done.stderr
    assert "seed 9" in done.stdout
    assert sf.info(str(out)).duration > 0.5


def test_cli_reports_bad_input_without_a_traceback(tiny_env, tmp_path, audio_files, ref_clip):
    done = run_cli(tiny_env, tmp_path, "--ref", str(audio_files["silent"]), "--ref-text", ref_clip[1],
                   "--text", "Hello.", "--out", str(tmp_path / "x.wav"))
    assert done.returncode == 2
    assert "silent" in done.stderr and "Traceback" not in done.stderr


def test_cli_speaks_with_a_saved_voice(tiny_env, tmp_path, ref_clip):
    from f5ui.config import from_env
    from f5ui.paths import FileGate
    from f5ui.service import Studio

    library = Studio(from_env({**tiny_env, "F5UI_DATA_DIR": str(tmp_path / "data"), "F5UI_PRELOAD": "0"}),
                     files=FileGate(None))
    library.save_voice(ref_clip[0], ref_clip[1], "Shell Voice")
    out = tmp_path / "voice.wav"
    done = run_cli(tiny_env, tmp_path, "--voice", "Shell Voice", "--text", "A saved voice from the shell.", "--out",
                   str(out), "--nfe-step", "8")
    assert done.returncode == 0, done.stderr
    assert sf.info(str(out)).duration > 0.5
    missing = run_cli(tiny_env, tmp_path, "--text", "Hi.", "--out", str(out))
    assert missing.returncode == 2 and "give --ref" in missing.stderr
