"""The one registry of file formats hoidap reads: extensions, a content sniff, and the reader.

`hoidap ingest` (ingest.load), uploads through the API and the chat (rag.service.uploads), the chat's file picker
and the docs all take the list of accepted types from here, so they cannot disagree.
"""
from __future__ import annotations

import importlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

# an archive (DOCX is a zip) is refused before parsing when it would expand past these: a 1 MB zip of
# zeros expands to 1 GiB, and python-docx then holds all of it (and its XML tree) in memory
MAX_EXPANDED_BYTES = 200_000_000
MAX_RATIO = 200  # expanded / compressed, per member of more than 1 MB expanded
MAX_MEMBERS = 10_000


@dataclass(frozen=True)
class Format:
    name: str
    extensions: tuple[str, ...]
    sniff: Callable[[bytes], bool]  # the first 8 KiB match this format
    reader: str  # the name of its reader in ingest.load (imported on first use: parsers load lazily)

    def read(self, path: Path, data: bytes, progress=None):
        """The file's LoadedDoc (ingest.load.LoadError when it cannot be read)."""
        return getattr(importlib.import_module("ingest.load"), self.reader)(path, data, progress)


def _text(head: bytes) -> bool:
    """Text has no NUL bytes, except UTF-16 (with a BOM, or every other byte NUL)."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" not in head:
        return True
    return len(head) >= 4 and head[1::2][:64].count(0) > 16


FORMATS = (
    Format("text", (".txt", ".md", ".markdown"), _text, "read_text"),
    Format("html", (".html", ".htm"), _text, "read_html"),
    Format("pdf", (".pdf",), lambda h: b"%PDF" in h[:1024], "read_pdf_file"),
    Format("docx", (".docx",), lambda h: h.startswith(b"PK\x03\x04"), "read_docx"),
    Format("doc", (".doc",), lambda h: h.startswith(b"\xd0\xcf\x11\xe0"), "read_doc"),
    Format("png", (".png",), lambda h: h.startswith(b"\x89PNG\r\n\x1a\n"), "read_image"),
    Format("jpeg", (".jpg", ".jpeg"), lambda h: h.startswith(b"\xff\xd8\xff"), "read_image"),
    Format("tiff", (".tif", ".tiff"), lambda h: h[:4] in (b"II*\x00", b"MM\x00*"), "read_image"),
    Format("bmp", (".bmp",), lambda h: h.startswith(b"BM"), "read_image"),
    Format("webp", (".webp",), lambda h: h[:4] == b"RIFF" and h[8:12] == b"WEBP", "read_image"),
)
BY_EXTENSION = {ext: f for f in FORMATS for ext in f.extensions}
SUPPORTED = frozenset(BY_EXTENSION)
IMAGES = frozenset(ext for f in FORMATS if f.reader == "read_image" for ext in f.extensions)


def format_of(path: str | Path) -> Format | None:
    return BY_EXTENSION.get(Path(path).suffix.lower())


def sniff_matches(path: Path, ext: str) -> bool:
    """Whether the file's first bytes are what its extension says."""
    with open(path, "rb") as f:
        head = f.read(8192)
    fmt = BY_EXTENSION.get(ext.lower())
    return bool(fmt and fmt.sniff(head))


class ArchiveTooLarge(ValueError):
    """A zip that would expand past the limits (a zip bomb, or a document too large to read)."""


def check_zip(data: bytes) -> None:
    """Refuse a zip whose members would expand past MAX_EXPANDED_BYTES, or one member at a ratio past MAX_RATIO,
    from its directory alone, before anything is decompressed (zipfile never reads past a member's declared
    size, so the declared sizes bound the work)."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except zipfile.BadZipFile:
        return  # the reader names a corrupt file
    if len(members) > MAX_MEMBERS:
        raise ArchiveTooLarge(f"archive holds {len(members)} files (at most {MAX_MEMBERS})")
    total = sum(m.file_size for m in members)
    if total > MAX_EXPANDED_BYTES:
        raise ArchiveTooLarge(f"expands to {total / 1e6:.0f} MB (at most {MAX_EXPANDED_BYTES / 1e6:.0f} MB): "
                              "a zip bomb, or a document too large to read")
    for m in members:
        if m.file_size > 1_000_000 and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise ArchiveTooLarge(f"{m.filename} expands {m.file_size // max(m.compress_size, 1)}-fold "
                                  f"(at most {MAX_RATIO}): a zip bomb")


def accepted_list() -> str:
    """The accepted extensions for messages and labels: ".docx, .htm, ..."."""
    return ", ".join(sorted(SUPPORTED))
