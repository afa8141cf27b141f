"""The page declarations (pages/_ui/pagelist.py) walked: every page has its file, texts in both
languages, an existing permission, a row in docs/pages.md, and opens through app.py in Chinese
and English (an AppTest per page and language, on the demo store)."""

from __future__ import annotations

import re

import pytest
from helpers_app import open_app

from data.users import PERMISSIONS, Principal
from pages._ui.i18n import LANGS, T, tr
from pages._ui.pagelist import BY_URL, KNOWN_PERMISSIONS, PAGES, ROOT, PageDecl, page_at

DOC = ROOT / "docs" / "pages.md"
IDS = [p.url for p in PAGES]


def doc_row(p: PageDecl) -> list[str]:
    """The cells of the docs/pages.md table row that names the page's file."""
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) > 2 and cells[2] == f"`{p.path}`":
            return cells
    raise AssertionError(f"docs/pages.md has no row for {p.path}")


def test_urls_and_files_are_unique_and_one_page_is_the_default():
    assert len(BY_URL) == len(PAGES) == len({p.path for p in PAGES})
    assert [p.url for p in PAGES if p.default] == ["overview"]
    assert page_at("") is page_at("overview") and page_at("nowhere") is None


def test_every_page_file_is_declared():
    """No page file outside the list (it would be unreachable, or reachable without a permission)."""
    files = {f"pages/{f.name}" for f in (ROOT / "pages").glob("*.py")}
    assert files == {p.path for p in PAGES}


@pytest.mark.parametrize("p", PAGES, ids=IDS)
def test_declaration_is_complete(p):
    assert (ROOT / p.path).is_file(), p.path
    assert p.url == (ROOT / p.path).stem  # the URL a bookmark of the file's page has always had
    assert p.permission in KNOWN_PERMISSIONS
    assert any(p.permission in granted for granted in PERMISSIONS.values())
    assert re.fullmatch(r":material/[a-z_]+:", p.icon), p.icon
    for key in (p.title_key, p.help_key) + ((p.section.title_key,) if p.section.title_key else ()):
        assert key in T and all(tr(key, lang) for lang in LANGS), key


@pytest.mark.parametrize("p", PAGES, ids=IDS)
def test_page_has_a_docs_row(p):
    _page, url, _file, section, permission, filters, what = doc_row(p)
    assert f"`{p.url}`" in url
    assert section == p.section.value
    assert permission == f"`{p.permission}`"
    assert filters.startswith("yes" if p.filters else "no")
    assert tr(p.title_key, "zh") in _page and tr(p.title_key, "en") in _page and what


def test_unknown_permission_is_refused():
    with pytest.raises(ValueError, match="unknown permission"):
        PageDecl(path="pages/x.py", url="x", icon=":material/home:", section="top", permission="reed")


def test_admin_may_open_every_page():
    admin = Principal("x", "admin", region="*")
    assert all(admin.can(p.permission) for p in PAGES)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("p", PAGES, ids=IDS)
def test_page_opens_in_both_languages(app_db, p, lang):
    """Through app.py (BANKPULSE_AUTH=none: the local admin), with its heading in the language and
    the sidebar filters drawn exactly when the declaration says they apply."""
    at = open_app(p.path, lang)
    assert not at.exception, at.exception
    heading = at.title[0].value
    assert bool(re.search(r"[\u4e00-\u9fff]", heading)) is (lang == "zh"), heading
    assert ("grain" in {w.key for w in at.sidebar.get("button_group")}) is p.filters
