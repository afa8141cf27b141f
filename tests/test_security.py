"""Scope escapes, the audit trail, XSS and formula injection, hardening settings.

Every attempt to leave a person's data scope — a URL parameter, the sidebar filters, a page link,
an export, the briefing, the CLI — must fail (every page, export, briefing PDF and CLI command,
anonymous and out of scope, counted: tests/test_adversarial_access.py); every audited action must leave its row; payloads
in uploaded data must stay inert from the upload through the pages and exports to the PDF.
People (tests/conftest.py): adm (admin), mgr (manager, 华南区), ana (analyst) and vw (viewer),
both on outlet 0101001 (城东支行营业部, 华东区).
"""
from __future__ import annotations

import io
import re
import subprocess

import pandas as pd
import pytest
from conftest import PASSWORD, ROOT
from helpers_app import open_app
from streamlit.testing.v1 import AppTest

from data import audit
from data.exports import to_csv_bytes
from data.users import UserStore, visible_anomalies
from metrics import compute
from metrics.model import Grain
from metrics.scope import Scope

MINE = "0101001"
OTHERS = {"0102001": "城西支行营业部", "0201001": "高新支行营业部", "0202001": "滨江支行营业部",
          "0301001": "开发区支行营业部", "0101002": "迎宾路网点"}
SOUTH = {"0201000", "0201001", "0202000", "0202001"}


def sign_in(name: str, query: dict | None = None) -> AppTest:
    at = open_app(query=query, timeout=90)
    at.text_input(key="auth_user").set_value(name)
    at.text_input(key="auth_password").set_value(PASSWORD)
    at.form_submit_button[0].click().run()
    assert not at.exception, at.exception
    return at


def shown_text(at: AppTest) -> str:
    """Everything a page shows as text: tables, markdown, captions, alerts, metrics, options."""
    parts = []
    for d in at.dataframe:
        parts.append(d.value.astype(str).to_string())
    for coll in (at.markdown, at.caption, at.info, at.warning, at.error, at.success, at.title, at.subheader):
        parts += [str(e.value) for e in coll]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    for sb in at.selectbox:
        parts += [str(o) for o in sb.options]
    return "\n".join(parts)


# -- the boundary in the query layer -------------------------------------------------------------
def test_url_parameters_cannot_leave_the_scope(secure_store):
    at = sign_in("vw", {"branch": "0201001", "region": "华南区"})
    f = at.session_state["_filters"]
    assert f.scope.branch_ids == frozenset({MINE})
    assert f.scope.branch is None and f.scope.region is None  # unknown values fall back to the default
    assert at.selectbox(key="branch").options[1:] == ["城东支行营业部"]  # only their branch is offered
    assert at.selectbox(key="region").options[1:] == ["华东区"]
    # a page that reads the filters without the sidebar (the anomaly list) is bounded as well
    at.switch_page("pages/anomalies.py").run()
    from pages._ui import filters

    assert filters.current is not None and at.session_state["_filters"].scope.branch_ids == frozenset({MINE})


def test_manager_sees_their_whole_region(secure_store):
    at = sign_in("mgr")
    assert at.session_state["_filters"].scope.branch_ids == SOUTH
    assert at.selectbox(key="region").options[1:] == ["华南区"]


def _served_by_sql(store, start, end, ids: set[str]) -> int:
    """Tickets served in [start, end] at the outlets `ids`, counted straight from the table (not via Ibis)."""
    marks = ",".join("?" * len(ids))
    sql = (f"SELECT count(*) FROM counter_tickets WHERE status = 'served' AND business_date BETWEEN ? AND ? "
           f"AND branch_id IN ({marks})")
    return int(store.cursor().execute(sql, [start, end, *sorted(ids)]).fetchone()[0])


@pytest.mark.parametrize("person", ["vw", "mgr"])
def test_scoped_numbers_equal_an_independent_count(secure_store, person):
    """A scoped KPI equals the count over exactly the person's outlets, read without the metric layer;
    an empty or partial result fails (a subset check would pass it)."""
    bound = UserStore(secure_store).get(person).principal().boundary(secure_store)
    end = compute.metric_span(secure_store, compute.get_metric("counter.tickets_served"))[1]
    start = end.replace(day=1)
    mine = compute.series(secure_store, "counter.tickets_served", Grain.MONTH, start, end, (), Scope(branch_ids=bound))
    expected = _served_by_sql(secure_store, start, end, set(bound))
    assert expected > 0, "the demo store has tickets in the boundary"
    assert int(mine["value"].sum()) == expected
    by_branch = compute.series(secure_store, "counter.tickets_served", Grain.MONTH, start, end, ("branch",),
                               Scope(branch_ids=bound))
    assert int(by_branch["value"].sum()) == expected
    whole = compute.series(secure_store, "counter.tickets_served", Grain.MONTH, start, end, (), Scope())
    everyone = {r[0] for r in secure_store.cursor().execute("SELECT DISTINCT branch_id FROM counter_tickets").fetchall()}
    assert int(whole["value"].sum()) == _served_by_sql(secure_store, start, end, everyone) > expected


def test_exports_are_within_scope_and_audited(secure_store):
    at = sign_in("vw")
    at.switch_page("pages/counter.py").run()
    buttons = at.download_button
    assert buttons, "the counter page offers CSV exports"
    buttons[0].click().run()
    assert not at.exception
    r = audit.search(secure_store, action="export", user="vw")
    assert len(r) == 1 and r.iloc[0]["scope"] == f"branches:{MINE}" and r.iloc[0]["target"].endswith(".csv")
    assert "rows" in r.iloc[0]["detail"]


def test_briefing_page_offers_only_the_scope(secure_store):
    at = sign_in("ana")
    at.switch_page("pages/briefing.py").run()
    assert not at.exception
    scopes = at.selectbox(key="br_scope").options
    assert len(scopes) == 2 and "城东支行营业部" in scopes[1]


def test_anomalies_outside_the_scope_are_hidden():
    branches = pd.DataFrame({"branch_id": ["A1", "A2", "B1"], "region": ["东", "东", "南"], "parent_id": [None] * 3})
    df = pd.DataFrame({"scope_kind": ["bank", "region", "region", "branch", "branch"],
                       "scope_value": ["", "东", "南", "A1", "B1"]})
    assert list(visible_anomalies(df, frozenset({"A1"}), branches)["scope_value"]) == ["A1"]
    assert list(visible_anomalies(df, frozenset({"A1", "A2"}), branches)["scope_value"]) == ["东", "A1"]
    assert len(visible_anomalies(df, None, branches)) == 5


# -- the audit trail -----------------------------------------------------------------------------
EVENT_HEADER = "编号,事件日期,类别,标题,内容,影响领域,来源"
XSS = "<script>alert('x')</script>"
MD = "**bold** [click](javascript:alert(1)) <img src=x onerror=alert(1)>"
FORMULA = "=HYPERLINK(\"http://evil\",\"x\")"


def payload_csv() -> bytes:
    import csv

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(EVENT_HEADER.split(","))
    w.writerow(["EVX1", "2025-12-01", "regulation", XSS, MD, "credit_risk", FORMULA])
    w.writerow(["EVX2", "2025-12-02", "regulation", FORMULA, "@SUM(A1:A9)", "credit_risk", "+cmd|x"])
    return buf.getvalue().encode("utf-8-sig")


def mine_csv() -> bytes:
    """Complaints of ana's own outlet: an upload inside her boundary (market events are bank-wide,
    so a branch-scoped analyst may not load them: tests/test_write_boundary.py)."""
    from tests.helpers_ingest import SAMPLES, csv_text

    header, rows = SAMPLES["feedback_records"]
    col = header.index("被投诉网点")
    return csv_text([header, *[[*r[:col], MINE, *r[col + 1:]] for r in rows]]).encode("utf-8-sig")


def test_upload_and_rollback_on_the_page_are_audited(secure_store):
    at = sign_in("ana")
    at.switch_page("pages/data.py").run()
    at.file_uploader(key="data_files").upload("<img src=x onerror=alert(1)>[a](b).csv", mine_csv())
    at.button(key="data_load").click().run()
    assert not at.exception, at.exception
    up = audit.search(secure_store, action="upload", user="ana")
    assert len(up) == 1 and up.iloc[0]["outcome"] == "ok" and up.iloc[0]["scope"] == f"branches:{MINE}"
    # the file name is shown literally (escaped for Markdown), never as HTML or a link
    md = [m.value for m in at.markdown if "img" in m.value]
    assert md and all("\\<img" in v and "\\[a\\]" in v for v in md)
    batch = int(re.search(r'"batch": (\d+)', up.iloc[0]["detail"]).group(1))
    at = sign_in("adm")
    at.switch_page("pages/data.py").run()
    at.selectbox(key="data_batch").select(batch).run()
    at.button(key="data_rollback").click().run()
    at.button(key="data_rb_yes").click().run()
    assert not at.exception
    rb = audit.search(secure_store, action="rollback", user="adm")
    assert len(rb) == 1 and rb.iloc[0]["target"] == f"batch {batch}" and rb.iloc[0]["outcome"] == "ok"


def test_triage_briefing_and_user_changes_are_audited(secure_store):
    from datetime import date, datetime

    from anomaly.store import AnomalyStore, anomaly_id
    from pages._ui import auth

    ana = UserStore(secure_store).get("ana").principal()
    astore = AnomalyStore(secure_store)
    aid = anomaly_id("counter.tickets_served", "branch", MINE, "month", date(2025, 11, 1), "spike")
    row = {"anomaly_id": aid, "metric_id": "counter.tickets_served", "category": "counter", "scope_kind": "branch",
           "scope_value": MINE, "scope_label": "城东支行营业部", "grain": "month", "period": date(2025, 11, 1),
           "period_end": date(2025, 11, 30), "observed": 10.0, "expected": 5.0, "lower": 3.0, "upper": 7.0,
           "denominator": None, "score": 4.0, "severity": "high", "direction": "up", "tone": "neutral",
           "detector": "test", "anomaly_kind": "spike", "sentence_zh": "x", "sentence_en": "x", "cause": None,
           "cause_json": None}
    with secure_store.transaction() as cur:  # a changed anomaly row shape fails here, as it should
        astore.upsert(cur, row, datetime.now())
    astore.transition(aid, "acknowledged", ana, note="checked")
    t = audit.search(secure_store, action="triage", user="ana")
    assert len(t) == 1 and t.iloc[0]["target"] == aid and "acknowledged" in t.iloc[0]["detail"]
    # a download whose bytes are built on click (the briefing PDF): audited when they are built
    run = auth.audited(lambda: b"%PDF-1.7 ...", "briefing_download", "2025-11 all", {"lang": "zh"}, user=ana)
    assert not len(audit.search(secure_store, action="briefing_download"))
    assert run() == b"%PDF-1.7 ..."
    b = audit.search(secure_store, action="briefing_download", user="ana")
    assert len(b) == 1 and b.iloc[0]["scope"] == f"branches:{MINE}" and '"bytes": 12' in b.iloc[0]["detail"]
    users = UserStore(secure_store)
    users.update("adm", "vw", role="analyst")
    users.reset_password("adm", "vw", "another-long-password")
    actions = set(audit.search(secure_store, user="adm")["action"])
    assert {"user_update", "user_password"} <= actions


def test_audit_log_is_append_only_and_tamper_evident(secure_store):
    from data.sqlfiles import load

    users_sql = load("users")
    writers = [b.name for b in users_sql.values() if "audit_log" in b.sql and re.search(r"\b(UPDATE|DELETE)\b", b.sql)]
    assert writers == []  # the application has no statement that changes or removes an audit row
    audit.audit(secure_store, "adm", "export", "x.csv")
    audit.audit(secure_store, "adm", "export", "y.csv")
    assert audit.verify(secure_store).ok
    secure_store.cursor().execute("UPDATE ops.audit_log SET user_name = 'someone' WHERE target = 'x.csv'")
    v = audit.verify(secure_store)
    assert not v.ok and v.reason == "the row was changed"


def test_admin_page_filters_and_exports_the_audit_trail(secure_store):
    at = sign_in("adm")
    at.switch_page("pages/admin.py").run()
    assert not at.exception
    at.selectbox(key="adm_a_action").select("sign_in").run()
    trail = next(d.value for d in at.dataframe if "audit_id" in d.value.columns)
    assert set(trail["action"]) == {"sign_in"} and "adm" in set(trail["user_name"])
    assert at.download_button(key="adm_audit_dl")
    assert at.success  # the hash chain checks out


# -- payloads stay inert: upload → page → export → PDF --------------------------------------------
def test_payloads_stay_inert_from_upload_to_pdf(secure_store):
    from pypdf import PdfReader

    from briefing import build_pdf
    from pages._ui.upload import load_upload

    res = load_upload(secure_store, "events.csv", payload_csv(), user="ana")
    assert res.ok, res.issues
    at = sign_in("vw", {"from": "2025-11-01", "to": "2025-12-31"})
    at.switch_page("pages/market.py").run()
    assert not at.exception
    # the titles are shown as data (table cells, escaped chart labels), never as Markdown or HTML
    for coll in (at.markdown, at.caption, at.info, at.warning, at.error, at.success):
        for e in coll:
            assert "<script" not in e.value and "<img" not in e.value and "](javascript" not in e.value
    # exports: formula cells are neutralised
    ev = secure_store.cursor().execute("SELECT title, detail, source FROM main.market_events "
                                       "WHERE event_id IN ('EVX1', 'EVX2') ORDER BY event_id").df()
    assert XSS in set(ev["title"])  # stored as typed
    csv = to_csv_bytes(ev).decode("utf-8-sig")
    for cell in (FORMULA, "@SUM(A1:A9)", "+cmd|x"):
        assert "'" + cell.replace('"', '""') in csv or "'" + cell in csv
        assert not re.search(r"(^|,)" + re.escape(cell[0]), csv.replace("'" + cell[0], "")), cell
    # the PDF prints the text literally
    pdf = build_pdf(secure_store, "2025-12", "all", "zh")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "<script>" in text.replace("\n", "") or "alert" in text


def test_markdown_escaping_helper():
    from pages._ui.widgets import inert

    assert inert("<b>x</b>") == "\\<b\\>x\\</b\\>"
    assert inert("[a](javascript:x)") == "\\[a\\]\\(javascript\\:x\\)"


# -- hardening ---------------------------------------------------------------------------------
def test_server_defaults():
    import tomllib

    cfg = tomllib.loads((ROOT / ".streamlit/config.toml").read_text(encoding="utf-8"))
    assert cfg["server"]["address"] == "127.0.0.1"
    assert cfg["server"]["enableXsrfProtection"] is True
    assert cfg["server"]["maxUploadSize"] == 100
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "ADDRESS ?= 127.0.0.1" in make and "--server.address $(ADDRESS)" in make
    assert "user ensure-admin" in make


def test_no_secrets_in_the_repo():
    assert ".streamlit/secrets.toml" in (ROOT / ".gitignore").read_text(encoding="utf-8")
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert not [f for f in tracked if f.endswith("secrets.toml") or f.endswith(".env")]


def test_upload_limit_is_enforced_before_parsing(secure_store, monkeypatch):
    from pages._ui import upload

    def boom(*a, **k):  # pragma: no cover - must not be reached
        raise AssertionError("parsed a file over the limit")

    monkeypatch.setattr(upload, "ingest_file", boom)
    big = b"x" * (secure_store.settings.upload_max_mb * 1024 * 1024 + 1)
    res = upload.load_upload(secure_store, "big.csv", big, user="ana")
    assert res.status == "rejected" and "100 MB" in res.message_en


def test_no_sql_is_built_from_user_strings():
    """Queries in the security modules are named blocks with bound parameters only."""
    for f in ("data/users.py", "data/audit.py", "pages/_ui/auth.py", "pages/admin.py"):
        src = (ROOT / f).read_text(encoding="utf-8")
        assert not re.search(r"execute\(\s*f[\"']", src), f
        assert ".format(" not in src, f
