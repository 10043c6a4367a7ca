"""Command line: the same Studio functions the UI and the API use.

    python -m f5ui.cli generate --ref voice.wav --ref-text "..." --text "..." --out out.wav
    python -m f5ui.cli project create --file book.md --voice Narrator    (cli_project.py)
    python -m f5ui.cli user add NAME --role admin      # a line for F5UI_USERS (asks for the password)
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import shutil
import sys

from . import hosting
from .cli_project import add_project_commands, project_command
from .config import add_cli_arguments, from_args
from .errors import UserFacingError
from .logs import configure_logging
from .schema import GenerationParams


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m f5ui.cli", description="f5ui from the command line.")
    add_cli_arguments(parser)
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="Clone a voice into a WAV file.")
    gen.add_argument("--ref", default=None, help="Reference audio file (any format ffmpeg reads).")
    gen.add_argument("--voice", default=None, help="A saved voice (instead of --ref and --ref-text).")
    gen.add_argument("--ref-text", default="", help="Words spoken in the reference (empty: transcribe).")
    gen.add_argument("--text", required=True, help="Text to speak.")
    gen.add_argument("--out", required=True, help="Where to write the WAV.")
    gen.add_argument("--speed", type=float, default=GenerationParams.speed)
    gen.add_argument("--nfe-step", type=int, default=GenerationParams.nfe_step)
    gen.add_argument("--cfg-strength", type=float, default=GenerationParams.cfg_strength)
    gen.add_argument("--cross-fade", type=float, default=GenerationParams.cross_fade)
    gen.add_argument("--seed", type=int, default=None, help="Default: random (printed).")
    gen.add_argument("--remove-silence", action="store_true")
    user = commands.add_parser("user", help="Sign-in users for the page (F5UI_USERS).")
    user.add_argument("action", choices=["add"], help="add: make (or replace) a user's line.")
    user.add_argument("name", help="Letters, digits, '_', '.', '@' or '-'.")
    user.add_argument("--role", choices=["user", "admin"], default="user",
                      help="user: generates, aligns, checks, exports; admin: also changes the voice library.")
    user.add_argument("--file", default=os.environ.get("F5UI_USERS", ""),
                      help="The users file to write (default F5UI_USERS); none: print the line.")
    user.add_argument("--password-stdin", action="store_true", help="Read the password from stdin, not a prompt.")
    add_project_commands(commands)
    args = parser.parse_args(argv)
    if args.command == "user":
        return user_command(args)
    if args.command == "generate" and not args.ref and not args.voice:
        parser.error("give --ref (a reference recording) or --voice (a saved voice)")

    settings = hosting.apply(from_args(args))
    configure_logging(None, logging.WARNING)
    from .paths import FileGate
    from .service import Studio

    studio = Studio(settings, files=FileGate(None))  # the CLI's user names their own files
    if args.command == "project":
        try:
            return project_command(args, studio)
        except UserFacingError as error:
            sys.stderr.write(f"error: {error}\n")
            return 2
    params = GenerationParams(args.speed, args.nfe_step, args.cfg_strength, args.cross_fade, args.seed,
                              args.remove_silence)
    try:
        result = studio.generate(args.ref, args.ref_text, args.text, params, voice=args.voice)
    except UserFacingError as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    shutil.copyfile(result.audio_path, args.out)
    for notice in result.notices:
        sys.stderr.write(f"note: {notice}\n")
    sys.stdout.write(f"{args.out}\t{result.duration:.2f} s\tseed {result.seed}\n")
    return 0


def user_command(args: argparse.Namespace) -> int:
    from .accounts import user_line, write_user

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"Password for {args.name}: ")
        if getpass.getpass("Again: ") != password:
            sys.stderr.write("error: the passwords differ\n")
            return 2
    try:
        line = user_line(args.name, args.role, password)
    except ValueError as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    if not args.file:
        sys.stdout.write(line + "\n")
        return 0
    replaced = write_user(args.file, args.name, line)
    sys.stdout.write(f"{'Replaced' if replaced else 'Added'} {args.role} {args.name!r} in {args.file}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
