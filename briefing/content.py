"""Spec + period + scope + language → the whole briefing as plain data (no layout, no PDF).

Every number comes from the functions the pages use: `metrics.compute.card` / `series` /
`with_comparisons` for KPIs, `metrics.format` for how they are written, `metrics.summary` for
the trend sentences, `anomaly.store.AnomalyStore` for anomalies and their triage,
`metrics.topics` and `metrics.feedback_analysis` for feedback, `metrics.market_analysis` for
events. Cards are computed in a small thread pool (each thread has its own DuckDB cursor and
Ibis backend, see `data.store.Store.ibis`) and shared between the summary, the KPI table and
the trend charts.
"""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from datetime import date, datetime

import pandas as pd

from briefing.spec import DEFAULT_SPEC, BriefingSpec, Section, SectionKind
from data.progress import BRIEFING, Progress, Stage, Stages
from metrics import compute
from metrics.catalogue import HEADLINE_IDS, get_metric
from metrics.format import COUNT_WORD, fmt_change, fmt_count, fmt_value
from metrics.model import CATEGORY_LABELS, Grain, Metric, Unit
from metrics.periods import label as period_label
from metrics.periods import parse_period, period_end, period_start, shift
from metrics.scope import Scope


class BriefingError(RuntimeError):
    """A read the briefing depends on failed: the build stops rather than print "no anomalies".

    Only a table that does not exist (a store whose schema predates it) makes an empty section;
    an empty table reads as empty; any other failure of its query is this error, with the
    message in both languages.
    """


def _table_exists(store, schema: str, table: str) -> bool:
    return bool(store.query("reads.table_exists", schema=schema, table=table).value())


def _guarded(store, schema: str, table: str, what_zh: str, what_en: str, read, empty):
    """`read()`, or `empty()` when `schema.table` is absent; any failure of the read is a BriefingError."""
    if not _table_exists(store, schema, table):
        return empty()
    try:
        return read()
    except Exception as exc:  # noqa: BLE001 - re-raised with what failed, never swallowed
        # the first line of the database's message, without " / " (the zh/en separator of the whole)
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300].replace(" / ", "/")
        raise BriefingError(f"简报无法生成：读取{what_zh}（{schema}.{table}）失败：{detail} / the briefing cannot be "
                            f"built: reading {what_en} ({schema}.{table}) failed: {detail}") from exc


TREND_PERIODS = 12  # the period and the eleven before it: the cards' own sparkline (compute.card)
WORKERS = 3
GRAINS = (Grain.WEEK, Grain.MONTH, Grain.QUARTER)
_SEV = {"high": 0, "medium": 1, "low": 2}


def L(lang: str, zh: str, en: str) -> str:
    """Pick the text of the language."""
    return zh if lang == "zh" else en


# -- the content model ------------------------------------------------------------------------
@dataclass
class Paragraph:
    text: str
    style: str = "body"  # body | bullet | note | lead


@dataclass
class Subheading:
    text: str


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    widths: list[float]  # relative
    align: list[str]  # L | R | C per column
    tones: list[list[str | None]] = field(default_factory=list)  # per cell: good | bad | None
    caption: str | None = None


@dataclass
class Chart:
    title: str
    unit: str  # axis unit ("%", "亿元", "笔" …)
    x_labels: list[str]
    values: list[float | None]  # display units (rates ×100, amounts in 亿元 …)
    target: float | None = None  # display units
    marks: list[int] = field(default_factory=list)  # indices flagged as anomalies
    events: list[tuple[int, int]] = field(default_factory=list)  # (index, event number)
    last_text: str = ""  # the formatted current value


@dataclass
class ChartGrid:
    charts: list[Chart]
    legend: list[str] = field(default_factory=list)  # the numbered events


@dataclass
class AnomalyCard:
    title: str
    severity: str  # high | medium | low
    fields: list[tuple[str, str]]  # (label, text)
    contributors: Table | None = None


@dataclass
class DocSection:
    kind: SectionKind
    title: str
    items: list = field(default_factory=list)


@dataclass
class Document:
    lang: str
    title: str  # PDF metadata title, e.g. "BankPulse 经营简报 2025年9月 全行"
    heading: str  # "经营简报"
    bank: str
    period_label: str
    scope_label: str
    generated_at: datetime
    as_of: date | None
    cover_lines: list[tuple[str, str]]
    sections: list[DocSection]
    summary: list[str] = field(default_factory=list)

    def footer_context(self) -> str:
        return f"{self.period_label} · {self.scope_label}"


# -- the request ------------------------------------------------------------------------------
@dataclass(frozen=True)
class BriefingRequest:
    start: date
    grain: Grain
    scope: Scope
    scope_label_zh: str
    scope_label_en: str
    lang: str = "zh"
    spec: BriefingSpec = DEFAULT_SPEC
    generated_at: datetime | None = None
    options: tuple = ()

    @classmethod
    def parse(cls, store, period: str, scope: str = "all", lang: str = "zh", spec: BriefingSpec | None = None,
              **kw) -> BriefingRequest:
        start, grain = parse_period(period)
        if grain not in GRAINS:
            raise ValueError(f"简报期间须为周、月或季度（如 2025-W38、2025-09、2025-Q3） / the period must be a week, "
                             f"month or quarter (2025-W38, 2025-09, 2025-Q3): {period!r}")
        boundary = kw.pop("boundary", None)  # the reader's access boundary (data/users.py); None: whole bank
        sc, zh, en = parse_scope(store, scope, boundary)
        return cls(start, grain, sc, zh, en, lang if lang in ("zh", "en") else "zh", spec or DEFAULT_SPEC, **kw)

    @property
    def end(self) -> date:
        return period_end(self.start, self.grain)

    def scope_label(self, lang: str | None = None) -> str:
        return self.scope_label_zh if (lang or self.lang) == "zh" else self.scope_label_en


def _branches(store) -> pd.DataFrame:
    return store.query("reads.branch_master").df().rename(columns={"branch_name": "name"})


def parse_scope(store, text: str | None, boundary: frozenset[str] | None = None) -> tuple[Scope, str, str]:
    """'all' | 'region:NAME' | 'branch:ID' → (Scope, Chinese label, English label).

    With an access `boundary` (the reader's branch ids) the Scope carries it, so every number is
    restricted to it by the query layer; 'all' means the reader's own scope, and a region or branch
    outside it is refused (a region only when it lies wholly inside it).
    """
    if boundary is not None:
        sc, zh, en = parse_scope(store, text)
        b = _branches(store)
        inside = (sc.branch is None or sc.branch in boundary) and \
            (sc.region is None or set(b.loc[b["region"] == sc.region, "branch_id"]) <= boundary)
        if not inside:
            raise PermissionError(f"超出您的数据范围 / outside your data scope: {text!r}")
        if sc.region is None and sc.branch is None:
            zh, en = "授权范围", "Your scope"
        return replace(sc, branch_ids=boundary), zh, en
    s = (text or "all").strip()
    if s.lower() in ("", "all", "bank", "全行"):
        return Scope(), "全行", "Whole bank"
    kind, _, value = s.partition(":")
    value = value.strip()
    b = _branches(store)
    if kind.lower() == "region" and value:
        if value not in set(b["region"].dropna()):
            raise ValueError(f"没有这个区域 / unknown region {value!r}; one of: {', '.join(sorted(b['region'].dropna().unique()))}")
        return Scope(region=value), value, value
    if kind.lower() == "branch" and value:
        row = b[b["branch_id"] == value]
        if row.empty:
            raise ValueError(f"没有这个机构 / unknown branch id {value!r}")
        name = str(row.iloc[0]["name"])
        return Scope(branch=value), f"{name}（{value}）", f"{name} ({value})"
    raise ValueError(f"范围须为 all、region:区域名 或 branch:机构号 / scope must be all, region:NAME or branch:ID: {text!r}")


# -- helpers ----------------------------------------------------------------------------------
def _nan(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (not isinstance(v, str) and pd.isna(v))


def display_unit(metric: Metric, lang: str) -> tuple[float, str]:
    """(factor, axis unit) to show a KPI's values on a chart axis."""
    zh = lang == "zh"
    match metric.unit:
        case Unit.RATE:
            return 100.0, "%"
        case Unit.PERCENT:
            return 1.0, "%"
        case Unit.YUAN:
            return (1e-8, "亿元") if zh else (1e-9, "CNY bn")
        case Unit.COUNT:
            return 1.0, COUNT_WORD.get(metric.category.value, "笔") if zh else ""
        case Unit.MINUTES:
            return 1.0, "分钟" if zh else "min"
        case Unit.DAYS:
            return 1.0, "天" if zh else "days"
        case Unit.SCORE:
            return 1.0, "分" if zh else "points"
        case Unit.PER_10K:
            return 1.0, "件/万笔" if zh else "per 10k"
    return 1.0, ""


def short_label(p: date, grain: Grain) -> str:
    """Axis labels: 24-10 / W38 / 25Q3."""
    match grain:
        case Grain.WEEK:
            return f"W{p.isocalendar().week:02d}"
        case Grain.QUARTER:
            return f"{p.year % 100:02d}Q{(p.month - 1) // 3 + 1}"
        case _:
            return f"{p.year % 100:02d}-{p.month:02d}"


def enum_label(source: str, column: str, code, lang: str) -> str:
    """The Chinese label of an enum code (its first spelling), the code itself in English."""
    from data.sources import SOURCES

    if _nan(code):
        return "—"
    col = next((c for c in SOURCES[source].columns if c.name == column), None)
    spellings = (col.values or {}).get(code) if col is not None else None
    if lang == "zh" and spellings:
        zh = next((s for s in spellings if not s.isascii()), None)
        return zh or str(code)
    return str(code).replace("_", " ")


STATUS_TEXT = {"good": ("达标", "On target"), "bad": ("未达标", "Off target"), "none": ("—", "—")}
SEVERITY_TEXT = {"high": ("高", "High"), "medium": ("中", "Medium"), "low": ("低", "Low")}


# -- the builder ------------------------------------------------------------------------------
class _Builder:
    def __init__(self, store, req: BriefingRequest):
        self.store, self.req, self.lang = store, req, req.lang
        self.grain, self.scope = req.grain, req.scope
        self.options = dict(req.options) or None
        self.backend = store.ibis()
        self.branches = _branches(store)
        self.data_end = self._data_end()
        self.as_of = min(req.end, self.data_end) if self.data_end else req.end
        self.cards: dict[str, compute.Card] = {}
        self._anoms: pd.DataFrame | None = None
        self._events: pd.DataFrame | None = None

    def t(self, zh: str, en: str) -> str:
        return zh if self.lang == "zh" else en

    def _data_end(self) -> date | None:
        from metrics.summary import freshness

        f = freshness(self.store, self.scope)
        ds = [d for k, d in f.items() if d and k in ("counter_tickets", "loan_snapshot", "feedback_records")]
        return max(ds) if ds else None

    # -- bulk reads, in parallel ---------------------------------------------------------------
    def prefetch(self, step=lambda i, n: None) -> None:
        """The KPI cards every section needs, read in parallel; `step(i, n)` as each arrives."""
        spec = self.req.spec
        ids: list[str] = []
        for s in spec.sections:
            if s.kind in (SectionKind.SUMMARY, SectionKind.KPI_TABLE, SectionKind.MARKET, SectionKind.ACTIONS):
                ids += list(s.metrics)
        if spec.section(SectionKind.SUMMARY):
            ids += list(HEADLINE_IDS)
        trend = spec.section(SectionKind.TRENDS)
        # a trend chart is the card's sparkline (the period and the 11 before it): no extra query
        ids = list(dict.fromkeys(ids + (list(trend.metrics) if trend else [])))
        with ThreadPoolExecutor(WORKERS) as pool:
            cards = {pool.submit(compute.card, self.store, mid, self.grain, self.as_of, self.scope, self.options): mid
                     for mid in ids}
            for i, f in enumerate(as_completed(cards)):
                self.cards[cards[f]] = f.result()
                step(i + 1, len(cards))

    def card(self, mid: str) -> compute.Card:
        if mid not in self.cards:
            self.cards[mid] = compute.card(self.store, mid, self.grain, self.as_of, self.scope, self.options)
        return self.cards[mid]

    def current(self, mid: str) -> compute.Card | None:
        """The card when it is of the briefing's own period (else the KPI has no data for it)."""
        c = self.card(mid)
        return c if c.period == self.req.start and c.value is not None else None

    # -- anomalies -------------------------------------------------------------------------
    def anomalies(self) -> pd.DataFrame:
        """Anomalies of the period inside the scope (bank, its regions and branches), false alarms excluded."""
        if self._anoms is not None:
            return self._anoms
        from anomaly.store import AnomalyStore

        first = shift(self.req.start, self.grain, -(TREND_PERIODS - 1))

        def read() -> pd.DataFrame:
            # the reader's boundary in the query, before the limit (and again below, with the region rule)
            df = AnomalyStore(self.store).list(since=first, limit=100_000, boundary=self.scope.branch_ids)
            if not df.empty:
                df = df[df["status"] != "false_alarm"].copy()
                df["period"] = pd.to_datetime(df["period"]).dt.date
                df = df[df["period"] <= self.req.end]
                df = df[self._in_scope(df)]
                if self.scope.branch_ids is not None:  # only anomalies inside the reader's boundary
                    from data.users import visible_anomalies

                    df = visible_anomalies(df, self.scope.branch_ids, self.branches)
            return df

        # no anomaly table yet (never scanned): the section says there are none; a broken one stops the build
        df = _guarded(self.store, "ops", "anomalies", "异常", "the anomalies", read, pd.DataFrame)
        self._anoms = df.reset_index(drop=True)
        return self._anoms

    def _in_scope(self, df: pd.DataFrame) -> pd.Series:
        s = self.scope
        if s.branch:
            kids = set(self.branches.loc[self.branches["parent_id"] == s.branch, "branch_id"]) | {s.branch}
            return (df["scope_kind"] == "branch") & df["scope_value"].isin(kids)
        if s.region:
            ids = set(self.branches.loc[self.branches["region"] == s.region, "branch_id"])
            return ((df["scope_kind"] == "region") & (df["scope_value"] == s.region)) | \
                ((df["scope_kind"] == "branch") & df["scope_value"].isin(ids))
        return pd.Series(True, index=df.index)

    def own_scope(self) -> tuple[str, str]:
        s = self.scope
        if s.branch:
            return "branch", s.branch
        if s.region:
            return "region", s.region
        return "bank", ""

    def period_anomalies(self) -> pd.DataFrame:
        df = self.anomalies()
        if df.empty:
            return df
        df = df[df["period"] >= self.req.start].copy()
        df["_sev"] = df["severity"].map(_SEV).fillna(3)
        df["_own"] = (df["grain"] != self.grain.value).astype(int)
        df["_abs"] = -df["score"].abs()
        return df.sort_values(["_sev", "_own", "_abs", "metric_id"]).reset_index(drop=True)

    def events(self) -> pd.DataFrame:
        if self._events is None:
            from metrics.market_analysis import events

            first = shift(self.req.start, self.grain, -(TREND_PERIODS - 1))
            self._events = _guarded(
                self.store, "main", "market_events", "市场与政策事件", "the market events",
                lambda: events(self.backend, first, self.req.end),
                lambda: pd.DataFrame(columns=["event_date", "event_type", "title", "impact_area", "impact_direction"]))
        return self._events

    # -- sections --------------------------------------------------------------------------
    def cover(self) -> list[tuple[str, str]]:
        now = self.req.generated_at or datetime.now()
        t = self.t
        return [
            (t("机构", "Bank"), self.req.spec.bank(self.lang)),
            (t("范围", "Scope"), self.req.scope_label(self.lang)),
            (t("报告期", "Period"), f"{period_label(self.req.start, self.grain, self.lang)}"
                                    f"（{self.req.start.isoformat()} – {self.req.end.isoformat()}）"
             if self.lang == "zh" else f"{period_label(self.req.start, self.grain, 'en')} "
                                       f"({self.req.start.isoformat()} – {self.req.end.isoformat()})"),
            (t("数据截至", "Data as of"), self.as_of.isoformat() if self.data_end else "—"),
            (t("生成时间", "Generated"), now.strftime("%Y-%m-%d %H:%M")),
        ]

    def summary(self, section: Section) -> tuple[list, list[str]]:
        from metrics.summary import summary_sentences

        cards = {mid: self.card(mid) for mid in HEADLINE_IDS}
        kpi = summary_sentences(self.store, self.grain, self.as_of, self.scope, self.lang, self.options, cards=cards)
        extra = [s for s in (self._anomaly_sentence(), self._feedback_sentence()) if s]
        sentences = kpi[: max(3, 6 - len(extra))] + extra
        sentences = sentences[:6]
        if not sentences:
            return [Paragraph(self.t("本期没有可用数据。", "No data for this period."), "note")], []
        return [Paragraph(s, "bullet") for s in sentences], sentences

    def _anomaly_sentence(self) -> str | None:
        df = self.period_anomalies()
        if df.empty:
            return None
        n, high = len(df), int((df["severity"] == "high").sum())
        top = df.iloc[0]
        m = get_metric(top["metric_id"])
        cause = _cause(top, self.lang)
        label = top["scope_label"] if not _nan(top.get("scope_label")) else self.req.scope_label(self.lang)
        status = _status_label(top["status"], self.lang)
        if self.lang == "zh":
            s = f"本期共发现异常{n}个（其中高严重度{high}个），最突出的是{label}{m.name_zh}"
            s += f"（{fmt_value(m, top['observed'], 'zh')}，预期{fmt_value(m, top['expected'], 'zh')}）"
            s += f"，原因：{cause}" if cause else ""
            return s + f"，当前状态：{status}。"
        s = f"{n} anomalies flagged this period ({high} high severity); the most notable: {m.name_en} in {label} " \
            f"({fmt_value(m, top['observed'], 'en')} vs {fmt_value(m, top['expected'], 'en')} expected)"
        s += f", cause: {cause}" if cause else ""
        return s + f", status: {status}."

    def _feedback_sentence(self) -> str | None:
        if not self.req.spec.section(SectionKind.FEEDBACK):
            return None
        topics = self.topics()
        over = self.open_summary()
        parts = []
        if topics:
            names = "、".join(n for n, *_ in topics[:3]) if self.lang == "zh" else ", ".join(n for n, *_ in topics[:3])
            parts.append(self.t(f"投诉热点为{names}", f"complaint hot topics: {names}"))
        if over is not None:
            parts.append(self.t(f"截至{self.as_of.isoformat()}共有{over.overdue}件投诉超过办理时限未办结",
                                f"{over.overdue} open complaints were past their handling limit on {self.as_of.isoformat()}"))
        if not parts:
            return None
        text = "；".join(parts) + "。" if self.lang == "zh" else "; ".join(parts) + "."
        return text[0].upper() + text[1:]

    def kpi_table(self, section: Section) -> list:
        items: list = []
        t = self.t
        cols = [t("指标", "Indicator"), t("本期", "This period"), t("环比", "vs prev."), t("同比", "YoY"),
                t("目标", "Target"), t("状态", "Status")]
        missing = False
        for cat, ids in section.by_category().items():
            rows, tones = [], []
            for mid in ids:
                m, c = get_metric(mid), self.current(mid)
                if c is None:
                    missing = True
                    rows.append([m.name(self.lang), "—", "—", "—",
                                 fmt_value(m, m.target, self.lang) if m.target is not None else "—", "—"])
                    tones.append([None] * 6)
                    continue
                rows.append([m.name(self.lang), fmt_value(m, c.value, self.lang),
                             fmt_change(m, c.delta_prev, self.lang, verb=False),
                             fmt_change(m, c.delta_yoy, self.lang, verb=False),
                             fmt_value(m, c.target, self.lang) if c.target is not None else "—",
                             STATUS_TEXT[c.status][0 if self.lang == "zh" else 1]])
                tone_prev, tone_yoy = compute.tone(m, c.delta_prev), compute.tone(m, c.delta_yoy)
                tones.append([None, None, _t(tone_prev), _t(tone_yoy), None, _t(c.status)])
            zh, en = CATEGORY_LABELS[cat]
            items.append(Subheading(zh if self.lang == "zh" else en))
            items.append(Table(cols, rows, [3.2, 1.9, 1.9, 1.9, 1.4, 1.1], ["L", "R", "R", "R", "R", "C"], tones))
        note = t("环比、同比：比率类为百分点变化，利率类为基点变化，其余为增减幅度；绿色/红色表示变化有利/不利。",
                 "Changes: percentage points for ratios, basis points for rate levels, per cent otherwise; "
                 "green/red marks a favourable/unfavourable change.")
        if missing:
            note += t("“—”表示该期间暂无数据。", " “—”: no data for this period.")
        items.append(Paragraph(note, "note"))
        return items

    def trends(self, section: Section) -> list:
        ev = self.events()
        first = shift(self.req.start, self.grain, -(TREND_PERIODS - 1))
        pers = [shift(first, self.grain, i) for i in range(TREND_PERIODS)]
        idx = {p: i for i, p in enumerate(pers)}
        # the period's events, numbered in date order, shared by every chart
        numbered: list[tuple[int, int, pd.Series]] = []
        if not ev.empty:
            for n, (_, e) in enumerate(ev.sort_values(["event_date", "event_id"] if "event_id" in ev else "event_date")
                                       .iterrows(), 1):
                p = period_start(e["event_date"], self.grain)
                if p in idx:
                    numbered.append((idx[p], n, e))
        legend = [f"{_circled(n)} {e['event_date'].isoformat()} {e['title']}"
                  + (f"（{enum_label('market_events', 'event_type', e['event_type'], self.lang)}）" if self.lang == "zh"
                     else f" ({enum_label('market_events', 'event_type', e['event_type'], 'en')})")
                  for _, n, e in numbered]
        anoms = self.anomalies()
        kind, value = self.own_scope()
        items: list = []
        for cat, ids in section.by_category().items():
            charts = []
            for mid in ids:
                m = get_metric(mid)
                card = self.card(mid)
                factor, unit = display_unit(m, self.lang)
                vals: list[float | None] = [None] * len(pers)
                for p, v in zip(card.spark_periods, card.spark, strict=True):
                    if p in idx and not _nan(v):
                        vals[idx[p]] = float(v) * factor
                marks: list[int] = []
                if not anoms.empty:
                    a = anoms[(anoms["metric_id"] == mid) & (anoms["scope_kind"] == kind) & (anoms["scope_value"] == value)]
                    marks = sorted({idx[period_start(p, self.grain)] for p in a["period"]
                                    if period_start(p, self.grain) in idx})
                c = self.current(mid)
                charts.append(Chart(
                    title=m.name(self.lang), unit=unit, x_labels=[short_label(p, self.grain) for p in pers], values=vals,
                    target=m.target * factor if m.target is not None else None, marks=marks,
                    events=[(i, n) for i, n, _ in numbered],
                    last_text=fmt_value(m, c.value, self.lang) if c else "—"))
            zh, en = CATEGORY_LABELS[cat]
            items += [Subheading(zh if self.lang == "zh" else en), ChartGrid(charts)]
        note = self.t(f"近{TREND_PERIODS}期走势；红色圆点为异常期，虚线为目标，竖线编号为市场/政策事件。",
                      f"Last {TREND_PERIODS} periods; red dots mark anomalies, the dashed line the target, "
                      "numbered verticals market or policy events.")
        items.append(Paragraph(note, "note"))
        if legend:
            items.append(Paragraph(self.t("图中编号事件：", "Numbered events on the charts:"), "note"))
            items += [Paragraph(x, "note") for x in legend]
        return items

    def anomaly_items(self, section: Section) -> list:
        df = self.period_anomalies()
        t = self.t
        if df.empty:
            return [Paragraph(t("本期在该范围内未发现异常（或尚未进行异常扫描）。",
                                "No anomalies in this scope for the period (or no scan has run yet)."), "note")]
        n = section.limit or 8
        items: list = [Paragraph(t(f"本期共{len(df)}个异常，按严重度和偏离程度列出前{min(n, len(df))}个。",
                                   f"{len(df)} anomalies this period; the {min(n, len(df))} most severe are shown."),
                                 "lead")]
        for _, a in df.head(n).iterrows():
            items.append(self._anomaly_card(a))
        if len(df) > n:
            items.append(Subheading(t("其余异常", "Other anomalies")))
            rows, tones = [], []
            for _, a in df.iloc[n:].iterrows():
                m = get_metric(a["metric_id"])
                rows.append([_when(a, self.lang), str(a["scope_label"] or "—"), m.name(self.lang),
                             fmt_value(m, a["observed"], self.lang), fmt_value(m, a["expected"], self.lang),
                             SEVERITY_TEXT.get(a["severity"], ("—", "—"))[0 if self.lang == "zh" else 1],
                             _status_label(a["status"], self.lang)])
                tones.append([None] * 5 + ["bad" if a["severity"] == "high" else None, None])
            items.append(Table([t("期间", "Period"), t("范围", "Scope"), t("指标", "Indicator"), t("实际", "Observed"),
                                t("预期", "Expected"), t("严重度", "Severity"), t("状态", "Status")],
                               rows, [1.6, 2.0, 2.4, 1.5, 1.5, 0.9, 1.3], ["L", "L", "L", "R", "R", "C", "C"], tones))
        return items

    def _anomaly_card(self, a: pd.Series) -> AnomalyCard:
        m = get_metric(a["metric_id"])
        t, lang = self.t, self.lang
        scope = a["scope_label"] if not _nan(a.get("scope_label")) else t("全行", "Whole bank")
        title = f"{scope} · {m.name(lang)} · {_when(a, lang)}"
        band = f"{fmt_value(m, a['lower'], lang)} – {fmt_value(m, a['upper'], lang)}" if not _nan(a["lower"]) else "—"
        fields = [(t("实际 / 预期", "Observed / expected"),
                   f"{fmt_value(m, a['observed'], lang)} / {fmt_value(m, a['expected'], lang)}"
                   + t(f"（预期区间 {band}）", f" (expected band {band})")),
                  (t("说明", "Explanation"), str(a["sentence_zh" if lang == "zh" else "sentence_en"] or "—"))]
        cause = _cause(a, lang)
        evidence = _cause_json(a).get("evidence_zh" if lang == "zh" else "evidence_en")
        if cause or evidence:
            fields.append((t("原因", "Cause"), "；".join(x for x in (cause, evidence) if x) if lang == "zh"
                           else "; ".join(x for x in (cause, evidence) if x)))
        owner = a.get("owner_dept")
        fields.append((t("处理状态", "Triage"), _status_label(a["status"], lang)
                       + (t(f"，责任部门：{owner}", f", owner: {owner}") if not _nan(owner) and owner else
                          t("，尚未指定责任部门", ", no owner yet"))))
        return AnomalyCard(title, str(a["severity"]), fields, self._contributors(a, m))

    def _contributors(self, a: pd.Series, m: Metric) -> Table | None:
        top = _cause_json(a).get("top") or []
        if not top:
            return None
        t, lang = self.t, self.lang
        rows = []
        for c in top[:4]:
            dim = _DIM_LABELS.get(c.get("dimension"), (c.get("dimension"), c.get("dimension")))
            rows.append([dim[0] if lang == "zh" else dim[1], str(c.get("member")),
                         _pp(c.get("total_pp"), lang), _pct(c.get("share")),
                         f"{_pct(c.get('rate_before'))} → {_pct(c.get('rate_after'))}"])
        return Table([t("维度", "Dimension"), t("贡献最大成员", "Top member"), t("贡献", "Contribution"),
                      t("占变化", "Share"), t("比率变化", "Rate change")], rows,
                     [1.3, 2.6, 1.5, 1.1, 2.2], ["L", "L", "R", "R", "R"])

    # -- feedback ------------------------------------------------------------------------------
    def topics(self) -> list[tuple[str, int, int | None]]:
        """(topic name, complaints this period, previous period) — hot topics, largest first."""
        if hasattr(self, "_topics"):
            return self._topics
        out: list[tuple[str, int, int | None]] = []
        try:
            from metrics import topics as tp

            rep = tp.hot_topics(self.backend, shift(self.req.start, self.grain, -1), self.req.end, self.grain,
                                self.scope, prev_periods=1, top_n=3)
            tr = rep.trend
            if not tr.empty:
                cur = tr[tr["period"] == self.req.start]
                prev = tr[tr["period"] == shift(self.req.start, self.grain, -1)].set_index("topic")["count"]
                for _, r in cur.sort_values(["count", "topic"], ascending=[False, True]).iterrows():
                    if r["topic"] == tp.OTHER or r["count"] <= 0:
                        continue
                    out.append((tp.topic_name(r["topic"], self.lang), int(r["count"]),
                                int(prev[r["topic"]]) if r["topic"] in prev.index else None))
        except ImportError:  # pragma: no cover - topics not landed: complaint causes instead
            df = compute.series(self.store, "feedback.complaints", self.grain, self.req.start, self.req.end,
                                ("category",), self.scope)
            for _, r in df.sort_values("value", ascending=False).iterrows():
                out.append((str(r["category"]), int(r["value"]), None))
        self._topics = out
        return out

    def open_summary(self):
        if not hasattr(self, "_open"):
            from metrics.feedback_analysis import open_summary

            self._open = _guarded(self.store, "main", "feedback_records", "客户反馈", "the feedback records",
                                  lambda: open_summary(self.backend, self.as_of, self.scope, self.options),
                                  lambda: None)
        return self._open

    def feedback(self, section: Section) -> list:
        from metrics.feedback_analysis import open_cases

        t, lang = self.t, self.lang
        items: list = []
        prev_start = shift(self.req.start, self.grain, -1)
        vol = compute.series(self.store, "feedback.volume", self.grain, prev_start, self.req.end, ("channel",),
                             self.scope, self.options)
        m = get_metric("feedback.volume")
        items.append(Subheading(t("各渠道反馈量", "Feedback by channel")))
        if vol.empty:
            items.append(Paragraph(t("本期没有客户反馈。", "No feedback this period."), "note"))
        else:
            cur = vol[vol["period"] == self.req.start].set_index("channel")["value"]
            prev = vol[vol["period"] == prev_start].set_index("channel")["value"]
            rows = []
            for ch in cur.sort_values(ascending=False).index:
                d = compute.change(m, cur[ch], prev.get(ch))
                rows.append([enum_label("feedback_records", "channel", ch, lang), fmt_count(cur[ch]),
                             fmt_count(prev.get(ch)), fmt_change(m, d, lang, verb=False), _pct(cur[ch] / cur.sum(), 1)])
            rows.append([t("合计", "Total"), fmt_count(cur.sum()), fmt_count(prev.sum() if len(prev) else None),
                         fmt_change(m, compute.change(m, cur.sum(), prev.sum() if len(prev) else None), lang, verb=False),
                         "100.0%"])
            items.append(Table([t("渠道", "Channel"), t("本期", "This period"), t("上期", "Previous"), t("环比", "Change"),
                                t("占比", "Share")], rows, [2.6, 1.4, 1.4, 1.4, 1.2], ["L", "R", "R", "R", "R"]))
        items.append(Subheading(t("投诉热点", "Complaint hot topics")))
        tops = self.topics()
        if tops:
            total = sum(n for _, n, _ in tops) or 1
            rows = [[name, fmt_count(n), fmt_count(p), _pct(n / total, 1)] for name, n, p in tops[:8]]
            items.append(Table([t("热点问题", "Topic"), t("本期投诉", "Complaints"), t("上期", "Previous"),
                                t("占比", "Share")], rows, [3.0, 1.5, 1.5, 1.2], ["L", "R", "R", "R"]))
        else:
            items.append(Paragraph(t("本期没有投诉文本可供分析。", "No complaint texts this period."), "note"))
        items.append(Subheading(t("超时未办结投诉", "Cases past their limit")))
        over = self.open_summary()
        if over is None:
            items.append(Paragraph(t("没有投诉数据。", "No complaint data."), "note"))
            return items
        items.append(Paragraph(t(f"截至{self.as_of.isoformat()}，在办投诉{over.open}件，其中超过办理时限{over.overdue}件，"
                                 f"3天内到期{over.due_soon}件。",
                                 f"On {self.as_of.isoformat()}: {over.open} complaints open, {over.overdue} past their "
                                 f"handling limit, {over.due_soon} due within 3 days."), "body"))
        if over.overdue:
            cases = open_cases(self.backend, self.as_of, self.scope, self.options, limit=max(section.limit or 12, 1))
            cases = cases[cases["status_flag"] == "overdue"]
            rows = [[str(c["feedback_id"]), str(c["branch_name"] or c["branch_id"] or "—"),
                     pd.Timestamp(c["received_at"]).date().isoformat(),
                     enum_label("feedback_records", "channel", c["channel"], lang), str(c["cause_category"] or "—"),
                     str(c["handler_dept"] or "—"), t(f"{-int(c['days_left'])}天", f"{-int(c['days_left'])} d")]
                    for _, c in cases.iterrows()]
            items.append(Table([t("工单号", "Case"), t("网点", "Branch"), t("受理日期", "Received"), t("渠道", "Channel"),
                                t("投诉原因", "Cause"), t("承办部门", "Handler"), t("超期", "Overdue")], rows,
                               [1.7, 2.0, 1.5, 1.3, 2.2, 1.5, 0.9], ["L", "L", "L", "L", "L", "L", "R"],
                               [[None] * 6 + ["bad"] for _ in rows]))
            if over.overdue > len(rows):
                items.append(Paragraph(t(f"仅列出超期最久的{len(rows)}件（共{over.overdue}件）。",
                                         f"The {len(rows)} longest overdue of {over.overdue} are listed."), "note"))
        return items

    # -- market --------------------------------------------------------------------------------
    def market(self, section: Section) -> list:
        t, lang = self.t, self.lang
        items: list = [Subheading(t("市场指标", "Indicators"))]
        rows, tones = [], []
        for mid in section.metrics:
            m, c = get_metric(mid), self.card(mid)
            if c.value is None:
                continue
            rows.append([m.name(lang), fmt_value(m, c.value, lang), fmt_change(m, c.delta_prev, lang, verb=False),
                         fmt_change(m, c.delta_yoy, lang, verb=False)])
            tones.append([None] * 4)
        if rows:
            items.append(Table([t("指标", "Indicator"), t("期末值", "Level"), t("环比", "vs prev."), t("同比", "YoY")],
                               rows, [3.6, 1.4, 1.8, 1.8], ["L", "R", "R", "R"], tones))
        else:
            items.append(Paragraph(t("没有市场指标数据。", "No market indicators loaded."), "note"))
        items.append(Subheading(t("本期市场与政策事件", "Market and policy events this period")))
        ev = self.events()
        ev = ev[(ev["event_date"] >= self.req.start) & (ev["event_date"] <= self.req.end)] if not ev.empty else ev
        if ev.empty:
            items.append(Paragraph(t("本期没有记录的市场或政策事件。", "No market or policy events recorded this period."),
                                   "note"))
            return items
        rows = []
        for _, e in ev.head(section.limit or 10).iterrows():
            direction = {"+": t("利好", "positive"), "-": t("利空", "negative"), "0": t("中性", "neutral")}.get(
                e.get("impact_direction"), "—")
            rows.append([e["event_date"].isoformat(), enum_label("market_events", "event_type", e["event_type"], lang),
                         str(e["title"]), enum_label("market_events", "impact_area", e.get("impact_area"), lang), direction])
        items.append(Table([t("日期", "Date"), t("类别", "Type"), t("事件", "Event"), t("影响领域", "Impact area"),
                            t("方向", "Direction")], rows, [1.4, 1.3, 4.2, 1.4, 0.9], ["L", "L", "L", "L", "C"]))
        return items


# -- small formatting helpers ---------------------------------------------------------------------
_DIM_LABELS = {"approver": ("审批人", "Approver"), "loan_officer": ("客户经理", "Loan officer"),
               "cohort": ("放款批次", "Cohort"), "branch": ("机构", "Branch"), "segment": ("客户类型", "Segment"),
               "industry": ("行业", "Industry"), "product": ("贷款品种", "Product"), "region": ("区域", "Region")}


def _t(tone: str) -> str | None:
    return tone if tone in ("good", "bad") else None


def _circled(n: int) -> str:
    return f"[{n}]"


def _pct(v, digits: int = 1) -> str:
    return "—" if _nan(v) else f"{float(v) * 100:.{digits}f}%"


def _pp(v, lang: str) -> str:
    if _nan(v):
        return "—"
    return f"{float(v):+.2f}个百分点" if lang == "zh" else f"{float(v):+.2f} pp"


def _cause_json(a) -> dict:
    raw = a.get("cause_json")
    if _nan(raw) or not raw:
        return {}
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return {}


def _cause(a, lang: str) -> str | None:
    from anomaly.sentences import CAUSE_LABELS

    c = a.get("cause")
    if _nan(c) or not c:
        return None
    zh, en = CAUSE_LABELS.get(c, (c, c))
    return zh if lang == "zh" else en


def _status_label(status, lang: str) -> str:
    from anomaly.store import STATUS_LABELS

    zh, en = STATUS_LABELS.get(status, (str(status), str(status)))
    return zh if lang == "zh" else en


def _when(a, lang: str) -> str:
    p = a["period"]
    try:
        return period_label(p, Grain(a["grain"]), lang)
    except ValueError:
        return p.isoformat()


# -- entry point ----------------------------------------------------------------------------------
def build_document(store, req: BriefingRequest, progress: Progress | None = None) -> Document:
    """The whole briefing as data: cover, then the spec's sections in order. `progress`
    (data.progress) hears `BRIEFING_READ` and `BRIEFING_SECTIONS` of `data.progress.BRIEFING`
    (`build_pdf` adds the rendering and `done`)."""
    say = progress if isinstance(progress, Stages) else Stages(progress, BRIEFING)
    say.start(Stage.BRIEFING_READ)
    b = _Builder(store, req)
    starts = [compute.data_span(store, src)[0] for src in ("counter_tickets", "loan_snapshot", "feedback_records")]
    data_start = min((d for d in starts if d), default=None)
    if b.data_end is None or req.start > b.data_end or (data_start and req.end < data_start):
        raise ValueError(f"该期间没有数据（数据范围 {data_start or '—'} 至 {b.data_end or '—'}） / no data for this period "
                         f"(data from {data_start or '—'} to {b.data_end or '—'})")
    b.prefetch(say.sub(Stage.BRIEFING_READ))
    lang = req.lang
    spec = req.spec
    sections: list[DocSection] = []
    summary: list[str] = []
    say.start(Stage.BRIEFING_SECTIONS)
    for n, s in enumerate(spec.sections):
        match s.kind:
            case SectionKind.COVER:
                continue
            case SectionKind.SUMMARY:
                items, summary = b.summary(s)
            case SectionKind.KPI_TABLE:
                items = b.kpi_table(s)
            case SectionKind.TRENDS:
                items = b.trends(s)
            case SectionKind.ANOMALIES:
                items = b.anomaly_items(s)
            case SectionKind.FEEDBACK:
                items = b.feedback(s)
            case SectionKind.MARKET:
                items = b.market(s)
            case SectionKind.ACTIONS:
                from briefing.actions import items as action_items

                items = action_items(b, s)
            case SectionKind.SCORECARD:
                from briefing.scorecard import items as scorecard_items

                items = scorecard_items(b, s)
        sections.append(DocSection(s.kind, s.title(lang), items))
        say.part(Stage.BRIEFING_SECTIONS, n + 1, len(spec.sections))
    plabel = period_label(req.start, req.grain, lang)
    slabel = req.scope_label(lang)
    heading = spec.title(lang)
    return Document(lang=lang, title=f"BankPulse {heading} {plabel} {slabel}", heading=heading, bank=spec.bank(lang),
                    period_label=plabel, scope_label=slabel, generated_at=req.generated_at or datetime.now(),
                    as_of=b.as_of, cover_lines=b.cover(), sections=sections, summary=summary)


def check_reads(store, req: BriefingRequest) -> None:
    """Run the reads that may fail on a damaged store (anomalies, events, open complaints) the way
    the build does; raises BriefingError. The page calls it before offering the download, whose
    bytes are built off the script thread where a message cannot be shown."""
    b = _Builder(store, req)
    b.anomalies()
    b.events()
    b.open_summary()


def executive_summary(store, as_of: date, grain: Grain, scope: Scope, lang: str,
                      options: dict | None = None) -> list[str]:
    """The briefing's executive summary for the period holding `as_of` — the sentences the PDF
    prints, so the overview page can show exactly the same ones for its filters."""
    from metrics.periods import period_start

    req = BriefingRequest(start=period_start(as_of, grain), grain=grain, scope=scope,
                          scope_label_zh=scope.label("zh"), scope_label_en=scope.label("en"), lang=lang,
                          options=tuple(sorted((options or {}).items())))
    b = _Builder(store, req)
    b.prefetch()
    _, sentences = b.summary(req.spec.section(SectionKind.SUMMARY))
    return sentences
