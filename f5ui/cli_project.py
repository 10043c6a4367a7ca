"""`python -m f5ui.cli project ...`: a book on the command line, with the same Projects calls the UI
and the API use; `run` shows a progress bar (tqdm) and pauses cleanly on Ctrl-C (the next `run`
goes on from the first unfinished segment).

    python -m f5ui.cli project create --file book.epub --voice Narrator
    python -m f5ui.cli project run <id>
    python -m f5ui.cli project export <id> --format mp3 --out ./book
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the studio is imported when a command runs, not for --help
    from .service import Studio

POLL_SECONDS = 0.5


def add_project_commands(commands: Any) -> None:
    """The `project` command and its sub-commands, on the CLI's sub-parsers."""
    project = commands.add_parser("project", help="Books and multi-voice scripts: create, run, review, export.")
    actions = project.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="Make a project from a file or a text.")
    create.add_argument("--file", default=None, help="A .md, .txt, .epub, .srt or .vtt file.")
    create.add_argument("--text", default="", help="The script itself (instead of --file).")
    create.add_argument("--name", default="", help="The project's name (default: the file's).")
    create.add_argument("--voice", default="", help="The default voice (a saved voice) for untagged text.")
    create.add_argument("--speakers", default="", help='JSON: {"Alice": {"voice": "Emma", "speed": 1.1, "seed": 7}}')
    create.add_argument("--settings", default="", help='JSON: {"nfe_step": 32, "seed": 42, "max_takes": 0}')
    run = actions.add_parser("run", help="Run (or resume) a project, with a progress bar; Ctrl-C pauses.")
    run.add_argument("id")
    for name, text in (("status", "Segments by status, audio made, time left."),
                       ("show", "The project with its chapters and segments (JSON).")):
        actions.add_parser(name, help=text).add_argument("id")
    actions.add_parser("list", help="Every project.")
    segment = actions.add_parser("segment", help="Regenerate, lock, unlock or edit one segment.")
    segment.add_argument("id")
    segment.add_argument("segment", type=int)
    segment.add_argument("action", choices=("regenerate", "lock", "unlock", "edit"))
    segment.add_argument("--text", default=None)
    segment.add_argument("--speaker", default=None)
    segment.add_argument("--seed", type=int, default=None, help="regenerate: this seed (default: a new one).")
    export = actions.add_parser("export", help="Every chapter and the M4B, to S3 or <data dir>/exports.")
    export.add_argument("id")
    export.add_argument("--format", default="mp3", help="wav, or wav plus mp3 (default), opus or flac.")
    export.add_argument("--cover", default=None, help="A JPEG or PNG for the M4B (default: the EPUB's own).")
    export.add_argument("--srt-names", action="store_true", help="Speaker names in the SRT subtitles.")
    export.add_argument("--out", default=None, help="Also copy the exported files into this folder.")


def _print(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def project_command(args: argparse.Namespace, studio: Studio) -> int:
    """Run one `project` sub-command; the exit code. UserFacingError propagates to the CLI's handler."""
    from .projects.studio import Projects

    projects = Projects(studio)
    projects.start = lambda: None  # type: ignore[method-assign]  # the CLI resumes only what it is asked to
    if args.action == "create":
        created = projects.create(args.file, args.text, args.name, args.voice, args.speakers or None,
                                  args.settings or None)
        sys.stdout.write(f"{created['id']}\t{created['name']}\t{len(created['chapters'])} chapter(s)\t"
                         f"{len(created['segments'])} segment(s)\n")
        for speaker, voice in created["speakers"].items():
            sys.stdout.write(f"  {speaker} → {voice}\n")
    elif args.action == "run":
        return _run(projects, args.id)
    elif args.action == "status":
        _print(projects.status(args.id))
    elif args.action == "show":
        _print(projects.overview(args.id))
    elif args.action == "list":
        for p in projects.list():
            sys.stdout.write(f"{p['id']}\t{p['state']}\t{p['name']}\t{p['segments']}\n")
    elif args.action == "segment":
        _print(projects.segment(args.id, args.segment, args.action, args.text, args.speaker, args.seed))
    elif args.action == "export":
        result = projects.export(args.id, args.format, args.cover, args.srt_names)
        for item in result.files:
            sys.stdout.write(f"{item.name}\t{item.url or result.location}\n")
        if args.out and result.kind == "local":
            out = Path(args.out)
            out.mkdir(parents=True, exist_ok=True)
            for item in result.files:
                shutil.copyfile(item.local_path, out / item.name)
        for warning in result.manifest.get("warnings", []) + result.manifest.get("notes", []):
            sys.stderr.write(f"note: {warning}\n")
    return 0


def _run(projects: Any, project_id: str) -> int:
    from tqdm import tqdm

    status = projects.run(project_id)
    made = lambda s: s["segments"]["done"] + s["segments"]["flagged"] + s["segments"]["locked"]  # noqa: E731
    bar = tqdm(total=status["total"], initial=made(status), unit="segment", desc=status["name"][:30])
    try:
        while status["state"] in ("queued", "running"):
            time.sleep(POLL_SECONDS)
            status = projects.status(project_id)
            bar.update(made(status) - bar.n)
            eta = status["eta_seconds"]
            bar.set_postfix_str(f"{status['audio_seconds']:.0f} s audio, {status['segments']['flagged']} flagged"
                                + (f", ~{eta:.0f} s left" if eta else ""))
    except KeyboardInterrupt:
        bar.write("Pausing at the next chunk…")
        projects.pause(project_id)
        projects.runner.wait(project_id, timeout=600)
        status = projects.status(project_id)
    finally:
        bar.close()
    counts = status["segments"]
    sys.stderr.write(f"{status['state']}: {made(status)} of {status['total']} made ({counts['flagged']} flagged, "
                     f"{counts['failed']} failed), {status['audio_seconds']:.1f} s of audio\n")
    if status["message"]:
        sys.stderr.write(f"{status['message']}\n")
    return 0 if status["state"] == "done" and not counts["failed"] else 1
