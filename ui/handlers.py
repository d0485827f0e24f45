"""What each action of the web chat does, over the one Service: the screen's event handlers (ui.app lays the
screen out and wires its events to these)."""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from rag.service import NotFound, Service, StoreError
from rag.service.uploads import UploadError
from rag.settings import SettingsError
from ui import render


class Handlers:
    """The chat, its stored conversations, the documents panel and the per-user settings panel."""

    def __init__(self, svc: Service):
        self.svc = svc

    def collections(self) -> list[str]:
        names = self.svc.collection_names()
        cur = self.svc.settings.collection
        return names if cur in names else [cur, *names]

    # -- chat ---------------------------------------------------------------------------------
    def respond(self, question, chat, turns, collection, prefs):
        question = (question or "").strip()
        chat, turns = list(chat or []), list(turns or [])
        if not question:
            yield chat, turns, gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        chat += [{"role": "user", "content": render.esc(question)},
                 {"role": "assistant", "content": "Đang tìm trong tài liệu…"}]
        yield chat, turns, "", gr.skip(), gr.skip(), gr.skip()
        text, answer = "", None
        try:
            for piece in self.svc.ask_stream(question, collection=collection or None, history=turns,
                                             settings=self.svc.user_settings(prefs or {})):
                if isinstance(piece, str):
                    text += piece
                    chat[-1] = {"role": "assistant", "content": render.esc(text) + " ▌"}
                    yield chat, turns, gr.skip(), gr.skip(), gr.skip(), gr.skip()
                else:
                    answer = piece
        except Exception as e:  # shown in the chat, never a stack trace
            chat[-1] = {"role": "assistant", "content": f"Lỗi: {render.esc(e)}"}
            yield chat, turns, gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        p = self.svc.shown(answer)
        turn = len(turns)
        turns.append(p)
        chat[-1] = {"role": "assistant", "content": render.answer_markdown(p, turn)}
        yield (chat, turns, "", render.cards_html(p, turn), render.related_html(p, turn),
               '<div class="hd-empty">Bấm «Mở tài liệu nguồn» trên một đoạn để xem toàn văn.</div>')

    def more_button(self, turns):
        left = len(turns[-1]["more"]) if turns and turns[-1].get("more") else 0
        return gr.update(visible=bool(left), value=f"Xem thêm {left} ý")

    def new_chat(self):
        return ([], [], "", render.cards_html(None, 0), render.related_html(None, 0), "")

    def show_turn(self, turns, evt: gr.SelectData):
        """Clicking an answer shows that turn's citations."""
        i = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        t = (i - 1) // 2 if isinstance(i, int) else -1
        if not turns or not (0 <= t < len(turns)):
            return gr.skip(), gr.skip()
        return render.cards_html(turns[t], t), render.related_html(turns[t], t)

    def open_source(self, turns, collection, evt: gr.EventData):
        try:
            turn, kind, n = str(evt.key).split(":")
            p = turns[int(turn)]
            c = next(c for c in p["citations" if kind == "cite" else "passages"] if c["n"] == int(n))
        except (AttributeError, ValueError, IndexError, StopIteration, KeyError, TypeError):
            return gr.skip()
        try:
            doc = self.svc.source_span(collection or None, c["doc_id"])["text"]
        except NotFound:
            doc = None
        return render.source_html(c["title"], c["source"], doc, c["start"], c["end"], c.get("page"))

    # -- stored conversations -----------------------------------------------------------------
    def owner(self, request: gr.Request | None) -> str:
        return (getattr(request, "username", None) or "") if request else ""

    def conv_choices(self, who: str, value: str = ""):
        convs = self.svc.conversations.list(who)
        return gr.update(choices=[(f"{c['title'] or '(chưa đặt tên)'} · {c['turns']} lượt", c["id"]) for c in convs],
                         value=value or None)

    def save_turns(self, turns, conv_id, collection, request: gr.Request):
        """Keep every answered turn of the chat in the data directory (a new conversation on the first)."""
        who = self.owner(request)
        if not turns:
            return conv_id, gr.skip()
        store = self.svc.conversations
        if not conv_id:
            conv_id = store.create(who, collection or self.svc.settings.collection)["id"]
        for p in turns[len(store.get(who, conv_id)["turns"]):]:
            store.add_turn(who, conv_id, p)
        return conv_id, self.conv_choices(who, conv_id)

    def load_conversation(self, conv_id, request: gr.Request):
        if not conv_id:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            conv = self.svc.conversations.get(self.owner(request), conv_id)
        except NotFound:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        turns = conv["turns"]
        chat = []
        for i, p in enumerate(turns):
            chat += [{"role": "user", "content": render.esc(p["question"])},
                     {"role": "assistant", "content": render.answer_markdown(p, i)}]
        last = len(turns) - 1
        return (chat, turns, conv_id, render.cards_html(turns[-1] if turns else None, last),
                render.related_html(turns[-1] if turns else None, last), conv["title"])

    def list_conversations(self, request: gr.Request):
        return self.conv_choices(self.owner(request))

    def rename_conversation(self, conv_id, title, request: gr.Request):
        if not conv_id:
            return gr.skip()
        try:
            self.svc.conversations.rename(self.owner(request), conv_id, title)
        except (NotFound, ValueError):
            return gr.skip()
        return self.conv_choices(self.owner(request), conv_id)

    def delete_conversation(self, conv_id, request: gr.Request):
        if conv_id:
            try:
                self.svc.conversations.delete(self.owner(request), conv_id)
            except NotFound:
                pass
        return (*self.new_chat(), "", self.conv_choices(self.owner(request)), "")

    def export_conversation(self, conv_id, fmt, request: gr.Request):
        if not conv_id:
            return None
        out = Path(self.svc.settings.home).resolve() / "exports" / f"hoidap-{conv_id}.{fmt}"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(self.svc.conversations.export(self.owner(request), conv_id, fmt), encoding="utf-8")
        return str(out)

    # -- documents ----------------------------------------------------------------------------
    def doc_rows(self, collection):
        docs = self.svc.documents(collection or None)
        rows = [[render.file_name(d["source"]), d["title"], d["chunks"], d["status"], d["doc_id"]] for d in docs]
        choices = [(f"{render.file_name(d['source'])} ({d['doc_id']})", d["doc_id"]) for d in docs]
        return rows, gr.update(choices=choices, value=None)

    def refresh_docs(self, collection, keep_choice: bool = False):
        # the page's first fill (keep_choice) leaves the chosen collection alone: on a slow server a choice made
        # meanwhile would be undone (its change event fills the documents again)
        rows, dd = self.doc_rows(collection)
        chosen = {} if keep_choice else {"value": collection}
        return rows, dd, gr.update(choices=self.collections(), **chosen)

    def progress_cb(self, progress):
        def cb(i, n, name):
            if n:
                progress((i, n), desc=f"Đang lập chỉ mục {name}" if name else "Xong", unit="tệp")
        return cb

    def upload(self, files, collection, progress=gr.Progress()):
        files = files or []
        if not files:
            return "Chưa chọn tệp nào.", *self.refresh_docs(collection)
        pairs = [(getattr(f, "name", None) or str(f), getattr(f, "orig_name", None) or Path(getattr(f, "name", None) or str(f)).name)
                 for f in files]
        try:
            stored, rejected = self.svc.store_uploads(pairs, collection or None)
        except ValueError as e:  # an invalid collection name
            return f"✗ {render.esc(e)}", *self.refresh_docs(collection)
        lines = [f"✗ {render.esc(r['name'])}: {render.esc(r['error'])}" for r in rejected]
        if stored:
            try:
                summary = self.svc.ingest_uploads(stored, collection or None, self.progress_cb(progress))
                lines += render.ingest_lines(summary)
                lines.append(f"\n{summary.chunks} đoạn được lập chỉ mục trong {summary.seconds:.1f} giây.")
            except UploadError as e:
                lines.append(f"✗ Không đọc được (tệp không được giữ lại): {render.esc(e)}")
            except StoreError as e:
                lines.append(f"✗ Không lập chỉ mục được: {render.esc(e)}")
        return "\n\n".join(lines), *self.refresh_docs(collection)

    def delete(self, doc_id, collection):
        if not doc_id:
            return "Chọn một tài liệu để xóa.", *self.refresh_docs(collection)
        try:
            d = self.svc.delete_document(collection or None, doc_id)
            msg = f"Đã xóa {render.file_name(d['source'])}."
        except NotFound:
            msg = "Không tìm thấy tài liệu."
        return msg, *self.refresh_docs(collection)

    def reindex(self, collection, progress=gr.Progress()):
        try:
            summary = self.svc.reindex(collection or None, self.progress_cb(progress))
        except NotFound:
            summary = None
        if summary is None:
            return "Bộ tài liệu trống.", *self.refresh_docs(collection)
        lines = render.ingest_lines(summary)
        lines.append(f"\nĐã lập chỉ mục lại: {len(summary.updated)} cập nhật, {len(summary.unchanged)} không đổi, "
                     f"{len(summary.failed)} lỗi.")
        return "\n\n".join(lines), *self.refresh_docs(collection)

    # -- settings -----------------------------------------------------------------------------
    def load_settings(self, kept, request: gr.Request):
        """A user's own settings when the page opens: the login's, else this browser's. The panel (mode, top_k,
        style, save) opens locked and is unlocked here, so nothing the user changes is overwritten by this load."""
        prefs = self.svc.user_changes(self.owner(request), kept)
        st = self.svc.user_settings(prefs)
        return (prefs, *(gr.update(value=v, interactive=True) for v in (st.retriever, st.top_k, st.answer_style)),
                gr.update(interactive=True))

    def save_settings(self, mode, top_k, style, request: gr.Request):
        """Validate and keep the settings for this user only (the login's data, else this browser)."""
        who = self.owner(request)
        try:
            prefs = self.svc.save_user_settings(who, retriever=mode, top_k=int(top_k), answer_style=style)
        except (SettingsError, ValueError, OSError) as e:
            return f"✗ Không lưu được: {render.esc(e)}", gr.skip(), gr.skip()
        where = f"cho tài khoản {render.esc(who)}" if who else "trong trình duyệt này"
        return f"✓ Đã lưu {where}: chỉ áp dụng cho bạn.", prefs, gr.skip() if who else prefs

    def api_ask(self, question: str, collection: str = "", history: list | None = None) -> dict:
        """Answer one question over the collection's documents: answer, refused, citations, passages."""
        pairs = [(h[0], h[1]) for h in (history or []) if isinstance(h, (list, tuple)) and len(h) >= 2]
        return self.svc.shown(self.svc.ask(question, collection=collection or None, history=pairs))

    def api_documents(self, collection: str = "") -> list:
        """The documents of a collection."""
        return self.svc.documents(collection or None)
