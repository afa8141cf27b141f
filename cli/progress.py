"""The CLI's progress bar: one line on stderr, redrawn in place, only on a terminal.

    with terminal_bar("tickets.csv") as report:
        ingest_file(store, path, progress=report)

`report` is a `data.progress.Progress`; the line reads

    tickets.csv  [██████████░░░░░░░░░░░░░░]  42%  解析数据 / Parsing values

and is cleared when the block ends, so the command's own messages (on stdout) follow on a clean
line. When stderr is not a terminal (a pipe, a file, cron, CI) or TERM is "dumb", nothing at all
is written: no bar characters, no carriage returns — the output stays what a script parses.
Redraws are thinned by `data.progress.steady` (a new stage, or one more percent at most every
0.1 s). No dependency: `rich` and `tqdm` are not among BankPulse's requirements.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import unicodedata
from collections.abc import Iterator
from typing import TextIO

from data.progress import Progress, Stage, no_progress, steady

WIDTH = 24  # cells of the bar itself
FULL, EMPTY = "█", "░"
CLEAR = "\r\x1b[K"  # back to the line's start and erase it


def on_terminal(stream: TextIO) -> bool:
    """Whether a bar may be drawn on `stream`: a terminal that understands carriage returns."""
    try:
        return stream.isatty() and os.environ.get("TERM", "") != "dumb"
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


def cells(text: str) -> int:
    """Terminal columns `text` takes (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def fit(text: str, columns: int) -> str:
    """`text` cut to at most `columns` terminal columns."""
    out, used = [], 0
    for c in text:
        w = cells(c)
        if used + w > columns:
            break
        out.append(c)
        used += w
    return "".join(out)


def line(title: str, stage: str, done: float) -> str:
    """The bar's text for a stage and fraction (both languages, as the CLI's other messages)."""
    done = min(max(done, 0.0), 1.0)
    n = round(done * WIDTH)
    s = Stage(stage)
    return f"{title}  [{FULL * n}{EMPTY * (WIDTH - n)}] {int(done * 100):3d}%  {s.label('zh')} / {s.label('en')}"


class TerminalBar:
    """A bar for one operation on `stream` (default stderr); `report` is inert off a terminal."""

    def __init__(self, title: str, stream: TextIO | None = None):
        self.title, self.stream = title, stream or sys.stderr
        self.drawn = False
        self.report: Progress = steady(self._draw) if on_terminal(self.stream) else no_progress

    def _draw(self, stage: str, done: float) -> None:
        columns = shutil.get_terminal_size((80, 24)).columns
        self.stream.write(CLEAR + fit(line(self.title, stage, done), columns - 1))
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        """Erase the bar (if one was drawn): the messages after it start on a clean line."""
        if self.drawn:
            self.stream.write(CLEAR)
            self.stream.flush()
            self.drawn = False


@contextlib.contextmanager
def terminal_bar(title: str, stream: TextIO | None = None) -> Iterator[Progress]:
    bar = TerminalBar(title, stream)
    try:
        yield bar.report
    finally:
        bar.close()
