"""DemoSpec: the few knobs of the demo generator (seed, size, the last day of data).

Frozen so a spec can be hashed/cached by callers; all derived dates live here so every
module agrees on the same range. Every date of the demo is placed relative to `as_of`, the last
day of data: the same seed and the same `as_of` give the same files, byte for byte. There is no
default `as_of` here — the command line decides it once (yesterday, `bankpulse demo --as-of`, or
`BANKPULSE_DEMO_AS_OF`) and nothing below reads the clock.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

BANK_ZONE = ZoneInfo("Asia/Shanghai")  # the bank's wall clock: "yesterday" is yesterday in Beijing time


def bank_today(now: datetime) -> date:
    """The date in the bank's zone at the instant `now` (an aware datetime; naive ones are read as UTC)."""
    return (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(BANK_ZONE).date()


def default_as_of(now: datetime) -> date:
    """The demo's last day when none is given: the day before `bank_today(now)`. At 02:00 on
    1 March in Beijing (18:00 on 28 February UTC) that is 28/29 February — the demo then shows the
    whole previous month, and from the next morning on the current one."""
    return bank_today(now) - timedelta(days=1)


def month_index(d: date) -> int:
    """Months since year 0 (so month arithmetic is integer arithmetic)."""
    return d.year * 12 + d.month - 1


def month_start(idx: int) -> date:
    y, m = divmod(idx, 12)
    return date(y, m + 1, 1)


def month_end(idx: int) -> date:
    return month_start(idx + 1) - timedelta(days=1)


class DemoSpec(BaseModel):
    """What to generate: `branches` outlets (网点) over the `years` × 12 months that end with the
    month of `as_of` (the last one partial unless `as_of` is a month end), data up to `as_of`."""

    model_config = ConfigDict(frozen=True)

    seed: int = 7
    branches: int = Field(30, ge=1, le=2000)
    years: int = Field(3, ge=1, le=10)
    # no earlier than 2020: the market files hold the real LPR (from 2019-08-20) and NPL ratio up to it
    as_of: date = Field(ge=date(2020, 1, 1), description="The last day of data (inclusive)")

    @property
    def start(self) -> date:
        """First day: the 1st of the month `years × 12 − 1` months before the month of `as_of`
        (1 January 2023 for `as_of` 2025-12-31 and 3 years)."""
        return month_start(month_index(self.as_of) - 12 * self.years + 1)

    @property
    def months(self) -> list[tuple[int, int]]:
        """(year, month) pairs from `start` to `as_of`, inclusive."""
        i0 = month_index(self.start)
        return [(i // 12, i % 12 + 1) for i in range(i0, month_index(self.as_of) + 1)]

    @property
    def drift_origin(self) -> date:
        """Where the slow drift of counter traffic to digital channels counts from: the 1st of the month
        35 months before the month of `as_of` (2023-01-01 for 2025-12-31), whatever `years` is, so the
        ticket level of the last months is the same for every range length and every as-of date."""
        return month_start(month_index(self.as_of) - 35)

    def last_day_of(self, y: int, m: int) -> date:
        """The last day with data in month (y, m): its month end, or `as_of` in the last month."""
        return min(month_end(y * 12 + m - 1), self.as_of)

    @property
    def story_quarter(self) -> str:
        """The quarter holding the month 9 months before the month of `as_of` (2025Q1 for 2025-12-31),
        clamped into the range."""
        idx = max(month_index(self.as_of) - 9, month_index(self.start))
        y, m = divmod(idx, 12)
        return f"{y}Q{m // 3 + 1}"

    def rng(self, stream: str) -> np.random.Generator:
        """An independent generator per module, so changing one module leaves the others' data unchanged."""
        key = [ord(c) for c in stream]
        return np.random.default_rng(np.random.SeedSequence([self.seed, *key]))

    def seed_seq(self, stream: str) -> np.random.SeedSequence:
        return np.random.SeedSequence([self.seed, *[ord(c) for c in stream]])
