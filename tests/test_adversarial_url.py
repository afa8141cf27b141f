"""The adversarial suite's injection part, in the URL: the 30 payloads of tests/test_adversarial.py
through every query parameter the app reads.

The keys are found in the code, not listed here: every `urlstate.seed("<key>", ...)` in app.py
and pages/ (pages/_ui/urlstate.py seeds a widget from the URL), so a new URL filter is fuzzed
without editing this file. Each payload goes into one key at a time and then into all keys at
once, on a signed-in session of a person scoped to one outlet (vw), through AppTest. None may
execute (the store's tables and checksums are unchanged afterwards), end in an exception or a
traceback on the page, or widen the scope (the filters stay inside the boundary, with a known
region / branch / product / grain / language). Counted under "injection" (url_*).
"""

from __future__ import annotations

import ast

import pytest
from conftest import ROOT
from helpers_ingest import store_state
from test_adversarial import PAYLOADS, record
from test_security import MINE, sign_in

from metrics.model import Grain

pytestmark = pytest.mark.adversarial


def url_keys() -> list[str]:
    """Every key the app seeds from the URL: the first argument of each `urlstate.seed(...)` call."""
    keys: list[str] = []
    for f in [ROOT / "app.py", *sorted((ROOT / "pages").rglob("*.py"))]:
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "seed" \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "urlstate":
                arg = node.args[0]
                assert isinstance(arg, ast.Constant), f"{f.name}: a URL key that is not a literal"
                keys.append(arg.value)
    return sorted(set(keys))


def test_the_url_keys_are_found():
    assert {"lang", "from", "to", "grain", "region", "branch", "product"} <= set(url_keys())


def _tables(store) -> tuple:
    """The store's table list and the user table's checksum (the uploads' state is store_state)."""
    cur = store.cursor()
    names = sorted(r[0] for r in cur.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables").fetchall())
    return names, cur.execute("SELECT count(*), sum(hash(u)) FROM ops.users u").fetchone()


@pytest.mark.timeout(1800)
def test_payloads_in_every_url_parameter(secure_store):
    keys = url_keys()
    assert len(PAYLOADS) == 30
    at = sign_in("vw")
    tables, before = _tables(secure_store), store_state(secure_store)
    products = {r[0] for r in secure_store.query("reads.loan_products").rows()}
    counts = {"url_keys": len(keys), "url_requests": 0, "url_executed": 0, "url_tracebacks": 0, "url_widened": 0}
    problems: list[str] = []
    asks = [{k: p} for k in keys for p in PAYLOADS] + [dict.fromkeys(keys, p) for p in PAYLOADS]
    try:
        for ask in asks:
            for k, v in ask.items():
                at.query_params[k] = v
            at.run()
            counts["url_requests"] += 1
            where = f"{ask if len(ask) == 1 else 'all keys'}: {next(iter(ask.values()))!r}"
            shown = [str(e.value) for coll in (at.error, at.exception) for e in coll]
            if at.exception or any("Traceback" in s for s in shown):
                counts["url_tracebacks"] += 1
                problems.append(f"traceback for {where}: {shown[:1]}")
                continue
            f = at.session_state["_filters"]
            s = f.scope
            lang = at.session_state["lang"] if "lang" in at.session_state else "zh"  # noqa: SIM401 - no .get
            if s.branch_ids != frozenset({MINE}) or s.region not in (None, "华东区") or s.branch not in (None, MINE) \
                    or s.product not in (None, *products) or f.grain not in Grain or lang not in ("zh", "en"):
                counts["url_widened"] += 1
                problems.append(f"scope {s} / grain {f.grain} / lang {lang} for {where}")
    finally:
        if _tables(secure_store) != tables or store_state(secure_store) != before:
            counts["url_executed"] += 1
            problems.append("the store changed")
        record("injection", counts, name="url")
    assert counts["url_requests"] == len(asks) == (len(keys) + 1) * len(PAYLOADS)
    assert not problems, "\n".join(problems[:20])
