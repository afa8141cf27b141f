"""Judge blocks of series on all cores: some in forked children, the rest in this process.

Why fork: a scan is CPU-bound (two cores here) and the detectors cannot share the work between
threads (pandas' rolling median and most numpy steps hold the GIL), while a spawned worker first
spends ~1.3 s importing scipy — longer than the share it would take over in an incremental scan.
A forked child starts in a few milliseconds with the series already in its memory.

Why it is safe: a child only runs the detectors on the inherited series — never the database
connection, whose threads do not exist in the child — writes its flags to a pipe and leaves with
`os._exit` (no clean-up of inherited state). The parent reads with a deadline; if a child fails,
dies or is late, the parent judges that share itself, so the flags are the same in every case,
only slower. Without fork (not POSIX) or with one worker, everything runs here.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import time
from collections.abc import Callable, Sequence

from anomaly.base import Controls, Flag, SeriesInput
from anomaly.ensemble import plan_blocks, run_blocks

SHARE_ROWS = 128  # series per unit of work handed out (blocks are cut to this, so the work spreads evenly)
FORK_MIN = 200  # fewer series: a child costs more (fork, pickling) than it saves
# a child that is still busy this long after the parent ran out of work (seconds, + LATE_FACTOR ×
# the parent's own time) is stuck: it is stopped and what it took is judged here
DEADLINE = 10.0
LATE_FACTOR = 3.0
TOKEN = 4  # bytes per block number in the work queue
MAX_BLOCKS = 4096 // TOKEN  # the queue is written whole before anyone reads: it must fit a pipe at once


def split(items: Sequence[tuple[SeriesInput, Controls | None]], n: int) -> list[list[list[int]]]:
    """n shares of blocks with about equal work (series × points), largest first (used when the
    blocks are too many for the work queue)."""
    blocks = _largest_first(items, plan_blocks(items, SHARE_ROWS))
    shares: list[list[list[int]]] = [[] for _ in range(n)]
    load = [0] * n
    for b in blocks:
        i = load.index(min(load))
        shares[i].append(b)
        load[i] += len(b) * max(len(items[b[0]][0]), 1)
    return shares


def _largest_first(items, blocks: list[list[int]]) -> list[list[int]]:
    return sorted(blocks, key=lambda b: -len(b) * len(items[b[0]][0]))


def detect_forked(items: Sequence[tuple[SeriesInput, Controls | None]], workers: int,
                  since: Sequence[int | None] | None = None,
                  step: Callable[[float, float], None] | None = None) -> list[list[Flag]]:
    """`ensemble.detect_many` on `workers` processes (this one included).

    The blocks go into a work queue — a pipe holding their numbers, largest first — from which
    this process and its children each take the next block when done with one: the detectors'
    cost per point differs (a rate is cheaper than a seasonal count), so a fixed split left one
    process waiting for the other. A child reports the flags of the blocks it took; any block
    without a report (a child failed, was late) is judged here afterwards.

    `step(i, n)` (progress, in this process only): i of the n blocks handed out — the queue is
    read in order, so the number this process takes counts every block taken before it."""
    step = step or (lambda i, n: None)
    if workers <= 1 or not hasattr(os, "fork") or len(items) < FORK_MIN:
        blocks = plan_blocks(items)
        out = {}
        for k, block in enumerate(blocks):
            out.update(run_blocks(items, [block], since))
            step(k + 1, len(blocks))
        return _in_order(out, len(items))
    blocks = _largest_first(items, plan_blocks(items, SHARE_ROWS))
    if len(blocks) > MAX_BLOCKS:
        return _detect_split(items, workers, since, step)
    r, w = os.pipe()
    os.write(w, b"".join(i.to_bytes(TOKEN, "little") for i in range(len(blocks))))
    os.close(w)  # an empty queue then reads as end of file
    try:
        children = [_start(items, lambda: _take(r, items, blocks, since)) for _ in range(workers - 1)]
        t0 = time.monotonic()
        out = _take(r, items, blocks, since, step)
        own = time.monotonic() - t0
    finally:
        os.close(r)
    for child in children:
        got = _collect(child, deadline=time.monotonic() + DEADLINE + LATE_FACTOR * own) if child else None
        out.update(got or {})
    missing = [b for b in blocks if b[0] not in out]  # a block is reported whole or not at all
    if missing:
        out.update(run_blocks(items, missing, since))
    step(len(blocks), len(blocks))
    return _in_order(out, len(items))


def _take(r: int, items, blocks: list[list[int]], since,
          step: Callable[[float, float], None] = lambda i, n: None) -> dict[int, list[Flag]]:
    """Judge blocks from the queue until it is empty (reads of one number from a pipe are atomic,
    so no block is taken twice). `step(k, n)` as block number k is taken (see `detect_forked`)."""
    out: dict[int, list[Flag]] = {}
    while len(got := os.read(r, TOKEN)) == TOKEN:
        k = int.from_bytes(got, "little")
        step(k, len(blocks))
        out.update(run_blocks(items, [blocks[k]], since))
    return out


def _detect_split(items, workers: int, since, step: Callable[[float, float], None]) -> list[list[Flag]]:
    """A fixed split into one share per process (too many blocks for the queue)."""
    shares = split(items, workers)
    children = [_start(items, lambda share=share: run_blocks(items, share, since)) for share in shares[1:]]
    t0 = time.monotonic()
    out: dict[int, list[Flag]] = {}
    for k, block in enumerate(shares[0]):  # this share is about 1/workers of the work
        out.update(run_blocks(items, [block], since))
        step((k + 1) / (len(shares[0]) * workers), 1)
    own = time.monotonic() - t0
    for share, child in zip(shares[1:], children, strict=True):
        got = _collect(child, deadline=time.monotonic() + DEADLINE + LATE_FACTOR * own) if child else None
        out.update(got if got is not None else run_blocks(items, share, since))
    step(1, 1)
    return _in_order(out, len(items))


def _in_order(out: dict[int, list[Flag]], n: int) -> list[list[Flag]]:
    return [out[i] for i in range(n)]


def _start(items, work: Callable[[], dict[int, list[Flag]]]) -> tuple[int, int] | None:
    """Fork a child that runs `work` and writes its pickled flags to a pipe: (pid, read end)."""
    r, w = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(r)
        os.close(w)
        return None
    if pid == 0:  # the child: never returns into the caller's code
        code = 1
        try:
            os.close(r)
            data = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
            view = memoryview(data)
            while view:
                view = view[os.write(w, view):]
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    return pid, r


def _collect(child: tuple[int, int], deadline: float) -> dict[int, list[Flag]] | None:
    """The child's flags, or None if it failed or missed the deadline (then it is stopped)."""
    pid, r = child
    chunks = []
    ok = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([r], [], [], left)[0]:
                break  # late
            chunk = os.read(r, 1 << 20)
            if not chunk:
                ok = True
                break
            chunks.append(chunk)
    finally:
        os.close(r)
        if not ok:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if not ok or not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        return None
    try:
        return pickle.loads(b"".join(chunks))
    except Exception:  # a torn message: judge that share here
        return None
