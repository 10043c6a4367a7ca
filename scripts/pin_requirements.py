"""Pin every package the requirements pull in, in the requirements files themselves.

requirements.txt must install on its own: the Hugging Face Spaces builder mounts that one file and
runs `pip install -r` on it, so a `-c constraints.txt` beside it cannot be found. Each file therefore
has two parts: what f5ui names (above the marker line, edited by hand) and everything those pull in,
pinned to the versions installed in this environment (below it, written by this script).

    python scripts/pin_requirements.py          rewrite the resolved parts from the installed packages
    python scripts/pin_requirements.py --check  exit 1 (saying what differs) when a file is out of date

Run it with the project's venv after installing or changing a package: the closure is read from the
installed metadata (Requires-Dist, markers evaluated for this interpreter, extras followed)."""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
RUNTIME, TEST = ROOT / "requirements.txt", ROOT / "requirements-test.txt"
MARKER = "# --- resolved: everything the packages above pull in (python scripts/pin_requirements.py) ---"
# Installers that come with the interpreter: pinning them would reinstall pip's own tools.
INTERPRETER_TOOLS = {"pip", "setuptools", "wheel"}


def named(path: Path) -> list[str]:
    """The hand-written part of a requirements file: every line above the marker."""
    lines = path.read_text().splitlines()
    return lines[: lines.index(MARKER)] if MARKER in lines else lines


def requirements(lines: list[str]) -> list[Requirement]:
    found = []
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            found.append(Requirement(line))
    return found


def closure(roots: list[Requirement]) -> dict[str, metadata.Distribution]:
    """Every installed distribution `roots` need, by canonical name."""
    installed = {canonicalize_name(d.metadata["Name"]): d for d in metadata.distributions()}
    environment = default_environment()
    found: dict[str, metadata.Distribution] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    pending = list(roots)
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        key = (name, frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        if name not in installed:
            raise SystemExit(f"{requirement} is required but not installed: install it first")
        dist = found[name] = installed[name]
        for text in dist.requires or []:
            needed = Requirement(text)
            extras = [""] + sorted(requirement.extras)
            if needed.marker is None or any(needed.marker.evaluate({**environment, "extra": e}) for e in extras):
                pending.append(needed)
    return found


def pins(dists: dict[str, metadata.Distribution], leave_out: set[str]) -> list[str]:
    return sorted((f"{d.metadata['Name']}=={d.version}" for name, d in dists.items()
                   if name not in leave_out and name not in INTERPRETER_TOOLS), key=str.lower)


def rendered() -> dict[Path, str]:
    """The two files as they should read."""
    runtime_named, test_named = named(RUNTIME), named(TEST)
    runtime_roots, test_roots = requirements(runtime_named), requirements(test_named)
    runtime = closure(runtime_roots)
    everything = closure(runtime_roots + test_roots)
    runtime_pins = pins(runtime, {canonicalize_name(r.name) for r in runtime_roots})
    test_pins = pins({k: v for k, v in everything.items() if k not in runtime},
                     {canonicalize_name(r.name) for r in test_roots})
    return {RUNTIME: "\n".join([*runtime_named, MARKER, *runtime_pins]) + "\n",
            TEST: "\n".join([*test_named, MARKER, *test_pins]) + "\n"}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file is out of date")
    args = parser.parse_args(argv)
    stale = []
    for path, text in rendered().items():
        if path.read_text() == text:
            continue
        stale.append(path.name)
        if not args.check:
            path.write_text(text)
    if args.check and stale:
        sys.stderr.write(f"out of date with the installed packages: {', '.join(stale)} "
                         "(run: python scripts/pin_requirements.py)\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
