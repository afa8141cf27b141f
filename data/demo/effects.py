"""The effects planted in the demo: what changed, where, from when, and by how much (the truth).

Two changes a bank would want to evaluate afterwards (`metrics.effect.estimate_effect`), each
declared here once and applied by the generators:

* **staffing** (柜台增配人手) — the two most chronically understaffed outlets (the lowest hidden
  staffing efficiency, `branches._eff`) get 10 % more staffed teller capacity (a part-time teller at
  the peaks) from the Monday on or after the day 7 months before the demo's last day (2025-06-02 for
  as-of 2025-12-31). KPI:
  `counter.wait_avg_min`, weekly; the wait falls by about 7 minutes (from about 30). Why not the 4
  minutes first asked for (+5 % capacity): these two outlets run near saturation, their weekly wait
  scatters by ±10 minutes, and with two treated outlets an honest interval (one whose placebos
  cover 0, tests/test_effect.py) is about ±4.5 minutes wide — a 4-minute effect would read "not
  significant", true as that is.
* **process** (审批流程整改) — after the overdue story of `DemoSpec.story_quarter` (2025Q1 for
  as-of 2025-12-31; `branches.STORY_APPROVER`'s push at one outlet), the approver's loans need a
  second review (双人复核) from the 1st of the month two months before the demo's last month
  (2025-10-01 for as-of 2025-12-31): about half of the applications he would have approved are
  declined, at every outlet of his 支行 where he approves. KPI: `credit.disbursed_count`, monthly.

  Why the count of new loans and not a quality KPI: the overdue rate and the NPL ratio are
  stocks — after the fix they keep rising at the story outlet while the story quarter's cohort seasons into
  arrears, so a before/after comparison would credit (or blame) the fix for the cohort's ageing;
  the quality of the loans approved after the fix (a vintage overdue rate) is only observable
  after 3+ months on book, at the very end of the range. What the fix changes at once, and what
  difference-in-differences can measure with the data there is, is the volume the approver
  passes. (A page evaluating the fix should say exactly this.)

The **true effect** is a counterfactual, in the KPI's own unit: the same seeded draws generated
with and without the change, the KPI at the treated outlets differenced, averaged over their
post-change periods (equal weight per branch and period — the estimand of the unweighted
difference-in-differences):

* staffing — the ticket generator computes every wait twice from the same draws, with and
  without the extra capacity (`tickets.generate_month(staffing=...)`, which draws nothing); the
  true effect is the mean over the treated outlets' weeks from the start of (weekly mean wait
  with) − (without), in 分钟.
* process — the declined applications are drawn from a stream of their own (so every other draw
  is the same with and without the fix) and counted per outlet and month; the true effect is
  minus their mean per treated outlet-month, in 笔. (Second order: the loan book replaces part of
  the missing volume at random outlets the following months, evenly over treated and comparison
  outlets, so it cancels in the comparison.)

Effects are planted only in a demo with at least `MIN_OUTLETS` outlets (with fewer there is no
one to compare with; the 3-outlet test demo stays exactly as it was). The generator writes them
into `story.json` under "effects"; `planted_effects(spec, story)` reads them back (or, without a
story, runs the simulation in memory to compute them).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .spec import DemoSpec, month_index, month_start

MIN_OUTLETS = 12
STAFFING_MULT = 1.10  # staffed capacity × this at the treated outlets from the start date (see the docstring)
DECLINE_SHARE = 0.5  # share of the approver's applications the second review declines
STAFFING_METRIC = "counter.wait_avg_min"
PROCESS_METRIC = "credit.disbursed_count"


@dataclass(frozen=True)
class PlantedEffect:
    """One planted change. `true_effect` is in the KPI's display unit (`unit_zh` / `unit_en`):
    minutes for waits, loans (笔) for counts; negative = the KPI fell."""

    id: str  # "staffing_2025-06-02"
    kind: str  # "staffing" | "process"
    metric_id: str
    grain: str  # the grain the truth is measured at (and the estimate should use): "week" / "month"
    branch_ids: tuple[str, ...]  # the treated outlets
    start: date  # the first day of the change (inclusive)
    end: date  # the last day the truth covers (the end of the demo range)
    true_effect: float | None  # None only before the generator has measured it
    unit_zh: str
    unit_en: str
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["branch_ids"] = list(self.branch_ids)
        d["start"], d["end"] = self.start.isoformat(), self.end.isoformat()
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PlantedEffect:
        return cls(**{**d, "branch_ids": tuple(d["branch_ids"]), "start": date.fromisoformat(d["start"]),
                      "end": date.fromisoformat(d["end"])})


# -- where and when (cheap: the organisation table only) ---------------------------------------
def staffing_start(spec: DemoSpec) -> date:
    """The Monday on or after the day 7 months before `as_of` (2025-06-02 for as-of 2025-12-31)."""
    d = month_start(month_index(spec.as_of) - 7).replace(day=min(spec.as_of.day, 28))
    return d + timedelta(days=(7 - d.weekday()) % 7)


def process_start(spec: DemoSpec) -> date:
    """The 1st of the month two months before the month of `as_of` (2025-10-01 for 2025-12-31): three
    months after the fix, the last one partial unless `as_of` is a month end; always at least four
    months after the story quarter (`DemoSpec.story_quarter`) and its review."""
    return month_start(month_index(spec.as_of) - 2)


def active(spec: DemoSpec) -> bool:
    return spec.branches >= MIN_OUTLETS and spec.years * 12 >= 12


def staffing_outlets(outlets: pd.DataFrame) -> np.ndarray:
    """Indices (into `outlets`) of the two chronically understaffed outlets: the lowest `_eff`."""
    return np.sort(np.argsort(outlets["_eff"].to_numpy(float), kind="stable")[:2])


def staffing_multiplier(spec: DemoSpec, outlets: pd.DataFrame, days: pd.DataFrame) -> np.ndarray | None:
    """The `staffing` argument of `tickets.generate_month` for these days (None when not planted)."""
    if not active(spec):
        return None
    on = (days["date"] >= pd.Timestamp(staffing_start(spec))).to_numpy()
    if not on.any():
        return None
    mult = np.ones((len(outlets), len(days)))
    mult[np.ix_(staffing_outlets(outlets), np.flatnonzero(on))] = STAFFING_MULT
    return mult.ravel()


QUARTER_ZH = {1: "一季度", 2: "二季度", 3: "三季度", 4: "四季度"}


def _texts(kind: str, names: list[str], start: date, approver: str = "", quarter: int = 1) -> dict[str, str]:
    who = "、".join(names)
    if kind == "staffing":
        return dict(
            title_zh=f"{who}增配柜员（{start.isoformat()}起）",
            title_en=f"More tellers at {', '.join(names)} (from {start.isoformat()})",
            description_zh=f"两家长期人手不足的网点自{start.isoformat()}起在高峰时段增配柜员（人工窗口产能约增加10%），"
                           "目标是缩短客户平均等候时间。评价指标：平均等候时间（按周）。",
            description_en=f"Two chronically understaffed outlets add teller capacity at the peaks (about +10 %) from "
                           f"{start.isoformat()}, to cut the average wait. KPI: average wait, weekly.",
        )
    return dict(
        title_zh=f"审批流程整改：{approver}审批贷款实行双人复核（{start.isoformat()}起）",
        title_en=f"Approval fix: second review of {approver}'s approvals (from {start.isoformat()})",
        description_zh=f"针对{QUARTER_ZH[quarter]}逾期问题（{approver}冲量审批），自{start.isoformat()}起其审批的贷款须经第二人复核，"
                       f"约一半申请未获通过。涉及网点：{who}。评价指标：贷款发放笔数（按月）——整改立即影响的是审批通过量；"
                       f"逾期率等存量指标受{QUARTER_ZH[quarter]}贷款账龄拉动，整改后新发放贷款的质量要3个月以上才能观察到。",
        description_en=f"After the Q{quarter} overdue story ({approver}'s volume push) his approvals need a second review from "
                       f"{start.isoformat()}; about half of the applications are declined. Outlets: {', '.join(names)}. "
                       "KPI: loans disbursed (count), monthly — what the fix changes at once is the volume passed; stock "
                       f"KPIs such as the overdue rate are driven by the Q{quarter} cohort's seasoning, and the quality of the "
                       "loans approved after the fix is observable only after 3+ months on book.",
    )


# -- the truth, measured by the generators ------------------------------------------------------
def staffing_truth(spec: DemoSpec, outlets: pd.DataFrame, day_stats: pd.DataFrame) -> float:
    """Mean over the treated outlets' weeks from the start of (weekly mean wait − the counterfactual's), in
    minutes. `day_stats`: outlet_idx, date, n_tickets, wait_sum_all, wait_sum_cf of the treated outlet-days."""
    s = day_stats[pd.to_datetime(day_stats["date"]) >= pd.Timestamp(staffing_start(spec))].copy()
    d = pd.to_datetime(s["date"])
    s["week"] = d - pd.to_timedelta(d.dt.day_of_week, unit="D")
    w = s.groupby(["outlet_idx", "week"])[["n_tickets", "wait_sum_all", "wait_sum_cf"]].sum()
    w = w[w["n_tickets"] > 0]
    return float(((w["wait_sum_all"] - w["wait_sum_cf"]) / w["n_tickets"]).mean() / 60.0)


def process_truth(declined: dict[tuple[int, str], int], treated: np.ndarray, months: list[str]) -> float:
    """Minus the mean number of declined applications per treated outlet-month of the post period."""
    cells = [declined.get((int(o), m), 0) for o in treated for m in months]
    return -float(np.mean(cells)) if cells else 0.0


def build(spec: DemoSpec, outlets: pd.DataFrame, *, staffing_true: float | None, process_outlets: np.ndarray | None,
          process_true: float | None, approver: str) -> list[PlantedEffect]:
    """The declarations of a generated demo (empty when the spec is too small to plant any)."""
    if not active(spec):
        return []
    ids = outlets["机构号"].to_numpy(dtype=object)
    names = outlets["机构名称"].to_numpy(dtype=object)
    out = []
    st = staffing_outlets(outlets)
    s0 = staffing_start(spec)
    out.append(PlantedEffect(id=f"staffing_{s0.isoformat()}", kind="staffing", metric_id=STAFFING_METRIC,
                             grain="week", branch_ids=tuple(str(x) for x in ids[st]), start=s0, end=spec.as_of,
                             true_effect=staffing_true, unit_zh="分钟", unit_en="min",
                             **_texts("staffing", [str(x) for x in names[st]], s0)))
    if process_outlets is not None and len(process_outlets):
        p0 = process_start(spec)
        out.append(PlantedEffect(id=f"process_{p0.isoformat()}", kind="process", metric_id=PROCESS_METRIC,
                                 grain="month", branch_ids=tuple(str(x) for x in ids[np.sort(process_outlets)]),
                                 start=p0, end=spec.as_of, true_effect=process_true, unit_zh="笔", unit_en="loans",
                                 **_texts("process", [str(x) for x in names[np.sort(process_outlets)]], p0, approver,
                                          int(spec.story_quarter[-1]))))
    return out


def planted_effects(spec: DemoSpec, story: dict | str | Path | None = None) -> list[PlantedEffect]:
    """The effects planted in the demo of `spec`, with their true effects.

    `story`: the generated demo's story.json (a path, or its parsed content) — the cheap way; without
    it the demo is generated into a temporary folder to measure them (seconds for 30 outlets)."""
    if not active(spec):
        return []
    if story is None:
        import tempfile

        from .generate import generate

        with tempfile.TemporaryDirectory() as tmp:
            generate(spec, tmp)
            story = json.loads((Path(tmp) / "story.json").read_text(encoding="utf-8"))
    elif not isinstance(story, dict):
        story = json.loads(Path(story).read_text(encoding="utf-8"))
    return [PlantedEffect.from_json(e) for e in story.get("effects", [])]
