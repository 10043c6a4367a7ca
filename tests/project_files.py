"""Books and scripts the project tests make projects from: a 3-chapter Markdown script with two
speakers, EPUBs written with ebooklib itself (chapters in the table of contents, one of them at an
anchor inside a document, a cover, metadata), and DRM-marked or broken variants."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

# Three chapters under a book title; Narrator (the default voice, and tagged) and Alice (tagged two ways).
BOOK_MD = """# The Lighthouse

## The Storm

[Narrator] The storm came in from the sea. The keeper climbed the stairs.
{Alice} Is the lamp still burning?

[Narrator] It was, but only just.

## The Night

The keeper waited by the glass all night.
{Alice} I can see a ship out there.

## The Morning

[Alice] The sea is calm again. We made it.
[Narrator] And so the keeper slept.
"""
CHAPTER_TITLES = ["The Storm", "The Night", "The Morning"]

CHAPTERS = [("Arrival", "<h1>Arrival</h1><p>The train was late.</p><p>Nobody waited on the platform.</p>"),
            ("The House", "<h1>The House</h1><p>The door was open. <i>Someone</i> had been there.</p>"),
            ("Departure", "<h1>Departure</h1><p>In the morning she left.</p><script>var x = 1;</script>")]


def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 96), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def build_epub(path: Path, chapters: list[tuple[str, str]] = CHAPTERS, title: str = "A Short Book",
               author: str = "Ada Writer", anchored: tuple[str, str] | None = None) -> Path:
    """An EPUB 3 written by ebooklib: one XHTML document per chapter, a table of contents (nav and NCX)
    and a cover. `anchored` = (title, html): one more chapter inside the last document, at an anchor."""
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("f5ui-test-book")
    book.set_title(title)
    book.set_language("en")
    book.add_author(author)
    book.set_cover("cover.png", png_bytes(), create_page=True)
    items, toc = [], []
    for i, (name, body) in enumerate(chapters, start=1):
        item = epub.EpubHtml(title=name, file_name=f"chap_{i}.xhtml", lang="en")
        if anchored and i == len(chapters):
            body += f'<section id="extra">{anchored[1]}</section>'
        item.content = f"<html><body>{body}</body></html>"
        book.add_item(item)
        items.append(item)
        toc.append(epub.Link(f"chap_{i}.xhtml", name, f"chap{i}"))
    if anchored:
        toc.append(epub.Link(f"chap_{len(chapters)}.xhtml#extra", anchored[0], "extra"))
    book.toc = toc
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["cover", "nav", *items]
    epub.write_epub(str(path), book)
    return path


def with_entry(source: Path, target: Path, name: str, data: bytes) -> Path:
    """A copy of the EPUB `source` with one more file in it (rights.xml, encryption.xml)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.infolist():
            new.writestr(item, old.read(item.filename))
        new.writestr(name, data)
    return target


def encryption_xml(algorithm: str, uri: str) -> bytes:
    return (f'<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
            f'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData><enc:EncryptionMethod '
            f'Algorithm="{algorithm}"/><enc:CipherData><enc:CipherReference URI="{uri}"/></enc:CipherData>'
            f"</enc:EncryptedData></encryption>").encode()


# Cue 1 fits only when sped up, cue 2 cannot fit at any allowed speed, cue 3 comes after a silence.
SRT = """1
00:00:00,500 --> 00:00:02,600
[Narrator] The first line is spoken here.

2
00:00:04,000 --> 00:00:04,400
<i>{Alice} A cue far too short for all of these many words to fit inside it.</i>

3
00:00:10,000 --> 00:00:12,500
The last line.
"""

VTT = """WEBVTT

00:00:01.000 --> 00:00:03.500
<v Alice>Hello from the first cue.

00:00:05.000 --> 00:00:07.000
<v Narrator>And a second one.
"""
