"""The package's shape, checked on its source: rooms follow the data, imports go one way
(server → ui → service/diagnostics → engine/timing/export → ground floor), siblings stay apart,
there is no import loop (lazy imports inside functions count too), and every module stays small."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import ROOT

PACKAGE = ROOT / "f5ui"
MAX_LINES = 400
GROUND = {"config", "schema", "errors", "text", "paths", "packages", "hub", "device", "audio", "codecs", "logs",
          "hosting", "streaming", "accounts", "fetch", "workers", "hangups"}
ROOMS = {"engine", "timing", "export", "quality"}  # siblings: none imports another
# checkup and the service compose the rooms; diagnostics reads them (and never the service).
APART = {("service", "diagnostics"), ("diagnostics", "service"), ("checkup", "diagnostics"), ("diagnostics", "checkup")}
LAYER = {**{name: 0 for name in GROUND}, **{name: 1 for name in ROOMS}, "service": 2, "checkup": 2, "diagnostics": 2,
         "ui": 3, **{name: 4 for name in ("server", "request_guard", "retention", "openai_api", "serverless",
                                          "download", "punkt", "cli", "access", "hangup_watch", "listener")}}
# Projects compose the service's actions (a run calls Studio.generate per segment): above it, under the UI.
LAYER.update({"projects": 2.5, "cli_project": 4})


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """f5ui modules imported anywhere in the file (top level or inside functions)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("f5ui")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("f5ui"):
                found.add(target)
                # "from . import alignment": the names may be submodules
                found |= {f"{target}.{a.name}" for a in node.names if (PACKAGE.parent / f"{target}.{a.name}".replace(
                    ".", "/")).with_suffix(".py").exists()}
    return found - {name}


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "f5ui"


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports(p) for p in PACKAGE.rglob("*.py")}


def test_layers_point_one_way_and_siblings_stay_apart():
    problems = []
    for module, targets in graph().items():
        here = room(module)
        if here == "f5ui":
            continue
        for target in targets:
            there = room(target)
            if there in ("f5ui", here):
                continue
            if (LAYER[there] == LAYER[here] == 1) or (here, there) in APART:
                problems.append(f"{module} → {target}: siblings {here} and {there} import each other")
            elif LAYER[there] > LAYER[here]:
                problems.append(f"{module} → {target}: {here} (layer {LAYER[here]}) reaches up to {there}")
    assert not problems, "\n".join(problems)


def test_there_is_no_import_loop():
    edges = graph()
    # A module's package __init__ runs before it: importing a.b.c imports a.b too.
    for module in list(edges):
        own = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 2)}  # itself, its packages
        edges[module] = {t for target in edges[module] for t in _with_parents(target, edges)} - own
    visiting, done, loops = set(), set(), []

    def visit(node: str, trail: list[str]) -> None:
        if node in done:
            return
        if node in visiting:
            loops.append(" → ".join(trail[trail.index(node):] + [node]))
            return
        visiting.add(node)
        for nxt in sorted(edges.get(node, ())):
            visit(nxt, trail + [node])
        visiting.discard(node)
        done.add(node)

    for start in sorted(edges):
        visit(start, [])
    assert not loops, "\n".join(loops)


def _with_parents(target: str, known: dict[str, set[str]]) -> set[str]:
    parts = target.split(".")
    names = {".".join(parts[:i]) for i in range(2, len(parts) + 1)}
    return {n for n in names if n in known}


def test_every_module_is_small():
    sizes = {module_name(p): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    assert max(sizes.values()) < MAX_LINES, sorted(sizes.items(), key=lambda kv: -kv[1])[:3]
