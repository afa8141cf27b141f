"""Values on a period grid × scope keys: the scan's reads and KPIs as 2-D arrays.

A scan judges every outlet of a KPI as one block (series × time), so its reads end up as one
array per KPI and level. They used to travel as long frames (period, key, value) — rebuilt per
KPI, joined for ratios, rolled up with group-bys and pivoted again for the detectors — and that
shuffling cost more than reading the numbers. Here a read is scattered onto the grid once; a
ratio, a roll-up to regions and the bank, and the series handed to the detectors are array
operations on it. The numbers are those of the long-frame path (`compile_metric` per KPI and
level; tests/test_anomaly_incremental.py compares every KPI × level).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MISSING = None  # the key of rows without a scope value (they count for the bank only)


@dataclass(frozen=True)
class Grid:
    """Columns of numbers on `index` (periods) × `keys` (scope values, sorted; a trailing None for
    rows without one). `present[p, k]`: the read had a row there; a value is NaN where it had none
    or its aggregate was NULL."""

    index: pd.DatetimeIndex
    keys: np.ndarray
    present: np.ndarray
    cols: dict[str, np.ndarray]

    def col(self, name: str) -> np.ndarray:
        return self.cols[name]

    def align(self, values: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """`values` (periods × `keys`) on this grid's keys (a left join by key): NaN for a key
        `keys` does not have."""
        pos = {k: i for i, k in enumerate(keys)}
        at = np.array([pos.get(k, -1) for k in self.keys], dtype=np.int64)
        out = np.full((len(self.index), len(self.keys)), np.nan)
        ok = at >= 0
        out[:, ok] = values[:, at[ok]]
        return out


def scatter(df: pd.DataFrame, key: str | None, cols: list[str], index: pd.DatetimeIndex,
            unique: bool = True) -> Grid:
    """A long frame (period, [key], cols…) on the grid. Periods off the grid are dropped; rows
    whose key is missing are kept under None (last). `unique`: each period and key occurs once
    (a GROUP BY result); otherwise the first row of each counts."""
    if not unique:
        df = df.drop_duplicates(["period", key] if key else ["period"])
    if key:
        code, uniq = pd.factorize(df[key].to_numpy(dtype=object))  # a missing key: -1
        uniq = np.asarray(uniq, dtype=object)
        order = np.argsort(uniq, kind="stable")  # 200 keys sorted, not 140,000 rows
        rank = np.empty(len(uniq), dtype=np.int64)
        rank[order] = np.arange(len(uniq))
        missing = code < 0
        code = np.where(missing, len(uniq), rank[np.maximum(code, 0)] if len(uniq) else 0)
        keys = np.array([*uniq[order], *([MISSING] if missing.any() else [])], dtype=object)
    else:
        keys, code = np.array([""], dtype=object), np.zeros(len(df), dtype=np.int64)
    pos = index.get_indexer(pd.DatetimeIndex(df["period"]))
    inside = pos >= 0
    r, c = pos[inside], code[inside]
    present = np.zeros((len(index), len(keys)), dtype=bool)
    present[r, c] = True
    out = {}
    for name in cols:
        a = np.full((len(index), len(keys)), np.nan)
        a[r, c] = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)[inside]
        out[name] = a
    return Grid(index, keys, present, out)


def roll_up(g: Grid, look: pd.DataFrame, cols: list[str]) -> dict[str, Grid]:
    """Region and bank grids of additive columns from a branch grid: the sums of the branches' rows
    (a NULL is nothing, as in a SQL or pandas sum); regions from the branch master (`look`: branch,
    region) as the compiler joins them — an outlet listed twice counts twice, one without a region
    counts for the bank only. A region or the bank has a row in a period where any member has."""
    vals = {c: np.nan_to_num(g.cols[c], nan=0.0) for c in cols}
    bank = Grid(g.index, np.array([""], dtype=object), g.present.any(axis=1, keepdims=True),
                {c: np.where(g.present.any(axis=1), v.sum(axis=1), np.nan)[:, None] for c, v in vals.items()})
    pairs = look.dropna(subset=["branch", "region"])
    regions = np.array(sorted(set(pairs["region"])), dtype=object)
    pos = {k: i for i, k in enumerate(g.keys) if k is not MISSING}
    rpos = {r: i for i, r in enumerate(regions)}
    member = np.zeros((len(g.keys), len(regions)))
    for b, r in zip(pairs["branch"], pairs["region"], strict=True):
        if b in pos:
            member[pos[b], rpos[r]] += 1.0
    has = (g.present.astype(float) @ member) > 0
    used = has.any(axis=0)
    region = Grid(g.index, regions[used], has[:, used],
                  {c: np.where(has, v @ member, np.nan)[:, used] for c, v in vals.items()})
    return {"region": region, "bank": bank}
