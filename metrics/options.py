"""Analyst-configurable definitions (overdue basis, wait threshold, complaint limits).

Defaults follow DOMAIN.md §1: overdue rate on the whole balance of loans with any overdue
instalment, 30-minute waiting threshold, complaint limits 15/30/60 calendar days.
"""

from __future__ import annotations

from typing import Any

DEFAULT_OPTIONS: dict[str, Any] = {
    "overdue_basis": "loan",  # "loan": whole balance of loans with any overdue; "amount": overdue principal only
    "wait_threshold_min": 30,
    "sla_simple_days": 15,
    "sla_complex_days": 30,
    "sla_very_complex_days": 60,
}

OPTION_CHOICES: dict[str, tuple[Any, ...]] = {
    "overdue_basis": ("loan", "amount"),
    "wait_threshold_min": (15, 20, 30, 45, 60),
}


def resolve(options: dict[str, Any] | None) -> dict[str, Any]:
    """Defaults overlaid with the caller's choices, validated."""
    out = dict(DEFAULT_OPTIONS)
    for k, v in (options or {}).items():
        if k not in DEFAULT_OPTIONS:
            raise KeyError(f"unknown option {k!r}; expected one of {', '.join(DEFAULT_OPTIONS)}")
        if k in OPTION_CHOICES and v not in OPTION_CHOICES[k] and not isinstance(v, int | float):
            raise ValueError(f"option {k}={v!r}; expected one of {OPTION_CHOICES[k]}")
        out[k] = v
    return out


def key(options: dict[str, Any]) -> tuple:
    """A hashable form for cache keys."""
    return tuple(sorted(resolve(options).items()))
