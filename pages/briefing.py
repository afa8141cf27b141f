"""简报 Briefing: choose period, scope, language and sections; preview the summary; download the PDF;
subscribe to its scheduled delivery (pages/_ui/subscriptions.py).

The PDF is built only when 生成PDF is clicked, never on a rerun: on the script thread, so a
progress bar (pages/_ui/progress.py) shows its stages and a failure is shown as a message. The
bytes stay in the session for the download button while the choices are the ones they were built
for; the download is audited. Numbers come from `briefing.content`, which reads the same
catalogue functions as every page.
"""

import time
from datetime import date

import streamlit as st

from briefing import DEFAULT_SPEC, BriefingError, BriefingRequest, build_pdf, check_reads
from briefing.spec import SECTION_TITLES, SectionKind
from metrics import summary
from metrics.model import Grain
from metrics.periods import label as period_label
from metrics.periods import period_end, period_start, shift
from metrics.scope import Scope
from pages._ui import auth, cache, subscriptions
from pages._ui.filters import current
from pages._ui.i18n import LANG_NAMES, LANGS, current_lang, pick, t, tr
from pages._ui.progress import ProgressBar
from pages._ui.store import data_version, get_store
from pages._ui.widgets import inert

GRAINS = (Grain.MONTH, Grain.QUARTER, Grain.WEEK)
N_PERIODS = 24
OPTIONAL = [s.kind for s in DEFAULT_SPEC.sections if s.kind is not SectionKind.COVER]

lang = current_lang()
f = current()
st.title(t("br.title"), anchor=False)
st.caption(t("br.caption"))


@st.cache_data(show_spinner=False, ttl=cache.TTL, max_entries=8)
def _choices(version: int) -> dict:
    store = get_store()
    branches = [(b[0], b[1], b[3]) for b in store.query("reads.branch_master").rows()  # id, name, region
                if b[2] in ("outlet", "sub_branch")]
    last = store.query("reads.data_span").first()[1]
    return {"branches": branches, "regions": sorted({b[2] for b in branches if b[2]}), "last": last}


@st.cache_data(show_spinner=False, ttl=cache.TTL, max_entries=64)
def _preview(grain: str, as_of: date, region, branch, lang: str, bound, version: int) -> list[str]:
    return summary.summary_sentences(get_store(), Grain(grain), as_of,
                                     Scope(branch_ids=bound, region=region, branch=branch), lang)


@st.cache_data(show_spinner=False, ttl=cache.TTL, max_entries=32)
def _broken(code: str, scope: str, lang: str, bound, version: int) -> str | None:
    """The BriefingError the build would raise (a damaged anomaly or events table), else None.

    Checked before the build so the button is disabled and the reason shown at once."""
    store = get_store()
    try:
        check_reads(store, BriefingRequest.parse(store, code, scope, lang, DEFAULT_SPEC, boundary=bound))
    except BriefingError as exc:
        return str(exc)
    except (ValueError, PermissionError):  # the build reports these itself
        return None
    return None


def _code(p: date, grain: Grain) -> str:
    """The CLI's period code: 2025-09, 2025-W38, 2025-Q3."""
    if grain is Grain.WEEK:
        iso = p.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if grain is Grain.QUARTER:
        return f"{p.year}-Q{(p.month - 1) // 3 + 1}"
    return f"{p.year}-{p.month:02d}"


ch = _choices(data_version())
bound = auth.boundary()  # the reader's access boundary: only their branches and whole regions are offered
if bound is not None:
    _all = ch["branches"]
    ch = {**ch, "branches": [b for b in _all if b[0] in bound]}
    ch["regions"] = sorted(r for r in {b[2] for b in _all if b[2]}
                           if all(b[0] in bound for b in _all if b[2] == r))
if ch["last"] is None:
    st.info(t("br.empty"), icon=":material/info:")
    st.stop()

c1, c2, c3, c4 = st.columns([1, 1.3, 1.6, 1])
default_grain = f.grain if f.grain in GRAINS else Grain.MONTH
grain = Grain(c1.segmented_control(t("br.grain"), [g.value for g in GRAINS], default=default_grain.value,
                                   format_func=lambda g: tr(f"grain.{g}", lang), key="br_grain") or default_grain.value)
last = period_start(ch["last"], grain)
options = [shift(last, grain, -i) for i in range(N_PERIODS)]
anchor = period_start(min(f.end, ch["last"]), grain)
period = c2.selectbox(t("br.period"), options, index=options.index(anchor) if anchor in options else 0,
                      format_func=lambda p: period_label(p, grain, lang), key=f"br_period_{grain.value}")
names = {b[0]: b[1] for b in ch["branches"]}
scopes = ["all", *[f"region:{r}" for r in ch["regions"]], *[f"branch:{b[0]}" for b in ch["branches"]]]
here = f"branch:{f.scope.branch}" if f.scope.branch else (f"region:{f.scope.region}" if f.scope.region else "all")


def _scope_name(s: str) -> str:
    """The scope's label in the page's language (bound here: AppTest and widgets may format it outside a run)."""
    kind, _, v = s.partition(":")
    if kind == "region":
        return tr("br.scope.region", lang, name=v)
    if kind == "branch":
        return f"{names.get(v, v)}（{v}）"
    return tr("br.scope.all", lang) if bound is None else tr("br.scope.mine", lang)


scope = c3.selectbox(t("br.scope"), scopes, index=scopes.index(here) if here in scopes else 0, format_func=_scope_name,
                     key="br_scope")
out_lang = c4.segmented_control(t("br.lang"), LANGS, default=lang, format_func=LANG_NAMES.get, key="br_lang") or lang
kinds = st.multiselect(t("br.sections"), OPTIONAL, default=OPTIONAL, key="br_sections",
                       format_func=lambda k: SECTION_TITLES[k][0 if lang == "zh" else 1])

with st.container(border=True):
    st.subheader(t("br.preview"), anchor=False)
    kind, _, value = scope.partition(":")
    as_of = min(period_end(period, grain), ch["last"])
    sentences = _preview(grain.value, as_of, value if kind == "region" else None, value if kind == "branch" else None,
                         out_lang, bound, data_version())
    if sentences:
        st.markdown("\n".join(f"- {s}" for s in sentences))
    else:
        st.info(t("br.preview_none"), icon=":material/info:")

store = get_store()
code = _code(period, grain)
spec = DEFAULT_SPEC.only(kinds)
safe_scope = scope.replace(":", "-").replace("/", "-")
target = f"{code} {scope}"
detail = {"lang": out_lang, "sections": [str(k) for k in kinds]}
# a built PDF is offered only while the choices (and the data) are the ones it was built for
wanted = (code, scope, out_lang, tuple(kinds), bound, data_version())
built = st.session_state.get("br_pdf")
if built is not None and built["key"] != wanted:
    built = None


def _downloaded(target: str, detail: dict, size: int) -> None:
    auth.record("briefing_download", target=target, detail={**detail, "bytes": size})


problem = _broken(code, scope, out_lang, bound, data_version())
if problem:
    st.error(pick(problem, lang), icon=":material/error:")
clicked = st.button(t("br.build"), key="br_build", icon=":material/picture_as_pdf:",
                    type="secondary" if built else "primary", help=t("br.build.help"), disabled=bool(problem))
if clicked:
    bar = ProgressBar(inert(f"{period_label(period, grain, lang)} {_scope_name(scope)}"), lang)
    t0 = time.perf_counter()
    try:
        pdf = build_pdf(store, code, scope, out_lang, spec, progress=bar.report, boundary=bound)
    except (BriefingError, ValueError, PermissionError) as exc:  # the messages are bilingual
        bar.finish(t("br.failed"))
        if isinstance(exc, PermissionError):
            auth.record("briefing_download", target=target, detail=detail, outcome="denied")
        st.error(pick(str(exc), lang), icon=":material/error:")
        built = None
    else:
        built = {"key": wanted, "data": pdf, "kb": len(pdf) / 1024, "seconds": time.perf_counter() - t0}
        bar.finish(t("br.built", kb=built["kb"], s=built["seconds"]))
    st.session_state["br_pdf"] = built
if built is not None:
    if not clicked:  # built on an earlier run: the bar is gone, say what is offered
        st.caption(t("br.built", kb=built["kb"], s=built["seconds"]))
    st.download_button(t("br.download"), data=built["data"], file_name=f"BankPulse_briefing_{code}_{safe_scope}_{out_lang}.pdf",
                       mime="application/pdf", icon=":material/download:", type="primary", on_click=_downloaded,
                       args=(target, detail, len(built["data"])), key="br_download", help=t("br.download.help"))
st.caption(t("br.note"))

st.divider()
if (me := auth.current_user()) is not None:  # scheduled delivery: subscribe, list, remove, last deliveries
    subscriptions.panel(store, me, scopes, _scope_name)
