"""The public evaluation sets and documents, read in place from one folder (setting `public_data`, default
`../shared/data`); nothing of them is copied into the project's tree. `hoidap eval xquad-vi` and the benchmarks
find a set by its name here; a missing one stops with one message naming the file and where to get it."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PublicSet:
    name: str
    path: str  # under public_data
    what: str
    source: str  # authors, licence, public address


PUBLIC_SETS = {s.name: s for s in (
    PublicSet("xquad-vi", "xquad-vi/xquad.vi.json",
              "XQuAD, Vietnamese (SQuAD v1.1 JSON, 48 Wikipedia articles, 1,190 questions)",
              "Artetxe, Ruder and Yogatama (ACL 2020), CC BY-SA 4.0, https://github.com/google-deepmind/xquad"),
    PublicSet("alqac", "alqac/ALQAC.csv",
              "ALQAC (530 legal questions over 304 articles of Vietnamese law)",
              "Automated Legal Question Answering Competition (KSE/JURISIN), as redistributed by the ViRE benchmark, "
              "https://github.com/longstnguyen/ViRE"),
    PublicSet("vimedaqa", "vimedaqa/ViMedAQA_v2.csv",
              "ViMedAQA v2 (1,000 medical questions, each with its passage)",
              "Tran et al. (ACL SRW 2024), as redistributed by the ViRE benchmark, https://github.com/longstnguyen/ViRE"),
    PublicSet("genuine", "genuine/docs",
              "published Vietnamese state documents (Công báo PDFs, signed scans, ministry DOCX, vbpl.vn pages)",
              "public repositories listed file by file in genuine/PROVENANCE.md; state documents are not objects "
              "of copyright (Luật Sở hữu trí tuệ, Điều 15)"),
)}


class PublicDataMissing(ValueError):
    pass


def public_root(settings=None) -> Path:
    if settings is None:
        from rag.settings import load_settings

        settings = load_settings()
    return Path(settings.public_data)


def public_path(name: str, settings=None) -> Path:
    """The path of a public set by name ('xquad-vi', 'alqac', 'vimedaqa', 'genuine'); raises one clear error
    naming the file and its public source when it is not there."""
    s = PUBLIC_SETS[name]
    path = public_root(settings) / s.path
    if not path.exists():
        raise PublicDataMissing(
            f"{path}: not found. It is {s.what}, from {s.source}. Put it there, or point the setting "
            f"public_data (HOIDAP_PUBLIC_DATA) at the folder that holds {s.path}")
    return path


def resolve_set(target: str, settings=None) -> Path:
    """A set file as given on the command line, or a public set's name."""
    p = Path(target)
    if p.exists() or target not in PUBLIC_SETS:
        return p
    return public_path(target, settings)


def squad_articles(squad_json: Path, dest_root: Path) -> Path:
    """A SQuAD file's articles as documents, one `Title.md` per article (the title as a heading, paragraphs in
    order, joined by blank lines), written once under dest_root for sets that name gold documents by file."""
    raw = squad_json.read_bytes()
    dest = dest_root / ("articles-" + hashlib.sha1(raw).hexdigest()[:12])
    if (dest / ".complete").exists():
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    for art in json.loads(raw.decode("utf-8"))["data"]:
        file_name = re.sub(r"[\W_]+", "-", art["title"]).strip("-") + ".md"  # Super_Bowl_50 -> Super-Bowl-50.md
        text = f"# {art['title'].replace('_', ' ')}\n\n" + "\n\n".join(p["context"] for p in art["paragraphs"]) + "\n"
        (dest / file_name).write_text(text, encoding="utf-8")
    (dest / ".complete").touch()
    return dest
