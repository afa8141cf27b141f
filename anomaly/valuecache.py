"""Per-period values of non-additive measures, kept between scans (table ops.scan_values).

Why: a quantile (wait P50 / P90) cannot be summed up from branches, so every scan would sort
millions of tickets again for each scope level and every day of history — most of an incremental
scan's database time, for days whose rows did not change. A kept value is used only while the
*fingerprint* of the rows it was computed from is unchanged: their count, the sum and the max of
their batch ids (every row carries the batch that loaded it; a load adds a batch, a rollback
removes one and brings older rows back) and, for a region or the bank, which branches they belong
to. A value whose fingerprint differs — or that was never kept — is read fresh and kept. Emptying
the table only makes the next scan slower.

The measure key hashes the compiled aggregate (definition, filters, option values, the as-of date
when a derived column uses it) on a fixed window, so it does not change as data arrive but does
change with anything that changes the numbers.
"""

from __future__ import annotations

import hashlib
import zlib
from datetime import date

import ibis
import numpy as np
import pandas as pd

from data.sqlfiles import sql
from metrics.compiler import Window, base_table, reduction
from metrics.model import Grain, Measure
from metrics.scope import Scope

VERSION = "1"  # bump when the meaning of a kept value changes
FINGERPRINT = ["n_rows", "batch_sum", "batch_max", "members"]
_CANON = Window(date(2000, 1, 1), date(2000, 1, 2))


def cacheable(m: Measure) -> bool:
    """Plain bases only: a stock's rows depend on the period's last snapshot across all branches, and
    distinct-loan flows on every snapshot of a loan, so neither is a function of its own rows."""
    return not m.stock and not m.distinct_loans


def measure_key(backend, m: Measure, grain: Grain, options: dict) -> str:
    memo = (m, grain, tuple(sorted((k, repr(v)) for k, v in options.items())))
    if memo not in _KEYS:  # an Ibis compile: once per process
        t = base_table(backend, m, grain, _CANON, (), Scope())
        text = ibis.to_sql(t.aggregate(v=reduction(t, m, options)), dialect="duckdb")
        _KEYS[memo] = hashlib.sha1(f"{VERSION}|{grain.value}|{text}".encode()).hexdigest()[:24]
    return _KEYS[memo]


_KEYS: dict[tuple, str] = {}


def fingerprint_parts(t) -> dict:
    """The aggregates of a branch-level read that fingerprint each group's rows."""
    return {"_rows": t.count(), "_bsum": t.batch_id.sum(), "_bmax": t.batch_id.max()}


def fingerprints(df: pd.DataFrame, look: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """period, key + FINGERPRINT per level, from a branch-level read (period, branch, _rows, _bsum, _bmax).
    Regions are joined from the branch master (`look`: branch, region) as the compiler joins them."""
    code, names = pd.factorize(df["branch"])  # a NULL branch: -1
    crc = np.array([zlib.crc32(str(x).encode("utf-8")) for x in names], dtype=np.int64)
    b = pd.DataFrame({"period": df["period"].to_numpy(), "key": df["branch"].to_numpy(dtype=object),
                      "n_rows": df["_rows"].to_numpy(dtype=np.int64),
                      "batch_sum": df["_bsum"].fillna(0).to_numpy(dtype=np.int64),
                      "batch_max": df["_bmax"].fillna(0).to_numpy(dtype=np.int64),
                      "members": np.where(code >= 0, crc[np.maximum(code, 0)], 0)})
    agg = {"n_rows": "sum", "batch_sum": "sum", "batch_max": "max", "members": "sum"}
    if look["branch"].is_unique:  # the usual branch master: a lookup, not a join
        region = b.assign(key=b["key"].map(dict(zip(look["branch"], look["region"], strict=True))))
    else:  # a branch listed twice counts twice, as in the SQL join
        region = b.merge(look.rename(columns={"branch": "key"}), on="key", how="inner")
        region = region.drop(columns="key").rename(columns={"region": "key"})
    region = region.dropna(subset=["key"]).groupby(["period", "key"], as_index=False, sort=False).agg(agg)
    bank = b.groupby("period", as_index=False, sort=False).agg(agg).assign(key="")
    branch = b[code >= 0].assign(members=0)
    return {"branch": branch, "region": region, "bank": bank}


class ValueCache:
    """ops.scan_values behind two calls: what is kept for some measures, and keep fresh values."""

    def __init__(self, store):
        self.store = store

    def lookup(self, keys: list[str], fps: dict[str, pd.DataFrame]) -> tuple[dict[tuple[str, str], pd.DataFrame],
                                                                              set[tuple[str, pd.Timestamp]]]:
        """The kept values still valid for the rows as they are, per (level, measure key) as frames
        (period, key, value), and the (level, period) pairs that must be read fresh. The comparison
        runs in DuckDB; only row numbers and values come back."""
        f = pd.concat([d.assign(level=lv) for lv, d in fps.items()], ignore_index=True)
        f = f[["level", "key", "period", *FINGERPRINT]].astype({"key": str, "period": "datetime64[us]"})
        f["row"] = np.arange(len(f))
        cur = self.store.cursor()
        cur.register("wanted_keys", pd.DataFrame({"measure_key": keys, "k": np.arange(len(keys))}))
        cur.register("fingerprints", f)
        got = cur.execute(sql("anomaly.kept_scan_values")).fetchnumpy()
        rows, ks, kept = (np.asarray(got[c]) for c in ("row", "k", "kept"))
        vals = got["value"]
        vals = vals.filled(np.nan) if np.ma.isMaskedArray(vals) else vals  # a kept NULL is an unknown value
        lost = rows[~kept]
        stale = set(zip(f["level"].to_numpy()[lost], f["period"].to_numpy()[lost], strict=True))
        rows, ks, vals = rows[kept], ks[kept], np.asarray(vals, dtype=float)[kept]
        level, period, key_of = (f[c].to_numpy()[rows] for c in ("level", "period", "key"))
        out: dict[tuple[str, str], pd.DataFrame] = {}
        for lv in fps:
            for i, key in enumerate(keys):
                mask = (level == lv) & (ks == i)
                out[(lv, key)] = pd.DataFrame({"period": period[mask].astype("datetime64[ns]"), "key": key_of[mask],
                                               "value": np.asarray(vals[mask], dtype=float)})
        return out, {(lv, pd.Timestamp(p)) for lv, p in stale}

    def keep(self, fresh: pd.DataFrame) -> None:
        if fresh.empty:
            return
        with self.store.transaction() as cur:
            cur.register("fresh_values", fresh)
            cur.execute(sql("anomaly.forget_scan_values"))
            cur.execute(sql("anomaly.keep_scan_values"))
            cur.unregister("fresh_values")
