"""Project benchmarks, measured side by side in one run.

1. Overhead of a project run (database, files, the background runner) over generating the same
   segments directly with Studio.generate: the same voice, texts, seeds and settings, take check and
   word timings on in both. Alternating runs; the ratio of medians. Goal ≤ 1.05×.
2. How long an interactive request waits for the model while a project runs: from the call to the
   moment it holds the model (its first progress report is made inside the model's slot), against
   the run's median segment time. Goal ≤ one segment's time.

Usage: .venv/bin/python bench/bench_projects.py [--runs 3] [--segments 8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

SENTENCES = ["The lighthouse keeper climbed the stairs at dusk.", "Waves broke on the rocks below the tower.",
             "A ship's lantern flickered far out at sea.", "She lit the great lamp and wound the clock.",
             "The wind rose and rattled the old windows.", "By midnight the storm had reached the shore.",
             "Morning came grey and quiet over the water.", "The ship was safe in the harbour at last."]
NFE = 16
SEED = 1000


def _studio(env: dict[str, str]):  # noqa: ANN202 - f5ui.service.Studio
    from f5ui.config import from_env
    from f5ui.paths import FileGate
    from f5ui.service import Studio
    from tests.tiny_model import reference_clip

    studio = Studio(from_env(dict(env, F5UI_DATA_DIR=tempfile.mkdtemp(prefix="f5ui-bench-projects-"))),
                    files=FileGate(None))
    studio.start()
    studio.model.get()
    ref, ref_text = reference_clip()
    studio.save_voice(ref, ref_text, "Bench")
    return studio


def _script(count: int) -> str:
    return "\n\n".join(SENTENCES[i % len(SENTENCES)] for i in range(count))


def _run_project(projects, count: int) -> tuple[float, str]:  # noqa: ANN001 - f5ui.projects.studio.Projects
    created = projects.create(None, _script(count), "bench", "Bench", None, {"nfe_step": NFE, "seed": SEED})
    started = time.perf_counter()
    projects.run(created["id"])
    projects.runner.wait(created["id"])
    return time.perf_counter() - started, created["id"]


def _run_direct(studio, count: int) -> float:  # noqa: ANN001 - f5ui.service.Studio
    from f5ui.schema import GenerationParams

    started = time.perf_counter()
    for position in range(1, count + 1):  # the project's seed of segment n is SEED + n
        studio.generate(None, "", SENTENCES[(position - 1) % len(SENTENCES)],
                        GenerationParams(nfe_step=NFE, seed=SEED + position), word_timings=True, voice="Bench")
    return time.perf_counter() - started


def measure(env: dict[str, str], runs: int = 3, segments: int = 8) -> dict[str, float]:
    from f5ui.projects.studio import Projects
    from f5ui.schema import GenerationParams

    studio = _studio(env)
    projects = Projects(studio)
    _run_direct(studio, 2)  # warm-up: caches, the check's models, the aligner
    project_times, direct_times = [], []
    for _ in range(runs):
        project_times.append(_run_project(projects, segments)[0])
        direct_times.append(_run_direct(studio, segments))

    # Interactive requests during a run: one after another for as long as the run goes on.
    created = projects.create(None, _script(segments * 2), "bench wait", "Bench", None, {"nfe_step": NFE, "seed": SEED})
    projects.run(created["id"])
    waits: list[float] = []

    def one_request() -> None:
        asked = time.perf_counter()
        held: list[float] = []
        studio.generate(None, "", "An interactive request.", GenerationParams(nfe_step=NFE, seed=7),
                        word_timings=False, voice="Bench",
                        progress=lambda fraction, desc: held.append(time.perf_counter()) if not held else None)
        waits.append(held[0] - asked)

    while projects.status(created["id"])["state"] in ("queued", "running"):
        thread = threading.Thread(target=one_request)
        thread.start()
        thread.join()
        time.sleep(0.3)  # let the run take the model again between requests
    projects.runner.wait(created["id"])
    with projects.store.db.reading() as conn:
        segment_times = [r[0] for r in conn.execute("SELECT seconds FROM takes WHERE project_id = ?",
                                                   (created["id"],))]
    projects.close()
    project, direct = statistics.median(project_times), statistics.median(direct_times)
    segment = statistics.median(segment_times)
    return {"ratio": project / direct, "project_s": project, "direct_s": direct, "segments": segments,
            "pairs": sorted(a / b for a, b in zip(project_times, direct_times)),
            "wait_max_s": max(waits), "wait_median_s": statistics.median(waits), "requests": len(waits),
            "segment_median_s": segment, "segment_max_s": max(segment_times), "wait_ratio": max(waits) / segment}


def rows(env: dict[str, str], runs: int = 3, segments: int = 8) -> list[tuple[str, str, str]]:
    m = measure(env, runs, segments)
    return [(f"project run vs the same {m['segments']} segments generated directly (check and word timings on, "
             f"NFE {NFE}; {runs} alternating pairs)", f"**{m['ratio']:.3f}×** (pairs {m['pairs'][0]:.3f}–"
             f"{m['pairs'][-1]:.3f}×; {m['project_s']:.2f} s vs {m['direct_s']:.2f} s)", "≤ 1.05×"),
            (f"interactive request during a run: wait for the model ({m['requests']} requests)",
             f"max **{m['wait_max_s']:.2f} s**, median {m['wait_median_s']:.2f} s; a segment takes "
             f"{m['segment_median_s']:.2f} s (max {m['segment_max_s']:.2f} s): **{m['wait_ratio']:.2f}** of one "
             "segment", "≤ 1 segment")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--segments", type=int, default=8)
    args = parser.parse_args()
    from tests.tiny_model import build_tiny_model

    env = build_tiny_model(Path(tempfile.mkdtemp(prefix="f5ui-tiny-")))
    for name, value, goal in rows(env, args.runs, args.segments):
        print(f"| {name} | {value} | {goal} |")


if __name__ == "__main__":
    main()
