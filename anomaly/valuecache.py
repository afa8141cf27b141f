"""Per-period aggregates kept between scans (table ops.scan_values), checked against their rows.

Why: a scan judges every KPI on its whole history, so it needs every period's aggregates — the
counter KPIs alone mean ten aggregates over ~9 M tickets per branch and day, and quantiles (wait
P50 / P90) sorted again for the branch, region and bank levels — although an upload changes a few
days. A kept row is used only while the *fingerprint* of the rows it was computed from is
unchanged: their count, the sum and the max of their batch ids (every row carries the batch that
loaded it; a load adds a batch, a replacement swaps batch ids, a rollback removes one and brings
older rows back) and, for a region or the bank, which branches they belong to. Counting that
fingerprint is one light scan; the periods whose fingerprint differs — or that were never kept —
are read fresh and kept. Emptying the table only makes the next scan slower.

The group key hashes the compiled aggregates (definitions, filters, option values, the as-of date
where a derived column uses it) on a fixed window, so it does not change as data arrive but does
change with anything that changes the numbers.
"""

from __future__ import annotations

import hashlib
import zlib

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from data.sqlfiles import sql
from metrics.model import Grain, Measure
from metrics.periods import period_start

VERSION = "2"  # bump when the meaning of a kept row changes
FINGERPRINT = ["n_rows", "batch_sum", "batch_max", "members"]


def cacheable(m: Measure) -> bool:
    """Plain bases of uploaded sources only: a stock's rows depend on the period's last snapshot across
    all branches, and distinct-loan flows on every snapshot of a loan, so neither is a function of its
    own rows; the supervision views (data/sources/supervision.py) carry no batch ids to fingerprint —
    they are small and read whole on each scan."""
    from data.sources import SOURCES

    return m.source in SOURCES and not m.stock and not m.distinct_loans


def group_key(expr, level: str) -> str:
    """The key of the aggregates of `expr` (compiled on a fixed window) at one level."""
    text = ibis.to_sql(expr, dialect="duckdb")
    return hashlib.sha1(f"{VERSION}|{level}|{text}".encode()).hexdigest()[:24]


def fingerprint_parts(t) -> dict:
    """The aggregates of a read that fingerprint each group's rows."""
    return {"_rows": t.count(), "_bsum": t.batch_id.sum(), "_bmax": t.batch_id.max()}


FP_COLUMNS = ("_rows", "_bsum", "_bmax")


def text(a) -> pd.Series:
    """Scope keys as a plain object column. pandas 3 turns an object array of strings into its Arrow
    string type at every frame built (and back at every `to_numpy`) — done for each of the scan's
    frames, that was a tenth of its reading time; the keys are only compared and grouped here."""
    return pd.Series(np.asarray(a, dtype=object), dtype=object, copy=False)


def coarser_fingerprints(daily: pd.DataFrame, grain: Grain) -> pd.DataFrame:
    """A branch-level fingerprint read (period, branch + FP_COLUMNS) by day, rolled up to `grain`:
    what the same read by `grain` returns (a NULL branch stays a group of its own)."""
    starts = {p: pd.Timestamp(period_start(pd.Timestamp(p).date(), grain)) for p in pd.unique(daily["period"])}
    df = daily.assign(period=daily["period"].map(starts).astype("datetime64[ns]"))
    out = df.groupby(["period", "branch"], as_index=False, sort=False, dropna=False).agg(
        _rows=("_rows", "sum"), _bsum=("_bsum", "sum"), _bmax=("_bmax", "max"))
    return out


NULL_KEY = "\x00"  # the scope value kept for rows whose branch id is NULL


def _by_group(gid: np.ndarray, cols: dict[str, np.ndarray], maxed: set[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Per distinct group id (int64), the sum of each column (the max of those in `maxed`): exact
    integer sums by one sort and `reduceat`. Returns the group ids in ascending order and the columns."""
    order = np.argsort(gid, kind="stable")
    g = gid[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]]) if len(g) else np.zeros(0, dtype=np.int64)
    out = {c: (np.maximum if c in maxed else np.add).reduceat(v[order], starts) if len(g) else v[:0]
           for c, v in cols.items()}
    return g[starts] if len(g) else g, out


def fingerprints(df: pd.DataFrame, look: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """period, key + FINGERPRINT per level, from a branch-level read (period, branch, _rows, _bsum, _bmax).
    Regions are joined from the branch master (`look`: branch, region) as the compiler joins them.
    Grouped on integer codes (periods × regions), not on the text keys: the scan does this for
    140,000 branch-days."""
    code, names = pd.factorize(df["branch"])  # a NULL branch: -1
    crc = np.array([zlib.crc32(str(x).encode("utf-8")) for x in names], dtype=np.int64)
    period = df["period"].to_numpy()
    cols = {"n_rows": df["_rows"].to_numpy(dtype=np.int64),
            "batch_sum": df["_bsum"].fillna(0).to_numpy(dtype=np.int64),
            "batch_max": df["_bmax"].fillna(0).to_numpy(dtype=np.int64),
            "members": np.where(code >= 0, crc[np.maximum(code, 0)], 0)}
    pcode, pvals = pd.factorize(period)
    pvals = np.asarray(pvals)
    gid, agg = _by_group(pcode.astype(np.int64), cols, {"batch_max"})
    bank = pd.DataFrame({"period": pvals[gid], **agg, "key": text(np.full(len(gid), "", dtype=object))})
    # each row once per region the master places its outlet in (an outlet listed twice counts twice,
    # as in the SQL join; one without a region, or not in the master, counts for no region)
    pairs = look.dropna(subset=["branch", "region"])
    rcode, rnames = pd.factorize(pairs["region"])
    pos = {n: i for i, n in enumerate(names)}
    at = np.array([pos.get(b, -1) for b in pairs["branch"]], dtype=np.int64)
    order = np.argsort(code, kind="stable")  # the rows of each outlet, contiguous
    lo, hi = (np.searchsorted(code[order], at, side=side) for side in ("left", "right"))
    ok = at >= 0
    rows = np.concatenate([order[a:b] for a, b in zip(lo[ok], hi[ok], strict=True)] or [np.zeros(0, np.int64)])
    rc = np.repeat(rcode[ok], (hi - lo)[ok])
    nreg = max(len(rnames), 1)
    gid, agg = _by_group(pcode[rows].astype(np.int64) * nreg + rc, {c: v[rows] for c, v in cols.items()},
                         {"batch_max"})
    region = pd.DataFrame({"period": pvals[gid // nreg], "key": text(np.asarray(rnames, dtype=object)[gid % nreg]),
                           **agg})
    # rows without a branch id still count for the bank: kept under a key no branch id can be
    branch = pd.DataFrame({"period": period, "key": text(np.where(code >= 0, df["branch"].to_numpy(dtype=object), NULL_KEY)),
                           **{**cols, "members": np.zeros(len(code), dtype=np.int64)}})
    return {"branch": branch, "region": region, "bank": bank}


def same_rows(j: pd.DataFrame) -> np.ndarray:
    """Per row of a fresh read (FP_COLUMNS) joined to the fingerprints (FINGERPRINT): did the read
    see the rows the fingerprint was taken from?"""
    return ((j["_rows"].to_numpy() == j["n_rows"].to_numpy())
            & (j["_bsum"].fillna(0).to_numpy() == j["batch_sum"].to_numpy())
            & (j["_bmax"].fillna(0).to_numpy() == j["batch_max"].to_numpy()))


class ValueCache:
    """ops.scan_values behind two calls: the kept aggregates valid for some rows, and keep fresh ones."""

    def __init__(self, store):
        self.store = store
        self._pending: list[pa.Table] = []
        self._used: set[str] = set()  # the group keys this scan looked up

    def lookup(self, key: str, level: str, fp: pd.DataFrame, width: int) -> tuple[np.ndarray, np.ndarray]:
        """For the scopes and periods of `fp` (period, key + FINGERPRINT): the positions in `fp` that
        have kept aggregates for their rows as they are now, and those aggregates (positions × width).
        The comparison runs in DuckDB; only positions and numbers come back."""
        f = fp[["key", "period", *FINGERPRINT]].astype({"key": str, "period": "datetime64[us]"})
        f["row"] = np.arange(len(f))
        self._used.add(key)
        cur = self.store.cursor()
        cur.register("fingerprints", f)
        got = cur.sql(sql("anomaly.kept_scan_values"), params={"group_key": key, "level": level}).to_arrow_table()
        cur.unregister("fingerprints")
        rows = got.column("row").to_numpy()
        lists = got.column("vals").combine_chunks()
        vals = lists.flatten().to_numpy(zero_copy_only=False).astype(float)
        if len(vals) != len(rows) * width:  # kept with another width: not ours to read
            return np.zeros(0, dtype=np.int64), np.zeros((0, width))
        return rows, vals.reshape(len(rows), width)

    def master_digest(self) -> int:
        """A digest of the branch master's rows as a 60-bit number (the `members` of a kept custom
        measure's fingerprint, which reads the master: a reload changes it)."""
        return int(self.store.cursor().execute(sql("anomaly.branch_master_digest")).fetchone()[0][:15], 16)

    def keep(self, key: str, level: str, fp: pd.DataFrame, values: np.ndarray) -> None:
        """Keep aggregates (rows × width) with the scopes, periods and fingerprints of `fp` (same rows).
        Written by `flush`, all of a scan's in one transaction (one commit instead of one per group)."""
        if not len(fp):
            return
        width = values.shape[1]
        flat = pa.array(np.ascontiguousarray(values, dtype=float).ravel(), type=pa.float64(), from_pandas=True)
        self._pending.append(pa.table({
            "group_key": pa.array([key] * len(fp), type=pa.string()),
            "level": pa.array([level] * len(fp), type=pa.string()),
            "scope_value": pa.array(fp["key"].astype(str).tolist(), type=pa.string()),
            "period": pa.array(pd.to_datetime(fp["period"]).dt.date.tolist(), type=pa.date32()),
            **{c: pa.array(fp[c].to_numpy(dtype=np.int64)) for c in FINGERPRINT},
            "vals": pa.ListArray.from_arrays(pa.array(np.arange(0, len(fp) * width + 1, width, dtype=np.int32)), flat),
        }))

    def flush(self, prune: bool = False) -> None:
        """Write what `keep` collected: the periods it holds replace those kept before. `prune` (the
        scan read the whole catalogue): drop the values of every key it did not use."""
        if not self._pending and not prune:
            return
        fresh = pa.concat_tables(self._pending) if self._pending else None
        self._pending = []
        with self.store.transaction() as cur:
            if fresh is not None:
                cur.register("fresh_values", fresh)
                cur.execute(sql("anomaly.forget_scan_values"))
                cur.execute(sql("anomaly.keep_scan_values"))
                cur.unregister("fresh_values")
            if prune:
                cur.execute(sql("anomaly.prune_scan_values"), {"keys": sorted(self._used) or [""]})
