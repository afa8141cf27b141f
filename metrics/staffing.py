"""Staffing advice for the counters: the windows each branch needs per weekday × hour against the
windows it actually opens, and a ranked list of what to change.

From the tickets (named block `staffing.cells`, aggregated in DuckDB inside the reader's boundary):
arrivals per hour, mean handling time and distinct windows serving, per branch × weekday × hour
over the last `weeks` weeks of the period. Each cell's load goes through `metrics.erlang`: Erlang A
with the branch's measured patience when its tickets hold enough 过号 (abandoned) tickets, Erlang C
otherwise; the fewest windows that call `target.share` of customers within `target.within_min`
minutes at no more than `target.max_occupancy` is compared with the windows open. docs/staffing.md
gives the formulas and their sources.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import pandas as pd

from data.settings import Settings, get_settings
from metrics.erlang import Load, Model, Target, performance, windows_needed
from metrics.scope import Scope

WEEKDAYS = {1: ("周一", "Mon"), 2: ("周二", "Tue"), 3: ("周三", "Wed"), 4: ("周四", "Thu"), 5: ("周五", "Fri"),
            6: ("周六", "Sat"), 7: ("周日", "Sun")}
MIN_SERVED = 10  # a cell's own handling time needs this many served tickets; else the branch's mean
MIN_ARRIVALS = 1.0  # cells with fewer arrivals an hour are drawn but never suggested (a stray ticket at 8:59)
ADVICE_COLUMNS = ("branch_id", "weekday", "hour", "days", "tickets", "arrivals_per_hour", "aht_min", "patience_min",
                  "model", "windows_open", "open_rounded", "windows_needed", "rostered", "surplus", "gap",
                  "sl_open", "sl_needed", "occupancy_needed", "p_abandon_needed", "measured_sl")


def target_from_settings(settings: Settings | None = None) -> Target:
    """The declared service level of the settings (BANKPULSE_STAFFING_*)."""
    s = settings or get_settings()
    return Target(share=s.staffing_sl_share, within_min=s.staffing_sl_minutes,
                  max_occupancy=s.staffing_max_occupancy, shrinkage=s.staffing_shrinkage)


def advice_window(start: date, end: date, weeks: int) -> tuple[date, date]:
    """The days the advice reads: the last `weeks` whole weeks up to `end`, never before `start`."""
    return max(start, end - timedelta(days=7 * weeks - 1)), end


def _params(scope: Scope) -> dict:
    return {"boundary": None if scope.branch_ids is None else sorted(scope.branch_ids),
            "region": scope.region, "branch": scope.branch}


def last_day(store, scope: Scope) -> date | None:
    """The last business day with counter tickets in the scope (the CLI's default period end)."""
    v = store.query("staffing.last_day", **_params(scope)).value()
    return None if v is None else pd.Timestamp(v).date()


def cells(store, start: date, end: date, scope: Scope, within_min: float) -> pd.DataFrame:
    """The per-cell aggregates of `staffing.cells` (one row per branch × weekday × hour)."""
    return store.query("staffing.cells", start=start, end=end, within_s=within_min * 60.0, min_served=MIN_SERVED,
                       **_params(scope)).df()


def advice(store, start: date, end: date, scope: Scope, target: Target | None = None, *,
           weeks: int | None = None, min_abandoned: int | None = None) -> pd.DataFrame:
    """Per branch × weekday × hour (columns `ADVICE_COLUMNS`): the load, the model used, the windows
    open (mean; `open_rounded` to the nearest whole window), needed and rostered, `surplus` = open −
    needed (negative: short), `gap` = needed − open_rounded, the service level the model gives at the
    open and at the needed windows, and the service level the tickets measured."""
    s = get_settings()
    target = target or target_from_settings(s)
    weeks = weeks or s.staffing_weeks
    min_abandoned = min_abandoned or s.staffing_min_abandoned
    lo, hi = advice_window(start, end, weeks)
    raw = cells(store, lo, hi, scope, target.within_min)
    if raw.empty:
        return pd.DataFrame(columns=list(ADVICE_COLUMNS))
    patience = (raw["branch_wait_min"] / raw["branch_abandoned"]).where(raw["branch_abandoned"] >= min_abandoned)
    rows = [_cell(r, p, target) for r, p in zip(raw.itertuples(index=False), patience, strict=True)]
    out = pd.DataFrame(rows, columns=list(ADVICE_COLUMNS[9:19]))
    out = pd.concat([raw[["branch_id", "weekday", "hour", "days", "tickets", "arrivals_per_hour", "aht_min"]]
                     .reset_index(drop=True), patience.rename("patience_min").reset_index(drop=True), out], axis=1)
    out["model"] = [None if pd.isna(a) or n is None else (Model.ERLANG_C if pd.isna(p) else Model.ERLANG_A).value
                    for a, p, n in zip(out["aht_min"], out["patience_min"], out["windows_needed"], strict=True)]
    out["measured_sl"] = raw["measured_sl"].to_numpy()
    for c in ("weekday", "hour", "days", "tickets"):
        out[c] = out[c].astype("int64")
    return out[list(ADVICE_COLUMNS)]


def _cell(r, patience: float, target: Target) -> tuple:
    """windows_open, open_rounded, windows_needed, rostered, surplus, gap, sl_open, sl_needed,
    occupancy_needed, p_abandon_needed of one cell (None where the tickets do not tell)."""
    open_ = None if pd.isna(r.windows_open) else float(r.windows_open)
    rounded = None if open_ is None else math.floor(open_ + 0.5)
    if pd.isna(r.aht_min) or r.aht_min <= 0:  # nobody served at the branch: no handling time to model
        return open_, rounded, None, None, None, None, None, None, None, None
    load = Load(float(r.arrivals_per_hour), float(r.aht_min), None if pd.isna(patience) else float(patience))
    need = windows_needed(load, target)
    if rounded is None:
        sl_open = None
    else:  # no window open: nobody is called
        sl_open = performance(load, rounded, target.within_min).service_level if rounded else 0.0
    p = need.performance
    return (open_, rounded, need.windows, need.rostered, None if open_ is None else open_ - need.windows,
            None if rounded is None else need.windows - rounded, sl_open, p.service_level, p.occupancy, p.p_abandon)


def suggestions(adv: pd.DataFrame) -> pd.DataFrame:
    """Consecutive hours of a branch and weekday with the same windows needed and open, short or over,
    as one suggestion each, ranked: shortages first by window-hours short (then by arrivals), then
    surpluses by window-hours over. Columns: rank, kind (shortage | surplus), branch_id, weekday,
    hour_from, hour_to (exclusive), needed, open, window_hours, arrivals (customers in the block on such
    a day). Cells under `MIN_ARRIVALS` arrivals an hour or without a window count are left out."""
    cols = ["rank", "kind", "branch_id", "weekday", "hour_from", "hour_to", "needed", "open", "window_hours",
            "arrivals"]
    a = adv.dropna(subset=["gap", "windows_needed"])
    a = a[(a["gap"] != 0) & (a["arrivals_per_hour"] >= MIN_ARRIVALS)].sort_values(["branch_id", "weekday", "hour"])
    blocks: list[dict] = []
    for r in a.itertuples(index=False):
        kind = "shortage" if r.gap > 0 else "surplus"
        b = blocks[-1] if blocks else None
        if (b and b["branch_id"] == r.branch_id and b["weekday"] == r.weekday and b["hour_to"] == r.hour
                and b["kind"] == kind and b["needed"] == r.windows_needed and b["open"] == r.open_rounded):
            b["hour_to"] += 1
            b["window_hours"] += abs(int(r.gap))
            b["arrivals"] += float(r.arrivals_per_hour)
        else:
            blocks.append({"kind": kind, "branch_id": r.branch_id, "weekday": int(r.weekday), "hour_from": int(r.hour),
                           "hour_to": int(r.hour) + 1, "needed": int(r.windows_needed), "open": int(r.open_rounded),
                           "window_hours": abs(int(r.gap)), "arrivals": float(r.arrivals_per_hour)})
    if not blocks:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(blocks)
    out["_k"] = (out["kind"] == "surplus").astype(int)
    out = out.sort_values(["_k", "window_hours", "arrivals", "branch_id", "weekday", "hour_from"],
                          ascending=[True, False, False, True, True, True]).drop(columns="_k")
    out.insert(0, "rank", range(1, len(out) + 1))
    return out[cols].reset_index(drop=True)


def suggestion_text(s, lang: str = "zh") -> str:
    """'周一 9–11 点 需 5 个窗口，实开 3 个' / 'Mon 9–11: 5 windows needed, 3 open' (s: a suggestions row)."""
    wd = WEEKDAYS[int(s["weekday"])][0 if lang == "zh" else 1]
    if lang == "zh":
        return f"{wd} {s['hour_from']}–{s['hour_to']} 点 需 {s['needed']} 个窗口，实开 {s['open']} 个"
    return (f"{wd} {s['hour_from']}–{s['hour_to']}: {s['needed']} window{'s' if s['needed'] != 1 else ''} needed, "
            f"{s['open']} open")


def suggestion_ref(s) -> str:
    """A stable reference of a suggestion (a plan's origin): branch:weekday:from-to."""
    return f"{s['branch_id']}:{s['weekday']}:{s['hour_from']}-{s['hour_to']}"


def plan_texts(s, branch_name: str, target: Target, lang: str = "zh") -> tuple[str, str]:
    """The title and the change text a staffing plan made from a suggestion starts with."""
    text = suggestion_text(s, lang)
    pct, mins = round(target.share * 100), f"{target.within_min:g}"
    if lang == "zh":
        verb = "增开" if s["kind"] == "shortage" else "减少"
        n = abs(int(s["needed"]) - int(s["open"]))
        return (f"{branch_name}{WEEKDAYS[int(s['weekday'])][0]}{s['hour_from']}–{s['hour_to']}点{verb}{n}个窗口",
                f"排班建议：{text}。按 {pct}% 客户 {mins} 分钟内叫号的服务水平测算（Erlang 模型）。")
    verb = "Open" if s["kind"] == "shortage" else "Close"
    n = abs(int(s["needed"]) - int(s["open"]))
    return (f"{branch_name}: {verb} {n} window{'s' if n != 1 else ''} {WEEKDAYS[int(s['weekday'])][1]} "
            f"{s['hour_from']}–{s['hour_to']}",
            f"Staffing advice: {text}; sized for {pct}% of customers called within {mins} minutes (Erlang model).")
