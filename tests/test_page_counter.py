"""The counter page (AppTest) on the real demo store, in zh and en; the DuckDB analyses (plain pytest);
its staffing section (pages/_ui/staffing.py) against metrics.staffing computed apart, the what-if
planner against `bankpulse staffing what-if`, a suggestion's link made into a staffing plan on the
actions page, and a scoped manager's section."""
from __future__ import annotations

import base64
import json
from datetime import date
from urllib.parse import parse_qsl

import numpy as np
import pytest
from helpers_app import open_app, reset_caches
from streamlit.testing.v1 import AppTest

import data.store
from data.settings import get_settings
from metrics import compute, counter_analysis, staffing
from metrics.model import Grain
from metrics.scope import Scope


def counter_page(lang: str) -> AppTest:
    """The counter page in `lang` (English through the language control; see test_page_overview.overview)."""
    at = open_app("pages/counter.py")
    if lang == "en":
        at.get_by_key("lang").set_value("en").run()
    return at


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_counter_renders(app_db, lang):
    at = counter_page(lang)
    assert not at.exception, at.exception
    assert at.title[0].value == ("柜台业务" if lang == "zh" else "Counter")
    # volume, wait histogram, wait trend, 2 heatmaps, the staffing heat map, 2 service-type bars
    assert len(at.get("plotly_chart")) == 8
    assert len(at.dataframe) == 2  # the staffing suggestions, the branch ranking
    assert len(at.get("download_button")) == 7  # one per chart / table block
    subheaders = [h.value for h in at.subheader]
    assert ("等候时间分布" if lang == "zh" else "Wait-time distribution") in subheaders
    assert any(s.startswith("网点排名" if lang == "zh" else "Branch ranking") for s in subheaders)


def test_ranking_matches_catalogue(app_db):
    """The ranking shows, per outlet, the catalogue KPIs of the last period."""
    at = counter_page("zh")
    store = data.store.open_store(app_db)
    table = at.dataframe[1].value  # after the staffing suggestions
    assert len(table) == 3  # three demo outlets
    hi = compute.data_span(store, "counter_tickets")[1]
    period = compute.period_start(hi, Grain.MONTH)
    served = compute.series(store, "counter.tickets_served", Grain.MONTH, period, hi, ("branch",), Scope())
    p90 = compute.series(store, "counter.wait_p90_min", Grain.MONTH, period, hi, ("branch",), Scope())
    by_id = table.set_index("branch")
    for _, r in served.iterrows():
        assert by_id.loc[r["branch"], "served"] == r["value"]
    for _, r in p90.iterrows():
        assert by_id.loc[r["branch"], "wait_p90"] == pytest.approx(r["value"])
    assert list(table["served"]) == sorted(table["served"], reverse=True)


def test_histogram_and_heatmap(app_db):
    store = data.store.open_store(app_db)
    start, end = date(2025, 1, 1), date(2025, 12, 31)
    hist = counter_analysis.wait_histogram(store, start, end)
    assert list(hist["bucket"]) == list(range(0, 65, 5))
    called = store.cursor().execute(
        "SELECT count(*) FROM counter_tickets WHERE call_time IS NOT NULL AND wait_seconds IS NOT NULL "
        "AND business_date BETWEEN $s AND $e", {"s": start, "e": end}).fetchone()[0]
    assert hist["tickets"].sum() == called
    assert hist["share"].sum() == pytest.approx(1.0)
    over = store.cursor().execute(
        "SELECT count(*) FROM counter_tickets WHERE call_time IS NOT NULL AND wait_seconds >= 3600 "
        "AND business_date BETWEEN $s AND $e", {"s": start, "e": end}).fetchone()[0]
    assert hist.iloc[-1]["tickets"] == over

    hm = counter_analysis.heatmap(store, start, end)
    assert set(hm["weekday"]) <= set(range(1, 8))
    issued = store.cursor().execute("SELECT count(*) FROM counter_tickets WHERE business_date BETWEEN $s AND $e",
                                    {"s": start, "e": end}).fetchone()[0]
    assert hm["tickets"].sum() == issued
    assert (hm["arrivals_per_day"] * hm["days"]).round(6).tolist() == hm["tickets"].astype(float).tolist()


def test_scope_applies(app_db):
    """A branch filter narrows the DuckDB analyses (access scope goes through compiler.scoped)."""
    store = data.store.open_store(app_db)
    start, end = date(2025, 1, 1), date(2025, 12, 31)
    one = store.cursor().execute("SELECT min(branch_id) FROM counter_tickets").fetchone()[0]
    all_ = counter_analysis.wait_histogram(store, start, end)["tickets"].sum()
    mine = counter_analysis.wait_histogram(store, start, end, Scope(branch=one))["tickets"].sum()
    none = counter_analysis.wait_histogram(store, start, end, Scope(branch_ids=frozenset()))["tickets"].sum()
    assert 0 < mine < all_ and none == 0


# -- staffing advice -------------------------------------------------------------------------------
def _expected(db, f):
    """The advice and suggestions for the page's filters, computed apart from the page (no cache)."""
    adv = staffing.advice(data.store.open_store(db), f.start, f.end, f.scope, staffing.target_from_settings())
    return adv, staffing.suggestions(adv)


def _links(at) -> list[dict]:
    return [dict(parse_qsl(pl.proto.query_string)) for pl in at.get("page_link")
            if "origin_kind=staffing_advice" in pl.proto.query_string]


def _heat(at) -> dict:
    """The staffing heat map's trace, its z as nested lists (Plotly sends typed arrays base64-encoded)."""
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    heat = [s["data"][0] for s in specs if s["data"][0].get("type") == "heatmap" and s["data"][0].get("zmid") == 0]
    assert len(heat) == 1
    z = heat[0]["z"]
    if isinstance(z, dict):  # {"dtype": "f8", "bdata": …, "shape": "7, 9"}
        shape = [int(n) for n in str(z["shape"]).split(",")]
        z = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape).tolist()
    return {**heat[0], "z": z}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_staffing_section_shows_the_advice(app_db, lang):
    """The heat map is open − needed of the chosen branch, the ranked suggestions are
    metrics.staffing's in the page's language, each of the first five with its plan link."""
    at = counter_page(lang)
    assert not at.exception, at.exception
    assert ("窗口配置建议" if lang == "zh" else "Staffing advice") in [h.value for h in at.subheader]
    f = at.session_state["_filters"]
    adv, sugg = _expected(app_db, f)
    assert len(sugg) > 5 and (sugg["kind"] == "shortage").any()
    branch = at.selectbox(key="sf_branch").value
    assert branch == sugg.iloc[0]["branch_id"]  # the branch of the largest shortage first
    mine = adv[adv["branch_id"] == branch]
    heat = _heat(at)
    wd = [staffing.WEEKDAYS[d][0 if lang == "zh" else 1] for d in sorted(mine["weekday"].unique())]
    assert heat["y"] == wd
    for r in mine.itertuples():
        got = heat["z"][wd.index(staffing.WEEKDAYS[r.weekday][0 if lang == "zh" else 1])][heat["x"].index(f"{r.hour}:00")]
        assert got == pytest.approx(r.surplus)
    lines = [m.value for m in at.markdown if m.value.startswith("**") and m.value[2].isdigit()]
    assert len(lines) == 5
    for line, (_, s) in zip(lines, sugg.head(5).iterrows(), strict=True):
        assert line.startswith(f"**{s['rank']}.** ") and line.endswith(staffing.suggestion_text(s, lang))
    if lang == "zh":
        assert "需 3 个窗口，实开 2 个" in lines[0]
    else:
        assert "3 windows needed, 2 open" in lines[0]
    links = _links(at)
    assert [q["origin_ref"] for q in links] == [staffing.suggestion_ref(s) for _, s in sugg.head(5).iterrows()]
    assert all(q["kind"] == "staffing" and q["new"] == "1" for q in links)
    table = at.dataframe(key="sf_table").value
    assert len(table) == len(sugg)


def test_what_if_planner_prints_the_cli_figures(app_db, capsys):
    """The planner's defaults are the chosen branch's busiest hour; its figures are the CLI's."""
    from cli.main import main

    at = counter_page("zh")
    f = at.session_state["_filters"]
    adv, _ = _expected(app_db, f)
    branch = at.selectbox(key="sf_branch").value
    busiest = adv[adv["branch_id"] == branch].sort_values("arrivals_per_hour", ascending=False).iloc[0]
    arr = at.number_input(key=f"sf_w_arr_{branch}")
    assert arr.value == round(busiest["arrivals_per_hour"], 1)
    s = get_settings()

    def cli(windows: int) -> dict:
        argv = ["staffing", "what-if", "--arrivals-per-hour", str(arr.value),
                "--aht-min", str(at.number_input(key=f"sf_w_aht_{branch}").value), "--windows", str(windows),
                "--target-s", str(s.staffing_sl_minutes * 60), "--max-occupancy", str(s.staffing_max_occupancy),
                "--shrinkage", "0", "--format", "json"]
        pat = at.number_input(key=f"sf_w_pat_{branch}").value
        if pat:
            argv += ["--patience-min", str(pat)]
        assert main(argv) == 0
        reset_caches()  # the command line closes the process's stores on exit (it runs apart in real use)
        return json.loads(capsys.readouterr().out)

    def shown() -> dict:
        return {m.label: m.value for m in at.metric}

    want: dict = {}
    for step in ("defaults", "needed"):
        if step == "needed":  # the windows the CLI says are needed: the planner reaches the target
            at.number_input(key=f"sf_w_win_{branch}").set_value(want["windows_needed"]).run()
            assert not at.exception, at.exception
        want = cli(int(at.number_input(key=f"sf_w_win_{branch}").value))
        got = shown()
        assert got["等待概率"] == f"{want['p_wait']:.1%}"
        assert got["服务水平"] == f"{want['service_level']:.1%}"
        assert got["平均等候"] == ("排队无限增长" if want["avg_wait_s"] is None else f"{want['avg_wait_s'] / 60:.1f} 分钟")
        assert got["窗口占用率"] == f"{want['occupancy']:.1%}"
        assert got["放弃率"] == ("—" if want["p_abandon"] is None else f"{want['p_abandon']:.2%}")
        assert got["所需窗口 / 排班"] == f"{want['windows_needed']} 个 / {want['rostered']} 人"
    assert want["service_level"] >= s.staffing_sl_share


def test_a_suggestion_link_creates_a_staffing_plan(app_db):
    """The first suggestion's link, followed: the actions page's form is filled in as a staffing plan;
    submitted, data/plans stores it with origin staffing_advice and the suggestion's reference."""
    from data.plans import PlanStore
    from data.plans.model import PlanKind
    from pages._ui.auth import TEST_USER

    at = counter_page("zh")
    f = at.session_state["_filters"]
    _, sugg = _expected(app_db, f)
    first = sugg.iloc[0]
    query = _links(at)[0]
    store = data.store.open_store(app_db)
    name = store.cursor().execute("SELECT branch_name FROM main.branches WHERE branch_id = $b",
                                  {"b": first["branch_id"]}).fetchone()[0]
    title, change = staffing.plan_texts(first, name, staffing.target_from_settings())
    assert query["origin_ref"] == staffing.suggestion_ref(first) and query["title"] == title

    page = open_app("pages/actions.py", query=query)
    assert not page.exception, page.exception
    assert page.text_input(key="ac_f_title").value == title
    assert page.text_area(key="ac_f_change").value == change
    assert page.multiselect(key="ac_f_branches").value == [first["branch_id"]]
    assert page.multiselect(key="ac_f_kpis").value == ["counter.wait_avg_min"]
    assert page.text_input(key="ac_f_owner").value == "运营管理部"
    page.button(key="ac_f_create").click().run()
    assert not page.exception, page.exception
    found = PlanStore(store).plans_for_origin("staffing_advice", staffing.suggestion_ref(first), TEST_USER)
    assert len(found) == 1
    plan = found[0]
    assert plan.kind == PlanKind.STAFFING and plan.title == title and plan.change_text == change
    assert list(plan.scope_branches) == [first["branch_id"]] and list(plan.target_kpis) == ["counter.wait_avg_min"]
    origin = PlanStore(store).get_plan(plan.plan_id, TEST_USER).origins
    assert [(o.origin_kind.value, o.origin_ref) for o in origin] == [("staffing_advice", query["origin_ref"])]
    assert not any(k in page.query_params for k in ("new", "origin_kind"))  # the prefill is used up
    # back on the counter page, the suggestion names the plan it led to
    again = counter_page("zh")
    assert any(plan.plan_id in c.value for c in again.caption)


def test_a_scoped_manager_sees_only_their_branches(secure_store):
    """A manager of 华南区 signs in: the section's branches and suggestions are exactly metrics.staffing's
    for their boundary, and equal the whole bank's rows of those branches."""
    from conftest import PASSWORD

    from data.users import UserStore

    at = open_app(timeout=90)
    at.text_input(key="auth_user").set_value("mgr")
    at.text_input(key="auth_password").set_value(PASSWORD)
    at.form_submit_button[0].click().run()
    at.switch_page("pages/counter.py").run()
    assert not at.exception, at.exception
    bound = UserStore(secure_store).get("mgr").principal().boundary(secure_store)
    f = at.session_state["_filters"]
    assert f.scope.branch_ids == bound and bound
    target = staffing.target_from_settings()
    mine = staffing.advice(secure_store, f.start, f.end, Scope(branch_ids=bound), target)
    whole = staffing.advice(secure_store, f.start, f.end, Scope(), target)
    assert set(whole["branch_id"]) > set(mine["branch_id"]) and set(mine["branch_id"]) <= bound
    sugg = staffing.suggestions(mine)
    table = at.dataframe(key="sf_table").value
    assert set(table.iloc[:, 3]) <= bound  # the branch-id column
    assert list(table.iloc[:, 4]) == [staffing.suggestion_text(s) for _, s in sugg.iterrows()]
    options = at.selectbox(key="sf_branch").options  # "name（id）"
    assert options and {o.rsplit("（", 1)[1].rstrip("）") for o in options} == set(mine["branch_id"])
    assert {q["branches"] for q in _links(at)} <= bound
    theirs = whole[whole["branch_id"].isin(bound)].reset_index(drop=True)
    assert list(theirs["windows_needed"]) == list(mine.reset_index(drop=True)["windows_needed"])
