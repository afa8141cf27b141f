"""Batch history and rollback.

Rolling a batch back restores exactly the state before it: its rows leave the live tables and
the rows it had replaced come back from `history.*` unchanged (lineage columns included). A
batch whose rows were since replaced by a later live batch cannot be rolled back until that
later batch is: otherwise the later batch's own rollback could not restore what it replaced.

A rollback is a write too: with a `boundary` (the person's branch ids; None: the whole bank) it
is refused when the batch touched a branch outside it — rows it loaded or rows it would restore —
and for the branch master and bank-wide sources (docs/security.md, "Writes stay inside the boundary").
"""

from __future__ import annotations

from dataclasses import dataclass

from data.ops import OPS, Batch
from data.sources import SOURCES
from data.sqlfiles import ident, render
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


def outside_boundary(cur, batch: Batch, boundary: frozenset[str] | None) -> list[str]:
    """Branch ids the batch touched (rows loaded, rows replaced) that lie outside `boundary`; a
    batch of the branch master or of a bank-wide source counts as touching every branch ("*")."""
    if boundary is None:
        return []
    src = SOURCES.get(batch.source)
    if src is None or not src.branch_refs:
        from data.ingest.pipeline import BANK_WIDE

        return ["*"] if src is None or src.name == "branches" or src.name in BANK_WIDE else []
    found: set[str] = set()
    p = {"batch": batch.batch_id}
    for ref in src.branch_refs:
        for tbl, col in ((f"main.{ident(src.table)}", "batch_id"), (f"history.{ident(src.table)}", "replaced_by")):
            found |= {r[0] for r in cur.execute(f"SELECT DISTINCT {ident(ref)} FROM {tbl} WHERE {col} = $batch "
                                                 f"AND {ident(ref)} IS NOT NULL", p).fetchall()}
    return sorted(str(b) for b in found if str(b) not in boundary)


def may_see_details(cur, batch: Batch, boundary: frozenset[str] | None, user_name: str | None) -> bool:
    """Whether a person may see a batch's issue rows and quarantined rows, which hold cell values.

    The rule (docs/security.md, "What the data page shows"): the whole bank sees every batch; a
    person with a boundary sees their own uploads, and other people's only when the batch touched
    no branch outside the boundary. What a batch touched is known from the rows it loaded and
    replaced; a rolled-back batch or one with quarantined rows may have held rows of any branch
    (neither is in the live tables any more), so only its uploader and the whole bank see those.
    """
    if boundary is None:
        return True
    if user_name and batch.user_name == user_name:
        return True
    if batch.status == "rolled_back":
        return False
    if cur.execute("SELECT count(*) FROM ops.quarantine WHERE batch_id = $id", {"id": batch.batch_id}).fetchone()[0]:
        return False
    return not outside_boundary(cur, batch, boundary)


def rollback(store: Store, batch_id: int, user: str = "cli",
             boundary: frozenset[str] | None = None) -> RollbackResult:
    """Undo one batch atomically; raises RollbackError when it must not be undone (also when it
    touched branches outside `boundary`, the person's branch ids; None: the whole bank)."""
    removed = restored = 0
    with store.transaction() as cur:
        batch = OPS.get_batch(cur, batch_id)
        if batch is None:
            raise RollbackError(f"批次 {batch_id} 不存在 / batch {batch_id} does not exist")
        if batch.status == "rolled_back":
            raise RollbackError(f"批次 {batch_id} 已于 {batch.rolled_back_at:%Y-%m-%d %H:%M} 回滚 / "
                                f"batch {batch_id} was already rolled back")
        outside = outside_boundary(cur, batch, boundary)
        if outside:
            shown = "、".join(outside[:5]) + ("…" if len(outside) > 5 else "")
            raise RollbackError(f"批次 {batch_id} 涉及超出您数据范围的机构（{shown}），不能回滚 / "
                                f"batch {batch_id} touched branches outside your access scope ({shown}); "
                                f"it cannot be rolled back by you")
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
