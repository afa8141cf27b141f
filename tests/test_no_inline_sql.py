"""Hand-written SQL lives in named blocks of `data/sql/*.sql` and runs through `Store.query`
(issue 11, item 3): no page, anomaly or briefing module holds an SQL string of its own, and every
block the code names exists and says what it is for.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from data import sqlfiles

ROOT = Path(__file__).resolve().parent.parent
GUARDED = ("pages", "anomaly", "briefing")  # where SQL used to be written inline
# an SQL statement in a string: the statement words as SQL is written here (upper case)
SQL_TEXT = re.compile(r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+[\w.\"]+\s+SET\b|\bDELETE\s+FROM\b"
                      r"|\b(CREATE|DROP|ALTER)\s+(OR\s+REPLACE\s+)?(TABLE|VIEW|SCHEMA|INDEX|MACRO)\b")
RUNS_SQL = {"execute", "executemany", "sql", "raw_sql"}  # cursor / Ibis methods that take SQL text
NAMES_BLOCK = {"query", "sql", "render", "block"}  # Store.query and the sqlfiles look-ups
BLOCK_NAME = re.compile(r"^[a-z_]+\.[a-z_]+$")


def _modules(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (ROOT / f).rglob("*.py"))


def _text(node: ast.AST) -> str | None:
    """The literal text of a string constant or the constant parts of an f-string."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    return None


def _literal_arg(node: ast.AST) -> bool:
    """SQL given as a literal: a string, an f-string, a concatenation or `.format` of one."""
    if _text(node) is not None:
        return True
    if isinstance(node, ast.BinOp):
        return _literal_arg(node.left) or _literal_arg(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _literal_arg(node.func.value)
    return False


def inline_sql(path: Path) -> list[str]:
    """Where a module holds SQL text or runs a literal statement (line: what)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        text = _text(node)
        if text is not None and not isinstance(node, ast.JoinedStr) and SQL_TEXT.search(text):
            found.append(f"{node.lineno}: SQL text {text[:60]!r}")
        elif isinstance(node, ast.JoinedStr) and text and SQL_TEXT.search(text):
            found.append(f"{node.lineno}: SQL f-string {text[:60]!r}")
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RUNS_SQL
                and node.args and _literal_arg(node.args[0])):
            found.append(f"{node.lineno}: .{node.func.attr}() of a literal statement")
    return found


@pytest.mark.parametrize("path", _modules(*GUARDED), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_inline_sql(path):
    found = inline_sql(path)
    assert not found, (f"{path.relative_to(ROOT)} writes SQL inline; make it a named block of data/sql/*.sql and run "
                       f"it with store.query(name, **params):\n" + "\n".join(found))


def test_the_check_sees_inline_sql(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('cur.execute("SELECT branch_id FROM main.branches")\n'
                   'store.cursor().execute(f"SELECT * FROM main.{t} WHERE x = $x", p)\n'
                   'q = ("SELECT a "\n     "FROM t")\n'
                   'con.sql("DELETE FROM ops.x")\n'
                   'c.execute("UPDATE ops.meta SET value = 1")\n', encoding="utf-8")
    assert {int(f.split(":")[0]) for f in inline_sql(bad)} == {1, 2, 3, 5, 6}  # every statement, wherever it is
    good = tmp_path / "good.py"
    good.write_text('"""Select the rows from the page."""\nstore.query("reads.branch_master").rows()\n'
                    'df.query("region == @r")\nt.select("a").execute()\n', encoding="utf-8")
    assert inline_sql(good) == []


def _named_blocks() -> list[tuple[str, int, str]]:
    """Every block name the application's code gives as a literal: (module, line, name)."""
    out = []
    for path in sorted({*ROOT.glob("*.py"), *_modules("cli", "data", "metrics", "anomaly", "briefing", "pages")}):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
                continue
            fn = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            name = node.args[0].value
            if fn in NAMES_BLOCK and isinstance(name, str) and BLOCK_NAME.match(name):
                out.append((str(path.relative_to(ROOT)), node.lineno, name))
    return out


def test_every_named_block_exists():
    named = _named_blocks()
    assert any(n == "reads.branch_master" for *_, n in named)  # the walk sees Store.query's names
    missing = []
    for module, line, name in named:
        try:
            sqlfiles.block(name)
        except sqlfiles.UnknownBlockError as exc:
            missing.append(f"{module}:{line}: {exc}")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("path", sorted((ROOT / "data" / "sql").glob("*.sql")), ids=lambda p: p.name)
def test_every_block_says_what_it_is_for(path):
    blocks = sqlfiles.parse_blocks(path.read_text(encoding="utf-8"))
    assert blocks, f"{path.name} declares no `-- name:` block"
    undocumented = [b.name for b in blocks.values() if not b.doc]
    assert not undocumented, f"{path.name}: blocks without a doc comment: {undocumented}"
