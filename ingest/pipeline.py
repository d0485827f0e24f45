"""The ingest flow for a set of paths: load -> normalize -> chunk -> embed -> store, incrementally."""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ingest import lexical
from ingest.chunk import Chunk, chunk_document, chunk_sentences
from ingest.embed import Embedder
from ingest.load import LoadError, find_files, load, read_bytes
from ingest.normalize import normalize
from ingest.store import Collection, StoreError, doc_id_for
from ingest.structure import combined_terms, header, label_terms, number_terms
from ingest.telemetry import INGEST_CHUNKS, INGEST_FILES, span

# what a chunk row holds changed (2: legal labels, document-number terms; 3: law pages read by their body,
# header-block numbers and titles, footnotes and signature blocks apart, scan tables); eval caches key on it
INDEX_VERSION = 3
EMBED_BATCH = 64  # chunks embedded per call: one call to the model, then one write per document


@dataclass
class Summary:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)  # indexed, with something left out (e.g. no OCR)
    chunks: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged, "failed": self.failed,
                "pruned": self.pruned, "warnings": self.warnings, "chunks": self.chunks, "seconds": round(self.seconds, 2)}


@dataclass
class _Prepared:
    doc_id: str
    source: str
    title: str
    sha: str
    size: int
    text: str
    chunks: list[Chunk]
    existed: bool
    meta: dict = field(default_factory=dict)


def embed_text(c: Chunk) -> str:
    """What the embedder sees: the heading path gives a chunk its context."""
    return f"{c.heading}\n{c.text}" if c.heading and not c.text.startswith(c.heading) else c.text


def sentence_spans(original: str, c: Chunk) -> list[tuple[int, tuple[int, int]]]:
    """Each sentence of a chunk as the answer quotes it: (its start in the document, its span in the text
    the embedder reads), for late chunking."""
    et = embed_text(c)
    base = len(et) - len(c.text)  # the heading line before the chunk's text
    out, cur = [], 0
    own = original[c.start:c.end]
    text = normalize(own).text  # the same as c.text but where normalizing a slice differs from the whole
    for oa, _, a, b in chunk_sentences(own):
        norm = text[a:b]
        at = a if c.text.startswith(norm, a) else c.text.find(norm, cur)
        if norm and at >= 0:
            cur = at + len(norm)
            out.append((c.start + oa, (base + at, base + cur)))
        else:
            out.append((c.start + oa, (0, 0)))  # not found: the chunk's own vector stands for it
    return out


def embed_chunks(embedder: Embedder, chunks: list[tuple[str, Chunk]]):
    """(document text, chunk) pairs -> the chunks' vectors and, per chunk, its sentences' (document offset,
    vector), or None when the embedder gives no sentence vectors."""
    texts = [embed_text(c) for _, c in chunks]
    if not hasattr(embedder, "embed_with_sentences"):
        return embedder.embed_passages(texts), None
    sents = [sentence_spans(text, c) for text, c in chunks]
    vecs, svecs = embedder.embed_with_sentences(texts, [[s[1] for s in ss] for ss in sents])
    if svecs is None:
        return vecs, None
    return vecs, [[(s[0], v) for s, v in zip(ss, vs)] for ss, vs in zip(sents, svecs)]


def lexical_terms(c: Chunk, meta: dict) -> tuple:
    """A chunk's BM25 terms: its text, the articles it holds, its document's number (so "nghị định
    100/2019 ... " finds every chunk of that decree)."""
    articles = list(dict.fromkeys(t for _, label in c.marks for t in label_terms(label)))
    numbers = number_terms(meta["number"], meta.get("doc_type", "")) if meta.get("number") else []
    # "Điều 1 of decree 100/2019" as one term: the article of the document a question names, not another's
    return lexical.encode(embed_text(c), articles + numbers + combined_terms(numbers, articles))


def document_title(doc) -> str:
    """The title of the header block (title lines), else the loader's first readable line or file name."""
    return header(doc.text).title or doc.title


def document_meta(doc) -> dict:
    h = header(doc.text)
    meta = {"number": h.number, "number_confidence": round(h.number_confidence, 2), "doc_type": h.doc_type,
            "title_confidence": round(h.title_confidence, 2), "encoding": doc.encoding, "index_version": INDEX_VERSION}
    if doc.page_starts:
        meta["page_starts"] = doc.page_starts
    if doc.ocr_pages:
        meta["ocr_pages"] = doc.ocr_pages
    return meta


def read_document(path: Path, max_bytes: int, count_tokens, chunk_tokens: int, overlap: int, page_progress=None):
    """One file's document and chunks (LoadError when it has none)."""
    doc = load(path, max_bytes, page_progress)
    norm = normalize(doc.text)
    chunks = chunk_document(norm, count_tokens, chunk_tokens, overlap, doc.page_starts or None)
    if not chunks:
        raise LoadError("no text found")
    return doc, chunks


def files_to_ingest(paths: list[Path], coll: Collection, include, exclude, s: Summary) -> tuple[list[Path], set[str]]:
    """The files under `paths` (a missing path is a failure in `s`), with every document an interrupted run
    left `pending` (even when its file was not named this time: nothing indexed is left out of search); and
    the pending doc ids."""
    for p in paths:
        if not p.exists():
            s.failed.append({"path": str(p), "error": "not found"})
    files = find_files([p for p in paths if p.exists() or p.is_symlink()], include, exclude)
    pending = set(coll.pending_documents())
    if pending:
        named = {str(f.resolve()) if f.exists() else str(f.absolute()) for f in files}
        for d in coll.documents():
            if d["doc_id"] in pending and d["source"] not in named and Path(d["source"]).is_file():
                files.append(Path(d["source"]))
    return files, pending


def store_document(coll: Collection, d: _Prepared, vecs, lex, svecs, s: Summary) -> None:
    """Write one prepared document (the crash-safe order of ingest.store); a StoreError stops the run."""
    n = len(d.chunks)
    try:
        with span("ingest.store", file=d.source, chunks=n):
            coll.replace_document(d.doc_id, d.source, d.title, d.sha, d.size, d.text, d.chunks, vecs, lex, d.meta,
                                  frozenset(d.meta.get("ocr_pages", ())), svecs)
    except StoreError as e:
        done = len(s.added) + len(s.updated)
        # the store is unusable (e.g. the Chroma server went away): stop with its message
        raise StoreError(f"{e} (ingest stopped; {done} document(s) stored before this are kept; "
                         f"run the same command again to finish)") from None
    (s.updated if d.existed else s.added).append(d.source)
    INGEST_FILES.labels("updated" if d.existed else "added").inc()
    INGEST_CHUNKS.inc(n)
    s.chunks += n


def finish(coll: Collection, s: Summary, prune: bool, t0: float) -> Summary:
    if prune:
        for d in coll.documents():
            if not Path(d["source"]).exists():
                coll.delete_document(d["doc_id"])
                s.pruned.append(d["source"])
    if s.added or s.updated or s.pruned:
        coll.save_lexical()
    s.seconds = time.time() - t0
    return s


def ingest_paths(paths: list[Path], coll: Collection, embedder: Embedder, *, chunk_tokens: int = 160,
                 overlap: int = 1, max_bytes: int = 25_000_000, include=None, exclude=None, prune: bool = False,
                 progress: Callable[[int, int, str], None] | None = None,
                 page_progress: Callable[[int, int, str], None] | None = None) -> Summary:
    """`progress(done, total, name)` per file; `page_progress(done, total, what)` per page of a long
    PDF and per page read by OCR."""
    t0 = time.time()
    s = Summary()
    files, pending = files_to_ingest(paths, coll, include, exclude, s)
    buf: list[_Prepared] = []

    def flush():
        if not buf:
            return
        try:
            with span("ingest.embed", chunks=sum(len(d.chunks) for d in buf)):
                vecs, svecs = embed_chunks(embedder, [(d.text, c) for d in buf for c in d.chunks])
        except Exception as e:  # a model failure: name it per file, keep what is indexed
            for d in buf:
                INGEST_FILES.labels("failed").inc()
                s.failed.append({"path": d.source, "error": f"embedding failed: {type(e).__name__}: {e}"[:300]})
            buf.clear()
            return
        i = 0
        try:
            for d in buf:
                n = len(d.chunks)
                store_document(coll, d, vecs[i:i + n], [lexical_terms(c, d.meta) for c in d.chunks],
                               svecs[i:i + n] if svecs is not None else None, s)
                i += n
        finally:
            buf.clear()

    for k, path in enumerate(files):
        source = str(path.resolve()) if path.exists() else str(path.absolute())
        if progress:
            progress(k, len(files), path.name)
        doc_id = doc_id_for(source)
        try:
            with span("ingest.file", file=source):  # read, load (OCR), normalize, chunk; embed and store follow
                data = read_bytes(path, max_bytes)
                sha = hashlib.sha256(data).hexdigest()
                state = coll.doc_state(doc_id)
                if state == (sha, "ok") and doc_id not in pending and coll.index_version(doc_id) >= INDEX_VERSION:
                    s.unchanged.append(source)
                    continue
                doc, chunks = read_document(path, max_bytes, embedder.count_tokens, chunk_tokens, overlap,
                                            page_progress)
                s.warnings += [{"path": source, "warning": w} for w in doc.warnings]
        except LoadError as e:
            INGEST_FILES.labels("failed").inc()
            s.failed.append({"path": source, "error": str(e)})
            continue
        except StoreError:
            raise
        except Exception as e:  # a parser bug on odd input must not stop the whole run
            INGEST_FILES.labels("failed").inc()
            s.failed.append({"path": source, "error": f"cannot read: {type(e).__name__}: {e}"[:300]})
            continue
        buf.append(_Prepared(doc_id, source, document_title(doc), sha, len(data), doc.text, chunks, state is not None,
                             document_meta(doc)))
        if sum(len(d.chunks) for d in buf) >= EMBED_BATCH:
            flush()
    flush()
    if progress:
        progress(len(files), len(files), "")
    return finish(coll, s, prune, t0)


def add_sentence_vectors(coll: Collection, embedder: Embedder,
                         progress: Callable[[int, int], None] | None = None) -> int:
    """Give the chunks of an older collection their sentence vectors, from the stored chunks (no file is read
    again, no chunk vector changes).  Written a batch at a time: an interrupted run keeps what it wrote and
    the next one goes on from there.  Returns the number of chunks done."""
    if not hasattr(embedder, "embed_with_sentences"):
        return 0
    todo = coll.chunks_without_sentences()
    for k in range(0, len(todo), EMBED_BATCH):
        if progress:
            progress(k, len(todo))
        rows = list(coll.chunks(todo[k:k + EMBED_BATCH]).values())
        texts = {d: coll.document_text(d) or "" for d in {r.doc_id for r in rows}}
        _, svecs = embed_chunks(embedder, [(texts[r.doc_id], r) for r in rows])
        if svecs is None:
            return k
        coll.add_sentence_vectors([(r.chunk_id, sv) for r, sv in zip(rows, svecs)])
    if progress:
        progress(len(todo), len(todo))
    return len(todo)
