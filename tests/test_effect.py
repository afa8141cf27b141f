"""Effect evaluation (metrics/effect.py) on a real seeded demo store with the planted effects
(data/demo/effects.py): 20 outlets × 2 years, seed 7, through the real ingest (built once, ~1 min).

The planted truths are counterfactuals (the same seeded draws with and without the change), so
"recovers the effect" means: the 95 % interval covers the generator's number and excludes 0.
"""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from helpers_demo import AS_OF

from data.demo import DemoSpec
from data.demo.effects import planted_effects
from metrics.effect import DEFAULT_RULE, ComparisonRule, EffectRefused, ReasonCode, estimate_effect
from metrics.model import Grain

SPEC = DemoSpec(seed=7, branches=20, years=2, as_of=AS_OF)


@pytest.fixture(scope="module")
def effect_store(tmp_path_factory):
    from helpers_demo import demo_store

    from data.store import Store

    base = tmp_path_factory.getbasetemp() / "bankpulse_effect_demo"
    db = demo_store(base, SPEC)
    store = Store(db)
    yield store, json.loads((base / "files" / "story.json").read_text(encoding="utf-8"))
    store.close()


@pytest.fixture(scope="module")
def planted(effect_store):
    _, story = effect_store
    return {e.kind: e for e in planted_effects(SPEC, story)}


def _estimate(store, e, **kw):
    return estimate_effect(store, e.metric_id, frozenset(e.branch_ids), e.start, grain=Grain(e.grain), **kw)


def test_declarations(planted):
    s, p = planted["staffing"], planted["process"]
    assert (s.metric_id, s.unit_zh, len(s.branch_ids)) == ("counter.wait_avg_min", "分钟", 2)
    assert s.start == date(2025, 6, 2) and s.start.weekday() == 0
    assert -9 < s.true_effect < -4.5  # about 7 minutes (the counterfactual difference; effects.py says why not 4)
    assert (p.metric_id, p.unit_zh, p.grain) == ("credit.disbursed_count", "笔", "month")
    assert p.start == date(2025, 10, 1) and p.true_effect < -2
    assert s.title_zh and s.description_en and p.title_en and "王磊" in p.title_zh


@pytest.mark.parametrize("kind", ["staffing", "process"])
def test_recovers_planted_effect(effect_store, planted, kind):
    store, _ = effect_store
    e = planted[kind]
    est = _estimate(store, e)
    assert est.ci_low <= e.true_effect <= est.ci_high, (est.effect, est.ci_low, est.ci_high, e.true_effect)
    assert est.ci_high < 0 and est.significant
    if kind == "staffing":
        assert est.credible, est.reasons
    # the approval fix: on this seed the pre-trend check flags its 6 pre-months at p = 0.042 (a June bump at
    # the treated outlets) — a 1-in-20 false alarm of a 5 % test; the estimate itself covers the truth
    if est.credible:
        assert est.words_zh.endswith("实施前趋势平行，结论可信。")
    else:
        assert "结论不可信" in est.words_zh and est.reasons[0].zh in est.words_zh
    assert est.unit_zh == e.unit_zh
    assert "下降" in est.words_zh and e.unit_zh in est.words_zh and "置信区间" in est.words_zh
    assert "fell by" in est.words_en and "95% CI" in est.words_en
    f = est.frame
    assert {"period", "post", "treated_mean", "comparison_mean", "counterfactual"} <= set(f.columns)
    assert f["post"].sum() == est.n_post and (~f["post"]).sum() == est.n_pre


def test_placebo_untreated_outlets(effect_store, planted):
    store, _ = effect_store
    e = planted["staffing"]
    first = _estimate(store, e)
    others = [b for b in first.comparison if b not in planted["process"].branch_ids][:2]
    est = estimate_effect(store, e.metric_id, frozenset(others), e.start, grain=Grain.WEEK)
    assert est.ci_low <= 0 <= est.ci_high, (est.effect, est.ci_low, est.ci_high)
    assert "无显著变化" in est.words_zh and "包含0" in est.words_zh


@pytest.mark.parametrize("kind,shift", [("staffing", timedelta(weeks=13)), ("process", timedelta(days=92))])
def test_placebo_start_in_pre_period(effect_store, planted, kind, shift):
    store, _ = effect_store
    e = planted[kind]
    start = e.start - shift
    est = estimate_effect(store, e.metric_id, frozenset(e.branch_ids), start, end=e.start - timedelta(days=1),
                          grain=Grain(e.grain))
    assert est.post_window[1] < e.start
    assert est.ci_low <= 0 <= est.ci_high, (est.effect, est.ci_low, est.ci_high)


def test_too_few_comparison_branches_is_not_credible(effect_store, planted):
    store, _ = effect_store
    e = planted["staffing"]
    rule = ComparisonRule(name="strict", min_branches=50)
    est = _estimate(store, e, rule=rule)
    assert not est.credible
    assert est.reasons[0].code is ReasonCode.TOO_FEW_COMPARISON or ReasonCode.TOO_FEW_COMPARISON in {
        r.code for r in est.reasons}
    assert "结论不可信" in est.words_zh and "对照网点过少" in est.words_zh and "not credible" in est.words_en


def test_too_few_periods_is_not_credible(effect_store, planted):
    store, _ = effect_store
    e = planted["process"]
    est = _estimate(store, e, pre_periods=2)
    assert not est.credible and ReasonCode.TOO_FEW_PRE in {r.code for r in est.reasons}


def test_comparison_rule_as_declared(effect_store, planted):
    store, _ = effect_store
    br = store.ibis().table("branches").select("branch_id", "level", "region").execute().set_index("branch_id")
    for e in planted.values():
        est = _estimate(store, e)
        assert est.rule == DEFAULT_RULE
        assert not set(est.comparison) & set(e.branch_ids)
        assert (br.loc[list(est.comparison), "level"] == "outlet").all()
        regions = set(br.loc[list(e.branch_ids), "region"])
        in_region = br[(br["level"] == "outlet") & br["region"].isin(regions) & ~br.index.isin(e.branch_ids)]
        if est.comparison_scope == "region":
            assert set(est.comparison) <= set(in_region.index)
            assert len(est.comparison) >= DEFAULT_RULE.min_branches
        else:  # the declared fallback: bank-wide, because the region had too few
            assert est.comparison_scope == "bank" and len(in_region) < DEFAULT_RULE.min_branches \
                or len(set(in_region.index) & set(est.comparison)) < DEFAULT_RULE.min_branches
    assert "同区域" in DEFAULT_RULE.describe("zh") and "same region" in DEFAULT_RULE.describe("en")


def test_boundary(effect_store, planted):
    store, _ = effect_store
    e = planted["staffing"]
    with pytest.raises(EffectRefused) as exc:
        _estimate(store, e, boundary=frozenset({e.branch_ids[0]}))
    assert exc.value.code == "outside_boundary"
    first = _estimate(store, e)
    small = frozenset(e.branch_ids) | set(first.comparison[:2])
    with pytest.raises(EffectRefused) as exc:
        _estimate(store, e, boundary=small)
    assert exc.value.code == "boundary_too_few_comparison" and "权限范围内可比网点不足" in exc.value.zh
    wide = frozenset(e.branch_ids) | set(first.comparison)
    est = _estimate(store, e, boundary=wide)
    assert set(est.comparison) <= wide


def test_rate_kpi_in_percentage_points(effect_store, planted):
    store, _ = effect_store
    e = planted["staffing"]
    est = estimate_effect(store, "counter.overtime_wait_rate", frozenset(e.branch_ids), e.start)
    assert est.weighted and est.unit_zh == "个百分点" and est.unit_en == "pp"
    assert abs(est.effect - est.beta * 100) < 1e-9
    assert "个百分点" in est.words_zh and "%" not in est.words_zh.replace("95%", "")
    assert est.effect < 0  # fewer tickets wait past 30 minutes


def test_unknown_branch_refused(effect_store):
    store, _ = effect_store
    with pytest.raises(EffectRefused) as exc:
        estimate_effect(store, "counter.wait_avg_min", frozenset({"9999999"}), date(2025, 6, 2))
    assert exc.value.code == "unknown_branch"


def test_small_demo_plants_nothing_and_staffing_is_deterministic():
    import numpy as np

    from data.demo import effects as fx
    from data.demo.branches import build_branches, outlets
    from data.demo.calendar import day_table
    from data.demo.tickets import generate_month

    assert planted_effects(DemoSpec(seed=1, branches=3, years=1, as_of=AS_OF)) == []  # the 3-outlet test demo is unchanged
    spec = DemoSpec(seed=3, branches=12, years=1, as_of=AS_OF)
    outs = outlets(build_branches(spec))
    days = day_table(date(2025, 6, 1), date(2025, 6, 30))
    mult = fx.staffing_multiplier(spec, outs, days)
    a = generate_month(np.random.default_rng(1), outs, days, gbk_style=False, drift_origin=spec.drift_origin, staffing=mult)
    b = generate_month(np.random.default_rng(1), outs, days, gbk_style=False, drift_origin=spec.drift_origin, staffing=mult)
    c = generate_month(np.random.default_rng(1), outs, days, gbk_style=False, drift_origin=spec.drift_origin)
    assert a.frame.equals(b.frame)
    treated = set(fx.staffing_outlets(outs))
    other = ~a.stats["outlet_idx"].isin(treated)
    # the same draws: untreated outlets identical with and without the change; treated ones wait less
    assert (a.stats.loc[other, "wait_sum_all"] == c.stats.loc[other, "wait_sum_all"]).all()
    assert (a.stats["wait_sum_cf"] == c.stats["wait_sum_all"]).all()
    assert a.stats.loc[~other, "wait_sum_all"].sum() < c.stats.loc[~other, "wait_sum_all"].sum()
