"""EPUB books, read with ebooklib: the table of contents gives the chapters (a chapter runs from its
entry, a document or an anchor inside one, to the next entry), the spine gives the reading order,
and every XHTML document is parsed with lxml's HTML parser into paragraphs. Title, author,
language and the cover image come from the package metadata.

Refused before ebooklib reads anything into memory: a file that is not a ZIP/EPUB, one that
unpacks to more than F5UI_PROJECT_MAX_UNPACKED_MB, and DRM-protected books (META-INF/rights.xml,
or encryption.xml covering more than obfuscated fonts)."""

from __future__ import annotations

import logging
import posixpath
import zipfile
from pathlib import Path

from ..config import Settings
from ..errors import InputError
from .records import Draft, DraftChapter, Paragraph

log = logging.getLogger(__name__)

# Font obfuscation (IDPF and Adobe) is not DRM: the text is readable.
FONT_OBFUSCATION = {"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"}
ENC = "{http://www.w3.org/2001/04/xmlenc#}"
# Elements whose text is spoken as one paragraph when they hold no such element themselves.
BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "dd", "dt", "figcaption", "caption",
          "td", "th", "div", "section", "article", "aside", "header", "footer"}
SKIPPED = {"script", "style", "head", "title", "nav"}
COVER_TYPES = {"image/jpeg": ".jpg", "image/png": ".png"}
CHAPTER, TEXT = "chapter", "text"


def _not_epub(name: str, why: str) -> InputError:
    return InputError(f"{name!r} is not a readable EPUB ({why}).", "Upload the .epub file as the shop or library "
                      "gave it (EPUB 2 or 3), or convert the book to EPUB with Calibre.")


def check_archive(path: Path, settings: Settings) -> None:
    """What can be refused from the ZIP directory alone: not a ZIP, too large unpacked, DRM."""
    if not zipfile.is_zipfile(path):
        raise _not_epub(path.name, "it is not a ZIP archive")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        unpacked = sum(info.file_size for info in archive.infolist())
        limit = settings.project_max_unpacked_mb * 2**20
        if unpacked > limit:
            raise InputError(f"{path.name!r} unpacks to {unpacked / 2**20:.0f} MB; the limit is "
                             f"{settings.project_max_unpacked_mb:g} MB.", "Upload a smaller book, or raise "
                             "F5UI_PROJECT_MAX_UNPACKED_MB.")
        if "META-INF/container.xml" not in names:
            raise _not_epub(path.name, "it has no META-INF/container.xml")
        if "META-INF/rights.xml" in names or _encrypted_text(archive, names):
            raise InputError(f"{path.name!r} is protected by DRM: its text is encrypted.",
                             "Use a DRM-free copy of the book (many shops sell them; public-domain books are free).")


def _encrypted_text(archive: zipfile.ZipFile, names: set[str]) -> bool:
    if "META-INF/encryption.xml" not in names:
        return False
    from lxml import etree

    try:
        root = etree.fromstring(archive.read("META-INF/encryption.xml"), etree.XMLParser(resolve_entities=False,
                                                                                      no_network=True))
    except etree.XMLSyntaxError:
        return True  # an encryption file that cannot be read cannot be shown to be harmless
    for data in root.iter(f"{ENC}EncryptedData"):
        method = data.find(f"{ENC}EncryptionMethod")
        if method is None or method.get("Algorithm") not in FONT_OBFUSCATION:
            return True
    return False


def read_epub(path: Path, settings: Settings) -> Draft:
    check_archive(path, settings)
    import ebooklib
    from ebooklib import epub

    try:
        book = epub.read_epub(str(path), {"ignore_ncx": True})
    except (epub.EpubException, KeyError, ValueError, OSError, zipfile.BadZipFile, AttributeError) as exc:
        raise _not_epub(path.name, f"{type(exc).__name__}: {str(exc)[:200]}") from exc
    except Exception as exc:  # lxml's parse errors of a damaged package file, among others
        raise _not_epub(path.name, f"{type(exc).__name__}: {str(exc)[:200]}") from exc
    targets = _toc_targets(book.toc)
    chapters: list[DraftChapter] = []
    paragraph_number = 0
    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT or isinstance(item, (epub.EpubNav,)):
            continue
        anchors = targets.get(posixpath.normpath(item.get_name()), {})
        for kind, value in _paragraphs(item.get_content(), set(anchors)):
            if kind == CHAPTER:
                chapters.append(DraftChapter(anchors[value]))
                continue
            if not chapters:  # before the first entry of the table of contents
                chapters.append(DraftChapter("Front matter"))
            paragraph_number += 1
            chapters[-1].paragraphs.append(Paragraph(value, paragraph_number))
    if not targets:  # no table of contents: each document is a chapter
        chapters = _by_document(book, ebooklib, epub)
    return Draft("epub", chapters, title=_meta(book, "title"), author=_meta(book, "creator"),
                 language=_meta(book, "language"), cover=_cover(book, ebooklib), unit="paragraph")


def _toc_targets(toc: list) -> dict[str, dict[str | None, str]]:
    """document → {anchor (None: the document's start) → chapter title}, in table-of-contents order."""
    from ebooklib import epub

    out: dict[str, dict[str | None, str]] = {}

    def visit(entries: list) -> None:
        for entry in entries:
            if isinstance(entry, tuple):  # (Section, [children])
                section, children = entry
                if getattr(section, "href", ""):
                    add(section.href, section.title)
                visit(children)
            elif isinstance(entry, (epub.Link, epub.Section)) and getattr(entry, "href", ""):
                add(entry.href, entry.title)

    def add(href: str, title: str) -> None:
        document, _, anchor = href.partition("#")
        out.setdefault(posixpath.normpath(document), {}).setdefault(anchor or None, " ".join((title or "").split())
                                                                    or f"Chapter {len(out)}")

    visit(toc)
    return out


def _paragraphs(content: bytes, anchors: set[str | None]) -> list[tuple[str, str | None]]:
    """In document order: (CHAPTER, anchor) where a chapter of the table of contents starts (anchor None:
    at the document's start), (TEXT, text) for each paragraph."""
    import lxml.html

    out: list[tuple[str, str | None]] = [(CHAPTER, None)] if None in anchors else []
    try:
        root = lxml.html.document_fromstring(content) if content.strip() else None
    except Exception:  # an unparsable document has no text to give
        root = None
    for element in root.iter() if root is not None else ():
        if not isinstance(element.tag, str):
            continue  # comments, processing instructions
        anchor = element.get("id")
        if anchor is not None and anchor in anchors:
            out.append((CHAPTER, anchor))
        if element.tag in BLOCKS and not _skipped(element) and not any(
                isinstance(d.tag, str) and d.tag in BLOCKS for d in element.iterdescendants()):
            text = " ".join(_text(element).split())
            if text:
                out.append((TEXT, text))
    return out


def _skipped(element) -> bool:  # noqa: ANN001 - an lxml element
    return any(a.tag in SKIPPED for a in element.iterancestors() if isinstance(a.tag, str))


def _text(element) -> str:  # noqa: ANN001 - an lxml element
    """The element's text, <br> as a space, scripts and styles left out."""
    parts = []
    for piece in element.iter():
        if not isinstance(piece.tag, str) or piece.tag in SKIPPED:
            parts.append(piece.tail or "")
            continue
        if piece.tag == "br":
            parts.append(" ")
        parts.append(piece.text or "")
        if piece is not element:
            parts.append(piece.tail or "")
    return "".join(parts)


def _by_document(book, ebooklib, epub) -> list[DraftChapter]:  # noqa: ANN001 - the book and the modules
    chapters = []
    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT or isinstance(item, epub.EpubNav):
            continue
        texts = [text for kind, text in _paragraphs(item.get_content(), set()) if kind == TEXT and text]
        if texts:
            chapters.append(DraftChapter(texts[0][:80] if len(texts[0]) <= 80 else f"Chapter {len(chapters) + 1}",
                                         [Paragraph(t, i) for i, t in enumerate(texts, start=1)]))
    return chapters


def _meta(book, name: str) -> str:  # noqa: ANN001 - an ebooklib EpubBook
    values = book.get_metadata("DC", name)
    return " ".join(str(values[0][0]).split()) if values and values[0][0] else ""


def _cover(book, ebooklib) -> tuple[bytes, str] | None:  # noqa: ANN001 - the book and the module
    """The cover image (EPUB 3 cover-image property, or EPUB 2's <meta name="cover">), JPEG or PNG only."""
    candidates = list(book.get_items_of_type(ebooklib.ITEM_COVER))
    for meta in book.get_metadata("OPF", "cover"):
        item = book.get_item_with_id((meta[1] or {}).get("content", ""))
        if item is not None:
            candidates.append(item)
    for item in candidates:
        suffix = COVER_TYPES.get(getattr(item, "media_type", ""))
        if suffix and item.get_content():
            return item.get_content(), suffix
    return None
