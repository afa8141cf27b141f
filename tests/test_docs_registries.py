"""Every registry entry is documented (datasette's tests/test_docs.py): sources, KPIs, detectors,
scorecard built-in measures, pages, CLI commands (nested ones too), permissions and user groups, settings (data/settings.py and the sign-in ones of
data/users.py) and ingest issue codes each walk their registry, and an entry that no page of
docs/ or README.md mentions fails under its own name.

"Mentioned" is deliberately literal: a name in backticks (`` `counter.tickets_served` ``,
`` `cusum` ``, `` `pages/overview.py` ``), a setting's whole variable name (`BANKPULSE_DB`, also
in `BANKPULSE_X=true`), a command as `bankpulse user add` (or in an alternation,
`bankpulse user add|list|update`). Adding an entry means adding its line to
a doc. (tests/test_pages.py checks each page's docs/pages.md row cell by cell.)
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from anomaly.registry import DETECTORS
from cli.main import build_parser
from data.ingest.issues import Code
from data.settings import Settings
from data.sources import SOURCES
from data.users import GROUP_GRANTS, PERMISSIONS, AuthSettings
from metrics.catalogue import CATALOGUE
from metrics.scorecard_measures import BUILTINS
from pages._ui.pagelist import PAGES

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TEXT = "\n".join(p.read_text(encoding="utf-8") for p in DOCS)


def cli_commands(parser: argparse.ArgumentParser | None = None, prefix: str = "bankpulse") -> list[str]:
    """Every command of `bankpulse`, nested ones as "bankpulse user add" (argparse's subparsers)."""
    parser = parser or build_parser()
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out.append(f"{prefix} {name}")
                out += cli_commands(sub, f"{prefix} {name}")
    return out


def _documented_commands(text: str) -> set[str]:
    """"bankpulse user add|list" documents both; "bankpulse ingest FILE" documents `ingest`."""
    found = set()
    for m in re.finditer(r"bankpulse ([a-z][a-z-]*)(?: ([a-z][a-z-]*(?:\|[a-z][a-z-]*)*))?", text):
        found.add(f"bankpulse {m[1]}")
        for sub in (m[2] or "").split("|"):
            if sub:
                found.add(f"bankpulse {m[1]} {sub}")
    return found


REGISTRIES: dict[str, list[str]] = {
    "source": list(SOURCES),
    "kpi": list(CATALOGUE),
    "scorecard_measure": list(BUILTINS),
    "detector": list(DETECTORS),
    "page": [p.path for p in PAGES],
    "cli": cli_commands(),
    "setting": [f"BANKPULSE_{name.upper()}" for cls in (Settings, AuthSettings) for name in cls.model_fields],
    "issue_code": [c.value for c in Code],
    "permission": sorted(frozenset().union(*PERMISSIONS.values(), *GROUP_GRANTS.values())),
    "group": sorted(GROUP_GRANTS),
}


def documented(registry: str, entry: str, text: str = TEXT) -> bool:
    if registry == "cli":
        return entry in _documented_commands(text)
    if registry == "setting":  # a whole variable name, also in `BANKPULSE_X=value`
        return re.search(rf"(?<![A-Z_]){entry}(?![A-Z_])", text) is not None
    return f"`{entry}`" in text


@pytest.mark.parametrize(("registry", "entry"), [(r, e) for r, es in REGISTRIES.items() for e in es],
                         ids=[f"{r}:{e}" for r, es in REGISTRIES.items() for e in es])
def test_every_registry_entry_is_documented(registry, entry):
    assert documented(registry, entry), f"{registry} {entry!r} is mentioned in no doc (docs/*.md, README.md)"


def test_every_registry_is_walked():
    """An empty walk would pass vacuously: each registry has entries, and nested CLI commands count."""
    assert all(REGISTRIES.values()), {r: len(es) for r, es in REGISTRIES.items()}
    assert {"bankpulse user add", "bankpulse user ensure-admin", "bankpulse audit verify"} <= set(REGISTRIES["cli"])


def test_the_check_can_fail():
    assert not documented("kpi", "counter.no_such_kpi")
    assert not documented("cli", "bankpulse user add", "bankpulse user list|disable")
    assert documented("cli", "bankpulse user disable", "`bankpulse user list|disable NAME`")
    assert documented("cli", "bankpulse ingest", "bankpulse ingest FILE...")
    assert not documented("setting", "BANKPULSE_DB", "BANKPULSE_DB_PATH")
