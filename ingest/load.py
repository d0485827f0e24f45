"""Read files into text: txt, md, html, pdf, docx; encodings detected; bad input named clearly."""
from __future__ import annotations

import codecs
import fnmatch
import os
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

SUPPORTED = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"}


class LoadError(Exception):
    """A file that cannot be read; the message says why, in words a user can act on."""


@dataclass
class LoadedDoc:
    path: Path
    text: str  # the document text all offsets refer to
    title: str
    page_starts: list[int] = field(default_factory=list)  # pdf: offset where each page begins
    encoding: str = "utf-8"


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


# Characters that are frequent in TCVN3 (ABC) and VNI text read as Windows-1252.
_TCVN3_MARKS = set("µ¸¶·¹¨»¾¼½Æ©ÇÊÈÉËª®¬¸ÌÎÏÑ×ÒÓÔÕÖØÜÙÚÛ")
_VNI_PAIRS = ("aø", "aù", "aû", "aõ", "aï", "eá", "eä", "oä", "oá", "öô", "ñ", "ieä", "öø")


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
    # Windows-1258 first: its tone marks are combining characters that always follow a vowel, while the
    # same bytes in TCVN3/VNI are letters found anywhere (read as cp1252 they look like TCVN3 marks)
    w1258 = data.decode("cp1258", errors="replace")
    marks = [i for i, c in enumerate(w1258) if unicodedata.combining(c)]
    if marks and w1258.count("\ufffd") <= len(w1258) * 0.01:
        after_vowel = sum(1 for i in marks if i > 0 and _base(w1258[i - 1]) in _VN_VOWELS)
        if after_vowel >= 0.95 * len(marks):
            return w1258, "windows-1258"
    latin = data.decode("cp1252", errors="replace")
    letters = sum(c.isalpha() for c in latin) or 1
    if sum(c in _TCVN3_MARKS for c in latin) / letters > 0.04:
        raise LoadError("legacy Vietnamese encoding TCVN3 (ABC) is not supported: convert the file to Unicode (UTF-8)")
    if sum(latin.count(p) for p in _VNI_PAIRS) / letters > 0.02:
        raise LoadError("legacy Vietnamese encoding VNI is not supported: convert the file to Unicode (UTF-8)")
    text = data.decode("cp1258", errors="replace")
    if text.count("\ufffd") > len(text) * 0.01:
        raise LoadError("unknown text encoding (not UTF-8, UTF-16 or Windows-1258)")
    return text, "windows-1258"


def load(path: Path, max_bytes: int = 25_000_000) -> LoadedDoc:
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise LoadError(f"unsupported file type '{ext or path.name}' (supported: {', '.join(sorted(SUPPORTED))})")
    data = read_bytes(path, max_bytes)
    if not data.strip():
        raise LoadError("empty file")
    if ext == ".pdf":
        doc = _pdf(path, data)
    elif ext == ".docx":
        doc = _docx(path, data)
    else:
        text, enc = decode(data)
        if ext in (".html", ".htm"):
            text = _html(text)
        doc = LoadedDoc(path, text, _title(text, path), encoding=enc)
    if not doc.text.strip():
        raise LoadError("no text found" + (" (a scanned PDF without a text layer?)" if ext == ".pdf" else ""))
    return doc


def _title(text: str, path: Path) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:120] if len(line) < 120 else path.stem
    return path.stem


def _html(markup: str) -> str:
    import trafilatura

    text = trafilatura.extract(markup, include_comments=False, include_tables=True, favor_recall=True)
    if text is None:
        from lxml import html as lh

        try:
            tree = lh.fromstring(markup)
        except Exception:
            raise LoadError("HTML could not be parsed") from None
        for bad in tree.xpath("//script|//style|//nav|//noscript"):
            bad.drop_tree()
        text = "\n".join(t.strip() for t in tree.itertext() if t.strip())
    return text


def _pdf(path: Path, data: bytes) -> LoadedDoc:
    import io
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise LoadError("encrypted PDF")
        pages = [(p.extract_text() or "").strip() for p in reader.pages]
    except LoadError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise LoadError(f"corrupt PDF ({type(e).__name__})") from None
    text, starts = "", []
    for p in pages:
        starts.append(len(text))
        text += p + "\n\n"
    return LoadedDoc(path, text, _title(text, path), page_starts=starts)


def _docx(path: Path, data: bytes) -> LoadedDoc:
    import io
    import zipfile

    import docx

    try:
        d = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        raise LoadError(f"corrupt DOCX ({type(e).__name__})") from None
    except Exception as e:  # python-docx raises several private error types for broken packages
        raise LoadError(f"corrupt DOCX ({type(e).__name__})") from None
    lines = []
    title = ""
    for para in d.paragraphs:
        t = para.text.strip()
        if not t:
            continue
        style = (para.style.name or "").lower() if para.style is not None else ""
        if style.startswith("heading"):
            level = int(style.split()[-1]) if style.split()[-1].isdigit() else 1
            lines.append("#" * level + " " + t)
        elif style == "title":
            title = title or t
            lines.append("# " + t)
        else:
            lines.append(t)
    text = "\n".join(lines)
    return LoadedDoc(path, text, title or _title(text, path))
