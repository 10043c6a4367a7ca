"""Diagnostics at the service level: each check's verdict on real files, PATH, caches
and imports; the report's shape; secrets kept out."""

from __future__ import annotations

import http.server
import json
import logging
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from f5ui.hub import hf_cache_dir
from f5ui.schema import STATUSES, Check
from f5ui.ui.status_panel import checks_table_html, summary_markdown, write_report_file
from tests.helpers import (
    PATIENCE,
    ROOT,
    SECRET,
    SECRET_ID,
    BlockImports,
    by_name,
    diagnostics_for,
    fake_service_account,
    make_studio,
)

# --- the Check record and helpers ----------------------------------------------------------

def test_a_check_that_is_not_ok_must_carry_a_fix():
    with pytest.raises(ValueError, match="fix"):
        Check("ffmpeg", "audio", "warn", "missing")
    with pytest.raises(ValueError, match="status"):
        Check("ffmpeg", "audio", "fine", "present")
    check = Check("x", "system", "error", "first line\nsecond   line", "do this\nthen that")
    assert check.detail == "first line second line" and check.fix == "do this then that"
    assert Check("x", "system", "ok", "fine").fix == ""


def test_a_key_pasted_into_a_detail_is_removed():
    check = Check("x", "system", "warn", f"bad value -----BEGIN PRIVATE KEY-----\n{SECRET}\n-----END PRIVATE KEY-----",
                  "fix it")
    assert SECRET not in check.detail and "[key removed]" in check.detail


# --- the report --------------------------------------------------------------------------

def test_report_shape_counts_and_json(studio):
    diagnostics = diagnostics_for(studio)
    diagnostics.run_slow()
    report = diagnostics.report()
    assert set(report) == {"generated_at", "summary", "ready", "pending", "checks"}
    assert report["ready"] is True and report["pending"] == []
    assert sum(report["summary"].values()) == len(report["checks"])
    for status in STATUSES:
        assert report["summary"][status] == sum(c["status"] == status for c in report["checks"])
    names = [c["name"] for c in report["checks"]]
    assert len(names) == len(set(names))
    for expected in ("model", "python", "packages", "f5-tts", "model config", "checkpoint", "vocab", "vocoder",
                     "ffmpeg", "data dir", "hf cache", "google credentials", "boto3", "torch", "gpu", "hub",
                     "aligner whisperx", "aligner google", "aligner sphinx", "aligner estimate"):
        assert expected in names
    for check in report["checks"]:
        assert check["status"] == "ok" or check["fix"], check
        assert "\n" not in check["detail"]
    checks = by_name(report)
    assert checks["model"]["status"] == "ok" and "ready" in checks["model"]["detail"]
    assert checks["checkpoint"]["status"] == "ok" and "model_tiny.safetensors" in checks["checkpoint"]["detail"]
    assert checks["vocoder"]["status"] == "ok" and checks["vocab"]["status"] == "ok"
    assert checks["aligner estimate"]["status"] == "ok"
    assert json.loads(json.dumps(report)) == report
    health = diagnostics.health_summary()
    assert health["errors"] == [c["name"] for c in report["checks"] if c["status"] == "error"]


def test_fast_checks_import_nothing_heavy_and_take_milliseconds(tiny_env, tmp_path):
    """They run before the server listens: torch, f5-tts, whisperx and nltk must stay unimported."""
    code = (
        "import json, sys, time\n"
        "from f5ui.config import from_env\n"
        "from f5ui.service import Studio\n"
        "from tests.helpers import diagnostics_for\n"
        f"studio = Studio(from_env(dict({tiny_env!r}, F5UI_DATA_DIR={str(tmp_path)!r})))\n"
        "started = time.perf_counter()\n"
        "checks = diagnostics_for(studio).run_fast()\n"
        "print(json.dumps({'seconds': time.perf_counter() - started, 'count': len(checks),\n"
        "    'heavy': [m for m in ('torch', 'f5_tts.api', 'whisperx', 'nltk', 'transformers')\n"
        "              if m in sys.modules]}))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["heavy"] == []
    assert result["count"] >= 10
    assert result["seconds"] < 1.5


def test_startup_logs_one_line_per_check(tiny_env, tmp_path, caplog):
    studio = make_studio(tiny_env, tmp_path)
    with caplog.at_level(logging.INFO, logger="f5ui.diagnostics"):
        checks = diagnostics_for(studio).run_fast()
    lines = [r for r in caplog.records if r.name == "f5ui.diagnostics"]
    assert len(lines) == len(checks)
    levels = {"ok": logging.INFO, "off": logging.INFO, "warn": logging.WARNING, "error": logging.ERROR}
    for check, record in zip(checks, lines):
        assert check.name in record.getMessage() and check.detail in record.getMessage()
        assert record.levelno == levels[check.status]


def test_model_state_is_read_live_and_a_failed_load_gives_reason_and_fix(tiny_env, tmp_path):
    studio = make_studio(tiny_env, tmp_path, F5UI_CKPT=str(tmp_path / "missing.safetensors"))
    assert by_name(diagnostics_for(studio).report())["model"]["status"] == "off"  # idle: loads on first request
    studio.start()
    assert studio.model.wait(timeout=PATIENCE).state == "failed"
    report = diagnostics_for(studio).report()
    checks = by_name(report)
    assert report["ready"] is False
    assert checks["model"]["status"] == "error" and "F5UI_CKPT" in checks["model"]["fix"]
    assert checks["checkpoint"]["status"] == "error" and "missing.safetensors" in checks["checkpoint"]["detail"]
    assert {"model", "checkpoint"} <= set(diagnostics_for(studio).health_summary()["errors"])


# --- model files ------------------------------------------------------------------------

def test_missing_local_model_files_are_errors_naming_the_setting(tiny_env, tmp_path):
    studio = make_studio(tiny_env, tmp_path / "data", F5UI_CKPT=str(tmp_path / "nope.pt"),
                         F5UI_VOCAB=str(tmp_path / "nope.txt"), F5UI_VOCODER=str(tmp_path),
                         F5UI_MODEL="F5TTS_Imaginary")
    checks = {c.name: c for c in diagnostics_for(studio).run_fast()}
    assert checks["checkpoint"].status == "error" and "F5UI_CKPT" in checks["checkpoint"].fix
    assert checks["vocab"].status == "error" and "F5UI_VOCAB" in checks["vocab"].fix
    assert checks["vocoder"].status == "error" and "pytorch_model.bin" in checks["vocoder"].detail
    assert checks["model config"].status == "error" and "F5TTS_v1_Base" in checks["model config"].fix


def test_hub_checkpoint_is_checked_in_the_hf_cache(tiny_env, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    env = {k: v for k, v in tiny_env.items() if k not in ("F5UI_CKPT", "F5UI_VOCODER")}
    studio = make_studio(env, tmp_path / "data")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    checks = {c.name: c for c in diagnostics_for(studio).run_fast()}
    assert checks["checkpoint"].status == "error" and "HF_HUB_OFFLINE=1" in checks["checkpoint"].detail
    assert checks["vocoder"].status == "error"

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    checks = {c.name: c for c in diagnostics_for(studio).run_fast()}
    assert checks["checkpoint"].status == "ok" and "downloaded" in checks["checkpoint"].detail

    # The layout huggingface_hub writes: refs/main names the snapshot that holds the file.
    repo = hf_cache_dir() / "models--SWivid--F5-TTS"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0123abcd")
    target = repo / "snapshots" / "0123abcd" / "F5TTS_v1_Base" / "model_1250000.safetensors"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"weights")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    checks = {c.name: c for c in diagnostics_for(studio).run_fast()}
    assert checks["checkpoint"].status == "ok" and "cached" in checks["checkpoint"].detail
    assert "HF_HUB_OFFLINE=1" in checks["hf cache"].detail and str(tmp_path / "hf") in checks["hf cache"].detail


# --- environment ------------------------------------------------------------------------

def test_ffmpeg_missing_is_a_warning_with_the_install_command(tiny_env, tmp_path, monkeypatch):
    studio = make_studio(tiny_env, tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))  # a folder without ffmpeg
    check = next(c for c in diagnostics_for(studio).run_fast() if c.name == "ffmpeg")
    assert check.status == "warn" and "WAV" in check.detail and "M4A" in check.detail
    assert "apt-get install ffmpeg" in check.fix


def test_unwritable_data_dir_falls_back_to_a_temp_dir_with_a_warning(tiny_env, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    studio = make_studio(tiny_env, blocker / "data")  # root can write anywhere, but not below a file
    assert Path(studio.output_dir).is_relative_to(tempfile.gettempdir())
    check = next(c for c in diagnostics_for(studio).run_fast() if c.name == "data dir")
    assert check.status == "warn"
    assert str(blocker / "data") in check.detail and "NotADirectoryError" in check.detail
    assert str(Path(studio.output_dir).parent) in check.detail and "F5UI_DATA_DIR" in check.fix


def test_writable_data_dir_reports_free_space(tiny_env, tmp_path):
    check = next(c for c in diagnostics_for(make_studio(tiny_env, tmp_path)).run_fast() if c.name == "data dir")
    assert check.status in ("ok", "warn") and "GiB free" in check.detail and str(tmp_path) in check.detail


# --- Google credentials and secrets -------------------------------------------------------

def test_google_credentials_are_shown_by_path_never_by_content(tiny_env, tmp_path, caplog):
    key_file = fake_service_account(tmp_path / "sa.json")
    studio = make_studio(tiny_env, tmp_path / "data", F5UI_GOOGLE_CREDENTIALS=str(key_file))
    with caplog.at_level(logging.INFO):
        diagnostics_for(studio).run_fast()
        report = diagnostics_for(studio).report()
    check = by_name(report)["google credentials"]
    assert check["status"] == "ok" and str(key_file) in check["detail"] and "service_account" in check["detail"]
    shown = json.dumps(report) + caplog.text + summary_markdown(studio.model, report) + checks_table_html(report)
    for secret in (SECRET, SECRET_ID, "PRIVATE KEY"):
        assert secret not in shown


@pytest.mark.parametrize("content, expected", [
    (None, "does not exist"),
    ("{not json", "not valid JSON"),
    (json.dumps({"type": "service_account", "client_email": "a@b"}), "lacks private_key"),
    # gcloud user credentials parse, but the Google aligner loads service-account keys only.
    (json.dumps({"type": "authorized_user", "client_id": "x", "client_secret": "y", "refresh_token": "z"}),
     "not a service-account key"),
])
def test_broken_google_credentials_are_a_warning(tiny_env, tmp_path, content, expected):
    key_file = tmp_path / "creds.json"
    if content is not None:
        key_file.write_text(content)
    studio = make_studio(tiny_env, tmp_path / "data", F5UI_GOOGLE_CREDENTIALS=str(key_file))
    check = next(c for c in diagnostics_for(studio).run_fast() if c.name == "google credentials")
    assert check.status == "warn" and expected in check.detail and "F5UI_GOOGLE_CREDENTIALS" in check.fix


# --- slow checks ----------------------------------------------------------------------------

def test_gpu_check_matches_the_hardware(studio):
    import torch

    checks = {c.name: c for c in diagnostics_for(studio).run_slow()}
    assert checks["torch"].status == "ok" and torch.__version__ in checks["torch"].detail
    if torch.cuda.is_available():
        assert checks["gpu"].status in ("ok", "warn") and "VRAM" in checks["gpu"].detail
    else:  # this CI machine: CPU with a warning about speed
        assert checks["gpu"].status == "warn"
        assert "CPU" in checks["gpu"].detail and "slower" in checks["gpu"].detail and "GPU" in checks["gpu"].fix


def test_hub_is_not_contacted_when_offline(studio, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # would fail loudly if contacted
    hub = {c.name: c for c in diagnostics_for(studio).run_slow()}["hub"]
    assert hub.status == "off" and "HF_HUB_OFFLINE=1" in hub.detail


def test_hub_reachability_against_a_local_server(studio, monkeypatch):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    try:
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
        hub = {c.name: c for c in diagnostics_for(studio).run_slow()}["hub"]
        assert hub.status == "ok" and "reachable" in hub.detail
    finally:
        server.shutdown()
        server.server_close()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")  # now closed
    hub = {c.name: c for c in diagnostics_for(studio).run_slow()}["hub"]
    assert hub.status == "warn" and "not reachable" in hub.detail and hub.fix


def test_installed_but_unimportable_packages_are_off_with_the_reason(tiny_env, tmp_path, monkeypatch):
    blocker = BlockImports(("boto3", "pocketsphinx"))
    monkeypatch.setattr(sys, "meta_path", [blocker, *sys.meta_path])
    for name in [m for m in sys.modules if m.split(".")[0] in ("boto3", "pocketsphinx")]:
        monkeypatch.delitem(sys.modules, name)  # restored after the test
    studio = make_studio(tiny_env, tmp_path)
    assert {c.name: c for c in diagnostics_for(studio).run_fast()}["boto3"].status == "ok"  # metadata says installed
    diagnostics_for(studio).run_slow()
    checks = by_name(diagnostics_for(studio).report())
    for name in ("boto3", "aligner sphinx"):
        assert checks[name]["status"] == "off", checks[name]
        assert "cannot be imported" in checks[name]["detail"] and "blocked" in checks[name]["detail"]
        assert "pip install --force-reinstall" in checks[name]["fix"]
    assert checks["aligner estimate"]["status"] == "ok"
    assert not studio.aligner.availability("sphinx").ok


# --- the panel's pieces --------------------------------------------------------------------

def test_panel_table_escapes_what_it_shows(studio):
    report = diagnostics_for(studio).report()
    report["checks"].append(Check("weird", "system", "warn", "<script>alert(1)</script>", "fix <b>").as_dict())
    table = checks_table_html(report)
    assert "<script>" not in table and "&lt;script&gt;" in table
    assert table.count("<tr class=\"check") == len(report["checks"])


def test_report_file_is_named_by_content(studio, tmp_path):
    report = diagnostics_for(studio).report()
    first = write_report_file(report, tmp_path)
    again = write_report_file(dict(report, generated_at="2000-01-01T00:00:00+00:00"), tmp_path)
    assert first == again and json.loads(first.read_text())["checks"] == report["checks"]
    changed = write_report_file(dict(report, ready=not report["ready"]), tmp_path)
    assert changed != first


@pytest.mark.parametrize("language, env, setup, status, words", [
    ("en", {}, None, "ok", ["not cached yet", "WAV2VEC2_ASR_BASE_960H"]),
    ("en", {}, "torch-weights", "ok", ["WAV2VEC2_ASR_BASE_960H at"]),
    ("ja", {}, None, "warn", ["not cached", "jonatasgrosman/wav2vec2-large-xlsr-53-japanese"]),
    ("xx", {}, None, "off", ["no default alignment model", "'xx'"]),
    ("en", {"F5UI_WHISPERX_MODEL": "LOCAL"}, "local-folder", "ok", ["local model folder"]),
])
def test_whisperx_model_is_reported_cached_local_or_downloadable(tiny_env, tmp_path, monkeypatch, language, env,
                                                                 setup, status, words):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    data = tmp_path / "data"
    if setup == "torch-weights":  # what torch.hub leaves after whisperx's first English load
        (data / "models").mkdir(parents=True)
        (data / "models" / "wav2vec2_fairseq_base_ls960_asr_ls960.pth").write_bytes(b"weights")
    if setup == "local-folder":
        (tmp_path / "local-model").mkdir()
        env = {"F5UI_WHISPERX_MODEL": str(tmp_path / "local-model")}
    studio = make_studio(tiny_env, data, F5UI_LANGUAGE=language, **env)
    check = {c.name: c for c in diagnostics_for(studio).run_slow()}["whisperx model"]
    assert check.status == status, check
    for word in words:
        assert word in check.detail, (word, check.detail)
    if status == "warn":
        assert "F5UI_WHISPERX_MODEL" in check.fix
