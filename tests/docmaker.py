"""Real-looking Vietnamese official documents written as real files: a regulation PDF whose sentences wrap
across lines and pages (running header, page numbers), a scanned PDF (pages rendered to images), DOCX and
HTML reports with tables (merged header cells, a total row), TCVN3 and VNI text.

Used by the tests and by examples/make_official_docs.py (the demo corpus). All text here is written by the
project; the organisations and numbers are fictional.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"

HEADER_LEFT = ["TRƯỜNG ĐẠI HỌC KỸ THUẬT MIỀN TRUNG", "Số: 1024/QĐ-ĐHKT"]
REGULATION_TITLE = "QUY CHẾ ĐÀO TẠO VÀ AN TOÀN PHÒNG THÍ NGHIỆM"
WRAPPED_SENTENCE = ("Nếu có sự cố xảy ra trong phòng thí nghiệm, sinh viên phải báo cáo ngay cho cán bộ hướng dẫn "
                    "và trưởng phòng thí nghiệm trong vòng 24 giờ kể từ khi phát hiện sự cố.")

# (kind, text): kind "center" (centered line), "heading", "para"
REGULATION: list[tuple[str, str]] = [
    ("center", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
    ("center", "Độc lập - Tự do - Hạnh phúc"),
    ("para", "TRƯỜNG ĐẠI HỌC KỸ THUẬT MIỀN TRUNG"),
    ("para", "Số: 1024/QĐ-ĐHKT"),
    ("center", "QUYẾT ĐỊNH"),
    ("center", "Ban hành " + REGULATION_TITLE.lower().replace("quy chế", "Quy chế", 1)),
    ("center", "Chương I"),
    ("center", "QUY ĐỊNH CHUNG"),
    ("heading", "Điều 1. Phạm vi điều chỉnh và đối tượng áp dụng"),
    ("para", "1. Quy chế này quy định về tổ chức đào tạo trình độ đại học theo hệ thống tín chỉ và về an toàn "
             "khi học tập, thực hành trong các phòng thí nghiệm của Trường Đại học Kỹ thuật Miền Trung."),
    ("para", "2. Quy chế này áp dụng đối với sinh viên chính quy, sinh viên vừa làm vừa học, giảng viên và cán bộ "
             "quản lý phòng thí nghiệm của Trường."),
    ("heading", "Điều 2. Giải thích từ ngữ"),
    ("para", "Trong Quy chế này, tín chỉ là đơn vị dùng để đo khối lượng học tập của sinh viên, một tín chỉ "
             "tương đương 15 tiết học lý thuyết hoặc 30 tiết thực hành, thí nghiệm."),
    ("center", "Chương II"),
    ("center", "TỔ CHỨC ĐÀO TẠO"),
    ("heading", "Điều 3. Đăng ký học phần"),
    ("para", "1. Đầu mỗi học kỳ, sinh viên phải đăng ký học phần trên hệ thống đào tạo trực tuyến trong thời hạn "
             "do Phòng Đào tạo thông báo."),
    ("para", "2. Khối lượng học tập tối thiểu mà mỗi sinh viên phải đăng ký trong một học kỳ chính là 14 tín "
             "chỉ, trừ học kỳ cuối khóa học."),
    ("para", "3. Khối lượng học tập tối đa mà mỗi sinh viên được đăng ký trong một học kỳ chính là 25 tín chỉ; "
             "sinh viên xếp loại học lực giỏi được đăng ký tối đa 30 tín chỉ."),
    ("heading", "Điều 4. Điều kiện dự thi kết thúc học phần"),
    ("para", "Sinh viên được dự thi kết thúc học phần khi tham dự ít nhất 80% số tiết lên lớp và hoàn thành các "
             "bài thí nghiệm, bài tập theo yêu cầu của học phần. Sinh viên vắng mặt trong buổi thi không có lý do "
             "chính đáng phải nhận điểm không."),
    ("center", "Chương III"),
    ("center", "AN TOÀN PHÒNG THÍ NGHIỆM"),
    ("heading", "Điều 14. Trách nhiệm của sinh viên trong phòng thí nghiệm"),
    ("para", "1. Sinh viên phải mặc áo blouse, đeo kính bảo hộ và găng tay khi làm thí nghiệm với hóa chất."),
    ("para", "2. " + WRAPPED_SENTENCE),
    ("para", "3. Sinh viên không được mang thức ăn, đồ uống vào phòng thí nghiệm và không được tự ý mang hóa "
             "chất, dụng cụ ra khỏi phòng."),
    ("para", "4. Sinh viên vi phạm quy định tại Điều này bị xử lý theo một trong các hình thức sau:"),
    ("para", "a) Khiển trách trước lớp;"),
    ("para", "b) Đình chỉ thực hành học phần đó;"),
    ("para", "c) Bồi thường thiệt hại nếu làm hư hỏng thiết bị."),
    ("heading", "Điều 15. Hiệu lực thi hành"),
    ("para", "Quy chế này có hiệu lực kể từ ngày 01 tháng 9 năm 2025 và thay thế các quy định trước đây của "
             "Trường về đào tạo theo hệ thống tín chỉ."),
]

ADMISSIONS_INTRO = ("Báo cáo kết quả tuyển sinh đại học chính quy năm 2025 của Trường Đại học Kỹ thuật Miền Trung "
                    "được tổng hợp theo từng ngành trong bảng dưới đây.")
ADMISSIONS_TABLE = [
    ["Ngành", "Chỉ tiêu", "Kết quả", "Kết quả"],
    ["Ngành", "Chỉ tiêu", "Trúng tuyển", "Nhập học"],
    ["An toàn thông tin", "120", "131", "118"],
    ["Khoa học máy tính", "200", "214", "195"],
    ["Kỹ thuật điện", "150", "142", "127"],
    ["Tổng cộng", "470", "487", "440"],
]
SCAN_TEXT = [
    "ỦY BAN NHÂN DÂN TỈNH QUẢNG NAM",
    "Số: 215/TB-UBND",
    "THÔNG BÁO",
    "Về việc tạm dừng cấp nước sinh hoạt",
    "Do thi công nâng cấp đường ống chính, Công ty Cấp nước tạm dừng cấp nước tại phường An Mỹ từ 7 giờ đến "
    "17 giờ ngày 12 tháng 3 năm 2025.",
    "Người dân chủ động dự trữ nước; mọi thắc mắc liên hệ số điện thoại 0235 3812 345.",
]


def write_regulation_pdf(path: Path, blocks=REGULATION, font_size: float = 12, filler: int = 0,
                         password: str | None = None) -> Path:
    """A text-layer PDF: A4, a running header and "Trang N" footer on every page, justified paragraphs
    wrapped at the page edge, `filler` extra paragraphs pushing later text over page breaks."""
    from fpdf import FPDF

    class Doc(FPDF):
        def header(self):
            self.set_font("dv", size=9)
            self.cell(0, 5, "Trường Đại học Kỹ thuật Miền Trung - " + REGULATION_TITLE.capitalize(), align="C",
                      new_x="LMARGIN", new_y="NEXT")
            self.ln(4)
            self.set_font("dv", size=font_size)

        def footer(self):
            self.set_y(-15)
            self.set_font("dv", size=9)
            self.cell(0, 5, f"Trang {self.page_no()}", align="C")
            self.set_font("dv", size=font_size)

    pdf = Doc(format="A4")
    if password:
        pdf.set_encryption(owner_password=password + "-owner", user_password=password)
    pdf.add_font("dv", "", str(FONT))
    pdf.add_font("dv", "B", str(FONT_BOLD))
    pdf.set_font("dv", size=font_size)
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_page()
    blocks = list(blocks)
    if filler:
        at = next(i for i, b in enumerate(blocks) if b[1].startswith("Điều 14"))
        blocks[at:at] = [("para", FILLER)] * filler
    for kind, text in blocks:
        pdf.set_font("dv", "B" if kind == "heading" else "", font_size)
        pdf.multi_cell(0, font_size * 0.55, text, align="C" if kind == "center" else "J", new_x="LMARGIN",
                       new_y="NEXT")
        pdf.ln(1.5)
    pdf.output(str(path))
    return path


FILLER = ("Phòng Đào tạo có trách nhiệm hướng dẫn, kiểm tra việc thực hiện Quy chế này tại các khoa, bộ môn và "
          "báo cáo Hiệu trưởng kết quả thực hiện sau mỗi học kỳ để kịp thời điều chỉnh những nội dung chưa phù hợp.")


def render_page(lines: list[str], dpi: int = 200, width_mm: float = 148, height_mm: float = 150,
                font_pt: float = 12, skew: float = 0.0, noise: float = 0.0, seed: int = 0):
    """A page image as a scanner would give it: text drawn at `dpi`, optionally rotated and speckled."""
    import random

    from PIL import Image, ImageDraw, ImageFont

    px = dpi / 25.4
    img = Image.new("L", (int(width_mm * px), int(height_mm * px)), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(FONT), int(font_pt * dpi / 72))
    margin, y = int(15 * px), int(15 * px)
    max_w = img.width - 2 * margin
    for line in lines:
        for part in _wrap(draw, line, font, max_w):
            draw.text((margin, y), part, font=font, fill=0)
            y += int(font.size * 1.5)
        y += int(font.size * 0.6)
    if skew:
        img = img.rotate(skew, expand=False, fillcolor=255, resample=Image.BICUBIC)
    if noise:
        rnd = random.Random(seed)
        pix = img.load()
        for _ in range(int(img.width * img.height * noise)):
            pix[rnd.randrange(img.width), rnd.randrange(img.height)] = rnd.choice((0, 255))
    return img


def _wrap(draw, text: str, font, max_w: int) -> list[str]:
    out, cur = [], ""
    for word in text.split():
        trial = f"{cur} {word}".strip()
        if draw.textlength(trial, font=font) <= max_w or not cur:
            cur = trial
        else:
            out.append(cur)
            cur = word
    return out + ([cur] if cur else [])


def write_scanned_pdf(path: Path, pages: list[list[str]], dpi: int = 200, **kw) -> Path:
    """A PDF made only of page images (no text layer), as a scanner writes it."""
    images = [render_page(lines, dpi=dpi, **kw).convert("RGB") for lines in pages]
    images[0].save(path, "PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return path


def write_report_docx(path: Path, table=ADMISSIONS_TABLE, intro: str = ADMISSIONS_INTRO) -> Path:
    """A DOCX report: heading, a paragraph, a table whose header cells are merged ("Kết quả" over two
    columns, "Ngành"/"Chỉ tiêu" over two rows), a total row, and a closing paragraph after the table."""
    import docx

    d = docx.Document()
    d.add_heading("BÁO CÁO KẾT QUẢ TUYỂN SINH NĂM 2025", level=1)
    d.add_paragraph(intro)
    t = d.add_table(rows=len(table), cols=len(table[0]))
    t.style = "Table Grid"
    for r, row in enumerate(table):
        for c, val in enumerate(row):
            t.cell(r, c).text = val
    # merge what the grid repeats: the header over two columns and the first two columns over two rows
    for (r0, c0), (r1, c1) in (((0, 2), (0, 3)), ((0, 0), (1, 0)), ((0, 1), (1, 1))):
        keep = table[r0][c0]
        merged = t.cell(r0, c0).merge(t.cell(r1, c1))
        merged.text = keep
    d.add_paragraph("Số sinh viên nhập học đạt 93,6% số thí sinh trúng tuyển.")
    d.save(str(path))
    return path


def write_report_html(path: Path, table=ADMISSIONS_TABLE) -> Path:
    """The same report as a web page: the table with colspan/rowspan header cells."""
    rows = table[2:]
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    html = f"""<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Kết quả tuyển sinh 2025</title></head>
<body><nav><a href="/">Trang chủ</a> | <a href="/tin">Tin tức</a></nav>
<article><h1>Kết quả tuyển sinh năm 2025</h1><p>{ADMISSIONS_INTRO}</p>
<table border="1"><thead><tr><th rowspan="2">Ngành</th><th rowspan="2">Chỉ tiêu</th><th colspan="2">Kết quả</th></tr>
<tr><th>Trúng tuyển</th><th>Nhập học</th></tr></thead><tbody>{body}</tbody></table>
<p>Số sinh viên nhập học đạt 93,6% số thí sinh trúng tuyển.</p></article>
<footer>Bản quyền © Trường Đại học Kỹ thuật Miền Trung</footer></body></html>"""
    path.write_text(html, encoding="utf-8")
    return path


DECREE = """CHÍNH PHỦ
Số: 100/2019/NĐ-CP
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Hà Nội, ngày 30 tháng 12 năm 2019
NGHỊ ĐỊNH
Quy định xử phạt vi phạm hành chính trong lĩnh vực giao thông đường bộ và đường sắt
Căn cứ Luật Tổ chức Chính phủ ngày 19 tháng 6 năm 2015;
Căn cứ Luật Xử lý vi phạm hành chính ngày 20 tháng 6 năm 2012;
Chính phủ ban hành Nghị định quy định xử phạt vi phạm hành chính trong lĩnh vực giao thông đường bộ và đường sắt.
Chương I
QUY ĐỊNH CHUNG
Điều 1. Phạm vi điều chỉnh
Nghị định này quy định về hành vi vi phạm hành chính, hình thức, mức xử phạt và thẩm quyền lập biên bản trong lĩnh vực giao thông đường bộ.
Chương II
HÀNH VI VI PHẠM, HÌNH THỨC VÀ MỨC XỬ PHẠT
ĐIỀU  5. Xử phạt người điều khiển xe ô tô vi phạm quy tắc giao thông
1. Phạt tiền từ 200.000 đồng đến 400.000 đồng đối với người điều khiển xe thực hiện một trong các hành vi vi phạm sau đây:
a) Không chấp hành hiệu lệnh, chỉ dẫn của biển báo hiệu, vạch kẻ đường;
b) Không có báo hiệu xin vượt trước khi vượt xe.
2. Phạt tiền từ 6.000.000 đồng đến 8.000.000 đồng đối với người điều khiển xe trên đường mà trong máu hoặc hơi thở có nồng độ cồn nhưng chưa vượt quá 50 miligam/100 mililít máu.
Điều 6. Xử phạt người điều khiển xe mô tô, xe gắn máy
1. Phạt tiền từ 100.000 đồng đến 200.000 đồng đối với người điều khiển xe không đội mũ bảo hiểm khi tham gia giao thông.
đ) Người điều khiển xe chở theo từ 03 người trở lên trên xe bị phạt tiền từ 400.000 đồng đến 600.000 đồng.
Điều 7. Hiệu lực thi hành
Nghị định này có hiệu lực thi hành kể từ ngày 01 tháng 01 năm 2020.
"""


def _pdf(font_size: float = 12):
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_font("dv", "", str(FONT))
    pdf.add_font("dv", "B", str(FONT_BOLD))
    pdf.set_font("dv", size=font_size)
    return pdf


def write_mixed_pdf(path: Path) -> Path:
    """Page 1 has a text layer, page 2 is a scanned image (a notice stapled to a letter)."""
    import io

    pdf = _pdf()
    pdf.add_page()
    for kind, text in REGULATION[:12]:
        pdf.multi_cell(0, 6.6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.add_page()
    buf = io.BytesIO()
    render_page(SCAN_TEXT, dpi=200, width_mm=210, height_mm=297).save(buf, "PNG")
    pdf.image(buf, x=0, y=0, w=210, h=297)
    pdf.output(str(path))
    return path


TWO_COLUMNS = (
    "Cột trái mở đầu bằng đoạn này: Ủy ban nhân dân tỉnh tổ chức hội nghị tổng kết công tác cải cách hành "
    "chính năm 2024 với sự tham dự của lãnh đạo các sở, ngành và địa phương trong tỉnh.",
    "Cột phải tiếp theo: Năm 2025, tỉnh phấn đấu giải quyết đúng hạn toàn bộ hồ sơ thủ tục hành chính và nâng "
    "tỷ lệ hồ sơ trực tuyến toàn trình lên ít nhất 80% tổng số hồ sơ tiếp nhận.",
)


def write_two_column_pdf(path: Path) -> Path:
    """A newsletter page: a full-width title, then two columns of text, each paragraph wrapped in its column."""
    pdf = _pdf(11)
    pdf.add_page()
    pdf.multi_cell(0, 8, "BẢN TIN CẢI CÁCH HÀNH CHÍNH", align="C", new_x="LMARGIN", new_y="NEXT")
    top = pdf.get_y() + 4
    col_w = (210 - 20 - 10) / 2
    for k, text in enumerate(TWO_COLUMNS):
        y = top
        for _ in range(3):
            pdf.set_xy(10 + k * (col_w + 10), y)
            pdf.multi_cell(col_w, 6, text, align="J", new_x="LEFT", new_y="NEXT")
            y = pdf.get_y() + 3
    pdf.output(str(path))
    return path


def write_table_pdf(path: Path, table=ADMISSIONS_TABLE) -> Path:
    """A PDF report whose figures are in a ruled table (one header row, as word processors export it)."""
    pdf = _pdf(11)
    pdf.add_page()
    pdf.multi_cell(0, 7, ADMISSIONS_INTRO, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    with pdf.table() as t:
        for row in [table[1]] + table[2:]:
            r = t.row()
            for cell in row:
                r.cell(cell)
    pdf.ln(3)
    pdf.multi_cell(0, 7, "Số sinh viên nhập học đạt 93,6% số thí sinh trúng tuyển.", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


# -- a law page of a national legal database (vbpl.vn style) --------------------------------------------------

LAW_ARTICLES = [  # (chapter, chapter title, [(article number, title, clauses)])
    ("I", "NHỮNG QUY ĐỊNH CHUNG", [
        (1, "Phạm vi điều chỉnh", ["Luật này quy định về bảo vệ nguồn nước và khai thác nước ngầm trên địa bàn cả nước."]),
        (2, "Giải thích từ ngữ", ["1. Nước ngầm là nước tồn tại trong các tầng chứa nước dưới mặt đất.",
                                  "2. Giếng khoan là công trình khai thác nước ngầm có đường kính dưới 110 milimét."]),
    ]),
    ("II", "KHAI THÁC NƯỚC NGẦM", [
        (3, "Giấy phép khai thác", ["1. Tổ chức khai thác nước ngầm trên 10 mét khối mỗi ngày phải có giấy phép.",
                                    "2. Giấy phép có thời hạn tối đa 10 năm và được gia hạn một lần."]),
        (4, "Hiệu lực thi hành", ["Luật này có hiệu lực thi hành từ ngày 01 tháng 7 năm 2026."]),
    ]),
]


def write_law_page(path: Path) -> Path:
    """A saved law page: site menu, breadcrumb, tab bar, status box, the law (header block as a two-column
    layout, "Chương I<br>TITLE", article headings with inline anchors `Điều <a name=…></a>1.`), a sidebar
    "Mục lục" repeating every heading, and the site footer."""
    body = ['<div class="header-block"><div style="display:table-cell">QUỐC HỘI<br>Luật số: 88/2025/QH15</div>'
            '<div style="display:table-cell">CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM<br>Độc lập - Tự do - Hạnh phúc</div></div>',
            "<p align=center><b>LUẬT</b></p>", "<p align=center><b>TÀI NGUYÊN NƯỚC NGẦM</b></p>",
            "<p><i>Căn cứ Hiến pháp nước Cộng hòa xã hội chủ nghĩa Việt Nam;</i></p>",
            "<p><i>Quốc hội ban hành Luật Tài nguyên nước ngầm.</i></p>"]
    toc = []
    for chapter, title, articles in LAW_ARTICLES:
        body.append(f'<p align=center><a name="chuong_{chapter}"></a><b>Chương {chapter}</b><br><b>{title}</b></p>')
        toc.append(f'<div class="toc-item"><span>Chương {chapter}. {title}</span></div>')
        for number, name, clauses in articles:
            body.append(f'<p><b>Điều <a name="dieu_{number}"></a>{number}. {name}</b></p>')
            body += [f"<p>{c}</p>" for c in clauses]
            toc.append(f'<div class="toc-item"><span>Điều {number}. {name}</span></div>')
    body += ["<p>Luật này đã được Quốc hội nước Cộng hòa xã hội chủ nghĩa Việt Nam khóa XV, kỳ họp thứ 10 "
             "thông qua ngày 10 tháng 12 năm 2025.</p>", "<p><b>CHỦ TỊCH QUỐC HỘI</b><br>Trần Văn Mẫu</p>"]
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>Luật 88/2025/QH15 - Cơ sở dữ liệu</title>
<style>.toc-item{{padding:4px}}</style><script>var tracking = "Điều 99. không phải luật";</script></head><body>
<nav><a href="/">Trang chủ</a> <a href="/van-ban">Văn bản pháp luật</a> <a href="/hoi-dap">Hỏi đáp</a></nav>
<div class="breadcrumb"><a href="/">Trang chủ</a> › <a href="/luat">Luật</a> › Luật Tài nguyên nước ngầm</div>
<main><div class="tabs"><span>Nội dung</span> <span>Thuộc tính</span> <span>Lược đồ</span> <span>Tải về</span></div>
<div class="status"><div>- Hiệu lực: Còn hiệu lực</div><div>- Ngày có hiệu lực: 01/07/2026</div></div>
<div class="layout"><div class="content">{"".join(body)}</div>
<aside><div class="toc-title">Mục lục</div>{"".join(toc)}</aside></div></main>
<footer><p>Cơ sở dữ liệu quốc gia về văn bản pháp luật. Đơn vị chủ quản: Bộ Tư pháp.</p>
<p>Điều khoản sử dụng | Liên hệ</p></footer></body></html>"""
    path.write_text(page, encoding="utf-8")
    return path


# -- a consolidated law PDF with footnotes and a signature block --------------------------------------------

FOOTNOTED_LAW = [  # (text, footnote number or None): a marker is raised after the text it follows
    ("heading", "Điều 1. Phạm vi điều chỉnh", None),
    ("para", "Luật này quy định về quản lý phí đường bộ theo Nghị quyết số 43/2021/QH15", 1),
    ("para", ", áp dụng từ ngày 01 tháng 3 năm 2026.", None),
    ("heading", "Điều 2. Mức phí", None),
    ("para", "1. Mức phí đối với xe ô tô dưới 10 chỗ là 130.000 đồng mỗi tháng", 2),
    ("para", ".", None),
    ("para", "2. Mức phí đối với xe tải là 180.000 đồng mỗi tháng.", None),
]
FOOTNOTES = ["[1] Nghị quyết số 43/2021/QH15 được sửa đổi, bổ sung theo Luật số 12/2025/QH15.",
             "[2] Khoản này được sửa đổi theo quy định tại khoản 3 Điều 1 của Luật số 12/2025/QH15."]


def write_footnoted_pdf(path: Path) -> Path:
    """Articles with raised footnote markers, the adoption statement, "Nơi nhận" and the signer, then the
    note texts after the last article, as consolidated laws (VBHN) print them."""
    pdf = _pdf()
    pdf.add_page()
    for kind, text, note in FOOTNOTED_LAW:
        if kind == "heading" or text.startswith(("1.", "2.")) or FOOTNOTED_LAW.index((kind, text, note)) == 1:
            pdf.ln(7)
        pdf.set_font("dv", "B" if kind == "heading" else "", 12)
        pdf.write(6, text)
        if note:
            pdf.char_vpos = "SUP"
            pdf.write(6, f"[{note}]")
            pdf.char_vpos = "LINE"
    pdf.ln(10)
    pdf.set_font("dv", "", 12)
    for line in ["Luật này đã được Quốc hội khóa XV, kỳ họp thứ 9 thông qua ngày 20 tháng 12 năm 2025.",
                 "Nơi nhận:", "- Văn phòng Chính phủ;", "- Lưu: VT.", "CHỦ TỊCH QUỐC HỘI", "Trần Văn Mẫu"]:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font("dv", "", 10)
    for line in FOOTNOTES:
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


SCAN_HEADER = ["VĂN PHÒNG CHÍNH PHỦ", "Số: 153/TB-VPCP", "Hà Nội, ngày 12 tháng 4 năm 2024", "THÔNG BÁO",
               "Kết luận của Thủ tướng về phòng chống hạn hán",
               "Thực hiện Nghị quyết số 29-NQ/TW, các bộ khẩn trương triển khai các giải pháp chống hạn."]


SCAN_TABLE = [["Nhiệm vụ", "Cơ quan chủ trì", "Năm"],
              ["Rà soát hồ chứa nước", "Bộ Nông nghiệp", "2024"],
              ["Khoan giếng dự phòng", "Tỉnh Ninh Thuận", "2025"]]


def draw_ruled_table(image, rows: list[list[str]], top_mm: float, dpi: int = 200, font_pt: float = 11) -> None:
    """A ruled table drawn on a page image: every cell boxed with 2-pixel rules, as annexes print them."""
    from PIL import ImageDraw, ImageFont

    px = dpi / 25.4
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), int(font_pt * dpi / 72))
    widths = [int(45 * px), int(50 * px), int(20 * px)]
    height = int(font.size * 2.2)
    x0, y = int(12 * px), int(top_mm * px)
    for row in rows:
        x = x0
        for w, text in zip(widths, row):
            draw.rectangle([x, y, x + w, y + height], outline=0, width=2)
            draw.text((x + int(2 * px), y + int(font.size * 0.5)), text, font=font, fill=0)
            x += w
        y += height


def write_scan_with_bad_text_layer(path: Path, dpi: int = 200) -> Path:
    """A scanned page (header block, the document type and title, a body citing another document's number,
    a ruled table)
    under an invisible text layer that lost every diacritic, as some scanners' own OCR writes it."""
    import io

    from fpdf.enums import TextMode

    image = render_page(SCAN_HEADER, dpi=dpi, height_mm=150)
    draw_ruled_table(image, SCAN_TABLE, top_mm=100, dpi=dpi)
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "PNG")
    pdf = _pdf()
    w_mm, h_mm = image.width / dpi * 25.4, image.height / dpi * 25.4
    pdf.add_page(format=(w_mm, h_mm))
    pdf.image(buf, 0, 0, w_mm, h_mm)
    pdf.text_mode = TextMode.INVISIBLE
    pdf.set_xy(15, 15)
    for line in SCAN_HEADER:
        pdf.multi_cell(0, 6, _strip_marks(line).replace("153", "'/gg"), new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def _strip_marks(text: str) -> str:
    import unicodedata

    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
