"""Upload safety: files land only inside the data directory, under a clean name, checked for size and type."""
from __future__ import annotations

import hashlib
import re
import shutil
import unicodedata
from pathlib import Path

from ingest.formats import SUPPORTED, accepted_list, sniff_matches


class UploadError(Exception):
    """A refused upload; the message is shown to the user (Vietnamese)."""


class UploadTooLarge(UploadError):
    """Over the size limit (upload_max_mb): HTTP 413."""


_BAD = re.compile(r"[^\w.\- ()]+")


def safe_name(name: str) -> str:
    """A file name with no directory part, no control or path characters, no leading dots."""
    name = unicodedata.normalize("NFC", str(name or "")).replace("\\", "/").split("/")[-1]
    name = _BAD.sub("_", name).strip(" .")
    name = re.sub(r"_+", "_", name)
    if not name or name in (".", ".."):
        raise UploadError("tên tệp không hợp lệ")
    stem, dot, ext = name.rpartition(".")
    if len(name) > 120:
        name = (stem[: 110] + "." + ext) if dot else name[:120]
    return name


def check_collection_name(name: str) -> str:
    """A collection name as given, refused when it names nothing ("", ".", "..", "-": no letter or digit)."""
    if not re.search(r"\w", name or "") or len(name) > 100:
        raise ValueError(f"invalid collection name '{name}': it needs a letter or digit (1 to 100 characters)")
    return name


_PLAIN = re.compile(r"\w[\w.-]*")


def collection_dir(home: Path, collection: str) -> Path:
    """The uploads folder of one collection: its own name when that is a plain folder name, else a slug and a
    hash of the exact name after '~' (a character no plain name has), so distinct names never share a folder."""
    name = check_collection_name(collection)
    if _PLAIN.fullmatch(name) and ".." not in name:
        folder = name
    else:
        slug = re.sub(r"[^\w.-]+", "-", name).strip("-.")[:60]
        folder = f"{slug}~{hashlib.sha1(name.encode()).hexdigest()[:10]}"
    return Path(home).resolve() / "uploads" / folder


def check_upload(original_name: str, size: int, max_mb: float) -> str:
    """The clean name of an acceptable upload (type and size: the limits of the chat and the API alike)."""
    name = safe_name(original_name)
    ext = Path(name).suffix.lower()
    if ext not in SUPPORTED:
        raise UploadError(f"loại tệp '{ext or name}' không được hỗ trợ (chỉ nhận {accepted_list()})")
    if size > max_mb * 1e6:
        raise UploadTooLarge(f"tệp quá lớn: {size / 1e6:.1f} MB > giới hạn {max_mb:g} MB (upload_max_mb)")
    if size == 0:
        raise UploadError("tệp rỗng")
    return name


def check_content(path: Path, ext: str) -> None:
    if not sniff_matches(path, ext):
        raise UploadError(f"nội dung không khớp với đuôi tệp {ext}")


def store_upload(src: str | Path, original_name: str, dest_dir: Path, max_mb: float) -> Path:
    """Copy one uploaded file into dest_dir (inside the data directory); raise UploadError if refused."""
    src = Path(src)
    name = check_upload(original_name, src.stat().st_size, max_mb)
    ext = Path(name).suffix.lower()
    check_content(src, ext)
    dest_dir = Path(dest_dir).resolve()
    dest = (dest_dir / name).resolve()
    if dest.parent != dest_dir:  # belt and braces: safe_name already removed every path part
        raise UploadError("tên tệp không hợp lệ")
    dest_dir.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name("." + dest.name + ".part")
    shutil.copyfile(src, tmp)
    tmp.replace(dest)
    return dest
