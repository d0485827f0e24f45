"""The Gradio web chat: ask, read cited answers, check the sources, manage documents and settings.

Screen code only: every question, upload and conversation goes to `rag.service.Service`, the one service every
door calls; serving the chat beside the HTTP API is `rag.doors.serve`'s.  The Gradio API endpoint `/ask` (see
docs/ui.md) returns the answer and its citations as JSON.
"""
from __future__ import annotations

from pathlib import Path

from rag.offline import go_offline

go_offline()

import gradio as gr  # noqa: E402

from rag.service import UPLOAD_FORMATS, NotFound, Service, StoreError  # noqa: E402
from rag.settings import SettingsError, choices  # noqa: E402
from rag.service.uploads import UploadError  # noqa: E402
from ui import render  # noqa: E402

LABELS = {"local": "Mô hình cục bộ (đi kèm)", "openai": "Máy chủ tương thích OpenAI (URL)",
          "none": "Không dùng (trích câu phù hợp nhất)", "ollama": "Ollama (máy chủ cục bộ)",
          "quote": "Trích nguyên văn câu nguồn mà mô hình chọn", "generated": "Lời của mô hình (đã kiểm chứng)",
          "hybrid": "Kết hợp (hybrid)", "dense": "Ngữ nghĩa (dense)", "bm25": "Từ khóa (BM25)"}


def _radio(setting: str) -> list[tuple[str, str]]:
    """A setting's allowed values (from rag.settings) with their Vietnamese labels."""
    return [(LABELS.get(v, v), v) for v in choices(setting)]
DOC_HEADERS = ["Tệp", "Tiêu đề", "Số đoạn", "Trạng thái", "Mã tài liệu"]

CSS = """
.hd-ref { font-weight: 600; text-decoration: none; color: var(--color-accent); cursor: help; }
.hd-refusal { color: #b45309; font-weight: 600; }
.hd-refusal-box { border: 1px solid #f59e0b; background: #fffbeb; color: #92400e; padding: 10px; border-radius: 8px; }
.hd-notice, .hd-sources, .hd-standalone { font-size: 0.85em; opacity: 0.8; }
.hd-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px; margin: 6px 0;
  background: var(--background-fill-secondary); }
.hd-card:target { outline: 2px solid var(--color-accent); }
.hd-card-head { font-size: 0.85em; margin-bottom: 4px; }
.hd-file { font-weight: 600; } .hd-score, .hd-page, .hd-heading { opacity: 0.75; }
.hd-passage { white-space: pre-wrap; font-size: 0.92em; }
.hd-passage mark.hd-hl { background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px; }
.hd-open { margin-top: 6px; font-size: 0.85em; cursor: pointer; border: 1px solid var(--border-color-primary);
  border-radius: 6px; padding: 2px 8px; background: var(--background-fill-primary); }
#hd-source-view { max-height: 460px; overflow: auto; }
.hd-doc { white-space: pre-wrap; font-family: inherit; font-size: 0.92em; margin: 0; }
.hd-doc mark.hd-span { background: #fde68a; color: inherit; outline: 2px solid #f59e0b; }
.hd-source-head { position: sticky; top: 0; background: var(--background-fill-primary); padding: 4px 0; }
.hd-empty { opacity: 0.7; font-size: 0.9em; }
"""

# Gradio's own widget texts: it ships no Vietnamese, so both locales get these (see docs/ui.md)
VI_UI = {
    "upload_text.click_to_upload": "Bấm để chọn tệp", "upload_text.drop_file": "Thả tệp vào đây",
    "common.or": "hoặc", "common.loading": "Đang tải", "common.clear": "Xóa", "common.remove": "Bỏ",
    "common.download": "Tải về", "common.error": "Lỗi", "common.settings": "Giao diện", "file.uploading": "Đang tải lên...",
    "errors.use_via_api": "Dùng qua API", "login.username": "tên đăng nhập", "login.password": "mật khẩu",
    "login.login": "Đăng nhập", "login.incorrect_credentials": "Sai tên đăng nhập hoặc mật khẩu",
}

# clicks on "open source" buttons inside the cards (event delegation survives re-renders)
CARDS_JS = ("element.addEventListener('click', (e) => { const b = e.target.closest('[data-open]');"
            " if (b) trigger('click', {key: b.dataset.open}); });")
# the source view scrolls the highlighted span into view whenever it changes
SOURCE_JS = ("watch('value', () => { const m = element.querySelector('#hd-span');"
             " if (m) m.scrollIntoView({block: 'center'}); });")


# -- the app ------------------------------------------------------------------------------------

def build_app(svc, llm: str | None = None) -> gr.Blocks:
    """The web chat over one Service (or Components); `llm` overrides the settings' generator."""
    svc = svc if isinstance(svc, Service) else Service(svc)
    comp = svc.comp
    if llm and llm != svc.settings.llm:
        comp.settings = svc.settings.with_changes(llm=llm)

    def collections() -> list[str]:
        names = svc.collection_names()
        cur = svc.settings.collection
        return names if cur in names else [cur, *names]


    # -- chat ---------------------------------------------------------------------------------
    def respond(question, chat, turns, collection, prefs):
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
            for piece in svc.ask_stream(question, collection=collection or None, history=turns,
                                        settings=svc.user_settings(prefs or {})):
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
        p = svc.shown(answer)
        turn = len(turns)
        turns.append(p)
        chat[-1] = {"role": "assistant", "content": render.answer_markdown(p, turn)}
        yield (chat, turns, "", render.cards_html(p, turn), render.related_html(p, turn),
               '<div class="hd-empty">Bấm «Mở tài liệu nguồn» trên một đoạn để xem toàn văn.</div>')

    def more_button(turns):
        left = len(turns[-1]["more"]) if turns and turns[-1].get("more") else 0
        return gr.update(visible=bool(left), value=f"Xem thêm {left} ý")

    def new_chat():
        return ([], [], "", render.cards_html(None, 0), render.related_html(None, 0), "")

    def show_turn(turns, evt: gr.SelectData):
        """Clicking an answer shows that turn's citations."""
        i = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        t = (i - 1) // 2 if isinstance(i, int) else -1
        if not turns or not (0 <= t < len(turns)):
            return gr.skip(), gr.skip()
        return render.cards_html(turns[t], t), render.related_html(turns[t], t)

    def open_source(turns, collection, evt: gr.EventData):
        try:
            turn, kind, n = str(evt.key).split(":")
            p = turns[int(turn)]
            c = next(c for c in p["citations" if kind == "cite" else "passages"] if c["n"] == int(n))
        except (AttributeError, ValueError, IndexError, StopIteration, KeyError, TypeError):
            return gr.skip()
        try:
            doc = svc.source_span(collection or None, c["doc_id"])["text"]
        except NotFound:
            doc = None
        return render.source_html(c["title"], c["source"], doc, c["start"], c["end"], c.get("page"))

    # -- stored conversations -----------------------------------------------------------------
    def owner(request: gr.Request | None) -> str:
        return (getattr(request, "username", None) or "") if request else ""

    def conv_choices(who: str, value: str = ""):
        convs = svc.conversations.list(who)
        return gr.update(choices=[(f"{c['title'] or '(chưa đặt tên)'} · {c['turns']} lượt", c["id"]) for c in convs],
                         value=value or None)

    def save_turns(turns, conv_id, collection, request: gr.Request):
        """Keep every answered turn of the chat in the data directory (a new conversation on the first)."""
        who = owner(request)
        if not turns:
            return conv_id, gr.skip()
        store = svc.conversations
        if not conv_id:
            conv_id = store.create(who, collection or svc.settings.collection)["id"]
        for p in turns[len(store.get(who, conv_id)["turns"]):]:
            store.add_turn(who, conv_id, p)
        return conv_id, conv_choices(who, conv_id)

    def load_conversation(conv_id, request: gr.Request):
        if not conv_id:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            conv = svc.conversations.get(owner(request), conv_id)
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

    def list_conversations(request: gr.Request):
        return conv_choices(owner(request))

    def rename_conversation(conv_id, title, request: gr.Request):
        if not conv_id:
            return gr.skip()
        try:
            svc.conversations.rename(owner(request), conv_id, title)
        except (NotFound, ValueError):
            return gr.skip()
        return conv_choices(owner(request), conv_id)

    def delete_conversation(conv_id, request: gr.Request):
        if conv_id:
            try:
                svc.conversations.delete(owner(request), conv_id)
            except NotFound:
                pass
        return (*new_chat(), "", conv_choices(owner(request)), "")

    def export_conversation(conv_id, fmt, request: gr.Request):
        if not conv_id:
            return None
        out = Path(svc.settings.home).resolve() / "exports" / f"hoidap-{conv_id}.{fmt}"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(svc.conversations.export(owner(request), conv_id, fmt), encoding="utf-8")
        return str(out)

    # -- documents ----------------------------------------------------------------------------
    def doc_rows(collection):
        docs = svc.documents(collection or None)
        rows = [[render.file_name(d["source"]), d["title"], d["chunks"], d["status"], d["doc_id"]] for d in docs]
        choices = [(f"{render.file_name(d['source'])} ({d['doc_id']})", d["doc_id"]) for d in docs]
        return rows, gr.update(choices=choices, value=None)

    def refresh_docs(collection, keep_choice: bool = False):
        # the page's first fill (keep_choice) leaves the chosen collection alone: on a slow server a choice made
        # meanwhile would be undone (its change event fills the documents again)
        rows, dd = doc_rows(collection)
        chosen = {} if keep_choice else {"value": collection}
        return rows, dd, gr.update(choices=collections(), **chosen)

    def progress_cb(progress):
        def cb(i, n, name):
            if n:
                progress((i, n), desc=f"Đang lập chỉ mục {name}" if name else "Xong", unit="tệp")
        return cb

    def upload(files, collection, progress=gr.Progress()):
        files = files or []
        if not files:
            return "Chưa chọn tệp nào.", *refresh_docs(collection)
        pairs = [(getattr(f, "name", None) or str(f), getattr(f, "orig_name", None) or Path(getattr(f, "name", None) or str(f)).name)
                 for f in files]
        try:
            stored, rejected = svc.store_uploads(pairs, collection or None)
        except ValueError as e:  # an invalid collection name
            return f"✗ {render.esc(e)}", *refresh_docs(collection)
        lines = [f"✗ {render.esc(r['name'])}: {render.esc(r['error'])}" for r in rejected]
        if stored:
            try:
                summary = svc.ingest_uploads(stored, collection or None, progress_cb(progress))
                lines += render.ingest_lines(summary)
                lines.append(f"\n{summary.chunks} đoạn được lập chỉ mục trong {summary.seconds:.1f} giây.")
            except UploadError as e:
                lines.append(f"✗ Không đọc được (tệp không được giữ lại): {render.esc(e)}")
            except StoreError as e:
                lines.append(f"✗ Không lập chỉ mục được: {render.esc(e)}")
        return "\n\n".join(lines), *refresh_docs(collection)

    def delete(doc_id, collection):
        if not doc_id:
            return "Chọn một tài liệu để xóa.", *refresh_docs(collection)
        try:
            d = svc.delete_document(collection or None, doc_id)
            msg = f"Đã xóa {render.file_name(d['source'])}."
        except NotFound:
            msg = "Không tìm thấy tài liệu."
        return msg, *refresh_docs(collection)

    def reindex(collection, progress=gr.Progress()):
        try:
            summary = svc.reindex(collection or None, progress_cb(progress))
        except NotFound:
            summary = None
        if summary is None:
            return "Bộ tài liệu trống.", *refresh_docs(collection)
        lines = render.ingest_lines(summary)
        lines.append(f"\nĐã lập chỉ mục lại: {len(summary.updated)} cập nhật, {len(summary.unchanged)} không đổi, "
                     f"{len(summary.failed)} lỗi.")
        return "\n\n".join(lines), *refresh_docs(collection)

    # -- settings -----------------------------------------------------------------------------
    def panel(st) -> tuple:
        """The settings panel's values (mode, top_k, style) for one user's settings."""
        return st.retriever, st.top_k, st.answer_style

    def load_settings(kept, request: gr.Request):
        """A user's own settings when the page opens: the login's, else this browser's."""
        prefs = svc.user_changes(owner(request), kept)
        return prefs, *panel(svc.user_settings(prefs))

    def save_settings(mode, top_k, style, request: gr.Request):
        """Validate and keep the settings for this user only (the login's data, else this browser)."""
        who = owner(request)
        try:
            prefs = svc.save_user_settings(who, retriever=mode, top_k=int(top_k), answer_style=style)
        except (SettingsError, ValueError, OSError) as e:
            return f"✗ Không lưu được: {render.esc(e)}", gr.skip(), gr.skip()
        where = f"cho tài khoản {render.esc(who)}" if who else "trong trình duyệt này"
        return f"✓ Đã lưu {where}: chỉ áp dụng cho bạn.", prefs, gr.skip() if who else prefs

    def api_ask(question: str, collection: str = "", history: list | None = None) -> dict:
        """Answer one question over the collection's documents: answer, refused, citations, passages."""
        pairs = [(h[0], h[1]) for h in (history or []) if isinstance(h, (list, tuple)) and len(h) >= 2]
        return svc.shown(svc.ask(question, collection=collection or None, history=pairs))

    def api_documents(collection: str = "") -> list:
        """The documents of a collection."""
        return svc.documents(collection or None)

    s = comp.settings
    with gr.Blocks(title="Hỏi đáp tài liệu", analytics_enabled=False) as app:
        turns = gr.State([])
        conv_id = gr.State("")
        prefs = gr.State({})  # this user's changes to the server's default settings
        kept = gr.BrowserState({}, storage_key="hoidap-settings")  # an anonymous browser's, across reloads
        with gr.Row():
            gr.Markdown("## Hỏi đáp trên tài liệu của bạn")
            coll_dd = gr.Dropdown(collections(), value=s.collection, label="Bộ tài liệu", allow_custom_value=True,
                                  elem_id="hd-collection", scale=0, min_width=220)
        with gr.Tabs():
            with gr.Tab("Hỏi đáp", id="chat"):
                with gr.Row():
                    with gr.Column(scale=3):
                        chat = gr.Chatbot(label="Cuộc trò chuyện", elem_id="hd-chat", height=460,
                                          placeholder="Đặt câu hỏi về tài liệu của bạn. Câu trả lời kèm nguồn [1].",
                                          feedback_options=None, buttons=["copy"])
                        with gr.Row():
                            box = gr.Textbox(placeholder="Nhập câu hỏi rồi nhấn Enter…", show_label=False,
                                             elem_id="hd-question", scale=5, autofocus=True)
                            send = gr.Button("Gửi", variant="primary", elem_id="hd-send", scale=1, min_width=80)
                        # shown when the last answer left items out ("… và N ý khác"): asks "thêm" for them
                        more = gr.Button("Xem thêm", elem_id="hd-more", size="sm", visible=False)
                        new = gr.Button("+ Cuộc trò chuyện mới", elem_id="hd-new", size="sm")
                        with gr.Accordion("Cuộc trò chuyện đã lưu", open=False, elem_id="hd-convs-acc"):
                            convs = gr.Dropdown([], label="Mở lại", elem_id="hd-convs")
                            with gr.Row():
                                conv_title = gr.Textbox(label="Tên", elem_id="hd-conv-title", scale=3)
                                conv_rename = gr.Button("Đổi tên", elem_id="hd-conv-rename", scale=1)
                                conv_delete = gr.Button("Xóa", variant="stop", elem_id="hd-conv-delete", scale=1)
                            with gr.Row():
                                conv_fmt = gr.Radio([("Markdown", "md"), ("JSON", "json")], value="md",
                                                    label="Xuất", elem_id="hd-conv-fmt")
                                conv_export = gr.Button("Xuất kèm trích dẫn", elem_id="hd-conv-export")
                            conv_file = gr.File(label="Tệp xuất", elem_id="hd-conv-file", interactive=False)
                    with gr.Column(scale=2):
                        cards = gr.HTML(render.cards_html(None, 0), elem_id="hd-cards", js_on_load=CARDS_JS)
                        with gr.Accordion("Các đoạn liên quan", open=False, elem_id="hd-related-acc"):
                            related = gr.HTML(render.related_html(None, 0), elem_id="hd-related",
                                              js_on_load=CARDS_JS)
                with gr.Accordion("Tài liệu nguồn", open=True, elem_id="hd-source-acc"):
                    source = gr.HTML("", elem_id="hd-source-view", js_on_load=SOURCE_JS)
            with gr.Tab("Tài liệu", id="docs"):
                files = gr.File(label="Tải tài liệu lên (txt, md, html, pdf, docx, ảnh png/jpg/tiff)",
                                file_count="multiple", file_types=sorted(UPLOAD_FORMATS), elem_id="hd-files")
                up_btn = gr.Button("Thêm vào bộ tài liệu", variant="primary", elem_id="hd-upload")
                up_status = gr.Markdown(elem_id="hd-upload-status")
                docs = gr.Dataframe(headers=DOC_HEADERS, label="Tài liệu trong bộ", interactive=False,
                                    elem_id="hd-docs", wrap=True)
                with gr.Row():
                    doc_dd = gr.Dropdown([], label="Chọn tài liệu", elem_id="hd-doc-pick", scale=3)
                    del_btn = gr.Button("Xóa tài liệu", variant="stop", elem_id="hd-delete", scale=1)
                    reidx_btn = gr.Button("Lập chỉ mục lại", elem_id="hd-reindex", scale=1)
                    refresh_btn = gr.Button("Làm mới", elem_id="hd-refresh", scale=1)
            with gr.Tab("Cài đặt", id="settings"):
                gr.Markdown("Các cài đặt này chỉ áp dụng cho bạn (tài khoản đăng nhập, hoặc trình duyệt này); "
                            "mặc định chung của máy chủ nằm trong tệp cài đặt `hoidap.toml`.", elem_id="hd-settings-note")
                mode = gr.Radio(_radio("retriever"), value=s.retriever, label="Chế độ tìm kiếm", elem_id="hd-mode")
                top_k = gr.Slider(1, 50, value=s.top_k, step=1, label="Số đoạn truy xuất (top_k)", elem_id="hd-topk")
                style = gr.Radio(_radio("answer_style"), value=s.answer_style, label="Kiểu câu trả lời", elem_id="hd-style")
                gr.Markdown(f"Bộ sinh câu trả lời: {LABELS.get(s.llm, s.llm)} (do người quản trị máy chủ chọn "
                            "trong `hoidap.toml`).", elem_id="hd-llm")
                save = gr.Button("Lưu cài đặt", variant="primary", elem_id="hd-save")
                save_status = gr.Markdown(elem_id="hd-save-status")

        priv = dict(api_visibility="private")
        outs = [chat, turns, box, cards, related, source]
        # one answer at a time: the local generator holds one model context
        one = dict(concurrency_limit=1, concurrency_id="answer", show_progress="hidden", **priv)
        keep = dict(fn=save_turns, inputs=[turns, conv_id, coll_dd], outputs=[conv_id, convs], **priv)
        ask_in = [box, chat, turns, coll_dd, prefs]
        more_left = dict(fn=more_button, inputs=[turns], outputs=[more], **priv)
        box.submit(respond, ask_in, outs, **one).then(**keep).then(**more_left)
        send.click(respond, ask_in, outs, **one).then(**keep).then(**more_left)
        more.click(lambda: "thêm", None, [box], **priv).then(
            respond, ask_in, outs, **one).then(**keep).then(**more_left)
        new.click(new_chat, None, outs, **priv).then(lambda: "", None, [conv_id], **priv).then(**more_left)
        chat.clear(new_chat, None, outs, **priv).then(lambda: "", None, [conv_id], **priv).then(**more_left)
        convs.input(load_conversation, [convs], [chat, turns, conv_id, cards, related, conv_title], **priv).then(
            **more_left)
        conv_rename.click(rename_conversation, [conv_id, conv_title], [convs], **priv)
        conv_delete.click(delete_conversation, [conv_id], [*outs, conv_id, convs, conv_title], **priv).then(
            **more_left)
        conv_export.click(export_conversation, [conv_id, conv_fmt], [conv_file], **priv)
        app.load(list_conversations, None, [convs], **priv)
        chat.select(show_turn, [turns], [cards, related], **priv)
        cards.click(open_source, [turns, coll_dd], [source], **priv)
        related.click(open_source, [turns, coll_dd], [source], **priv)

        doc_outs = [docs, doc_dd, coll_dd]
        up_btn.click(upload, [files, coll_dd], [up_status, *doc_outs], **priv).then(
            lambda: None, None, [files], **priv)
        del_btn.click(delete, [doc_dd, coll_dd], [up_status, *doc_outs], **priv)
        reidx_btn.click(reindex, [coll_dd], [up_status, *doc_outs], **priv)
        refresh_btn.click(refresh_docs, [coll_dd], doc_outs, **priv)
        coll_dd.change(lambda c: doc_rows(c), [coll_dd], [docs, doc_dd], **priv)
        app.load(lambda collection: refresh_docs(collection, keep_choice=True), [coll_dd], doc_outs, **priv)
        panel_io = [mode, top_k, style]
        save.click(save_settings, panel_io, [save_status, prefs, kept], **priv)
        app.load(load_settings, [kept], [prefs, *panel_io], **priv)

        gr.api(api_ask, api_name="ask", concurrency_limit=1, concurrency_id="answer")
        gr.api(api_documents, api_name="documents")
    app._deprecated_css = CSS  # Gradio 6 takes css in launch(); this keeps it for a plain app.launch()
    return app


def mount(api, blocks: gr.Blocks, login, upload_max_mb: float):
    """The chat mounted at / of the HTTP API's ASGI app (rag.doors.api), behind `login` (Gradio's form; None: none).
    Serving it (host policy, keys, the process) is rag.doors.serve's."""
    blocks.queue(default_concurrency_limit=2)
    return gr.mount_gradio_app(api, blocks, path="/", auth=login,
                               auth_message="Đăng nhập để dùng Hỏi đáp tài liệu" if login else None,
                               max_file_size=int(upload_max_mb * 1e6), show_error=True, css=CSS,
                               footer_links=["api", "settings"], i18n=gr.I18n(en=VI_UI, vi=VI_UI))
