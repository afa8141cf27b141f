"""Documentation generated from the registries stays in step with them (datasette's test_docs idea)."""

from pathlib import Path

from data.sources import SOURCES
from data.sources.docs import render_markdown
from metrics.catalogue import CATALOGUE

ROOT = Path(__file__).resolve().parent.parent


def test_sources_doc_is_current():
    """docs/sources.md is `python -m data.sources.docs` output; regenerate it when a source changes."""
    assert (ROOT / "docs" / "sources.md").read_text(encoding="utf-8") == render_markdown()


def test_every_source_and_column_is_documented():
    text = (ROOT / "docs" / "sources.md").read_text(encoding="utf-8")
    for s in SOURCES.values():
        assert f"`{s.name}`" in text
        for c in s.columns:
            assert f"`{c.name}`" in text and c.label_zh in text


def test_readme_names_every_cli_command_and_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    from cli.main import COMMANDS

    for cmd in COMMANDS:
        assert f"bankpulse {cmd}" in readme, cmd
    from pages._ui.i18n import tr
    from pages._ui.pagelist import PAGES

    for page in PAGES:  # the README's page table names every declared page, in both languages
        assert f"{tr(page.title_key, 'zh')} {tr(page.title_key, 'en')}" in readme, page.url


def test_catalogue_ids_are_unique_and_listed_by_the_cli(capsys):
    from cli.main import main

    assert main(["metric", "--list"]) == 0
    out = capsys.readouterr().out
    for mid in CATALOGUE:
        assert mid in out


def test_metrics_doc_is_current():
    """docs/metrics.md is `python -m metrics.docs` output; regenerate it when a KPI changes."""
    from metrics.docs import render_markdown as render_metrics

    assert (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8") == render_metrics()
