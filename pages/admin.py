"""用户与审计 Users and audit (administrators only): accounts, roles, scopes; the audit trail."""

from datetime import date, datetime, time, timedelta

import pandas as pd
import streamlit as st

from data import audit
from data.exports import to_csv_bytes
from data.users import ROLE_LABELS, ROLES, UserError, UserStore, branch_master
from pages._ui import auth
from pages._ui.i18n import current_lang, pick, t
from pages._ui.store import get_store

lang = current_lang()
zh = lang == "zh"
if not auth.can("users"):  # app.py refuses the page already; this guards a direct run
    auth.refuse(t("nav.admin"))
    st.stop()

store = get_store()
users = UserStore(store)
me = auth.current_user()
branches = branch_master(store)
regions = ["", "*", *sorted(branches["region"].dropna().unique())]
branch_ids = sorted(branches["branch_id"].dropna().astype(str))

st.title(t("adm.title"), anchor=False)
st.caption(t("adm.caption"))
tab_users, tab_audit = st.tabs([t("adm.tab.users"), t("adm.tab.audit")])


def _role(r: str) -> str:
    return ROLE_LABELS.get(r, (r, r))[0 if zh else 1]


def _region(r: str) -> str:
    return r if r and r != "*" else ("—" if not r else t("auth.scope.all"))


with tab_users:
    listing = users.list()
    frame = pd.DataFrame([{
        t("adm.col.user"): u.user_name, t("adm.col.display"): u.display_name or "", t("adm.col.role"): _role(u.role),
        t("adm.col.region"): u.region or "", t("adm.col.branches"): u.branches or "", t("adm.col.source"): u.source,
        t("adm.col.disabled"): u.disabled, t("adm.col.failed"): u.failed_logins,
        t("adm.col.locked"): u.locked_until, t("adm.col.last_login"): u.last_login} for u in listing])
    st.dataframe(frame, hide_index=True, key="adm_users", alt=t("adm.users"))  # plain text cells: inert

    outcome = st.session_state.pop("adm_outcome", None)
    if outcome:
        kind, text, secret = outcome
        getattr(st, kind)(text)
        if secret:
            st.code(secret, language=None)  # shown once; never logged

    c1, c2 = st.columns(2)
    with c1, st.form("adm_add", clear_on_submit=True, border=True):
        st.markdown(f"**{t('adm.add')}**")
        name = st.text_input(t("adm.name"), max_chars=64)
        display = st.text_input(t("adm.display"), max_chars=80)
        role = st.selectbox(t("adm.role"), ROLES, format_func=_role)
        region = st.selectbox(t("adm.region"), regions, format_func=_region)
        picked = st.multiselect(t("adm.branches"), branch_ids)
        password = st.text_input(t("adm.password"), type="password", max_chars=256)
        if st.form_submit_button(t("adm.save"), type="primary"):
            try:
                from data.users import random_password

                pw = password or random_password()
                users.add(me, name.strip(), role, password=pw, region=region or None, branches=picked,
                          display=display or None)
                st.session_state["adm_outcome"] = ("success", t("adm.added", name=name.strip()),
                                                   None if password else pw)
            except UserError as exc:
                st.session_state["adm_outcome"] = ("error", pick(str(exc), lang), None)
            st.rerun()

    with c2, st.container(border=True):
        st.markdown(f"**{t('adm.edit')}**")
        if listing:
            by = {u.user_name: u for u in listing}
            who = st.selectbox(t("adm.pick"), list(by), key="adm_pick")
            u = by[who]
            with st.form("adm_edit", border=False):
                role_e = st.selectbox(t("adm.role"), ROLES, index=ROLES.index(u.role), format_func=_role)
                reg_opts = regions if (u.region or "") in regions else [*regions, u.region]
                region_e = st.selectbox(t("adm.region"), reg_opts, index=reg_opts.index(u.region or ""),
                                        format_func=_region)
                br_opts = sorted(set(branch_ids) | u.branch_set)
                branches_e = st.multiselect(t("adm.branches"), br_opts, default=sorted(u.branch_set))
                if st.form_submit_button(t("adm.save")):
                    try:
                        users.update(me, who, role=role_e, region=region_e, branches=branches_e)
                        st.session_state["adm_outcome"] = ("success", t("adm.saved"), None)
                    except UserError as exc:
                        st.session_state["adm_outcome"] = ("error", pick(str(exc), lang), None)
                    st.rerun()
            with st.container(horizontal=True):
                if st.button(t("adm.enable") if u.disabled else t("adm.disable"), key="adm_toggle"):
                    try:
                        users.set_disabled(me, who, not u.disabled)
                        st.session_state["adm_outcome"] = ("success", t("adm.saved"), None)
                    except UserError as exc:
                        st.session_state["adm_outcome"] = ("error", pick(str(exc), lang), None)
                    st.rerun()
                if u.source == "local" and st.button(t("adm.reset"), key="adm_reset"):
                    pw = users.reset_password(me, who)
                    st.session_state["adm_outcome"] = ("success", t("adm.new_password", name=who), pw)
                    st.rerun()
                if u.source == "local" and st.button(t("adm.signout_all"), key="adm_signout_all",
                                                     help=t("adm.signout_all.help"), icon=":material/logout:"):
                    n = users.sign_out_everywhere(me, who)
                    st.session_state["adm_outcome"] = ("success", t("adm.signed_out_all", name=who, n=n), None)
                    st.rerun()

with tab_audit:
    c1, c2, c3, c4, c5 = st.columns(5)
    known_users = [""] + sorted({u.user_name for u in users.list()})
    f_user = c1.selectbox(t("adm.audit.user"), known_users, format_func=lambda v: v or t("adm.audit.any"),
                          key="adm_a_user", accept_new_options=True)
    f_action = c2.selectbox(t("adm.audit.action"), ["", *audit.actions(store)],
                            format_func=lambda v: v or t("adm.audit.any"), key="adm_a_action")
    f_outcome = c3.selectbox(t("adm.audit.outcome"), ["", "ok", "failed", "denied"],
                             format_func=lambda v: v or t("adm.audit.any"), key="adm_a_outcome")
    f_from = c4.date_input(t("adm.audit.from"), value=date.today() - timedelta(days=30), key="adm_a_from")
    f_to = c5.date_input(t("adm.audit.to"), value=date.today(), key="adm_a_to")
    f_text = st.text_input(t("adm.audit.text"), key="adm_a_text", max_chars=100)
    rows = audit.search(store, user=f_user or None, action=f_action or None, outcome=f_outcome or None,
                        since=datetime.combine(f_from, time.min), until=datetime.combine(f_to, time.min) + timedelta(days=1),
                        text=f_text or None)
    st.caption(t("adm.audit.count", n=len(rows)))
    st.dataframe(rows, hide_index=True, key="adm_audit", alt=t("adm.tab.audit"))
    st.download_button(
        "下载CSV" if zh else "Download CSV", auth.audited(lambda: to_csv_bytes(rows), "export", "audit_log.csv",
                                                         {"rows": len(rows)}),
        file_name="audit_log.csv", mime="text/csv", key="adm_audit_dl", icon=":material/download:", on_click="ignore")
    v = audit.verify(store)
    if v.ok:
        st.success(t("adm.audit.verify_ok", n=v.rows), icon=":material/verified:")
    else:
        st.error(t("adm.audit.verify_bad", id=v.first_bad, reason=v.reason), icon=":material/gpp_bad:")
