"""The scan: every KPI of the catalogue × every scope (bank, region, branch), through the detectors.

Series come from the metric catalogue — the numbers the pages show. `series_for` reads one KPI at
one scope level (one query; `by=branch` returns every branch at once); the scan reads them all
with a few queries per source and rolls additive measures up from branches (anomaly.extract),
reusing the per-period aggregates of earlier scans whose rows are unchanged (anomaly.valuecache).
Rates carry their base count as the denominator (loan counts for balance-weighted credit rates) so
significance accounts for size. Series are judged in blocks on every core (anomaly.forked).
Flags become anomalies with stable ids (a re-scan refreshes, never duplicates), a sentence in
both languages and, for worsening ratio KPIs at bank/region level, a root-cause attribution.

Incremental mode (after an ingest) scans only the KPIs that read the loaded source, only the
scopes the batch touched (its branches, their regions, the bank) and keeps only flags from the
batch's first date on. It reads the same whole history as a full scan and runs the same
detectors on the same series, so what it stores for the new periods is what a full scan over the
same data stores for them (tests/test_anomaly_incremental.py). It is fast because only the new
periods' aggregates are read afresh, the series are judged in blocks, and only the events that can
reach the new periods are built (ensemble.detect_block).
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from anomaly.attribution import attribute
from anomaly.base import Controls, Freq, Kind, SeriesInput
from anomaly.extract import Reader, Request, by_branch
from anomaly.forked import detect_forked
from anomaly.grids import MISSING, Grid, scatter
from anomaly.sentences import sentence
from anomaly.store import AnomalyStore, NoiseControls, anomaly_id
from data.progress import SCAN, Progress, Stage, Stages
from metrics.catalogue import CATALOGUE
from metrics.compiler import Window, compile_metric, measure_table
from metrics.compute import data_span
from metrics.model import Agg, Direction, Grain, Metric, Unit
from metrics.options import resolve
from metrics.periods import period_end, period_start, periods
from metrics.scope import Scope

KIND_BY_UNIT = {Unit.COUNT: Kind.COUNT, Unit.MINUTES: Kind.DURATION, Unit.DAYS: Kind.DURATION,
                Unit.YUAN: Kind.AMOUNT, Unit.RATE: Kind.RATE, Unit.PERCENT: Kind.AMOUNT, Unit.SCORE: Kind.AMOUNT,
                Unit.PER_10K: Kind.AMOUNT}
MIN_POINTS = 8
# KPIs whose value for a period keeps changing after it ends (a month's complaints keep closing for
# up to the longest handling limit, 60 days): their periods younger than that are not judged yet
MATURES_AFTER_DAYS = {"feedback.closure_rate": 60}


@dataclass
class ScanResult:
    series: int = 0
    flags: int = 0
    new: int = 0
    seconds: float = 0.0
    anomaly_ids: list[str] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage: read, detect, write


def _tone(metric: Metric, direction: str) -> str:
    if metric.direction is Direction.NEUTRAL:
        return "neutral"
    up_good = metric.direction is Direction.UP_GOOD
    return "better" if (direction == "up") == up_good else "worse"


def _count_denominator(backend, metric: Metric, grain: Grain, window: Window, by: tuple, options: dict):
    """The base *count* of a ratio KPI (e.g. loans, not yuan) for significance tests."""
    den = metric.denominator
    if den is None or den.agg is Agg.CUSTOM:
        return None
    counted = den.model_copy(update={"agg": Agg.COUNT, "column": None})
    return measure_table(backend, counted, grain, window, by, Scope(), options, "n").execute()


def _levels(metric: Metric) -> list[tuple[str, tuple[str, ...]]]:
    out = [("bank", ())]
    if "region" in metric.dimensions:
        out.append(("region", ("region",)))
    if "branch" in metric.dimensions:
        out.append(("branch", ("branch",)))
    return out


def series_for(store, metric: Metric, grain: Grain, start: date, end: date, level: str, by: tuple,
               options: dict) -> dict[str, SeriesInput]:
    """The KPI's series at one scope level, keyed by scope value ('' for the bank): one query (two
    for a rate). The scan reads many KPIs at once instead (anomaly.extract) — the same numbers."""
    return to_series(query_frame(store, metric, grain, start, end, by, options), metric, grain, start, end, level, by)


def query_frame(store, metric: Metric, grain: Grain, start: date, end: date, by: tuple, options: dict) -> pd.DataFrame:
    """period, by…, value[, n]: the compiled KPI and, for a rate, its base count."""
    backend = store.ibis()
    window = Window(start, end)
    df = compile_metric(backend, metric, grain, window, by, Scope(), options).execute()
    if df.empty or KIND_BY_UNIT[metric.unit] is not Kind.RATE:
        return df
    n = _count_denominator(backend, metric, grain, window, by, options)
    return df if n is None else df.merge(n, on=["period", *by], how="left")


def to_series(df: pd.DataFrame, metric: Metric, grain: Grain, start: date, end: date, level: str,
              by: tuple, unique: bool = False) -> dict[str, SeriesInput]:
    """One series per scope value from a KPI frame (period, by…, value[, n]) on the full period grid.
    `unique`: the frame holds each period and scope once (a GROUP BY result), no need to check."""
    if df.empty:
        return {}
    index = pd.DatetimeIndex(pd.to_datetime(periods(start, end, grain)))
    df = df.assign(period=pd.to_datetime(df["period"]))
    grid = scatter(df, by[0] if by else None, ["value", "n"] if "n" in df else ["value"], index, unique)
    return grid_series(grid, metric, level)


def grid_series(grid: Grid, metric: Metric, level: str) -> dict[str, SeriesInput]:
    """One series per scope value of a KPI on its grid ("value"[, "n"]): rows without a scope value
    are not a scope; a count is 0 (not unknown) on a period without a row; scopes with fewer than
    MIN_POINTS values, or with impossible (negative) ones, are not judged."""
    kind = KIND_BY_UNIT[metric.unit]
    real = np.array([k is not MISSING for k in grid.keys], dtype=bool)
    keys = grid.keys[real]
    if not len(keys) or not grid.present[:, real].any():
        return {}
    vals = grid.col("value")[:, real]
    if kind is Kind.COUNT:
        vals = np.nan_to_num(vals, nan=0.0)  # no ticket that day: zero, not unknown
    dens = grid.cols["n"][:, real] if "n" in grid.cols else None
    full = grid.index
    enough = np.isfinite(vals).sum(axis=0) >= MIN_POINTS
    # the frequency the spacing means, as `SeriesInput` infers it: `detect` on the same series agrees
    freq = Freq.of_step(pd.Timedelta(int(np.median(np.diff(full.values.astype("datetime64[ns]").astype(np.int64))))
                                     if len(full) > 1 else 86_400 * 10**9, "ns"))
    out: dict[str, SeriesInput] = {}
    for j, key in enumerate(keys):
        if not enough[j]:
            continue
        v = vals[:, j]
        k, den = kind, None
        if kind is Kind.RATE:
            if dens is None:
                k = Kind.AMOUNT  # a rate whose base is not a count: judged as a level
            else:
                v = np.clip(v, 0, 1)
                d = dens[:, j]
                if (d < 0).any():
                    continue
                den = pd.Series(d, index=full)
        elif kind in (Kind.COUNT, Kind.DURATION) and (v < 0).any():
            continue
        out[str(key)] = SeriesInput.trusted(pd.Series(v, index=full), den, k, f"{metric.id}/{level}/{key}", freq)
    return out


def _controls(stored: dict, metric_id: str, level: str, value: str) -> Controls:
    c: NoiseControls = stored.get((metric_id, level, value)) or NoiseControls()
    kw = {"sensitivity": float(c.sensitivity)}
    if c.min_change is not None:
        kw["min_change"] = c.min_change
    if c.min_denominator is not None:
        kw["min_denominator"] = c.min_denominator
    return Controls(**kw)


@contextlib.contextmanager
def old_objects_left_alone():
    """While a scan runs, the cyclic garbage collector looks only at the objects created meanwhile.

    Why: a full collection walks every object of the process — in a warm process (the app, a bench)
    some 0.1 s each, once or twice per incremental scan, which is ~2 s. `gc.freeze` moves the objects
    that exist now out of the collector's sight and `gc.unfreeze` gives them back, so nothing that
    becomes garbage is kept for longer than the scan; cycles the scan itself makes are still
    collected. (Frozen objects are also not copied by the forked children's collector.)"""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@old_objects_left_alone()
def scan(store, *, metrics: Iterable[str] | None = None, since: date | None = None,
         branches: Iterable[str] | None = None, mode: str = "full", trigger: str = "cli",
         options: dict | None = None, attribute_causes: bool = True, events: pd.DataFrame | None = None,
         history_days: int | None = None, progress: Progress | None = None) -> ScanResult:
    """Run the detectors over the catalogue and store what they flag (see module docstring).

    `history_days` shortens the history read before `since`; the detectors' whole-series estimates
    then differ from a full scan's, so the scan after an upload does not use it. `progress`
    (data.progress) hears the stages of `data.progress.SCAN` and `done` after the commit."""
    t0 = time.perf_counter()
    say = Stages(progress, SCAN)
    say.start(Stage.SCAN_READ)
    options = resolve(options)
    astore = AnomalyStore(store)
    stored_controls = astore.all_controls()
    res = ScanResult()
    names = _scope_names(store)
    branch_filter = set(branches) if branches is not None else None
    region_filter = {names["region_of"].get(b) for b in branch_filter} if branch_filter is not None else None
    if events is None:
        events = store.query("reads.event_titles").df()
    rows: list[dict] = []
    # 1. extract: the KPIs' frames per level with few queries (anomaly.extract), in this process (the
    #    DuckDB connection is not shared with workers); KPIs that cannot be rolled up from branches
    #    are queried per level
    spans: dict[str, tuple] = {}
    plan: list[tuple[Metric, Grain, date, date]] = []
    for mid in (metrics or CATALOGUE):
        metric = CATALOGUE[mid]
        for src in metric.sources - spans.keys():
            spans[src] = data_span(store, src)
        los = [spans[x][0] for x in metric.sources if spans[x][0]]
        his = [spans[x][1] for x in metric.sources if spans[x][1]]
        if not los or not his:
            continue
        lo, hi = min(los), max(his)
        if history_days is not None and since is not None:
            lo = max(lo, since - timedelta(days=history_days))
        plan.append((metric, metric.default_grain, lo, hi))
    reader = Reader(store, options)
    fast = {m.id for m, *_ in plan if by_branch(m, {**options, "_as_of": None})}
    say.part(Stage.SCAN_READ, 1, 10)
    reader.read((Request(m, g, Window(lo, hi), tuple(lv for lv, _ in _levels(m))) for m, g, lo, hi in plan
                 if m.id in fast), everything=metrics is None and since is None and history_days is None)
    say.part(Stage.SCAN_READ, 5, 10)  # the KPIs below that are not rolled up from branches query now
    jobs: list[tuple] = []
    for i, (metric, grain, lo, hi) in enumerate(plan):
        say.part(Stage.SCAN_READ, 5 + 5 * i / len(plan), 10)
        for level, by in _levels(metric):
            if level == "branch" and branch_filter is not None and not branch_filter:
                continue
            got = (grid_series(reader.kpi(metric, grain, Window(lo, hi), level), metric, level) if metric.id in fast
                   else to_series(query_frame(store, metric, grain, lo, hi, by, options), metric, grain, lo, hi, level, by))
            for value, s in got.items():
                if level == "branch" and branch_filter is not None and value not in branch_filter:
                    continue
                if level == "region" and region_filter is not None and value not in region_filter:
                    continue
                if level == "region" and names["region_size"].get(value, 0) <= 1:
                    continue  # a region of one branch is that branch: judged (and flagged) once, there
                jobs.append((metric, grain, hi, level, value, s, _controls(stored_controls, metric.id, level, value)))
    res.series = len(jobs)
    res.stages["read"] = time.perf_counter() - t0
    # 2. detect: numpy on blocks of series, on every core
    # incremental: only flags of periods that hold new data are kept, so events that cannot reach
    # them are not built (ensemble.detect_block); a full scan builds them all
    wanted = None if since is None else [int(j[5].index.searchsorted(pd.Timestamp(period_start(since, j[1]))))
                                          for j in jobs]
    say.start(Stage.SCAN_DETECT)
    all_flags = detect_many([(j[5], j[6]) for j in jobs], wanted, say.sub(Stage.SCAN_DETECT))
    res.stages["detect"] = time.perf_counter() - t0 - res.stages["read"]
    # 3. keep what the caller asked for, as rows
    for (metric, grain, hi, level, value, s, _), flags in zip(jobs, all_flags, strict=True):
        mature_until = hi - timedelta(days=MATURES_AFTER_DAYS.get(metric.id, 0))
        for f in flags:
            day = pd.Timestamp(f.date).date()
            if since is not None and period_end(day, grain) < since:
                continue  # incremental: only periods that hold the new data (a month the batch falls in counts)
            if period_end(day, grain) > mature_until:
                continue
            res.flags += 1
            rows.append(_row(metric, grain, level, value, names, f, s, options))
    now = datetime.now()
    say.start(Stage.SCAN_EXPLAIN)
    to_explain = sum(1 for row in rows if row["_attribute"]) if attribute_causes else 0
    every, explained = max(1, to_explain // 20), 0  # an attribution is queries of its own: report each 5 %
    with store.transaction() as cur:
        for row in rows:
            if row.pop("_attribute") and attribute_causes:
                row["cause"], row["cause_json"] = _cause(store, row, events, options)
                explained += 1
                if explained % every == 0:
                    say.part(Stage.SCAN_EXPLAIN, explained, to_explain)
            res.anomaly_ids.append(row["anomaly_id"])
        say.start(Stage.SCAN_WRITE)
        res.new = len(astore.upsert_many(cur, rows, now))
        res.seconds = time.perf_counter() - t0
        astore.record_scan(cur, started=now, seconds=res.seconds, mode=mode, series=res.series, flags=res.flags,
                           new=res.new, trigger=trigger)
    res.stages["write"] = time.perf_counter() - t0 - res.stages["read"] - res.stages["detect"]  # commit included
    say.done()
    return res


def workers() -> int:
    """Processes that judge a scan's series (this one included): the CPUs this process may use, at
    most 4, or BANKPULSE_SCAN_WORKERS (1 = all in this process)."""
    env = os.environ.get("BANKPULSE_SCAN_WORKERS")
    if env:
        return max(1, int(env))
    try:
        return max(1, min(len(os.sched_getaffinity(0)), 4))
    except AttributeError:
        return max(1, min(os.cpu_count() or 1, 4))


def detect_many(items: list[tuple[SeriesInput, Controls]], since: list[int | None] | None = None,
                step: Callable[[float, float], None] | None = None) -> list[list]:
    """`ensemble.detect` over many series: in blocks (ensemble.detect_many), shared with forked
    children on the other cores (anomaly.forked) when there are enough of them. `step(i, n)`
    hears the blocks handed out, in this process."""
    return detect_forked(items, workers(), since, step)


def _row(metric: Metric, grain: Grain, level: str, value: str, names: dict, f, s: SeriesInput, options) -> dict:
    period = pd.Timestamp(f.date).date()
    label_zh, label_en = _scope_label(level, value, names)
    den = None
    if s.denominator is not None and pd.Timestamp(f.date) in s.denominator.index:
        d = s.denominator.loc[pd.Timestamp(f.date)]
        den = None if pd.isna(d) else float(d)
    tone = _tone(metric, f.direction)
    return {
        "anomaly_id": anomaly_id(metric.id, level, value, grain.value, period, f.kind),
        "metric_id": metric.id, "category": metric.category.value, "scope_kind": level, "scope_value": value,
        "scope_label": label_zh, "grain": grain.value, "period": period, "period_end": period_end(period, grain),
        "observed": _num(f.observed), "expected": _num(f.expected), "lower": _num(f.lower), "upper": _num(f.upper),
        "denominator": den, "score": _num(f.score), "severity": f.severity, "direction": f.direction, "tone": tone,
        "detector": f.detector, "anomaly_kind": f.kind,
        "sentence_zh": sentence(metric, grain, period, label_zh, f.observed, f.expected, f.lower, f.upper, f.kind, "zh"),
        "sentence_en": sentence(metric, grain, period, label_en, f.observed, f.expected, f.lower, f.upper, f.kind, "en"),
        "cause": None, "cause_json": None,
        "_attribute": metric.is_ratio and tone == "worse" and level in ("bank", "region")
                      and metric.category.value == "credit",
    }


def _num(v) -> float | None:
    return None if v is None or (isinstance(v, float) and not np.isfinite(v)) else float(v)


def _cause(store, row: dict, events: pd.DataFrame, options: dict) -> tuple[str | None, str | None]:
    metric = CATALOGUE[row["metric_id"]]
    scope = Scope(region=row["scope_value"]) if row["scope_kind"] == "region" else Scope()
    try:
        a = attribute(store.ibis(), metric, Grain(row["grain"]), row["period"], scope, events=events, options=options)
    except Exception as exc:  # an explanation that fails must not lose the anomaly
        return "unknown", f'{{"error": "{type(exc).__name__}"}}'
    return a.cause, a.to_json()


def _scope_names(store) -> dict:
    rows = [(b[0], b[1], b[3]) for b in store.query("reads.branch_master").rows()]  # id, name, region
    ids = {r[0] for r in rows}
    # branches that hold data: the parent 支行 rows of the branch table are not outlets
    sizes: dict[str, int] = {}
    try:
        used = {r[0] for r in store.query("reads.branches_with_data").rows()} & ids
    except Exception:  # a store without those tables yet
        used = ids
    for r in rows:
        if r[0] in used and r[2] is not None:
            sizes[r[2]] = sizes.get(r[2], 0) + 1
    return {"branch": {r[0]: r[1] for r in rows}, "region_of": {r[0]: r[2] for r in rows}, "region_size": sizes}


def _scope_label(level: str, value: str, names: dict) -> tuple[str, str]:
    if level == "bank":
        return "全行", "the whole bank"
    if level == "region":
        return value, value
    name = names["branch"].get(value, value)
    return name, f"{name} ({value})" if name != value else value


def scan_after_batch(store, batch, progress: Progress | None = None) -> ScanResult | None:
    """The incremental scan after one load: its source's KPIs, its branches, from its first date
    (`progress`: as `scan`'s)."""
    if batch is None or batch.min_date is None:
        return None
    metrics = [m.id for m in CATALOGUE.values() if batch.source in m.sources]
    if not metrics:
        return None
    branches = [r[0] for r in store.query("reads.batch_branches", batch_id=batch.batch_id)
                .render(table=batch.source).rows()] if _has_branch(batch.source) else None
    since = batch.min_date - timedelta(days=1)
    # the whole history, not a recent window: the detectors estimate their calendar profile, robust
    # scale, over-dispersion and autocorrelation once over the whole series, so a shorter read would
    # give the new days other expectations and bands than a full scan gives them
    return scan(store, metrics=metrics, since=since, branches=branches, mode="incremental",
                trigger=f"batch {batch.batch_id}", progress=progress)


def _has_branch(source: str) -> bool:
    from data.sources import TABLES

    return any(c.name == "branch_id" for c in TABLES[source].columns)
