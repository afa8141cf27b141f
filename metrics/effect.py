"""Effect evaluation: did a change at some branches move a KPI, compared with similar branches?

    from metrics.effect import estimate_effect
    est = estimate_effect(store, "counter.wait_avg_min", frozenset({"0101009", "0201003"}), date(2025, 6, 2))
    est.effect, est.ci_low, est.ci_high      # −4.1, −5.3, −2.9  (in the KPI's unit: 分钟)
    est.words_zh                              # "实施后平均等候时间较对照网点下降4.1分钟（95%置信区间 −5.3 至 −2.9 分钟），…"
    est.comparison, est.rule                  # which branches it was compared with, and by which declared rule
    est.frame                                 # per period: treated mean, comparison mean, counterfactual

What the page (plan evaluation), the briefing and the scorecard call; plain Python, no Streamlit.

**Why a comparison.** A before/after difference at the treated branches mixes the change with
everything else that moved at the same time (the season, the Q4 queue peak, a rate cut). The
branches that did not change show what "everything else" did; the difference of the two
differences (DiD) is the change's effect, if the treated branches would otherwise have moved like
the comparison branches (*parallel trends* — the assumption this module checks, see below).

**Comparison branches** are chosen by a declared `ComparisonRule` (frozen, part of the result):
by default outlets (网点) of the same region as the treated ones, not treated, with data in at
least 80 % of the pre and of the post periods (open over the whole window); if the region has
fewer than `min_branches` such outlets, outlets bank-wide. A scoped person (`boundary`) is compared
only with branches inside their boundary; too few there and the estimate is refused
(`EffectRefused`), never silently widened.

**The method.** The KPI per branch and period is computed in DuckDB through the metrics layer
(`metrics.compute.series(..., by=("branch",))`: one aggregated row per branch and period reaches
pandas). Then OLS (statsmodels) of value ~ treated×post + branch fixed effects + period fixed
effects; the treated×post coefficient is the effect. Rate KPIs (a numerator over a denominator,
e.g. 超时等候率) are weighted by the denominator, so a branch-week with 40 tickets counts less
than one with 400 (the rate of the small one is noisier); other KPIs (means such as the average
wait, counts, amounts) give each branch and period equal weight — the estimand is then the
average effect per branch and period, which is what a manager reads ("每网点每周少等4分钟").

**Seasonality (同比).** A slow outlet's queue does not move like a fast one's: near saturation
the same seasonal swing in arrivals changes its wait several times as much (in the demo a 30-minute
outlet loses 5 minutes from spring to summer while a 12-minute one loses less than 1), so a
January–May pre-period against a June–December post-period breaks parallel trends in levels. When
the data reach a year back, each branch's value is first differenced against the same period a
year earlier (its mean over the same calendar quarter a year before; a week by the quarter its
Thursday falls in — a saturated outlet's single weeks and months a year back are too noisy to
subtract) and the
difference-in-differences is run on those year-on-year changes: each branch's own seasonal
pattern drops out, and so does a steady drift. This assumes the year before had no change of
its own at the treated branches. `seasonal=None` (default): on for weekly KPIs when the data
reach a year back; off for monthly ones (credit), whose branches share the calendar's swings
closely enough for the period effects, and where differencing a month count against a year-old
quarter adds more noise than it removes (checked on the demo's approval fix).

**Standard errors.** Cluster-robust by branch (`cov_type="cluster"`: any correlation of a
branch's periods with each other is allowed), reported as `se_cluster`. With few treated branches
— the usual case, one or two outlets — the cluster-robust variance is unreliable: with one treated
branch its score is exactly zero and the variance far too small, with two it mostly measures how
differently the two reacted (MacKinnon & Webb 2017; Conley & Taber 2011). So there is a second,
branch-level variance (`se_branch`) of the collapsed design (Bertrand, Duflo & Mullainathan
2004): each branch's post-minus-pre change of its gap to the comparison mean; the comparison
branches' spread of that change — scaled to each treated branch's own pre-period noise, since a
saturated outlet's weekly wait scatters more than a quiet one's (Ferman & Pinto 2019) — is what
the treated branches' change would scatter by without an effect. With fewer than `FEW_TREATED`
(10) treated branches the interval uses the branch-level variance, otherwise the larger of the
two; the 95 % interval from Student's t with (comparison branches − 1) degrees of freedom.
Placebo runs on the demo (tests/test_effect.py) check that it covers 0 where nothing happened.

**Pre-trend check.** On the pre-period only, the difference of the treated and comparison
branches' linear trends (per branch slope of its gap to the comparison mean, the same two
variances, chosen the same way); p < 0.05 means the treated branches were already drifting apart before the change,
and the estimate is not credible. Other reasons it is not credible: too few comparison branches
(< `rule.min_branches`), too few pre (< 4) or post (< 2) periods, a treated branch without data in
the window. The reasons come with the result (codes and sentences in 中文 and English).

**Assumptions, stated.** Parallel trends (checked, linearly, on the pre-period); no spill-over
from treated to comparison branches; the change starts at `start` everywhere it applies (a
period that straddles `start` is left out); the treated set did not choose itself because of a
temporary dip (regression to the mean would look like an effect — the pre-trend check catches
part of it). The result is in the KPI's own unit: 分钟, 个百分点 for rates (never "percent" for
a rate difference), 万元 for amounts, 笔/件 for counts (per branch and period).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import numpy as np
import pandas as pd

from metrics.catalogue import get_metric
from metrics.compute import _is_flow, metric_span, series
from metrics.model import Grain, Metric, Unit
from metrics.periods import period_end, period_start, same_period_last_year, shift
from metrics.scope import Scope

__all__ = ["DEFAULT_RULE", "ComparisonRule", "EffectEstimate", "EffectRefused", "Reason", "ReasonCode",
           "display_unit", "estimate_effect"]

MIN_PRE_PERIODS = 4
MIN_POST_PERIODS = 2
PRETREND_ALPHA = 0.05
SCALE_BY_NOISE = True
FEW_TREATED = 10  # below this many treated branches the interval uses the branch-level variance only
DEFAULT_PRE_PERIODS = {Grain.WEEK: 26, Grain.MONTH: 6}


@dataclass(frozen=True)
class ComparisonRule:
    """How comparison branches are chosen — a declaration, shown with the result."""

    name: str = "same_region_outlets"
    level: str = "outlet"  # branch type (branches.level): compare outlets with outlets
    same_region: bool = True  # first choice: the treated branches' region(s)
    min_branches: int = 5  # k: fewer in the region → bank-wide (if fallback); fewer overall → not credible
    fallback_bank_wide: bool = True
    min_coverage: float = 0.8  # share of the pre and of the post periods a branch must have data in
    # keep only the n eligible branches nearest to the treated branches' pre-period mean level (None: all)
    nearest_level: int | None = None

    def describe(self, lang: str = "zh") -> str:
        cov = f"{self.min_coverage:.0%}"
        if lang == "zh":
            s = "同区域、同类型（网点）" if self.same_region else "全行同类型（网点）"
            s += f"、未实施、窗口期内持续营业（实施前后各至少{cov}的期间有数据）的机构"
            if self.same_region and self.fallback_bank_wide:
                s += f"；同区域不足{self.min_branches}家时改用全行同类型网点"
            return s
        s = "outlets of the same region" if self.same_region else "outlets bank-wide"
        s += f", not treated, open over the whole window (data in at least {cov} of the pre and post periods)"
        if self.same_region and self.fallback_bank_wide:
            s += f"; outlets bank-wide when the region has fewer than {self.min_branches}"
        return s


DEFAULT_RULE = ComparisonRule()


class ReasonCode(StrEnum):
    PRE_TREND = "pre_trend"
    TOO_FEW_COMPARISON = "too_few_comparison"
    TOO_FEW_PRE = "too_few_pre_periods"
    TOO_FEW_POST = "too_few_post_periods"
    TREATED_DATA_MISSING = "treated_data_missing"


@dataclass(frozen=True)
class Reason:
    code: ReasonCode
    zh: str
    en: str


class EffectRefused(ValueError):
    """The question cannot be answered (outside the boundary, no comparison, no data): `code` and a
    sentence in each language."""

    def __init__(self, code: str, zh: str, en: str):
        super().__init__(f"{zh} / {en}")
        self.code, self.zh, self.en = code, zh, en

    def message(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en


def display_unit(metric: Metric) -> tuple[float, str, str]:
    """(factor, unit zh, unit en): a difference in stored units × factor is in the display unit —
    rates in 个百分点, percent levels in 基点, amounts in 万元."""
    match metric.unit:
        case Unit.RATE:
            return 100.0, "个百分点", "pp"
        case Unit.PERCENT:
            return 100.0, "个基点", "bp"
        case Unit.YUAN:
            return 1e-4, "万元", "CNY 10k"
        case Unit.MINUTES:
            return 1.0, "分钟", "min"
        case Unit.DAYS:
            return 1.0, "天", "days"
        case Unit.COUNT:
            return 1.0, ("件" if metric.category.value == "feedback" else "笔"), ""
        case Unit.SCORE:
            return 1.0, "分", "points"
        case Unit.PER_10K:
            return 1.0, "件/万笔", "per 10k"


@dataclass(frozen=True, eq=False)
class EffectEstimate:
    """The effect of a change at `treated` on `metric_id`, against `comparison` (chosen by `rule`).

    `effect`, `ci_low`, `ci_high`, `se`, `pretrend_slope` are in the display unit (`unit_zh` /
    `unit_en`; `beta` is the same effect in the stored unit, a fraction for rates). `frame` is in
    stored units, one row per period: period, post, treated_mean, comparison_mean, counterfactual
    (the comparison mean shifted by the pre-period gap: the treated line had nothing changed)."""

    metric_id: str
    treated: tuple[str, ...]  # the treated branches that entered the estimate
    comparison: tuple[str, ...]
    rule: ComparisonRule
    comparison_scope: str  # "region" | "bank" (the rule's fallback) | "boundary" (the person's, inside it)
    start: date
    grain: Grain
    pre_window: tuple[date, date]  # first and last day
    post_window: tuple[date, date]
    n_pre: int
    n_post: int
    effect: float
    ci_low: float
    ci_high: float
    se: float
    se_cluster: float
    se_branch: float
    df: int
    p_value: float
    pretrend_p: float
    pretrend_slope: float  # treated − comparison trend before the change, display unit per period
    weighted: bool  # WLS by the KPI's denominator
    seasonal: bool  # compared as differences from the same period a year earlier (同比)
    unit_zh: str
    unit_en: str
    beta: float
    credible: bool
    reasons: tuple[Reason, ...]
    words_zh: str
    words_en: str
    frame: pd.DataFrame = field(repr=False)

    @property
    def significant(self) -> bool:
        """The 95 % interval excludes 0."""
        return self.ci_low > 0 or self.ci_high < 0

    def words(self, lang: str = "zh") -> str:
        return self.words_zh if lang == "zh" else self.words_en


# -- comparison branches -------------------------------------------------------------------------
def _branches(store) -> pd.DataFrame:
    b = store.ibis().table("branches")
    return b.select("branch_id", "level", "region").execute()


def _coverage(panel: pd.DataFrame, pre: list[date], post: list[date]) -> pd.DataFrame:
    have = panel.dropna(subset=["value"])
    pre_n = have[have["period"].isin(pre)].groupby("branch").size()
    post_n = have[have["period"].isin(post)].groupby("branch").size()
    cov = pd.DataFrame({"pre": pre_n, "post": post_n}).fillna(0)
    cov["pre"] /= max(len(pre), 1)
    cov["post"] /= max(len(post), 1)
    return cov


def _boundary_ids(boundary) -> frozenset[str] | None:
    if boundary is None:
        return None
    if isinstance(boundary, Scope):
        return boundary.branch_ids
    return frozenset(boundary)


# -- estimation ----------------------------------------------------------------------------------
def _within(df: pd.DataFrame, cols: list[str], w: np.ndarray, tol: float = 1e-10, max_iter: int = 500) -> np.ndarray:
    """The columns with branch and period fixed effects partialled out (weighted alternating projections;
    exact in one step on a balanced panel, a few dozen on a gappy one)."""
    bi = pd.factorize(df["branch"])[0]
    ti = pd.factorize(df["period"])[0]
    wb = np.bincount(bi, weights=w)
    wt = np.bincount(ti, weights=w)
    out = df[cols].to_numpy(float).copy()
    for j in range(out.shape[1]):
        v = out[:, j]
        for _ in range(max_iter):
            v = v - (np.bincount(bi, weights=w * v) / wb)[bi]
            step = (np.bincount(ti, weights=w * v) / wt)[ti]
            v = v - step
            if np.abs(step).max() < tol:
                break
        out[:, j] = v
    return out


def _twfe(df: pd.DataFrame, weighted: bool, covariate: str = "D") -> tuple[float, float]:
    """(W)LS of y ~ covariate + branch FE + period FE, cluster-robust by branch: (beta, se).

    Fitted as the Frisch–Waugh–Lovell regression of the within-transformed y on the within-transformed
    covariate (the same coefficient and cluster scores as the dummy regression, without a design matrix
    of one column per branch and period); the small-sample factor is the dummy regression's,
    G/(G−1) · (N−1)/(N−K) with K = 1 + branches + periods − 1."""
    import statsmodels.api as sm

    w = df["w"].to_numpy(float) if weighted else np.ones(len(df))
    w = w / w.mean()
    yx = _within(df, ["y", covariate], w)
    groups = pd.factorize(df["branch"])[0]
    res = sm.WLS(yx[:, 0], yx[:, 1:2], weights=w).fit(cov_type="cluster", cov_kwds={"groups": groups})
    n, k = len(df), df["branch"].nunique() + df["period"].nunique()
    return float(res.params[0]), float(res.bse[0] * np.sqrt((n - 1) / max(n - k, 1)))


def _wmean(v: pd.Series, w: pd.Series) -> float:
    return float(np.average(v, weights=w)) if w.sum() > 0 else float(v.mean())


def _gaps(df: pd.DataFrame, weighted: bool) -> pd.DataFrame:
    """y minus the comparison branches' (weighted) mean of the same period."""
    c = df[df["treated"] == 0]
    if weighted:
        cm = (c["y"] * c["w"]).groupby(c["period"]).sum() / c["w"].groupby(c["period"]).sum()
    else:
        cm = c.groupby("period")["y"].mean()
    out = df.assign(gap=df["y"] - df["period"].map(cm))
    return out.dropna(subset=["gap"])


def _branch_changes(g: pd.DataFrame, weighted: bool) -> pd.Series:
    """Per branch: post mean of its gap − pre mean of its gap."""
    w = g["w"] if weighted else pd.Series(1.0, index=g.index)
    g = g.assign(_w=w, _wg=w * g["gap"])
    s = g.groupby(["branch", "post"])[["_w", "_wg"]].sum()
    m = (s["_wg"] / s["_w"]).unstack("post")
    return (m.get(1) - m.get(0)).dropna()


def _branch_slopes(g: pd.DataFrame, weighted: bool) -> pd.Series:
    """Per branch: the (weighted) least-squares slope of its pre-period gap on the period index."""
    out = {}
    for b, x in g.groupby("branch"):
        w = x["w"].to_numpy(float) if weighted else np.ones(len(x))
        t = x["tau"].to_numpy(float)
        if len(x) < 3 or w.sum() <= 0:
            continue
        tb = np.average(t, weights=w)
        den = (w * (t - tb) ** 2).sum()
        if den > 0:
            out[b] = float((w * (t - tb) * (x["gap"].to_numpy() - np.average(x["gap"], weights=w))).sum() / den)
    return pd.Series(out, dtype=float)


def _noise(g: pd.DataFrame) -> pd.Series:
    """Per branch: the standard deviation of its pre-period gap around its own mean (how noisy it is)."""
    pre = g[g["post"] == 0]
    return pre.groupby("branch")["gap"].std(ddof=1)


def _two_sample_se(values: pd.Series, treated: set[str], noise: pd.Series | None = None) -> float:
    """The standard error of mean(treated values) − mean(comparison values) when a treated branch's value
    would scatter like a comparison branch's of the same noise level (Conley & Taber 2011; scaled by each
    branch's own pre-period noise, as Ferman & Pinto 2019 do for few treated units of different size)."""
    is_t = values.index.isin(treated)
    c, t = values[~is_t], values[is_t]
    if len(c) < 2 or len(t) == 0:
        return float("nan")
    var_c = float(c.var(ddof=1))
    if noise is None or not SCALE_BY_NOISE:
        var_t = var_c * len(t)
    else:
        sc, st = noise.reindex(c.index), noise.reindex(t.index)
        if sc.isna().any() or st.isna().any() or (sc <= 0).any():
            var_t = var_c * len(t)
        else:
            var_t = float((c / sc).var(ddof=1) * (st**2).sum())  # Σ over the treated of var(z)·σ_i²
    return float(np.sqrt(var_t / len(t) ** 2 + var_c / len(c)))


def _pretrend(df: pd.DataFrame, weighted: bool, treated: set[str], df_t: int) -> tuple[float, float]:
    """(p-value, slope difference in stored units per period) of the treated × linear-time test on the pre-period."""
    from scipy import stats

    pre = df[df["post"] == 0].copy()
    if pre["period"].nunique() < 3:
        return float("nan"), float("nan")
    order = {p: i for i, p in enumerate(sorted(pre["period"].unique()))}
    pre["tau"] = pre["period"].map(order).astype(float)
    g = _gaps(pre, weighted)
    slopes = _branch_slopes(g, weighted)
    diff = float(slopes[slopes.index.isin(treated)].mean() - slopes[~slopes.index.isin(treated)].mean())
    se_b = _two_sample_se(slopes, treated, _noise(g))
    # the same test as a regression (cluster-robust), for the larger of the two variances
    pre["DT"] = pre["treated"] * (pre["tau"] - pre["tau"].mean())
    _, se_cl = _twfe(pre, weighted, "DT")
    se = se_b if len(treated) < FEW_TREATED and np.isfinite(se_b) else np.nanmax([se_cl, se_b])
    if not np.isfinite(se) or se <= 0:
        return float("nan"), diff
    return float(2 * stats.t.sf(abs(diff) / se, df_t)), diff


def _fmt(v: float, digits: int) -> str:
    s = f"{abs(v):,.{digits}f}"
    return ("−" if v < 0 and float(s.replace(",", "")) != 0 else "") + s


def _words(metric: Metric, est: dict, grain: Grain, lang: str) -> str:
    zh = lang == "zh"
    u = est["unit_zh"] if zh else est["unit_en"]
    d = 2 if metric.unit is Unit.RATE else 1
    sp = "" if zh else " "
    lo, hi = _fmt(est["ci_low"], d), _fmt(est["ci_high"], d)
    mag = f"{abs(est['effect']):,.{d}f}"
    flow = _is_flow(metric)
    per = {Grain.WEEK: ("每周", "week"), Grain.MONTH: ("每月", "month")}.get(grain, ("每期", "period"))
    name = metric.name(lang)
    if zh:
        subject = f"实施后{'每网点' + per[0] if flow else ''}{name}"
        ci = f"（95%置信区间 {lo} 至 {hi} {u}）".replace(" 笔）", "笔）")
        if est["significant"]:
            s = f"{subject}较对照网点{'上升' if est['effect'] > 0 else '下降'}{mag}{u}{ci}"
        else:
            s = f"{subject}与对照网点相比无显著变化（估计{_fmt(est['effect'], d)}{u}，95%置信区间 {lo} 至 {hi} {u}，包含0）"
        if est["credible"]:
            return s + "，实施前趋势平行，结论可信。"
        return s + "，但结论不可信：" + "；".join(r.zh for r in est["reasons"]) + "。"
    unit = f"{sp}{u}" if u else ""
    subject = f"After the change, {name.lower() if not name.isupper() else name}"
    if flow:
        subject += f" per branch and {per[1]}"
    ci = f"(95% CI {lo} to {hi}{unit})"
    if est["significant"]:
        s = f"{subject} {'rose' if est['effect'] > 0 else 'fell'} by {mag}{unit} relative to the comparison branches {ci}"
    else:
        s = (f"{subject} did not change significantly relative to the comparison branches (estimate "
             f"{_fmt(est['effect'], d)}{unit}, 95% CI {lo} to {hi}{unit}, which includes 0)")
    if est["credible"]:
        return s + "; the pre-trends were parallel, so the result is credible."
    return s + "; but the result is not credible: " + "; ".join(r.en for r in est["reasons"]) + "."


def estimate_effect(store, metric_id: str, treated: frozenset[str], start: date, *, end: date | None = None,
                    grain: Grain | None = None, pre_periods: int | None = None,
                    rule: ComparisonRule = DEFAULT_RULE, boundary: frozenset[str] | Scope | None = None,
                    seasonal: bool | None = None, options: dict | None = None) -> EffectEstimate:
    """The difference-in-differences effect of a change at the `treated` branches from `start` on a KPI.

    - `grain`: default week for KPIs whose default grain is a day or a week, month otherwise.
    - `pre_periods`: the pre-period length (default 26 weeks / 6 months), ending the day before the
      first whole period from `start`; `end` (default: the last date with data) closes the post period
      (a flow KPI's incomplete last period is left out, as on the cards).
    - `boundary`: a scoped person's branch ids (or their `Scope`): the treated branches must be inside
      it, the comparison branches are chosen only inside it.
    - `seasonal`: difference each branch's value against the same period a year earlier (同比) before
      comparing (default: when the data reach back a year before the window for most of it).
    Raises `EffectRefused` when the question cannot be answered; everything weaker (a pre-trend, few
    comparison branches) is an estimate with `credible=False` and its reasons.
    """
    metric = get_metric(metric_id)
    grain = grain or (Grain.WEEK if metric.default_grain in (Grain.DAY, Grain.WEEK) else Grain.MONTH)
    pre_periods = pre_periods or DEFAULT_PRE_PERIODS.get(grain, 6)
    treated = frozenset(treated)
    if not treated:
        raise EffectRefused("no_treated", "未指定实施网点。", "No treated branches were given.")
    allowed = _boundary_ids(boundary)
    if allowed is not None and not treated <= allowed:
        out = ", ".join(sorted(treated - allowed))
        raise EffectRefused("outside_boundary", f"实施网点不在您的权限范围内：{out}。",
                            f"Treated branches outside your boundary: {out}.")
    br = _branches(store)
    known = set(br["branch_id"])
    if not treated <= known:
        bad = ", ".join(sorted(treated - known))
        raise EffectRefused("unknown_branch", f"机构号不存在：{bad}。", f"Unknown branch ids: {bad}.")

    # the window: whole periods only; the period straddling `start` is neither pre nor post
    first_post = period_start(start, grain)
    if first_post < start:
        first_post = shift(first_post, grain, 1)
    last_pre = shift(period_start(start, grain), grain, -1)
    first_pre = shift(last_pre, grain, -(pre_periods - 1))
    lo, hi = metric_span(store, metric)
    end = min(end or hi or start, hi or start)
    last_post = period_start(end, grain)
    if _is_flow(metric) and end < period_end(last_post, grain):
        last_post = shift(last_post, grain, -1)
    if last_post < first_post:
        raise EffectRefused("no_post_period", f"{start.isoformat()}之后没有完整的统计期。",
                            f"There is no whole period after {start.isoformat()}.")
    pre_p = [shift(first_pre, grain, i) for i in range(pre_periods)]
    post_p, p = [], first_post
    while p <= last_post:
        post_p.append(p)
        p = shift(p, grain, 1)

    # the candidates: same level, not treated, inside the boundary
    lvl = br[br["level"] == rule.level]
    pool = lvl[~lvl["branch_id"].isin(treated)]
    if allowed is not None:
        pool = pool[pool["branch_id"].isin(allowed)]
    ids = frozenset(pool["branch_id"]) | treated
    year_before = same_period_last_year(first_pre, grain)
    if seasonal is None:  # weekly KPIs with a year of history before (most of) the pre-period
        seasonal = grain is Grain.WEEK and lo is not None and lo <= shift(
            year_before, grain, round(pre_periods * (1 - rule.min_coverage)))
    raw = series(store, metric, grain, year_before if seasonal else first_pre, period_end(last_post, grain),
                 ("branch",), Scope(branch_ids=ids), options)
    panel = raw[raw["period"].isin(pre_p + post_p)].copy()
    if seasonal:
        # the branch's level in the same calendar quarter a year earlier (a week by the quarter of its
        # Thursday): the mean of that quarter's periods, far less noisy than one week's or one month's value
        def season(periods: pd.Series, years_back: int = 0) -> pd.Series:
            d = pd.to_datetime(periods) + pd.Timedelta(days=3 if grain is Grain.WEEK else 0)
            return (d.dt.year - years_back) * 4 + (d.dt.month - 1) // 3

        hist = raw.assign(_k=season(raw["period"]).to_numpy()).groupby(["branch", "_k"])["value"].mean()
        keys = season(panel["period"], 1).to_numpy()
        panel["level"] = panel["value"]
        panel["lag"] = hist.reindex(pd.MultiIndex.from_arrays([panel["branch"].to_numpy(), keys])).to_numpy()
        panel["value"] = panel["value"] - panel["lag"]
    cov = _coverage(panel, pre_p, post_p)
    ok = cov[(cov["pre"] >= rule.min_coverage) & (cov["post"] >= rule.min_coverage)].index
    pool = pool[pool["branch_id"].isin(ok)]
    regions = set(br.loc[br["branch_id"].isin(treated), "region"].dropna())
    scope_used = "bank"
    if rule.same_region:
        local = pool[pool["region"].isin(regions)]
        if len(local) >= rule.min_branches or not rule.fallback_bank_wide:
            pool, scope_used = local, "region"
    if allowed is not None:
        scope_used = "boundary" if scope_used == "bank" else scope_used
        if len(pool) < rule.min_branches:
            raise EffectRefused(
                "boundary_too_few_comparison",
                f"您的权限范围内可比网点不足：按规则需要至少{rule.min_branches}家，现有{len(pool)}家，无法评估效果。",
                f"Too few comparison branches inside your boundary: the rule needs {rule.min_branches}, "
                f"there are {len(pool)}; the effect cannot be evaluated.")
    if rule.nearest_level and len(pool) > rule.nearest_level:
        pre_mean = panel[panel["period"].isin(pre_p)].groupby("branch")["value"].mean()
        target = float(pre_mean.reindex(sorted(treated)).mean())
        dist = (pre_mean.reindex(pool["branch_id"]) - target).abs().sort_values(kind="stable")
        pool = pool[pool["branch_id"].isin(dist.index[: rule.nearest_level])]
    comparison = tuple(sorted(pool["branch_id"]))
    if len(comparison) < 2:
        raise EffectRefused("no_comparison", f"可比网点不足2家（现有{len(comparison)}家），无法评估效果。",
                            f"Fewer than 2 comparison branches ({len(comparison)}); the effect cannot be evaluated.")
    reasons: list[Reason] = []
    t_ok = tuple(sorted(b for b in treated if b in ok))
    if len(t_ok) < len(treated):
        miss = ", ".join(sorted(treated - set(t_ok)))
        reasons.append(Reason(ReasonCode.TREATED_DATA_MISSING, f"实施网点数据缺失（{miss}）",
                              f"data missing for treated branches ({miss})"))
    if not t_ok:
        raise EffectRefused("treated_no_data", "实施网点在评估窗口内没有足够数据。",
                            "The treated branches have too little data in the window.")

    df = panel[panel["branch"].isin(set(t_ok) | set(comparison))].dropna(subset=["value"]).copy()
    weighted = metric.is_ratio and metric.unit is Unit.RATE
    df["y"] = df["value"].astype(float)
    df["w"] = df["denominator"].astype(float) if weighted else 1.0
    df = df[df["w"] > 0]
    df["treated"] = df["branch"].isin(t_ok).astype(int)
    df["post"] = df["period"].isin(post_p).astype(int)
    df["D"] = df["treated"] * df["post"]
    n_pre, n_post = df.loc[df.post == 0, "period"].nunique(), df.loc[df.post == 1, "period"].nunique()
    if len(comparison) < rule.min_branches:
        reasons.append(Reason(ReasonCode.TOO_FEW_COMPARISON,
                              f"对照网点过少（{len(comparison)}家，规则要求至少{rule.min_branches}家）",
                              f"too few comparison branches ({len(comparison)}; the rule asks for {rule.min_branches})"))
    if n_pre < MIN_PRE_PERIODS:
        reasons.append(Reason(ReasonCode.TOO_FEW_PRE, f"实施前期数过少（{n_pre}期，至少{MIN_PRE_PERIODS}期）",
                              f"too few pre-periods ({n_pre}; at least {MIN_PRE_PERIODS})"))
    if n_post < MIN_POST_PERIODS:
        reasons.append(Reason(ReasonCode.TOO_FEW_POST, f"实施后期数过少（{n_post}期，至少{MIN_POST_PERIODS}期）",
                              f"too few post-periods ({n_post}; at least {MIN_POST_PERIODS})"))
    if n_pre == 0 or n_post == 0:
        raise EffectRefused("no_periods", "评估窗口内实施前或实施后没有数据。",
                            "There are no data before or after the change in the window.")

    from scipy import stats

    beta, se_cl = _twfe(df, weighted)
    tset = set(t_ok)
    g = _gaps(df, weighted)
    se_br = _two_sample_se(_branch_changes(g, weighted), tset, _noise(g))
    se = se_br if len(tset) < FEW_TREATED and np.isfinite(se_br) else float(np.nanmax([se_cl, se_br]))
    dof = max(len(comparison) - 1, 1)
    q = float(stats.t.ppf(0.975, dof))
    p_val = float(2 * stats.t.sf(abs(beta) / se, dof)) if se > 0 else float("nan")
    pre_p_value, slope = _pretrend(df, weighted, tset, dof)
    if np.isfinite(pre_p_value) and pre_p_value < PRETREND_ALPHA:
        reasons.insert(0, Reason(ReasonCode.PRE_TREND, f"实施前趋势不平行（p={pre_p_value:.3f}）",
                                 f"the pre-trends were not parallel (p = {pre_p_value:.3f})"))

    # the chart: per period, the treated and comparison means and the counterfactual treated line
    def _mean(x: pd.DataFrame) -> float:
        return _wmean(x["y"], x["w"]) if weighted else float(x["y"].mean())

    def _col(x: pd.DataFrame, col: str) -> float:
        return _wmean(x[col], x["w"]) if weighted else float(x[col].mean())

    rows = []
    for per, x in df.groupby("period"):
        t, c = x[x.treated == 1], x[x.treated == 0]
        row = {"period": per, "post": bool(x["post"].iloc[0]), "d_treated": _mean(t) if len(t) else np.nan,
               "d_comparison": _mean(c)}
        lv = "level" if seasonal else "y"
        row["treated_mean"] = _col(t, lv) if len(t) else np.nan
        row["comparison_mean"] = _col(c, lv)
        if seasonal:
            row["treated_last_year"] = _col(t, "lag") if len(t) else np.nan
        rows.append(row)
    frame = pd.DataFrame(rows).sort_values("period").reset_index(drop=True)
    pre_f = frame[~frame["post"]]
    gap = float((pre_f["d_treated"] - pre_f["d_comparison"]).mean())
    # the treated line had nothing changed: (last year's treated level +) the comparison's change + the pre gap
    frame["counterfactual"] = frame["d_comparison"] + gap + (frame["treated_last_year"] if seasonal else 0.0)
    frame = frame.drop(columns=["d_treated", "d_comparison"])

    factor, unit_zh, unit_en = display_unit(metric)
    lo, hi_ = (beta - q * se) * factor, (beta + q * se) * factor
    fields = dict(effect=beta * factor, ci_low=lo, ci_high=hi_, unit_zh=unit_zh, unit_en=unit_en,
                  significant=lo > 0 or hi_ < 0, credible=not reasons, reasons=tuple(reasons))
    return EffectEstimate(
        metric_id=metric.id, treated=t_ok, comparison=comparison, rule=rule, comparison_scope=scope_used,
        start=start, grain=grain, pre_window=(first_pre, last_pre + (period_end(last_pre, grain) - last_pre)),
        post_window=(first_post, period_end(last_post, grain)), n_pre=int(n_pre), n_post=int(n_post),
        effect=beta * factor, ci_low=lo, ci_high=hi_, se=se * factor, se_cluster=se_cl * factor,
        se_branch=se_br * factor, df=dof, p_value=p_val, pretrend_p=pre_p_value, pretrend_slope=slope * factor,
        weighted=weighted, seasonal=bool(seasonal), unit_zh=unit_zh, unit_en=unit_en, beta=beta, credible=not reasons,
        reasons=tuple(reasons), words_zh=_words(metric, fields, grain, "zh"),
        words_en=_words(metric, fields, grain, "en"), frame=frame)
