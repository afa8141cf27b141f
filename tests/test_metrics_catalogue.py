"""The catalogue as a whole: complete declarations, a test for every KPI, every KPI runs, golden SQL.

Golden SQL lives in tests/golden_sql/<id>.sql: the Ibis-compiled query of each KPI for a fixed
window and grain. A missing file fails the test (`UPDATE_GOLDEN=1` writes it, and rewrites them all);
any other difference fails, so a change to the compiler or a declaration shows up as a reviewed diff.
"""

from __future__ import annotations

import ast
import os
import re
from datetime import date
from pathlib import Path

import ibis
import pytest

from data.sources import TABLES
from data.store import Store
from metrics.catalogue import CATALOGUE, HEADLINE_IDS, by_category, get_metric, headlines
from metrics.columns import DIMENSIONS
from metrics.compiler import MetricQueryError, Window, compile_metric
from metrics.compute import series
from metrics.model import Agg, Category, Direction, Grain, Measure, Unit
from metrics.periods import period_start, shift

TESTS = Path(__file__).parent
GOLDEN = TESTS / "golden_sql"
GOLDEN_GRAIN, GOLDEN_WINDOW = Grain.MONTH, Window(date(2025, 1, 1), date(2025, 6, 30))
AS_OF = date(2025, 6, 30)

# What users see (overview cards, summary, briefing), in the order they see it: a pinned
# expectation like the golden SQL, not a list anything reads. HEADLINE_IDS comes from the flag.
STABLE_HEADLINES = (
    "counter.tickets_served", "counter.wait_avg_min", "counter.wait_p90_min", "counter.overtime_wait_rate",
    "credit.disbursed_amount", "credit.balance", "credit.overdue_rate", "credit.npl_ratio",
    "feedback.complaints", "feedback.on_time_closure_rate", "feedback.satisfaction_rate",
)


def _value_asserted_ids(sources: dict[str, str]) -> dict[str, str]:
    """KPI id -> the first test that names it *and* compares a value (==, <, >, approx …) in an assert.

    A quoted id alone no longer counts: the id must appear in a test function (its body or its
    parametrize decorator, directly or through a module-level constant) that asserts a comparison,
    so a test that only runs a KPI, or lists it, does not make it "tested".
    """
    found: dict[str, str] = {}
    for name, text in sources.items():
        tree = ast.parse(text)
        consts: dict[str, set[str]] = {}
        for node in tree.body:
            if isinstance(node, ast.Assign):
                strings = {c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant) and isinstance(c.value, str)}
                consts.update({t.id: strings for t in node.targets if isinstance(t, ast.Name)})
        for fn in ast.walk(tree):
            if not (isinstance(fn, ast.FunctionDef) and fn.name.startswith("test_")):
                continue
            strings: set[str] = set()
            for part in (*fn.decorator_list, *fn.body):
                for c in ast.walk(part):
                    if isinstance(c, ast.Constant) and isinstance(c.value, str):
                        strings.add(c.value)
                    elif isinstance(c, ast.Name) and c.id in consts:
                        strings |= consts[c.id]
            compares = any(isinstance(a, ast.Assert) and any(
                isinstance(x, ast.Compare) and any(isinstance(o, _COMPARISONS) for o in x.ops) for x in ast.walk(a.test))
                for a in ast.walk(fn))
            if compares:
                for mid in CATALOGUE:
                    if mid in strings:
                        found.setdefault(mid, f"{name}::{fn.name}")
    return found


_COMPARISONS = (ast.Eq, ast.Lt, ast.Gt, ast.LtE, ast.GtE)
_METRIC_TESTS = {p.name: p.read_text(encoding="utf-8") for p in sorted(TESTS.glob("test_metrics_*.py"))
                 if p.name != Path(__file__).name}  # this file names them all, so it is left out


def test_every_kpi_has_a_test():
    missing = sorted(set(CATALOGUE) - set(_value_asserted_ids(_METRIC_TESTS)))
    assert not missing, f"KPIs without a test that asserts their value in tests/test_metrics_*.py: {missing}"


def test_the_kpi_test_check_can_fail():
    """The check above counts a value assertion, not a mention."""
    mid = sorted(CATALOGUE)[0]
    only_named = f"IDS = ['{mid}']\ndef test_runs(store):\n    series(store, '{mid}')\n    assert True\n"
    asserted = f"def test_value(store):\n    assert values(store, '{mid}') == {{1: 2}}\n"
    via_const = f"IDS = ['{mid}']\n@pytest.mark.parametrize('m', IDS)\ndef test_v(m):\n    assert f(m) == 1\n"
    assert mid not in _value_asserted_ids({"a.py": only_named})
    assert mid in _value_asserted_ids({"b.py": asserted})
    assert mid in _value_asserted_ids({"c.py": via_const})


def test_stable_headline_ids():
    assert set(CATALOGUE) >= set(STABLE_HEADLINES)
    assert set(HEADLINE_IDS) == set(STABLE_HEADLINES)
    assert {m.id for m in CATALOGUE.values() if m.headline} == set(STABLE_HEADLINES)
    assert HEADLINE_IDS == STABLE_HEADLINES, "the headline order is the declaration order users see"
    assert [m.id for m in headlines()] == list(HEADLINE_IDS)
    for c in Category:
        assert [m.id for m in headlines(c)] == [mid for mid in HEADLINE_IDS if CATALOGUE[mid].category is c]
    with pytest.raises(KeyError, match="unknown metric"):
        get_metric("credit.no_such_kpi")


@pytest.mark.parametrize(("kw", "additive"), [
    ({"agg": Agg.COUNT}, True), ({"agg": Agg.SUM, "column": "wait_min"}, True),
    ({"agg": Agg.MEAN, "column": "wait_min"}, True), ({"agg": Agg.QUANTILE, "column": "wait_min", "q": 0.9}, False),
    ({"agg": Agg.COUNT_DISTINCT, "column": "branch_id"}, False), ({"agg": Agg.LAST, "column": "wait_min"}, False),
    ({"agg": Agg.CUSTOM, "custom": "window_capacity_seconds", "sums_over_branches": True}, True),
    ({"agg": Agg.CUSTOM, "custom": "open_past_limit"}, False),
])
def test_additivity_is_declared_on_the_measure(kw, additive):
    """The scan rolls additive measures up from branches (anomaly/extract.py reads `Measure.additive`)."""
    assert Measure(source="counter_tickets", **kw).additive is additive


def test_only_custom_measures_declare_sums_over_branches():
    with pytest.raises(ValueError, match="sums_over_branches"):
        Measure(source="counter_tickets", agg=Agg.QUANTILE, column="wait_min", q=0.5, sums_over_branches=True)


@pytest.mark.parametrize("metric_id", sorted(CATALOGUE))
def test_declaration_is_complete(metric_id):
    m = CATALOGUE[metric_id]
    assert m.id == metric_id
    assert m.id.startswith(m.category.value + "."), "ids start with their category"
    assert re.fullmatch(r"[a-z]+\.[a-z0-9_]+", m.id)
    for field in ("name_zh", "name_en", "description_zh", "description_en"):
        assert getattr(m, field).strip(), f"{metric_id} lacks {field}"
    assert re.search(r"[\u4e00-\u9fff]", m.name_zh), "name_zh is Chinese"
    assert isinstance(m.unit, Unit) and isinstance(m.direction, Direction) and isinstance(m.category, Category)
    assert m in by_category(m.category)
    assert len(set(m.dimensions)) == len(m.dimensions)
    for d in m.dimensions:
        assert d in DIMENSIONS, f"{metric_id}: unknown dimension {d}"
        for src in m.sources:
            assert DIMENSIONS[d].available({c.name for c in TABLES[src].columns}, src), (metric_id, d, src)
    if m.unit is Unit.RATE and m.target is not None:
        assert 0 <= m.target <= 10
    assert 0 <= m.decimals <= 4


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory):
    s = Store(tmp_path_factory.mktemp("empty") / "t.duckdb")
    yield s
    s.close()


def _default_window(grain: Grain) -> tuple[date, date]:
    """A card's window: the same period a year before the first of 12 periods ending at AS_OF."""
    last = period_start(AS_OF, grain)
    first = shift(last, grain, -(11 + {Grain.DAY: 365, Grain.WEEK: 52, Grain.MONTH: 12,
                                       Grain.QUARTER: 4, Grain.YEAR: 1}[grain]))
    return first, AS_OF


@pytest.mark.parametrize("metric_id", sorted(CATALOGUE))
def test_runs_on_an_empty_store_at_every_grain(empty_store, metric_id):
    m = CATALOGUE[metric_id]
    for grain in Grain:
        start, end = _default_window(grain)
        df = series(empty_store, m, grain, start, end)
        assert df.empty, (metric_id, grain)
        expected = {"period", "value"} | ({"numerator", "denominator"} if m.is_ratio else set())
        assert set(df.columns) == expected


@pytest.mark.parametrize("metric_id", sorted(CATALOGUE))
def test_every_allowed_dimension_compiles_and_runs(empty_store, metric_id):
    # all allowed dimensions in one breakdown: each one's join / column path is compiled and executed
    # (one query per KPI keeps the suite fast; a single failing dimension still fails it)
    m = CATALOGUE[metric_id]
    backend = empty_store.ibis()
    expr = compile_metric(backend, m, Grain.MONTH, GOLDEN_WINDOW, m.dimensions)
    assert list(expr.columns[: 1 + len(m.dimensions)]) == ["period", *m.dimensions]
    assert expr.execute().empty
    disallowed = next(d for d in DIMENSIONS if d not in m.dimensions)
    with pytest.raises(MetricQueryError):
        compile_metric(backend, m, Grain.MONTH, GOLDEN_WINDOW, (disallowed,))


def _normalise(sql: str) -> str:
    # in-memory tables get a random name per process (open_past_limit's period ends)
    sql = re.sub(r"ibis_pandas_memtable_[a-z0-9]+", "ibis_pandas_memtable", sql)
    return "\n".join(line.rstrip() for line in sql.strip().splitlines()) + "\n"


@pytest.mark.parametrize("metric_id", sorted(CATALOGUE))
def test_golden_sql(empty_store, metric_id):
    expr = compile_metric(empty_store.ibis(), CATALOGUE[metric_id], GOLDEN_GRAIN, GOLDEN_WINDOW)
    sql = _normalise(ibis.to_sql(expr, dialect="duckdb"))
    path = GOLDEN / f"{metric_id}.sql"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(sql, encoding="utf-8")
    assert path.exists(), f"no golden SQL for {metric_id}: review the compiled query and write it with UPDATE_GOLDEN=1"
    assert sql == path.read_text(encoding="utf-8"), (
        f"compiled SQL of {metric_id} changed; review it and rerun with UPDATE_GOLDEN=1 to accept")


def test_no_stale_golden_files():
    assert GOLDEN.is_dir(), "tests/golden_sql is missing"
    stale = sorted(p.stem for p in GOLDEN.glob("*.sql") if p.stem not in CATALOGUE)
    assert not stale, f"golden SQL for KPIs no longer in the catalogue: {stale}"
