"""考核 page (pages/scorecard.py) through app.py in AppTest, on the hand-computed world of
tests/helpers_scorecard.py (tests/test_scorecard.py has its table): the ranking in both languages,
the drill-down from a branch's score to its criteria and a KPI's trend, a branch reader who sees
their own row and rank only, and the administrator's form (every problem at once; a saved version)."""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from helpers_app import open_app, reset_caches, use_store
from helpers_scorecard import FEB, A, B, C, D, build_world

from data.store import open_store
from data.users import UserStore

PAGE = "pages/scorecard.py"
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    path = tmp_path_factory.mktemp("sc_page") / "world.duckdb"
    store = build_world(path.parent)
    UserStore(store).add("test-setup", "vb", "viewer", password=PASSWORD, branches=B)
    store.close()
    shutil.move(path.parent / "s.duckdb", path)
    return path


@pytest.fixture()
def page_db(world, tmp_path, monkeypatch):
    path = tmp_path / "bankpulse.duckdb"
    shutil.copy(world, path)
    use_store(path, monkeypatch)
    yield path
    reset_caches()


def _february(at):
    at.selectbox(key="sc_period_month").set_value(FEB).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_ranking_and_drill_down(page_db, lang):
    at = _february(open_app(PAGE, lang))
    table = at.dataframe[0].value
    assert list(table.iloc[:, 1]) == [A, D, B, C]
    score = "得分" if lang == "zh" else "Score"
    assert list(table[score]) == ["92.5", "34.4", "22.5", "—"]
    assert table.iloc[3, 0] == ("不评分" if lang == "zh" else "no score")
    at.selectbox(key="sc_unit").set_value(B).run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[score] == "22.5"
    assert metrics["名次" if lang == "zh" else "Rank"] == ("第3名 / 共3个" if lang == "zh" else "3 of 3")
    detail = at.dataframe[1].value
    assert len(detail) == 4
    pts = "得分/权重" if lang == "zh" else "Points / weight"
    assert list(detail[pts]) == ["0.0 / 30", "0.0 / 20", "22.5 / 30", "0.0 / 20"]
    measured = "本期实际" if lang == "zh" else "Measured"
    assert detail[measured].iloc[2] == ("10.0天" if lang == "zh" else "10.0 days")
    # … and on to the KPI behind a criterion: B's CSAT trend
    at.selectbox(key="sc_kpi").set_value("feedback.satisfaction_rate").run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 1


def test_a_branch_reader_sees_their_row_and_rank_only(page_db, monkeypatch):
    monkeypatch.setenv("BANKPULSE_AUTH", "local")
    reset_caches()
    at = open_app()
    at.text_input(key="auth_user").set_value("vb")
    at.text_input(key="auth_password").set_value(PASSWORD)
    at.form_submit_button[0].click().run()
    at.switch_page(PAGE).run()
    at = _february(at)
    table = at.dataframe[0].value
    assert list(table.iloc[:, 1]) == [B] and table.iloc[0, 0] == "第3名 / 共3个"
    assert at.selectbox(key="sc_unit").options == ["解放路网点（0101002）"]
    assert not at.expander  # the definition form is for administrators


def test_the_form_lists_every_problem_and_saves_a_version(page_db):
    at = open_app(PAGE)
    text = at.text_area(key="sc_text").value
    bad = text.replace("weight = 30", "weight = 35", 1).replace('measure = "feedback.satisfaction_rate"',
                                                                'measure = "feedback.no_such"', 1)
    at.text_area(key="sc_text").input(bad)
    at.button(key="FormSubmitter:sc_form-保存为新版本").click().run()
    assert not at.exception, at.exception
    issues = at.dataframe[-1].value
    assert set(issues["代码"]) == {"weights_not_100", "unknown_measure"}
    con = open_store(page_db).cursor()
    assert con.execute("SELECT count(*) FROM ops.scorecard_versions").fetchone()[0] == 2  # nothing written
    at.text_area(key="sc_text").input(text.replace("version = 7", "version = 8"))
    at.text_input(key="sc_note").input("测试保存")
    at.button(key="FormSubmitter:sc_form-保存为新版本").click().run()
    assert not at.exception, at.exception
    assert at.success and "第3版" in at.success[0].value
    row = con.execute("SELECT version_id, def_version, effective_from, origin, note FROM ops.scorecard_versions "
                      "ORDER BY version_id DESC LIMIT 1").fetchone()
    assert row == (3, 8, date.today().replace(day=1), "form", "测试保存")
