"""The exported book: per chapter the WAV, a compressed copy and the timing files (with speaker
names), and the whole book as an M4B (AAC in MP4) with chapter markers and metadata (title, author,
cover) written by ffmpeg from its metadata file, then checked with ffprobe's -show_chapters: an M4B
whose chapters are not the ones asked for is an error, never a download."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..audio import read_audio
from ..codecs import FORMATS, encode
from ..errors import UserFacingError
from ..export.subtitles import write_all
from .assemble import Joined

log = logging.getLogger(__name__)

M4B_BITRATE = "64k"  # mono speech: what audiobook shops use
COVER_TYPES = {"JPEG": ".jpg", "PNG": ".png"}
MAX_COVER_PIXELS = 40_000_000


@dataclass
class BookChapter:
    number: int
    title: str
    joined: Joined


class M4BFailed(UserFacingError):
    """ffmpeg could not make the M4B, or it came out without the chapters asked for."""


def stem(number: int) -> str:
    return f"chapter-{number:03d}"


def chapter_files(chapter: BookChapter, work: Path, audio_format: str, srt_names: bool) -> list[tuple[str, Path]]:
    """(name, path) of the chapter's WAV, its compressed copy and its timing files, written in `work`."""
    name = stem(chapter.number)
    wav = work / f"{name}.wav"
    shutil.copyfile(chapter.joined.path, wav)
    files = [(wav.name, wav)]
    if audio_format != "wav":
        audio = read_audio(wav)
        compressed = work / f"{name}{FORMATS[audio_format].suffix}"
        compressed.write_bytes(encode(audio.samples, audio.sample_rate, audio_format))
        files.append((compressed.name, compressed))
    timing = write_all(chapter.joined.alignment, work, name, speakers=chapter.joined.speakers, srt_names=srt_names)
    return files + [(p.name, p) for p in timing.values()]


def _escape(value: str) -> str:
    """A value in ffmpeg's metadata file: '=', ';', '#', '\\' and line breaks escaped."""
    out = " ".join(str(value).split())
    for ch in ("\\", "=", ";", "#"):
        out = out.replace(ch, "\\" + ch)
    return out


def ffmetadata(chapters: list[BookChapter], title: str, author: str) -> str:
    """ffmpeg's metadata file: the book's tags and one [CHAPTER] per chapter, in milliseconds laid end
    to end from the chapters' exact lengths."""
    lines = [";FFMETADATA1", f"title={_escape(title)}", f"album={_escape(title)}", "genre=Audiobook"]
    if author:
        lines += [f"artist={_escape(author)}", f"album_artist={_escape(author)}"]
    start = 0.0
    for chapter in chapters:
        end = start + chapter.joined.duration
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={round(start * 1000)}", f"END={round(end * 1000)}",
                  f"title={_escape(chapter.title)}"]
        start = end
    return "\n".join(lines) + "\n"


def check_cover(path: Path) -> str:
    """The image's suffix (.jpg or .png) when it is a JPEG or PNG a player shows; else UserFacingError."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            kind = image.format
            if image.width * image.height > MAX_COVER_PIXELS:
                raise UserFacingError(f"The cover is {image.width}×{image.height} pixels: too large.",
                                      "Use an image of at most a few thousand pixels a side.")
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UserFacingError("The cover is not an image that can be read.", "Use a JPEG or PNG file.") from exc
    if kind not in COVER_TYPES:
        raise UserFacingError(f"The cover is a {kind} image.", "Use a JPEG or PNG file (what audiobook players show).")
    return COVER_TYPES[kind]


def write_m4b(chapters: list[BookChapter], out: Path, title: str, author: str, cover: Path | None) -> list[dict]:
    """The M4B at `out`; returns its chapters as ffprobe reads them (title, start, end in seconds)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None or shutil.which("ffprobe") is None:
        raise M4BFailed("The M4B needs ffmpeg and ffprobe, which are not installed on the server.",
                        "Install ffmpeg (apt-get install ffmpeg); the chapters' files are exported without it.")
    work = out.parent
    listing = work / "chapters.txt"
    listing.write_text("".join(f"file '{_concat_path(c.joined.path)}'\n" for c in chapters), encoding="utf-8")
    metadata = work / "metadata.txt"
    metadata.write_text(ffmetadata(chapters, title, author), encoding="utf-8")
    command = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
               "-i", str(metadata)]
    if cover is not None:
        command += ["-i", str(cover), "-map", "0:a", "-map", "2:v", "-c:v", "copy", "-disposition:v:0", "attached_pic"]
    else:
        command += ["-map", "0:a"]
    command += ["-map_metadata", "1", "-map_chapters", "1", "-c:a", "aac", "-b:a", M4B_BITRATE, "-ac", "1",
                "-movflags", "+faststart", "-f", "mp4", str(out)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        log.error("ffmpeg failed making the M4B: %s", done.stderr[-2000:])
        raise M4BFailed(f"ffmpeg could not make the M4B: {done.stderr.strip()[-300:]}", "See the server log.")
    found = probe_chapters(out)
    wanted = [c.title for c in chapters]
    if [c["title"] for c in found] != [" ".join(t.split()) for t in wanted]:
        raise M4BFailed(f"The M4B came out with the chapters {[c['title'] for c in found]} instead of {wanted}.",
                        "See the server log; report it if it persists.")
    return found


def _concat_path(path: Path) -> str:
    return str(path.resolve()).replace("'", "'\\''")  # the concat list's quoting


def probe_chapters(path: Path) -> list[dict]:
    """ffprobe -show_chapters: each chapter's title, start and end (s)."""
    done = subprocess.run([shutil.which("ffprobe") or "ffprobe", "-v", "error", "-show_chapters", "-of", "json",
                           str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise M4BFailed(f"ffprobe could not read the M4B: {done.stderr.strip()[-300:]}", "See the server log.")
    chapters = json.loads(done.stdout or "{}").get("chapters", [])
    return [{"title": c.get("tags", {}).get("title", ""), "start": float(c["start_time"]),
             "end": float(c["end_time"])} for c in chapters]
