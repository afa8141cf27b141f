"""Run the detectors a series needs and merge their flags into events.

The base detector is the registry's choice (anomaly/registry.py: the first of BASE that applies —
a rate with a denominator: beta-binomial; a count whose mean is below 10: negative binomial; any
other series: the seasonal baseline), always followed by the CUSUM on its standardized residuals.
Flags of all detectors become events with the same rule as one detector's: same direction within
the refractory period (a week daily, a day intraday) is one event, dated at its first flag.

`detect_many` does the same for many series: those that share a date index, kind, frequency and
detector are scored as one block (anomaly.base.Block) — the same numbers, far fewer calls.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from anomaly.base import (
    Block,
    Controls,
    Flag,
    SeriesInput,
    block_spans,
    merge_events,
    quiet_start,
    refractory,
)
from anomaly.registry import choose
from anomaly.shift import ShiftDetector


def detect(series: SeriesInput, controls: Controls | None = None) -> list[Flag]:
    controls = controls or Controls()
    base = choose(series)
    scores = base.score(series)
    flags = base.flag(scores, series, controls)
    shift = ShiftDetector(base)
    flags += shift.flag(shift.score_from(series, scores), series, controls)
    return merge_events(flags, refractory(series), 2 * series.step)


BLOCK_ROWS = 512  # series per block: bounds the memory of the 2-D steps, not the speed


def detect_block(series: Sequence[SeriesInput], controls: Sequence[Controls],
                 since: Sequence[int | None] | None = None) -> list[list[Flag]]:
    """`detect` for series that share index, kind, frequency and detector (see `detect_many`).
    `since`: per series, a position from which on its flags are wanted (None: all). Every flag dated
    from there is exactly as without it; events that cannot touch them are not built at all."""
    base = choose(series[0])
    blk = Block.of(series)
    scores = base.score_block(blk)
    shift = ShiftDetector(base)
    more_scores = shift.score_block_from(blk, scores)
    gap, near = refractory(series[0]), 2 * blk.step
    after = None
    if since is not None and any(x is not None for x in since):
        t = blk.index.values.astype("datetime64[ns]").astype(np.int64)
        reach = max(gap, near).value  # the farthest two events may be apart and still join
        spans = list(zip(block_spans(scores, series, controls), block_spans(more_scores, series, controls),
                         strict=True))
        after = [None if want is None else quiet_start(np.r_[a[0], b[0]], np.r_[a[1], b[1]], t, want, reach)
                 for want, (a, b) in zip(since, spans, strict=True)]
        # a series none of whose events is dated from there on has nothing to build at all
        skip_base = [x is not None and not (a[0] >= x).any() for x, (a, _) in zip(after, spans, strict=True)]
        skip_more = [x is not None and not (b[0] >= x).any() for x, (_, b) in zip(after, spans, strict=True)]
    else:
        skip_base = skip_more = None
    flags = base.flag_block(scores, series, controls, after, skip_base)
    more = shift.flag_block(more_scores, series, controls, after, skip_more)
    out = [merge_events(f + g, gap, near) for f, g in zip(flags, more, strict=True)]
    if after is not None:  # flags dated from the wanted position only
        n = len(blk.index)
        out = [fl if want is None else [] if want >= n else [f for f in fl if f.date >= blk.index[want]]
               for want, fl in zip(since, out, strict=True)]
    return out


def plan_blocks(items: Sequence[tuple[SeriesInput, Controls | None]], rows: int = BLOCK_ROWS) -> list[list[int]]:
    """Positions of `items` grouped into blocks: same index, kind, frequency and detector, at most
    `rows` series each. An empty series is a block of its own."""
    blocks: list[list[int]] = []
    groups: dict[tuple, list[int]] = {}
    ends: dict[int, tuple] = {}  # first and last date per index object (the scan shares one per KPI)
    for n, (s, _) in enumerate(items):
        if not len(s):
            blocks.append([n])
            continue
        idx = s.index
        if id(idx) not in ends:
            ends[id(idx)] = (idx[0], idx[-1])
        key = (type(choose(s)), s.kind, s.freq, s.denominator is None, len(s), *ends[id(idx)])
        groups.setdefault(key, []).append(n)
    for members in groups.values():
        while members:  # same length and ends is not the same index: split off those that differ
            first = items[members[0]][0].index
            same = [n for n in members if items[n][0].index.equals(first)]
            taken = set(same)
            members = [n for n in members if n not in taken]
            blocks += [same[i:i + rows] for i in range(0, len(same), rows)]
    return blocks


def run_blocks(items: Sequence[tuple[SeriesInput, Controls | None]], blocks: list[list[int]],
               since: Sequence[int | None] | None = None) -> dict[int, list[Flag]]:
    """The flags of every item of the given blocks, by position (`since`: see `detect_block`)."""
    out: dict[int, list[Flag]] = {}
    for part in blocks:
        if len(part) == 1 and not len(items[part[0]][0]):
            out[part[0]] = detect(items[part[0]][0], items[part[0]][1])
            continue
        res = detect_block([items[n][0] for n in part], [items[n][1] or Controls() for n in part],
                           None if since is None else [since[n] for n in part])
        out.update(zip(part, res, strict=True))
    return out


def detect_many(items: Sequence[tuple[SeriesInput, Controls | None]],
                since: Sequence[int | None] | None = None) -> list[list[Flag]]:
    """`detect` over many series, in order; series that can share a block are judged together.
    `since`: per series, the position from which on its flags are wanted (see `detect_block`)."""
    out = run_blocks(items, plan_blocks(items), since)
    return [out[n] for n in range(len(items))]
