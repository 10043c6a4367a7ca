"""Settings: declared once, read from env and CLI, documented in the README."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from f5ui.config import SETTINGS, Settings, add_cli_arguments, from_args, from_env

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented_in_the_readme_with_its_default():
    readme = (ROOT / "README.md").read_text()
    for setting in SETTINGS:
        row = next((line for line in readme.splitlines() if line.startswith(f"| `{setting.env}`")), None)
        assert row is not None, f"{setting.env} is not in the README configuration table"
        assert setting.doc in row
        default = json.dumps(setting.default) if isinstance(setting.default, dict) else str(setting.default)
        assert f"| `{default}` |" in row, (setting.env, row)
        assert getattr(Settings(), setting.name) == setting.default  # one declaration: the code uses this default


def test_cli_help_names_each_flag_with_its_variable():
    parser = argparse.ArgumentParser()
    add_cli_arguments(parser)
    text = parser.format_help()
    for setting in SETTINGS:
        if setting.cli:
            assert setting.cli in text and setting.env in text


def test_environment_and_cli_flags():
    env = {"F5UI_PORT": "9000", "F5UI_CKPT": "/models/x.safetensors", "F5UI_MODEL_ARCH": '{"depth": 4}',
           "F5UI_PRELOAD": "false", "F5UI_MAX_CHARS": "100"}
    settings = from_env(env)
    assert (settings.port, settings.ckpt, settings.model_arch, settings.preload, settings.max_chars) == (
        9000, "/models/x.safetensors", {"depth": 4}, False, 100)
    parser = argparse.ArgumentParser()
    add_cli_arguments(parser)
    args = parser.parse_args(["--port", "9100", "--device", "cpu"])
    settings = from_args(args, env)
    assert settings.port == 9100 and settings.device == "cpu" and settings.ckpt == "/models/x.safetensors"


def test_bad_and_unknown_variables_warn_and_keep_defaults(caplog):
    with caplog.at_level(logging.WARNING):
        settings = from_env({"F5UI_PORT": "eighty", "F5UI_MODEL_ARCH": "[1, 2]", "F5UI_CKTP": "typo"})
    assert settings.port == Settings().port and settings.model_arch == {}
    text = caplog.text
    assert "F5UI_PORT" in text and "F5UI_MODEL_ARCH" in text and "Unknown setting F5UI_CKTP" in text


def test_unwritable_data_dir_falls_back_to_a_temp_dir(tmp_path):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    settings = Settings(data_dir=str(blocker / "data"))
    out = settings.writable_dir("outputs")
    assert out.is_dir() and not str(out).startswith(str(blocker))
