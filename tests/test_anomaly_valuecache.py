"""Fingerprints of kept values (anomaly/valuecache.py) against plain pandas group-bys.

A kept aggregate is used only while the fingerprint of its rows is unchanged, so a fingerprint
that drops or merges groups wrongly would silently reuse stale numbers. The per-level fingerprints
(grouped on integer codes) and the coarser grains rolled up from a day read are checked here
against the obvious pandas computation, on frames with rows without a branch, outlets the master
lists twice or without a region, and NULL batch sums.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
import pytest

from anomaly.valuecache import coarser_fingerprints, fingerprints
from metrics.model import Grain
from metrics.periods import period_start

COLS = ["n_rows", "batch_sum", "batch_max", "members"]


def _read(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 4000
    names = np.array([f"B{i:03d}" for i in range(30)] + [None], dtype=object)
    df = pd.DataFrame({"period": pd.Timestamp("2024-12-20") + pd.to_timedelta(rng.integers(0, 80, n), "D"),
                       "branch": pd.Series(names[rng.integers(0, len(names), n)], dtype=object),
                       "_rows": rng.integers(1, 100, n),
                       "_bsum": rng.integers(1, 10**6, n).astype(float),
                       "_bmax": rng.integers(1, 99, n).astype(float)})
    df = df.drop_duplicates(["period", "branch"]).reset_index(drop=True)
    df.loc[df.sample(frac=0.02, random_state=seed).index, "_bsum"] = np.nan
    return df


def _ref(df: pd.DataFrame, look: pd.DataFrame) -> dict[str, pd.DataFrame]:
    b = pd.DataFrame({"period": df["period"], "key": df["branch"].astype(object), "n_rows": df["_rows"],
                      "batch_sum": df["_bsum"].fillna(0).astype(np.int64), "batch_max": df["_bmax"].astype(np.int64),
                      "members": [zlib.crc32(k.encode()) if isinstance(k, str) else 0 for k in df["branch"]]})
    agg = {"n_rows": "sum", "batch_sum": "sum", "batch_max": "max", "members": "sum"}
    region = (b.merge(look.rename(columns={"branch": "key"}), on="key", how="inner").drop(columns="key")
              .rename(columns={"region": "key"}).dropna(subset=["key"]).groupby(["period", "key"], as_index=False).agg(agg))
    bank = b.groupby("period", as_index=False).agg(agg).assign(key="")
    branch = b.assign(key=b["key"].where(b["key"].notna(), "\x00"), members=0)
    return {"branch": branch, "region": region, "bank": bank}


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    out = df[["period", "key", *COLS]].astype({c: np.int64 for c in COLS} | {"key": object})
    return out.sort_values(["period", "key"]).reset_index(drop=True)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("look", [
    pd.DataFrame({"branch": [f"B{i:03d}" for i in range(28)], "region": [f"R{i % 3}" for i in range(28)]}),
    # B001 twice in one region (counts twice, as the SQL join does), B002 without a region
    pd.DataFrame({"branch": [f"B{i:03d}" for i in range(28)] + ["B001"],
                  "region": [None if i == 2 else f"R{i % 3}" for i in range(28)] + ["R1"]}),
], ids=["unique", "listed-twice"])
def test_fingerprints_per_level_equal_a_group_by(seed, look):
    df = _read(seed)
    got, want = fingerprints(df, look), _ref(df, look)
    for level in ("branch", "region", "bank"):
        pd.testing.assert_frame_equal(_sorted(got[level]), _sorted(want[level]), check_dtype=False, obj=level)


@pytest.mark.parametrize("grain", [Grain.WEEK, Grain.MONTH, Grain.QUARTER, Grain.YEAR])
def test_coarser_fingerprints_equal_a_read_by_that_grain(grain):
    df = _read(7)
    got = coarser_fingerprints(df, grain)
    by = df.assign(period=[pd.Timestamp(period_start(p.date(), grain)) for p in df["period"]])
    want = by.groupby(["period", "branch"], as_index=False, dropna=False).agg(
        _rows=("_rows", "sum"), _bsum=("_bsum", "sum"), _bmax=("_bmax", "max"))
    key = lambda d: d.assign(branch=d["branch"].fillna("~")).sort_values(["period", "branch"]).reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(key(got)[["period", "branch", "_rows", "_bsum", "_bmax"]], key(want),
                                  check_dtype=False)


def test_a_kept_key_carries_the_as_of_date_only_where_the_numbers_read_it():
    """Keys are compiled once per process; the scan's as-of date (its last day) changes with every
    upload, but only expressions that read it (matured cases) may get a new key from it."""
    from datetime import date

    import ibis

    from anomaly.extract import _compiled_key

    t = ibis.table({"period": "date", "x": "int64"}, name="t")

    def reads_it(o):
        return t.group_by("period").aggregate(n=t.x.count(where=t.period < ibis.date(o["_as_of"])))

    def does_not(o):
        return t.group_by("period").aggregate(n=t.x.count())

    for build, differs in ((reads_it, True), (does_not, False)):
        got = [_compiled_key((build.__name__,), build, {"_as_of": d, "x": 1}, "bank", ("period",))
               for d in (date(2026, 1, 1), date(2026, 1, 2))]
        assert len({key for key, _ in got}) == (2 if differs else 1), build.__name__
        assert all(cols == ["n"] for _, cols in got)


def test_the_as_of_declarations_are_complete(tmp_path):
    """Every measure of the catalogue whose declaration says it does not read the as-of date
    compiles to the same SQL for two dates, and every one that says it does compiles differently:
    a kept value keyed without the date is then valid for any scan's last day."""
    from datetime import date

    import ibis

    from anomaly.extract import count_of
    from data.store import Store
    from metrics.catalogue import CATALOGUE
    from metrics.compiler import Window, measure_table, reads_as_of
    from metrics.options import resolve
    from metrics.scope import Scope

    store = Store(tmp_path / "empty.duckdb")
    try:
        backend, opts = store.ibis(), resolve(None)
        window = Window(date(2000, 1, 1), date(2000, 1, 2))
        seen = reading = 0
        for metric in CATALOGUE.values():
            den = metric.denominator
            for m in {metric.measure(opts), *([den, count_of(den)] if den else [])} - {None}:
                declared = reads_as_of(m)
                if declared is None:
                    continue  # a custom measure: the scan compiles it for two dates itself
                sql = {ibis.to_sql(measure_table(backend, m, metric.default_grain, window, ("branch",) if "branch"
                                                 in metric.dimensions else (), Scope(), {**opts, "_as_of": d}))
                       for d in (date(2025, 1, 31), date(2025, 2, 28))}
                assert (len(sql) == 2) == declared, (metric.id, m)
                seen += 1
                reading += declared
        assert seen > 40 and reading >= 1
    finally:
        store.close()
