"""Read files into text: txt, md, html, pdf, docx, images (OCR); encodings detected; bad input named clearly.
Which reader reads which file is ingest.formats' registry."""
from __future__ import annotations

import codecs
import fnmatch
import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ingest import legacy
from ingest.formats import IMAGES, SUPPORTED, ArchiveTooLarge, accepted_list, check_zip, format_of
from ingest.tables import table_lines


class LoadError(Exception):
    """A file that cannot be read; the message says why, in words a user can act on."""


@dataclass
class LoadedDoc:
    path: Path
    text: str  # the document text all offsets refer to
    title: str
    page_starts: list[int] = field(default_factory=list)  # pdf: offset where each page begins
    encoding: str = "utf-8"
    ocr_pages: list[int] = field(default_factory=list)  # 1-based pages whose text came from OCR
    warnings: list[str] = field(default_factory=list)  # indexed, but something was left out


def find_files(paths: list[Path], include: list[str] | None = None, exclude: list[str] | None = None) -> list[Path]:
    """Files under the given paths (folders recursively, symlink loops ignored), filtered by globs."""
    out: list[Path] = []
    seen: set[str] = set()
    for p in paths:
        if p.is_dir():
            for root, dirs, files in os.walk(p, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for f in sorted(files):
                    fp = Path(root) / f
                    if fp.suffix.lower() in SUPPORTED and not f.startswith("."):
                        out.append(fp)
        else:
            out.append(p)
    result = []
    for fp in out:
        key = str(fp.resolve()) if fp.exists() else str(fp.absolute())
        name = fp.as_posix()
        if include and not any(fnmatch.fnmatch(name, g) or fnmatch.fnmatch(fp.name, g) for g in include):
            continue
        if exclude and any(fnmatch.fnmatch(name, g) or fnmatch.fnmatch(fp.name, g) for g in exclude):
            continue
        if key not in seen:
            seen.add(key)
            result.append(fp)
    return result


def read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise LoadError("file not found (removed while ingesting?)") from None
    except OSError as e:
        raise LoadError(f"cannot read: {e.strerror}") from None
    size = st.st_size
    if stat.S_ISDIR(st.st_mode):
        raise LoadError("is a folder")
    if not stat.S_ISREG(st.st_mode):  # a FIFO or device would block or never end
        raise LoadError("not a regular file (pipe, socket or device)")
    if size > max_bytes:
        raise LoadError(f"too large: {size / 1e6:.1f} MB > limit {max_bytes / 1e6:.0f} MB (raise max_file_mb)")
    try:
        return path.read_bytes()
    except PermissionError:
        raise LoadError("permission denied") from None
    except FileNotFoundError:
        raise LoadError("file not found (removed while ingesting?)") from None
    except OSError as e:
        raise LoadError(f"cannot read: {e.strerror}") from None


_VN_VOWELS = set("aăâeêioôơuưyAĂÂEÊIOÔƠUƯY")


def _base(ch: str) -> str:
    return unicodedata.normalize("NFC", "".join(c for c in unicodedata.normalize("NFD", ch) if c in "\u0306\u0302\u031b" or not unicodedata.combining(c)))


def decode(data: bytes) -> tuple[str, str]:
    """Decode text bytes: BOMs, UTF-8, UTF-16, Windows-1258; TCVN3/VNI named and refused."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    if len(data) >= 4 and data[1::2][:64].count(0) > 16:
        try:
            return data.decode("utf-16-le"), "utf-16-le"
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:8192]:
        raise LoadError("binary file (not text)")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Windows-1258 tone marks are combining characters that always follow a vowel; the same bytes in
    # TCVN3/VNI are letters. Both readings can look plausible: the one whose words are well-formed
    # Vietnamese syllables more often wins
    w1258 = data.decode("cp1258", errors="replace")
    latin = legacy.read_cp1252(data)
    found, candidates = legacy.detect(latin)
    converted = legacy.convert(latin, found) if found else ""
    marks = [i for i, c in enumerate(w1258) if unicodedata.combining(c)]
    if marks and w1258.count("\ufffd") <= len(w1258) * 0.01:
        after_vowel = sum(1 for i in marks if i > 0 and _base(w1258[i - 1]) in _VN_VOWELS)
        w1258_share = legacy.syllable_share(unicodedata.normalize("NFC", w1258))
        if after_vowel >= 0.95 * len(marks) and not (found and legacy.syllable_share(converted) > w1258_share + 0.1):
            return w1258, "windows-1258"
    if found:
        return converted, found
    if candidates:
        raise LoadError("legacy Vietnamese encoding, but which one cannot be told apart (candidates: "
                        + ", ".join(c.upper() for c in candidates) + "): convert the file to Unicode (UTF-8)")
    text = data.decode("cp1258", errors="replace")
    if text.count("\ufffd") > len(text) * 0.01:
        raise LoadError("unknown text encoding (not UTF-8, UTF-16 or Windows-1258)")
    return text, "windows-1258"


def load(path: Path, max_bytes: int = 25_000_000,
         progress: Callable[[int, int, str], None] | None = None) -> LoadedDoc:
    """One file's text. `progress(done, total, what)` is called per page while a scan is read by OCR."""
    ext = path.suffix.lower()
    fmt = format_of(path)
    if fmt is None:
        raise LoadError(f"unsupported file type '{ext or path.name}' (supported: {accepted_list()})")
    data = read_bytes(path, max_bytes)
    if not data.strip() and fmt.name != "doc":
        raise LoadError("empty file")
    doc = fmt.read(path, data, progress)
    if not doc.text.strip():
        raise LoadError("no text found" + (" (an image without readable text?)" if ext in IMAGES else ""))
    return doc


def read_text(path: Path, data: bytes, progress=None) -> LoadedDoc:
    text, enc = decode(data)
    return LoadedDoc(path, text, _title(text, path), encoding=enc)


def read_html(path: Path, data: bytes, progress=None) -> LoadedDoc:
    text, enc = _decode_html(data)
    text = _html(text)
    return LoadedDoc(path, text, _title(text, path), encoding=enc)


def read_doc(path: Path, data: bytes, progress=None) -> LoadedDoc:
    raise LoadError("old Word .doc format is not read: open it in Word or LibreOffice and save it as .docx")


def _title(text: str, path: Path) -> str:
    """The first line that reads as words (not OCR debris, not the national motto), else the file name."""
    from ingest.structure import readable

    for line in text.splitlines()[:40]:
        line = line.strip().lstrip("#").strip()
        if not line or len(line) >= 120 or _MOTTO.match(line):
            continue
        if readable(line) >= 0.8 or line.isascii() and len(line.split()) >= 2:
            return line
    return path.stem


_MOTTO = re.compile(r"^(?:cộng hòa xã hội chủ nghĩa việt nam|độc lập\W+tự do\W+hạnh phúc)", re.I)


def _decode_html(data: bytes) -> tuple[str, str]:
    """A page whose text is set in a TCVN3/VNI font (`<font face=".VnTime">`, `font-family: VNI-Times`) is
    converted whatever its byte encoding; other pages are decoded like text files."""
    enc, _ = legacy.font_encoding(_legacy_font(data.decode("latin-1")))
    if enc is None:
        return decode(data)
    try:
        markup = data.decode("utf-8")
    except UnicodeDecodeError:
        markup = legacy.read_cp1252(data)
    return legacy.convert(markup, enc), enc


def _html(markup: str) -> str:
    from ingest.webpage import PageError, page_text

    try:
        return page_text(markup)
    except PageError as e:
        raise LoadError(str(e)) from None


def _legacy_font(markup: str) -> str | None:
    import re

    m = re.search(r"(?:face\s*=\s*[\"']?|font-family\s*:\s*[\"']?)\s*(\.vn\w+|vni[-\w]*)", markup, re.I)
    return m.group(1) if m else None


def read_pdf_file(path: Path, data: bytes, progress=None) -> LoadedDoc:
    from ingest.pdf import PDFError, read_pdf

    try:
        r = read_pdf(data, progress)
    except PDFError as e:
        raise LoadError(str(e)) from None
    return LoadedDoc(path, r.text, _title(r.text, path), page_starts=r.page_starts, ocr_pages=r.ocr_pages,
                     warnings=r.warnings)


def read_image(path: Path, data: bytes, progress=None) -> LoadedDoc:
    """A scanned page (or a multi-page TIFF) read by OCR."""
    import io

    from PIL import Image, ImageSequence, UnidentifiedImageError

    from ingest import layout, ocr

    try:
        ocr.check()
    except ocr.OCRUnavailable as e:
        raise LoadError(f"an image is read by OCR, and {e}") from None
    try:
        img = Image.open(io.BytesIO(data))
        frames = [f.copy() for f in ImageSequence.Iterator(img)]
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise LoadError(f"corrupt or unreadable image ({type(e).__name__})") from None
    pages, heights = [], []
    for k, frame in enumerate(frames):
        if progress:
            progress(k, len(frames), f"OCR page {k + 1}")
        if min(frame.size) < 32:
            raise LoadError(f"image too small to hold text ({frame.size[0]}x{frame.size[1]} pixels)")
        pages.append(layout.reading_order(ocr.image_lines(frame), float(frame.width)))
        heights.append(float(frame.height))
    pages = layout.drop_running(pages, heights)
    text, starts = layout.join_pages([layout.paragraphs(p) for p in pages])
    return LoadedDoc(path, text, _title(text, path), page_starts=starts, ocr_pages=list(range(1, len(frames) + 1)))


def read_docx(path: Path, data: bytes, progress=None) -> LoadedDoc:
    """Paragraphs and tables in document order; Heading styles as `#` headings; legacy fonts converted."""
    import io
    import zipfile

    import docx

    try:
        check_zip(data)
    except ArchiveTooLarge as e:
        raise LoadError(f"refused DOCX: {e}") from None
    try:
        d = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        raise LoadError(f"corrupt DOCX ({type(e).__name__})") from None
    except Exception as e:  # python-docx raises several private error types for broken packages
        raise LoadError(f"corrupt DOCX ({type(e).__name__})") from None
    lines: list[str] = []
    title, encodings = "", set()
    for block in d.iter_inner_content():
        if isinstance(block, docx.table.Table):
            lines += table_lines(_docx_grid(block, encodings))
            continue
        t = _docx_text(block, encodings).strip()
        if not t:
            continue
        style = (block.style.name or "").lower() if block.style is not None else ""
        if style.startswith("heading"):
            level = int(style.split()[-1]) if style.split()[-1].isdigit() else 1
            lines.append("#" * level + " " + t)
        elif style == "title":
            title = title or t
            lines.append("# " + t)
        else:
            lines.append(t)
    text = "\n".join(lines)
    return LoadedDoc(path, text, title or _title(text, path), encoding=",".join(sorted(encodings)) or "utf-8")


def _docx_text(para, encodings: set) -> str:
    """A paragraph's text, runs typed in a TCVN3/VNI font converted."""
    style_font = para.style.font.name if para.style is not None else None
    parts = []
    for run in para.runs:
        enc, upper = legacy.font_encoding(run.font.name or style_font)
        if enc:
            encodings.add(enc)
            parts.append(legacy.convert(run.text, enc, upper))
        else:
            parts.append(run.text)
    return "".join(parts) if para.runs else para.text


def _docx_grid(table, encodings: set) -> list[list[str | None]]:
    """Cell texts row by row; a merged cell repeats over every position it covers (python-docx does that)."""
    grid = []
    for row in table.rows:
        grid.append(["\n".join(_docx_text(p, encodings) for p in cell.paragraphs) for cell in row.cells])
    return grid
