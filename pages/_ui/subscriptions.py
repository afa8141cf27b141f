"""The briefing page's "定期发送 Scheduled delivery" panel: subscribe, list, remove, last deliveries.

State and rules are data/subscriptions.py's (a person manages their own, an administrator everyone's;
the scope must lie in the recipient's boundary); this draws them. Nothing is sent from here: the
scheduler process (`bankpulse scheduler`) or a cron line runs `bankpulse deliver --due`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import time

import pandas as pd
import streamlit as st

from data.subscriptions import Kind, SubscriptionError, SubscriptionStore
from pages._ui.i18n import LANG_NAMES, LANGS, current_lang, t, tr
from pages._ui.widgets import inert

LIST_COLUMNS = ["subscription_id", "user_name", "scope", "grain", "lang", "send_day", "send_time", "email"]
RECENT_COLUMNS = ["subscription_id", "user_name", "period_code", "status", "attempts", "finished_at",
                  "next_attempt_at", "recipient", "error"]


def _frame(df: pd.DataFrame, columns: list[str], scope_name: Callable[[str], str]) -> pd.DataFrame:
    out = df[columns].copy()
    if "grain" in out:
        out["grain"] = [t(f"grain.{g}") for g in out["grain"]]
    if "lang" in out:
        out["lang"] = [LANG_NAMES.get(x, x) for x in out["lang"]]
    if "scope" in out:
        out["scope"] = [scope_name(s) for s in out["scope"]]
    if "send_time" in out:
        out["send_time"] = [x.strftime("%H:%M") if isinstance(x, time) else str(x) for x in out["send_time"]]
    if "status" in out:
        out["status"] = [t(f"br.sub.status.{x}") for x in out["status"]]
    return out.rename(columns={c: t(f"br.sub.col.{c}") for c in columns})


def panel(store, user, scopes: list[str], scope_name: Callable[[str], str]) -> None:
    """Draw the panel for `user` (the signed-in Principal); `scopes` are those the page offers."""
    lang = current_lang()
    subs = SubscriptionStore(store, channel="web")
    st.subheader(t("br.sub.title"), anchor=False)
    st.caption(t("br.sub.caption"))
    with st.expander(t("br.sub.new"), icon=":material/schedule_send:"), st.form("br_sub_form"):
        c1, c2, c3 = st.columns([1, 1.6, 1])
        grain = c1.selectbox(t("br.sub.grain"), [k.value for k in Kind], index=1, key="br_sub_grain",
                             format_func=lambda g: tr(f"grain.{g}", lang))  # tr: called outside the run too
        scope = c2.selectbox(t("br.sub.scope"), scopes, key="br_sub_scope", format_func=scope_name)
        out_lang = c3.selectbox(t("br.sub.lang"), LANGS, index=LANGS.index(lang), key="br_sub_lang",
                                format_func=LANG_NAMES.get)
        d1, d2, d3 = st.columns([1, 1, 2])
        day = d1.number_input(t("br.sub.day"), min_value=1, max_value=28, value=1, step=1, key="br_sub_day",
                              help=t("br.sub.day.help"))
        at = d2.time_input(t("br.sub.time"), value=time(8, 0), step=900, key="br_sub_time")
        email = d3.text_input(t("br.sub.email"), max_chars=200, key="br_sub_email", placeholder="name@bank.example")
        if st.form_submit_button(t("br.sub.add"), type="primary", key="br_sub_add"):
            try:
                s = subs.add(user, user.name, scope=scope, grain=grain, lang=out_lang, send_day=int(day),
                             send_time=at, email=email)
                st.success(t("br.sub.added", id=s.subscription_id), icon=":material/check_circle:")
            except SubscriptionError as exc:
                st.error(t("br.sub.refused") + "\n" + "\n".join(
                    f"- {inert(zh if lang == 'zh' else en)}" for _, zh, en in exc.issues), icon=":material/error:")
    everyone = user.can("deliver")
    listing = subs.list(user, everyone=everyone)
    st.markdown(f"**{t('br.sub.list_all' if everyone else 'br.sub.list')}**")
    if not listing:
        st.info(t("br.sub.none"), icon=":material/info:")
    else:
        df = pd.DataFrame([s.__dict__ for s in listing])
        st.dataframe(_frame(df, LIST_COLUMNS, scope_name), hide_index=True, key="br_sub_list")
        r1, r2 = st.columns([2, 1], vertical_alignment="bottom")
        ids = [s.subscription_id for s in listing]
        pick_id = r1.selectbox(t("br.sub.remove_pick"), ids, key="br_sub_remove_id",
                               format_func=lambda i: next(f"{i} · {s.user_name} · {tr(f'grain.{s.grain}', lang)} · "
                                                          f"{scope_name(s.scope)} · {s.email}"
                                                          for s in listing if s.subscription_id == i))
        if r2.button(t("br.sub.remove"), key="br_sub_remove", icon=":material/unsubscribe:"):
            try:
                subs.remove(user, int(pick_id))
            except SubscriptionError as exc:
                st.error("\n".join(zh if lang == "zh" else en for _, zh, en in exc.issues))
            else:
                st.toast(t("br.sub.removed", id=pick_id))
                st.rerun()
    recent = subs.recent(user, limit=20)
    st.markdown(f"**{t('br.sub.recent')}**")
    if recent.empty:
        st.caption(t("br.sub.recent_none"))
        return
    bad = int((recent["status"] != "sent").sum())
    if bad:
        st.warning(t("br.sub.failures", n=bad), icon=":material/warning:")
    st.dataframe(_frame(recent, RECENT_COLUMNS, scope_name), hide_index=True, key="br_sub_recent")
