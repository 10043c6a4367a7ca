"""What the image and the Space install, proven without a Docker engine or a Space: the Dockerfile read
with a real parser (its stages, what the default build starts, where the compiler is), pip's own
resolver asked about requirements.txt alone (against the package registry), each file it picked
held to the image's platform, and the Space's card read by huggingface_hub and held to the Hub's documented rules."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser
from packaging import tags
from packaging.utils import canonicalize_name, parse_wheel_filename

from tests.helpers import ROOT

# What only exists or makes sense in the running container: never in a build step.
RUNTIME_MARKERS = ("/runpod-volume", "/workspace", "F5UI_DATA_DIR", "HF_HOME", "nltk.downloader", "f5ui.", "app.py",
                   "start.sh")
INSTALL_VERBS = {"apt-get", "rm", "useradd", "mkdir", "chown", "pip"}
COMPILERS = {"gcc", "g++", "cc", "clang", "build-essential", "make", "cmake"}
BASE = "python:3.11-slim-bookworm"
# Debian 12 (bookworm) has glibc 2.36: the image runs wheels tagged manylinux_2_17 … manylinux_2_36 (and the
# legacy aliases of the older ones). pip takes these as given, it does not widen a --platform by itself.
IMAGE_PLATFORMS = [f"manylinux_2_{minor}_x86_64" for minor in range(36, 16, -1)] + [
    "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]
INTERPRETER_TOOLS = {"pip", "setuptools", "wheel"}  # come with python:3.11 images and the Spaces image


# --- the Dockerfile, as stages -------------------------------------------------------------------

@dataclass
class Stage:
    name: str
    base: str
    steps: list[tuple[str, str]] = field(default_factory=list)


def stages() -> list[Stage]:
    parsed: list[Stage] = []
    for item in DockerfileParser(path=str(ROOT / "Dockerfile")).structure:
        kind, value = item["instruction"], item["value"]
        if kind == "FROM":
            base, _, name = value.partition(" AS ")
            parsed.append(Stage(name.strip(), base.strip()))
        elif kind != "COMMENT":
            parsed[-1].steps.append((kind, value))
    return parsed


def lineage(stage: Stage, every: list[Stage]) -> list[Stage]:
    """The stage and the stages it is built FROM, nearest first."""
    by_name = {s.name: s for s in every}
    chain = [stage]
    while chain[-1].base in by_name:
        chain.append(by_name[chain[-1].base])
    return chain


def effective(stage: Stage, every: list[Stage], kind: str) -> str | None:
    """The instruction (CMD, ENTRYPOINT, HEALTHCHECK, USER) in force in a stage: its own, else inherited."""
    for ancestor in lineage(stage, every):
        values = [v for k, v in ancestor.steps if k == kind]
        if values:
            return values[-1]
    return None


def run_commands(stage: Stage) -> list[str]:
    """Each command of each RUN step of the stage, its BuildKit --mount options left out."""
    commands = []
    for kind, value in stage.steps:
        if kind == "RUN":
            commands += [c.strip() for c in re.split(r"&&", re.sub(r"--mount=\S+", "", value))]
    return commands


def apt_packages(stage: Stage) -> set[str]:
    found: set[str] = set()
    for command in run_commands(stage):
        if command.startswith("apt-get install"):
            found |= {word for word in command.split()[2:] if not word.startswith("-")}
    return found


def built_from_source(every: list[Stage]) -> tuple[Stage, list[str]]:
    """The stage that builds wheels (`pip wheel`), and the packages it builds."""
    for stage in every:
        for command in run_commands(stage):
            if command.startswith("pip wheel"):
                words = command.split()
                names = [w for i, w in enumerate(words[2:], 2) if not w.startswith("-")
                         and words[i - 1] not in ("--wheel-dir", "-w", "-c", "--constraint")]
                return stage, names
    raise AssertionError("no stage builds wheels")


def pins(path: Path = ROOT / "requirements.txt") -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line and not line.startswith("-"):
            name, version = line.split("==")
            found[canonicalize_name(name.split("[")[0])] = version
    return found


def test_the_default_build_starts_the_app_and_the_worker_is_its_own_target():
    """`docker build -t f5ui .` builds the last stage: it must be the app, not the worker."""
    every = stages()
    default, by_name = every[-1], {s.name: s for s in every}
    assert default.name == "app" and "worker" in by_name
    for stage, role in ((default, "app"), (by_name["worker"], "worker")):
        assert effective(stage, every, "ENTRYPOINT") == '["/app/scripts/start.sh"]'
        assert json.loads(effective(stage, every, "CMD")) == [role]
        assert effective(stage, every, "USER") not in (None, "root", "0")
        assert lineage(stage, every)[-1].base == BASE
    assert "/health" in effective(default, every, "HEALTHCHECK") and ("EXPOSE", "7860") in default.steps
    assert effective(by_name["worker"], every, "HEALTHCHECK") is None  # RunPod judges a worker by its fitness check
    script = ROOT / "scripts" / "start.sh"
    assert os.access(script, os.X_OK) and "set -euo pipefail" in script.read_text()
    tracked = subprocess.run(["git", "ls-files", "-s", "scripts/start.sh"], cwd=ROOT, capture_output=True,
                             text=True).stdout
    assert tracked.startswith("100755"), "start.sh must be executable in the repository, not only here"


def test_build_steps_only_install_and_copy_what_exists():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for stage in stages():
        for kind, value in stage.steps:
            if kind == "COPY" and not value.startswith("--from"):
                for source in value.split()[:-1]:
                    assert (ROOT / source).exists(), f"COPY source {source} is missing"
                    assert source not in ignored, value
            if kind == "RUN":  # build steps only install: nothing that needs the running container
                assert not any(marker in value for marker in RUNTIME_MARKERS), value
        for command in run_commands(stage):
            assert command.split()[0] in INSTALL_VERBS, command


def test_the_compiler_stays_in_the_build_stage_and_the_image_installs_wheels_only():
    every = stages()
    builder, built = built_from_source(every)
    assert apt_packages(builder) & COMPILERS, "the wheel-building stage installs a compiler"
    for target in ("app", "worker"):
        chain = lineage(next(s for s in every if s.name == target), every)
        assert builder not in chain
        assert not any(apt_packages(stage) & COMPILERS for stage in chain), f"{target} carries a compiler"
        installs = [c for stage in chain for c in run_commands(stage) if c.startswith("pip install")]
        assert installs and all("--only-binary :all:" in c and "-r requirements.txt" in c for c in installs)
        mounts = " ".join(v for stage in chain for k, v in stage.steps if k == "RUN" and "pip install" in v)
        assert f"from={builder.name},source=/wheels" in mounts and "--find-links /wheels" in mounts
    pinned = pins()
    assert {canonicalize_name(name) for name in built} <= set(pinned), "the build stage builds a package not pinned"
    # Installed here from source with a C extension (a bare linux_* tag, not manylinux): the image could
    # not install it from the registry without a compiler, so the build stage must make its wheel.
    compiled_here = set()
    for name in pinned:
        wheel = metadata.distribution(name).read_text("WHEEL") or ""
        tags = [line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:")]
        if tags and all(re.search(r"-linux_\w+$", tag) for tag in tags):
            compiled_here.add(name)
    assert compiled_here and compiled_here <= {canonicalize_name(name) for name in built}, compiled_here


def test_the_pins_are_every_package_installed_here():
    """Each requirements file pins its whole closure, at the versions the tests run on."""
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "pin_requirements.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        # the Spaces builder mounts requirements.txt alone: it can name no other file
        assert not line.startswith(("-c", "-r", "--constraint", "--requirement")), line
    assert not (ROOT / "constraints.txt").exists()


# --- pip against the registry ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def resolved_alone(tmp_path_factory) -> dict[str, dict]:
    """pip's resolution of requirements.txt in a folder holding nothing else, as the Spaces builder runs it
    (a dry run against the package registry: metadata only, nothing installed): each package's report."""
    alone = tmp_path_factory.mktemp("space")
    (alone / "requirements.txt").write_bytes((ROOT / "requirements.txt").read_bytes())
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                           "--disable-pip-version-check", "--report", "report.json", "-r", "requirements.txt"],
                          cwd=alone, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    report = json.loads((alone / "report.json").read_text())
    return {canonicalize_name(item["metadata"]["name"]): item for item in report["install"]}


def test_requirements_txt_installs_on_its_own_with_the_same_versions(resolved_alone):
    """Nothing beside it, and pip resolves exactly the pinned set: nothing more, nothing else."""
    versions = {name: item["metadata"]["version"] for name, item in resolved_alone.items()}
    assert {n: v for n, v in versions.items() if n not in INTERPRETER_TOOLS} == pins()


def test_every_package_the_image_installs_is_a_wheel_for_its_platform_or_built_in_the_build_stage(resolved_alone):
    """CPython 3.11 on Debian bookworm x86_64 (this machine's platform too, so pip chose as the image's pip
    would): each file pip picked is a wheel the image can install, or a source package the build stage
    turns into a wheel, and the build stage builds nothing else."""
    image = set(tags.cpython_tags((3, 11), abis=["cp311"], platforms=IMAGE_PLATFORMS)) | set(
        tags.compatible_tags((3, 11), "cp311", platforms=IMAGE_PLATFORMS))
    sources, unfit = set(), []
    for name, item in resolved_alone.items():
        filename = item["download_info"]["url"].rsplit("/", 1)[-1]
        if not filename.endswith(".whl"):
            sources.add(name)
        elif not parse_wheel_filename(filename)[3] & image:
            unfit.append(filename)
    assert not unfit, f"wheels the image cannot install: {unfit}"
    _, built = built_from_source(stages())
    assert sources == {canonicalize_name(name) for name in built}


# --- the Space's card --------------------------------------------------------------------------------

# https://huggingface.co/docs/hub/spaces-config-reference, and the Hub's refusals (short_description > 60).
CARD_KEYS = {"title", "emoji", "colorFrom", "colorTo", "sdk", "python_version", "sdk_version", "suggested_hardware",
             "suggested_storage", "app_file", "app_build_command", "app_port", "base_path", "fullWidth", "header",
             "short_description", "models", "datasets", "tags", "thumbnail", "pinned", "hf_oauth", "hf_oauth_scopes",
             "hf_oauth_expiration_minutes", "hf_oauth_authorized_org", "disable_embedding",
             "startup_duration_timeout", "custom_headers", "preload_from_hub", "license"}
COLORS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}


def test_the_space_card_passes_the_hubs_rules():
    from huggingface_hub import SpaceCard

    card = SpaceCard.load(ROOT / "README.md")  # huggingface_hub's own parser of the front matter
    data = card.data.to_dict()
    assert set(data) <= CARD_KEYS, set(data) - CARD_KEYS
    assert isinstance(data["title"], str) and data["title"].strip()
    assert data["colorFrom"] in COLORS and data["colorTo"] in COLORS
    emoji = data["emoji"].replace("\ufe0f", "").replace("\u200d", "")
    assert emoji and all(unicodedata.category(ch) in ("So", "Sk") for ch in emoji), data["emoji"]
    assert data["sdk"] == "gradio" and data["sdk_version"] == pins()["gradio"]
    assert re.fullmatch(r"3\.\d+(\.\d+)?", data["python_version"]) and data["python_version"] == "3.11"
    assert (ROOT / data["app_file"]).is_file() and isinstance(data["pinned"], bool)
    assert isinstance(data["short_description"], str) and 0 < len(data["short_description"]) <= 60
