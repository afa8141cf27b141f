"""The pages of the app, declared once: app.py's navigation, the permission check, the sidebar
decision, docs/pages.md and tests/test_pages.py all read `PAGES`.

Plain data (no Streamlit), so the tests and the docs can walk it without a session. A page's
title and help are text keys of pages/_ui/i18n.py (`nav.<url>`, `nav.<url>.help`); its permission
is one of data/users.PERMISSIONS.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator

from data.users import PERMISSIONS

ROOT = Path(__file__).resolve().parents[2]
# Every permission some role holds (the roles are cumulative, so the widest role holds them all).
KNOWN_PERMISSIONS: frozenset[str] = frozenset().union(*PERMISSIONS.values())


class Section(StrEnum):
    """The navigation groups, in their order; `TOP` has no header."""

    TOP = "top"
    MONITOR = "monitor"
    MANAGE = "manage"
    ADMIN = "admin"

    @property
    def title_key(self) -> str | None:
        return None if self is Section.TOP else f"nav.section.{self.value}"


class PageDecl(BaseModel):
    """One page: its file under pages/, its URL, how the navigation shows it, who may open it and
    whether the shared sidebar filters (pages/_ui/filters.py) are drawn for it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str  # relative to the app's folder, as st.Page takes it
    url: str  # the URL path; the default page answers on "/" as well
    icon: str  # a Material Symbols name, ":material/...:"
    section: Section
    permission: str  # a permission of data/users.PERMISSIONS
    filters: bool = True  # the sidebar's period / grain / region / branch / product filters apply
    default: bool = False  # the page of "/"

    @field_validator("permission")
    @classmethod
    def _known_permission(cls, v: str) -> str:
        if v not in KNOWN_PERMISSIONS:
            raise ValueError(f"unknown permission {v!r}; one of {sorted(KNOWN_PERMISSIONS)}")
        return v

    @property
    def title_key(self) -> str:
        return f"nav.{self.url}"

    @property
    def help_key(self) -> str:
        return f"nav.{self.url}.help"


PAGES: tuple[PageDecl, ...] = (
    PageDecl(path="pages/overview.py", url="overview", icon=":material/dashboard:", section=Section.TOP,
             permission="read", default=True),
    PageDecl(path="pages/counter.py", url="counter", icon=":material/groups:", section=Section.MONITOR,
             permission="read"),
    PageDecl(path="pages/credit.py", url="credit", icon=":material/account_balance:", section=Section.MONITOR,
             permission="read"),
    PageDecl(path="pages/feedback.py", url="feedback", icon=":material/forum:", section=Section.MONITOR,
             permission="read"),
    PageDecl(path="pages/market.py", url="market", icon=":material/trending_up:", section=Section.MONITOR,
             permission="read"),
    PageDecl(path="pages/anomalies.py", url="anomalies", icon=":material/notification_important:",
             section=Section.MONITOR, permission="read", filters=False),
    PageDecl(path="pages/briefing.py", url="briefing", icon=":material/picture_as_pdf:", section=Section.MONITOR,
             permission="briefing"),
    PageDecl(path="pages/actions.py", url="actions", icon=":material/task_alt:", section=Section.MANAGE,
             permission="read", filters=False),
    PageDecl(path="pages/scorecard.py", url="scorecard", icon=":material/leaderboard:", section=Section.MANAGE,
             permission="scorecard", filters=False),
    PageDecl(path="pages/feed.py", url="feed", icon=":material/newspaper:", section=Section.MANAGE,
             permission="read", filters=False),
    PageDecl(path="pages/data.py", url="data", icon=":material/upload_file:", section=Section.MANAGE,
             permission="upload", filters=False),
    PageDecl(path="pages/admin.py", url="admin", icon=":material/admin_panel_settings:", section=Section.ADMIN,
             permission="users", filters=False),
)
BY_URL: dict[str, PageDecl] = {p.url: p for p in PAGES}
DEFAULT: PageDecl = next(p for p in PAGES if p.default)


def page_at(url_path: str | None) -> PageDecl | None:
    """The page at `url_path` as st.navigation reports it ("" is the default page); None if none."""
    return BY_URL.get(url_path or DEFAULT.url)


def by_section() -> dict[Section, list[PageDecl]]:
    """The pages grouped in navigation order (sections in their declared order)."""
    groups: dict[Section, list[PageDecl]] = {s: [] for s in Section}
    for p in PAGES:
        groups[p.section].append(p)
    return {s: ps for s, ps in groups.items() if ps}
