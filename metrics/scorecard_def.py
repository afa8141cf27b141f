"""The scorecard definition (考核方案): a TOML text, parsed and validated as a whole.

    from metrics.scorecard_def import load_default, parse
    d = load_default()                          # metrics/scorecards/default.toml
    d, issues = parse(text)                     # d is None when any issue is an error
    d.units[UnitKind.BRANCH].criteria[0].points(12.5)

`parse` never stops at the first problem: it walks the whole text and returns every issue at once
(`Issue`: where — `branch.criteria[3].floor` —, a code of `IssueCode`, a sentence in 中文 and
English), the shape of the upload report. Rules: every unit kind's weights sum to 100; a measure
is a catalogue KPI (metrics/catalogue.py) or a built-in (metrics/scorecard_measures.py) that can
be broken down by the unit kind; its direction is declared (a neutral KPI cannot be scored); for
an "up is good" measure the floor lies below the target, for a "down is good" one above it; a
`linear` rule needs a floor; no measure twice in a unit kind; no unknown keys.
"""

from __future__ import annotations

import hashlib
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict

from metrics.catalogue import CATALOGUE
from metrics.model import Direction, Unit
from metrics.scorecard_measures import BUILTINS, BuiltinKind

DEFAULT_PATH = Path(__file__).with_name("scorecards") / "default.toml"
_Frozen = ConfigDict(frozen=True, extra="forbid")


class UnitKind(StrEnum):
    """What is scored: an outlet (网点, a branch id of the master) or a region (区域)."""

    BRANCH = "branch"
    REGION = "region"

    def label(self, lang: str = "zh") -> str:
        return {"branch": ("网点", "Branch"), "region": ("区域", "Region")}[self.value][lang != "zh"]


class Rule(StrEnum):
    LINEAR = "linear"  # weight × (value − floor) / (target − floor), capped at 0 and weight
    THRESHOLD = "threshold"  # the whole weight when the target is reached, else 0


class Group(StrEnum):
    """The headings of the bank's assessment rules (§7.2) a criterion is shown under."""

    BUSINESS = "business"
    MARKET = "market"
    SATISFACTION = "satisfaction"
    RECTIFICATION = "rectification"
    DELIVERY = "delivery"

    def label(self, lang: str = "zh") -> str:
        return GROUP_LABELS[self][lang != "zh"]


GROUP_LABELS = {Group.BUSINESS: ("业务指标", "Business indicators"), Group.MARKET: ("市场响应", "Market response"),
                Group.SATISFACTION: ("客户满意度提升", "Satisfaction improvement"),
                Group.RECTIFICATION: ("整改落实", "Rectification"), Group.DELIVERY: ("方案落地", "Plan delivery")}


class IssueCode(StrEnum):
    SYNTAX = "syntax"  # not TOML
    UNKNOWN_KEY = "unknown_key"
    MISSING = "missing"
    BAD_TYPE = "bad_type"
    UNKNOWN_MEASURE = "unknown_measure"
    NOT_BY_UNIT = "not_by_unit"  # the KPI cannot be broken down by the unit kind
    NO_DIRECTION = "no_direction"  # a neutral KPI: no side is good
    WEIGHTS_NOT_100 = "weights_not_100"
    FLOOR_WRONG_SIDE = "floor_wrong_side"
    UNKNOWN_RULE = "unknown_rule"
    UNKNOWN_GROUP = "unknown_group"
    DUPLICATE_MEASURE = "duplicate_measure"
    BAD_COVERAGE = "bad_coverage"
    NO_UNITS = "no_units"


class Issue(BaseModel):
    model_config = _Frozen

    where: str
    code: IssueCode
    message_zh: str
    message_en: str

    def message(self, lang: str = "zh") -> str:
        return self.message_zh if lang == "zh" else self.message_en


def issues_frame(issues: list[Issue], lang: str = "zh") -> pd.DataFrame:
    """The issues as one table (where, code, message) — what the admin form and the CLI show."""
    return pd.DataFrame([{"where": i.where, "code": i.code.value, "message": i.message(lang)} for i in issues],
                        columns=["where", "code", "message"])


class MeasureInfo(BaseModel):
    """What scoring needs to know of a measure, KPI or built-in alike."""

    model_config = _Frozen

    id: str
    name_zh: str
    name_en: str
    unit: Unit
    direction: Direction
    decimals: int
    builtin: bool
    change: bool = False  # a change against the previous period (shown signed: 个百分点 for a rate)

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


def measure_info(measure_id: str) -> MeasureInfo | None:
    if (m := CATALOGUE.get(measure_id)) is not None:
        return MeasureInfo(id=m.id, name_zh=m.name_zh, name_en=m.name_en, unit=m.unit, direction=m.direction,
                           decimals=m.decimals, builtin=False)
    if (b := BUILTINS.get(measure_id)) is not None:
        return MeasureInfo(id=b.id, name_zh=b.name_zh, name_en=b.name_en, unit=b.unit, direction=b.direction,
                           decimals=b.decimals, builtin=True, change=b.kind is BuiltinKind.CHANGE)
    return None


class Criterion(BaseModel):
    model_config = _Frozen

    measure: str
    group: Group
    weight: float
    target: float
    floor: float | None
    rule: Rule

    @property
    def info(self) -> MeasureInfo:
        return measure_info(self.measure)

    def fraction(self, value: float | None) -> float | None:
        """The share of the weight earned by `value` (None: no value, no points — not 0)."""
        if value is None or pd.isna(value):
            return None
        up = self.info.direction is Direction.UP_GOOD
        match self.rule:
            case Rule.THRESHOLD:
                return 1.0 if (value >= self.target if up else value <= self.target) else 0.0
            case Rule.LINEAR:
                f = (value - self.floor) / (self.target - self.floor)  # same sign rules hold for both directions
                return min(1.0, max(0.0, f))

    def points(self, value: float | None) -> float | None:
        f = self.fraction(value)
        return None if f is None else f * self.weight


class UnitScorecard(BaseModel):
    model_config = _Frozen

    min_coverage: float  # percent of the weight that must have data
    criteria: tuple[Criterion, ...]


class Definition(BaseModel):
    model_config = _Frozen

    version: int
    name_zh: str
    name_en: str
    units: dict[UnitKind, UnitScorecard]
    text: str  # the TOML it was parsed from (stored with each version)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


_TOP_KEYS = {"version", "name_zh", "name_en", *(u.value for u in UnitKind)}
_UNIT_KEYS = {"min_coverage", "criteria"}
_CRIT_KEYS = {"measure", "group", "weight", "target", "floor", "rule"}


class _Issues(list):
    def add(self, where: str, code: IssueCode, zh: str, en: str) -> None:
        self.append(Issue(where=where, code=code, message_zh=zh, message_en=en))

    def number(self, where: str, value: Any, *, required: bool = True) -> float | None:
        if value is None:
            if required:
                self.add(where, IssueCode.MISSING, f"{where} 必须填写", f"{where} is required")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(where, IssueCode.BAD_TYPE, f"{where} 应为数字，实际为 {value!r}", f"{where} must be a number, not {value!r}")
            return None
        return float(value)

    def unknown_keys(self, where: str, got: dict, allowed: set[str]) -> None:
        for k in sorted(set(got) - allowed):
            self.add(f"{where}.{k}" if where else k, IssueCode.UNKNOWN_KEY, f"未知的键 {k}（可用：{', '.join(sorted(allowed))}）",
                     f"unknown key {k} (allowed: {', '.join(sorted(allowed))})")


def _criterion(p: _Issues, where: str, c: Any, kind: UnitKind) -> Criterion | None:
    if not isinstance(c, dict):
        p.add(where, IssueCode.BAD_TYPE, f"{where} 应为一张表", f"{where} must be a table")
        return None
    p.unknown_keys(where, c, _CRIT_KEYS)
    mid = c.get("measure")
    info = measure_info(mid) if isinstance(mid, str) else None
    if mid is None:
        p.add(f"{where}.measure", IssueCode.MISSING, f"{where}.measure 必须填写", f"{where}.measure is required")
    elif info is None:
        p.add(f"{where}.measure", IssueCode.UNKNOWN_MEASURE, f"未知的指标 {mid!r}（指标目录或内置考核指标）",
              f"unknown measure {mid!r} (neither a catalogue KPI nor a built-in scorecard measure)")
    elif not info.builtin and kind.value not in CATALOGUE[mid].dimensions:
        p.add(f"{where}.measure", IssueCode.NOT_BY_UNIT, f"指标 {mid} 不能按{kind.label('zh')}分解",
              f"{mid} cannot be broken down by {kind.value}")
    elif info.direction is Direction.NEUTRAL:
        p.add(f"{where}.measure", IssueCode.NO_DIRECTION, f"指标 {mid} 没有好坏方向，不能计分",
              f"{mid} is neutral (neither up nor down is good) and cannot be scored")
    weight = p.number(f"{where}.weight", c.get("weight"))
    if weight is not None and weight <= 0:
        p.add(f"{where}.weight", IssueCode.BAD_TYPE, "权重应大于0", "the weight must be above 0")
    target = p.number(f"{where}.target", c.get("target"))
    rule = None
    try:
        rule = Rule(c.get("rule", "linear"))
    except ValueError:
        p.add(f"{where}.rule", IssueCode.UNKNOWN_RULE, f"未知的计分规则 {c.get('rule')!r}（可选：linear, threshold）",
              f"unknown rule {c.get('rule')!r} (one of: linear, threshold)")
    floor = p.number(f"{where}.floor", c.get("floor"), required=rule is Rule.LINEAR)
    group = None
    try:
        group = Group(c.get("group"))
    except ValueError:
        p.add(f"{where}.group", IssueCode.UNKNOWN_GROUP, f"未知的分组 {c.get('group')!r}（可选：{', '.join(Group)}）",
              f"unknown group {c.get('group')!r} (one of: {', '.join(Group)})")
    if info is not None and target is not None and floor is not None and info.direction is not Direction.NEUTRAL:
        up = info.direction is Direction.UP_GOOD
        if (up and floor >= target) or (not up and floor <= target):
            side_zh, side_en = ("低于", "below") if up else ("高于", "above")
            good_zh, good_en = ("越高越好", "up is good") if up else ("越低越好", "down is good")
            p.add(f"{where}.floor", IssueCode.FLOOR_WRONG_SIDE,
                  f"{info.name_zh}{good_zh}：底线（{floor:g}）应{side_zh}目标（{target:g}）",
                  f"{info.name_en} — {good_en}: the floor ({floor:g}) must lie {side_en} the target ({target:g})")
    if None in (info, weight, target, rule, group) or (rule is Rule.LINEAR and floor is None):
        return None
    return Criterion(measure=mid, group=group, weight=weight, target=target, floor=floor, rule=rule)


def _unit(p: _Issues, kind: UnitKind, u: Any) -> UnitScorecard | None:
    where = kind.value
    if not isinstance(u, dict):
        p.add(where, IssueCode.BAD_TYPE, f"[{where}] 应为一张表", f"[{where}] must be a table")
        return None
    p.unknown_keys(where, u, _UNIT_KEYS)
    cov = p.number(f"{where}.min_coverage", u.get("min_coverage", 60))
    if cov is not None and not 0 < cov <= 100:
        p.add(f"{where}.min_coverage", IssueCode.BAD_COVERAGE, "min_coverage 应在 0 到 100 之间（权重的百分比）",
              "min_coverage must lie in (0, 100] (a percent of the weight)")
    raw = u.get("criteria")
    if not isinstance(raw, list) or not raw:
        p.add(f"{where}.criteria", IssueCode.MISSING, f"[{where}] 至少需要一项考核指标", f"[{where}] needs at least one criterion")
        return None
    crits, seen = [], {}
    for i, c in enumerate(raw, 1):
        w = f"{where}.criteria[{i}]"
        crit = _criterion(p, w, c, kind)
        mid = c.get("measure") if isinstance(c, dict) else None
        if isinstance(mid, str) and mid in seen:
            p.add(f"{w}.measure", IssueCode.DUPLICATE_MEASURE, f"{mid} 已在第 {seen[mid]} 项出现",
                  f"{mid} already appears as criterion {seen[mid]}")
        elif isinstance(mid, str):
            seen[mid] = i
        crits.append(crit)
    weights = [c.get("weight") for c in raw if isinstance(c, dict)]
    if all(isinstance(w, int | float) and not isinstance(w, bool) for w in weights):
        total = sum(weights)
        if abs(total - 100) > 1e-9:
            p.add(f"{where}.criteria", IssueCode.WEIGHTS_NOT_100, f"[{where}] 权重合计 {total:g}，应为 100",
                  f"the weights of [{where}] sum to {total:g}, not 100")
    if None in crits or cov is None:
        return None
    return UnitScorecard(min_coverage=cov, criteria=tuple(crits))


def parse(text: str) -> tuple[Definition | None, list[Issue]]:
    """The definition in `text` and every issue found; the definition is None when there is any."""
    p = _Issues()
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        p.add("toml", IssueCode.SYNTAX, f"不是有效的 TOML：{exc}", f"not valid TOML: {exc}")
        return None, list(p)
    p.unknown_keys("", raw, _TOP_KEYS)
    version = raw.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int):
        p.add("version", IssueCode.BAD_TYPE, "version 应为整数", "version must be an integer")
    names = {}
    for k in ("name_zh", "name_en"):
        names[k] = raw.get(k)
        if not isinstance(names[k], str) or not names[k].strip():
            p.add(k, IssueCode.MISSING, f"{k} 必须填写", f"{k} is required")
    units = {}
    for kind in UnitKind:
        if kind.value in raw:
            units[kind] = _unit(p, kind, raw[kind.value])
    if not any(k.value in raw for k in UnitKind):
        p.add("toml", IssueCode.NO_UNITS, "至少需要 [branch] 或 [region] 之一", "at least one of [branch], [region] is needed")
    if p:
        return None, list(p)
    return Definition(version=version, units=units, text=text, **names), []


class DefinitionError(ValueError):
    """A definition that does not validate; `.issues` holds every problem."""

    def __init__(self, issues: list[Issue]):
        super().__init__("; ".join(f"{i.where}: {i.message_en}" for i in issues))
        self.issues = issues


def parse_or_raise(text: str) -> Definition:
    d, issues = parse(text)
    if d is None:
        raise DefinitionError(issues)
    return d


def load_default() -> Definition:
    """The definition in the repository (the seed of the stored versions)."""
    return parse_or_raise(DEFAULT_PATH.read_text(encoding="utf-8"))
