"""Hot topics from complaint texts (metrics/topics.py): rules, precedence, terms, emerging terms."""
from __future__ import annotations

from datetime import date

import ibis
import pandas as pd
import pytest

from metrics import topics as tp
from metrics.model import Grain
from metrics.scope import Scope

SAMPLES = {
    "wait": "人民路网点只开了两个窗口，排队等了一个多小时才叫号。",
    "procedure": "开个户要准备一堆材料，跑了四趟还说缺证明，手续太繁琐。",
    "attitude": "柜员态度很差，说话不耐烦，几个人互相推诿。",
    "fees": "未经告知被扣收年费和小额账户管理费，收费标准不透明。",
    "system": "手机银行一直闪退，无法登录，客服说系统故障。",
    "collection": "催收人员天天打电话骚扰我的家人和同事。",
    "privacy": "刚办完业务就接到推销电话，怀疑个人信息被泄露。",
    "marketing": "办理贷款时被要求捆绑购买保险，属于搭售。",
}


@pytest.mark.parametrize("topic,text", SAMPLES.items())
def test_each_topic_is_recognised(topic, text):
    assert topic in tp.classify(text)


def test_a_sentence_can_hit_two_topics():
    text = "排队等了一个小时，柜员态度还很不耐烦。"
    assert tp.classify(text) == ["wait", "attitude"]


def test_no_topic_and_empty_text():
    assert tp.classify("咨询周末是否营业。") == []
    assert tp.classify("") == [] and tp.classify(None) == []
    assert tp.topics_of("咨询周末是否营业。") == []


def test_variant_pattern_beyond_the_seeds():
    assert "procedure" in tp.classify("为了开卡跑了三趟")


def test_hot_topic_column_wins_over_rules():
    text = SAMPLES["wait"]
    assert tp.topics_of(text, "收费") == ["fees"]  # a known topic by its Chinese name
    assert tp.topics_of(text, "System failures") == ["system"]  # or its English name
    assert tp.topics_of(text, "收费、信息安全") == ["fees", "privacy"]  # several labels
    assert tp.topics_of(text, "理财亏损") == ["理财亏损"]  # a label of the source's own, kept as is
    assert tp.topics_of(text, None) == ["wait"]  # empty cell → rules
    assert tp.topics_of(text, "  ") == ["wait"]
    assert tp.topics_of(text, float("nan")) == ["wait"]


def test_analyse_counts_topics_and_prefers_hot_topic():
    rows = pd.DataFrame({
        "period": [date(2025, 1, 1)] * 3,
        "description": [SAMPLES["wait"], SAMPLES["fees"], "排队等候太久，态度也差"],
        "hot_topic": [None, None, "收费"],
    })
    rep = tp.analyse(rows)
    counts = dict(zip(rep.trend["topic"], rep.trend["count"], strict=True))
    assert counts["wait"] == 1  # the third complaint's own label (收费) wins over its words
    assert counts["fees"] == 2
    assert "attitude" not in counts
    assert rep.n_texts == 3 and not rep.sampled


def _two_period_corpus() -> pd.DataFrame:
    jan, feb = date(2025, 1, 1), date(2025, 2, 1)
    rows = []
    for _i in range(20):
        rows.append((jan, "网点排队等候时间太长，窗口少。"))
    for _i in range(10):
        rows.append((feb, "网点排队等候时间太长，窗口少。"))
    for _i in range(10):
        rows.append((feb, "手机银行升级后闪退，转账失败。"))
    return pd.DataFrame(rows, columns=["period", "description"])


def test_emerging_terms_on_a_two_period_corpus():
    rep = tp.analyse(_two_period_corpus(), prev_periods=3)
    assert rep.last_period == date(2025, 2, 1)
    assert rep.prev_periods == [date(2025, 1, 1)]
    em = rep.emerging
    assert not em.empty
    new = {"手机", "银行", "升级", "闪退", "转账", "失败"} - tp.STOP_WORDS
    top = em[em["lift"] == em["lift"].max()]
    assert "闪退" in set(top["term"]) and set(top["term"]) <= new
    assert list(em["term"]) == sorted(em["term"], key=lambda w: (-em.set_index("term").loc[w, "lift"], w))
    assert {"排队", "等候"}.isdisjoint(set(em["term"]))  # fell from 100 % to 50 % of complaints
    row = em.set_index("term").loc["闪退"]
    assert row["last_count"] == 10 and row["prev_avg"] == 0 and row["topic"] == "system"
    assert (em["lift"] > 1).all()


def test_top_terms_per_topic():
    rep = tp.analyse(_two_period_corpus(), top_n=5)
    wait = rep.top_terms[rep.top_terms["topic"] == "wait"]
    assert list(wait["rank"]) == list(range(1, len(wait) + 1))
    assert {"排队", "等候", "窗口少"} <= set(wait["term"])
    assert wait["seed"].any()
    assert "网点" not in set(rep.top_terms["term"])  # a stop word


def test_branch_names_are_blanked_from_terms():
    rows = pd.DataFrame({"period": [date(2025, 1, 1)] * 4, "description": ["人民路网点排队等了很久"] * 4})
    with_names = tp.analyse(rows, branch_names=["人民路网点"])
    assert not {"人民", "人民路"} & set(with_names.top_terms["term"])
    assert with_names.trend.set_index("topic").loc["wait", "count"] == 4  # the rules still read the text


def test_output_is_deterministic():
    corpus = _two_period_corpus()
    a, b = tp.analyse(corpus), tp.analyse(corpus.sample(frac=1, random_state=3).sort_values("period", kind="stable"))
    pd.testing.assert_frame_equal(a.trend, b.trend)
    pd.testing.assert_frame_equal(a.top_terms, b.top_terms)
    pd.testing.assert_frame_equal(a.emerging, b.emerging)
    c = tp.analyse(corpus)
    pd.testing.assert_frame_equal(a.emerging, c.emerging)


def test_empty_input():
    rep = tp.analyse(pd.DataFrame({"period": [], "description": []}))
    assert rep.trend.empty and rep.emerging.empty and rep.n_texts == 0
    assert tp.topic_frame(rep, "zh").empty


def test_topic_names_in_both_languages():
    assert tp.topic_name("wait", "zh") == "等待时间过长"
    assert tp.topic_name("wait", "en") == "Long waits"
    assert tp.topic_name(tp.OTHER, "en") == "Unclassified"
    assert tp.topic_name("理财亏损", "en") == "理财亏损"


def test_fetch_texts_is_scoped_bounded_and_sampled_deterministically():
    con = ibis.duckdb.connect()
    con.create_table("branches", pd.DataFrame({
        "branch_id": ["B1", "B2"], "branch_name": ["人民路网点", "解放路网点"], "level": ["outlet"] * 2,
        "region": ["东区", "西区"], "parent_id": pd.Series([None, None], dtype="string")}))
    n = 30
    con.create_table("feedback_records", pd.DataFrame({
        "feedback_id": [f"F{i:03d}" for i in range(n)],
        "received_at": pd.to_datetime([f"2025-0{1 + i % 3}-10 10:00" for i in range(n)]),
        "feedback_kind": ["complaint"] * (n - 2) + ["praise", "complaint"],
        "branch_id": ["B1" if i % 2 else "B2" for i in range(n)],
        "description": [SAMPLES["wait"]] * (n - 1) + [None],
        "hot_topic": pd.Series([None] * n, dtype="string"),
    }))
    rows, total = tp.fetch_texts(con, date(2025, 1, 1), date(2025, 3, 31), Grain.MONTH, Scope())
    assert total == n - 2 and len(rows) == n - 2  # praise and the empty description left out
    assert list(rows.columns) == ["period", "branch_id", "description", "hot_topic"]
    east, _ = tp.fetch_texts(con, date(2025, 1, 1), date(2025, 3, 31), Grain.MONTH, Scope(region="东区"))
    assert set(east["branch_id"]) == {"B1"}
    boundary, _ = tp.fetch_texts(con, date(2025, 1, 1), date(2025, 3, 31), Grain.MONTH,
                                 Scope(branch_ids=frozenset({"B2"})))
    assert set(boundary["branch_id"]) == {"B2"}
    s1, total1 = tp.fetch_texts(con, date(2025, 1, 1), date(2025, 3, 31), Grain.MONTH, Scope(), limit=10)
    s2, _ = tp.fetch_texts(con, date(2025, 1, 1), date(2025, 3, 31), Grain.MONTH, Scope(), limit=10)
    assert len(s1) == 10 and total1 == n - 2
    pd.testing.assert_frame_equal(s1, s2)
    rep = tp.hot_topics(con, date(2025, 1, 1), date(2025, 3, 31), Grain.MONTH, Scope(), limit=10)
    assert rep.sampled and rep.n_texts == 10 and rep.n_total == n - 2
