"""The briefing's 七、调整与整改 section on the demo store with its seeded plans and notices
(data/demo/plans.py): the counts it states equal the ones computed here from the records, the
overdue items are the ones past their deadline, and a region's briefing counts only what lies
wholly inside the region."""

from __future__ import annotations

import re
from datetime import date

import pytest

from briefing.content import BriefingRequest, Paragraph, Table, build_document
from briefing.spec import DEFAULT_SPEC, SectionKind
from data.store import Store

SPEC = DEFAULT_SPEC.only([SectionKind.ACTIONS])


@pytest.fixture(scope="module")
def store(demo_db):
    s = Store(demo_db, read_only=True)
    yield s
    s.close()


def _section(store, period: str, scope: str = "all", lang: str = "zh"):
    req = BriefingRequest.parse(store, period, scope, lang, spec=SPEC)
    doc = build_document(store, req)
    (sec,) = [s for s in doc.sections if s.kind is SectionKind.ACTIONS]
    return req, sec


def _numbers(text: str) -> list[int]:
    return [int(x) for x in re.findall(r"(\d+)(?:个|份)", text)]


def test_the_lead_states_the_records_counts(store):
    req, sec = _section(store, "2025-Q4")
    lead = next(i for i in sec.items if isinstance(i, Paragraph) and i.style == "lead").text
    q = store.cursor().execute
    start, end = req.start, req.end
    approved = q("SELECT count(*) FROM ops.plans WHERE approved_on BETWEEN $s AND $e", {"s": start, "e": end}).fetchone()[0]
    done = q("SELECT count(*) FROM ops.plans WHERE done_on BETWEEN $s AND $e", {"s": start, "e": end}).fetchone()[0]
    issued = q("SELECT count(*) FROM ops.notices WHERE issued_on BETWEEN $s AND $e", {"s": start, "e": end}).fetchone()[0]
    overdue = q("SELECT count(*) FROM ops.notices WHERE status = 'issued' AND deadline < $d",
                {"d": date(2025, 12, 31)}).fetchone()[0]
    assert approved + done + issued > 0, "the seeded demo has plans and notices in the last quarter"
    nums = _numbers(lead)
    # 新提出, 批准, 完成, 逾期方案, 下发, 报告整改, 复查通过, 复查未通过, 逾期未整改
    assert nums[1] == approved and nums[2] == done and nums[4] == issued and nums[-1] == overdue, (lead, nums)


def test_overdue_items_are_listed_with_their_days(store):
    _, sec = _section(store, "2025-Q4")
    tables = [i for i in sec.items if isinstance(i, Table)]
    overdue = next(tb for tb in tables if "逾期" in tb.columns)
    ids = [r[0] for r in overdue.rows]
    late_notices = {r[0] for r in store.cursor().execute(
        "SELECT notice_id FROM ops.notices WHERE status = 'issued' AND deadline < DATE '2025-12-31'").fetchall()}
    assert late_notices <= set(ids)
    assert all(re.fullmatch(r"\d+天", r[-1]) for r in overdue.rows)


def test_a_region_briefing_counts_only_its_own_records(store):
    regions = [r for (r,) in store.cursor().execute("SELECT DISTINCT region FROM main.branches WHERE region IS NOT NULL ORDER BY 1").fetchall()]
    _, whole = _section(store, "2025-Q4")
    totals = [_numbers(next(i for i in s.items if isinstance(i, Paragraph) and i.style == "lead").text)
              for s in [_section(store, "2025-Q4", f"region:{r}")[1] for r in regions]]
    bank = _numbers(next(i for i in whole.items if isinstance(i, Paragraph) and i.style == "lead").text)
    # the notices belong to one branch each: the regions' issued notices add up to the bank's
    assert sum(t[4] for t in totals) == bank[4]


def test_english(store):
    _, sec = _section(store, "2025-Q4", lang="en")
    lead = next(i for i in sec.items if isinstance(i, Paragraph) and i.style == "lead").text
    assert "plans were proposed" in lead and not re.search(r"[\u4e00-\u9fff]", lead)
