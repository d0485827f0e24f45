"""Evaluation set readers: SQuAD-style JSON, the ViRE CSV schema, and hoidap's own JSONL.

Every reader returns an `EvalSet`: questions (`Item`s) and, when the set carries them, the contexts the
questions were written from (`contexts`, keyed by a content hash: unique contexts = documents, as the
ViRE protocol does).  Rows that cannot be used are collected in `EvalSet.errors` with their line number
(for JSON: the line of the offending question object when it can be found, else its path) and skipped:
a bad row never stops a run.

JSONL schema (one object per line, blank lines and lines starting with `#` ignored):

    {"question": "…",                       # required
     "answers": ["…", …] | "answer": "…",   # optional gold answer text(s)
     "doc_ids": ["…", …],                   # optional gold documents: hoidap doc_id, source path or file name
     "passages": ["…", …],                  # optional gold passages (text a relevant chunk contains)
     "context": "…",                        # optional: the passage the question was written from
                                            #   (used as its gold document with --index-contexts)
     "answerable": false,                   # optional: the documents do not answer it (refusal expected)
     "type": "list",                        # optional question type (rag.question.TYPES, or "date" / "scope":
                                            #   when a document takes effect, what it regulates): scores per
                                            #   type; "answers" are then the units (sentences, clauses, items,
                                            #   key sentences) a full answer quotes
     "format": "scan-pdf",                  # optional label of the gold document's format: scores per format
     "verdict": "có" | "không" | "không rõ",  # optional, yes/no questions: the expected verdict
     "id": "…"}                             # optional question id (default: the line number)

or, for a conversation, `{"id": "…", "turns": [{"question": "…", "answers": […], "resolves_to": […], "kind": "…",
"answerable": …, "type": …}, …]}` (eval/conversations.py): the turns are asked in order, follow-ups resolved.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from ingest.normalize import normalize_text

FORMATS = ("squad", "vire", "jsonl")
QUESTION_TYPES = ("factoid", "yesno", "list", "procedure", "article", "definition", "summary", "comparison")
# set-only types: questions the answerer reads as one of its own types (so no type accuracy), scored apart
SET_TYPES = QUESTION_TYPES + ("date", "scope")
VERDICTS = ("có", "không", "không rõ")


@dataclass
class Item:
    qid: str
    question: str
    answers: list[str] = field(default_factory=list)
    context_key: str | None = None  # key into EvalSet.contexts: the question's own (gold) context
    answer_start: int | None = None  # SQuAD: offset of answers[0] inside the context
    gold_docs: list[str] = field(default_factory=list)  # JSONL: doc ids / sources / file names
    gold_passages: list[str] = field(default_factory=list)
    answerable: bool = True
    article: str | None = None  # SQuAD: article title (for --holdout-articles)
    line: int | None = None
    qtype: str | None = None  # JSONL "type": the question's type (rag.question.TYPES)
    verdict: str | None = None  # JSONL "verdict" of a yes/no question: có | không | không rõ
    doc_format: str | None = None  # JSONL "format": the gold document's format label (scores per format)


@dataclass
class RowError:
    line: int | str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class EvalSet:
    name: str
    path: str
    format: str
    items: list[Item]
    contexts: dict[str, str] = field(default_factory=dict)  # key -> context text
    errors: list[RowError] = field(default_factory=list)
    conversations: list[dict] = field(default_factory=list)  # JSONL rows with "turns"

    def contexts_hash(self, keys=None) -> str:
        h = hashlib.sha1()
        for k in sorted(keys if keys is not None else self.contexts):
            h.update(k.encode())
        return h.hexdigest()[:16]


def context_key(text: str) -> str:
    """Unique contexts = documents: the same passage written twice is one document."""
    norm = " ".join(normalize_text(text).split())
    return "c" + hashlib.sha1(norm.encode()).hexdigest()[:15]


def detect_format(path: Path) -> str:
    suf = path.suffix.lower()
    if suf == ".csv":
        return "vire"
    if suf in (".jsonl", ".ndjson"):
        return "jsonl"
    if suf == ".json":
        return "squad"
    raise ValueError(f"cannot tell the format of {path.name}: pass --format squad|vire|jsonl")


def load_set(path: Path | str, fmt: str | None = None) -> EvalSet:
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"evaluation set not found: {path}")
    fmt = fmt or detect_format(path)
    reader = {"squad": read_squad, "vire": read_vire, "jsonl": read_jsonl}.get(fmt)
    if reader is None:
        raise ValueError(f"unknown set format '{fmt}' (use {', '.join(FORMATS)})")
    return reader(path)


def _text(path: Path) -> str:
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path.name} is not UTF-8: {e}") from None


# -- SQuAD ---------------------------------------------------------------------------------------------
def read_squad(path: Path) -> EvalSet:
    raw = _text(path)
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path.name}: not valid JSON (line {e.lineno}: {e.msg})") from None
    es = EvalSet(path.stem, str(path), "squad", [])
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, list):
        raise ValueError(f"{path.name}: no 'data' list: not a SQuAD-style file")
    lines = _id_lines(raw)
    for ai, art in enumerate(data):
        title = str(art.get("title") or f"article-{ai}") if isinstance(art, dict) else f"article-{ai}"
        paras = art.get("paragraphs") if isinstance(art, dict) else None
        if not isinstance(paras, list):
            es.errors.append(RowError(f"data[{ai}]", "article without a 'paragraphs' list"))
            continue
        for pi, para in enumerate(paras):
            where = f"data[{ai}].paragraphs[{pi}]"
            ctx = para.get("context") if isinstance(para, dict) else None
            if not isinstance(ctx, str) or not ctx.strip():
                es.errors.append(RowError(where, "paragraph without a context"))
                continue
            key = context_key(ctx)
            es.contexts.setdefault(key, ctx)
            for qi, qa in enumerate(para.get("qas") or []):
                qwhere = f"{where}.qas[{qi}]"
                if not isinstance(qa, dict):
                    es.errors.append(RowError(qwhere, "question is not an object"))
                    continue
                qid = str(qa.get("id") or qwhere)
                line = lines.get(qid, qwhere)
                q = qa.get("question")
                if not isinstance(q, str) or not q.strip():
                    es.errors.append(RowError(line, f"question {qid}: empty question"))
                    continue
                answers, start = [], None
                impossible = bool(qa.get("is_impossible"))
                for a in qa.get("answers") or []:
                    if isinstance(a, dict) and isinstance(a.get("text"), str) and a["text"].strip():
                        answers.append(a["text"])
                        if start is None and isinstance(a.get("answer_start"), int):
                            start = a["answer_start"]
                if not answers and not impossible:
                    es.errors.append(RowError(line, f"question {qid}: no answer text"))
                    continue
                if start is not None and ctx[start:start + len(answers[0])] != answers[0]:
                    found = ctx.find(answers[0])
                    start = found if found >= 0 else None
                es.items.append(Item(qid, q.strip(), answers, key, start, answerable=not impossible,
                                     article=title, line=line if isinstance(line, int) else None))
    return es


def _id_lines(raw: str) -> dict[str, int]:
    """Line number of every `"id": "…"` in a JSON file: where a bad question is reported."""
    out: dict[str, int] = {}
    for n, line in enumerate(raw.splitlines(), 1):
        i = line.find('"id"')
        if i >= 0:
            rest = line[i + 4:].lstrip(" :\t")
            if rest.startswith('"'):
                out.setdefault(rest[1:].split('"', 1)[0], n)
    return out


# -- ViRE CSV --------------------------------------------------------------------------------------------
def read_vire(path: Path) -> EvalSet:
    """`question,context[,answer|extractive answer]` (any column order, extra columns kept out)."""
    es = EvalSet(path.stem, str(path), "vire", [])
    reader = csv.reader(io.StringIO(_text(path), newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ValueError(f"{path.name}: empty CSV") from None
    for need in ("question", "context"):
        if need not in header:
            raise ValueError(f"{path.name}: no '{need}' column (columns: {', '.join(header)})")
    col = {h: i for i, h in enumerate(header)}
    ans_col = next((col[c] for c in ("answer", "extractive answer", "extractive_answer") if c in col), None)
    id_col = next((col[c] for c in ("idx", "id", "qid") if c in col), None)
    start_line = 2
    for row in reader:
        line = start_line
        start_line = reader.line_num + 1
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            es.errors.append(RowError(line, f"{len(row)} fields, expected {len(header)}"))
            continue
        q, ctx = row[col["question"]].strip(), row[col["context"]]
        if not q:
            es.errors.append(RowError(line, "empty question"))
            continue
        if not ctx.strip():
            es.errors.append(RowError(line, "empty context"))
            continue
        key = context_key(ctx)
        es.contexts.setdefault(key, ctx)
        ans = row[ans_col].strip() if ans_col is not None else ""
        qid = row[id_col].strip() if id_col is not None and row[id_col].strip() else f"line-{line}"
        start = ctx.find(ans) if ans else -1
        es.items.append(Item(qid, q, [ans] if ans else [], key, start if start >= 0 else None, line=line))
    return es


# -- JSONL -----------------------------------------------------------------------------------------------
def _strings(v, name: str) -> list[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return [v] if v.strip() else []
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return [x for x in v if x.strip()]
    raise ValueError(f"'{name}' must be a string or a list of strings")


def read_jsonl(path: Path) -> EvalSet:
    es = EvalSet(path.stem, str(path), "jsonl", [])
    for n, line in enumerate(_text(path).splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        try:
            o = json.loads(s)
        except json.JSONDecodeError as e:
            es.errors.append(RowError(n, f"not valid JSON: {e.msg}"))
            continue
        if not isinstance(o, dict):
            es.errors.append(RowError(n, "not a JSON object"))
            continue
        if "turns" in o:
            conv, why = _conversation(o, n)
            if why:
                es.errors.append(RowError(n, why))
            else:
                es.conversations.append(conv)
            continue
        q = o.get("question")
        if not isinstance(q, str) or not q.strip():
            es.errors.append(RowError(n, "no 'question'"))
            continue
        try:
            answers = _strings(o.get("answers", o.get("answer")), "answers")
            docs = _strings(o.get("doc_ids", o.get("doc_id")), "doc_ids")
            passages = _strings(o.get("passages", o.get("passage")), "passages")
            ctx = o.get("context")
            if ctx is not None and not isinstance(ctx, str):
                raise ValueError("'context' must be a string")
            answerable = o.get("answerable", True)
            if not isinstance(answerable, bool):
                raise ValueError("'answerable' must be true or false")
            qtype, verdict = o.get("type"), o.get("verdict")
            if qtype is not None and qtype not in SET_TYPES:
                raise ValueError(f"'type' must be one of {', '.join(SET_TYPES)}")
            doc_format = o.get("format")
            if doc_format is not None and not isinstance(doc_format, str):
                raise ValueError("'format' must be a string")
            if verdict is not None and verdict not in VERDICTS:
                raise ValueError(f"'verdict' must be one of {', '.join(VERDICTS)}")
        except ValueError as e:
            es.errors.append(RowError(n, str(e)))
            continue
        key = None
        if ctx and ctx.strip():
            key = context_key(ctx)
            es.contexts.setdefault(key, ctx)
        start = None
        if key and answers:
            f = ctx.find(answers[0])
            start = f if f >= 0 else None
        es.items.append(Item(str(o.get("id") or f"line-{n}"), q.strip(), answers, key if answerable else None,
                             start, docs, passages, answerable, line=n, qtype=qtype, verdict=verdict,
                             doc_format=doc_format))
    return es


def _conversation(o: dict, n: int) -> tuple[dict, str]:
    """A conversation row: its turns, each with a question (the rest as in eval/conversations.py)."""
    turns = o["turns"]
    if not isinstance(turns, list) or not turns:
        return {}, "'turns' must be a non-empty list"
    for i, t in enumerate(turns, 1):
        if not isinstance(t, dict) or not isinstance(t.get("question"), str) or not t["question"].strip():
            return {}, f"turn {i}: no 'question'"
        try:
            t["answers"] = _strings(t.get("answers", t.get("answer")), "answers")
            t["resolves_to"] = _strings(t.get("resolves_to"), "resolves_to")
        except ValueError as e:
            return {}, f"turn {i}: {e}"
    return {"id": str(o.get("id") or f"line-{n}"), "turns": turns}, ""
