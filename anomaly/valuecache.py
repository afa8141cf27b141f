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


def _crc(values: pd.Series) -> pd.Series:
    return values.map(lambda b: zlib.crc32(str(b).encode("utf-8")) if isinstance(b, str) else 0).astype("int64")


def fingerprints(df: pd.DataFrame, look: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """period, key + FINGERPRINT per level, from a branch-level read (period, branch, _rows, _bsum, _bmax).
    Regions are joined from the branch master (`look`: branch, region) as the compiler joins them."""
    b = pd.DataFrame({"period": df["period"], "key": df["branch"], "n_rows": df["_rows"].astype("int64"),
                      "batch_sum": df["_bsum"].fillna(0).astype("int64"), "batch_max": df["_bmax"].fillna(0).astype("int64")})
    b["members"] = _crc(b["key"])
    agg = {"n_rows": "sum", "batch_sum": "sum", "batch_max": "max", "members": "sum"}
    region = b.merge(look.rename(columns={"branch": "key"}), on="key", how="inner")
    region = region.drop(columns="key").rename(columns={"region": "key"}).groupby(["period", "key"], as_index=False).agg(agg)
    bank = b.groupby("period", as_index=False).agg(agg).assign(key="")
    return {"branch": b.dropna(subset=["key"]).assign(members=0), "region": region, "bank": bank}


class ValueCache:
    """ops.scan_values behind two calls: what is kept for some measures, and keep fresh values."""

    def __init__(self, store):
        self.store = store

    def lookup(self, keys: list[str], fps: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, set[tuple[str, pd.Timestamp]]]:
        """The kept values still valid for the rows as they are (measure_key, level, key, period,
        value) and the (level, period) pairs that must be read fresh. The comparison runs in DuckDB."""
        f = pd.concat([d.assign(level=lv) for lv, d in fps.items()], ignore_index=True)
        f = f[["level", "key", "period", *FINGERPRINT]].astype({"key": str, "period": "datetime64[us]"})
        cur = self.store.cursor()
        cur.register("wanted_keys", pd.DataFrame({"measure_key": keys}))
        cur.register("fingerprints", f)
        valid = cur.execute(sql("anomaly.valid_scan_values")).df()
        stale = cur.execute(sql("anomaly.stale_scan_periods")).fetchall()
        valid["period"] = pd.to_datetime(valid["period"]).astype("datetime64[ns]")
        return valid, {(lv, pd.Timestamp(p)) for lv, p in stale}

    def keep(self, fresh: pd.DataFrame) -> None:
        if fresh.empty:
            return
        with self.store.transaction() as cur:
            cur.register("fresh_values", fresh)
            cur.execute(sql("anomaly.forget_scan_values"))
            cur.execute(sql("anomaly.keep_scan_values"))
            cur.unregister("fresh_values")
