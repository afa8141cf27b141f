"""Queueing formulas for counter staffing: Erlang C (M/M/n) and Erlang A (M/M/n+M).

Plain Python (``math`` only), numerically stable for any number of windows:

- Erlang B by Jagerman's recursion ``B(k) = a·B(k−1) / (k + a·B(k−1))``: every intermediate lies
  in [0, 1], so no factorial or power of the load is ever formed (500 windows at 480 erlangs is as
  exact as 5 at 4);
- Erlang C from it, ``C = n·B / (n − a·(1 − B))``;
- Erlang A (Palm's queue with exponential patience) in closed form through the regularized lower
  incomplete gamma function P(·,·), kept in log space (series below ``a + 1``, Lentz continued
  fraction above — Numerical Recipes §6.2), so loads and patiences that overflow a float in the
  textbook sums still give finite answers.

Time unit: minutes throughout (arrivals per hour are divided by 60 on the way in). Definitions
used by every function — docs/staffing.md derives the Erlang A ones:

- *probability of waiting*: an arrival finds every window busy;
- *service level*: the share of arrivals whose turn comes within ``within_min`` (the ticket is
  called). In Erlang A a customer may leave before the turn; their ticket is still called at that
  moment, which is what a queue-system export records, so this is the figure the tickets measure;
- *answered within*: served (not abandoned) and called within ``within_min`` (the contact-centre
  definition, lower than the service level when people leave);
- *average wait*: mean time in the queue over all arrivals, until served or gone (Erlang C: the
  average speed of answer);
- *occupancy*: served work ÷ windows.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from enum import StrEnum

_EPS = 3e-16
_TINY = 1e-300
_MAX_ITER = 2_000_000


class Model(StrEnum):
    ERLANG_C = "erlang_c"
    ERLANG_A = "erlang_a"


@dataclass(frozen=True)
class Load:
    """What arrives at a counter in one hour: arrivals per hour, mean handling time (minutes) and
    the customers' mean patience (minutes; None: nobody leaves — Erlang C)."""

    arrivals_per_hour: float
    aht_min: float
    patience_min: float | None = None

    def __post_init__(self):
        problems = []
        if not (math.isfinite(self.arrivals_per_hour) and self.arrivals_per_hour >= 0):
            problems.append(f"arrivals_per_hour must be ≥ 0, got {self.arrivals_per_hour!r}")
        if not (math.isfinite(self.aht_min) and self.aht_min > 0):
            problems.append(f"aht_min must be > 0, got {self.aht_min!r}")
        if self.patience_min is not None and not (self.patience_min > 0):
            problems.append(f"patience_min must be > 0 (or None), got {self.patience_min!r}")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def model(self) -> Model:
        if self.patience_min is None or math.isinf(self.patience_min):
            return Model.ERLANG_C
        return Model.ERLANG_A

    @property
    def erlangs(self) -> float:
        """Offered load a = λ · AHT (windows' worth of work)."""
        return self.arrivals_per_hour / 60.0 * self.aht_min


@dataclass(frozen=True)
class Target:
    """A declared service level — `share` of arrivals called within `within_min` minutes — with an
    occupancy cap (1.0: none) and the shrinkage that turns windows open into tellers rostered."""

    share: float = 0.8
    within_min: float = 15.0
    max_occupancy: float = 1.0
    shrinkage: float = 0.0

    def __post_init__(self):
        problems = []
        if not 0 < self.share < 1:
            problems.append(f"share must lie in (0, 1), got {self.share!r}")
        if not (math.isfinite(self.within_min) and self.within_min >= 0):
            problems.append(f"within_min must be ≥ 0, got {self.within_min!r}")
        if not 0 < self.max_occupancy <= 1:
            problems.append(f"max_occupancy must lie in (0, 1], got {self.max_occupancy!r}")
        if not 0 <= self.shrinkage < 1:
            problems.append(f"shrinkage must lie in [0, 1), got {self.shrinkage!r}")
        if problems:
            raise ValueError("; ".join(problems))


@dataclass(frozen=True)
class Performance:
    """How a counter does with `windows` open under a load (definitions in the module doc)."""

    model: Model
    windows: int
    erlangs: float
    p_wait: float
    service_level: float
    answered_within: float
    avg_wait_min: float  # inf when an Erlang C queue is unstable (load ≥ windows)
    occupancy: float
    p_abandon: float
    stable: bool  # Erlang C: load below the windows (an Erlang A queue is always stable)


@dataclass(frozen=True)
class Staffing:
    """The fewest windows that reach a target, the tellers to roster for them, and how they do."""

    windows: int
    rostered: int
    performance: Performance


# -- Erlang B and C ------------------------------------------------------------------------------
def erlang_b(n: int, a: float) -> float:
    """Blocking probability B(n, a) of n servers under a erlangs (Jagerman's recursion)."""
    if n < 0 or a < 0:
        raise ValueError(f"erlang_b needs n ≥ 0 and a ≥ 0, got n={n!r}, a={a!r}")
    b = 1.0
    for k in range(1, int(n) + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(n: int, a: float) -> float:
    """Probability of waiting C(n, a) in M/M/n (1 when the load reaches the servers)."""
    if n <= 0 or a >= n:
        return 1.0
    b = erlang_b(n, a)
    return _c_from_b(n, a, b)


def _c_from_b(n: int, a: float, b: float) -> float:
    return 1.0 if a >= n else n * b / (n - a * (1.0 - b))


def _perf_c(load: Load, n: int, within_min: float, b: float) -> Performance:
    a, aht = load.erlangs, load.aht_min
    if a == 0:
        return Performance(Model.ERLANG_C, n, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, True)
    if a >= n:
        return Performance(Model.ERLANG_C, n, a, 1.0, 0.0, 0.0, math.inf, 1.0, 0.0, False)
    c = _c_from_b(n, a, b)
    sl = 1.0 - c * math.exp(-(n - a) * within_min / aht)
    return Performance(Model.ERLANG_C, n, a, c, sl, sl, c * aht / (n - a), a / n, 0.0, True)


# -- the incomplete gamma function ---------------------------------------------------------------
def log_gamma_p(a: float, z: float) -> float:
    """log P(a, z), the regularized lower incomplete gamma function, for a > 0, z ≥ 0."""
    if a <= 0 or z < 0:
        raise ValueError(f"log_gamma_p needs a > 0 and z ≥ 0, got a={a!r}, z={z!r}")
    if z == 0:
        return -math.inf
    log_front = a * math.log(z) - z - math.lgamma(a)
    if z < a + 1.0:  # P = e^-z z^a / Γ(a+1) · Σ_k z^k / ((a+1)…(a+k))
        term = total = 1.0
        k = 0
        while term > total * _EPS:
            k += 1
            term *= z / (a + k)
            total += term
            if k > _MAX_ITER:
                raise ArithmeticError(f"incomplete gamma series did not converge (a={a}, z={z})")
        return log_front - math.log(a) + math.log(total)
    # Q = e^-z z^a / Γ(a) · 1/(z+1−a− 1·(1−a)/(z+3−a− …)), modified Lentz
    b = z + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    i = 0
    while True:
        i += 1
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
        if i > _MAX_ITER:
            raise ArithmeticError(f"incomplete gamma fraction did not converge (a={a}, z={z})")
    return math.log1p(-math.exp(log_front + math.log(h)))


def _log_p_pair(a: float, z: float) -> tuple[float, float]:
    """(log P(a, z), log P(a + 1, z)) for 0 < z < a + 1 from one series: with
    S = Σ_k z^k / ((a+1)…(a+k)), P(a, z) = e^-z z^a / Γ(a+1) · S and, since P(a+1, z) = P(a, z) −
    e^-z z^a / Γ(a+1), P(a + 1, z) = e^-z z^a / Γ(a+1) · (S − 1) — the tail Σ_{k≥1} summed on its
    own, so nothing cancels (the series log_gamma_p sums, for two arguments at the price of one)."""
    term, tail, k = 1.0, 0.0, 0
    while True:
        k += 1
        term *= z / (a + k)
        tail += term
        if term <= tail * _EPS:
            break
        if k > _MAX_ITER:
            raise ArithmeticError(f"incomplete gamma series did not converge (a={a}, z={z})")
    front = a * math.log(z) - z - math.lgamma(a + 1.0)
    return front + math.log1p(tail), front + math.log(tail)


def _log_p_next(a: float, z: float, log_p: float) -> float:
    """log P(a + 1, z) from log P(a, z) for z ≥ a + 1 (P(a + 1, z) = P(a, z) − e^-z z^a / Γ(a+1),
    both terms of order one there, so the difference keeps its digits)."""
    return log_p + math.log1p(-math.exp(a * math.log(z) - z - math.lgamma(a + 1.0) - log_p))


# -- Erlang A ------------------------------------------------------------------------------------
def _perf_a(load: Load, n: int, within_min: float, b: float) -> Performance:
    """M/M/n+M with x = nμ/θ, y = λ/θ (Mandelbaum & Zeltyn's notation): with E = B(n, a) and
    A = Σ_k y^k / Π_{i≤k}(x+i) = Γ(x+1)·e^y·y^-x·P(x, y),
    P(wait) = A·E / (1 + (A−1)·E), P(V > t | wait) = P(x, y·e^-θt) / P(x, y),
    P(abandon | wait) = 1/(ρA) + 1 − 1/ρ (ρ = λ/nμ), served and called within t given a wait
    = (x/y)·[P(x+1, y) − P(x+1, y·e^-θt)] / P(x, y); mean wait = P(abandon)/θ."""
    a = load.erlangs
    if a == 0:
        return Performance(Model.ERLANG_A, n, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, True)
    lam, mu, theta = load.arrivals_per_hour / 60.0, 1.0 / load.aht_min, 1.0 / load.patience_min
    x, y = n * mu / theta, lam / theta
    if y < x + 1.0:
        # A = Σ t_k, t_k = y^k / Π_{i≤k}(x+i) ≤ 1, and P(abandon | wait) = Σ t_k·(k+1)/(x+k+1) / Σ t_k:
        # the closed form 1 − (A−1)/(ρA) cancels to nothing for patient customers; this sum does not
        # (the tail Σ_{k≥1} t_k kept apart, to the precision of its own size: it is A − 1, which
        # gives P(x + 1, y) = e^-y y^x / Γ(x+1) · (A − 1) without a second series, see _log_p_pair)
        tail, ab_sum, term, k = 0.0, 1.0 / (x + 1.0), 1.0, 0
        while True:
            k += 1
            term *= y / (x + k)
            tail += term
            ab_sum += term * (k + 1) / (x + k + 1)
            if term <= tail * _EPS:
                break
            if k > _MAX_ITER:
                raise ArithmeticError(f"Erlang A series did not converge (x={x}, y={y})")
        big_a = 1.0 + tail
        inv_a = 1.0 / big_a
        front = x * math.log(y) - y - math.lgamma(x + 1.0)
        lp_xy = front + math.log1p(tail)
        lp_x1y = front + math.log(tail)
        ab_given_wait = ab_sum / big_a
    else:
        lp_xy = log_gamma_p(x, y)
        log_big_a = y - x * math.log(y) + math.lgamma(x + 1.0) + lp_xy  # ≥ 0: A ≥ 1
        inv_a = math.exp(-log_big_a)
        ab_given_wait = 1.0 - (1.0 - inv_a) * x / y  # overloaded: a large share leaves, no cancellation
    p_wait = b / (b + (1.0 - b) * inv_a)
    p_ab = min(max(p_wait * ab_given_wait, 0.0), 1.0)
    yp = y * math.exp(-theta * within_min)
    if y < x + 1.0:  # yp ≤ y < x + 1: one series gives P(x, yp) and P(x + 1, yp)
        lp_x_yp, lp_x1_yp = _log_p_pair(x, yp) if yp > 0 else (-math.inf, -math.inf)
    else:  # y ≥ x + 1: P(x + 1, y) = P(x, y) − e^-y y^x / Γ(x+1) ≥ P(x + 1, x + 1) ≈ ½, no cancellation
        lp_x1y = _log_p_next(x, y, lp_xy)
        if yp <= 0:
            lp_x_yp = lp_x1_yp = -math.inf
        elif yp < x + 1.0:
            lp_x_yp, lp_x1_yp = _log_p_pair(x, yp)
        else:
            lp_x_yp = log_gamma_p(x, yp)
            lp_x1_yp = _log_p_next(x, yp, lp_x_yp)
    late = p_wait * math.exp(lp_x_yp - lp_xy) if yp > 0 else 0.0
    served_late_ratio = math.exp(lp_x1_yp - lp_x1y) if yp > 0 else 0.0
    served_in_time = p_wait * (x / y) * math.exp(lp_x1y - lp_xy) * (1.0 - served_late_ratio)
    answered = (1.0 - p_wait) + served_in_time
    occupancy = lam * (1.0 - p_ab) / (n * mu)
    return Performance(Model.ERLANG_A, n, a, p_wait, 1.0 - late, min(answered, 1.0), p_ab / theta,
                       min(occupancy, 1.0), p_ab, True)


# -- public --------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=8192)
def performance(load: Load, windows: int, within_min: float) -> Performance:
    """The counter's figures with `windows` open (Erlang A when the load has a patience). Memoised
    (a pure function of hashable values): the staffing advice asks for the windows open after the
    search for the windows needed has evaluated the same count."""
    if int(windows) != windows or windows < 1:
        raise ValueError(f"windows must be a whole number ≥ 1, got {windows!r}")
    if not (math.isfinite(within_min) and within_min >= 0):
        raise ValueError(f"within_min must be ≥ 0, got {within_min!r}")
    n = int(windows)
    b = erlang_b(n, load.erlangs)
    return (_perf_c if load.model == Model.ERLANG_C else _perf_a)(load, n, within_min, b)


def _meets(p: Performance, target: Target) -> bool:
    return p.stable and p.service_level >= target.share - 1e-12 and p.occupancy <= target.max_occupancy + 1e-12


def windows_needed(load: Load, target: Target) -> Staffing:
    """The fewest windows whose service level reaches `target.share` within `target.within_min`
    with occupancy at most `target.max_occupancy`; tellers rostered = ⌈windows / (1 − shrinkage)⌉.

    Erlang C steps up from the first stable count carrying B(n, a) along (O(n) in all). Erlang A
    never needs more windows than Erlang C (abandonment shortens the queue), so it steps down from
    the Erlang C answer while one window fewer still meets the target — the service level and the
    occupancy are monotone in the windows, and the two answers rarely differ by more than a window
    or two, so this takes two or three evaluations where a bisection from one window takes more."""
    a = load.erlangs
    if a == 0:
        return _staffing(performance(load, 1, target.within_min), target)
    n = max(1, math.floor(a) + 1, math.ceil(a / target.max_occupancy - 1e-12))
    b = erlang_b(n, a)
    c_load = Load(load.arrivals_per_hour, load.aht_min)
    while True:
        p = _perf_c(c_load, n, target.within_min, b)
        if _meets(p, target):
            break
        n += 1
        b = a * b / (n + a * b)
    if load.model == Model.ERLANG_C:
        return _staffing(p, target)
    best = performance(load, n, target.within_min)  # meets the target for Erlang A too
    while n > 1:
        fewer = performance(load, n - 1, target.within_min)
        if not _meets(fewer, target):
            break
        n, best = n - 1, fewer
    return _staffing(best, target)


def _staffing(p: Performance, target: Target) -> Staffing:
    return Staffing(p.windows, math.ceil(p.windows / (1.0 - target.shrinkage) - 1e-9), p)
