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
CUSTOMER = ("segment", "industry", "product")
DOMINANT = 0.5  # share of the change one member must carry to call it concentrated
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
    j = b.join(a, how="outer", lsuffix="0", rsuffix="1").fillna(0.0)
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
        "rate_before": r0, "rate_after": r1, "weight_after": w1,
    })
    out["total"] = out["rate_effect"] + out["mix_effect"]
    return out.sort_values("total", ascending=False).reset_index(drop=True)


def attribute(backend, metric: Metric, grain: Grain, period: date, scope: Scope, dims: tuple[str, ...] | None = None,
              base_periods_back: int | None = None, events: pd.DataFrame | None = None,
              options: dict | None = None) -> Attribution:
    """Explain the change of a ratio KPI between a base period and `period` within `scope`."""
    if not metric.is_ratio:
        raise ValueError(f"{metric.id} is not a ratio KPI")
    back = base_periods_back or (3 if grain is Grain.MONTH else 1)
    base = shift(period, grain, -back)
    dims = tuple(d for d in (dims or (*INTERNAL, *CUSTOMER)) if d in metric.dimensions)

    def frame(p: date, by: tuple[str, ...]) -> pd.DataFrame:
        e = compile_metric(backend, metric, grain, Window(p, period_end(p, grain)), by, scope, options)
        return e.execute()

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
                                    float(r["weight_after"])))
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


def _share(by_dim: dict[str, list[Contributor]], d: str) -> float:
    rows = by_dim.get(d) or []
    return rows[0].share if rows else 0.0


def classify(change: float, by_dim: dict[str, list[Contributor]], events: list[str]) -> tuple[str, str, str]:
    """The likely cause with its evidence, from the per-dimension concentration of the change."""
    if abs(change) < 1e-9:
        return "unknown", "变动很小，无法归因。", "The change is too small to attribute."
    from metrics.columns import DIMENSIONS

    internal = sorted(((d, _share(by_dim, d)) for d in INTERNAL if d in by_dim), key=lambda x: -x[1])
    customer = sorted(((d, _share(by_dim, d)) for d in CUSTOMER if d in by_dim), key=lambda x: -x[1])
    # approver/officer/cohort concentration is the approval signal; a branch alone could be either
    approval = [(d, s) for d, s in internal if d != "branch"]
    best_app = approval[0] if approval else (None, 0.0)
    best_cust = customer[0] if customer else (None, 0.0)
    if best_app[1] >= DOMINANT and best_app[1] >= best_cust[1]:
        named = [(d, by_dim[d][0]) for d in ("approver", "loan_officer", "cohort", "branch")
                 if by_dim.get(d) and by_dim[d][0].share >= DOMINANT]
        zh = "、".join(f"{DIMENSIONS[d].label_zh}“{c.member}”（{c.share:.0%}，{_pct(c.rate_before)}→{_pct(c.rate_after)}）"
                      for d, c in named)
        en = "; ".join(f"{DIMENSIONS[d].label_en.lower()} '{c.member}' ({c.share:.0%}, {_pct(c.rate_before)} → "
                       f"{_pct(c.rate_after)})" for d, c in named)
        return ("internal_approval",
                f"上升主要集中在{zh}，指向内部审批环节。" if change > 0 else
                f"变动主要集中在{zh}，指向内部审批环节。",
                f"The change is concentrated in {en}: points to internal approval.")
    if best_cust[1] >= DOMINANT:
        c = by_dim[best_cust[0]][0]
        dim = DIMENSIONS[best_cust[0]]
        return ("customer_segment",
                f"变动的{c.share:.0%}来自{dim.label_zh}“{c.member}”（贡献{c.total_pp:+.2f}个百分点），集中在特定客户群体。",
                f"{c.share:.0%} of the change comes from {dim.label_en.lower()} '{c.member}' ({c.total_pp:+.2f} pp): "
                f"concentrated in a customer segment.")
    tops = [s for _, s in (*internal, *customer)]
    if tops and max(tops) < BROAD and events:
        return ("market",
                f"变动分散在各机构和客户群体（最大单一贡献仅{max(tops):.0%}），同期有市场/政策事件：{events[0]}等。",
                f"The change is broad across branches and segments (largest single share {max(tops):.0%}) and "
                f"coincides with market/policy events: {events[0]}.")
    if best_app[1] >= BROAD and internal and internal[0][0] == "branch" and internal[0][1] >= DOMINANT:
        c = by_dim["branch"][0]
        return ("internal_approval",
                f"变动的{c.share:.0%}集中在机构{c.member}，建议核查该机构的审批与贷后管理。",
                f"{c.share:.0%} of the change is in branch {c.member}; review its approval and monitoring.")
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
