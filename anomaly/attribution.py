"""Root cause of a rate change: mix and rate effects across dimensions, and a likely cause.

For a ratio KPI R = Σᵢ wᵢ·rᵢ (wᵢ each group's share of the denominator, rᵢ its own rate), the
change between a base period 0 and the anomalous period 1 splits exactly into
    rate effect ᵢ = (rᵢ¹ − rᵢ⁰)·(wᵢ⁰ + wᵢ¹)/2     (the group itself got worse or better)
    mix effect ᵢ  = (wᵢ¹ − wᵢ⁰)·(rᵢ⁰ + rᵢ¹)/2     (the group's weight changed)
with Σ(rate + mix) = R¹ − R⁰. Contributors are ranked in percentage points per dimension
(branch, product, customer segment, industry, disbursement cohort, approver, loan officer).

The likely cause follows DOMAIN.md §1.1: *internal approval* when one approver, loan officer,
cohort or branch carries most of the rise; *customer segment* when a segment or industry does;
*market* when the rise is broad (no member dominates, most members worse) and market or policy
events fall in the window; otherwise *unknown*. The evidence is returned with the verdict.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

import pandas as pd

from metrics.compiler import Window, compile_metric
from metrics.model import Grain, Metric
from metrics.periods import period_end, shift
from metrics.scope import Scope

INTERNAL = ("approver", "loan_officer", "cohort", "branch")
APPROVAL = ("approver", "loan_officer", "cohort")
CUSTOMER = ("segment", "industry", "product")
DOMINANT = 0.5  # share of the change one member must carry to call it concentrated
EXCESS = 0.25  # ... and by how much that share must exceed its share of the base (denominator)
BROAD = 0.35  # below this top share in every dimension, the change is broad


@dataclass
class Contributor:
    dimension: str
    member: str
    rate_effect_pp: float
    mix_effect_pp: float
    total_pp: float
    share: float  # of the total change
    rate_before: float | None
    rate_after: float | None
    weight_after: float
    weight_before: float = 0.0

    @property
    def excess(self) -> float:
        """Share of the change beyond the member's share of the base: a member that is 80 % of the
        book carries ~80 % of any broad change; one that is 13 % and carries 60 % is a concentration."""
        return self.share - 0.5 * (self.weight_before + self.weight_after)


@dataclass
class Attribution:
    metric_id: str
    period: date
    base_period: date
    change_pp: float
    cause: str  # internal_approval | customer_segment | market | unknown
    evidence_zh: str
    evidence_en: str
    top: list[Contributor] = field(default_factory=list)  # best per dimension, strongest first
    by_dimension: dict[str, list[Contributor]] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        d = asdict(self)
        d["period"], d["base_period"] = self.period.isoformat(), self.base_period.isoformat()
        return json.dumps(d, ensure_ascii=False, default=str)


def decompose(before: pd.DataFrame, after: pd.DataFrame, key: str) -> pd.DataFrame:
    """Rate/mix effects per member from (key, numerator, denominator) frames of two periods."""
    b = before.set_index(key)[["numerator", "denominator"]]
    a = after.set_index(key)[["numerator", "denominator"]]
    j = b.add_suffix("0").join(a.add_suffix("1"), how="outer").fillna(0.0)
    w0 = j["denominator0"] / j["denominator0"].sum() if j["denominator0"].sum() else j["denominator0"] * 0
    w1 = j["denominator1"] / j["denominator1"].sum() if j["denominator1"].sum() else j["denominator1"] * 0
    r0 = (j["numerator0"] / j["denominator0"]).where(j["denominator0"] > 0)
    r1 = (j["numerator1"] / j["denominator1"]).where(j["denominator1"] > 0)
    # a member present in one period only: its rate there stands in for the missing one
    r0f, r1f = r0.fillna(r1).fillna(0.0), r1.fillna(r0).fillna(0.0)
    out = pd.DataFrame({
        "member": j.index.astype(str),
        "rate_effect": (r1f - r0f) * (w0 + w1) / 2,
        "mix_effect": (w1 - w0) * (r0f + r1f) / 2,
        "rate_before": r0, "rate_after": r1, "weight_after": w1, "weight_before": w0,
    })
    out["total"] = out["rate_effect"] + out["mix_effect"]
    return out.sort_values("total", ascending=False).reset_index(drop=True)


def attribute(backend, metric: Metric, grain: Grain, period: date, scope: Scope, dims: tuple[str, ...] | None = None,
              base_periods_back: int | None = None, events: pd.DataFrame | None = None,
              options: dict | None = None) -> Attribution:
    """Explain the change of a ratio KPI between a base period and `period` within `scope`."""
    if not metric.is_ratio:
        raise ValueError(f"{metric.id} is not a ratio KPI")
    dims = tuple(d for d in (dims or (*INTERNAL, *CUSTOMER)) if d in metric.dimensions)

    def frame(p: date, by: tuple[str, ...]) -> pd.DataFrame:
        e = compile_metric(backend, metric, grain, Window(p, period_end(p, grain)), by, scope, options)
        return e.execute()

    if base_periods_back:
        base = shift(period, grain, -base_periods_back)
    else:
        base = onset_base(backend, metric, grain, period, scope, options)

    total0, total1 = frame(base, ()), frame(period, ())
    r0 = float(total0["value"].iloc[0]) if len(total0) else 0.0
    r1 = float(total1["value"].iloc[0]) if len(total1) else 0.0
    change = r1 - r0
    by_dim: dict[str, list[Contributor]] = {}
    for d in dims:
        dec = decompose(frame(base, (d,)), frame(period, (d,)), d)
        if change < 0:  # a fall: the biggest falls first
            dec = dec.iloc[::-1].reset_index(drop=True)
        # share of the movement in the change's direction (effects of opposite sign offset it)
        same = dec["total"][(dec["total"] * change) > 0].sum()
        rows = []
        for _, r in dec.head(8).iterrows():
            rows.append(Contributor(d, _member(d, r["member"]), r["rate_effect"] * 100, r["mix_effect"] * 100,
                                    r["total"] * 100, (r["total"] / same) if same else 0.0,
                                    None if pd.isna(r["rate_before"]) else float(r["rate_before"]),
                                    None if pd.isna(r["rate_after"]) else float(r["rate_after"]),
                                    float(r["weight_after"]), float(r["weight_before"])))
        by_dim[d] = rows
    top = sorted((v[0] for v in by_dim.values() if v), key=lambda c: -c.share)
    ev_titles = []
    if events is not None and not events.empty:
        lo = base - timedelta(days=31)
        sel = events[(pd.to_datetime(events["event_date"]).dt.date >= lo) &
                     (pd.to_datetime(events["event_date"]).dt.date <= period_end(period, grain))]
        ev_titles = [f"{pd.Timestamp(d):%Y-%m-%d} {t}" for d, t in zip(sel["event_date"], sel["title"], strict=True)]
    cause, zh, en = classify(change, by_dim, ev_titles)
    return Attribution(metric.id, period, base, change * 100, cause, zh, en, top, by_dim, ev_titles)


LOOKBACK = {Grain.MONTH: 6, Grain.WEEK: 8, Grain.DAY: 14}


def onset_base(backend, metric: Metric, grain: Grain, period: date, scope: Scope, options: dict | None) -> date:
    """The period the move started from: the trough (for a rise; the peak for a fall) of the KPI in
    the `LOOKBACK` periods before `period`. Comparing with a fixed "3 months back" cuts a gradual
    rise in two (the flag is often dated mid-rise) and dilutes its cause; the trough keeps it whole."""
    back = LOOKBACK.get(grain, 3)
    lo = shift(period, grain, -back)
    df = compile_metric(backend, metric, grain, Window(lo, period_end(period, grain)), (), scope, options).execute()
    fallback = shift(period, grain, -(3 if grain is Grain.MONTH else 1))
    if df.empty:
        return fallback
    v = df.assign(period=pd.to_datetime(df["period"]).dt.date).set_index("period")["value"].dropna().sort_index()
    prior = v[v.index < period]
    if period not in v.index or prior.empty:
        return fallback
    rising = v[period] >= prior.iloc[-1] if len(prior) else True
    return prior.idxmin() if rising else prior.idxmax()


def _concentrated(by_dim: dict[str, list[Contributor]], dims: tuple[str, ...]) -> list[tuple[str, Contributor]]:
    out = [(d, by_dim[d][0]) for d in dims if by_dim.get(d)]
    out = [(d, c) for d, c in out if c.share >= DOMINANT and c.excess >= EXCESS]
    return sorted(out, key=lambda x: -x[1].excess)


def classify(change: float, by_dim: dict[str, list[Contributor]], events: list[str]) -> tuple[str, str, str]:
    """The likely cause with its evidence: which dimension concentrates the change — one member
    carrying most of it (≥ 50 %) and far more than its weight in the book (≥ 25 points more)."""
    if abs(change) < 1e-9:
        return "unknown", "变动很小，无法归因。", "The change is too small to attribute."
    from metrics.columns import DIMENSIONS

    approval = _concentrated(by_dim, APPROVAL)
    customer = _concentrated(by_dim, CUSTOMER)
    branch = _concentrated(by_dim, ("branch",))
    if approval and (not customer or approval[0][1].excess >= customer[0][1].excess):
        named = approval + branch
        zh = "、".join(f"{DIMENSIONS[d].label_zh}“{c.member}”（{c.share:.0%}，{_pct(c.rate_before)}→{_pct(c.rate_after)}）"
                      for d, c in named)
        en = "; ".join(f"{DIMENSIONS[d].label_en.lower()} '{c.member}' ({c.share:.0%}, {_pct(c.rate_before)} → "
                       f"{_pct(c.rate_after)})" for d, c in named)
        return ("internal_approval",
                f"{'上升' if change > 0 else '变动'}主要集中在{zh}，指向内部审批环节。",
                f"The change is concentrated in {en}: points to internal approval.")
    if customer:
        d, c = customer[0]
        dim = DIMENSIONS[d]
        return ("customer_segment",
                f"变动的{c.share:.0%}来自{dim.label_zh}“{c.member}”（贡献{c.total_pp:+.2f}个百分点），集中在特定客户群体。",
                f"{c.share:.0%} of the change comes from {dim.label_en.lower()} '{c.member}' ({c.total_pp:+.2f} pp): "
                f"concentrated in a customer segment.")
    if branch:
        c = branch[0][1]
        return ("internal_approval",
                f"变动的{c.share:.0%}集中在机构{c.member}，建议核查该机构的审批与贷后管理。",
                f"{c.share:.0%} of the change is in branch {c.member}; review its approval and monitoring.")
    tops = [rows[0].share for rows in by_dim.values() if rows]
    if tops and max(tops) < BROAD and events:
        return ("market",
                f"变动分散在各机构和客户群体（最大单一贡献仅{max(tops):.0%}），同期有市场/政策事件：{events[0]}等。",
                f"The change is broad across branches and segments (largest single share {max(tops):.0%}) and "
                f"coincides with market/policy events: {events[0]}.")
    return ("unknown", "变动没有明显集中在某一维度，原因待查。", "No dimension concentrates the change; cause unclear.")


SEGMENT_NAMES = {"retail": "个人", "small_micro": "小微企业", "corporate": "公司"}


def _member(dimension: str, member: str) -> str:
    """Readable member names: a disbursement cohort date becomes 2025Q1, segment codes their names."""
    if dimension == "segment":
        return SEGMENT_NAMES.get(member, member)
    if dimension == "cohort":
        try:
            d = pd.Timestamp(member)
            return f"{d.year}Q{(d.month - 1) // 3 + 1}"
        except (ValueError, TypeError):
            return member
    return member


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.2f}%"
