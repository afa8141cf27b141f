"""Header rows: find them, match them to a source's columns, and read the units they carry.

Exports put titles above the header, spell columns in Chinese or English, full- or half-width,
with units in brackets (`贷款余额(万元)`, `等待时长（秒）`). A header is normalised (NFKC, no
spaces, lower-case ASCII, unit suffix split off and remembered) and looked up in an alias index
built from the source declarations.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache

from data.sources import SOURCES, WIDE_DATE_ALIASES, WIDE_INDICATORS, Source

# unit -> (dimension, factor relative to the dimension's base)
UNITS: dict[str, tuple[str, float]] = {
    "元": ("money", 1.0), "人民币元": ("money", 1.0), "千元": ("money", 1e3), "万元": ("money", 1e4),
    "百万元": ("money", 1e6), "亿元": ("money", 1e8), "万亿元": ("money", 1e12),
    "秒": ("time", 1.0), "s": ("time", 1.0), "sec": ("time", 1.0), "分钟": ("time", 60.0), "分": ("time", 60.0),
    "min": ("time", 60.0), "小时": ("time", 3600.0), "h": ("time", 3600.0), "天": ("time", 86400.0),
    "日": ("time", 86400.0), "%": ("percent", 1.0), "bp": ("bp", 1.0), "笔": ("count", 1.0),
    "个": ("count", 1.0), "次": ("count", 1.0), "人": ("count", 1.0),
}
_UNIT_SUFFIX = re.compile(r"^(?P<name>.*?)[(\[](?P<unit>[^()\[\]]+)[)\]]$")


@dataclass(frozen=True)
class HeaderName:
    """A header cell split into its normalised name and unit."""

    raw: str
    name: str
    unit: str | None


def normalise(cell: object) -> HeaderName:
    """Full-width to half-width, strip BOM/blanks/quotes, split off a known unit suffix."""
    raw = "" if cell is None else str(cell)
    s = unicodedata.normalize("NFKC", raw).replace("\ufeff", "")
    s = re.sub(r"\s+", "", s).strip("'\"：:*")
    unit = None
    m = _UNIT_SUFFIX.match(s)
    if m and m["unit"].strip().lower() in {u.lower() for u in UNITS}:
        unit = next(u for u in UNITS if u.lower() == m["unit"].strip().lower())
        s = m["name"]
    return HeaderName(raw, s.lower(), unit)


@cache
def _alias_index(source_name: str) -> dict[str, str]:
    """normalised spelling -> column name, for one source."""
    index: dict[str, str] = {}
    for col in SOURCES[source_name].columns:
        for spelling in col.all_names():
            index.setdefault(normalise(spelling).name, col.name)
    return index


@cache
def _wide_index() -> dict[str, str]:
    index = {}
    for code, (spellings, _name, _unit) in WIDE_INDICATORS.items():
        for sp in (code, *spellings):
            index[normalise(sp).name] = code
            index[normalise(sp + "利率").name] = code
    return index


@dataclass
class Mapping:
    """How one header row maps onto one source."""

    source: str
    columns: dict[str, int] = field(default_factory=dict)  # column -> position in the row
    units: dict[str, str] = field(default_factory=dict)  # column -> unit written in the header
    headers: dict[str, str] = field(default_factory=dict)  # column -> header as written
    duplicates: list[tuple[str, str, str]] = field(default_factory=list)  # (column, first, second)
    ignored: list[str] = field(default_factory=list)
    wide: dict[str, int] = field(default_factory=dict)  # indicator code -> position (wide files)

    @property
    def score(self) -> int:
        return len(self.columns) + len(self.wide)


def match(source: Source, header: list[object]) -> Mapping:
    """Map a header row onto `source`'s columns."""
    index = _alias_index(source.name)
    mp = Mapping(source.name)
    for pos, cell in enumerate(header):
        hn = normalise(cell)
        if not hn.name:
            continue
        col = index.get(hn.name)
        if col is None:
            mp.ignored.append(hn.raw)
        elif col in mp.columns:
            mp.duplicates.append((col, mp.headers[col], hn.raw))
        else:
            mp.columns[col] = pos
            mp.headers[col] = hn.raw
            if hn.unit:
                mp.units[col] = hn.unit
    return mp


def match_wide_market(header: list[object]) -> Mapping | None:
    """A wide indicator table (日期, LPR_1Y利率(%), LPR_5Y利率(%) / 日期, O/N, 1W …), or None."""
    names = [normalise(c) for c in header]
    date_aliases = {normalise(a).name for a in WIDE_DATE_ALIASES}
    date_pos = next((i for i, h in enumerate(names) if h.name in date_aliases), None)
    if date_pos is None:
        return None
    wide_index = _wide_index()
    mp = Mapping("market_indicators")
    for pos, h in enumerate(names):
        code = wide_index.get(h.name)
        if code and code not in mp.wide:
            mp.wide[code] = pos
            mp.headers[f"value:{code}"] = h.raw
        elif pos != date_pos and h.name:
            mp.ignored.append(h.raw)
    if not mp.wide:
        return None
    mp.columns["date"] = date_pos
    mp.headers["date"] = names[date_pos].raw
    return mp


def best_mapping(header: list[object], forced: str | None = None) -> tuple[Mapping | None, list[Mapping]]:
    """The best-matching source for a header row, and every candidate tied with it.

    The source with the most matched columns wins (missing required columns are then reported
    against it, rather than silently falling back to a source that happens to fit).
    """
    if forced:
        mp = match(SOURCES[forced], header)
        if forced == "market_indicators" and "value" not in mp.columns:
            wide = match_wide_market(header)
            if wide is not None:
                return wide, [wide]
        return mp, [mp]
    candidates = [match(s, header) for s in SOURCES.values()]
    long_market = next(m for m in candidates if m.source == "market_indicators")
    if "value" not in long_market.columns:
        wide = match_wide_market(header)
        if wide is not None:
            candidates = [m for m in candidates if m.source != "market_indicators"] + [wide]
    top = max(m.score for m in candidates)
    if top < 2:
        return None, []
    tied = [m for m in candidates if m.score == top]
    return (tied[0] if len(tied) == 1 else None), tied


def find_header_row(rows: list[list[object]], forced: str | None = None, look: int = 30) -> int | None:
    """Index of the header row among the first `look` rows (the best-matching one), or None."""
    best, best_score = None, 1
    for i, row in enumerate(rows[:look]):
        if sum(1 for c in row if c not in (None, "")) < 2:
            continue
        mp, tied = best_mapping(row, forced)
        score = max((m.score for m in tied), default=0)
        if score > best_score:
            best, best_score = i, score
    return best


def unit_factor(column_unit: str | None, header_unit: str | None) -> tuple[float, str | None]:
    """(factor to multiply values by, problem) for a header unit against the column's unit."""
    if not header_unit or not column_unit:
        return 1.0, None
    hd, hf = UNITS[header_unit]
    cd, cf = UNITS[column_unit]
    if hd != cd:
        return 1.0, f"{header_unit} ≠ {column_unit}"
    return hf / cf, None
