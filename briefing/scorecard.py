"""The briefing's 考核 section: the scorecard of the briefing's period (metrics/scorecard.py).

A month or quarter briefing scores that period; a week briefing the month holding the week. For the
whole bank: the regions' scores and the best and the weakest outlets (`section.limit` each); for a
region: its outlets; for one outlet: its score, rank and every criterion. Ranks are among all units
of the bank; the rows are only those inside the briefing's scope (and the reader's boundary).
"""

from __future__ import annotations

import pandas as pd

from metrics.model import Grain
from metrics.periods import label as period_label
from metrics.periods import period_start
from metrics.scorecard import fmt_measure, fmt_score, scorecard
from metrics.scorecard_def import UnitKind


def _rows(b, scores: pd.DataFrame) -> tuple[list[list[str]], list[list[str | None]]]:
    t = b.t
    rows, tones = [], []
    for r in scores.itertuples():
        rank = t(f"第{r.rank}名/{r.ranked}", f"{r.rank} of {r.ranked}") if pd.notna(r.rank) else t("不评分", "no score")
        delta = f"{r.delta:+.1f}".replace("-", "−") if pd.notna(r.delta) else "—"
        rows.append([rank, f"{r.label}（{r.unit}）" if r.label != r.unit else str(r.unit), fmt_score(r.score), delta,
                     f"{r.coverage:.0f}%"])
        tones.append([None, None, None, None if pd.isna(r.delta) else ("good" if r.delta > 0 else "bad"), None])
    return rows, tones


def items(b, section) -> list:
    """The section's items (Paragraph, Subheading, Table of briefing.content)."""
    from briefing.content import Paragraph, Subheading, Table

    t, lang, s = b.t, b.lang, b.scope
    grain = b.grain if b.grain in (Grain.MONTH, Grain.QUARTER) else Grain.MONTH
    start = period_start(b.req.start, grain)
    bound = s.branch_ids
    out: list = []
    head = [t("名次", "Rank"), t("机构", "Unit"), t("得分", "Score"), t("较上期", "Change"), t("已计量权重", "Measured")]
    widths, align = [1.4, 3.2, 1.0, 1.0, 1.2], ["L", "L", "R", "R", "R"]
    branches = scorecard(b.store, start, grain, UnitKind.BRANCH, boundary=bound)
    sc = branches
    if s.branch:
        ids = set(b.branches.loc[(b.branches["branch_id"] == s.branch) | (b.branches["parent_id"] == s.branch),
                                 "branch_id"])
        mine = branches.scores[branches.scores["unit"].isin(ids)]
    elif s.region:
        mine = branches.scores[branches.scores["region"] == s.region]
    else:
        mine = branches.scores
    version = t(f"第{sc.version_id}版", f"version {sc.version_id}") if sc.version_id else t("默认方案", "the default")
    out.append(Paragraph(t(
        f"{period_label(start, grain, 'zh')}考核按《{sc.definition.name_zh}》（{version}）计分，满分100分；"
        "无数据的指标不计分也不计入权重，已计量权重不足规定比例的机构不评分。",
        f"{period_label(start, grain, 'en')} scored by “{sc.definition.name_en}” ({version}), out of 100; a "
        "criterion without data earns nothing and leaves the weight; a unit with too little weight measured "
        "has no score."), "lead"))
    if not s.region and not s.branch:
        regions = scorecard(b.store, start, grain, UnitKind.REGION, boundary=bound).scores
        if len(regions):
            out.append(Subheading(t("区域得分", "Regions")))
            rows, tones = _rows(b, regions)
            out.append(Table(head, rows, widths, align, tones))
    if mine.empty:
        out.append(Paragraph(t("范围内没有可考核的网点。", "No outlet to assess in this scope."), "note"))
        return out
    if s.branch and len(mine) == 1:
        unit = mine.iloc[0]["unit"]
        rows, tones = _rows(b, mine)
        out.append(Table(head, rows, widths, align, tones))
        d = branches.unit_detail(unit)
        out.append(Subheading(t("得分明细", "How it scored")))
        out.append(Table([t("考核指标", "Criterion"), t("本期实际", "Measured"), t("目标", "Target"), t("底线", "Floor"),
                          t("得分/权重", "Points")],
                         [[r["name_zh"] if lang == "zh" else r["name_en"], fmt_measure(r["measure"], r["value"], lang),
                           fmt_measure(r["measure"], r["target"], lang), fmt_measure(r["measure"], r["floor"], lang),
                           (f"{r['points']:.1f}" if pd.notna(r["points"]) else "—") + f"/{r['weight']:g}"]
                          for _, r in d.iterrows()], [3.0, 1.5, 1.3, 1.3, 1.2], ["L", "R", "R", "R", "R"]))
        return out
    limit = section.limit or 5
    scored = mine[mine["score"].notna()]
    if len(scored) <= 2 * limit:
        out.append(Subheading(t("网点得分", "Outlets")))
        rows, tones = _rows(b, mine)
        out.append(Table(head, rows, widths, align, tones))
    else:
        for title, part in ((t(f"得分最高的{limit}个网点", f"The {limit} best outlets"), scored.head(limit)),
                            (t(f"得分最低的{limit}个网点", f"The {limit} weakest outlets"), scored.tail(limit))):
            out.append(Subheading(title))
            rows, tones = _rows(b, part)
            out.append(Table(head, rows, widths, align, tones))
    unscored = len(mine) - len(scored)
    if unscored:
        out.append(Paragraph(t(f"另有{unscored}个网点因数据不足不评分。", f"{unscored} more outlets have too little data "
                                                                  "for a score."), "note"))
    return out
