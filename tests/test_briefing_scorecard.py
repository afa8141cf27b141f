"""The briefing's 八、考核 section (briefing/scorecard.py) on the hand-computed world of
tests/helpers_scorecard.py: the regions and outlets for the bank, one outlet's criteria for its
scope, and the same scores the scorecard page shows."""

from __future__ import annotations

import pytest
from helpers_scorecard import A, B, build_world

from briefing.content import BriefingRequest, Table, build_document
from briefing.spec import DEFAULT_SPEC, SectionKind

SPEC = DEFAULT_SPEC.only([SectionKind.SCORECARD])


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = build_world(tmp_path_factory.mktemp("brief_sc"))
    yield s
    s.close()


def _section(store, scope: str, lang: str = "zh", boundary=None):
    req = BriefingRequest.parse(store, "2025-02", scope, lang, SPEC, boundary=boundary)
    (sec,) = [s for s in build_document(store, req).sections if s.kind is SectionKind.SCORECARD]
    return sec


def test_bank_briefing_lists_regions_and_outlets(store):
    sec = _section(store, "all")
    assert sec.title == "八、考核"
    tables = [i for i in sec.items if isinstance(i, Table)]
    regions, outlets = tables
    assert [r[2] for r in regions.rows] == ["43.8", "34.4"]  # 华东区 43.75, 华南区 34.375
    assert [r[1] for r in outlets.rows] == ["人民路网点（0101001）", "滨江路网点（0201002）", "解放路网点（0101002）",
                                            "中山路网点（0201001）"]
    assert [r[0] for r in outlets.rows] == ["第1名/3", "第2名/3", "第3名/3", "不评分"]
    en = _section(store, "all", "en")
    assert en.title == "8. Scorecard" and [i for i in en.items if isinstance(i, Table)][1].rows[0][0] == "1 of 3"


def test_an_outlet_briefing_shows_its_criteria(store):
    sec = _section(store, f"branch:{A}")
    tables = [i for i in sec.items if isinstance(i, Table)]
    assert len(tables) == 2 and tables[0].rows[0][2] == "92.5"
    assert [r[-1] for r in tables[1].rows] == ["30.0/30", "20.0/20", "22.5/30", "20.0/20"]


def test_a_scoped_reader_gets_their_outlet_only(store):
    sec = _section(store, "all", boundary=frozenset({B}))
    tables = [i for i in sec.items if isinstance(i, Table)]
    assert len(tables) == 1 and [r[1] for r in tables[0].rows] == ["解放路网点（0101002）"]
    assert tables[0].rows[0][0] == "第3名/3"
