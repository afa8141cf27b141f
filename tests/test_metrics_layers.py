"""The query layer's modules depend one way (issue 11, item 4): `metrics.tables` (scope, window,
breakdown columns) ← `metrics.custom` ← `metrics.compiler`, with no import cycle to break by
importing inside a function, and one branch-master join for every breakdown.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

METRICS = Path(__file__).resolve().parent.parent / "metrics"


def imports(module: str) -> dict[str, bool]:
    """The metrics modules `module` imports → whether at the top level (False: inside a function)."""
    tree = ast.parse((METRICS / f"{module}.py").read_text(encoding="utf-8"))
    top = {id(n) for n in tree.body}
    found: dict[str, bool] = {}
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("metrics"):
            names = [node.module] if node.module != "metrics" else [f"metrics.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.startswith("metrics.")]
        for n in names:
            found[n.removeprefix("metrics.")] = found.get(n.removeprefix("metrics."), False) or id(node) in top
    return found


@pytest.mark.parametrize(("module", "never"), [
    ("tables", {"compiler", "custom", "compute", "catalogue"}),
    ("custom", {"compiler", "compute", "catalogue"}),
])
def test_lower_modules_do_not_import_upper_ones(module, never):
    assert not never & imports(module).keys()


def test_the_compiler_imports_custom_at_the_top():
    deps = imports("compiler")
    assert deps.get("custom") is True and deps.get("tables") is True
    assert all(deps.values()), f"imports inside functions (a cycle worked around): {deps}"


def test_one_branch_master_join_for_breakdowns():
    """Only metrics.tables joins the branch master for a breakdown column (`via_branch`)."""
    users = sorted(p.stem for p in METRICS.glob("*.py") if "via_branch]" in p.read_text(encoding="utf-8"))
    assert users == ["tables"]


@pytest.mark.parametrize("module", ["compiler", "tables"])
def test_the_query_layer_names_no_loan_columns(module):
    """Which loan columns a flow keeps comes from declarations (the source's key, time column and
    `columns.SNAPSHOT_STATE`), not from a list in the compiler (branch_id and product are the
    Scope's own filters)."""
    from data.sources import SOURCES

    text = (METRICS / f"{module}.py").read_text(encoding="utf-8")
    spelled = sorted(c.name for c in SOURCES["loan_snapshot"].columns
                     if c.name not in ("branch_id", "product") and (f'"{c.name}"' in text or f".{c.name}" in text))
    assert not spelled
