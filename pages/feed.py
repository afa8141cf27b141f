"""工作动态 Work feed: notices, meeting records (decisions, follow-ups with an owner and a deadline,
linked to plans), and the items written when a plan is approved or a high-severity anomaly is raised.

Everything goes through data/feed.Feed: the audience scope, the validation and the audit live there,
so this page draws what the person may do (`post` for the forms and pins) and shows a refused write's
problems at once. Every user text — titles, bodies, decisions — reaches a Markdown sink only through
`inert` (shown literally, never rendered); tables show text as text. The list is cached on the feed's
fingerprint (data/sql/feed.sql `feed_version`), so a post or a read elsewhere shows on the next run.
"""

from datetime import date

import pandas as pd
import streamlit as st

from data.feed import Audience, Feed, FeedError, FeedKind, FollowUp
from metrics.model import Grain
from metrics.periods import label as period_label
from pages._ui import auth
from pages._ui.i18n import current_lang, t
from pages._ui.store import get_store
from pages._ui.widgets import inert

LIMIT = 50
FOLLOW_UP_ROWS = 4  # follow-up rows of the meeting form (the API takes up to 50)

lang = current_lang()
zh = lang == "zh"
store = get_store()
feed = Feed(store)
user = auth.current_user()
boundary = auth.boundary()
bound = None if boundary is None else tuple(sorted(boundary))


def fmt_day(d) -> str:
    if d is None or (not isinstance(d, date) and pd.isna(d)):
        return ""
    return period_label(pd.Timestamp(d).date(), Grain.DAY, lang)


def paragraphs(text: str | None) -> str:
    """A verbatim text for st.markdown: inert, its line breaks kept."""
    return "  \n".join(inert(line) for line in (text or "").splitlines())


def _version() -> str:
    return f"{store.query('feed.feed_version').value()}#{st.session_state.get('_feed_v', 0)}"


def _done(message: str, clear: str | None = None) -> None:
    """A change went through: bump the cache key, keep the message for the next run, empty the form
    whose widget keys start with `clear`, rerun."""
    for k in [k for k in st.session_state if clear and str(k).startswith(clear)]:
        del st.session_state[k]
    st.session_state["_feed_v"] = st.session_state.get("_feed_v", 0) + 1
    st.session_state["fd_flash"] = message
    st.rerun()


def _show_problems(exc: FeedError) -> None:
    lines = "\n".join(f"- {inert(p.zh if zh else p.en)}" for p in exc.problems)
    st.error(f"{t('fd.refused')}\n{lines}")


@st.cache_data(show_spinner=False, ttl=600, max_entries=64)
def _items(who, bound: tuple | None, kinds: tuple, q: str, unread: bool, v: str) -> list:
    return feed.items(who, kinds=list(kinds) or None, q=q or None, unread=unread, limit=LIMIT + 1)


@st.cache_data(show_spinner=False, ttl=600, max_entries=64)
def _actions(who, bound: tuple | None, ids: tuple, v: str) -> dict:
    return feed.actions(ids, who)


@st.cache_data(show_spinner=False, ttl=600, max_entries=32)
def _unread(who, bound: tuple | None, v: str) -> int:
    return feed.unread_count(who)


@st.cache_data(show_spinner=False, ttl=600, max_entries=32)
def _branches(bound: tuple | None) -> pd.DataFrame:
    b = store.query("reads.branch_master").df()
    return (b if bound is None else b[b["branch_id"].isin(bound)]).reset_index(drop=True)


@st.cache_data(show_spinner=False, ttl=600, max_entries=32)
def _plans(bound: tuple | None, v: str) -> dict[str, str]:
    """The plans the person can see (the follow-up's plan picker): id → title, newest first."""
    df = store.query("plans.list_plans", status=None, kind=None, owner_dept=None,
                     boundary=None if bound is None else list(bound), branch=None, overdue=False, today=date.today(),
                     origin_kind=None, origin_ref=None, limit=500, offset=0).df()
    return dict(zip(df["plan_id"], df["title"], strict=True))


def audience_label(kind: Audience, value: str | None) -> str:
    match kind:
        case Audience.BANK:
            return t("fd.aud.bank")
        case Audience.REGION:
            return t("fd.aud.region", v=value or "")
        case Audience.BRANCHES:
            return t("fd.aud.branches", v=value or "")


# -- the posting forms ---------------------------------------------------------------------------
def _audience_fields(prefix: str) -> dict:
    branches = _branches(bound)
    kinds = [a.value for a in Audience] if boundary is None else [Audience.REGION.value, Audience.BRANCHES.value]
    names = dict(zip(branches["branch_id"], branches["branch_name"], strict=True))
    c1, c2, c3 = st.columns([1, 1, 2])
    kind = c1.selectbox(t("fd.f.audience"), kinds, key=f"{prefix}_aud", format_func=lambda a: {
        "bank": t("fd.aud.bank"), "region": t("fd.f.region"), "branches": t("fd.f.branches")}[a])
    regions = sorted(branches["region"].dropna().unique())
    region = c2.selectbox(t("fd.f.region"), ["", *regions], key=f"{prefix}_region",
                          format_func=lambda r: r or t("fd.f.region.none"))
    picked = c3.multiselect(t("fd.f.branches"), list(branches["branch_id"]), key=f"{prefix}_branches",
                            placeholder=t("fd.f.pick"),
                            format_func=lambda b: f"{names.get(b, b)}（{b}）" if zh else f"{names.get(b, b)} ({b})")
    return {"audience_kind": kind, "audience_region": region or None, "audience_branches": picked or None}


def _notice_form() -> None:
    with st.expander(t("fd.post_notice"), icon=":material/campaign:"), st.form("fd_notice"):
        title = st.text_input(t("fd.f.title"), max_chars=200, key="fd_n_title")
        body = st.text_area(t("fd.f.body"), max_chars=5000, height=120, key="fd_n_body", help=t("fd.f.body.help"))
        aud = _audience_fields("fd_n")
        pin = st.checkbox(t("fd.f.pin"), key="fd_n_pin")
        if st.form_submit_button(t("fd.f.post"), type="primary", key="fd_n_post"):
            try:
                feed.post_notice(user, title=title, body=body, pinned=pin, **aud)
            except FeedError as exc:
                _show_problems(exc)
                return
            _done(t("fd.posted", title=inert(title.strip())), clear="fd_n_")


def _meeting_form(v: str) -> None:
    plans = _plans(bound, v)
    with st.expander(t("fd.post_meeting"), icon=":material/groups:"), st.form("fd_meeting"):
        c1, c2 = st.columns([3, 1])
        title = c1.text_input(t("fd.f.title"), max_chars=200, key="fd_m_title")
        day = c2.date_input(t("fd.f.meeting_on"), value=date.today(), key="fd_m_day")
        body = st.text_area(t("fd.f.summary"), max_chars=5000, height=80, key="fd_m_body", help=t("fd.f.body.help"))
        decisions = st.text_area(t("fd.f.decisions"), max_chars=5000, height=80, key="fd_m_decisions")
        rows = []
        for n in range(1, FOLLOW_UP_ROWS + 1):
            st.caption(t("fd.f.follow_up", n=n))
            a, b, c, d = st.columns([3, 1, 1, 2])
            rows.append((a.text_input(t("fd.f.fu_text"), key=f"fd_m_fu{n}_text", max_chars=1000),
                         b.text_input(t("fd.f.fu_owner"), key=f"fd_m_fu{n}_owner", max_chars=200),
                         c.date_input(t("fd.f.fu_deadline"), value=None, key=f"fd_m_fu{n}_deadline"),
                         d.selectbox(t("fd.f.fu_plan"), ["", *plans], key=f"fd_m_fu{n}_plan",
                                     format_func=lambda p: f"{p} {plans[p]}" if p else t("fd.f.fu_plan.none"))))
        aud = _audience_fields("fd_m")
        pin = st.checkbox(t("fd.f.pin"), key="fd_m_pin")
        if st.form_submit_button(t("fd.f.record"), type="primary", key="fd_m_post"):
            follow_ups = [FollowUp(x, o, dl, p or None) for x, o, dl, p in rows if x.strip() or o.strip() or dl or p]
            try:
                feed.post_meeting(user, title=title, meeting_on=day, body=body or None, pinned=pin,
                                  decisions=[x for x in decisions.splitlines() if x.strip()], follow_ups=follow_ups,
                                  **aud)
            except FeedError as exc:
                _show_problems(exc)
                return
            _done(t("fd.posted", title=inert(title.strip())), clear="fd_m_")


# -- one item ------------------------------------------------------------------------------------
def _actions_table(acts: list, kind: str) -> None:
    rows = [a for a in acts if a.action_kind.value == kind]
    if not rows:
        return
    st.markdown(f"**{t('fd.decisions' if kind == 'decision' else 'fd.follow_ups')}**")
    if kind == "decision":
        st.markdown("\n".join(f"{n}. {inert(a.text)}" for n, a in enumerate(rows, 1)))
        return
    st.dataframe(pd.DataFrame({  # a table shows text as text
        t("fd.col.text"): [a.text for a in rows], t("fd.col.owner"): [a.owner for a in rows],
        t("fd.col.deadline"): [fmt_day(a.deadline) for a in rows],
        t("fd.col.plan"): [("" if a.plan_id is None else f"{a.plan_id} {a.plan_title}" if a.plan_visible
                            else t("fd.plan_hidden")) for a in rows]}), hide_index=True)
    for a in rows:
        if a.plan_visible:
            st.page_link("pages/actions.py", label=t("fd.open_plan", id=a.plan_id), icon=":material/task_alt:",
                         query_params={"plan": a.plan_id})


def _item(item, acts: list) -> None:
    with st.container(border=True, key=f"fd_item_{item.item_id}"):
        badges = []
        if item.unread:
            badges.append(f":blue-badge[:material/fiber_manual_record: {t('fd.new')}]")
        if item.pinned:
            badges.append(f":orange-badge[:material/push_pin: {t('fd.pinned')}]")
        badges.append(f":gray-badge[{item.kind.label(lang)}]")
        st.markdown(" ".join(badges) + f" **{inert(item.title_in(lang))}**")
        st.caption(t("fd.meta", author=inert(item.author), day=fmt_day(item.created_at),
                     audience=inert(audience_label(item.audience_kind, item.audience_value))))
        if item.meeting_on:
            st.caption(t("fd.meeting_on", day=fmt_day(item.meeting_on)))
        if item.body_in(lang):
            st.markdown(paragraphs(item.body_in(lang)))
        _actions_table(acts, "decision")
        _actions_table(acts, "follow_up")
        with st.container(horizontal=True):
            if item.kind == FeedKind.PLAN_APPROVED and item.source_ref:
                st.page_link("pages/actions.py", label=t("fd.open_plan", id=item.source_ref),
                             icon=":material/task_alt:", query_params={"plan": item.source_ref})
            if item.kind == FeedKind.ANOMALY_RAISED:
                st.page_link("pages/anomalies.py", label=t("fd.open_anomalies"), icon=":material/notification_important:")
            if item.unread and st.button(t("fd.read"), key=f"fd_read_{item.item_id}", icon=":material/done:"):
                feed.mark_read([item.item_id], user)
                _done(t("fd.marked", n=1))
            if auth.can("post") and st.button(t("fd.unpin") if item.pinned else t("fd.pin"),
                                              key=f"fd_pin_{item.item_id}", icon=":material/push_pin:"):
                try:
                    feed.set_pinned(item.item_id, not item.pinned, user)
                except FeedError as exc:
                    _show_problems(exc)
                else:
                    _done(t("fd.unpin") if item.pinned else t("fd.pin"))


# -- the page ------------------------------------------------------------------------------------
st.title(t("fd.title"), anchor=False)
st.caption(t("fd.caption"))
if st.session_state.get("fd_flash"):
    st.success(st.session_state.pop("fd_flash"), icon=":material/check_circle:")

version = _version()
if auth.can("post"):
    _notice_form()
    _meeting_form(version)

f1, f2, f3 = st.columns([2, 3, 1], vertical_alignment="bottom")
query = f1.text_input(t("fd.search"), key="fd_q", placeholder=t("fd.search.ph"), help=t("fd.search.help"),
                      max_chars=100)
kinds = f2.pills(t("fd.kinds"), [k.value for k in FeedKind], selection_mode="multi", key="fd_kinds",
                 format_func=lambda k: FeedKind(k).label(lang))
only_unread = f3.toggle(t("fd.only_unread"), key="fd_unread")

items = _items(user, bound, tuple(sorted(kinds or ())), query.strip().lower(), bool(only_unread), version)
shown, more = items[:LIMIT], len(items) > LIMIT
n_unread = _unread(user, bound, version)
with st.container(horizontal=True, vertical_alignment="center"):
    st.markdown(f":blue-badge[{t('fd.unread', n=n_unread)}]")
    unread_shown = [i.item_id for i in shown if i.unread]
    if unread_shown and st.button(t("fd.read_all"), key="fd_read_all", icon=":material/done_all:"):
        n = feed.mark_read(unread_shown, user)
        _done(t("fd.marked", n=n))

if not shown:
    st.info(t("fd.empty"), icon=":material/info:")
acts = _actions(user, bound, tuple(i.item_id for i in shown if i.kind == FeedKind.MEETING), version)
for it in shown:
    _item(it, acts.get(it.item_id, []))
if more:
    st.caption(t("fd.more", n=LIMIT))
