"""The briefing declared as data (report-as-code): an ordered list of sections naming metric ids.

A spec is validated against the KPI catalogue when it is built, so a typo in a metric id fails
at import, not in a manager's inbox. Pages and the CLI choose which sections to print with
`BriefingSpec.only(kinds)`; the numbers themselves always come from `metrics` (see content.py).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, model_validator

from metrics.catalogue import CATALOGUE, HEADLINE_IDS, by_category
from metrics.model import Category

_Frozen = ConfigDict(frozen=True, extra="forbid")


class SectionKind(StrEnum):
    COVER = "cover"
    SUMMARY = "summary"
    KPI_TABLE = "kpi_table"
    TRENDS = "trends"
    ANOMALIES = "anomalies"
    FEEDBACK = "feedback"
    MARKET = "market"
    ACTIONS = "actions"
    SCORECARD = "scorecard"


SECTION_TITLES: dict[SectionKind, tuple[str, str]] = {
    SectionKind.COVER: ("封面", "Cover"),
    SectionKind.SUMMARY: ("一、本期摘要", "1. Executive summary"),
    SectionKind.KPI_TABLE: ("二、主要指标", "2. Key indicators"),
    SectionKind.TRENDS: ("三、指标趋势", "3. Trends"),
    SectionKind.ANOMALIES: ("四、重点异常", "4. Top anomalies"),
    SectionKind.FEEDBACK: ("五、客户反馈", "5. Customer feedback"),
    SectionKind.MARKET: ("六、市场动态", "6. Market"),
    SectionKind.ACTIONS: ("七、调整与整改", "7. Actions and rectification"),
    SectionKind.SCORECARD: ("八、考核", "8. Scorecard"),
}


class Section(BaseModel):
    """One section: its kind, the metrics it reads (by id) and how many rows it may show."""

    model_config = _Frozen

    kind: SectionKind
    metrics: tuple[str, ...] = ()
    limit: int | None = None  # rows (anomalies, cases, events) at most
    title_zh: str | None = None
    title_en: str | None = None

    @model_validator(mode="after")
    def _known(self) -> Section:
        unknown = [m for m in self.metrics if m not in CATALOGUE]
        if unknown:
            raise ValueError(f"{self.kind}: unknown metric ids {unknown}")
        return self

    def title(self, lang: str) -> str:
        zh, en = SECTION_TITLES[self.kind]
        return (self.title_zh or zh) if lang == "zh" else (self.title_en or en)

    def by_category(self) -> dict[Category, list[str]]:
        """The section's metric ids grouped by category, in declaration order."""
        out: dict[Category, list[str]] = {}
        for mid in self.metrics:
            out.setdefault(CATALOGUE[mid].category, []).append(mid)
        return out


class BriefingSpec(BaseModel):
    """The whole briefing: a title and its sections, in print order."""

    model_config = _Frozen

    title_zh: str = "经营简报"
    title_en: str = "Management briefing"
    bank_zh: str = "某某银行"
    bank_en: str = "BankPulse demo bank"
    sections: tuple[Section, ...]

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en

    def bank(self, lang: str) -> str:
        return self.bank_zh if lang == "zh" else self.bank_en

    def only(self, kinds) -> BriefingSpec:
        """The same spec with just these section kinds (the cover is always kept)."""
        keep = {SectionKind(k) for k in kinds} | {SectionKind.COVER}
        return self.model_copy(update={"sections": tuple(s for s in self.sections if s.kind in keep)})

    def section(self, kind: SectionKind) -> Section | None:
        return next((s for s in self.sections if s.kind is kind), None)


# 二、主要指标: every headline KPI and these, in declaration order (a new headline KPI joins the table)
_KPI_TABLE_MORE = frozenset({
    "counter.abandonment_rate", "credit.special_mention_share", "credit.five_class_violations",
    "feedback.complaints_per_10k", "feedback.nps", "feedback.open_past_limit",
})
assert not _KPI_TABLE_MORE - CATALOGUE.keys(), f"unknown metric ids {sorted(_KPI_TABLE_MORE - CATALOGUE.keys())}"
KPI_IDS = tuple(m.id for m in CATALOGUE.values() if m.headline or m.id in _KPI_TABLE_MORE)
TREND_IDS = (
    "counter.tickets_served", "counter.wait_p90_min",
    "credit.balance", "credit.npl_ratio",
    "feedback.complaints", "feedback.satisfaction_rate",
)
MARKET_IDS = tuple(m.id for m in by_category(Category.MARKET))  # 六、市场动态: every market KPI
SUPERVISION_IDS = tuple(m.id for m in by_category(Category.SUPERVISION))  # 七、调整与整改: every supervision KPI

DEFAULT_SPEC = BriefingSpec(sections=(
    Section(kind=SectionKind.COVER),
    Section(kind=SectionKind.SUMMARY, metrics=HEADLINE_IDS),
    Section(kind=SectionKind.KPI_TABLE, metrics=KPI_IDS),
    Section(kind=SectionKind.TRENDS, metrics=TREND_IDS),
    Section(kind=SectionKind.ANOMALIES, limit=8),
    Section(kind=SectionKind.FEEDBACK, metrics=("feedback.volume", "feedback.complaints", "feedback.open_past_limit"),
            limit=12),
    Section(kind=SectionKind.MARKET, metrics=MARKET_IDS, limit=10),
    Section(kind=SectionKind.ACTIONS, metrics=SUPERVISION_IDS, limit=10),
    Section(kind=SectionKind.SCORECARD, limit=5),  # the best and the weakest five outlets (briefing/scorecard.py)
))
