"""The briefing PDF (briefing/): numbers equal to `bankpulse metric`, section titles in both
languages, the embedded CJK font, footers and page numbers, repeated table headers, the CLI.

A demo store (3 outlets × 1 year, loaded through the real ingest, then the anomaly scan) is built
once per session. poppler-utils (pdftotext/pdffonts/pdftoppm) is installed by .ci/run.
"""
from __future__ import annotations

import io
import json
import shutil
import subprocess
from contextlib import redirect_stdout
from datetime import date, datetime
from pathlib import Path

import pytest

from briefing import DEFAULT_SPEC, build_pdf
from briefing.content import BriefingRequest, DocSection, Document, Paragraph, Table, build_document
from briefing.render_pdf import render, wrap
from briefing.spec import SECTION_TITLES, BriefingSpec, Section, SectionKind
from metrics.catalogue import get_metric
from metrics.format import fmt_value
from metrics.model import Grain
from metrics.periods import label, period_end

POPPLER = shutil.which("pdftotext") and shutil.which("pdffonts") and shutil.which("pdftoppm")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils not installed (apt-get install poppler-utils)")


def build_briefing_db(tmp_path_factory) -> Path:
    from helpers_demo import demo_store

    return demo_store(tmp_path_factory.getbasetemp() / "briefing_demo", scan=True)


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    return build_briefing_db(tmp_path_factory)


@pytest.fixture(scope="module")
def store(db):
    from data.store import Store

    s = Store(db)
    yield s
    s.close()


@pytest.fixture(scope="module")
def month(store) -> date:
    """The last complete month of the demo data."""
    from metrics.summary import freshness

    end = freshness(store)["feedback_records"]
    m = end.replace(day=1)
    if period_end(m, Grain.MONTH) <= end:
        return m
    return m.replace(year=m.year - 1, month=12) if m.month == 1 else m.replace(month=m.month - 1)


def _code(m: date) -> str:
    return f"{m.year}-{m.month:02d}"


@pytest.fixture(scope="module")
def pdfs(store, month, tmp_path_factory) -> dict[str, Path]:
    out = {}
    d = tmp_path_factory.mktemp("briefing_pdf")
    for lang in ("zh", "en"):
        p = d / f"briefing_{lang}.pdf"
        p.write_bytes(build_pdf(store, _code(month), "all", lang))
        out[lang] = p
    return out


def _text(path: Path, page: int | None = None) -> str:
    args = ["pdftotext", "-layout"] + (["-f", str(page), "-l", str(page)] if page else []) + [str(path), "-"]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def _pages(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(str(path)).pages)


def _cli_value(db: Path, metric_id: str, m: date) -> float | None:
    from cli.main import main

    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = main(["metric", metric_id, "--grain", "month", "--from", m.isoformat(),
                   "--to", period_end(m, Grain.MONTH).isoformat(),
                   "--format", "json", "--db", str(db)])
    assert rc == 0
    rows = [r for r in json.loads(buf.getvalue()) if r["period"] == m.isoformat()]
    return rows[0]["value"] if rows else None


# -- content and numbers -------------------------------------------------------------------------
@needs_poppler
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_headline_values_equal_the_metric_command(pdfs, db, store, month, lang):
    text = _text(pdfs[lang])
    checked = 0
    for mid in ("credit.npl_ratio", "credit.overdue_rate", "credit.balance", "feedback.complaints",
                "counter.wait_avg_min", "feedback.on_time_closure_rate"):
        v = _cli_value(db, mid, month)
        if v is None:
            continue
        expected = fmt_value(get_metric(mid), v, lang)
        assert expected in text, (mid, expected)
        checked += 1
    assert checked >= 4


@needs_poppler
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_section_titles_cover_and_summary(pdfs, month, lang):
    text = _text(pdfs[lang])
    for kind in SectionKind:
        if kind is SectionKind.COVER:
            continue
        title = SECTION_TITLES[kind][0 if lang == "zh" else 1]
        assert title in text, title
    assert label(month, Grain.MONTH, lang) in text
    assert ("全行" if lang == "zh" else "Whole bank") in text
    assert ("数据截至" if lang == "zh" else "Data as of") in text


@needs_poppler
def test_chinese_is_extractable_exactly(pdfs):
    """Selectable, searchable text: pdftotext gives back the Chinese, not boxes or CIDs."""
    text = _text(pdfs["zh"])
    for s in ("经营简报", "本期摘要", "不良贷款率", "个百分点", "环比", "同比", "客户反馈", "超时未办结投诉"):
        assert s in text, s


@needs_poppler
def test_cjk_font_is_embedded(pdfs):
    out = subprocess.run(["pdffonts", str(pdfs["zh"])], check=True, capture_output=True, text=True).stdout
    rows = [r for r in out.splitlines() if "KurintoSansSC" in r]
    assert rows, out
    for r in rows:  # columns: emb sub uni
        assert "CID TrueType" in r and " yes yes yes " in r, r


@needs_poppler
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_has_footer_with_page_numbers(pdfs, month, lang):
    n = _pages(pdfs[lang])
    assert 3 <= n <= 12
    period = label(month, Grain.MONTH, lang)
    for i in range(1, n + 1):
        page = _text(pdfs[lang], i)
        footer = f"第 {i} 页 / 共 {n} 页" if lang == "zh" else f"Page {i} of {n}"
        assert footer in page, (i, page[-300:])
        assert period in page


def test_pdf_metadata_title_and_a4(pdfs, month):
    from pypdf import PdfReader

    r = PdfReader(str(pdfs["zh"]))
    period = label(month, Grain.MONTH, "zh")
    assert r.metadata.title == f"BankPulse 经营简报 {period} 全行"
    box = r.pages[0].mediabox
    assert abs(float(box.width) - 595.28) < 1 and abs(float(box.height) - 841.89) < 1


@needs_poppler
def test_long_table_spans_pages_with_repeated_header(tmp_path):
    cols = ["工单号", "网点", "受理日期", "超期"]
    rows = [[f"KF{i:06d}", f"网点{i % 7}", "2025-09-01", f"{i}天"] for i in range(150)]
    doc = Document(lang="zh", title="BankPulse 经营简报 测试", heading="经营简报", bank="某某银行", period_label="2025年9月",
                   scope_label="全行", generated_at=datetime(2025, 10, 1, 9, 0), as_of=date(2025, 9, 30),
                   cover_lines=[("范围", "全行")],
                   sections=[DocSection(SectionKind.FEEDBACK, "五、客户反馈",
                                        [Paragraph("长表格测试。"), Table(cols, rows, [2, 2, 2, 1], ["L", "L", "L", "R"])])])
    p = tmp_path / "long.pdf"
    p.write_bytes(render(doc))
    n = _pages(p)
    assert n >= 3
    for i in range(1, n + 1):
        page = _text(p, i)
        assert "工单号" in page and "受理日期" in page, f"header missing on page {i}"
        assert f"第 {i} 页 / 共 {n} 页" in page
    assert "KF000149" in _text(p, n)


@needs_poppler
def test_rendered_page_image(pdfs, tmp_path):
    """The page image the issue asks to look at (pdftoppm -r 80); kept in the test's tmp dir."""
    subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "2", str(pdfs["zh"]), str(tmp_path / "p")],
                   check=True)
    pngs = sorted(tmp_path.glob("p-*.png"))
    assert len(pngs) == 2
    from PIL import Image

    im = Image.open(pngs[0])
    assert im.size == (662, 936)  # A4 at 80 dpi
    assert im.convert("L").getextrema()[0] < 80  # there is dark ink on the page


# -- spec, scope, CLI ----------------------------------------------------------------------------
def test_spec_rejects_unknown_metric():
    with pytest.raises(ValueError):
        Section(kind=SectionKind.KPI_TABLE, metrics=("credit.nope",))


def test_spec_only_keeps_cover_and_order():
    spec = DEFAULT_SPEC.only(["market", "summary"])
    assert [s.kind for s in spec.sections] == [SectionKind.COVER, SectionKind.SUMMARY, SectionKind.MARKET]
    assert isinstance(spec, BriefingSpec)


def test_scope_and_period_validation(store):
    with pytest.raises(ValueError):
        BriefingRequest.parse(store, "2025-09-03")  # a day is not a briefing period
    with pytest.raises(ValueError):
        BriefingRequest.parse(store, "2025-09", "region:火星区")
    with pytest.raises(ValueError):
        BriefingRequest.parse(store, "2025-09", "planet:x")


def test_branch_scope_and_week(store, month):
    b = store.cursor().execute("SELECT branch_id, branch_name FROM main.branches WHERE level = 'outlet' "
                               "ORDER BY 1 LIMIT 1").fetchone()
    req = BriefingRequest.parse(store, f"{month.isocalendar().year}-W{month.isocalendar().week:02d}", f"branch:{b[0]}",
                                "en")
    doc = build_document(store, req)
    assert b[0] in doc.scope_label and doc.title.startswith("BankPulse Management briefing ")
    assert render(doc)[:5] == b"%PDF-"


def test_cli_briefing(db, month, tmp_path):
    from cli.main import main

    out = tmp_path / "b.pdf"
    assert main(["briefing", "--period", _code(month), "--lang", "en", "--sections", "summary,kpi_table",
                 "--out", str(out), "--db", str(db)]) == 0
    assert out.read_bytes()[:5] == b"%PDF-"
    assert main(["briefing", "--period", "2025-13", "--out", str(tmp_path / "x.pdf"), "--db", str(db)]) == 2
    assert main(["briefing", "--period", "1999-01", "--out", str(tmp_path / "y.pdf"), "--db", str(db)]) == 2


def test_wrap_keeps_numbers_whole_and_punctuation_off_line_starts():
    measure = lambda s: float(len(s))  # noqa: E731  one unit per character
    lines = wrap("不良贷款率1.67%，高于目标1.50%。", 9, measure)
    assert all(not ln.startswith(("，", "。")) for ln in lines)
    assert any("1.67%" in ln for ln in lines) and any("1.50%" in ln for ln in lines)
    assert "".join(lines) == "不良贷款率1.67%，高于目标1.50%。"
