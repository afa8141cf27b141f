"""The declaration language of the KPI catalogue.

A :class:`Metric` is data: names in two languages, the measure(s) it divides, its unit,
direction and allowed dimensions. `metrics.compiler` turns a declaration plus a window, grain,
scope and options into one Ibis expression, so the same KPI runs on DuckDB today and on Spark
(Spark Connect) at scale. Pages, the briefing, the anomaly scan, the CLI and the tests all read
the catalogue (`metrics.catalogue.CATALOGUE`); adding a KPI is one declaration (with its value
test, its golden SQL and `python -m metrics.docs > docs/metrics.md`, which tests/test_docs.py checks).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

_Frozen = ConfigDict(frozen=True, extra="forbid")


class Category(StrEnum):
    COUNTER = "counter"
    CREDIT = "credit"
    FEEDBACK = "feedback"
    MARKET = "market"
    SUPERVISION = "supervision"


CATEGORY_LABELS = {
    Category.COUNTER: ("柜台业务", "Counter"),
    Category.CREDIT: ("信贷", "Credit"),
    Category.FEEDBACK: ("客户反馈", "Feedback"),
    Category.MARKET: ("市场", "Market"),
    Category.SUPERVISION: ("监督整改", "Supervision"),
}


class Unit(StrEnum):
    """How a value is stored and shown. Rates are fractions; their changes are percentage points."""

    COUNT = "count"  # 笔 / 件
    MINUTES = "minutes"  # 分钟
    DAYS = "days"  # 天
    YUAN = "yuan"  # stored in 元, shown in 万元 / 亿元
    RATE = "rate"  # a fraction, shown as %, compared in 个百分点
    PERCENT = "percent"  # already in percent units (LPR 3.45), compared in 基点 (bp)
    SCORE = "score"  # NPS (−100…100), shown as 分
    PER_10K = "per_10k"  # 件/万笔


class Direction(StrEnum):
    """Whether a rise is good news."""

    UP_GOOD = "up_good"
    DOWN_GOOD = "down_good"
    NEUTRAL = "neutral"


class Grain(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"

    @property
    def ibis_unit(self) -> str:
        return {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}[self.value]


class Agg(StrEnum):
    COUNT = "count"
    SUM = "sum"
    MEAN = "mean"
    QUANTILE = "quantile"
    COUNT_DISTINCT = "count_distinct"
    LAST = "last"  # the value at the last date of the period (indicator levels)
    CUSTOM = "custom"  # a named function in metrics/custom.py


class Op(StrEnum):
    EQ = "=="
    NE = "!="
    IN = "in"
    NOT_IN = "not in"
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    NOT_NULL = "not null"
    IS_NULL = "is null"


class Filter(BaseModel):
    """`column op value`; `param` names an option whose value (× `param_scale`) is used instead."""

    model_config = _Frozen

    column: str
    op: Op
    value: Any = None
    param: str | None = None
    param_scale: float = 1.0


def F(column: str, op: str, value: Any = None, *, param: str | None = None, scale: float = 1.0) -> Filter:
    """Shorthand for declarations: F("status", "==", "served")."""
    return Filter(column=column, op=Op(op), value=value, param=param, param_scale=scale)


class Measure(BaseModel):
    """One aggregate of one source over a period."""

    model_config = _Frozen

    source: str
    agg: Agg
    column: str | None = None  # a source column or a derived column (metrics/columns.py)
    where: tuple[Filter, ...] = ()
    q: float | None = None  # quantile
    time: str | None = None  # the date that places a row in a period (default: the source's)
    stock: bool = False  # a balance: evaluated on the last snapshot of each period, never summed over dates
    distinct_loans: bool = False  # flows read from snapshots: count each loan once
    custom: str | None = None
    # a custom measure whose region and bank values are the sums of its branches' (Σ over outlets);
    # the other aggregates' additivity follows from `agg` (see `additive`)
    sums_over_branches: bool = False

    @model_validator(mode="after")
    def _shape(self) -> Measure:
        if self.agg is Agg.QUANTILE and self.q is None:
            raise ValueError("quantile measures need q")
        if self.agg is Agg.CUSTOM and not self.custom:
            raise ValueError("custom measures name their function")
        if self.agg not in (Agg.COUNT, Agg.CUSTOM) and not self.column:
            raise ValueError(f"{self.agg} needs a column")
        if self.sums_over_branches and self.agg is not Agg.CUSTOM:
            raise ValueError("sums_over_branches is declared on custom measures; the others follow from agg")
        return self

    @property
    def additive(self) -> bool:
        """Whether a region's or the bank's value is built from its branches' (a count or sum as their
        sum, a mean as Σ sum ÷ Σ count): the scan then reads it per branch only and rolls it up."""
        match self.agg:
            case Agg.COUNT | Agg.SUM | Agg.MEAN:
                return True
            case Agg.CUSTOM:
                return self.sums_over_branches
            case Agg.QUANTILE | Agg.COUNT_DISTINCT | Agg.LAST:
                return False


class Metric(BaseModel):
    """One KPI."""

    model_config = _Frozen

    id: str
    category: Category
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    numerator: Measure | dict[str, Measure]
    denominator: Measure | None = None
    multiplier: float = 1.0
    option: str | None = None  # the option choosing between numerator variants
    unit: Unit
    direction: Direction
    default_grain: Grain = Grain.MONTH
    dimensions: tuple[str, ...] = ()
    target: float | None = None
    headline: bool = False
    # a stock KPI is a level at the period end (balance, NPL ratio): no period sums
    decimals: int = 2

    @model_validator(mode="after")
    def _variants(self) -> Metric:
        if isinstance(self.numerator, dict) and not self.option:
            raise ValueError(f"{self.id}: numerator variants need an option name")
        if not self.id.startswith(self.category.value + "."):
            raise ValueError(f"{self.id}: ids start with the category")
        return self

    def measure(self, options: dict[str, Any]) -> Measure:
        if isinstance(self.numerator, dict):
            return self.numerator[options[self.option]]
        return self.numerator

    @property
    def is_ratio(self) -> bool:
        return self.denominator is not None

    @property
    def sources(self) -> set[str]:
        ms = list(self.numerator.values()) if isinstance(self.numerator, dict) else [self.numerator]
        if self.denominator:
            ms.append(self.denominator)
        return {m.source for m in ms}

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en

    def description(self, lang: str) -> str:
        return self.description_zh if lang == "zh" else self.description_en
