"""The briefing document (briefing.content) → A4 PDF bytes, with fpdf2.

Every page carries the filter context and its number in the footer ("第 N 页 / 共 M 页 · 2025年9月 ·
全行"), tables that run over a page repeat their header row, the CJK font is embedded (subset),
and the PDF's metadata title names the briefing ("BankPulse 经营简报 2025年9月 全行"). Colours
are print-friendly: dark text on white, thin rules, light header fills; good/bad are green/red
text with the words (达标/未达标) also spelled out, so a greyscale print loses nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from fpdf import FPDF
from fpdf.enums import TableBordersLayout, TableCellFillMode, XPos, YPos
from fpdf.fonts import FontFace

from briefing import charts, fonts
from briefing.content import AnomalyCard, ChartGrid, Document, Paragraph, Subheading, Table

FAMILY = fonts.FAMILY
NAVY = (31, 58, 95)
INK = (33, 37, 41)
MUTED = (108, 117, 125)
RULE = (206, 212, 218)
HEAD_FILL = (233, 237, 242)
ZEBRA = (248, 249, 250)
TONE = {"good": (25, 120, 60), "bad": (176, 32, 38)}
SEV_COLOUR = {"high": (176, 32, 38), "medium": (191, 110, 0), "low": (90, 98, 104)}
MARGIN = 16.0
CHART_H = 50.0
# the share of the rendering spent writing the file (font subset, compression): measured 0.4
OUTPUT_SHARE = 0.4


class BriefingPDF(FPDF):
    def __init__(self, doc: Document):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.doc = doc
        fonts.register(self)
        self.set_margins(MARGIN, 17, MARGIN)
        self.set_auto_page_break(True, margin=16)
        self.alias_nb_pages("{nb}")
        self.set_title(doc.title)
        self.set_subject(doc.footer_context())
        self.set_author(doc.bank)
        self.set_creator("BankPulse")
        self.set_lang("zh-CN" if doc.lang == "zh" else "en")
        self.set_creation_date(doc.generated_at.astimezone())

    @property
    def zh(self) -> bool:
        return self.doc.lang == "zh"

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font(FAMILY, "", 7.5)
        self.set_text_color(*MUTED)
        self.set_xy(MARGIN, 8)
        self.cell(0, 4, f"BankPulse {self.doc.heading}", align="L")
        self.set_xy(MARGIN, 8)
        self.cell(0, 4, self.doc.footer_context(), align="R")
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(MARGIN, 12.8, self.w - MARGIN, 12.8)
        self.set_y(17)

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(FAMILY, "", 7.5)
        self.set_text_color(*MUTED)
        page = f"第 {self.page_no()} 页 / 共 {{nb}} 页" if self.zh else f"Page {self.page_no()} of {{nb}}"
        self.cell(0, 4, f"{page} · {self.doc.footer_context()}", align="C")

    # -- blocks ------------------------------------------------------------------------------
    @property
    def width(self) -> float:
        return self.w - 2 * MARGIN

    def ensure(self, h: float) -> None:
        """Start a new page unless `h` mm still fit on this one."""
        if self.get_y() + h > self.page_break_trigger:
            self.add_page()

    def cover(self) -> None:
        d = self.doc
        self.set_fill_color(*NAVY)
        self.rect(MARGIN, 16, self.width, 1.6, style="F")
        self.set_xy(MARGIN, 21)
        self.set_text_color(*MUTED)
        self.set_font(FAMILY, "", 9)
        self.cell(0, 5, "BankPulse 银行工作动态监测" if self.zh else "BankPulse monitoring",
                  new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*NAVY)
        self.set_font(FAMILY, "B", 22)
        self.cell(0, 11, f"{d.bank} {d.heading}" if self.zh else f"{d.heading}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FAMILY, "B", 13)
        self.set_text_color(*INK)
        self.cell(0, 7, f"{d.period_label} · {d.scope_label}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)
        self.set_font(FAMILY, "", 8.5)
        weights = [1.3, 1.3, 2.6, 1.0, 1.3][: len(d.cover_lines)] + [1.0] * max(0, len(d.cover_lines) - 5)
        y = self.get_y()
        self.set_draw_color(*RULE)
        self.line(MARGIN, y, self.w - MARGIN, y)
        x = MARGIN
        for i, (k, v) in enumerate(d.cover_lines):
            col = self.width * weights[i] / sum(weights)
            x += self.width * weights[i - 1] / sum(weights) if i else 0
            self.set_xy(x, y + 1.5)
            self.set_text_color(*MUTED)
            self.set_font(FAMILY, "", 7)
            self.cell(col - 2, 4, k)
            self.set_xy(x, y + 5.5)
            self.set_text_color(*INK)
            self.set_font(FAMILY, "", 8)
            self.multi_cell(col - 2, 4, v)
        self.set_y(y + 15)
        self.line(MARGIN, self.get_y(), self.w - MARGIN, self.get_y())
        self.ln(4)

    def section_title(self, text: str) -> None:
        self.ensure(30)
        self.ln(2)
        self.set_font(FAMILY, "B", 13)
        self.set_text_color(*NAVY)
        self.cell(0, 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*NAVY)
        self.set_line_width(0.4)
        self.line(MARGIN, self.get_y(), MARGIN + 22, self.get_y())
        self.set_line_width(0.2)
        self.ln(2.5)

    def subheading(self, text: str) -> None:
        self.ensure(22)
        self.ln(1)
        self.set_font(FAMILY, "B", 10)
        self.set_text_color(*INK)
        self.cell(0, 6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def paragraph(self, p: Paragraph) -> None:
        self.set_text_color(*(MUTED if p.style == "note" else INK))
        size = {"note": 7.5, "lead": 9, "bullet": 9.5, "body": 9}[p.style]
        self.set_font(FAMILY, "", size)
        lh = size * 0.55
        if p.style == "bullet":
            self.ensure(lh * 2)
            self.set_fill_color(*NAVY)
            self.circle(MARGIN + 1.6, self.get_y() + lh / 2 + 0.2, 0.7, style="F")
            self.lines(p.text, MARGIN + 4.5, self.width - 4.5, lh)
            self.ln(1.2)
            return
        self.lines(p.text, MARGIN, self.width, lh)
        self.ln(1.5 if p.style == "note" else 1)

    def lines(self, text: str, x: float, w: float, lh: float) -> None:
        """Write `text` wrapped to `w` mm at `x`, line by line (CJK-aware breaks, see `wrap`)."""
        for line in wrap(text, w, self.get_string_width):
            if self.get_y() + lh > self.page_break_trigger:
                self.add_page()
            self.set_x(x)
            self.cell(w, lh, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def table(self, t: Table, size: float = 8.2) -> None:  # type: ignore[override]
        self.ensure(18)
        self.set_font(FAMILY, "", size)
        self.set_text_color(*INK)
        self.set_draw_color(*RULE)
        self.set_fill_color(*ZEBRA)  # fpdf2 fills the zebra rows with the current fill colour
        self.set_line_width(0.2)
        total = sum(t.widths)
        widths = tuple(w / total * self.width for w in t.widths)
        head = FontFace(family=FAMILY, emphasis="BOLD", color=INK, fill_color=HEAD_FILL, size_pt=size)
        with super().table(col_widths=widths, text_align=tuple(t.align), headings_style=head, line_height=size * 0.55,
                           borders_layout=TableBordersLayout.HORIZONTAL_LINES, cell_fill_mode=TableCellFillMode.EVEN_ROWS,
                           cell_fill_color=ZEBRA, repeat_headings=1, padding=(1.1, 1.4), width=self.width,
                           v_align="MIDDLE") as table:
            hr = table.row()
            for c in t.columns:
                hr.cell(c)
            for r, row in enumerate(t.rows):
                tr = table.row()
                tones = t.tones[r] if r < len(t.tones) else []
                for c, text in enumerate(row):
                    tone = tones[c] if c < len(tones) else None
                    if tone in TONE:
                        tr.cell(text, style=FontFace(color=TONE[tone], emphasis="BOLD" if c == len(row) - 1 else None))
                    else:
                        tr.cell(text)
        self.ln(2.5)

    def chart_grid(self, g: ChartGrid) -> None:
        gap = 6.0
        w = (self.width - gap) / 2
        for i in range(0, len(g.charts), 2):
            self.ensure(CHART_H + 2)
            y = self.get_y()
            for j, ch in enumerate(g.charts[i:i + 2]):
                charts.draw(self, ch, MARGIN + j * (w + gap), y, w, CHART_H, FAMILY, self.doc.lang)
            self.set_xy(MARGIN, y + CHART_H + 2)

    def anomaly_card(self, a: AnomalyCard) -> None:
        need = 12 + 5 * len(a.fields) + (8 + 5 * len(a.contributors.rows) if a.contributors else 0)
        self.ensure(min(need, 80))
        y0 = self.get_y()
        sev = {"high": ("高", "High"), "medium": ("中", "Medium"), "low": ("低", "Low")}.get(a.severity, ("—", "—"))
        tag = f"{sev[0]}严重度" if self.zh else f"{sev[1]} severity"
        self.set_font(FAMILY, "B", 7.5)
        tw = self.get_string_width(tag) + 3
        self.set_draw_color(*SEV_COLOUR.get(a.severity, MUTED))
        self.set_text_color(*SEV_COLOUR.get(a.severity, MUTED))
        self.set_line_width(0.3)
        self.set_xy(MARGIN + 2.5, y0 + 0.6)
        self.cell(tw, 4.4, tag, border=1, align="C")
        self.set_xy(MARGIN + 4 + tw, y0)
        self.set_text_color(*INK)
        self.set_font(FAMILY, "B", 9.5)
        self.multi_cell(self.width - tw - 4, 5.6, a.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        label_w = 24 if self.zh else 30
        for k, v in a.fields:
            y = self.get_y()
            self.set_xy(MARGIN + 2.5, y)
            self.set_font(FAMILY, "", 7.8)
            self.set_text_color(*MUTED)
            self.cell(label_w, 4.3, k)
            self.set_xy(MARGIN + 2.5 + label_w, y)
            self.set_text_color(*INK)
            self.lines(v, MARGIN + 2.5 + label_w, self.width - label_w - 2.5, 4.3)
        if a.contributors:
            self.ln(0.8)
            left = self.l_margin
            self.set_left_margin(MARGIN + 2.5)
            t = a.contributors
            total = sum(t.widths)
            widths = tuple(w / total * (self.width - 2.5) for w in t.widths)
            self.set_font(FAMILY, "", 7.5)
            self.set_fill_color(*ZEBRA)
            head = FontFace(family=FAMILY, emphasis="BOLD", color=INK, fill_color=HEAD_FILL, size_pt=7.5)
            with super().table(col_widths=widths, text_align=tuple(t.align), headings_style=head, line_height=4.0,
                               borders_layout=TableBordersLayout.HORIZONTAL_LINES, padding=(0.8, 1.2),
                               width=self.width - 2.5, align="LEFT") as table:
                for row in [t.columns, *t.rows]:
                    r = table.row()
                    for c in row:
                        r.cell(c)
            self.set_left_margin(left)
        y1 = self.get_y()
        self.set_draw_color(*SEV_COLOUR.get(a.severity, MUTED))
        self.set_line_width(0.8)
        if y1 > y0:  # the accent rule on the left (same page only)
            self.line(MARGIN + 0.4, y0 + 0.5, MARGIN + 0.4, y1 - 0.5)
        self.set_line_width(0.2)
        self.ln(3.5)


NO_START = set("。，、；：？！）》」』”’%…·,.;:?!)]}")  # never at the start of a line
NO_END = set("（《「『“‘([{")  # never at the end of one
_TOKEN = re.compile(r"[A-Za-z0-9_.,:%+\-−/@#&'’]+|\s+|.", re.S)


def wrap(text: str, width: float, measure) -> list[str]:
    """Greedy line breaking for mixed Chinese/Latin text: Latin words and numbers ("1.50%", "P90")
    stay whole, Chinese breaks between characters, and closing punctuation never starts a line
    (the character before it moves down with it — 禁则 / kinsoku)."""
    out: list[str] = []
    for para in text.split("\n"):
        line: list[str] = []
        for tok in _TOKEN.findall(para):
            if not line and tok.isspace():
                continue
            if line and measure("".join(line) + tok) > width and not tok.isspace():
                carry: list[str] = []
                if tok[0] in NO_START and len(line) > 1:
                    carry.append(line.pop())
                while len(line) > 1 and line[-1] and line[-1][-1] in NO_END:
                    carry.insert(0, line.pop())
                out.append("".join(line).rstrip())
                line = carry
            line.append(tok)
        out.append("".join(line).rstrip())
    return out


def render(doc: Document, step: Callable[[float, float], None] = lambda i, n: None) -> bytes:
    """The PDF of a briefing document; `step(i, n)` hears each section laid out and the file
    written (the font subset and compression, `OUTPUT_SHARE` of the whole)."""
    pdf = BriefingPDF(doc)
    pdf.add_page()
    pdf.cover()
    for n, s in enumerate(doc.sections):
        pdf.section_title(s.title)
        for it in s.items:
            if isinstance(it, Paragraph):
                pdf.paragraph(it)
            elif isinstance(it, Subheading):
                pdf.subheading(it.text)
            elif isinstance(it, Table):
                pdf.table(it)
            elif isinstance(it, ChartGrid):
                pdf.chart_grid(it)
            elif isinstance(it, AnomalyCard):
                pdf.anomaly_card(it)
        step((1 - OUTPUT_SHARE) * (n + 1) / len(doc.sections), 1)
    out = bytes(pdf.output())
    step(1, 1)
    return out
