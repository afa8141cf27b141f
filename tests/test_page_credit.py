"""The 信贷 / Credit page (AppTest) on a real store: the small demo, loaded through the real ingest.

Timings of the first page run in each language are printed (pytest -s) and kept in TIMINGS.
"""
from __future__ import annotations

import json
import shutil
import time

import pandas as pd
import pytest
from helpers_app import open_app, reset_caches, use_store
from streamlit.testing.v1 import AppTest

TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def credit_db(demo_db, tmp_path_factory):
    """One copy of the demo store for the module, the app pointed at it; yields the demo's story."""
    db = tmp_path_factory.mktemp("credit_page") / "bankpulse.duckdb"
    shutil.copy(demo_db, db)
    mp = pytest.MonkeyPatch()
    use_store(db, mp)
    yield json.loads((demo_db.parent / "files" / "story.json").read_text(encoding="utf-8"))
    reset_caches()
    mp.undo()


def credit_page(lang: str = "zh") -> AppTest:
    at = open_app(lang="en" if lang == "en" else None)
    assert not at.exception, at.exception
    t0 = time.monotonic()
    at.switch_page("pages/credit.py").run()
    TIMINGS.setdefault(f"page run ({lang}, first)", time.monotonic() - t0)
    print(f"credit page run ({lang}): {time.monotonic() - t0:.1f}s")
    assert not at.exception, at.exception
    return at


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


@pytest.mark.parametrize("lang,title,cls", [("zh", "信贷", "正常"), ("en", "Credit", "Normal")])
def test_credit_page_renders(credit_db, lang, title, cls):
    at = credit_page(lang)
    assert at.title[0].value == title
    assert len(at.metric) == 4
    assert all(m.value not in ("", "—") for m in at.metric)
    assert len(at.get("plotly_chart")) >= 6  # 4 trends, breakdown, vintage
    assert len(at.dataframe) >= 4  # breakdown, migration, vintage top, loans
    labels = [b.label for b in at.get("download_button")]
    assert len(labels) >= 8
    mig = at.dataframe[1].value
    assert cls in mig.iloc[:, 0].tolist()  # class names in the page language
    assert not at.exception
    t0 = time.monotonic()
    at.run()
    TIMINGS.setdefault(f"rerun ({lang}, cached)", time.monotonic() - t0)
    print(f"credit page rerun ({lang}): {time.monotonic() - t0:.1f}s")


def test_controls_drive_the_views(credit_db):
    story = credit_db
    at = credit_page("zh")
    at.segmented_control(key="cr_basis").set_value("amount").run()
    assert not at.exception
    at.segmented_control(key="cr_bd_dim").set_value("branch").run()
    assert not at.exception
    at.segmented_control(key="cr_mig_value").set_value("rates").run()
    assert not at.exception
    # the vintage top table names the story cohort and approver
    top = frame_with(at, "主要审批人")
    assert top.iloc[0]["发放批次"] == "2025年第1季度"
    assert top.iloc[0]["主要审批人"] == story["approver"]
    at.selectbox(key="cr_vin_approver").set_value(story["approver"]).run()
    assert not at.exception
    top = frame_with(at, "主要审批人")
    assert set(top["主要审批人"]) == {story["approver"]}
    # the loan list: filters in a form, worst first, with a total count
    at.number_input(key="cr_ln_dpd").set_value(1)
    at.selectbox(key="cr_ln_approver").set_value(story["approver"])
    at.form_submit_button[0].click().run()
    assert not at.exception
    loans = frame_with(at, "借据号")
    assert len(loans) > 0 and (loans["逾期天数"] >= 1).all() and set(loans["审批人"]) == {story["approver"]}
    assert any("共" in c.value and "笔" in c.value for c in at.caption)


def test_print_timings(credit_db):
    print("\nAppTest timings (s):", {k: round(v, 2) for k, v in TIMINGS.items()})
