"""Validation of plan and supervision writes: errors are data.

Every write of `data.plans.store` first runs its checks and collects *every* problem — a
`Problem` names the field, a code and the message in 中文 and English, like an ingest issue —
then refuses with `PlanError(problems)` and writes nothing, or writes everything. Checks never
stop at the first problem; a page shows them as one table (`PlanError.frame()`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

import pandas as pd


class ProblemCode(StrEnum):
    REQUIRED = "required"            # an empty field that must be filled
    TOO_LONG = "too_long"
    UNKNOWN_VALUE = "unknown_value"  # not one of a closed vocabulary (kind, scope kind, severity …)
    UNKNOWN_KPI = "unknown_kpi"      # not an id of metrics.catalogue.CATALOGUE
    UNKNOWN_BRANCH = "unknown_branch"
    UNKNOWN_REGION = "unknown_region"
    UNKNOWN_REF = "unknown_ref"      # an origin naming no anomaly / finding / market event
    BAD_DATE = "bad_date"            # not a date, or in the wrong order (a deadline before the issue date …)
    OUTSIDE_SCOPE = "outside_scope"  # a branch outside the writer's access boundary
    NOT_PERMITTED = "not_permitted"  # the writer's role / groups lack the permission
    NOT_ALLOWED = "not_allowed"      # a move the transition table does not list, an edit in a frozen status
    NOT_FOUND = "not_found"          # no such record within the writer's scope
    STALE = "stale"                  # someone changed the record since it was read (version)
    INCOMPLETE = "incomplete"        # a move whose preconditions are missing (evaluation texts, steps …)
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Problem:
    """One reason a write was refused."""

    field: str
    code: ProblemCode
    zh: str
    en: str

    @property
    def message(self) -> str:
        return f"{self.zh} / {self.en}"


class PlanError(ValueError):
    """A refused write: every problem found, nothing written."""

    def __init__(self, problems: list[Problem]):
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in self.problems))

    def codes(self) -> set[str]:
        return {p.code.value for p in self.problems}

    def frame(self) -> pd.DataFrame:
        """The problems as one table (field, code, message_zh, message_en)."""
        return pd.DataFrame([{"field": p.field, "code": p.code.value, "message_zh": p.zh, "message_en": p.en}
                             for p in self.problems], columns=["field", "code", "message_zh", "message_en"])


MAX_TITLE = 200
MAX_TEXT = 10_000


class Problems(list):
    """The problems of one write, collected; `raise_if_any()` refuses with all of them."""

    def add(self, field: str, code: ProblemCode, zh: str, en: str) -> None:
        self.append(Problem(field, code, zh, en))

    def text(self, field: str, value, label_zh: str, *, required: bool = True, limit: int = MAX_TEXT) -> str | None:
        """A stripped text (None when empty); empty-but-required and too long are problems."""
        v = None if value is None else str(value).strip() or None
        if v is None and required:
            self.add(field, ProblemCode.REQUIRED, f"{label_zh}不能为空", f"{field} must not be empty")
        if v is not None and len(v) > limit:
            self.add(field, ProblemCode.TOO_LONG, f"{label_zh}超过 {limit} 个字符", f"{field} is longer than {limit} characters")
        return v

    def day(self, field: str, value, label_zh: str, *, required: bool = True) -> date | None:
        """A date (a `date` or an ISO string `YYYY-MM-DD`)."""
        if value is None or value == "":
            if required:
                self.add(field, ProblemCode.REQUIRED, f"{label_zh}不能为空", f"{field} must be given")
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.add(field, ProblemCode.BAD_DATE, f"{label_zh}不是有效日期：{value}（应为 YYYY-MM-DD）",
                     f"{field} is not a date: {value} (expected YYYY-MM-DD)")
            return None

    def choice(self, field: str, value, enum: type[StrEnum], label_zh: str):
        """A member of `enum` (by value); anything else is a problem naming the allowed values."""
        try:
            return enum(value)
        except ValueError:
            allowed = ", ".join(m.value for m in enum)
            self.add(field, ProblemCode.UNKNOWN_VALUE, f"{label_zh}无效：{value!r}（可选：{allowed}）",
                     f"{field} {value!r} is not one of: {allowed}")
            return None

    def not_before(self, field: str, later: date | None, earlier: date | None, zh: str, en: str) -> None:
        if later is not None and earlier is not None and later < earlier:
            self.add(field, ProblemCode.BAD_DATE, zh, en)

    def raise_if_any(self) -> None:
        if self:
            raise PlanError(list(self))


def outside_scope_problem(field: str, ids) -> Problem:
    shown = ", ".join(sorted(ids))
    return Problem(field, ProblemCode.OUTSIDE_SCOPE, f"超出您的数据范围：{shown}", f"outside your access scope: {shown}")


def not_found_problem(field: str, what_zh: str, what_en: str, ref: str) -> Problem:
    """The same answer for 'does not exist' and 'outside your scope': no existence oracle."""
    return Problem(field, ProblemCode.NOT_FOUND, f"您的数据范围内没有{what_zh} {ref}",
                   f"no {what_en} {ref} within your access scope")
