"""Which definition scores a period, and saving a new version (the admin form, `bankpulse scorecard`).

A period scores with its pinned version, else the latest stored version in effect at its start,
else the repository's seed (metrics/scorecards/default.toml). A new version applies from the
start of a period that has not ended yet (`effective_from` ≥ the first day of the current month);
saving it pins every ended month, quarter and year with data to the version that scored it, so
nothing already scored changes (data/scorecards.py; one transaction, audited).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from data.scorecards import ScorecardVersions, Version, resolve
from metrics.compute import data_span
from metrics.model import Grain
from metrics.periods import period_end, periods
from metrics.scorecard_def import DEFAULT_PATH, Definition, Issue, IssueCode, load_default, parse

PINNED_GRAINS = (Grain.MONTH, Grain.QUARTER, Grain.YEAR)
_SPAN_SOURCES = ("counter_tickets", "feedback_records", "loan_snapshot")


@lru_cache(maxsize=64)
def _parsed(text: str) -> Definition:
    d, issues = parse(text)
    if d is None:  # a stored text was validated when saved; this is a changed catalogue
        raise ValueError("; ".join(f"{i.where}: {i.message_en}" for i in issues))
    return d


def definition_for(store, grain: Grain, start: date) -> tuple[Definition, Version | None]:
    """The definition that scores the period of `grain` starting at `start`, and its stored version
    (None: the repository's seed, nothing stored yet)."""
    sv = ScorecardVersions(store)
    versions = sv.versions()
    vid = resolve(versions, sv.pins(), grain.value, start)
    if vid is None:
        return load_default(), None
    v = next(v for v in versions if v.version_id == vid)
    return _parsed(v.definition), v


def current_text(store) -> str:
    """The text a new version starts from: the latest stored one, else the repository's file."""
    versions = ScorecardVersions(store).versions()
    return versions[-1].definition if versions else DEFAULT_PATH.read_text(encoding="utf-8")


def _ended(store, today: date) -> list[tuple[str, date]]:
    firsts = [data_span(store, s)[0] for s in _SPAN_SOURCES]
    first = min((d for d in firsts if d), default=None)
    if first is None:
        return []
    return [(g.value, p) for g in PINNED_GRAINS for p in periods(first, today, g) if period_end(p, g) < today]


def save(store, principal, text: str, effective_from: date, *, note: str | None = None, today: date | None = None,
         channel: str = "web") -> tuple[Version | None, list[Issue]]:
    """Validate `text` and the day and store the version; (None, every issue) when anything is wrong."""
    today = today or date.today()
    d, issues = parse(text)
    issues = list(issues)
    if not principal.can("scorecard_admin"):
        issues.append(Issue(where="user", code=IssueCode.BAD_TYPE, message_zh="没有修改考核方案的权限",
                            message_en="you may not change the scorecard definition"))
    if effective_from.day != 1:
        issues.append(Issue(where="effective_from", code=IssueCode.BAD_TYPE, message_zh="生效期应为某月1日",
                            message_en="effective_from must be the first day of a month"))
    if effective_from < today.replace(day=1):
        issues.append(Issue(where="effective_from", code=IssueCode.BAD_TYPE,
                            message_zh=f"生效期不能早于本月（{today.year}年{today.month}月）：已结束的期间不重新考核",
                            message_en=f"effective_from cannot be before the current month ({today:%Y-%m}): an ended "
                                       "period is not re-scored"))
    sv = ScorecardVersions(store, channel=channel)
    versions = sv.versions()
    if versions and effective_from < versions[-1].effective_from:
        issues.append(Issue(where="effective_from", code=IssueCode.BAD_TYPE,
                            message_zh=f"生效期不能早于上一版本的生效期（{versions[-1].effective_from}）",
                            message_en=f"effective_from cannot be before the latest version's "
                                       f"({versions[-1].effective_from})"))
    if issues:
        return None, issues
    seed = None
    if not versions:
        s = load_default()
        seed = {"definition": s.text, "def_version": s.version, "name_zh": s.name_zh, "name_en": s.name_en,
                "sha256": s.sha256}
    v = sv.save_version(principal, text=d.text, def_version=d.version, name_zh=d.name_zh, name_en=d.name_en,
                        sha256=d.sha256, effective_from=effective_from, ended=_ended(store, today), seed=seed,
                        note=note, origin="form" if channel == "web" else "cli")
    return v, []
