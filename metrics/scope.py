"""Scope: which slice of the bank a query sees.

`branch_ids` is the access boundary (a branch manager's branches; None = whole bank) and is
applied in the query layer (`metrics.tables.scoped`) to every source that has a branch. `region`, `branch` and `product`
are the user's filters inside that boundary. Plain, hashable values, so they key caches.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    branch_ids: frozenset[str] | None = None  # access boundary; None: all branches
    region: str | None = None
    branch: str | None = None  # one branch id (or a sub-branch id: its outlets)
    product: str | None = None

    @property
    def is_whole_bank(self) -> bool:
        return self.branch_ids is None and not (self.region or self.branch or self.product)

    def label(self, lang: str = "zh") -> str:
        parts = [p for p in (self.region, self.branch, self.product) if p]
        if not parts:
            return "全行" if lang == "zh" else "Whole bank"
        return " / ".join(parts)


WHOLE_BANK = Scope()
