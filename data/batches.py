"""Batch history and rollback.

Rolling a batch back restores exactly the state before it: its rows leave the live tables and
the rows it had replaced come back from `history.*` unchanged (lineage columns included). A
batch whose rows were since replaced by a later live batch cannot be rolled back until that
later batch is: otherwise the later batch's own rollback could not restore what it replaced.
"""

from __future__ import annotations

from dataclasses import dataclass

from data.ops import OPS, Batch
from data.sources import SOURCES
from data.sqlfiles import render
from data.store import Store


class RollbackError(ValueError):
    """A rollback that cannot be done, with the reason in both languages."""


@dataclass(frozen=True)
class RollbackResult:
    batch_id: int
    rows_removed: int
    rows_restored: int


def list_batches(store: Store, limit: int = 1000) -> list[Batch]:
    """Batches, newest first."""
    return OPS.list_batches(store.cursor(), limit)


def rollback(store: Store, batch_id: int, user: str = "cli") -> RollbackResult:
    """Undo one batch atomically; raises RollbackError when it must not be undone."""
    removed = restored = 0
    with store.transaction() as cur:
        batch = OPS.get_batch(cur, batch_id)
        if batch is None:
            raise RollbackError(f"批次 {batch_id} 不存在 / batch {batch_id} does not exist")
        if batch.status == "rolled_back":
            raise RollbackError(f"批次 {batch_id} 已于 {batch.rolled_back_at:%Y-%m-%d %H:%M} 回滚 / "
                                f"batch {batch_id} was already rolled back")
        p = {"batch": batch_id}
        for table in SOURCES:
            blockers = [r[0] for r in cur.execute(render("load.rollback_blockers", table=table), p).fetchall()]
            if blockers:
                later = ", ".join(map(str, sorted(blockers)))
                raise RollbackError(f"批次 {later} 更新了批次 {batch_id} 的数据，请先回滚批次 {later} / "
                                    f"batch {later} replaced rows of batch {batch_id}; roll back {later} first")
        for table in SOURCES:
            removed += cur.execute(render("load.rollback_delete", table=table), p).fetchone()[0]
            restored += cur.execute(render("load.rollback_restore", table=table), p).fetchone()[0]
            cur.execute(render("load.rollback_forget", table=table), p)
        OPS.mark_rolled_back(cur, batch_id, user)
        OPS.bump_data_version(cur)
    return RollbackResult(batch_id, removed, restored)
