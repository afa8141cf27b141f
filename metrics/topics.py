"""Hot topics (热点问题) in complaint texts: a keyword rule layer plus jieba term statistics.

Plain Python, deterministic, no network. DOMAIN.md §1.4 gives the hot issues and their keyword
seeds; a description may hit several topics, and the source's own `hot_topic` column, when
filled, wins over the rules. jieba (default dictionary, loaded once per process, seeds added
as words) segments the texts to find each topic's frequent terms and the emerging terms — those
whose share of complaints in the last period rose most against the previous N periods.

Texts are the one place rows come to Python: `fetch_texts` reads only (period, branch_id,
description, hot_topic) of the complaints in the window, bounded by `limit` (a deterministic
hash sample beyond it, reported in `TopicReport.sampled`). Everything else is aggregated here.
"""

from __future__ import annotations

import functools
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from metrics import tables
from metrics.model import Grain
from metrics.scope import Scope

MAX_TEXTS = 50_000
OTHER = "other"


@dataclass(frozen=True)
class Topic:
    key: str
    name_zh: str
    name_en: str
    keywords: tuple[str, ...]  # DOMAIN.md §1.4 seeds (substring match on the raw text)
    patterns: tuple[str, ...] = ()  # a few regular expressions for variants the seeds miss

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


TOPICS: tuple[Topic, ...] = (
    Topic("wait", "等待时间过长", "Long waits", ("排队", "等了", "等候", "叫号", "窗口少", "人太多")),
    Topic("procedure", "手续繁琐", "Cumbersome procedures", ("手续", "繁琐", "材料", "证明", "跑了几趟", "流程复杂"),
          (r"跑了[一二两三四五六七八九十几多\d]+趟",)),
    Topic("attitude", "服务态度", "Staff attitude", ("态度", "不耐烦", "推诿")),
    Topic("fees", "收费", "Fees and charges", ("收费", "手续费", "年费", "扣费")),
    Topic("system", "系统故障", "System failures", ("系统", "故障", "宕机", "闪退", "无法登录")),
    Topic("collection", "催收", "Debt collection", ("催收", "骚扰")),
    Topic("privacy", "信息安全", "Information security", ("泄露", "个人信息")),
    Topic("marketing", "营销", "Mis-selling", ("误导", "捆绑", "搭售")),
)
TOPIC_BY_KEY = {t.key: t for t in TOPICS}
OTHER_NAMES = ("未归类", "Unclassified")

# Function words and words every complaint carries; kept small on purpose (the seeds stay terms).
STOP_WORDS = frozenset(["的", "了", "在", "是", "我", "你", "他", "她", "它", "们", "我们", "你们", "他们", "本人", "自己", "这", "那", "这个", "那个", "这样", "那样", "这里", "那里", "一个", "一下", "一些", "有", "没", "没有", "不", "也", "都", "就", "还", "又", "再", "才", "很", "太", "更", "最", "非常", "比较", "已经", "还是", "但是", "可是", "而且", "并且", "因为", "所以", "如果", "虽然", "然后", "之后", "以后", "以前", "之前", "时候", "现在", "今天", "昨天", "前天", "明天", "上午", "下午", "中午", "晚上", "早上", "当天", "每次", "一直", "一次", "多次", "和", "与", "及", "或", "或者", "被", "把", "让", "给", "对", "向", "从", "到", "为", "为了", "为什么", "什么", "怎么", "怎样", "如何", "多少", "几", "个", "次", "天", "号", "元", "要求", "希望", "请", "请求", "说", "问", "去", "来", "做", "要", "能", "会", "可以", "需要", "应该", "只能", "只好", "不能", "不会", "无法", "知道", "觉得", "认为", "表示", "发现", "情况", "问题", "事情", "时间", "地方", "方面", "工作", "人员", "工作人员", "客户", "银行", "网点", "支行", "分行", "营业部", "贵行", "你行", "该行", "业务", "办理", "先", "后", "走", "等", "好", "大", "小", "多", "少", "里", "上", "下", "中", "内", "外", "前", "后面", "前面", "没人", "有人", "还有", "其他", "另外", "一样", "左右", "今天上午", "今天下午", "一早", "小时", "分钟", "特别", "经常", "属于", "存在", "几天", "仍然", "其中", "只是", "结果", "一共", "总是", "始终", "到底"])
_CJK_OR_WORD = re.compile(r"[\u4e00-\u9fffA-Za-z]")
_NUMERIC = re.compile(r"^[\d０-９.．,，%％]+$")


# -- rule layer ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[str, tuple[str, ...], re.Pattern | None], ...]:
    return tuple((t.key, t.keywords, re.compile("|".join(t.patterns)) if t.patterns else None) for t in TOPICS)


def classify(text: str | None) -> list[str]:
    """The topic keys a description hits, in TOPICS order (several possible; [] when none)."""
    if not text:
        return []
    out = []
    for key, words, pattern in _compiled():
        if any(w in text for w in words) or (pattern is not None and pattern.search(text)):
            out.append(key)
    return out


def _lookup_hot_topic(value: str) -> str:
    """A source `hot_topic` label → our topic key when it names one (zh, en or key), else itself."""
    v = value.strip()
    for t in TOPICS:
        if v in (t.key, t.name_zh) or v.lower() == t.name_en.lower():
            return t.key
    return v


def topics_of(text: str | None, hot_topic: str | None = None) -> list[str]:
    """The topics of one complaint: the source's `hot_topic` when given (it wins), else the rules.

    A `hot_topic` cell may list several labels separated by 、 , ; / or |.
    """
    if hot_topic is not None and not (isinstance(hot_topic, float) and pd.isna(hot_topic)) and str(hot_topic).strip():
        labels = [p for p in re.split(r"[、,，;；/|]", str(hot_topic)) if p.strip()]
        out: list[str] = []
        for p in labels:
            k = _lookup_hot_topic(p)
            if k not in out:
                out.append(k)
        return out
    return classify(text)


def topic_name(key: str, lang: str = "zh") -> str:
    """Display name of a topic key (a source-provided label is shown as it is)."""
    if key == OTHER:
        return OTHER_NAMES[0] if lang == "zh" else OTHER_NAMES[1]
    t = TOPIC_BY_KEY.get(key)
    return t.name(lang) if t else key


# -- segmentation -------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def tokenizer():
    """jieba's default dictionary, loaded once per process (~1 s), with the seed keywords added."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.initialize()
    for t in TOPICS:
        for w in t.keywords:
            tk.add_word(w, freq=20_000)
    return tk


def is_term(word: str) -> bool:
    w = word.strip()
    return (len(w) >= 2 and w not in STOP_WORDS and not _NUMERIC.match(w)
            and _CJK_OR_WORD.search(w) is not None)


_BRANCH_SUFFIX = re.compile(r"(网点|营业部|支行|分行|分理处|储蓄所)$")


def name_pattern(names: Iterable[str] | None) -> re.Pattern | None:
    """A pattern for branch names (and their core without 网点/支行/…), to blank them out of texts:
    a branch's name says where, not what, and jieba splits it into noise (人民路 → 人民 / 路)."""
    forms: set[str] = set()
    for n in names or ():
        n = str(n or "").strip()
        if len(n) >= 2:
            forms.add(n)
            core = _BRANCH_SUFFIX.sub("", n)
            if len(core) >= 2 and core != n:
                forms.add(core)
    if not forms:
        return None
    return re.compile("|".join(re.escape(f) for f in sorted(forms, key=lambda f: (-len(f), f))))


def terms(text: str | None, names: re.Pattern | None = None) -> list[str]:
    """The distinct content terms of one text, in order of first appearance (branch names blanked)."""
    if not text:
        return []
    if names is not None:
        text = names.sub(" ", text)
    seen: dict[str, None] = {}
    for w in tokenizer().lcut(text):
        w = w.strip()
        if is_term(w) and w not in seen:
            seen[w] = None
    return list(seen)


# -- aggregation ----------------------------------------------------------------------------
@dataclass
class TopicReport:
    """Topic counts per period, frequent terms per topic, emerging terms; and how much was read."""

    trend: pd.DataFrame  # period, topic, count, share (of the period's complaints read)
    totals: pd.DataFrame  # period, complaints (texts read per period)
    top_terms: pd.DataFrame  # topic, rank, term, count, share (of the topic's complaints), seed
    emerging: pd.DataFrame  # term, topic, last_count, prev_avg, last_share, prev_share, lift
    n_texts: int = 0  # complaints read
    n_total: int = 0  # complaints in the window
    last_period: date | None = None
    prev_periods: list[date] = field(default_factory=list)

    @property
    def sampled(self) -> bool:
        return self.n_texts < self.n_total


def _empty_report(n_total: int = 0) -> TopicReport:
    return TopicReport(
        trend=pd.DataFrame({"period": pd.Series(dtype="object"), "topic": pd.Series(dtype="str"),
                            "count": pd.Series(dtype="int64"), "share": pd.Series(dtype="float64")}),
        totals=pd.DataFrame({"period": pd.Series(dtype="object"), "complaints": pd.Series(dtype="int64")}),
        top_terms=pd.DataFrame({c: pd.Series(dtype=d) for c, d in (
            ("topic", "str"), ("rank", "int64"), ("term", "str"), ("count", "int64"), ("share", "float64"),
            ("seed", "bool"))}),
        emerging=pd.DataFrame({c: pd.Series(dtype=d) for c, d in (
            ("term", "str"), ("topic", "str"), ("last_count", "int64"), ("prev_avg", "float64"),
            ("last_share", "float64"), ("prev_share", "float64"), ("lift", "float64"))}),
        n_total=n_total)


def analyse(rows: pd.DataFrame | Iterable[tuple], *, top_n: int = 10, prev_periods: int = 3,
            min_last: int = 3, emerging_n: int = 15, n_total: int | None = None,
            branch_names: Iterable[str] | None = None) -> TopicReport:
    """Topics and terms over complaint texts.

    `rows`: a frame with columns period, description and optionally hot_topic (branch_id is
    carried but unused here), or tuples (period, description[, hot_topic]).
    Emerging terms compare the share of complaints mentioning a term in the last period with its
    share over the previous `prev_periods` periods (smoothed: (c + 0.5) / (n + 1)); a term needs
    at least `min_last` mentions in the last period and a rise (lift > 1). `branch_names` are
    blanked out of the texts before segmentation (not before the rule layer).
    """
    if not isinstance(rows, pd.DataFrame):
        rows = list(rows)
        width = len(rows[0]) if rows else 2
        rows = pd.DataFrame(rows, columns=["period", "description", "hot_topic"][:width])
    if "hot_topic" not in rows.columns:
        rows = rows.assign(hot_topic=None)
    n_read = len(rows)
    if n_read == 0:
        return _empty_report(n_total or 0)

    seeds = {w for t in TOPICS for w in t.keywords}
    names = name_pattern(branch_names)
    per_period_docs: Counter = Counter()
    topic_period: Counter = Counter()
    topic_docs: Counter = Counter()
    topic_terms: dict[str, Counter] = defaultdict(Counter)
    term_period: dict[object, Counter] = defaultdict(Counter)
    term_topic: dict[str, Counter] = defaultdict(Counter)

    for period, text, hot in zip(rows["period"], rows["description"], rows["hot_topic"], strict=True):
        keys = topics_of(text, hot) or [OTHER]
        words = terms(text, names)
        per_period_docs[period] += 1
        for k in keys:
            topic_period[(period, k)] += 1
            topic_docs[k] += 1
            topic_terms[k].update(words)
        for w in words:
            term_period[period][w] += 1
            for k in keys:
                term_topic[w][k] += 1

    periods = sorted(per_period_docs)
    trend_rows = []
    topic_order = [t.key for t in TOPICS] + sorted({k for _, k in topic_period} - set(TOPIC_BY_KEY) - {OTHER}) + [OTHER]
    for p in periods:
        for k in topic_order:
            c = topic_period.get((p, k), 0)
            if c or topic_docs.get(k):
                trend_rows.append((p, k, c, c / per_period_docs[p]))
    trend = pd.DataFrame(trend_rows, columns=["period", "topic", "count", "share"])
    totals = pd.DataFrame([(p, per_period_docs[p]) for p in periods], columns=["period", "complaints"])

    top_rows = []
    for k in topic_order:
        if not topic_docs.get(k):
            continue
        ranked = sorted(topic_terms[k].items(), key=lambda kv: (-kv[1], kv[0]))[:top_n]
        for i, (w, c) in enumerate(ranked, 1):
            top_rows.append((k, i, w, c, c / topic_docs[k], w in seeds))
    top_terms = pd.DataFrame(top_rows, columns=["topic", "rank", "term", "count", "share", "seed"])

    emerging = _emerging(periods, per_period_docs, term_period, term_topic, prev_periods, min_last, emerging_n)
    rep = TopicReport(trend=trend, totals=totals, top_terms=top_terms, emerging=emerging, n_texts=n_read,
                      n_total=max(n_total or 0, n_read), last_period=periods[-1],
                      prev_periods=periods[-1 - prev_periods:-1] if len(periods) > 1 else [])
    return rep


def _emerging(periods: Sequence, docs: Counter, term_period: dict, term_topic: dict, prev_n: int, min_last: int,
              limit: int) -> pd.DataFrame:
    cols = ["term", "topic", "last_count", "prev_avg", "last_share", "prev_share", "lift"]
    if len(periods) < 2:
        return pd.DataFrame(columns=cols)
    last, prev = periods[-1], list(periods[-1 - prev_n:-1])
    n_last = docs[last]
    n_prev = sum(docs[p] for p in prev)
    out = []
    for w, c_last in term_period[last].items():
        if c_last < min_last:
            continue
        c_prev = sum(term_period[p].get(w, 0) for p in prev)
        s_last = (c_last + 0.5) / (n_last + 1)
        s_prev = (c_prev + 0.5) / (n_prev + 1)
        lift = s_last / s_prev
        if lift <= 1:
            continue
        topic = sorted(term_topic[w].items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        out.append((w, topic, c_last, c_prev / len(prev), c_last / n_last, c_prev / n_prev if n_prev else 0.0,
                    round(lift, 6)))
    out.sort(key=lambda r: (-r[6], -r[2], r[0]))
    return pd.DataFrame(out[:limit], columns=cols)


# -- reading the texts ------------------------------------------------------------------------
def fetch_texts(backend, start: date, end: date, grain: Grain, scope: Scope, *,
                limit: int = MAX_TEXTS) -> tuple[pd.DataFrame, int]:
    """(period, branch_id, description, hot_topic) of the window's complaints with a text, and how
    many there are. Scoped through `tables.scoped`; beyond `limit` a deterministic sample (the
    rows with the smallest hash of their case id) is read."""
    t = tables.scoped(backend, "feedback_records", scope)
    day = t.received_at.cast("date")
    t = t.filter((t.feedback_kind == "complaint") & (day >= start) & (day <= end) & t.description.notnull())
    total = int(t.count().execute())
    sel = t.select(period=t.received_at.truncate(grain.ibis_unit).cast("date"), branch_id=t.branch_id,
                   description=t.description, hot_topic=t.hot_topic, _id=t.feedback_id)
    if total > limit:
        sel = sel.order_by([sel._id.hash(), sel._id]).limit(limit)
    df = sel.execute()
    df = df.sort_values(["period", "_id"], kind="stable").drop(columns="_id").reset_index(drop=True)
    df["period"] = pd.to_datetime(df["period"]).dt.date
    return df, total


def hot_topics(backend, start: date, end: date, grain: Grain, scope: Scope, *, limit: int = MAX_TEXTS,
               prev_periods: int = 3, top_n: int = 10) -> TopicReport:
    """`fetch_texts` + `analyse`: the hot-topic report of a window."""
    rows, total = fetch_texts(backend, start, end, grain, scope, limit=limit)
    b = backend.table("branches")
    names = [] if rows.empty else list(b.select(b.branch_name).distinct().execute()["branch_name"].dropna())
    return analyse(rows, top_n=top_n, prev_periods=prev_periods, n_total=total, branch_names=sorted(names))


def topic_frame(rep: TopicReport, lang: str) -> pd.DataFrame:
    """One row per topic: name, complaints, share of complaints read, per-period counts (oldest first)."""
    if rep.trend.empty:
        return pd.DataFrame(columns=["topic", "name", "complaints", "share", "trend", "terms"])
    periods = list(rep.totals["period"])
    total = int(rep.totals["complaints"].sum())
    rows = []
    for k, g in rep.trend.groupby("topic", sort=False):
        counts = dict(zip(g["period"], g["count"], strict=True))
        n = int(g["count"].sum())
        words = rep.top_terms[rep.top_terms["topic"] == k]
        rows.append((k, topic_name(k, lang), n, n / total if total else None,
                     [int(counts.get(p, 0)) for p in periods],
                     "、".join(f"{w}({c})" for w, c in zip(words["term"], words["count"], strict=True))))
    df = pd.DataFrame(rows, columns=["topic", "name", "complaints", "share", "trend", "terms"])
    others = df["topic"] == OTHER
    return pd.concat([df[~others].sort_values(["complaints", "topic"], ascending=[False, True]), df[others]],
                     ignore_index=True)
