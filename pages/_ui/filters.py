"""The sidebar filters every monitoring page shares: period, grain, region/branch, product.

Rendered by app.py on every run, kept in the URL (see urlstate.py) so that a copied link
reproduces the view and the choice survives moving between pages. Pages read the result with
`current()`; the options come from the data itself (branch hierarchy, products, data span).

The signed-in person's access boundary (pages/_ui/auth.py) is folded into every Scope as
`branch_ids`, which the query layer applies to every analytical query; the region and branch
options list only what lies inside it, so a URL `?branch=X` outside it is rejected like any
unknown value (urlstate.choice_parser) and the boundary still applies if it were not.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import streamlit as st

from metrics.model import Grain
from metrics.scope import Scope
from pages._ui import auth, urlstate
from pages._ui.i18n import current_lang, tr
from pages._ui.store import data_version, get_store

GRAINS = [g.value for g in Grain]
_KEY = "_filters"


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    grain: Grain
    scope: Scope

    def cache_key(self) -> tuple:
        s = self.scope
        return (self.start, self.end, self.grain.value, s.region, s.branch, s.product,
                None if s.branch_ids is None else tuple(sorted(s.branch_ids)))


@st.cache_data(show_spinner=False, max_entries=8, ttl=3600)
def _choices(version: int) -> dict:
    """Regions, branches (id, name, level, region, parent) and products; the data span."""
    store = get_store()
    branches = store.query("reads.branch_master").rows()
    products = [r[0] for r in store.query("reads.loan_products").rows()]
    first, last = store.query("reads.data_span").first()
    regions = sorted({b[3] for b in branches if b[3]})
    return {"branches": branches, "regions": regions, "products": products,
            "first": first, "last": last or date.today()}


def _default_window(last: date, first: date | None) -> tuple[date, date]:
    start = date(last.year - 1, last.month, 1)
    if first and start < first:
        start = first
    return start, last


def render_sidebar() -> Filters:
    """Draw the filters (call once per run, from app.py) and remember the result for pages."""
    ch = _choices(data_version())
    bound = auth.boundary()
    if bound is not None:  # only the branches (and so the regions) inside the person's boundary
        ch = {**ch, "branches": [b for b in ch["branches"] if b[0] in bound]}
        ch["regions"] = sorted({b[3] for b in ch["branches"] if b[3]})
    lang = current_lang()
    d_start, d_end = _default_window(ch["last"], ch["first"])
    iso = lambda d: d.isoformat()  # noqa: E731
    with st.sidebar:
        st.subheader(tr("flt.header", lang), anchor=False)
        urlstate.seed("from", date.fromisoformat, d_start)
        urlstate.seed("to", date.fromisoformat, d_end)
        c1, c2 = st.columns(2)
        start = c1.date_input(tr("flt.from", lang), key="from", format="YYYY-MM-DD")
        end = c2.date_input(tr("flt.to", lang), key="to", format="YYYY-MM-DD")
        if start > end:
            st.warning(tr("flt.bad_range", lang))
            start, end = end, start
        urlstate.publish("from", start, d_start, iso)
        urlstate.publish("to", end, d_end, iso)

        urlstate.seed("grain", urlstate.choice_parser(GRAINS), "month")
        grain = st.segmented_control(tr("flt.grain", lang), GRAINS, key="grain",
                                     format_func=lambda g: tr(f"grain.{g}", lang)) or "month"
        urlstate.publish("grain", grain, "month")

        regions = ["", *ch["regions"]]
        urlstate.seed("region", urlstate.choice_parser(regions), "")
        region = st.selectbox(tr("flt.region", lang), regions, key="region",
                              format_func=lambda r: r or tr("flt.all_regions", lang))
        urlstate.publish("region", region, "")

        names = {b[0]: b[1] for b in ch["branches"]}
        pool = [b for b in ch["branches"] if b[2] in ("outlet", "sub_branch") and (not region or b[3] == region)]
        branch_ids = ["", *[b[0] for b in pool]]
        urlstate.seed("branch", urlstate.choice_parser(branch_ids), "")
        if st.session_state.get("branch") not in branch_ids:
            st.session_state["branch"] = ""
        branch = st.selectbox(tr("flt.branch", lang), branch_ids, key="branch",
                              format_func=lambda b: names.get(b, b) if b else tr("flt.all_branches", lang))
        urlstate.publish("branch", branch, "")

        products = ["", *ch["products"]]
        urlstate.seed("product", urlstate.choice_parser(products), "")
        product = st.selectbox(tr("flt.product", lang), products, key="product",
                               format_func=lambda p: p or tr("flt.all_products", lang), help=tr("flt.product.help", lang))
        urlstate.publish("product", product, "")
    f = Filters(start, end, Grain(grain), Scope(branch_ids=bound, region=region or None, branch=branch or None,
                                                 product=product or None))
    st.session_state[_KEY] = f
    return f


def current() -> Filters:
    """The filters app.py drew on this run (a sensible default when a page runs alone in a test),
    always inside the signed-in person's access boundary."""
    f = st.session_state.get(_KEY)
    if f is None:
        ch = _choices(data_version())
        s, e = _default_window(ch["last"], ch["first"])
        f = Filters(s, e, Grain.MONTH, Scope())
    bound = auth.boundary()
    if f.scope.branch_ids != bound:
        f = replace(f, scope=replace(f.scope, branch_ids=bound))
    return f


def lookback_start(f: Filters, periods: int = 13) -> date:
    """A start far enough back for 同比 of the first shown period."""
    return f.start - timedelta(days=400) if periods else f.start
