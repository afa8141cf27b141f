"""Generic detection on a long table: `date,<key columns...>,value[,denominator][,kind]`.

`date` (or `timestamp`, NAB's name for it) may carry a time (intraday series) and an offset
(`…+08:00`, `…Z`); kind is one of count/rate/amount/duration and is inferred when absent; for a rate,
value is the fraction and denominator its base count. The series id is the key column values
joined by "/". Output `{series_id: [flagged timestamps]}` — the format bench/score.py reads — plus
what was done to the input under `_input` (see `Prepared.facts`).

Real files are not clean grids, so before detection each series is checked and put on a time axis:
* a repeated (series, timestamp) refuses the file, every one listed with its lines, unless the
  caller chose a `Resolve` rule (`--on-duplicate`);
* timestamps with an offset are converted to Asia/Shanghai (the bank's zone, no daylight saving,
  so a regular series stays regular); a series mixing timestamps with and without an offset is
  refused with the lines that differ from its first row;
* the step is the median spacing; a series whose points each fall on their own step of the grid
  is detected on that grid, missing steps as unknown (NaN) points — the detectors' windows count
  points, so a gap left out would stretch a "day" of points over more than a day; a series where
  points would share a step is detected on its own timestamps (see `time_axis`).
Flags are written as the row they fall on was written (its own offset), so a scorer matching the
input's timestamps finds them.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd

from anomaly.base import Controls, Flag, Freq, Kind, SeriesError, SeriesInput, infer_kind
from anomaly.ensemble import detect

RESERVED = ("date", "value", "denominator", "kind")
ALIASES = {"timestamp": "date"}  # NAB and most monitoring exports call the time column `timestamp`
LINE, SID, OFFSET, ZULU = "__line__", "__series__", "__offset__", "__zulu__"  # internal columns
INTERNAL = (LINE, SID, OFFSET, ZULU)
EXPECTED = "date,<key columns…>,value[,denominator][,kind]"
SHOWN = 20  # problems listed in the message (all are counted)
ZONE = "Asia/Shanghai"  # timestamps with an offset are converted to the bank's zone
_OFFSET = re.compile(r"\d:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)


class Resolve(StrEnum):
    """What to do with rows that repeat a (series, timestamp); no rule: refuse the file."""

    FIRST = "first"  # the row that comes first in the file
    LAST = "last"  # the row that comes last in the file
    SUM = "sum"  # values added; a rate with a denominator: numerators and denominators added
    MEAN = "mean"  # values averaged; a rate with a denominator: weighted by it


class LongInputError(SeriesError):
    """A long table that cannot be read: every problem found, each with its row and column."""

    def __init__(self, name: str, problems: list[str], hint: str = ""):
        self.name, self.problems = name, problems
        more = f"\n  … 另有 {len(problems) - SHOWN} 处 / {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        super().__init__(f"{name}: {len(problems)} 处问题 / {len(problems)} problem(s) "
                         f"(应为 / expected {EXPECTED}):\n  " + "\n  ".join(problems[:SHOWN]) + more
                         + (f"\n{hint}" if hint else ""))


DUPLICATE_HINT = ("同一序列同一时间出现多行：用 --on-duplicate first|last|sum|mean 指定如何合并 / "
                  "repeated timestamps: choose how to resolve them with --on-duplicate first|last|sum|mean")


def read_long(path_or_frame, on_duplicate: Resolve | str | None = None, series_id: str | None = None
              ) -> pd.DataFrame:
    """The table with `date` parsed (to Asia/Shanghai wall time where an offset is given) and the
    numbers as floats; refuses it, listing every problem (row as in the file, column, the cell as
    written), when a column is missing, a date is not a date, a number is not a number, a kind is
    not one of count/rate/amount/duration, a series mixes timestamps with and without an offset,
    or — without an `on_duplicate` rule — a series repeats a timestamp. Empty value cells are
    allowed: an unknown point, not a zero. With a rule the repeats are merged (`resolve`) and
    listed per series in `attrs["resolved"]`. `series_id` names the one series of a table without
    key columns (default `series`)."""
    df, problems, name = _parse(path_or_frame, series_id)
    rule = Resolve(on_duplicate) if on_duplicate is not None else None
    dups = duplicates(df)
    if rule is None:
        problems += [(d.lines[0], d.message()) for d in dups]
    if problems:  # in file order (a stable sort keeps the columns' order within a row)
        raise LongInputError(name, [msg for _, msg in sorted(problems, key=lambda p: p[0])],
                             DUPLICATE_HINT if dups and rule is None else "")
    if dups and rule in (Resolve.SUM, Resolve.MEAN):
        df = _pin_kinds(df, {d.series_id for d in dups})
    out = resolve(df, dups, rule, name) if dups else df
    out.attrs["name"] = name
    out.attrs["resolved"] = _Uncopied({sid: [d for d in dups if d.series_id == sid]
                                       for sid in {d.series_id for d in dups}})
    out.attrs["rule"] = rule.value if rule else None
    return out


class _Uncopied(dict):
    """A dict in `DataFrame.attrs` that pandas does not deep-copy on each operation (it does for
    attrs): the repeats of a file can be many, and they are only read, never changed."""

    def __deepcopy__(self, memo):
        return self


def _pin_kinds(df: pd.DataFrame, sids: set[str]) -> pd.DataFrame:
    """The kind of each series about to be summed or averaged, inferred from its rows as written:
    a mean of two counts need not be whole, and must not turn the series into an amount."""
    df = df.copy()
    if "kind" not in df:
        df["kind"] = pd.Series(pd.NA, index=df.index, dtype="string")
    for sid in sids:
        rows = df[SID].eq(sid).to_numpy()
        if df.loc[rows, "kind"].isna().all():
            den = "denominator" in df and df.loc[rows, "denominator"].notna().any()
            df.loc[rows, "kind"] = infer_kind(df.loc[rows, "value"].to_numpy(float), bool(den)).value
    return df


def _parse(path_or_frame, series_id: str | None = None) -> tuple[pd.DataFrame, list[tuple[int, str]], str]:
    """Cells to typed columns, with every problem found (line, message). Adds the internal columns:
    each row's line, series id, offset in minutes (NaN: none written) and whether it was `Z`."""
    frame = isinstance(path_or_frame, pd.DataFrame)
    name = "table" if frame else Path(path_or_frame).name
    df = path_or_frame.copy() if frame else _read_csv(Path(path_or_frame), name)
    df.columns = [str(c).strip() for c in df.columns]
    if "date" not in df.columns and "timestamp" in df.columns:
        df = df.rename(columns=ALIASES)
    bad_cols = [f"列名保留给内部使用 / reserved column name: {c}" for c in df.columns if c in INTERNAL]
    if {"date", "timestamp"} <= set(df.columns):
        bad_cols.append("date 与 timestamp 只能有一列 / give the time as date or as timestamp, not both")
    missing = [f"缺少列 / missing column: {c}" for c in ("date", "value") if c not in df.columns]
    if bad_cols or missing:
        raise LongInputError(name, bad_cols + missing)
    problems: list[tuple[int, str]] = []
    # each row's line in the file; a frame handed in directly: its header counts as line 1
    row = pd.Index(df.attrs.get("lines") or range(2, len(df) + 2))
    text = df["date"].astype("string").str.strip()
    when, offset, zulu = parse_times(text)
    for r, v in zip(row[when.isna().to_numpy()], text[when.isna()], strict=True):
        problems.append((r, f"第 {r} 行 date 列 / row {r}, column date: {v!r} 不是日期 / is not a date "
                            "(2025-01-03 或 / or 2025-01-03 08:00 或 / or 2025-01-03T08:00:00+08:00)"))
    out = df.assign(date=when)
    for col in [c for c in ("value", "denominator") if c in df.columns]:
        raw = df[col].astype("string").str.strip()
        num = pd.to_numeric(raw.replace("", pd.NA), errors="coerce")
        bad = num.isna() & raw.fillna("").ne("")
        for r, v in zip(row[bad.to_numpy()], raw[bad], strict=True):
            problems.append((r, f"第 {r} 行 {col} 列 / row {r}, column {col}: {v!r} 不是数值 / is not a number"))
        out[col] = num.astype(float)
    if "kind" in df.columns:
        kinds = df["kind"].astype("string").str.strip().str.lower()
        bad = kinds.fillna("").ne("") & ~kinds.isin([k.value for k in Kind])
        for r, v in zip(row[bad.to_numpy()], df["kind"][bad], strict=True):
            problems.append((r, f"第 {r} 行 kind 列 / row {r}, column kind: {v!r} 应为 / should be "
                                + "/".join(k.value for k in Kind)))
        out["kind"] = kinds.replace("", pd.NA)
    keys = key_columns(out)
    if keys and series_id is not None:
        raise LongInputError(name, [f"有键列 {', '.join(keys)} 时不能指定 --series-id / --series-id is only for a file "
                                    f"without key columns; this one has {', '.join(keys)}"])
    if keys:  # one vectorised join: a row-wise apply costs seconds on a bank-sized export
        out[SID] = out[keys[0]].astype(str).str.cat([out[k].astype(str) for k in keys[1:]], sep="/")
    else:
        out[SID] = series_id or "series"
    out[LINE], out[OFFSET], out[ZULU] = row.to_numpy(), offset, zulu
    out.attrs = {}  # pandas deep-copies attrs on every operation: the lines are a column now
    problems += mixed_zones(out[when.notna().to_numpy()], text)
    return out, problems, name


def parse_times(text: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Dates as naive Timestamps (NaT: not a date), each row's written offset in minutes (NaN: none)
    and whether it was written `Z`. A timestamp with an offset becomes Asia/Shanghai wall time."""
    found = text.fillna("").str.extract(_OFFSET, expand=False)
    aware = found.notna().to_numpy()
    when = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    if (~aware).any():
        when[~aware] = _naive(text[~aware])
    offset = np.full(len(text), np.nan)
    if aware.any():
        utc = pd.to_datetime(text[aware], format="mixed", utc=True, errors="coerce")
        when[aware] = utc.dt.tz_convert(ZONE).dt.tz_localize(None).astype("datetime64[us]")
        offset[aware] = [_minutes(s) for s in found[aware]]
    zulu = found.fillna("").str.upper().eq("Z").to_numpy()
    return when, offset, zulu


def _naive(text: pd.Series) -> pd.Series:
    """Cells without an offset we recognise as dates; one pandas reads as in some other zone (a
    zone name) is not a date we can place: NaT, reported with its line."""
    try:
        out = pd.to_datetime(text, format="mixed", errors="coerce")
        if getattr(out.dt, "tz", None) is None:
            return out.astype("datetime64[us]")
    except (ValueError, TypeError):
        pass
    one = [pd.to_datetime(t, errors="coerce") if pd.notna(t) else pd.NaT for t in text]
    return pd.Series([pd.NaT if pd.isna(t) or t.tzinfo is not None else t for t in one], index=text.index,
                     dtype="datetime64[us]")


def _minutes(s: str) -> float:
    if s.upper() in ("Z", "UTC", "GMT"):
        return 0.0
    digits = s[1:].replace(":", "")
    m = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0)
    return float(m if s[0] == "+" else -m)


def key_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c not in RESERVED and c not in INTERNAL]


def mixed_zones(df: pd.DataFrame, text: pd.Series) -> list[tuple[int, str]]:
    """A series whose timestamps are partly with and partly without an offset cannot be put on one
    clock: every row that differs from its series' first row (in file order) is a problem."""
    aware = df[OFFSET].notna()
    first = aware.groupby(df[SID]).transform("first")
    first_line = df[LINE].groupby(df[SID]).transform("first")
    out = []
    for i in df.index[(aware != first).to_numpy()]:
        r, sid, f = int(df.at[i, LINE]), df.at[i, SID], int(first_line[i])
        zh, en = ("有时区，而", "has an offset, but") if aware[i] else ("没有时区，而", "has no offset, but")
        zh2, en2 = ("没有", "has none") if aware[i] else ("有", "has one")
        out.append((r, f"第 {r} 行 date 列 / row {r}, column date: {text[i]!r} {zh}序列 {sid} 的首行（第 {f} 行）{zh2} / "
                       f"{en} series {sid}'s first row (line {f}) {en2}"))
    return out


@dataclass(frozen=True)
class Duplicate:
    """One (series, timestamp) written on more than one row: the lines, in file order."""

    series_id: str
    timestamp: str  # as written on the first of its lines
    lines: tuple[int, ...]

    def message(self) -> str:
        zh = "、".join(str(n) for n in self.lines)
        en = ", ".join(str(n) for n in self.lines[:-1]) + f" and {self.lines[-1]}"
        return (f"序列 {self.series_id}：{self.timestamp} 出现在第 {zh} 行 / "
                f"series {self.series_id}: {self.timestamp} appears on lines {en}")


def duplicates(df: pd.DataFrame) -> list[Duplicate]:
    """Every (series, timestamp) on more than one row (rows without a date are not counted)."""
    ok = df[df["date"].notna()]
    rep = ok[ok.duplicated([SID, "date"], keep=False)].sort_values(LINE)
    return [Duplicate(str(sid), _as_written(g.iloc[0]), tuple(int(n) for n in g[LINE]))
            for (sid, _), g in rep.groupby([SID, "date"], sort=True)]


def resolve(df: pd.DataFrame, dups: list[Duplicate], rule: Resolve | None, name: str) -> pd.DataFrame:
    """One row per (series, timestamp) by `rule`, kept at the first repeated row's place.
    first / last: that row as it is. sum: values added; for a rate with a denominator the
    numerators (value × denominator) and the denominators are added, the rate is their quotient.
    mean: values averaged over the known ones; for a rate with a denominator weighted by it (the
    same quotient) with the mean denominator. A sum with an unknown part is unknown. A rate
    without a denominator cannot be summed (the result would not be a fraction)."""
    if rule is None:
        raise LongInputError(name, [d.message() for d in dups], DUPLICATE_HINT)
    key = [SID, "date"]
    dup = df.duplicated(key, keep=False) & df["date"].notna()
    if rule is Resolve.SUM and "kind" in df:
        bad = dup & df["kind"].eq("rate").fillna(False).to_numpy()
        bad &= df["value"].notna().to_numpy()  # an unknown part makes the total unknown, not wrong
        if "denominator" in df:
            bad &= df["denominator"].isna().to_numpy()
        if bad.any():
            sids = sorted(set(df.loc[bad, SID]))
            raise LongInputError(name, [f"序列 {s}：比率没有分母不能相加，请用 mean、first 或 last / series {s}: "
                                        "a rate without its denominator cannot be summed; use mean, first or last"
                                        for s in sids])
    rep = df[dup].sort_values(LINE)
    g = rep.groupby(key, sort=False)
    kept = g.nth(-1 if rule is Resolve.LAST else 0)
    if rule in (Resolve.SUM, Resolve.MEAN):
        kept = kept.set_index(key)  # (series, date), in the order of the first repeated rows
        v = g["value"]
        value = v.sum(min_count=1) if rule is Resolve.SUM else v.mean()
        if "denominator" in rep and rep["denominator"].notna().any():
            d = g["denominator"]
            num = (rep["value"] * rep["denominator"]).groupby([rep[SID], rep["date"]], sort=False).sum(min_count=1)
            value = (num / d.sum(min_count=1)).where(d.count() > 0, value)
            total = d.sum(min_count=1).where(d.count() == d.size())  # a base with an unknown part is unknown
            kept["denominator"] = (total if rule is Resolve.SUM else d.mean()).reindex(kept.index)
        if rule is Resolve.SUM:  # an unknown part makes the total unknown
            value = value.where(v.count() == v.size())
        kept["value"] = value.reindex(kept.index)
        kept = kept.reset_index()
    out = pd.concat([df[~dup], kept[list(df.columns)]]).sort_values(LINE, kind="stable")
    return out.reset_index(drop=True)


def _as_written(row: pd.Series, freq: Freq | None = None) -> str:
    """A row's timestamp in its own convention: without an offset as before (a date alone for a
    daily point at midnight), with one as ISO in that offset (`Z` kept)."""
    return label(pd.Timestamp(row["date"]), row[OFFSET], bool(row[ZULU]), freq or Freq.DAILY)


def label(t: pd.Timestamp, offset: float, zulu: bool, freq: Freq) -> str:
    """`t` (naive; Asia/Shanghai wall time when `offset` is given) as its row wrote it: no offset →
    `fmt_ts`; an offset in minutes → ISO 8601 in that offset, `Z` when the row wrote `Z`."""
    if pd.isna(offset):
        return fmt_ts(t, freq)
    wall = t.tz_localize(ZONE, ambiguous=True).tz_convert(dt.timezone(dt.timedelta(minutes=float(offset))))
    return wall.strftime("%Y-%m-%dT%H:%M:%S") + _offset_text(offset, zulu)


def _offset_text(offset: float, zulu: bool) -> str:
    m = int(abs(offset))
    return "Z" if zulu else f"{'+' if offset >= 0 else '-'}{m // 60:02d}:{m % 60:02d}"


class Grid(StrEnum):
    """How a series' time axis was built."""

    REGULAR = "regular"  # each point on its own step (moved there if off it), missing steps NaN
    MONTHLY = "monthly"  # calendar month starts (or ends), missing months NaN
    IRREGULAR = "irregular"  # points would share a step: detected on their own timestamps
    SINGLE = "single"  # fewer than two points: no step


MAX_FILL = 10  # a grid may hold at most this many steps per point (a stray old row is no reason for millions)


@dataclass(frozen=True)
class Axis:
    """The time axis a series is detected on, and what it took to get there.

    `at`: each row's position on `index` (see `Grid` and `time_axis`).
    """

    index: pd.DatetimeIndex
    at: np.ndarray
    grid: Grid
    step: pd.Timedelta | None  # None: a calendar month
    missing: int = 0  # steps without a point
    gaps: int = 0  # runs of missing steps
    off_grid: int = 0  # points not exactly on a step of the grid
    max_shift: pd.Timedelta = pd.Timedelta(0)  # the farthest a point was moved onto the grid
    sharing: int = 0  # points that would share a step with another (irregular series)


def time_axis(t: pd.DatetimeIndex) -> Axis:
    """Infer a sorted, unique series' step (the median spacing, as `SeriesInput.step`) and its grid.

    The grid is anchored at the most common phase of the points against the step, so one odd first
    point does not put every other point off the grid. When each point has a step of its own
    (the nearest is never more than half a step away), the series is detected on the grid: the
    points moved to their step, missing steps unknown — the detectors' windows count points, and
    on a grid a day of points is a day. When two points would share a step, moving them would
    merge or drop readings: the series is detected on its own timestamps, its gaps still counted.
    """
    n = len(t)
    if n < 2:
        return Axis(t, np.arange(n), Grid.SINGLE, None)
    ns = t.as_unit("ns").asi8
    d = np.diff(ns)
    if (t == t.normalize()).all() and 28 <= float(np.median(d)) / pd.Timedelta(days=1).value <= 31:
        for freq, on in (("MS", t.is_month_start), ("ME", t.is_month_end)):
            if on.all():
                full = pd.date_range(t[0], t[-1], freq=freq).as_unit(t.unit)
                at = full.get_indexer(t)
                return Axis(full, at, Grid.MONTHLY, None, len(full) - n, int((np.diff(at) > 1).sum()))
    step = int(np.median(d))
    vals, counts = np.unique((ns - ns[0]) % step, return_counts=True)
    phase = int(vals[np.argmax(counts)])
    anchor = ns[0] + (phase - step if phase > step / 2 else phase)
    slot = np.rint((ns - anchor) / step).astype(np.int64)
    shift = np.abs((ns - anchor) - slot * step)
    off, moved = int((shift > 0).sum()), pd.Timedelta(int(shift.max()), "ns")
    sharing = int(n - len(np.unique(slot)))
    size = int(slot[-1] - slot[0] + 1)
    if not sharing and size <= MAX_FILL * n:
        steps = np.arange(slot[0], slot[-1] + 1)
        index = pd.DatetimeIndex((anchor + steps * step).astype("datetime64[ns]")).as_unit(t.unit)
        return Axis(index, slot - slot[0], Grid.REGULAR, pd.Timedelta(step, "ns"), size - n,
                    int((np.diff(slot) > 1).sum()), off, moved)
    big = d > 1.5 * step
    return Axis(t, np.arange(n), Grid.IRREGULAR, pd.Timedelta(step, "ns"), int((np.rint(d[big] / step) - 1).sum()),
                int(big.sum()), off, moved, sharing)


@dataclass(frozen=True, eq=False)
class Prepared:
    """One series ready for the detectors, with what was done to it and how to write its flags."""

    series: SeriesInput
    axis: Axis
    rows: int  # points read (after repeats were merged)
    resolved: list[Duplicate] = field(default_factory=list)
    offsets: tuple[str, ...] = ()  # the offsets written (empty: none; converted to Asia/Shanghai)
    rule: str | None = None  # how repeats were merged (Resolve value)
    _time: np.ndarray = field(default=None, repr=False)  # per position of the index: the row's own time
    _offset: np.ndarray = field(default=None, repr=False)
    _zulu: np.ndarray = field(default=None, repr=False)

    def label(self, t: pd.Timestamp) -> str:
        """A flag at index time `t` as the input wrote it: the row that was there (before it was
        moved onto the grid), or for a missing step the grid time in the series' first offset."""
        i = self.series.index.get_loc(t)
        return label(pd.Timestamp(self._time[i]), self._offset[i], bool(self._zulu[i]), self.series.freq)

    def facts(self) -> dict:
        """What `_input` in flags.json says about this series (also the stdout summary's source)."""
        a = self.axis
        return {"points": self.rows, "grid": a.grid.value,
                "step": None if a.grid is Grid.SINGLE else _span(a.step)[1],
                "step_seconds": None if a.step is None else a.step.total_seconds(),
                "missing_steps": a.missing, "gaps": a.gaps, "off_grid": a.off_grid,
                "max_shift_seconds": a.max_shift.total_seconds(), "sharing_a_step": a.sharing,
                "duplicates_resolved": len(self.resolved),
                "duplicates": [{"timestamp": d.timestamp, "lines": list(d.lines)} for d in self.resolved[:SHOWN]],
                "zone": ZONE if self.offsets else "as written", "offsets": list(self.offsets)}


def _span(step: pd.Timedelta | None) -> tuple[str, str]:
    """A step in words (中文, English), in the largest unit that divides it."""
    if step is None:
        return "1 个月", "1 month"
    s = step.total_seconds()
    for secs, zh, en in ((86400, "天", "d"), (3600, "小时", "h"), (60, "分钟", "min"), (1, "秒", "s")):
        if s >= secs and s % secs == 0:
            return f"{int(s // secs)} {zh}", f"{int(s // secs)} {en}"
    return f"{s:g} 秒", f"{s:g} s"


def prepare(df: pd.DataFrame) -> list[Prepared]:
    """Every series of a read table (`read_long`) on its time axis, in series id order. Series the
    detectors cannot take (a negative count, a rate above 1, …) are all named, then refused."""
    out, problems = [], []
    resolved = df.attrs.get("resolved", {})
    has_den = "denominator" in df and df["denominator"].notna().any()
    for sid, g in df.groupby(SID, sort=True):
        g = g.sort_values("date")
        t = pd.DatetimeIndex(g["date"])
        axis = time_axis(t)
        n = len(axis.index)

        def spread(col, g=g, axis=axis, n=n):  # a column on the axis, NaN at missing steps
            a = np.full(n, np.nan)
            a[axis.at] = g[col].to_numpy(float)
            return a

        den = None
        if has_den and g["denominator"].notna().any():
            den = pd.Series(spread("denominator"), index=axis.index)
        kind = None
        if "kind" in g and g["kind"].notna().any():
            kind = Kind(str(g["kind"].dropna().iloc[0]).strip().lower())
        try:
            s = SeriesInput(pd.Series(spread("value"), index=axis.index), den, kind, str(sid))
        except SeriesError as exc:
            problems.append(f"序列 {sid} 无法检测 / series {sid} cannot be detected: {exc}")
            continue
        offset = np.full(n, g[OFFSET].iloc[0])
        offset[axis.at] = g[OFFSET].to_numpy()
        zulu = np.full(n, bool(g[ZULU].iloc[0]))
        zulu[axis.at] = g[ZULU].to_numpy(bool)
        when = axis.index.to_numpy().copy()
        when[axis.at] = t.to_numpy().astype(when.dtype)
        written = sorted({_offset_text(o, z) for o, z in zip(g[OFFSET], g[ZULU], strict=True) if pd.notna(o)})
        out.append(Prepared(s, axis, len(g), resolved.get(sid, []), tuple(written), df.attrs.get("rule"),
                            when, offset, zulu))
    if problems:
        raise LongInputError(df.attrs.get("name", "table"), problems)
    return out


def summary(p: Prepared) -> str:
    """One line per series for stdout: points, step, gaps, off-grid points, repeats merged, zone."""
    a, f = p.axis, p.facts()
    zh_step, en_step = _span(a.step)
    parts = [f"{p.rows:,} 点 / points", f"步长 {zh_step} / step {en_step}"]
    if a.grid is Grid.SINGLE:
        parts[1] = "只有一个点，无步长 / a single point, no step"
    if a.missing:
        parts.append(f"缺 {a.missing:,} 步（{a.gaps:,} 处） / {a.missing:,} missing steps in {a.gaps:,} gap(s)")
    else:
        parts.append("无缺口 / no gaps")
    if a.grid is Grid.IRREGULAR:
        parts.append(f"不规则：{a.sharing:,} 点会与其他点落在同一步，按原时间检测 / irregular: {a.sharing:,} points "
                     "would share a step, detected on their own timestamps")
    elif a.off_grid:
        zh_m, en_m = _span(a.max_shift)
        parts.append(f"{a.off_grid:,} 点不在网格上，已对齐到最近一步（最多移动 {zh_m}） / {a.off_grid:,} off-grid "
                     f"point(s) moved to the nearest step (by at most {en_m})")
    if p.resolved:
        n = len(p.resolved)
        parts.append(f"{n:,} 处重复时间已按 {p.rule} 合并 / {n:,} repeated timestamp(s) resolved by {p.rule}")
    parts.append(f"时区：由 {', '.join(p.offsets)} 换算为 {ZONE} / zone: {', '.join(p.offsets)} converted to {ZONE}"
                 if f["offsets"] else "时区：未标注，按原样 / zone: none given, taken as written")
    return f"{p.series.series_id}: " + "; ".join(parts)


@dataclass(frozen=True)
class Detection:
    """The flags of every series (as the input wrote their timestamps) and what `_input` records."""

    flags: dict[str, list[str]]
    prepared: list[Prepared]
    name: str
    rule: Resolve | None

    def meta(self) -> dict:
        return {"file": self.name, "zone": ZONE, "on_duplicate": self.rule.value if self.rule else None,
                "series": {p.series.series_id: p.facts() for p in self.prepared}}


def detect_file(path_or_frame, controls: Controls | None = None, on_duplicate: Resolve | str | None = None,
                series_id: str | None = None) -> Detection:
    """Read, check, put on a time axis and detect every series of a long table. `series_id`: the
    name of the one series of a table without key columns (default `series`)."""
    df = read_long(path_or_frame, on_duplicate, series_id)
    prepared = prepare(df)
    flags = {p.series.series_id: [p.label(f.date) for f in detect(p.series, controls)] for p in prepared}
    return Detection(flags, prepared, df.attrs.get("name", "table"), Resolve(on_duplicate) if on_duplicate else None)


def iter_series(df: pd.DataFrame):
    """The series of a read table, on their time axes (see `prepare`)."""
    for p in prepare(df):
        yield p.series


def fmt_ts(t: pd.Timestamp, freq: Freq) -> str:
    if freq is not Freq.INTRADAY and t == t.normalize():
        return t.strftime("%Y-%m-%d")
    return t.strftime("%Y-%m-%d %H:%M:%S")


def scan(path_or_frame, controls: Controls | None = None) -> dict[str, list[Flag]]:
    return {s.series_id: detect(s, controls) for s in iter_series(read_long(path_or_frame))}


def detect_long(path_or_frame, controls: Controls | None = None) -> dict[str, list[str]]:
    return detect_file(path_or_frame, controls).flags


def write_flags(result: dict[str, list[str]], path, detector: str = "bankpulse", meta: dict | None = None) -> None:
    """Write the flags atomically: a temporary file beside the target, renamed over it. `meta`
    goes under `_input` (the scorer ignores `_` keys)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    head = {"_detector": detector, **({"_input": meta} if meta is not None else {})}
    try:
        tmp.write_text(json.dumps({**head, **result}, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)

def _read_csv(path: Path, name: str) -> pd.DataFrame:
    """The file as text cells, in the encoding the uploads use (UTF-8 with or without BOM, GBK —
    the bank's exports; data.ingest.encoding.detect decides, with its message when neither). A row
    with more or fewer cells than the header is an error with its line (pandas would quietly turn
    extra cells into an index or drop them)."""
    from data.ingest.encoding import detect as detect_encoding

    if path.stat().st_size == 0:
        raise LongInputError(name, ["文件为空 / the file is empty"])
    enc = detect_encoding(path)
    if enc.encoding is None:
        raise LongInputError(name, [enc.problem])
    with path.open(encoding=enc.encoding, newline="") as f:
        reader = csv.reader(f)
        header = next((r for r in reader if any(c.strip() for c in r)), None)
        if header is None:
            raise LongInputError(name, ["没有表头和数据 / no header and no rows"])
        rows, lines, problems = [], [], []
        for row in reader:
            if not any(c.strip() for c in row):
                continue  # a blank line
            if len(row) != len(header):
                problems.append(f"第 {reader.line_num} 行 / row {reader.line_num}: {len(row)} 个单元格，表头有 "
                                f"{len(header)} 列 / {len(row)} cells, the header has {len(header)} columns")
            rows.append(row)
            lines.append(reader.line_num)
    if problems:
        raise LongInputError(name, problems)
    df = pd.DataFrame(rows, columns=header, dtype=str) if rows else pd.DataFrame(columns=header, dtype=str)
    df.attrs["lines"] = lines  # each row's line in the file (blank lines skipped), for messages
    return df
