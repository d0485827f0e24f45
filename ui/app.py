"""The Gradio web chat: ask, read cited answers, check the sources, manage documents and settings.

Screen code only: every question, upload and conversation goes to `rag.service.Service`, the one service every
door calls; serving the chat beside the HTTP API is `rag.doors.serve`'s.  The Gradio API endpoint `/ask` (see
docs/ui.md) returns the answer and its citations as JSON.
"""
from __future__ import annotations

from rag.offline import go_offline

go_offline()

import gradio as gr  # noqa: E402

from rag.service import UPLOAD_FORMATS, Service  # noqa: E402
from rag.settings import choices  # noqa: E402
from ui import render  # noqa: E402
from ui.handlers import Handlers  # noqa: E402

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
    h = Handlers(svc)

    s = comp.settings
    with gr.Blocks(title="Hỏi đáp tài liệu", analytics_enabled=False) as app:
        turns = gr.State([])
        conv_id = gr.State("")
        prefs = gr.State({})  # this user's changes to the server's default settings
        kept = gr.BrowserState({}, storage_key="hoidap-settings")  # an anonymous browser's, across reloads
        with gr.Row():
            gr.Markdown("## Hỏi đáp trên tài liệu của bạn")
            coll_dd = gr.Dropdown(h.collections(), value=s.collection, label="Bộ tài liệu", allow_custom_value=True,
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
                mode = gr.Radio(_radio("retriever"), value=s.retriever, label="Chế độ tìm kiếm", elem_id="hd-mode",
                                interactive=False)
                top_k = gr.Slider(1, 50, value=s.top_k, step=1, label="Số đoạn truy xuất (top_k)", elem_id="hd-topk",
                                  interactive=False)
                style = gr.Radio(_radio("answer_style"), value=s.answer_style, label="Kiểu câu trả lời", elem_id="hd-style",
                                 interactive=False)
                gr.Markdown(f"Bộ sinh câu trả lời: {LABELS.get(s.llm, s.llm)} (do người quản trị máy chủ chọn "
                            "trong `hoidap.toml`).", elem_id="hd-llm")
                save = gr.Button("Lưu cài đặt", variant="primary", elem_id="hd-save", interactive=False)
                save_status = gr.Markdown(elem_id="hd-save-status")

        priv = dict(api_visibility="private")
        outs = [chat, turns, box, cards, related, source]
        # one answer at a time: the local generator holds one model context
        one = dict(concurrency_limit=1, concurrency_id="answer", show_progress="hidden", **priv)
        keep = dict(fn=h.save_turns, inputs=[turns, conv_id, coll_dd], outputs=[conv_id, convs], **priv)
        ask_in = [box, chat, turns, coll_dd, prefs]
        more_left = dict(fn=h.more_button, inputs=[turns], outputs=[more], **priv)
        box.submit(h.respond, ask_in, outs, **one).then(**keep).then(**more_left)
        send.click(h.respond, ask_in, outs, **one).then(**keep).then(**more_left)
        more.click(lambda: "thêm", None, [box], **priv).then(
            h.respond, ask_in, outs, **one).then(**keep).then(**more_left)
        new.click(h.new_chat, None, outs, **priv).then(lambda: "", None, [conv_id], **priv).then(**more_left)
        chat.clear(h.new_chat, None, outs, **priv).then(lambda: "", None, [conv_id], **priv).then(**more_left)
        convs.input(h.load_conversation, [convs], [chat, turns, conv_id, cards, related, conv_title], **priv).then(
            **more_left)
        conv_rename.click(h.rename_conversation, [conv_id, conv_title], [convs], **priv)
        conv_delete.click(h.delete_conversation, [conv_id], [*outs, conv_id, convs, conv_title], **priv).then(
            **more_left)
        conv_export.click(h.export_conversation, [conv_id, conv_fmt], [conv_file], **priv)
        app.load(h.list_conversations, None, [convs], **priv)
        chat.select(h.show_turn, [turns], [cards, related], **priv)
        cards.click(h.open_source, [turns, coll_dd], [source], **priv)
        related.click(h.open_source, [turns, coll_dd], [source], **priv)

        doc_outs = [docs, doc_dd, coll_dd]
        up_btn.click(h.upload, [files, coll_dd], [up_status, *doc_outs], **priv).then(
            lambda: None, None, [files], **priv)
        del_btn.click(h.delete, [doc_dd, coll_dd], [up_status, *doc_outs], **priv)
        reidx_btn.click(h.reindex, [coll_dd], [up_status, *doc_outs], **priv)
        refresh_btn.click(h.refresh_docs, [coll_dd], doc_outs, **priv)
        coll_dd.change(lambda c: h.doc_rows(c), [coll_dd], [docs, doc_dd], **priv)
        app.load(lambda collection: h.refresh_docs(collection, keep_choice=True), [coll_dd], doc_outs, **priv)
        panel_io = [mode, top_k, style]
        save.click(h.save_settings, panel_io, [save_status, prefs, kept], **priv)
        app.load(h.load_settings, [kept], [prefs, *panel_io, save], **priv)

        gr.api(h.api_ask, api_name="ask", concurrency_limit=1, concurrency_id="answer")
        gr.api(h.api_documents, api_name="documents")
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
