"""The work-dynamics feed (data/feed.py) on a real DuckDB store: audience scope (a notice of one region
neither listed nor found by search in another), bodies stored verbatim, meeting follow-ups linked to
plans (an unknown or out-of-scope plan refused with its own error), the automatic items of a plan's
approval and of a high-severity flag (idempotent), unread markers per person, and refusals that
write nothing. The page's AppTests are at the end (inert rendering of script and Markdown payloads)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from helpers_plans import FOREIGN, HOME, TODAY, new_plan, plan_in, plan_store

from data import audit
from data.feed import Feed, FeedError, FollowUp, anomalies_raised, plan_approved
from data.plans import PlanStore
from metrics.catalogue import CATALOGUE

TABLES = ("ops.feed_items", "ops.feed_actions", "ops.feed_reads", "ops.audit_log")
SCRIPT = "<script>alert('x')</script>"
MARKDOWN = "**加粗** [点我](javascript:alert(1)) # 标题\n- 列表 `code` <b>html</b> $x$ :material/home:"


@pytest.fixture(scope="module")
def world(demo_db_template, tmp_path_factory):
    store, people = plan_store(demo_db_template, tmp_path_factory.mktemp("feed"))
    yield store, people
    store.close()


def region_of(store, branch: str) -> str:
    return store.cursor().execute("SELECT region FROM main.branches WHERE branch_id = ?", [branch]).fetchone()[0]


def state(store) -> dict:
    cur = store.cursor()
    return {t: cur.execute(f"SELECT count(*), sum(hash(t)) FROM {t} t").fetchone() for t in TABLES}


def titles(store, who, **kw) -> set[str]:
    return {i.title for i in Feed(store).items(who, limit=10_000, **kw)}


def refused(store, fn) -> FeedError:
    before = state(store)
    with pytest.raises(FeedError) as exc:
        fn()
    assert state(store) == before, "a refused write changed something"
    return exc.value


# -- scope ---------------------------------------------------------------------------------------
def test_region_notice_reaches_its_region_only_and_search_does_not_leak(world):
    store, people = world
    feed, home_region = Feed(store), region_of(store, HOME)
    assert region_of(store, FOREIGN) != home_region
    feed.post_notice(people["mgr"], title="华东区柜面值守通知 Zebra", body="本周六起高峰时段增开窗口 zebra-code",
                     audience_kind="region", audience_region=home_region)
    feed.post_notice(people["farmgr"], title="华南区信贷复核通知", body="复核 quokka", audience_kind="branches",
                     audience_branches=[FOREIGN])
    feed.post_notice(people["adm"], title="全行系统升级公告", body="周日凌晨升级", audience_kind="bank")
    for who in ("mgr", "ana", "vw"):  # the region's people (a branch of the audience inside their boundary)
        seen = titles(store, people[who])
        assert "华东区柜面值守通知 Zebra" in seen and "全行系统升级公告" in seen and "华南区信贷复核通知" not in seen, who
    for who in ("far", "farmgr"):
        seen = titles(store, people[who])
        assert "华东区柜面值守通知 Zebra" not in seen and "全行系统升级公告" in seen, who
        for q in ("zebra", "ZEBRA-CODE", "柜面值守"):  # title, body, case-insensitive: nothing from the other region
            assert titles(store, people[who], q=q) == set(), (who, q)
    assert titles(store, people["far"], q="QUOKKA") == {"华南区信贷复核通知"}
    assert titles(store, people["ana"], q="Zebra-Code") == {"华东区柜面值守通知 Zebra"}
    everything = titles(store, people["adm"])
    assert {"华东区柜面值守通知 Zebra", "华南区信贷复核通知", "全行系统升级公告"} <= everything
    # the unread count is of the person's own view: an independent count of what they are shown
    for who in ("far", "ana", "adm"):
        shown = [i for i in feed.items(people[who], limit=10_000) if i.unread]
        assert feed.unread_count(people[who]) == len(shown), who


def test_posting_outside_the_boundary_or_without_the_permission_is_refused_with_every_problem(world):
    store, people = world
    feed, home_region = Feed(store), region_of(store, HOME)
    err = refused(store, lambda: feed.post_notice(people["vw"], title=" ", body="", audience_kind="bank"))
    assert {(p.field, p.code.value) for p in err.problems} >= {
        ("permission", "not_permitted"), ("title", "required"), ("body", "required"), ("audience_kind", "outside_scope")}
    err = refused(store, lambda: feed.post_notice(people["farmgr"], title="越权", body="x", audience_kind="region",
                                                  audience_region=home_region))
    assert err.codes() == {"outside_scope"}
    err = refused(store, lambda: feed.post_notice(people["mgr"], title="x", body="x", audience_kind="branches",
                                                  audience_branches=["9999999"]))
    assert err.codes() == {"unknown_branch"}
    err = refused(store, lambda: feed.post_notice(people["mgr"], title="x", body="x", audience_kind="everyone"))
    assert err.codes() == {"unknown_value"}
    err = refused(store, lambda: feed.post_meeting(people["mgr"], title="例会", meeting_on="2025-02-30",
                                                   audience_kind="branches", audience_branches=[HOME]))
    assert {"bad_date", "required"} <= err.codes()


def test_notice_body_is_stored_verbatim(world):
    store, people = world
    feed = Feed(store)
    iid = feed.post_notice(people["mgr"], title=f"标题 {SCRIPT}", body=f"{SCRIPT}\n{MARKDOWN}", audience_kind="branches",
                           audience_branches=[HOME])
    item = next(i for i in feed.items(people["ana"], limit=10_000) if i.item_id == iid)
    assert item.title == f"标题 {SCRIPT}" and item.body == f"{SCRIPT}\n{MARKDOWN}"
    assert [i.item_id for i in feed.items(people["ana"], q="<SCRIPT>")] == [iid]  # a search is not a pattern
    assert all("%" in i.title + (i.body or "") for i in feed.items(people["ana"], q="%", limit=10_000))


# -- meetings ------------------------------------------------------------------------------------
def test_meeting_follow_up_links_a_plan_and_an_unknown_plan_is_refused(world):
    store, people = world
    feed, mgr = Feed(store), people["mgr"]
    plan = new_plan(store, people["ana"])
    foreign = new_plan(store, people["far"], FOREIGN)
    iid = feed.post_meeting(mgr, title="十二月经营分析会", meeting_on=TODAY, body="会议讨论柜面等候时间",
                            audience_kind="branches", audience_branches=[HOME],
                            decisions=["高峰时段增开窗口"],
                            follow_ups=[FollowUp("落实排班调整 walrus", "运营管理部 张三", TODAY + timedelta(days=14),
                                                 plan.plan_id),
                                        {"text": "复盘等候时间", "owner": "李四", "deadline": TODAY.isoformat()}])
    acts = feed.actions([iid], people["ana"])[iid]
    assert [(a.seq, a.action_kind.value) for a in acts] == [(1, "decision"), (2, "follow_up"), (3, "follow_up")]
    linked = acts[1]
    assert (linked.plan_id, linked.plan_title, linked.owner, linked.deadline) == (
        plan.plan_id, plan.title, "运营管理部 张三", TODAY + timedelta(days=14))
    assert acts[2].plan_id is None and not acts[2].plan_visible
    assert titles(store, people["ana"], q="WALRUS") == {"十二月经营分析会"}  # a follow-up's text is searched
    assert titles(store, people["far"], q="walrus") == set()
    assert store.query("feed.follow_ups_for_plan", plan_id=plan.plan_id).rows()[0][2] == "落实排班调整 walrus"
    for bad in ("FA-1999-9999", foreign.plan_id):  # absent and outside the scope answer alike
        err = refused(store, lambda b=bad: feed.post_meeting(
            mgr, title="例会", meeting_on=TODAY, audience_kind="branches", audience_branches=[HOME],
            follow_ups=[FollowUp("跟进", "张三", TODAY, b)]))
        (p,) = err.problems
        assert (p.field, p.code.value) == ("follow_ups[1].plan_id", "unknown_ref") and bad in p.zh and bad in p.en
    err = refused(store, lambda: feed.post_meeting(mgr, title="例会", meeting_on=TODAY, audience_kind="branches",
                                                   audience_branches=[HOME], decisions=[" "],
                                                   follow_ups=[FollowUp("", "", "", "FA-1999-9999")]))
    assert {p.field for p in err.problems} == {"decisions[1]", "follow_ups[1].text", "follow_ups[1].owner",
                                               "follow_ups[1].deadline", "follow_ups[1].plan_id"}
    err = refused(store, lambda: feed.post_meeting(mgr, title="空会", meeting_on=TODAY, audience_kind="branches",
                                                   audience_branches=[HOME]))
    assert [(p.field, p.code.value) for p in err.problems] == [("decisions", "required")]


# -- automatic items -----------------------------------------------------------------------------
def test_plan_approval_writes_one_item_in_its_transaction(world):
    store, people = world
    feed = Feed(store)
    plan_id = plan_in(store, people["adm"], "approved")
    items = [i for i in feed.items(people["adm"], kinds=["plan_approved"], limit=10_000) if i.source_ref == plan_id]
    assert len(items) == 1 and items[0].author == "adm" and plan_id in items[0].body
    assert items[0].title.startswith("方案已批准：") and items[0].title_en.startswith("Plan approved: ")
    assert items[0].audience_kind.value == "branches" and items[0].audience_value == HOME
    assert any(i.source_ref == plan_id for i in feed.items(people["vw"], kinds=["plan_approved"], limit=10_000))
    assert not any(i.source_ref == plan_id for i in feed.items(people["far"], limit=10_000))
    plan = PlanStore(store).get_plan(plan_id, people["adm"])
    with store.transaction() as cur:  # idempotent: a second call writes nothing
        assert plan_approved(store, cur, plan, people["adm"], datetime.now()) is None
    assert len([i for i in feed.items(people["adm"], limit=10_000) if i.source_ref == plan_id]) == 1
    a = audit.search(store, action="plan_move")  # the approval's one audit row names its item
    approve = a[(a["target"] == plan_id) & a["detail"].str.contains('"action": "approve"')]
    assert len(approve) == 1 and f'"feed_item": {items[0].item_id}' in approve.iloc[0]["detail"]
    for status in ("evaluated", "rejected"):  # no item before approval or without it
        other = plan_in(store, people["adm"], status)
        assert not any(i.source_ref == other for i in feed.items(people["adm"], limit=10_000))


def _flag(anomaly_id: str, severity: str, scope_kind: str = "branch", scope_value: str = HOME) -> dict:
    from anomaly.store import AnomalyStore

    row = dict.fromkeys(AnomalyStore.COLUMNS)
    row.update(anomaly_id=anomaly_id, metric_id="counter.wait_avg_min", category="counter", scope_kind=scope_kind,
               scope_value=scope_value, scope_label=scope_value, grain="month", period=TODAY.replace(day=1),
               period_end=TODAY, observed=30.0, expected=10.0, score=9.0, severity=severity, direction="up",
               tone="worse", detector="robust_z", anomaly_kind="spike", sentence_zh=f"等候时间偏高 {anomaly_id}",
               sentence_en=f"Wait time high {anomaly_id}")
    return row


def test_high_severity_flag_writes_one_item_per_anomaly(world):
    from anomaly.store import AnomalyStore

    store, people = world
    feed, astore = Feed(store), AnomalyStore(store)
    rows = [_flag("feedhigh0000001", "high"), _flag("feedmed00000001", "medium"),
            _flag("feedhighregion1", "high", "region", region_of(store, FOREIGN))]
    for _ in range(2):  # the second scan refreshes the same flags: no second item
        with store.transaction() as cur:
            astore.upsert_many(cur, rows, datetime.now())
    auto = {i.source_ref: i for i in feed.items(people["adm"], kinds=["anomaly_raised"], limit=10_000)}
    assert {"feedhigh0000001", "feedhighregion1"} <= set(auto) and "feedmed00000001" not in auto
    assert auto["feedhigh0000001"].body == "等候时间偏高 feedhigh0000001"
    assert auto["feedhigh0000001"].body_in("en") == "Wait time high feedhigh0000001"
    name = CATALOGUE["counter.wait_avg_min"]
    assert auto["feedhigh0000001"].title == f"严重异常：{HOME} · {name.name('zh')}"
    assert auto["feedhigh0000001"].title_in("en") == f"High-severity anomaly: {HOME} · {name.name('en')}"
    mine = {i.source_ref for i in feed.items(people["ana"], kinds=["anomaly_raised"], limit=10_000)}
    assert "feedhigh0000001" in mine and "feedhighregion1" not in mine  # a region's figures: its people only
    assert "feedhighregion1" in {i.source_ref for i in feed.items(people["farmgr"], kinds=["anomaly_raised"])}
    with store.transaction() as cur:  # the hook alone, called again: idempotent
        import pandas as pd

        again = pd.DataFrame([{**{k: _flag("feedhigh0000001", "high")[k] for k in ("anomaly_id", "scope_kind",
                                                                                    "scope_value")},
                               "title": "t", "body": "b", "title_en": "t", "body_en": "b"}])
        assert anomalies_raised(store, cur, again, datetime.now()) == 0


def test_a_scan_raises_an_item_for_every_high_flag_and_no_other(scanned_demo_db):
    """The real scan's path on the scanned demo: anomaly_raised items are exactly its high flags (the
    small demo raises medium and low ones, which must not reach the feed)."""
    from data.store import Store

    store = Store(scanned_demo_db, read_only=True)
    try:
        cur = store.cursor()
        flags = cur.execute("SELECT anomaly_id, severity FROM ops.anomalies").fetchall()
        items = cur.execute("SELECT source_ref FROM ops.feed_items WHERE kind = 'anomaly_raised'").fetchall()
    finally:
        store.close()
    assert any(sev != "high" for _, sev in flags)
    assert sorted(r[0] for r in items) == sorted(a for a, sev in flags if sev == "high")


# -- reads and pins ------------------------------------------------------------------------------
def test_unread_markers_are_per_person(world):
    store, people = world
    feed = Feed(store)
    iid = feed.post_notice(people["mgr"], title="已读测试", body="正文", audience_kind="branches",
                           audience_branches=[HOME])
    foreign = feed.post_notice(people["farmgr"], title="他区通知", body="正文", audience_kind="branches",
                               audience_branches=[FOREIGN])
    before = {w: feed.unread_count(people[w]) for w in ("ana", "vw")}
    assert feed.mark_read([iid, foreign], people["ana"]) == 1  # an item they cannot see is not recorded
    assert feed.unread_count(people["ana"]) == before["ana"] - 1
    assert feed.unread_count(people["vw"]) == before["vw"]
    ana = {i.item_id: i for i in feed.items(people["ana"], limit=10_000)}
    vw = {i.item_id: i for i in feed.items(people["vw"], limit=10_000)}
    assert not ana[iid].unread and vw[iid].unread
    assert iid not in {i.item_id for i in feed.items(people["ana"], unread=True, limit=10_000)}
    assert feed.mark_read([iid], people["ana"]) == 1 and feed.unread_count(people["ana"]) == before["ana"] - 1
    reads = store.cursor().execute("SELECT user_name FROM ops.feed_reads WHERE item_id = ?", [foreign]).fetchall()
    assert reads == []


def test_pinned_first_and_pin_needs_the_permission_and_the_audience(world):
    store, people = world
    feed = Feed(store)
    old = feed.post_notice(people["mgr"], title="置顶测试", body="x", audience_kind="branches", audience_branches=[HOME])
    feed.post_notice(people["mgr"], title="较新的通知", body="x", audience_kind="branches", audience_branches=[HOME])
    feed.set_pinned(old, True, people["mgr"])
    assert feed.items(people["ana"])[0].item_id == old
    err = refused(store, lambda: feed.set_pinned(old, False, people["ana"]))
    assert err.codes() == {"not_permitted"}
    bank = feed.post_notice(people["adm"], title="全行置顶", body="x", audience_kind="bank")
    err = refused(store, lambda: feed.set_pinned(bank, True, people["mgr"]))
    assert err.codes() == {"outside_scope"}
    err = refused(store, lambda: feed.set_pinned(old, True, people["far"]))  # outside: reads as absent
    assert err.codes() == {"not_found"}
    feed.set_pinned(old, False, people["mgr"])
    assert feed.items(people["ana"])[0].item_id != old


# -- the page (AppTest, through app.py as the local admin of BANKPULSE_AUTH=none) ------------------
def _sinks(at) -> list[str]:
    """Every text the page hands to a Markdown sink."""
    return [e.value for kind in ("markdown", "caption", "success", "error", "info", "warning")
            for e in getattr(at, kind)]


def _seed(path):
    from data.store import open_store
    from pages._ui.auth import TEST_USER

    store = open_store()
    feed = Feed(store)
    iid = feed.post_notice(TEST_USER, title=f"标题 {SCRIPT}", body=f"{SCRIPT}\n{MARKDOWN}", audience_kind="bank")
    plan_id = store.cursor().execute("SELECT plan_id FROM ops.plans ORDER BY plan_id LIMIT 1").fetchone()[0]
    return store, feed, iid, plan_id


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_shows_script_and_markdown_payloads_inert(app_db, lang):
    from helpers_app import open_app

    from pages._ui.widgets import inert

    store, feed, iid, _ = _seed(app_db)
    at = open_app("pages/feed.py", lang)
    assert not at.exception, at.exception
    assert at.title[0].value == ("工作动态" if lang == "zh" else "Work feed")
    sinks = _sinks(at)
    assert not any("<script>" in s or "<b>" in s or "**加粗**" in s or "](javascript" in s for s in sinks)
    assert any(s.endswith(f" **{inert('标题 ' + SCRIPT)}**") for s in sinks)  # the title, escaped, bold around it
    body = "  \n".join(inert(x) for x in f"{SCRIPT}\n{MARKDOWN}".splitlines())
    assert body in sinks
    if lang == "en":  # an automatic item (a demo plan's approval) in English
        assert any(inert("Plan approved: ") in s for s in sinks)
    stored = store.cursor().execute("SELECT body FROM ops.feed_items WHERE item_id = ?", [iid]).fetchone()[0]
    assert stored == f"{SCRIPT}\n{MARKDOWN}"  # opening the page changed nothing


def test_page_posts_a_notice_and_a_meeting_and_marks_read(app_db):
    from helpers_app import open_app

    from pages._ui.auth import TEST_USER
    from pages._ui.widgets import inert

    store, feed, iid, plan_id = _seed(app_db)
    at = open_app("pages/feed.py", "zh")
    assert not at.exception, at.exception
    before = feed.unread_count(TEST_USER)
    at.button(key=f"fd_read_{iid}").click().run()
    assert not at.exception, at.exception
    assert feed.unread_count(TEST_USER) == before - 1
    assert not [b for b in at.button if b.key == f"fd_read_{iid}"]  # its marker and button are gone
    # a notice through the form: stored verbatim, shown escaped
    at.text_input(key="fd_n_title").set_value("页面发布 <img src=x onerror=alert(1)>")
    at.text_area(key="fd_n_body").set_value("# 不是标题\n<script>1</script>")
    at.button(key="fd_n_post").click().run()
    assert not at.exception, at.exception
    assert at.success and inert("页面发布 <img src=x onerror=alert(1)>") in at.success[0].value
    top = feed.items(TEST_USER, kinds=["notice"], limit=1)[0]
    assert (top.title, top.body) == ("页面发布 <img src=x onerror=alert(1)>", "# 不是标题\n<script>1</script>")
    # a meeting record with a decision and a follow-up linked to a plan picked from the list
    at.text_input(key="fd_m_title").set_value("周例会")
    at.text_area(key="fd_m_decisions").set_value("增开窗口\n调整排班")
    at.text_input(key="fd_m_fu1_text").set_value("落实排班")
    at.text_input(key="fd_m_fu1_owner").set_value("张三")
    at.date_input(key="fd_m_fu1_deadline").set_value(TODAY + timedelta(days=7))
    at.selectbox(key="fd_m_fu1_plan").set_value(plan_id)
    at.button(key="fd_m_post").click().run()
    assert not at.exception, at.exception
    meeting = feed.items(TEST_USER, kinds=["meeting"], limit=1)[0]
    acts = feed.actions([meeting.item_id], TEST_USER)[meeting.item_id]
    assert [(a.action_kind.value, a.text, a.plan_id) for a in acts] == [
        ("decision", "增开窗口", None), ("decision", "调整排班", None), ("follow_up", "落实排班", plan_id)]
    assert any(plan_id in str(df.value.to_dict()) for df in at.dataframe)
    # a follow-up without an owner or a deadline: every problem shown, nothing written
    n = len(feed.items(TEST_USER, kinds=["meeting"], limit=100))
    assert at.text_input(key="fd_m_fu1_owner").value == "" and at.text_area(key="fd_m_decisions").value == ""
    at.text_input(key="fd_m_title").set_value("缺项会议")
    at.text_input(key="fd_m_fu1_text").set_value("只有事项")
    at.button(key="fd_m_post").click().run()
    assert at.error and "责任人" in at.error[0].value and "完成期限" in at.error[0].value
    assert len(feed.items(TEST_USER, kinds=["meeting"], limit=100)) == n
    # search narrows the list
    at.text_input(key="fd_q").set_value("周例会").run()
    titles_shown = [s for s in _sinks(at) if ":gray-badge[" in s]  # one heading line per item
    assert titles_shown and all("周例会" in s for s in titles_shown)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_overview_shows_the_latest_items_and_the_unread_count(app_db, lang):
    from helpers_app import open_app

    from pages._ui.auth import TEST_USER
    from pages._ui.widgets import inert

    store, feed, iid, _ = _seed(app_db)
    at = open_app(None, lang)
    assert not at.exception, at.exception
    sinks = _sinks(at)
    unread = feed.unread_count(TEST_USER)
    assert f":blue-badge[{'未读 ' + str(unread) + ' 条' if lang == 'zh' else str(unread) + ' unread'}]" in sinks
    latest = feed.items(TEST_USER, limit=5)
    assert latest[0].item_id == iid
    for item in latest:  # the five newest, each title inert
        assert any(inert(item.title_in(lang)) in s for s in sinks), item.title
    assert not any("<script>" in s for s in sinks)


def test_cli_feed_list_is_scoped_and_searches(demo_db_template, tmp_path, capsys):
    import json

    from cli.main import main

    store, people = plan_store(demo_db_template, tmp_path)
    feed = Feed(store)
    feed.post_notice(people["mgr"], title="华东区通知 heron", body="<b>正文</b>", audience_kind="branches",
                     audience_branches=[HOME])
    feed.post_notice(people["farmgr"], title="华南区通知 ibis", body="x", audience_kind="branches",
                     audience_branches=[FOREIGN])
    db = str(store.path)
    store.close()

    def ask(*argv) -> list[dict]:
        assert main(["--db", db, *argv]) == 0
        return json.loads(capsys.readouterr().out)

    assert [r["title"] for r in ask("--as", "far", "feed", "list", "--format", "json")] == ["华南区通知 ibis"]
    mine = ask("--as", "ana", "feed", "list", "--format", "json")
    assert [(r["title"], r["body"], r["unread"]) for r in mine] == [("华东区通知 heron", "<b>正文</b>", True)]
    assert ask("--as", "far", "feed", "list", "--search", "HERON", "--format", "json") == []
    assert ask("--as", "ana", "feed", "list", "--kind", "meeting", "--format", "json") == []
    assert main(["--db", db, "--as", "ana", "feed", "list", "--kind", "rumour"]) != 0
