"""The adversarial suite's access part, counted: anonymous and out-of-scope requests for every
page, every export, the briefing PDF and every CLI command — 0 leaks.

The requests walk the declarations, so a new page or CLI command is walked (or fails the
coverage checks) without editing this file: the pages from the page declaration, the exports
from every `st.download_button` those pages draw (captured and opened as a click would), the
CLI from `cli.main.build_parser()`'s sub-commands. A request *leaks* when its answer holds
something of a branch outside the person's boundary — an id, a name, a region — or, where the
answer is a figure, when it differs from an independent SQL count of what the boundary allows.
People (tests/conftest.py): vw (viewer) and ana (analyst), both on outlet 0101001 only; an
anonymous visitor; an unknown CLI user and the CLI without `--as` when `--as` is required.

Counts go to the "access" line of the adversarial summary (tests/test_adversarial.record);
a leak fails the test as well, listing what leaked where.
"""

from __future__ import annotations

import argparse
import io
import json
import re
from pathlib import Path

import pytest
from conftest import ROOT
from test_adversarial import record
from test_security import MINE, _served_by_sql, shown_text, sign_in

from data.users import UserStore

pytestmark = pytest.mark.adversarial

FOREIGN_QUERY = {"branch": "0201001", "region": "华南区"}  # another region's outlet, asked for in the URL
COUNTS = {"requests": 0, "leaks": 0, "refused": 0, "pages": 0, "exports": 0, "pdfs": 0, "cli": 0}
LEAKS: list[str] = []


@pytest.fixture(autouse=True)
def _record_counts():
    """Write the counts so far after every test (the module's dict keeps adding up)."""
    yield
    record("access", COUNTS)


def declared_pages() -> dict[str, str]:
    """url → file of every page the app declares."""
    from pages._ui.pagelist import PAGES

    return {p.url: p.path for p in PAGES}


class Forbidden:
    """What must not appear for a person with `bound` (None: anonymous, nothing of any branch)."""

    def __init__(self, store, bound: frozenset[str] | None):
        rows = store.cursor().execute("SELECT branch_id, branch_name, region FROM main.branches").fetchall()
        inside = [r for r in rows if bound is not None and r[0] in bound]
        allowed_text = " ".join(f"{r[0]} {r[1]} {r[2]}" for r in inside)
        outside = [r for r in rows if bound is None or r[0] not in bound]
        regions_inside = {r[2] for r in inside}
        tokens = {r[0] for r in outside} | {r[1] for r in outside if r[1]}
        tokens |= {r[2] for r in outside if r[2] and r[2] not in regions_inside}
        # a parent's name inside an allowed name ("城东支行" in "城东支行营业部") is not a leak
        self.tokens = sorted(t for t in tokens if t not in allowed_text)
        assert self.tokens, "the demo store has branches outside the boundary"

    def found(self, text: str, static: str = "") -> list[str]:
        """The tokens in `text`; an id only as a whole number (0201000 inside a loan number is not it).
        Tokens of `static` (text that does not come from the store) are not counted."""
        def has(t: str, s: str) -> bool:
            return bool(re.search(rf"(?<!\d){t}(?!\d)", s)) if t.isdigit() else t in s

        return [t for t in self.tokens if has(t, text) and not (static and has(t, static))]


def seed_feed(store, bound: frozenset[str]) -> None:
    """Work-feed items a person must not see: a notice to every branch outside `bound`, titled with
    its id, name and region (and one to the person's own branches, which they do see)."""
    from data.feed import Feed
    from data.users import Principal

    adm, feed = Principal("adm", "admin"), Feed(store)
    rows = store.cursor().execute("SELECT branch_id, branch_name, region FROM main.branches").fetchall()
    for bid, name, region in rows:
        if bid not in bound:
            feed.post_notice(adm, title=f"通知 {bid} {name}", body=f"{region} {name} {bid}", audience_kind="branches",
                             audience_branches=[bid])
    feed.post_notice(adm, title="本机构通知", body="正文", audience_kind="branches", audience_branches=sorted(bound))


def static_text() -> str:
    """What the data page shows that is not read from the store: the upload templates and the
    column documentation of every source declaration (their example ids are made up)."""
    from data.exports import to_csv_bytes
    from data.sources import SOURCES
    from pages._ui.tables import columns_frame, template_frame

    return "\n".join(to_csv_bytes(template_frame(n)).decode("utf-8-sig") + columns_frame(n, lang).to_string()
                     for n in SOURCES for lang in ("zh", "en"))


def check(kind: str, what: str, text: str, forbidden: Forbidden, refused: bool = False, static: str = "") -> None:
    """Count one request; a leak is counted and remembered (the test fails on it at the end)."""
    COUNTS["requests"] += 1
    COUNTS[kind] += 1
    COUNTS["refused"] += refused
    hits = forbidden.found(text, static)
    if hits:
        COUNTS["leaks"] += 1
        where = [text[max(0, text.find(h) - 60):text.find(h) + 30].replace("\n", " ⏎ ") for h in hits[:3]]
        LEAKS.append(f"{kind} {what}: {hits[:5]} in {where}")


def leak(kind: str, what: str, why: str) -> None:
    """Count a leak found by a figure or a state check rather than by a name."""
    COUNTS["leaks"] += 1
    LEAKS.append(f"{kind} {what}: {why}")


def assert_no_leaks() -> None:
    assert not LEAKS, "\n".join(LEAKS)


# -- downloads: every st.download_button a page draws, opened as a click would ---------------------

@pytest.fixture()
def downloads(monkeypatch):
    """Capture every download button of a run: (key, file name, bytes) of the enabled ones."""
    import streamlit as st

    seen: list[tuple[str, str, object]] = []
    original = st.download_button

    def spy(label, data, file_name=None, *args, **kwargs):
        if not kwargs.get("disabled"):
            seen.append((str(kwargs.get("key")), str(file_name), data))
        return original(label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", spy)
    return seen


def opened(data) -> bytes:
    """The bytes the browser would receive (a callable runs on click)."""
    data = data() if callable(data) else data
    if isinstance(data, str):
        return data.encode("utf-8")
    return data.getvalue() if hasattr(data, "getvalue") else bytes(data)


def as_text(name: str, raw: bytes) -> str:
    if name.endswith(".pdf") or raw[:4] == b"%PDF":
        from pypdf import PdfReader

        return "".join(p.extract_text() for p in PdfReader(io.BytesIO(raw)).pages)
    return raw.decode("utf-8-sig", errors="replace")


def walk_exports(downloads, forbidden: Forbidden, who: str, page: str, static: str = "") -> list[tuple[str, str]]:
    """Open each captured download once (a page draws its buttons on every run)."""
    out = []
    for key, name, data in list(downloads):
        text = as_text(name, opened(data))
        check("pdfs" if name.endswith(".pdf") else "exports", f"{who} {page} {key} {name}", text, forbidden,
              static=static)
        out.append((name, text))
    downloads.clear()
    return out


# -- pages and their exports -----------------------------------------------------------------------

def test_every_page_is_declared():
    """The walk covers every page file (a page outside the declaration would be missed)."""
    files = {p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py") if p.name != "__init__.py"}
    assert set(declared_pages().values()) == files


def test_anonymous_requests_see_nothing(secure_store, downloads):
    """Every page opened by URL before sign-in (with a foreign branch asked for): the sign-in form
    only — no table, figure, download or any branch's name."""
    from streamlit.testing.v1 import AppTest

    forbidden = Forbidden(secure_store, None)
    for url, path in declared_pages().items():
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
        for k, v in FOREIGN_QUERY.items():
            at.query_params[k] = v
        at.run()
        at.switch_page(path).run()
        assert not at.exception, (url, at.exception)
        text = shown_text(at)
        check("pages", f"anonymous {url}", text, forbidden, refused=True)
        if len(at.dataframe) or len(at.metric) or downloads:
            leak("pages", f"anonymous {url}", f"{len(at.dataframe)} tables, {len(at.metric)} figures, "
                                             f"{len(downloads)} downloads")
        assert at.text_input(key="auth_user") is not None  # the sign-in form is what is shown
        downloads.clear()
    assert_no_leaks()


def _served_in_export(text: str) -> int:
    import pandas as pd

    df = pd.read_csv(io.StringIO(text))
    return int(round(df[df.columns[-1]].sum()))


@pytest.mark.parametrize("person", ["vw", "ana"])
def test_out_of_scope_page_requests(secure_store, downloads, person):
    """A person on outlet 0101001 opens every page with another region's outlet in the URL (and,
    on the pages it may not open, is refused): no page and no export shows a foreign branch; the
    counter page's volume export equals the SQL count of the boundary's served tickets."""
    bound = UserStore(secure_store).get(person).principal().boundary(secure_store)
    assert bound == frozenset({MINE})
    forbidden = Forbidden(secure_store, bound)
    seed_feed(secure_store, bound)
    static = static_text()
    at = sign_in(person, FOREIGN_QUERY)
    downloads.clear()
    for url, path in declared_pages().items():
        for k, v in FOREIGN_QUERY.items():
            at.query_params[k] = v
        at.switch_page(path).run()
        assert not at.exception, (url, at.exception)
        f = at.session_state["_filters"] if "_filters" in at.session_state else None  # noqa: SIM401 - no .get
        if f is not None and f.scope.branch_ids != bound:
            leak("pages", f"{person} {url}", f"scope {f.scope}")
        fixed = static if url == "data" else ""
        check("pages", f"{person} {url}", shown_text(at), forbidden,
              refused=not at.session_state["_auth"]["user"].can(_permission(url)), static=fixed)
        for name, text in walk_exports(downloads, forbidden, person, url, fixed):
            if name.startswith("counter_daily_volume_"):
                expected = _served_by_sql(secure_store, f.start, f.end, bound)
                assert expected > 0
                if _served_in_export(text) != expected:
                    leak("exports", f"{person} {url} {name}", f"{_served_in_export(text)} served, SQL {expected}")
    assert COUNTS["exports"] > 0
    assert_no_leaks()


def _permission(url: str) -> str:
    from pages._ui.pagelist import BY_URL

    return BY_URL[url].permission


def test_briefing_pdf_requests(secure_store):
    """The PDF for another outlet, another region and the person's own region (which holds other
    outlets) is refused; the PDF of "all" shows only the boundary."""
    from briefing import build_pdf
    from metrics import compute

    bound = UserStore(secure_store).get("ana").principal().boundary(secure_store)
    forbidden = Forbidden(secure_store, bound)
    period = compute.metric_span(secure_store, compute.get_metric("counter.tickets_served"))[1].strftime("%Y-%m")
    for scope in ("branch:0201001", "region:华南区", "region:华东区", "branch:0101002"):
        try:
            pdf = build_pdf(secure_store, period, scope, "zh", boundary=bound)
        except PermissionError as exc:  # the refusal names what was asked for: only that is allowed
            check("pdfs", f"ana {scope}", str(exc).replace(scope.split(":")[1], "<asked>"), forbidden, refused=True)
        else:
            leak("pdfs", f"ana {scope}", f"built {len(pdf)} bytes")
    for lang in ("zh", "en"):
        pdf = build_pdf(secure_store, period, "all", lang, boundary=bound)
        text = as_text("x.pdf", pdf)
        check("pdfs", f"ana all {lang}", text, forbidden)
        if lang == "zh":  # titled as the person's own scope
            assert "我的" in text or "授权范围" in text
    assert_no_leaks()


# -- every CLI command ---------------------------------------------------------------------------

def cli_commands() -> set[str]:
    """Every leaf command of the CLI's parser ("metric", "user add", …)."""
    from cli.main import build_parser

    def leaves(parser: argparse.ArgumentParser, prefix: str) -> set[str]:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            return {prefix}
        return set().union(*(leaves(p, f"{prefix} {name}".strip()) for name, p in subs[0].choices.items()))

    return leaves(build_parser(), "")


def _foreign_feedback_csv(path) -> None:
    """Complaints about another region's outlet: an upload outside the analyst's boundary."""
    from helpers_ingest import SAMPLES, csv_text

    header, rows = SAMPLES["feedback_records"]
    col, idc = header.index("被投诉网点"), header.index("工单号")
    body = [[*r[:col], "0201001", *r[col + 1:]] for r in rows]
    for k, r in enumerate(body):
        r[idc] = f"FOREIGN{k:04d}"
    path.write_text(csv_text([header, *body]), encoding="utf-8")


def _series_csv(path) -> None:
    lines = ["date,value"] + [f"2025-01-{d:02d},{10 + (d % 3)}" for d in range(1, 29)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def cli_requests(tmp) -> dict[str, list[list[str]]]:
    """For each leaf command, the out-of-scope asks of a person on outlet 0101001 (run as vw and as
    ana). Every one is asked anonymously too (unknown user; no --as where --as is required)."""
    foreign, series = tmp / "foreign.csv", tmp / "series.csv"
    _foreign_feedback_csv(foreign)
    _series_csv(series)
    return {
        "ingest": [["ingest", str(foreign), "--no-scan", "--report", str(tmp / "issues.csv")]],
        "batches": [["batches", "--json"]],
        "rollback": [["rollback", "1"]],
        "demo": [["demo", "--load", "--branches", "3", "--years", "1", "--as-of", "2025-12-31", "--out", str(tmp / "demo"),
                  "--no-scan"]],
        "metric": [["metric", "counter.tickets_served", "--branch", "0201001"],
                   ["metric", "counter.tickets_served", "--region", "华南区"],
                   ["metric", "counter.tickets_served", "--by", "branch", "--format", "json"],
                   ["metric", "counter.tickets_served", "--format", "json"]],
        "scan": [["scan", "--metric", "counter.tickets_served", "--json"]],
        "detect": [["detect", str(series), "--out", str(tmp / "flags.json")]],
        "briefing": [["briefing", "--period", "2025-12", "--scope", "branch:0201001", "--out", str(tmp / "b1.pdf")],
                     ["briefing", "--period", "2025-12", "--scope", "region:华南区", "--out", str(tmp / "b2.pdf")],
                     ["briefing", "--period", "2025-12", "--scope", "all", "--out", str(tmp / "b3.pdf")]],
        "user add": [["user", "add", "mallory", "--role", "admin"]],
        "user update": [["user", "update", "vw", "--role", "admin"]],
        "user list": [["user", "list", "--json"]],
        "user disable": [["user", "disable", "adm"]],
        "user enable": [["user", "enable", "adm"]],
        "user reset-password": [["user", "reset-password", "adm"]],
        "user ensure-admin": [["user", "ensure-admin", "--name", "mallory"]],
        "user signout-all": [["user", "signout-all", "adm"]],
        "audit list": [["audit", "list", "--csv", str(tmp / "audit.csv")]],
        "audit verify": [["audit", "verify"]],
        "plan list": [["plan", "list", "--format", "json"]],
        "plan show": [["plan", "show", "FA-2025-0001"]],
        "plan export": [["plan", "export", "--out", str(tmp / "plans.csv")]],
        "rectification list": [["rectification", "list", "--branch", "0201001"]],
        "subscription add": [["subscription", "add", "--scope", "branch:0201001", "--email", "x@bank.example"],
                             ["subscription", "add", "--scope", "region:华南区", "--email", "x@bank.example"],
                             ["subscription", "add", "--user", "adm", "--email", "x@bank.example"]],
        "subscription list": [["subscription", "list", "--format", "json"]],
        "subscription remove": [["subscription", "remove", "1"]],
        "deliver": [["deliver", "--now", "2026-01-02T09:00", "--json"]],
        "scheduler": [["scheduler", "--every", "1"]],  # refused before it starts: it would run until stopped
        "staffing what-if": [["staffing", "what-if", "--arrivals-per-hour", "200", "--aht-min", "3", "--windows", "14"]],
        "staffing advice": [["staffing", "advice", "--branch", "0201001"], ["staffing", "advice", "--format", "json"],
                            ["staffing", "advice", "--format", "csv"]],
        "scorecard": [["scorecard", "--period", "2025-12", "--format", "json"],
                      ["scorecard", "--period", "2025-12", "--unit-kind", "region", "--out", str(tmp / "sc.csv")]],
        "feed list": [["feed", "list", "--format", "json"], ["feed", "list", "--search", "通知", "--limit", "500"]],
    }


def _outputs(tmp) -> str:
    """What the commands wrote to files (reports, PDFs, CSVs), as text; removed afterwards."""
    parts = []
    for f in sorted(tmp.glob("*")):
        if f.suffix in (".csv", ".json", ".pdf") and f.name not in ("foreign.csv", "series.csv"):
            parts.append(as_text(f.name, f.read_bytes()))
            f.unlink()
    return "\n".join(parts)


def test_every_cli_command_is_asked(tmp_path):
    assert set(cli_requests(tmp_path)) == cli_commands()


def test_cli_requests(secure_store, tmp_path, capsys, monkeypatch):
    """Every CLI command as vw and ana with out-of-scope arguments, as an unknown user and without
    --as where --as is required: no foreign branch in stdout, stderr or any file written; no
    foreign row written; the unfiltered metric equals the SQL count of the boundary."""
    import data.store
    from cli.main import main
    from metrics import compute

    bound = UserStore(secure_store).get("vw").principal().boundary(secure_store)
    forbidden = Forbidden(secure_store, bound)
    seed_feed(secure_store, bound)
    users = {u.user_name: (u.role, u.disabled) for u in UserStore(secure_store).list()}
    lo, hi = compute.metric_span(secure_store, compute.get_metric("counter.tickets_served"))
    expected = _served_by_sql(secure_store, lo, hi, bound)
    from data.subscriptions import SubscriptionStore

    # another region's subscription (number 1): listing, removing or delivering it must be refused
    foreign_sub = SubscriptionStore(secure_store).add(
        UserStore(secure_store).get("adm").principal(), "mgr", scope="region:华南区", grain="month", lang="zh",
        send_day=1, send_time="08:00", email="mgr@bank.example")
    db = str(secure_store.path)
    data.store.close_all()
    requests = cli_requests(tmp_path)

    def ask(who: list[str], argv: list[str], label: str) -> tuple[int, str]:
        code = main(["--db", db, *who, *argv])
        out = capsys.readouterr()
        text = f"{out.out}\n{out.err}\n{_outputs(tmp_path)}"
        # a refusal quotes what was asked (an argument, a value of the uploaded file): not a leak
        asked = " ".join(argv) + "".join(Path(a).read_text(encoding="utf-8") for a in argv if a.endswith(".csv")
                                         and Path(a).exists() and Path(a).parent == tmp_path)
        check("cli", label, text, forbidden, refused=code != 0, static=asked)
        if code == 0 and forbidden.found(asked):  # an ask for a foreign branch must be refused
            leak("cli", label, "answered an ask for a branch outside the boundary")
        return code, out.out

    for cmd, asks in requests.items():
        for argv in asks:
            for person in ("vw", "ana"):
                code, out = ask(["--as", person], argv, f"{person} {' '.join(argv)}")
                if argv[:2] == ["metric", "counter.tickets_served"] and argv[-2:] == ["--format", "json"] \
                        and code == 0 and "--by" not in argv:
                    got = sum(r["value"] for r in json.loads(out))
                    if int(round(got)) != expected:
                        leak("cli", f"{person} {' '.join(argv)}", f"{got} served, SQL count {expected}")
            code, _ = ask(["--as", "nobody"], argv, f"nobody {' '.join(argv)}")
            if code == 0 and cmd != "detect":  # detect reads only the file it is given
                leak("cli", f"nobody {' '.join(argv)}", "ran for an unknown user")
            monkeypatch.setenv("BANKPULSE_CLI_REQUIRE_AS", "true")
            code, _ = ask([], argv, f"(no --as) {' '.join(argv)}")
            monkeypatch.delenv("BANKPULSE_CLI_REQUIRE_AS")
            if code == 0 and cmd not in ("detect", "user ensure-admin"):  # ensure-admin: users exist, a no-op
                leak("cli", f"(no --as) {' '.join(argv)}", "ran without --as")
    store = data.store.open_store(db)
    foreign_rows = store.cursor().execute(
        "SELECT count(*) FROM main.feedback_records WHERE feedback_id LIKE 'FOREIGN%'").fetchone()[0]
    if foreign_rows:
        leak("cli", "ingest", f"{foreign_rows} foreign rows written")
    if SubscriptionStore(store).get(foreign_sub.subscription_id).removed_at is not None:
        leak("cli", "subscription remove", "another person's subscription was removed")
    if not SubscriptionStore(store).recent(None).empty:
        leak("cli", "deliver", "a delivery ran for someone without the deliver permission")
    after = {u.user_name: (u.role, u.disabled) for u in UserStore(store).list()}
    if after != users:
        leak("cli", "user", f"users changed: {users} → {after}")
    from data import audit

    assert {"vw", "ana", "nobody"} <= set(audit.search(store, outcome="denied", limit=10000)["user_name"])
    assert len(audit.search(store, action="export", user="vw", limit=10000)) >= 1  # the allowed metric exports
    assert COUNTS["cli"] >= 3 * sum(len(v) for v in requests.values())
    assert_no_leaks()
