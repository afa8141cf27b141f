"""The briefing never turns a failing read into "no anomalies" / "no events" (issue 12, item 4).

Only a table that does not exist makes an empty section; a table that exists but whose query
fails (a dropped column, a view of the wrong type) stops the build with a BriefingError naming
the table — in `build_document`, in `bankpulse briefing` (exit 1) and on the briefing page.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from helpers_app import open_app, reset_caches, use_store
from streamlit.testing.v1 import AppTest

from briefing import BriefingError, BriefingRequest, build_document
from briefing.spec import SectionKind
from data.store import Store
from metrics.model import Grain
from metrics.periods import period_end

ROOT = Path(__file__).resolve().parents[1]

# Ways a table that exists can fail its query (the same damage the page and the CLI must report).
BREAKS = {
    "anomalies_dropped_column": ("ops.anomalies", "ALTER TABLE ops.anomalies DROP COLUMN score"),
    "anomalies_wrong_type_view": ("ops.anomalies", """
        DROP TABLE ops.anomalies;
        CREATE VIEW ops.anomalies AS SELECT 'a1' AS anomaly_id, 'x' AS metric_id, 'counter' AS category,
            'bank' AS scope_kind, '' AS scope_value, 'high' AS severity, 'not a date' AS period, 1.0 AS score,
            'new' AS status, 'month' AS grain"""),
    "events_dropped_column": ("main.market_events", "ALTER TABLE main.market_events DROP COLUMN impact_area"),
}


def _month(path: Path) -> str:
    from metrics.summary import freshness

    s = Store(path)
    try:
        end = freshness(s)["feedback_records"]
    finally:
        s.close()
    m = end.replace(day=1)
    if period_end(m, Grain.MONTH) > end:
        m = m.replace(year=m.year - 1, month=12) if m.month == 1 else m.replace(month=m.month - 1)
    return f"{m.year}-{m.month:02d}"


def _damaged(template: Path, tmp_path: Path, sql: str | None) -> Path:
    path = tmp_path / "bankpulse.duckdb"
    shutil.copy(template, path)
    if sql:
        con = duckdb.connect(str(path))
        try:
            con.execute(sql)
        finally:
            con.close()
    return path


def _build(path: Path, period: str):
    s = Store(path)
    try:
        return build_document(s, BriefingRequest.parse(s, period, "all", "en"))
    finally:
        s.close()


@pytest.mark.parametrize("damage", list(BREAKS))
def test_a_failing_query_fails_the_build(demo_db_template, tmp_path, damage):
    table, sql = BREAKS[damage]
    period = _month(demo_db_template)
    path = _damaged(demo_db_template, tmp_path, sql)
    with pytest.raises(BriefingError) as err:
        _build(path, period)
    msg = str(err.value)
    assert "简报无法生成" in msg and "the briefing cannot be built" in msg and table in msg
    zh, en = msg.split(" / ", 1)  # one separator: the page shows either half
    assert table in zh and table in en


def test_an_absent_anomaly_table_is_an_empty_section(demo_db_template, tmp_path):
    # (an absent market_events already stops metrics.summary.freshness, before any section)
    period = _month(demo_db_template)
    doc = _build(_damaged(demo_db_template, tmp_path, "DROP TABLE ops.anomalies"), period)
    sec = next(s for s in doc.sections if s.kind is SectionKind.ANOMALIES)
    notes = [i.text for i in sec.items if getattr(i, "style", None) == "note"]
    assert notes, sec.items  # "no anomalies" / "no events" — because there is no table, not because a read failed


def test_intact_store_builds(demo_db_template, tmp_path):
    doc = _build(_damaged(demo_db_template, tmp_path, None), _month(demo_db_template))
    assert {s.kind for s in doc.sections} >= {SectionKind.ANOMALIES, SectionKind.MARKET}


def test_cli_exits_1_with_the_message(demo_db_template, tmp_path, capsys):
    from cli.main import main

    table, sql = BREAKS["anomalies_dropped_column"]
    path = _damaged(demo_db_template, tmp_path, sql)
    out = tmp_path / "b.pdf"
    assert main(["--db", str(path), "briefing", "--period", _month(demo_db_template), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "the briefing cannot be built" in err and table in err
    assert not out.exists()


@pytest.fixture()
def damaged_db(demo_db_template, tmp_path, monkeypatch):
    """The app pointed at a copy of the demo store damaged by `sql` (None: intact)."""
    def use(sql: str | None) -> Path:
        return use_store(_damaged(demo_db_template, tmp_path, sql), monkeypatch)

    yield use
    reset_caches()


def _page() -> AppTest:
    at = open_app("pages/briefing.py", timeout=180)
    assert not at.exception, at.exception
    return at


def test_page_shows_the_error_and_disables_the_build(damaged_db):
    damaged_db(BREAKS["anomalies_dropped_column"][1])
    at = _page()
    errors = [e.value for e in at.error]
    assert any("简报无法生成" in e and "ops.anomalies" in e for e in errors), errors
    assert " / " not in errors[0]  # the reader's language only
    assert at.button(key="br_build").disabled
    assert not at.get("download_button")


@pytest.mark.parametrize(("lang", "built", "download"), [("zh", "：已生成（", "下载PDF"),
                                                        ("en", ": built (", "Download the PDF")])
def test_page_builds_with_a_progress_bar_then_offers_the_download(damaged_db, lang, built, download):
    """生成PDF builds on the click with a progress bar (full at the end, with size and time); only
    then is the PDF offered; a change of the choices withdraws it until built again."""
    damaged_db(None)
    at = open_app("pages/briefing.py", lang=lang, timeout=180)
    assert not at.exception, at.exception
    assert not at.error and not at.get("download_button") and not at.progress
    at.button(key="br_build").click().run()
    assert not at.exception, at.exception
    (bar,) = at.progress
    assert bar.value == 100 and built in bar.text, bar.text
    (button,) = at.get("download_button")
    assert button.proto.label == download
    pdf = at.session_state["br_pdf"]["data"]
    assert pdf[:5] == b"%PDF-" and pdf.rstrip().endswith(b"%%EOF")
    at.run()  # a rerun keeps the built PDF (the bar is gone, a caption says what is offered)
    assert at.get("download_button") and not at.progress
    at.segmented_control(key="br_lang").set_value("en" if lang == "zh" else "zh").run()
    assert not at.exception, at.exception
    assert not at.get("download_button")  # built for the other language: build again
