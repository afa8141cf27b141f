"""Scorecard (考核): scores per unit and period, rank, trend and the drill-down behind every score.

    from metrics.scorecard import scorecard
    sc = scorecard(store, date(2025, 9, 1), Grain.MONTH, UnitKind.BRANCH, boundary=None)
    sc.scores      # unit, label, region, score, coverage, rank, ranked, prev_score, delta, prev_rank
    sc.detail      # unit, measure, name, group, weight, target, floor, rule, value, points, … (the drill-down)

**Scoring.** Each criterion of the definition (metrics/scorecard_def.py) earns `points =
weight × fraction`, the fraction from its rule (`linear`: (value − floor) ÷ (target − floor)
capped to [0, 1]; `threshold`: 1 when the target is reached) in the measure's declared direction.

**Missing data.** A criterion without a value for the unit (no complaints followed up, no
notice due, no plan completed) earns *no* points rather than 0 and leaves the score: the score is
Σ points ÷ Σ weight of the criteria with a value × 100, so it stays on the 0–100 scale — provided
those criteria carry at least `min_coverage` percent of the weight; below that the unit has no
score (shown as "—", not ranked, never 0). `coverage` says how much of the weight was measured.

**Rank** among the units with a score (1 = best; ties share the rank), over the whole bank: a
scoped reader gets the rows of their own units only, each with its rank and the number ranked,
and no other unit's details. **Trend**: the previous period scored with *its* version (a period
keeps the version it was scored with: metrics/scorecard_versions.py), its score, rank and the
change in points.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from data.users import branch_master
from metrics.format import fmt_pct
from metrics.model import Grain, Unit
from metrics.periods import label, shift
from metrics.scorecard_def import Definition, UnitKind, measure_info
from metrics.scorecard_values import measured
from metrics.scorecard_versions import definition_for

SCORE_COLUMNS = ["unit", "label", "region", "score", "points", "weight_measured", "coverage", "rank", "ranked",
                 "prev_score", "delta", "prev_rank"]
DETAIL_COLUMNS = ["unit", "measure", "name_zh", "name_en", "group", "weight", "target", "floor", "rule", "value",
                  "numerator", "denominator", "n", "base", "fraction", "points"]


@dataclass(frozen=True)
class Scorecard:
    period: date
    grain: Grain
    kind: UnitKind
    definition: Definition
    version_id: int | None  # None: the repository's seed (nothing stored yet)
    prev_version_id: int | None
    scores: pd.DataFrame  # SCORE_COLUMNS, the units the reader may see, best first
    detail: pd.DataFrame  # DETAIL_COLUMNS for those units

    def label(self, lang: str = "zh") -> str:
        return label(self.period, self.grain, lang)

    def unit_detail(self, unit: str) -> pd.DataFrame:
        return self.detail[self.detail["unit"] == unit].reset_index(drop=True)


def units(store, kind: UnitKind) -> pd.DataFrame:
    """unit, label, region of every unit of the kind (outlets of the master; its regions)."""
    col = "branch_id" if kind is UnitKind.BRANCH else "region"
    return store.query("scorecard.units", kind=kind.value).render(unit=col).df()


def score_period(d: Definition, kind: UnitKind, all_units: pd.DataFrame, values: pd.DataFrame) -> tuple[
        pd.DataFrame, pd.DataFrame]:
    """(scores, detail) of one period from its measured values (`values`: measure, unit, value, …),
    every unit of `all_units`, ranked. Pure: the hand-computed tests call it directly."""
    card = d.units[kind]
    crit = pd.DataFrame([{"measure": c.measure, "group": c.group.value, "weight": c.weight, "target": c.target,
                          "floor": c.floor, "rule": c.rule.value, "name_zh": c.info.name_zh, "name_en": c.info.name_en}
                         for c in card.criteria])
    grid = all_units[["unit"]].merge(crit, how="cross")
    cols = ["measure", "unit", "value", "numerator", "denominator", "n", "base"]
    v = values[cols] if len(values) else pd.DataFrame(columns=cols)
    detail = grid.merge(v, on=["measure", "unit"], how="left")
    by_measure = {c.measure: c for c in card.criteria}
    detail["fraction"] = [by_measure[m].fraction(None if pd.isna(x) else float(x))
                          for m, x in zip(detail["measure"], detail["value"], strict=True)]
    detail["points"] = detail["fraction"] * detail["weight"]
    has = detail["fraction"].notna()
    agg = detail.assign(wm=detail["weight"].where(has, 0.0), pts=detail["points"].fillna(0.0)) \
        .groupby("unit", sort=False).agg(points=("pts", "sum"), weight_measured=("wm", "sum")).reset_index()
    total = sum(c.weight for c in card.criteria)
    agg["coverage"] = agg["weight_measured"] / total * 100
    ok = (agg["coverage"] >= card.min_coverage - 1e-9) & (agg["weight_measured"] > 0)
    agg["score"] = (agg["points"] / agg["weight_measured"] * 100).where(ok)
    agg["rank"] = agg["score"].round(6).rank(ascending=False, method="min").astype("Int64")
    agg["ranked"] = int(agg["score"].notna().sum())
    scores = all_units.merge(agg, on="unit", how="left")
    return scores, detail[DETAIL_COLUMNS]


def _visible(kind: UnitKind, scores: pd.DataFrame, boundary: frozenset[str] | None, master: pd.DataFrame) -> set:
    if boundary is None:
        return set(scores["unit"])
    if kind is UnitKind.BRANCH:
        return set(scores["unit"]) & set(boundary)
    full = {r for r, ids in master.groupby("region")["branch_id"] if set(ids) <= boundary} if len(master) else set()
    return set(scores["unit"]) & full


def scorecard(store, period: date, grain: Grain, kind: UnitKind, *, boundary: frozenset[str] | None = None) -> Scorecard:
    """The scorecard of the period starting at `period` for every unit of `kind`, as `boundary` may see it."""
    if grain not in (Grain.MONTH, Grain.QUARTER, Grain.YEAR):
        raise ValueError("a scorecard is scored per month, quarter or year")
    prev = shift(period, grain, -1)
    d, v = definition_for(store, grain, period)
    dp, vp = definition_for(store, grain, prev)
    all_units = units(store, kind)
    wanted = sorted({c.measure for dd in (d, dp) if kind in dd.units for c in dd.units[kind].criteria})
    if kind not in d.units:
        raise ValueError(f"the definition has no [{kind.value}] section")
    values = measured(store, wanted, kind, grain, [prev, period])
    scores, detail = score_period(d, kind, all_units, values[values["period"] == period])
    if kind in dp.units:
        before, _ = score_period(dp, kind, all_units, values[values["period"] == prev])
        scores = scores.merge(before[["unit", "score", "rank"]].rename(
            columns={"score": "prev_score", "rank": "prev_rank"}), on="unit", how="left")
    else:
        scores = scores.assign(prev_score=None, prev_rank=None)
    scores["delta"] = scores["score"] - scores["prev_score"]
    seen = _visible(kind, scores, boundary, branch_master(store))
    scores = scores[scores["unit"].isin(seen)].sort_values(["rank", "unit"], na_position="last")
    detail = detail[detail["unit"].isin(seen)]
    return Scorecard(period, grain, kind, d, v.version_id if v else None, vp.version_id if vp else None,
                     scores[SCORE_COLUMNS].reset_index(drop=True), detail.reset_index(drop=True))


# -- presentation (pages, CLI, briefing) --------------------------------------------------------------
def fmt_measure(measure_id: str, v, lang: str = "zh") -> str:
    """A measured value, target or floor in the measure's unit; a change signed (个百分点 for a rate)."""
    info = measure_info(measure_id)
    if v is None or pd.isna(v):
        return "—"
    v, zh, d = float(v), lang == "zh", info.decimals
    sign = "+" if info.change and v > 0 else ""
    match info.unit:
        case Unit.RATE if info.change:
            return f"{sign}{v * 100:.{d}f}{'个百分点' if zh else ' pp'}"
        case Unit.RATE:
            return fmt_pct(v, d)
        case Unit.DAYS:
            return f"{sign}{v:,.{d}f}{'天' if zh else ' days'}"
        case Unit.MINUTES:
            return f"{sign}{v:,.{d}f}{'分钟' if zh else ' min'}"
        case Unit.PER_10K:
            return f"{sign}{v:,.{d}f}{'件/万笔' if zh else ' per 10k'}"
        case _:
            return f"{sign}{v:,.{d}f}"


def fmt_score(v) -> str:
    return "—" if v is None or pd.isna(v) else f"{float(v):.1f}"


def export_frame(sc: Scorecard, lang: str = "zh") -> pd.DataFrame:
    """One row per unit and criterion, with the unit's score and rank: what `bankpulse scorecard` writes."""
    s = sc.scores[["unit", "label", "score", "rank", "ranked", "prev_score", "delta", "coverage"]]
    d = sc.detail.merge(s, on="unit", how="inner")
    d.insert(0, "period", sc.period.isoformat())
    d.insert(1, "version", sc.version_id or 0)
    d["criterion"] = d["name_zh"] if lang == "zh" else d["name_en"]
    order = ["period", "version", "unit", "label", "score", "rank", "ranked", "prev_score", "delta", "coverage",
             "group", "measure", "criterion", "weight", "target", "floor", "rule", "value", "base", "numerator",
             "denominator", "n", "fraction", "points"]
    return d[order].sort_values(["rank", "unit", "measure"], na_position="last").reset_index(drop=True)
