"""The incremental scan after one day's upload stores, for the new periods, exactly what a full scan
over the same data stores for them — and the scan's few-query reading gives every KPI × level the
same series as one query per KPI and level.

A small demo (6 outlets in 3 regions, Dec 2023 – Nov 2025 through the real ingest: longer than a
year, so a scan that read only recent history would differ), scanned once as in production (which
also fills the kept per-period quantiles, anomaly/valuecache.py), gets one more day: a Monday
re-dated from the Monday before, with one outlet's tickets tripled (a count spike) and half of
another outlet's called tickets turned into no-shows (an abandonment-rate jump), so the new day is
flagged for a count KPI and a rate KPI. The references are full scans with the kept values
emptied first, i.e. everything read fresh.
"""
from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anomaly.extract import Reader, Request, by_branch
from anomaly.scan import _levels, grid_series, scan, scan_after_batch, series_for
from data.ops import OPS
from data.store import Store
from metrics.catalogue import CATALOGUE
from metrics.compiler import Window
from metrics.compute import metric_span
from metrics.options import resolve

END = date(2025, 11, 30)  # a Sunday: the new day is Monday 1 December, a regular working day
NEW_DAY = END + timedelta(days=1)
SPIKE_BRANCH_AT, JUMP_BRANCH_AT = 0, 3  # positions in the sorted outlet list


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, Path]:
    """(store with the demo loaded and scanned — the scans before this upload and the values they
    keep —, the extra day's CSV)."""
    from helpers_demo import demo_store

    from data.demo import DemoSpec

    base = tmp_path_factory.mktemp("incremental")
    db = demo_store(base, DemoSpec(seed=5, branches=6, years=2, as_of=END), scan=True)
    return db, _new_day_csv(base / "files", base / "new_day.csv")


def _new_day_csv(files: Path, out: Path) -> Path:
    last = sorted(files.glob("counter_tickets_*.csv"))[-1]
    try:
        df = pd.read_csv(last, dtype=str, encoding="utf-8-sig")
    except UnicodeDecodeError:  # the demo writes some months as GBK, like the bank's own exports
        df = pd.read_csv(last, dtype=str, encoding="gbk")
    # the demo writes dates as the bank's systems do (2025/11/3, 2025-11-03 …): read them as dates
    days = pd.to_datetime(df["业务日期"], format="mixed").dt.date
    one = df[days == NEW_DAY - timedelta(days=7)].copy()
    assert len(one), "the demo should hold the Monday before"
    week = pd.Timedelta(days=7)
    for c in ("取号时间", "叫号时间", "开始办理时间", "完成时间"):
        t = pd.to_datetime(one[c], format="mixed") + week
        one[c] = t.dt.strftime("%Y-%m-%d %H:%M:%S").where(t.notna(), None)
    one["业务日期"] = NEW_DAY.isoformat()
    outlets = sorted(one["网点编号"].unique())
    spike = one[one["网点编号"] == outlets[SPIKE_BRANCH_AT]]
    extra = [spike.assign(票号=spike["票号"] + f"X{k}") for k in (1, 2)]  # three times the tickets
    one = pd.concat([one, *extra], ignore_index=True)
    jump = (one["网点编号"] == outlets[JUMP_BRANCH_AT]) & one["叫号时间"].notna()
    noshow = jump & (np.arange(len(one)) % 2 == 0)
    one.loc[noshow, ["开始办理时间", "完成时间", "窗口号", "柜员号", "办理时长(秒)"]] = None
    one.loc[noshow, "状态"] = "过号"
    one.to_csv(out, index=False)
    return out


@pytest.fixture(scope="module")
def loaded(demo, tmp_path_factory) -> tuple[Path, int]:
    """The demo store with the new day ingested (not scanned), and the batch id."""
    from data.ingest import ingest_file

    db = tmp_path_factory.mktemp("loaded") / "loaded.duckdb"
    shutil.copy(demo[0], db)
    store = Store(db)
    try:
        res = ingest_file(store, demo[1])
        assert res.status == "loaded", res.issues.head()
    finally:
        store.close()
    return db, res.batch_id


def _copy(src: Path, tmp_path: Path, name: str, *, fresh: bool = False) -> Store:
    dst = tmp_path / name
    shutil.copy(src, dst)
    store = Store(dst)
    if fresh:  # a reference: nothing kept from earlier scans, every value read from the rows
        store.cursor().execute("DELETE FROM ops.scan_values")
    return store


def _kept(store: Store) -> pd.DataFrame:
    """Every kept aggregate, one per row."""
    return store.cursor().execute(
        "SELECT group_key, level, scope_value, period, n_rows, batch_sum, batch_max, members, "
        "generate_subscripts(vals, 1) AS i, unnest(vals) AS v FROM ops.scan_values ORDER BY ALL").df()


COLS = ["anomaly_id", "metric_id", "scope_kind", "scope_value", "period", "period_end", "anomaly_kind",
        "detector", "direction", "severity", "observed", "expected", "lower", "upper", "denominator", "score"]


def test_incremental_scan_stores_what_a_full_scan_stores_for_the_new_day(loaded, tmp_path):
    db, batch_id = loaded
    inc = _copy(db, tmp_path, "inc.duckdb")
    try:
        batch = OPS.get_batch(inc.cursor(), batch_id)
        assert batch.min_date == NEW_DAY
        r = scan_after_batch(inc, batch)
        got = inc.cursor().execute(f"SELECT {', '.join(COLS)} FROM ops.anomalies WHERE anomaly_id IN "
                                   "(SELECT unnest($i))", {"i": r.anomaly_ids}).df()
        branches = {x[0] for x in inc.cursor().execute(
            "SELECT DISTINCT branch_id FROM main.counter_tickets WHERE batch_id = $b", {"b": batch_id}).fetchall()}
        regions = {x[0] for x in inc.cursor().execute(
            "SELECT DISTINCT region FROM main.branches WHERE branch_id IN (SELECT unnest($b))", {"b": sorted(branches)}).fetchall()}
        kept = _kept(inc)
    finally:
        inc.close()
    assert r is not None and r.series > 0
    full = _copy(db, tmp_path, "full.duckdb", fresh=True)
    try:
        rf = scan(full, trigger="test")
        ref = full.cursor().execute(f"SELECT {', '.join(COLS)} FROM ops.anomalies WHERE anomaly_id IN "
                                    "(SELECT unnest($i))", {"i": rf.anomaly_ids}).df()
        kept_ref = _kept(full)
    finally:
        full.close()
    # the incremental scan read only the new day; what it kept equals a fresh read of every day
    mine = kept[kept["group_key"].isin(set(kept_ref["group_key"]))].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, kept_ref[kept_ref["group_key"].isin(set(kept["group_key"]))]
                                  .reset_index(drop=True), check_exact=False, rtol=1e-12)
    assert (pd.to_datetime(mine["period"]) == pd.Timestamp(NEW_DAY)).any()

    since = pd.Timestamp(NEW_DAY - timedelta(days=1))
    counter = {m.id for m in CATALOGUE.values() if "counter_tickets" in m.sources}
    touched = ref["scope_kind"].eq("bank") | (ref["scope_kind"].eq("region") & ref["scope_value"].isin(regions)) | (
        ref["scope_kind"].eq("branch") & ref["scope_value"].isin(branches))
    want = ref[ref["metric_id"].isin(counter) & touched & (pd.to_datetime(ref["period_end"]) >= since)]
    assert set(got["anomaly_id"]) == set(r.anomaly_ids)
    assert sorted(got["anomaly_id"]) == sorted(want["anomaly_id"])
    a = got.set_index("anomaly_id").sort_index()
    b = want.set_index("anomaly_id").sort_index()
    for c in ("metric_id", "scope_kind", "scope_value", "period", "anomaly_kind", "detector", "direction", "severity"):
        assert a[c].tolist() == b[c].tolist(), c
    for c in ("observed", "expected", "lower", "upper", "denominator", "score"):
        np.testing.assert_allclose(a[c].to_numpy(float), b[c].to_numpy(float), rtol=1e-9, atol=1e-12, err_msg=c)
    # the day is flagged, for a count KPI and a rate KPI
    new_day = a[pd.to_datetime(a["period"]) == pd.Timestamp(NEW_DAY)]
    units = {CATALOGUE[m].unit.value for m in new_day["metric_id"]}
    assert {"count", "rate"} <= units, new_day[["metric_id", "scope_kind", "scope_value", "anomaly_kind"]]


def test_few_query_reading_gives_every_kpi_and_level_the_series_of_one_query_each(loaded, tmp_path):
    store = _copy(loaded[0], tmp_path, "read.duckdb")
    try:
        options = resolve(None)
        plan = []
        for m in CATALOGUE.values():
            lo, hi = metric_span(store, m)
            if lo is not None and hi is not None:
                plan.append((m, lo, hi))
        fast = [(m, lo, hi) for m, lo, hi in plan if by_branch(m, options)]
        assert {"counter.wait_p90_min", "counter.abandonment_rate", "counter.window_utilisation",
                "feedback.complaints_per_10k"} <= {m.id for m, *_ in fast}
        reader = Reader(store, options)
        reader.read(Request(m, m.default_grain, Window(lo, hi), tuple(lv for lv, _ in _levels(m))) for m, lo, hi in fast)
        checked = 0
        for m, lo, hi in fast:
            for level, by in _levels(m):
                mine = grid_series(reader.kpi(m, m.default_grain, Window(lo, hi), level), m, level)
                ref = series_for(store, m, m.default_grain, lo, hi, level, by, options)
                assert sorted(mine) == sorted(ref), (m.id, level)
                for key, s in ref.items():
                    t = mine[key]
                    assert (t.kind, t.series_id) == (s.kind, s.series_id)
                    assert t.index.equals(s.index)
                    np.testing.assert_allclose(t.values.to_numpy(), s.values.to_numpy(), rtol=1e-12, atol=1e-12,
                                               err_msg=f"{m.id} {level} {key}")
                    assert (t.denominator is None) == (s.denominator is None)
                    if s.denominator is not None:
                        np.testing.assert_array_equal(t.denominator.to_numpy(), s.denominator.to_numpy())
                    checked += 1
        assert checked > 100
    finally:
        store.close()


def test_kept_values_follow_a_corrected_day_and_its_rollback(loaded, demo, tmp_path):
    """A re-upload of a past day (one outlet's waits doubled) replaces rows; rolling it back brings the
    old rows back; a branch master reload changes window capacity. After each, a scan that uses kept
    values stores what a fresh full scan stores."""
    from data.batches import rollback
    from data.ingest import ingest_file

    day = NEW_DAY - timedelta(days=21)
    fix = tmp_path / "fix.csv"
    _correction_csv(demo[1].parent / "files", day, fix)
    db = tmp_path / "corrected.duckdb"
    shutil.copy(loaded[0], db)
    store = Store(db)
    try:
        scan(store, trigger="test")  # every day kept, the new one included
        res = ingest_file(store, fix)
        assert res.status == "loaded" and res.rows_updated > 0, res.issues.head()
        r = scan_after_batch(store, OPS.get_batch(store.cursor(), res.batch_id))
        assert r is not None
        _same_as_fresh(store, tmp_path, "after_fix")
        rollback(store, res.batch_id, user="test")
        _same_as_fresh(store, tmp_path, "after_rollback")
        # a branch master reload (new batch ids) with other window counts: window capacity changes
        # although no ticket did, so kept capacities must not be used
        store.cursor().execute("UPDATE main.branches SET open_windows = open_windows + 1, batch_id = batch_id + 1000")
        _same_as_fresh(store, tmp_path, "after_master")
    finally:
        store.close()


def _correction_csv(files: Path, day: date, out: Path) -> None:
    month = sorted(files.glob(f"counter_tickets_{day:%Y-%m}.*"))[0]
    try:
        df = pd.read_csv(month, dtype=str, encoding="utf-8-sig")
    except UnicodeDecodeError:
        df = pd.read_csv(month, dtype=str, encoding="gbk")
    rows = df[pd.to_datetime(df["业务日期"], format="mixed").dt.date == day]
    rows = rows[rows["网点编号"] == sorted(rows["网点编号"].unique())[1]].copy()
    wait = pd.to_numeric(rows["等待时长(秒)"])
    rows["等待时长(秒)"] = (wait * 2).astype("Int64").astype(str).where(wait.notna(), None)
    rows.to_csv(out, index=False)


def _same_as_fresh(store: Store, tmp_path: Path, name: str) -> None:
    """A full scan of `store` (using its kept values) stores what a full scan reading everything fresh stores."""
    r = scan(store, trigger="test")
    got = store.cursor().execute(f"SELECT {', '.join(COLS)} FROM ops.anomalies WHERE anomaly_id IN (SELECT unnest($i))",
                                 {"i": r.anomaly_ids}).df().set_index("anomaly_id").sort_index()
    store.cursor().execute("CHECKPOINT")
    ref_store = _copy(store.path, tmp_path, f"{name}.duckdb", fresh=True)
    try:
        rr = scan(ref_store, trigger="test")
        ref = ref_store.cursor().execute(f"SELECT {', '.join(COLS)} FROM ops.anomalies WHERE anomaly_id IN "
                                         "(SELECT unnest($i))", {"i": rr.anomaly_ids}).df().set_index("anomaly_id").sort_index()
        kept_ref = _kept(ref_store)
    finally:
        ref_store.close()
    # the values behind the flags: every kept quantile equals a fresh read of its rows (the corrected day too)
    pd.testing.assert_frame_equal(_kept(store), kept_ref, check_exact=False, rtol=1e-12)
    assert list(got.index) == list(ref.index)
    for c in ("observed", "expected", "lower", "upper", "denominator", "score"):
        np.testing.assert_allclose(got[c].to_numpy(float), ref[c].to_numpy(float), rtol=1e-9, atol=1e-12, err_msg=c)


def test_a_full_scan_drops_kept_values_of_keys_it_no_longer_uses(demo, tmp_path, monkeypatch):
    """A changed definition or option gives its reads a new key; the old key's rows are dropped by
    the next scan of the whole catalogue, not by a partial one. Values that depend on the scan's
    last day (matured cases) are not kept at all."""
    store = _copy(demo[0], tmp_path, "prune.duckdb")
    try:
        cur = store.cursor()
        keys = {r[0] for r in cur.execute("SELECT DISTINCT group_key FROM ops.scan_values").fetchall()}
        assert keys
        cur.execute("INSERT INTO ops.scan_values SELECT 'an-old-key', level, scope_value, period, n_rows, batch_sum, "
                    "batch_max, members, vals FROM ops.scan_values LIMIT 5")
        scan(store, metrics=["counter.tickets_served"], trigger="test")  # one KPI: others' keys stay
        assert cur.execute("SELECT count(*) FROM ops.scan_values WHERE group_key = 'an-old-key'").fetchone()[0] == 5
        scan(store, trigger="test")
        left = {r[0] for r in cur.execute("SELECT DISTINCT group_key FROM ops.scan_values").fetchall()}
        assert left == keys  # the old key gone, every key in use kept
        # a day later (a new as-of date): nothing that reads the as-of date is kept
        from anomaly.extract import Reader
        from data.ingest import ingest_file
        from metrics.compiler import reads_as_of

        kept_groups = []
        real = Reader._read_kept

        def spy(self, first, wanted, *args, **kw):
            kept_groups.append([m for ms in wanted.values() for m in ms])
            return real(self, first, wanted, *args, **kw)

        monkeypatch.setattr(Reader, "_read_kept", spy)
        assert ingest_file(store, demo[1]).status == "loaded"
        scan(store, trigger="test")
        assert kept_groups and not any(reads_as_of(m) for ms in kept_groups for m in ms)
        assert any(m.source == "feedback_records" for ms in kept_groups for m in ms)  # others of the source are
    finally:
        store.close()
