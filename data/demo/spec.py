"""DemoSpec: the few knobs of the demo generator (seed, size, date range).

Frozen so a spec can be hashed/cached by callers; all derived dates live here so every
module agrees on the same range.
"""
from __future__ import annotations

from datetime import date

import numpy as np
from pydantic import BaseModel, ConfigDict, Field


class DemoSpec(BaseModel):
    """What to generate: `branches` outlets (网点) over `years` calendar years ending at `end`."""

    model_config = ConfigDict(frozen=True)

    seed: int = 7
    branches: int = Field(30, ge=1, le=2000)
    years: int = Field(3, ge=1, le=10)
    end: date = date(2025, 12, 31)

    @property
    def start(self) -> date:
        """First day: 1 January of the first of the `years` calendar years ending at `end`."""
        return date(self.end.year - self.years + 1, 1, 1)

    @property
    def months(self) -> list[tuple[int, int]]:
        """(year, month) pairs from `start` to `end`, inclusive."""
        out, y, m = [], self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append((y, m))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    @property
    def story_quarter(self) -> str:
        """The quarter ~9 months before `end` (2025Q1 for end 2025-12-31), clamped into the range."""
        idx = self.end.year * 12 + self.end.month - 1 - 9
        y, m = divmod(idx, 12)
        if date(y, m + 1, 1) < self.start:
            y, m = self.start.year, self.start.month - 1
        return f"{y}Q{m // 3 + 1}"

    def rng(self, stream: str) -> np.random.Generator:
        """An independent generator per module, so changing one module leaves the others' data unchanged."""
        key = [ord(c) for c in stream]
        return np.random.default_rng(np.random.SeedSequence([self.seed, *key]))

    def seed_seq(self, stream: str) -> np.random.SeedSequence:
        return np.random.SeedSequence([self.seed, *[ord(c) for c in stream]])
