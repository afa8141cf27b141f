"""The scan's series with few queries: every KPI × level (bank, region, branch) from one read per source.

`scan.series_for` asks the database once per KPI and level (and once more for a rate's base
count): some thirty queries for the counter KPIs alone, each scanning millions of tickets and
each compiled by Ibis. The numbers here are the same (tests/test_anomaly_incremental.py checks
every KPI × level against `series_for`), read differently:

* every measure that shares a source, date column and window is aggregated in one query, by
  period × branch (the same `compiler.base_table` / `compiler.reduction` the pages use);
* a measure that is additive over outlets (`Measure.additive`: a count, a sum, a mean as sum ÷
  count, a custom measure declared `sums_over_branches`) is read at branch level only; region and bank are the sums
  of their branches (regions joined from the branch master exactly as the compiler joins them);
* the others (quantiles, distinct counts, last values) are read per level, all of a source's in
  one query per level;
* a ratio is Σ numerator ÷ Σ denominator at every level, as compiled;
* each read is put on the period grid × scope keys once (anomaly/grids.py): ratios, roll-ups and
  the series the detectors get are array operations, not joins and pivots of long frames;
* on plain bases (not stocks, not distinct-loan flows) the per-period aggregates of earlier scans
  are reused where the rows behind them are unchanged, and only the other periods are read
  (anomaly/valuecache.py) — after an upload, the days it touched.
KPIs that cannot be broken down by branch fall back to `series_for`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from anomaly.grids import Grid, roll_up, scatter
from anomaly.valuecache import (
    FP_COLUMNS,
    NULL_KEY,
    ValueCache,
    cacheable,
    coarser_fingerprints,
    fingerprint_parts,
    fingerprints,
    group_key,
    same_rows,
    text,
)
from data.sources import TABLES
from metrics.compiler import (
    DIMENSIONS,
    Window,
    _base_key,
    base_table,
    column_expr,
    measure_table,
    reads_as_of,
    reduction,
    where_of,
)
from metrics.model import Agg, Grain, Measure, Metric, Unit
from metrics.periods import period_end, periods
from metrics.scope import Scope

LEVELS = {"bank": (), "region": ("region",), "branch": ("branch",)}


def count_of(den: Measure | None) -> Measure | None:
    """A rate's base *count* (loans, not yuan): what `scan._count_denominator` reads."""
    if den is None or den.agg is Agg.CUSTOM:
        return None
    return den.model_copy(update={"agg": Agg.COUNT, "column": None})


def by_branch(metric: Metric, options: dict) -> bool:
    """Whether every measure of the KPI can be read per branch and rolled up."""
    ms = [metric.measure(options), *([metric.denominator] if metric.denominator else [])]
    return ("branch" in metric.dimensions and all(DIMENSIONS["branch"].available(set(), m.source) for m in ms)
            and all(m.additive or m.agg is not Agg.CUSTOM for m in ms))


@dataclass
class Request:
    """One KPI to read: its grain, window and the levels wanted."""

    metric: Metric
    grain: Grain
    window: Window
    levels: tuple[str, ...]


@dataclass
class _Group:
    """Measures read together: same source base (source, date column, stock, distinct loans), grain, window."""

    measures: list[Measure] = field(default_factory=list)
    levels: set[str] = field(default_factory=set)  # levels the non-additive measures are needed at


def _key(m: Measure, grain: Grain, window: Window) -> tuple:
    return (_base_key(m, TABLES[m.source].time_column), grain, window.start, window.end)


def _parts(t, m: Measure, options: dict, name: str) -> dict:
    """The aggregates that carry a measure: its value, or for a mean its sum and its count."""
    if m.agg is Agg.MEAN:
        col = reduction(t, m.model_copy(update={"agg": Agg.SUM}), options)  # sum(where).fill_null(0)
        where = where_of(t, m, options)
        x = column_expr(t, m.source, m.column, options)
        return {f"{name}__s": col, f"{name}__c": x.count(where=where) if where is not None else x.count()}
    return {name: reduction(t, m, options)}


def _quantile_sets(ms: list[Measure]) -> dict[tuple, list[Measure]]:
    """Quantile measures of the same column and filters (they differ only in q)."""
    out: dict[tuple, list[Measure]] = {}
    for m in ms:
        if m.agg is Agg.QUANTILE:
            out.setdefault((m.column, m.where), []).append(m)
    return out


def _columns(m: Measure, name: str) -> list[str]:
    """The aggregates a read holds for a measure: a mean as its sum and its count."""
    return [f"{name}__s", f"{name}__c"] if m.agg is Agg.MEAN else [name]


def frame_of(t: pa.Table) -> pd.DataFrame:
    """A read's Arrow table as a frame (see `Reader._run`)."""
    cols = {}
    for name, col in zip(t.column_names, t.columns, strict=True):
        typ = col.type
        if pa.types.is_date(typ) or pa.types.is_timestamp(typ):
            cols[name] = col.cast(pa.timestamp("ns")).to_numpy(zero_copy_only=False)
        elif pa.types.is_string(typ) or pa.types.is_large_string(typ):
            cols[name] = text(col.to_numpy(zero_copy_only=False))
        elif pa.types.is_decimal(typ):  # as `execute()` gives them: Decimal objects
            cols[name] = pd.Series(col.to_pylist(), dtype=object)
        else:
            cols[name] = col.to_numpy(zero_copy_only=False)
    return pd.DataFrame(cols)


def _unkey(keys: np.ndarray) -> np.ndarray:
    return np.where(keys == NULL_KEY, None, keys)


_KEYS: dict[tuple, tuple[str, list[str]]] = {}
_AS_OF_MATTERS: dict[tuple, bool] = {}
_CANON = Window(date(2000, 1, 1), date(2000, 1, 2))  # the fixed window group keys are compiled on


def _compiled_key(what: tuple, build: Callable[[dict], object], opts: dict, level: str,
                  dims: tuple[str, ...], as_of: bool | None = None) -> tuple[str, list[str]]:
    """The kept-row key of the expression `build(opts)` (compiled on the fixed window) and its
    aggregates' names, compiled once per process. The options carry the scan's as-of date (its last
    day), which only some derived columns read (matured cases; `as_of`, from the measures'
    declarations): otherwise every upload, with its new last day, would compile every key again
    (0.4 s of an incremental scan). Unknown (`as_of` None, a custom measure): found once by
    compiling the expression for two dates."""
    rest = tuple(sorted((k, repr(v)) for k, v in opts.items() if k != "_as_of"))
    if as_of is not None:
        _AS_OF_MATTERS[(what, rest)] = as_of
    if (what, rest) not in _AS_OF_MATTERS:
        one, two = (group_key(build({**opts, "_as_of": d}), level) for d in (date(2000, 1, 1), date(2001, 1, 1)))
        _AS_OF_MATTERS[(what, rest)] = one != two
    memo = (what, rest, repr(opts.get("_as_of")) if _AS_OF_MATTERS[(what, rest)] else None)
    if memo not in _KEYS:
        expr = build(opts)
        _KEYS[memo] = (group_key(expr, level), [c for c in expr.columns if c not in ("period", *dims)])
    return _KEYS[memo]


class _Tables:
    """The Ibis backend with each table expression made once per scan: `table()` asks DuckDB for the
    schema every time, and the compiler asks for the same few tables in every expression it builds.
    (Table expressions are immutable, so sharing them is safe.)"""

    def __init__(self, backend):
        self._backend = backend
        self._tables: dict[str, object] = {}

    def table(self, name: str):
        if name not in self._tables:
            self._tables[name] = self._backend.table(name)
        return self._tables[name]

    def __getattr__(self, name: str):
        return getattr(self._backend, name)


class Reader:
    """Reads the measures of many KPIs with few queries and puts each on the period grid per level
    (anomaly/grids.py), from which `kpi` builds a KPI."""

    def __init__(self, store, options: dict):
        self.backend = _Tables(store.ibis())
        self.options = options
        self.look = store.query("reads.branch_master").df()[["branch_id", "region"]].rename(columns={"branch_id": "branch"})
        self.look = self.look.dropna(subset=["branch"])  # an SQL join never matches a NULL key
        self.cache = None if store.read_only else ValueCache(store)
        self._grids: dict[tuple, Grid] = {}  # (measure, grain, start, end, level) -> its "value" on the grid
        self._indexes: dict[tuple, pd.DatetimeIndex] = {}
        self._fps: dict[tuple, object] = {}  # fingerprint reads and their per-level fingerprints, once per scan
        self._daily: set[tuple] = set()  # (base, start, end) read at day grain in this scan
        self._master: int | None = None  # digest of the branch master (kept custom measures read it)

    # -- reading --------------------------------------------------------------------------
    def read(self, requests: Iterable[Request], everything: bool = False) -> None:
        """Read the requests' measures. `everything`: they are the whole catalogue (a full scan), so
        kept values of any other key — an old definition, an option since changed — are dropped."""
        groups: dict[tuple, _Group] = {}
        customs: list[tuple[Measure, Grain, Window]] = []
        for r in requests:
            opts = self._opts(r.window)
            for m in self._measures(r.metric, opts):
                if m.agg is Agg.CUSTOM:
                    customs.append((m, r.grain, r.window))
                    continue
                g = groups.setdefault(_key(m, r.grain, r.window), _Group())
                if m not in g.measures:
                    g.measures.append(m)
                if not m.additive:
                    g.levels |= set(r.levels)
        self._daily = {(k[0], k[2], k[3]) for k in groups if k[1] is Grain.DAY}
        self._daily |= {(_key(m, g, w)[0], w.start, w.end) for m, g, w in customs if g is Grain.DAY}
        for key, g in groups.items():
            self._read_group(g, key[1], Window(key[2], key[3]))
        for m, grain, window in dict.fromkeys(customs):
            self._read_custom(m, grain, window)
        if self.cache is not None:
            self.cache.flush(prune=everything)

    def _opts(self, window: Window) -> dict:
        return {**self.options, "_as_of": window.end}

    @staticmethod
    def _measures(metric: Metric, opts: dict) -> list[Measure]:
        ms = [metric.measure(opts)]
        if metric.denominator is not None:
            ms.append(metric.denominator)
            n = count_of(metric.denominator)
            if n is not None and metric.unit is Unit.RATE:
                ms.append(n)
        return ms

    def _expr(self, t, dims: tuple[str, ...], ms: list[Measure], names: dict, opts: dict, extra: dict | None = None):
        """One grouped read of several measures (the quantiles of one column as one multi-quantile)."""
        aggs: dict = dict(extra or {})
        picks: dict = {}
        for qs in _quantile_sets(ms).values():
            if len(qs) > 1:  # one sort per group for all quantiles of a column (P50 and P90 of waits)
                col, where = column_expr(t, qs[0].source, qs[0].column, opts), where_of(t, qs[0], opts)
                aggs[f"q_{names[qs[0]]}"] = col.quantile([m.q for m in qs], where=where)
                picks.update({names[m]: (f"q_{names[qs[0]]}", i) for i, m in enumerate(qs)})
        for m in ms:
            if names[m] not in picks:
                aggs.update(_parts(t, m, opts, names[m]))
        expr = t.group_by(["period", *dims]).aggregate(**aggs)
        if picks:
            expr = expr.mutate(**{n: expr[q][i] for n, (q, i) in picks.items()}).drop(*{q for q, _ in picks.values()})
        return expr

    @staticmethod
    def _run(expr) -> pd.DataFrame:
        """The expression's result as plain columns: periods as datetime64[ns], scope keys as objects
        (valuecache.text), numbers as numpy (an integer column with NULLs as float with NaN).
        Fetched as Arrow and converted here: `execute()`'s general conversion to pandas types took
        longer than the query for the scan's 140,000-row reads."""
        return frame_of(expr.to_pyarrow())

    def _aggregate(self, t, dims: tuple[str, ...], ms: list[Measure], names: dict, opts: dict,
                   extra: dict | None = None) -> pd.DataFrame:
        return self._run(self._expr(t, dims, ms, names, opts, extra))

    def _index(self, grain: Grain, window: Window) -> pd.DatetimeIndex:
        """The period grid of a window (what the series are judged on)."""
        at = (grain, window.start, window.end)
        if at not in self._indexes:
            self._indexes[at] = pd.DatetimeIndex(pd.to_datetime(periods(window.start, window.end, grain)))
        return self._indexes[at]

    def _put(self, m: Measure, grain: Grain, window: Window, level: str, g: Grid, name: str) -> None:
        """The measure's value on the grid: a mean as its sum ÷ its count, others as read."""
        if m.agg is Agg.MEAN:
            c = g.col(f"{name}__c")
            with np.errstate(divide="ignore", invalid="ignore"):
                v = np.where(c > 0, g.col(f"{name}__s") / c, np.nan)
        else:
            v = g.col(name)
        self._grids[(m, grain, window.start, window.end, level)] = Grid(g.index, g.keys, g.present, {"value": v})

    def _read_group(self, g: _Group, grain: Grain, window: Window) -> None:
        """All measures of a group per branch (additive ones rolled up), the others per level too."""
        opts = self._opts(window)
        names = {m: f"m{i}" for i, m in enumerate(g.measures)}
        first = g.measures[0]
        add = [m for m in g.measures if m.additive]
        non = [m for m in g.measures if not m.additive]
        wanted = {"branch": g.measures, **{lv: non for lv in ("region", "bank") if lv in g.levels and non}}
        # values that depend on the as-of date (matured cases) are read afresh: a kept one would be
        # for one last day only, and a new one comes with every upload
        if self.cache is not None and cacheable(first) and not any(reads_as_of(m) for m in g.measures):
            dfs = self._read_kept(first, wanted, names, grain, window, opts)
        else:
            dfs = {lv: self._aggregate(base_table(self.backend, first, grain, window, LEVELS[lv], Scope()), LEVELS[lv],
                                       ms, names, opts) for lv, ms in wanted.items()}
        index = self._index(grain, window)
        branch = None
        for lv, ms in wanted.items():
            dims = LEVELS[lv]
            grid = scatter(dfs[lv], dims[0] if dims else None, [c for m in ms for c in _columns(m, names[m])], index)
            branch = grid if lv == "branch" else branch
            for m in ms:
                self._put(m, grain, window, lv, grid, names[m])
        self._roll_up(branch, add, names, grain, window)

    def _fingerprint_read(self, first: Measure, grain: Grain, window: Window) -> pd.DataFrame:
        """period, branch, _rows, _bsum, _bmax of a plain base's rows in the window. Read once per base
        and window at day grain when the scan reads that base by day, and rolled up to coarser grains
        from it (counts and sums add, the max is the max of the days' maxima) — a month's rows are its
        days' rows, so the numbers are those of a read by month, without another pass over the table."""
        base = (_key(first, grain, window)[0], window.start, window.end)
        if grain is not Grain.DAY and base in self._daily:
            at = (*base, grain)
            if at not in self._fps:
                self._fps[at] = coarser_fingerprints(self._fingerprint_read(first, Grain.DAY, window), grain)
            return self._fps[at]
        at = (*base, grain)
        if at not in self._fps:
            t = base_table(self.backend, first, grain, window, ("branch",), Scope())
            self._fps[at] = self._run(t.group_by(["period", "branch"]).aggregate(**fingerprint_parts(t)))
        return self._fps[at]

    def _fingerprints(self, first: Measure, grain: Grain, window: Window) -> dict[str, pd.DataFrame]:
        """The fingerprints of a base's rows per level (valuecache.fingerprints), once per scan."""
        at = ("levels", _key(first, grain, window)[0], window.start, window.end, grain)
        if at not in self._fps:
            self._fps[at] = fingerprints(self._fingerprint_read(first, grain, window), self.look)
        return self._fps[at]

    def _read_kept(self, first: Measure, wanted: dict[str, list[Measure]], names: dict, grain: Grain, window: Window,
                   opts: dict) -> dict[str, pd.DataFrame]:
        """Per level, the group's read as a fresh read would return it: kept aggregates for the
        periods whose rows are unchanged, the other periods read fresh (every scope of such a period
        at once) and kept for the next scan (anomaly/valuecache.py)."""
        fps = self._fingerprints(first, grain, window)
        out = {}
        for lv, ms in wanted.items():
            dims = LEVELS[lv]
            key, cols = self._group_key(first, grain, dims, ms, names, opts, lv)

            def fresh(days: list[date], narrow: Window, some: bool, dims=dims, ms=ms) -> pd.DataFrame:
                tt = base_table(self.backend, first, grain, narrow, dims, Scope())
                if some:
                    tt = tt.filter(tt.period.isin(days))
                return self._aggregate(tt, dims, ms, names, opts, fingerprint_parts(tt))

            out[lv] = self._kept_and_fresh(key, lv, fps[lv], dims, cols, grain, window, fresh)
        return out

    def _kept_and_fresh(self, key: str, lv: str, fp: pd.DataFrame, dims: tuple[str, ...], cols: list[str],
                        grain: Grain, window: Window,
                        fresh: Callable[[list[date], Window, bool], pd.DataFrame]) -> pd.DataFrame:
        """period, dims…, cols for the scopes and periods of `fp`: kept values where the fingerprint
        matches, and `fresh(days, narrow window, only some periods)` — which returns FP_COLUMNS beside
        the values, read in the same statement — for every period with a changed or unkept scope."""
        rows, vals = self.cache.lookup(key, lv, fp, len(cols))
        ok = np.zeros(len(fp), bool)
        ok[rows] = True
        where = np.zeros(len(fp), dtype=np.int64)
        where[rows] = np.arange(len(rows))
        stale = set(fp["period"].to_numpy()[~ok])
        use = np.flatnonzero(ok & ~fp["period"].isin(stale).to_numpy())
        kept = pd.DataFrame({"period": fp["period"].to_numpy()[use],
                             **({dims[0]: text(_unkey(fp["key"].to_numpy()[use]))} if dims else {}),
                             **{c: vals[where[use], i] for i, c in enumerate(cols)}})
        if not stale:
            return kept
        days = sorted(pd.Timestamp(p).date() for p in stale)
        narrow = Window(max(window.start, days[0]), min(window.end, period_end(days[-1], grain)))
        got = fresh(days, narrow, len(stale) < fp["period"].nunique())
        j = fp.merge(got.assign(key=text(got[dims[0]].fillna(NULL_KEY)) if dims else ""), on=["period", "key"],
                     how="inner")
        good = same_rows(j)  # a load between the two reads: not kept
        self.cache.keep(key, lv, j[good], j.loc[good, cols].to_numpy(dtype=float, na_value=np.nan))
        return pd.concat([kept, got[["period", *dims, *cols]]], ignore_index=True)

    def _group_key(self, first: Measure, grain: Grain, dims: tuple[str, ...], ms: list[Measure], names: dict,
                   opts: dict, level: str) -> tuple[str, list[str]]:
        """The kept-row key of a group's read at one level and its aggregates' names, in order."""
        def build(o: dict):
            return self._expr(base_table(self.backend, first, grain, _CANON, dims, Scope()), dims, ms, names, o)

        return _compiled_key((first, grain, dims, tuple((names[m], m) for m in ms), level), build, opts, level, dims,
                             any(reads_as_of(m) for m in [first, *ms]))

    def _read_custom(self, m: Measure, grain: Grain, window: Window) -> None:
        opts = self._opts(window)
        if self.cache is not None and cacheable(m) and m.additive:
            df = self._read_custom_kept(m, grain, window, opts)
        else:
            df = self._run(measure_table(self.backend, m, grain, window, ("branch",), Scope(), opts, "v"))
        grid = scatter(df, "branch", ["v"], self._index(grain, window))
        self._put(m, grain, window, "branch", grid, "v")
        self._roll_up(grid, [m], {m: "v"}, grain, window)

    def _read_custom_kept(self, m: Measure, grain: Grain, window: Window, opts: dict) -> pd.DataFrame:
        """An additive custom measure per branch with kept values: its value for a branch and period
        is a function of that branch's rows in the period and of the branch master (`sums_over_branches`),
        so a kept value holds while the rows' fingerprint and a digest of the master (in the
        fingerprint's `members`, unused at branch level) are unchanged — after a master reload every
        period is read afresh and replaces what was kept. Fresh values are read joined to their rows'
        fingerprint, in one statement."""
        key = self._group_key_custom(m, grain, opts)
        if self._master is None:
            self._master = self.cache.master_digest()
        fp = self._fingerprints(m, grain, window)["branch"].assign(members=self._master)

        def fresh(days: list[date], narrow: Window, some: bool) -> pd.DataFrame:
            v = measure_table(self.backend, m, grain, narrow, ("branch",), Scope(), opts, "v")
            t = base_table(self.backend, m, grain, narrow, ("branch",), Scope())
            if some:
                t, v = t.filter(t.period.isin(days)), v.filter(v.period.isin(days))
            f = t.group_by(["period", "branch"]).aggregate(**fingerprint_parts(t))
            j = f.left_join(v, [f.period == v.period, f.branch.identical_to(v.branch)])
            return self._run(j.select(f.period, f.branch, *FP_COLUMNS, v.v))

        return self._kept_and_fresh(key, "branch", fp, ("branch",), ["v"], grain, window, fresh)

    def _group_key_custom(self, m: Measure, grain: Grain, opts: dict) -> str:
        def build(o: dict):
            return measure_table(self.backend, m, grain, _CANON, ("branch",), Scope(), o, "v")

        return _compiled_key((m, grain, "custom"), build, opts, "branch", ("branch",))[0]

    def _roll_up(self, g: Grid, ms: list[Measure], names: dict, grain: Grain, window: Window) -> None:
        """Region and bank values of additive measures from their branch-level parts."""
        if not ms:
            return
        rolled = roll_up(g, self.look, [c for m in ms for c in _columns(m, names[m])])
        for level, grid in rolled.items():
            for m in ms:
                self._put(m, grain, window, level, grid, names[m])

    # -- a KPI from its measures ----------------------------------------------------------------
    def kpi(self, metric: Metric, grain: Grain, window: Window, level: str) -> Grid:
        """The KPI on the grid, "value"[ and "n"]: what `compile_metric` (+ the base count) returns,
        with the scope keys of its rows (a ratio's: the denominator's)."""
        opts = self._opts(window)
        get: Callable[[Measure], Grid] = lambda m: self._grids[(m, grain, window.start, window.end, level)]  # noqa: E731
        num = metric.measure(opts)
        if metric.denominator is None:
            g = get(num)
            return Grid(g.index, g.keys, g.present, {"value": g.col("value").astype(float) * metric.multiplier})
        den = metric.denominator
        n, d = get(num), get(den)
        same_base = (_base_key(num, TABLES[num.source].time_column) == _base_key(den, TABLES[den.source].time_column)
                     and Agg.CUSTOM not in (num.agg, den.agg))
        nv = d.align(n.col("value"), n.keys)  # the numerator on the denominator's rows
        if not same_base:  # compile_metric fills a missing numerator with 0 when it joins two tables
            nv = np.nan_to_num(nv, nan=0.0)
        dv = d.col("value")
        with np.errstate(divide="ignore", invalid="ignore"):
            cols = {"value": np.where(dv > 0, nv / dv * metric.multiplier, np.nan)}
        cnt = count_of(den)
        if cnt is not None and metric.unit is Unit.RATE:
            c = get(cnt)
            cols["n"] = d.align(c.col("value"), c.keys)
        return Grid(d.index, d.keys, d.present, cols)
