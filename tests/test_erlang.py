"""metrics/erlang.py against published worked examples, independent computations and a seeded
discrete-event simulation (simpy) of the same queue."""

from __future__ import annotations

import math
import random

import pytest
import simpy
from scipy.special import gammainc

from metrics.erlang import (
    Load,
    Model,
    Target,
    erlang_b,
    erlang_c,
    log_gamma_p,
    performance,
    windows_needed,
)


# -- published examples ---------------------------------------------------------------------------
def test_published_erlang_c_example():
    """The classic contact-centre example: 100 calls in 30 minutes, 180 s handling, 80 % answered
    within 20 s (Call Centre Helper, "Erlang C Formula – Made Simple With an Easy Worked Example",
    callcentrehelper.com; the same figures in the pyworkforce 0.1.0 README, pypi.org/project/pyworkforce,
    and in the CRAN package ErlangC 0.1.0's `erlang_c` / `calculate_agents` examples):
    traffic intensity 10 erlangs; 11 agents (the raw count) wait with probability 0.6821182;
    14 agents reach the target — probability of waiting 0.1741319, service level 0.88835,
    ASA 7.83593701 s, occupancy 0.7142857; with 30 % shrinkage and an 85 % occupancy cap, 20 positions."""
    load = Load(arrivals_per_hour=200, aht_min=3)
    assert load.erlangs == pytest.approx(10.0)
    assert performance(load, 11, 20 / 60).p_wait == pytest.approx(0.6821182, abs=5e-8)
    p = performance(load, 14, 20 / 60)
    assert p.p_wait == pytest.approx(0.1741319, abs=5e-8)
    assert p.service_level == pytest.approx(0.88835, abs=5e-6)
    assert p.avg_wait_min * 60 == pytest.approx(7.83593701177724, rel=1e-9)
    assert p.occupancy == pytest.approx(0.7142857, abs=5e-8)
    s = windows_needed(load, Target(share=0.8, within_min=20 / 60, max_occupancy=0.85, shrinkage=0.3))
    assert (s.windows, s.rostered) == (14, 20)
    assert performance(load, 13, 20 / 60).service_level < 0.8  # 14 is the fewest


def test_published_erlang_b_table_value():
    """Erlang B tables (e.g. ITU-T E.800-series traffic tables): 10 erlangs on 10 circuits block
    21.46 % of calls; 5 erlangs on 10 circuits 1.84 %."""
    assert erlang_b(10, 10.0) == pytest.approx(0.2146, abs=5e-5)
    assert erlang_b(10, 5.0) == pytest.approx(0.0184, abs=5e-5)


def test_published_erlang_a_example():
    """Erlang A on the same queue with a mean patience of 5 minutes and 14 agents: the exact
    stationary figures published in pyworkforce's test suite (github.com/rodrigo-arenas/pyworkforce,
    pyworkforce/queuing/tests/test_abandonment.py, `test_erlanga_regression_metrics`, computed there
    from the truncated birth–death chain and uniformization): probability of waiting 0.14526,
    abandonment 0.013984, occupancy 0.704297, mean wait 0.069919 min, answered within 20 s 0.916792."""
    p = performance(Load(200, 3, patience_min=5), 14, 20 / 60)
    assert p.model == Model.ERLANG_A
    assert round(p.p_wait, 5) == 0.14526
    assert round(p.p_abandon, 6) == 0.013984
    assert round(p.occupancy, 6) == 0.704297
    assert round(p.avg_wait_min, 6) == 0.069919
    assert round(p.answered_within, 6) == 0.916792
    assert p.service_level > p.answered_within  # some of those called in time had left


# -- independent computations ---------------------------------------------------------------------
def _log_sum_exp(xs):
    m = max(xs)
    return m + math.log(sum(math.exp(x - m) for x in xs))


@pytest.mark.parametrize(("n", "a"), [(1, 0.5), (14, 10.0), (120, 110.0), (500, 480.0), (2000, 1950.0),
                                      (300, 12.0)])
def test_erlang_b_and_c_are_exact_for_many_windows(n, a):
    """Against the textbook sums evaluated in log space (lgamma, log-sum-exp): no overflow at 2,000 windows."""
    logs = [k * math.log(a) - math.lgamma(k + 1) for k in range(n + 1)]
    log_b = logs[n] - _log_sum_exp(logs)
    assert erlang_b(n, a) == pytest.approx(math.exp(log_b), rel=1e-9)
    # C = (a^n/n! · n/(n−a)) / (Σ_{k<n} a^k/k! + a^n/n! · n/(n−a))
    tail = logs[n] + math.log(n / (n - a))
    log_c = tail - _log_sum_exp(logs[:n] + [tail])
    assert erlang_c(n, a) == pytest.approx(math.exp(log_c), rel=1e-9)


@pytest.mark.parametrize(("a", "z"), [(0.3, 0.1), (2.0, 5.0), (3.5, 1.2), (23.3, 16.7), (40.0, 41.0), (1000.0, 990.0),
                                      (1000.0, 1100.0), (5.0, 200.0), (250.0, 1.0)])
def test_incomplete_gamma_matches_scipy(a, z):
    want = gammainc(a, z)
    got = log_gamma_p(a, z)
    if want > 0:
        assert math.exp(got) == pytest.approx(want, rel=1e-10)
    assert math.isfinite(got)  # log space: P(250, 1) ≈ 1e-493 still has a logarithm


def _chain(load: Load, n: int, within: float):
    """Erlang A straight from the birth–death chain (normalised in log space, truncated where the
    terms vanish) and the offered wait of a customer with j ahead, V_j = Σ_{i≤j} Exp(nμ + iθ):
    P(V_j > t) = I_p(x, j+1), p = e^{-θt}, by the recursion of the regularized incomplete beta."""
    lam, mu, theta = load.arrivals_per_hour / 60, 1 / load.aht_min, 1 / load.patience_min
    logs = [0.0]
    k = 0
    while True:
        k += 1
        logs.append(logs[-1] + math.log(lam / (min(k, n) * mu + max(k - n, 0) * theta)))
        if k > n and logs[-1] < max(logs) - 60:
            break
    norm = _log_sum_exp(logs)
    pi = [math.exp(x - norm) for x in logs]
    p_wait = sum(pi[n:])
    queue = sum((k - n) * pi[k] for k in range(n, len(pi)))
    x, p = n * mu / theta, math.exp(-theta * within)
    late, term, acc = 0.0, p**x, p**x  # I_p(x, 1) = p^x; I_p(x, b+1) = I_p(x, b) + T_b
    for j in range(len(pi) - n):
        if j:
            term *= (x + j - 1) / j * (1 - p)
            acc += term
        late += pi[n + j] * acc
    return p_wait, theta * queue / lam, queue / lam, 1 - late


@pytest.mark.parametrize(("lam", "aht", "patience", "n", "within"), [
    (200, 3, 5, 14, 20 / 60), (200, 3, 5, 8, 1.0), (20, 7, 30, 3, 15), (60, 7, 20, 4, 15),
    (3000, 3, 8, 150, 0.5), (3000, 3, 8, 130, 0.5), (12, 8, 0.5, 1, 2)])
def test_erlang_a_matches_the_birth_death_chain(lam, aht, patience, n, within):
    load = Load(lam, aht, patience)
    p_wait, p_ab, mean_wait, sl = _chain(load, n, within)
    got = performance(load, n, within)
    assert got.p_wait == pytest.approx(p_wait, rel=1e-8)
    assert got.p_abandon == pytest.approx(p_ab, rel=1e-8)
    assert got.avg_wait_min == pytest.approx(mean_wait, rel=1e-8)
    assert got.service_level == pytest.approx(sl, abs=1e-10)


@pytest.mark.parametrize(("lam", "aht", "patience", "n", "within"), [
    (200, 3, 5, 14, 20 / 60),   # y < x + 1: one series for P(x, ·) and P(x + 1, ·)
    (10, 8, 200, 1, 15),        # y ≥ x + 1 (a patient queue on one window), yp too
    (60, 7, 20, 6, 15),         # y ≥ x + 1, yp below
    (60, 7, 20, 6, 0.2),        # y ≥ x + 1 and yp ≥ x + 1
    (3000, 3, 8, 130, 0.5), (12, 8, 0.5, 1, 2), (33, 8.5, 330, 3, 15)])
def test_erlang_a_service_level_and_answered_match_scipy(lam, aht, patience, n, within):
    """The two waiting-time figures of Erlang A straight from SciPy's regularized incomplete gamma
    (the formulas of metrics.erlang._perf_a, each P evaluated on its own): P(called later than t) =
    P(wait)·P(x, y e^-θt) / P(x, y); served and called within t = P(wait)·(x/y)·[P(x+1, y) −
    P(x+1, y e^-θt)] / P(x, y). The module derives P(x + 1, ·) from P(x, ·) with one series."""
    load = Load(lam, aht, patience)
    got = performance(load, n, within)
    mu, theta = 1 / aht, 1 / patience
    x, y = n * mu / theta, lam / 60 / theta
    yp = y * math.exp(-theta * within)
    sl = 1 - got.p_wait * gammainc(x, yp) / gammainc(x, y)
    answered = 1 - got.p_wait + got.p_wait * (x / y) * (gammainc(x + 1, y) - gammainc(x + 1, yp)) / gammainc(x, y)
    assert got.service_level == pytest.approx(sl, rel=1e-9, abs=1e-12)
    assert got.answered_within == pytest.approx(answered, rel=1e-9, abs=1e-12)


def test_erlang_a_tends_to_erlang_c_as_patience_grows():
    for n in (11, 14, 20):
        c = performance(Load(200, 3), n, 20 / 60)
        a = performance(Load(200, 3, patience_min=1e6), n, 20 / 60)
        assert a.p_wait == pytest.approx(c.p_wait, abs=1e-4)
        assert a.service_level == pytest.approx(c.service_level, abs=1e-4)
        assert a.avg_wait_min == pytest.approx(c.avg_wait_min, rel=1e-3)
        assert a.p_abandon == pytest.approx(a.avg_wait_min / 1e6, rel=1e-9)  # P(abandon) = θ·E[W], no cancellation


# -- staffing -------------------------------------------------------------------------------------
@pytest.mark.parametrize("patience", [None, 3.0, 30.0])
@pytest.mark.parametrize(("lam", "aht"), [(8, 7), (40, 6), (200, 3), (6000, 4)])
def test_windows_needed_is_the_fewest_that_reach_the_target(lam, aht, patience):
    load, target = Load(lam, aht, patience), Target(share=0.8, within_min=15 if lam < 100 else 0.5, max_occupancy=0.9)
    s = windows_needed(load, target)
    assert s.performance.service_level >= 0.8 and s.performance.occupancy <= 0.9
    if s.windows > 1:
        fewer = performance(load, s.windows - 1, target.within_min)
        assert fewer.service_level < 0.8 or fewer.occupancy > 0.9 or not fewer.stable
    if patience is not None:  # abandonment never needs more windows than Erlang C
        assert s.windows <= windows_needed(Load(lam, aht), target).windows


def test_service_level_rises_with_windows():
    for load in (Load(60, 7), Load(60, 7, 20.0), Load(3000, 3, 8)):
        levels = [performance(load, n, 5).service_level for n in range(1, 140)]
        assert all(b >= a - 1e-12 for a, b in zip(levels, levels[1:], strict=False))


def test_shrinkage_and_occupancy_cap():
    load = Load(200, 3)
    loose = windows_needed(load, Target(share=0.5, within_min=1))
    capped = windows_needed(load, Target(share=0.5, within_min=1, max_occupancy=0.7))
    assert loose.windows == 11 and capped.windows == 15  # ⌈10 / 0.7⌉
    assert windows_needed(load, Target(share=0.5, within_min=1, shrinkage=0.25)).rostered == 15  # ⌈11 / 0.75⌉
    assert windows_needed(Load(0, 5), Target()).windows == 1  # no arrivals: one window


def test_unstable_erlang_c_and_validation():
    p = performance(Load(200, 3), 10, 1)
    assert not p.stable and p.p_wait == 1 and p.service_level == 0 and math.isinf(p.avg_wait_min)
    assert performance(Load(200, 3, 5), 8, 1).stable  # Erlang A: abandonment keeps the queue finite
    with pytest.raises(ValueError, match="arrivals_per_hour.*aht_min"):
        Load(-1, 0)
    with pytest.raises(ValueError, match="share"):
        Target(share=1.5)
    with pytest.raises(ValueError, match="windows"):
        performance(Load(10, 3), 0, 1)


# -- simulation -----------------------------------------------------------------------------------
def simulate(arrivals_per_hour: float, aht: float, n: int, patience: float | None, within: float,
             customers: int, seed: int) -> dict[str, float]:
    """M/M/n(+M) in simpy, first-come first-served. An arrival's offered wait (the moment its ticket
    is called, whether or not the customer is still there) is measured by a ghost queued with it:
    infinitely patient and served in no time, so it changes nobody's wait."""
    rng = random.Random(seed)
    env = simpy.Environment()
    windows = simpy.Resource(env, capacity=n)
    rows: list[list] = []

    def ghost(k, arrived):
        with windows.request() as req:
            yield req
            rows[k][0] = env.now - arrived

    def customer(k, arrived):
        req = windows.request()
        if patience is None:
            yield req
            got = True
        else:
            got = req in (yield req | env.timeout(rng.expovariate(1 / patience)))
        rows[k][1:3] = [env.now - arrived, got]
        if got:
            service = rng.expovariate(1 / aht)
            rows[k][3] = service
            yield env.timeout(service)
            windows.release(req)
        else:
            req.cancel()

    def source():
        for k in range(customers):
            yield env.timeout(rng.expovariate(arrivals_per_hour / 60))
            rows.append([None, None, None, 0.0, env.now])
            if patience is not None:
                env.process(ghost(k, env.now))
            env.process(customer(k, env.now))

    env.process(source())
    env.run()
    r = rows[customers // 50:]  # 2 % warm-up
    m = len(r)
    offered = [x[0] if patience is not None else x[1] for x in r]
    span = r[-1][4] - r[0][4]  # the arrivals counted came in over this time (occupancy's denominator)
    return {"p_wait": sum(v > 1e-12 for v in offered) / m, "service_level": sum(v <= within for v in offered) / m,
            "answered_within": sum(bool(x[2]) and x[1] <= within for x in r) / m,
            "avg_wait_min": sum(x[1] for x in r) / m, "p_abandon": sum(not x[2] for x in r) / m,
            "occupancy": sum(x[3] for x in r) / (n * span)}


@pytest.mark.slow
@pytest.mark.parametrize(("lam", "aht", "n", "patience", "within"), [
    (200, 3, 12, None, 20 / 60),  # the published example, one agent short of the target
    (200, 3, 11, 5.0, 1.0),        # Erlang A, overloaded for Erlang C (10 erlangs on 11)
    (20, 7, 3, 30.0, 15.0),        # a small outlet: 20 arrivals an hour, 7-minute service, 15-minute target
    (60, 7, 6, 20.0, 15.0),        # a busy outlet under-staffed: a fifth of its customers leave
], ids=["erlang_c", "erlang_a_call_centre", "erlang_a_outlet", "erlang_a_overloaded"])
def test_simulation_agrees(lam, aht, n, patience, within):
    """Tolerance: probabilities (waiting, service level, answered, abandonment, occupancy) within
    0.015 absolute and the mean wait within 10 % — several batch-means standard errors at 100,000
    simulated customers (seed 20260101; the run is deterministic)."""
    sim = simulate(lam, aht, n, patience, within, customers=100_000, seed=20260101)
    p = performance(Load(lam, aht, patience), n, within)
    for k in ("p_wait", "service_level", "answered_within", "p_abandon", "occupancy"):
        assert sim[k] == pytest.approx(getattr(p, k), abs=0.015), k
    assert sim["avg_wait_min"] == pytest.approx(p.avg_wait_min, rel=0.10)
