"""Seeded synthetic bank benchmark for the anomaly detectors (labels + decoys), 2023–2025 daily.

Series follow real branch behaviour on the Chinese business calendar (data/calendar.py):
counter volume collapses on 法定假日 (holiday_off), 调休 make-up days are normal working days,
the two working days after a long break are +30–50 %, month/quarter/year ends peak; waits rise
with volume (superlinearly); rates come with denominators from 50 to 50,000 and binomial noise;
complaints are Poisson with mean 0.5–5. Injected anomalies are labelled as windows
(spike: day ±1; level shift: onset −1 … onset +7; drift: onset −1 … first half; variance: onset −1 …
onset +14; rate jump: like a spike or a shift). Decoys — spans that look unusual but are normal —
are written in score.py's --decoys format [[start, end, kind], ...].

Writes bench/out/anomaly/{data.csv, labels.json, decoys.json, n_points.json}.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from data.calendar import day_table

OUT = Path(__file__).parent / "out" / "anomaly"
START, END = date(2023, 1, 1), date(2025, 12, 31)
SEED = 20260101
WEEKDAY = np.array([1.10, 1.0, 0.95, 0.97, 1.08, 0.45, 0.35])  # Mon..Sun counter load


def calendar() -> pd.DataFrame:
    t = day_table(START, END).copy()
    t["date"] = pd.to_datetime(t["date"])
    return t


def volume_profile(t: pd.DataFrame, rng) -> np.ndarray:
    """Multiplicative calendar effect on counter volume."""
    wd = t["weekday"].to_numpy()
    m = WEEKDAY[wd].copy()
    dtype = t["day_type"].to_numpy()
    m[dtype == "adjusted_workday"] = 1.0  # make-up days behave like a normal working day
    m[dtype == "holiday_off"] = rng.uniform(0.08, 0.15)
    post = t["post_holiday"].to_numpy()
    m[post] *= rng.uniform(1.3, 1.5, post.sum())
    m[t["pre_holiday"].to_numpy()] *= 1.1
    m[t["month_end"].to_numpy()] *= rng.uniform(1.15, 1.25)
    m[t["quarter_end"].to_numpy()] *= 1.15
    m[t["year_end"].to_numpy()] *= 1.15
    return m


def decoy_spans(t: pd.DataFrame, extra: list | None = None) -> list[list[str]]:
    d = t["date"].dt.strftime("%Y-%m-%d").to_numpy()
    out = []
    hol = (t["day_type"] == "holiday_off").to_numpy()
    run = np.cumsum(np.r_[True, hol[1:] != hol[:-1]])
    for r in np.unique(run[hol]):
        ii = np.flatnonzero(run == r)
        out.append([d[ii[0]], d[ii[-1]], "holiday"])
    for name, col in (("adjusted_workday", t["day_type"] == "adjusted_workday"),
                      ("post_holiday", t["post_holiday"]), ("quarter_end", t["quarter_end"]),
                      ("year_end", t["year_end"]),
                      ("month_end", t["month_end"] & ~t["quarter_end"])):
        col = col.to_numpy()
        run = np.cumsum(np.r_[True, col[1:] != col[:-1]])
        for r in np.unique(run[col]):
            ii = np.flatnonzero(run == r)
            out.append([d[ii[0]], d[ii[-1]], name])
    return out + (extra or [])


def pick_onsets(t: pd.DataFrame, rng, k: int, margin: int = 70) -> list[int]:
    """k onsets on ordinary working days, ≥ `margin` days apart, clear of special days."""
    special = (t["day_type"].isin(["holiday_off", "adjusted_workday"]) | t["post_holiday"]
               | t["pre_holiday"] | t["month_end"]).to_numpy()
    near = np.convolve(special.astype(float), np.ones(7), mode="same") > 0
    cand = np.flatnonzero(~near & (t["day_type"] == "workday").to_numpy() & (np.arange(len(t)) > 90) & (np.arange(len(t)) < len(t) - 60))
    chosen: list[int] = []
    for i in rng.permutation(cand):
        if all(abs(i - c) >= margin for c in chosen):
            chosen.append(int(i))
        if len(chosen) == k:
            break
    return sorted(chosen)


def inject(kind: str, n: int, i: int, rng, t: pd.DataFrame):
    """Multiplicative effect array, noise multiplier array and label window for one anomaly."""
    eff, noise = np.ones(n), np.ones(n)
    d = t["date"]
    def win(a, b):
        return [d.iloc[max(a, 0)].strftime("%Y-%m-%d"), d.iloc[min(b, n - 1)].strftime("%Y-%m-%d"), kind]

    if kind == "spike":
        eff[i] = rng.choice([rng.uniform(1.8, 2.6), rng.uniform(0.3, 0.5)])
        return eff, noise, win(i - 1, i + 1)
    if kind == "level_shift":
        eff[i:] = rng.choice([rng.uniform(1.3, 1.6), rng.uniform(0.6, 0.75)])
        return eff, noise, win(i - 1, i + 7)
    if kind == "drift":
        L = int(rng.integers(30, 50))
        top = rng.choice([rng.uniform(1.4, 1.7), rng.uniform(0.5, 0.65)])
        eff[i:i + L] = np.linspace(1, top, L)
        eff[i + L:] = top
        return eff, noise, win(i - 1, i + L // 2)
    if kind == "variance":
        L = int(rng.integers(30, 45))
        noise[i:i + L] = rng.uniform(3.0, 4.0)
        return eff, noise, win(i - 1, i + 14)
    raise ValueError(kind)


def build(seed: int = SEED):
    rng = np.random.default_rng(seed)
    t = calendar()
    n = len(t)
    dates = t["date"].dt.strftime("%Y-%m-%d").to_numpy()
    rows, labels, decoys = [], {}, {}
    base_decoys = decoy_spans(t)
    kinds_cycle = ["spike", "level_shift", "drift", "variance"]

    def add(sid, values, den=None, kind="count", lab=(), extra_decoys=()):
        df = pd.DataFrame({"date": dates, "branch": sid.split("/")[0], "kpi": sid.split("/")[1],
                           "value": values, "kind": kind})
        df["denominator"] = den if den is not None else np.nan
        rows.append(df)
        labels[sid] = list(lab)
        decoys[sid] = base_decoys + list(extra_decoys)

    for b in range(24):  # counter volume + waits per branch
        base = rng.uniform(150, 2000)
        prof = volume_profile(t, rng)
        season = 1 + 0.08 * np.sin(2 * np.pi * (t["date"].dt.day_of_year.to_numpy() / 365.25 + rng.uniform()))
        eff, noise, lab = np.ones(n), np.ones(n), []
        if b % 5 != 4:  # a fifth of branches stay clean: pure false-alarm measurement
            for j, i in enumerate(pick_onsets(t, rng, int(rng.integers(1, 4)))):
                e, nz, w = inject(kinds_cycle[(b + j) % 4], n, i, rng, t)
                eff, noise, lab = eff * e, noise * nz, lab + [w]
        mu = base * prof * season * eff * np.exp(rng.normal(0, 0.05 * noise, n))
        vol = rng.poisson(mu).astype(float)
        add(f"B{b:02d}/counter_volume", vol, kind="count", lab=lab)
        # waits: driven by volume relative to the branch's normal working-day load
        wbase = rng.uniform(6, 20)
        load = prof * np.exp(rng.normal(0, 0.05, n))  # the clean load: volume anomalies are labelled there
        weff, wnoise, wlab = np.ones(n), np.ones(n), []
        if b % 3 == 0:
            for i in pick_onsets(t, rng, 1):
                e, nz, w = inject(["spike", "level_shift"][b % 2], n, i, rng, t)
                weff, wnoise, wlab = weff * e, wnoise * nz, wlab + [w]
                # a real wait anomaly after the volume one on the same day would double-count
        wait = wbase * np.clip(load, 0.05, None) ** 1.2 * weff * np.exp(rng.normal(0, 0.07 * wnoise, n))
        if b % 3 == 0:
            add(f"B{b:02d}/avg_wait_min", np.round(wait, 2), kind="duration", lab=wlab)

    for r in range(22):  # rates with denominators (overdue / abandonment / on-time closure)
        nbase = float(np.exp(rng.uniform(np.log(50), np.log(50000))))
        p0 = rng.uniform(0.005, 0.08)
        den = np.maximum(rng.poisson(nbase * np.where(t["is_workday"], 1.0, 0.9)), 1).astype(float)
        p = np.full(n, p0)
        lab, extra = [], []
        if nbase >= 2000 and r % 4 != 3:
            for j, i in enumerate(pick_onsets(t, rng, 2)):
                mult = rng.uniform(1.3, 2.0) if p0 > 0.02 else rng.uniform(1.6, 2.5)
                if j % 2 == 0:
                    p[i] *= mult
                    lab.append([dates[i - 1], dates[i + 1], "rate_jump"])
                else:
                    p[i:] *= mult
                    lab.append([dates[i - 1], dates[i + 7], "rate_jump"])
        rho = rng.uniform(0, 2e-4)
        a = p * (1 - rho) / rho if rho > 0 else None
        x = rng.binomial(den.astype(int), rng.beta(a, (1 - p) * (1 - rho) / rho) if a is not None else p)
        rate = x / den
        if nbase < 2000:  # small-denominator wobble: the days the rate moved most are decoys
            dev = np.abs(rate - p0)
            for i in np.argsort(dev)[-10:]:
                extra.append([dates[i], dates[i], "small_denominator"])
        add(f"R{r:02d}/rate", rate, den=den, kind="rate", lab=lab, extra_decoys=extra)

    for c in range(20):  # complaints: low counts
        lam = rng.uniform(0.5, 5)
        m = np.where(t["day_type"] == "holiday_off", 0.3, np.where(t["is_workday"], 1.0, 0.6)) * lam
        lab = []
        if c % 4 != 3:
            for j, i in enumerate(pick_onsets(t, rng, 2)):
                if j % 2 == 0:
                    m = m.copy()
                    m[i] += max(8 * np.sqrt(lam), 6)  # a burst of complaints
                    lab.append([dates[i - 1], dates[i + 1], "spike"])
                else:
                    m = m.copy()
                    m[i:] *= 3.0
                    lab.append([dates[i - 1], dates[i + 7], "level_shift"])
        add(f"C{c:02d}/complaints", rng.poisson(m).astype(float), kind="count", lab=lab)

    for a_ in range(8):  # amounts: loan disbursements (万元), month-end peaks
        base = rng.uniform(200, 3000)
        prof = volume_profile(t, rng)
        prof[t["month_end"].to_numpy()] *= 1.3
        eff, noise, lab = np.ones(n), np.ones(n), []
        for j, i in enumerate(pick_onsets(t, rng, 2)):
            e, nz, w = inject(kinds_cycle[(a_ + j) % 4], n, i, rng, t)
            eff, noise, lab = eff * e, noise * nz, lab + [w]
        amt = base * prof * eff * np.exp(rng.normal(0, 0.08 * noise, n))
        add(f"L{a_:02d}/loan_amount", np.round(amt, 2), kind="amount", lab=lab)

    data = pd.concat(rows, ignore_index=True)[["date", "branch", "kpi", "value", "denominator", "kind"]]
    n_points = {sid: n for sid in labels}
    return data, labels, decoys, n_points


def main(out: Path = OUT) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    data, labels, decoys, n_points = build()
    data.to_csv(out / "data.csv", index=False)
    for name, obj in (("labels", labels), ("decoys", decoys), ("n_points", n_points)):
        (out / f"{name}.json").write_text(json.dumps(obj, indent=1), encoding="utf-8")
    print(f"{len(labels)} series, {sum(n_points.values())} points, "
          f"{sum(len(v) for v in labels.values())} anomaly windows -> {out}")
    return out


if __name__ == "__main__":
    main()
