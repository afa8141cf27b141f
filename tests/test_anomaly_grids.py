"""The scan's grids (anomaly/grids.py) against the long-frame operations they replace.

`scatter` puts a GROUP BY result on the period grid; `roll_up` sums branch rows into regions and the
bank as the compiler's join with the branch master and a group-by would. Both are checked here on
messy frames — rows without a scope, "" as a real key, periods off the grid, duplicate rows, an
outlet the master lists twice or not at all, NULL aggregates — against plain pandas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly.grids import MISSING, roll_up, scatter

INDEX = pd.DatetimeIndex(pd.date_range("2025-01-01", periods=30, freq="D"))


def _frame(seed: int, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    keys = np.array(["B01", "B02", "B03", "B04", "", None, "B10"], dtype=object)
    df = pd.DataFrame({
        "period": INDEX[0] + pd.to_timedelta(rng.integers(-3, 33, n), "D"),  # some off the grid
        "branch": keys[rng.integers(0, len(keys), n)],
        "a": rng.integers(0, 50, n).astype(float),
        "b": rng.normal(size=n),
    })
    df.loc[rng.random(n) < 0.1, "b"] = np.nan  # a NULL aggregate: the row is there, its value is not
    return df


def _long(g, col: str) -> pd.DataFrame:
    r, c = np.nonzero(g.present)
    return (pd.DataFrame({"period": g.index[r], "key": g.keys[c], "v": g.col(col)[r, c]})
            .sort_values(["period", "key"], key=lambda s: s.astype(str)).reset_index(drop=True))


@pytest.mark.parametrize("seed", range(5))
def test_scatter_puts_every_row_on_the_grid_once(seed):
    df = _frame(seed)
    g = scatter(df, "branch", ["a", "b"], INDEX, unique=False)
    ref = df.drop_duplicates(["period", "branch"])  # the first row of a period and key counts
    ref = ref[ref["period"].isin(INDEX)]
    real = [k for k in g.keys if k is not MISSING]
    assert real == sorted(real) and ("" in real) == ("" in set(ref["branch"].dropna()))
    assert (MISSING in list(g.keys)) == ref["branch"].isna().any()
    for col in ("a", "b"):
        got = _long(g, col)
        want = (pd.DataFrame({"period": ref["period"].to_numpy(), "key": ref["branch"].to_numpy(dtype=object),
                              "v": ref[col].to_numpy()})
                .sort_values(["period", "key"], key=lambda s: s.astype(str)).reset_index(drop=True))
        pd.testing.assert_frame_equal(got, want, check_dtype=False)


@pytest.mark.parametrize("seed", range(5))
def test_roll_up_equals_the_join_and_group_by(seed):
    df = _frame(seed).drop_duplicates(["period", "branch"])
    df = df[df["period"].isin(INDEX)]
    # B02 in two regions, B04 listed twice (counts twice, as in a join), B03 without a region, B10
    # not in the master
    look = pd.DataFrame({"branch": ["B01", "B02", "B02", "B03", "B04", "B04", ""],
                         "region": ["East", "East", "West", None, "West", "West", "North"]})
    g = scatter(df, "branch", ["a", "b"], INDEX)
    rolled = roll_up(g, look, ["a", "b"])
    region = (df.merge(look, on="branch", how="inner").dropna(subset=["region"])
              .groupby(["period", "region"], as_index=False)[["a", "b"]].sum())
    bank = df.groupby("period", as_index=False)[["a", "b"]].sum()  # rows without a branch count here
    for col in ("a", "b"):
        got = _long(rolled["region"], col)
        want = region.rename(columns={"region": "key", col: "v"})[["period", "key", "v"]]
        pd.testing.assert_frame_equal(got, want.sort_values(["period", "key"]).reset_index(drop=True),
                                      check_dtype=False, rtol=1e-12)
        got = _long(rolled["bank"], col)
        want = bank.assign(key="").rename(columns={col: "v"})[["period", "key", "v"]]
        pd.testing.assert_frame_equal(got, want, check_dtype=False, rtol=1e-12)


def test_a_frame_without_keys_is_one_column():
    df = pd.DataFrame({"period": INDEX[:3], "value": [1.0, None, 3.0]})
    g = scatter(df, None, ["value"], INDEX)
    assert list(g.keys) == [""] and g.present[:3, 0].all() and not g.present[3:, 0].any()
    np.testing.assert_array_equal(g.col("value")[:4, 0], [1.0, np.nan, 3.0, np.nan])
