"""The scorecard definition (metrics/scorecard_def.py): the repository's file validates, and a bad
text returns every problem at once, each with where it is and a sentence in both languages."""

from __future__ import annotations

import pytest

from metrics.catalogue import CATALOGUE
from metrics.model import Direction
from metrics.scorecard_def import DEFAULT_PATH, IssueCode, UnitKind, issues_frame, load_default, parse
from metrics.scorecard_measures import BUILTINS, BuiltinKind

BAD = """
version = "one"
name_zh = "坏的考核方案"
colour = "red"

[branch]
min_coverage = 120
[[branch.criteria]]
measure = "counter.no_such_kpi"
group = "business"
weight = 40
target = 1
floor = 0
[[branch.criteria]]
measure = "supervision.recheck_pass_rate"
group = "rectification"
weight = 30
target = 0.5
floor = 0.9
[[branch.criteria]]
measure = "counter.wait_avg_min"
group = "business"
weight = 20
target = 25
floor = 10
[[branch.criteria]]
measure = "counter.tickets_served"
group = "business"
weight = 5
target = 1000
floor = 10
[[branch.criteria]]
measure = "supervision.recheck_pass_rate"
group = "nowhere"
weight = 4
target = 0.9
rule = "bell_curve"
[[branch.criteria]]
measure = "feedback.satisfaction_rate"
group = "satisfaction"
weight = "ten"
target = 0.9
rule = "linear"

[region]
[[region.criteria]]
measure = "credit.approver_share"
group = "business"
weight = 100
target = 0.1
floor = 0.2
"""


def test_the_repository_definition_validates():
    d = load_default()
    assert set(d.units) == {UnitKind.BRANCH, UnitKind.REGION}
    for card in d.units.values():
        assert sum(c.weight for c in card.criteria) == 100
    used = {c.measure for card in d.units.values() for c in card.criteria}
    assert set(BUILTINS) <= used  # every built-in criterion is in the default scorecard
    assert {"supervision.rectified_on_time_rate", "supervision.recheck_pass_rate",
            "supervision.steps_on_time_rate"} <= used
    assert d.sha256 == __import__("hashlib").sha256(DEFAULT_PATH.read_bytes()).hexdigest()


def test_every_problem_is_returned_at_once():
    d, issues = parse(BAD)
    assert d is None
    got = {(i.where, i.code) for i in issues}
    expected = {
        ("version", IssueCode.BAD_TYPE), ("name_en", IssueCode.MISSING), ("colour", IssueCode.UNKNOWN_KEY),
        ("branch.min_coverage", IssueCode.BAD_COVERAGE),
        ("branch.criteria[1].measure", IssueCode.UNKNOWN_MEASURE),
        ("branch.criteria[2].floor", IssueCode.FLOOR_WRONG_SIDE),  # up is good: floor above target
        ("branch.criteria[3].floor", IssueCode.FLOOR_WRONG_SIDE),  # down is good: floor below target
        ("branch.criteria[4].measure", IssueCode.NO_DIRECTION),  # tickets served is neutral
        ("branch.criteria[5].measure", IssueCode.DUPLICATE_MEASURE),
        ("branch.criteria[5].group", IssueCode.UNKNOWN_GROUP), ("branch.criteria[5].rule", IssueCode.UNKNOWN_RULE),
        ("branch.criteria[6].weight", IssueCode.BAD_TYPE), ("branch.criteria[6].floor", IssueCode.MISSING),
        ("region.criteria[1].measure", IssueCode.UNKNOWN_MEASURE),
    }
    assert expected <= got, expected - got
    frame = issues_frame(issues, "en")
    assert list(frame.columns) == ["where", "code", "message"] and len(frame) == len(issues)
    assert all(i.message_zh and i.message_en for i in issues)


def test_weights_not_summing_to_100_is_one_issue_with_the_sum():
    text = load_default().text.replace("weight = 15\ntarget = 10.0", "weight = 20\ntarget = 10.0", 1)
    d, issues = parse(text)
    assert d is None and [(i.where, i.code) for i in issues] == [("branch.criteria", IssueCode.WEIGHTS_NOT_100)]
    assert "105" in issues[0].message_zh and "105" in issues[0].message_en


def test_a_kpi_that_cannot_be_broken_down_by_the_unit_is_refused():
    text = load_default().text.replace('measure = "counter.wait_avg_min"', 'measure = "market.lpr_1y"', 1)
    _, issues = parse(text)
    assert [(i.where, i.code) for i in issues] == [("branch.criteria[1].measure", IssueCode.NOT_BY_UNIT)]


def test_not_toml_is_one_issue():
    d, issues = parse("version = = 1")
    assert d is None and [i.code for i in issues] == [IssueCode.SYNTAX]


@pytest.mark.parametrize("builtin", list(BUILTINS.values()), ids=list(BUILTINS))
def test_every_builtin_is_well_declared(builtin):
    assert builtin.id not in CATALOGUE and builtin.direction is not Direction.NEUTRAL
    assert builtin.name_zh and builtin.name_en and builtin.description_zh and builtin.description_en
    if builtin.kind is BuiltinKind.CHANGE:
        kpi = CATALOGUE[builtin.of]
        assert kpi.direction is builtin.direction and kpi.unit is builtin.unit
        assert {"branch", "region"} <= set(kpi.dimensions)
    if builtin.kind is BuiltinKind.SQL:
        from data.sqlfiles import block

        assert block(builtin.block).doc
