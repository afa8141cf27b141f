"""Progress of long work — an upload, a full scan, a briefing — as one plain callback.

A `Progress` is any `(stage, done) -> None`: `stage` is a `Stage` (a text key such as
"ingest.validate", a `str`), `done` the fraction of the *whole* operation finished, 0 to 1. The
operations take one as an optional keyword (`ingest_file(..., progress=)`, `scan(..., progress=)`,
`build_pdf(..., progress=)`) and report at stage boundaries and every few units of work (rules,
blocks of series, sections), never per row. The data page and the briefing page draw it with
`st.progress`, the CLI on a terminal (`cli/progress.py`); without one nothing is reported.

Each operation declares its stages once, in order, with their share of the time (`INGEST`,
`SCAN`, `BRIEFING`, measured on the demo store), and reports through a `Stages`, which maps a
stage's own progress to the whole and never goes backwards. `within` puts an operation inside a
part of a larger one (the CLI's load, then the scan after it). Stage texts are in 中文 and English
(`label`); docs/ingest.md, docs/scan.md and docs/briefing.md list them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from enum import StrEnum


class Stage(StrEnum):
    INGEST_READ = "ingest.read"
    INGEST_PARSE = "ingest.parse"
    INGEST_VALIDATE = "ingest.validate"
    INGEST_WRITE = "ingest.write"
    SCAN_READ = "scan.read"
    SCAN_DETECT = "scan.detect"
    SCAN_EXPLAIN = "scan.explain"
    SCAN_WRITE = "scan.write"
    BRIEFING_READ = "briefing.read"
    BRIEFING_SECTIONS = "briefing.sections"
    BRIEFING_RENDER = "briefing.render"
    DONE = "done"

    def label(self, lang: str = "zh") -> str:
        zh, en = LABELS[self]
        return zh if lang == "zh" else en


LABELS: dict[Stage, tuple[str, str]] = {
    Stage.INGEST_READ: ("读取文件", "Reading the file"),
    Stage.INGEST_PARSE: ("解析数据", "Parsing values"),
    Stage.INGEST_VALIDATE: ("逐行校验", "Validating rows"),
    Stage.INGEST_WRITE: ("写入数据库", "Writing to the store"),
    Stage.SCAN_READ: ("读取指标序列", "Reading KPI series"),
    Stage.SCAN_DETECT: ("检测异常", "Detecting anomalies"),
    Stage.SCAN_EXPLAIN: ("分析原因", "Explaining causes"),
    Stage.SCAN_WRITE: ("保存结果", "Saving the flags"),
    Stage.BRIEFING_READ: ("计算指标", "Computing the KPIs"),
    Stage.BRIEFING_SECTIONS: ("编写章节与图表", "Writing sections and charts"),
    Stage.BRIEFING_RENDER: ("排版PDF", "Laying out the PDF"),
    Stage.DONE: ("完成", "Done"),
}

Progress = Callable[[str, float], None]

# (stage, share of the operation's time), in the order they run. Measured (progress recorded
# against the clock, .tmp runs of 2025-12): the ingest on the 20 demo files and a 300,000-row
# ticket CSV (read 0.40, parse 0.15–0.55, validate 0.03–0.08, write 0.05–0.40: a commit that
# checkpoints is slow); a full scan of the demo store (read 0.27, detect 0.11, explain 0.61 —
# each flag's cause attribution is queries of its own — write 0.01); the demo's briefing for a
# month and a quarter (read 0.38–0.64, sections 0.11–0.32, render 0.25–0.30).
INGEST: tuple[tuple[Stage, float], ...] = (
    (Stage.INGEST_READ, 0.40), (Stage.INGEST_PARSE, 0.22), (Stage.INGEST_VALIDATE, 0.08), (Stage.INGEST_WRITE, 0.30))
SCAN: tuple[tuple[Stage, float], ...] = (
    (Stage.SCAN_READ, 0.27), (Stage.SCAN_DETECT, 0.12), (Stage.SCAN_EXPLAIN, 0.60), (Stage.SCAN_WRITE, 0.01))
BRIEFING: tuple[tuple[Stage, float], ...] = (
    (Stage.BRIEFING_READ, 0.45), (Stage.BRIEFING_SECTIONS, 0.27), (Stage.BRIEFING_RENDER, 0.28))


def no_progress(stage: str, done: float) -> None:
    """The default: nobody is watching."""


def label(stage: str, lang: str = "zh") -> str:
    return Stage(stage).label(lang)


class Stages:
    """An operation's declared stages reporting to `report` as fractions of the whole.

    `start(stage)` reports the stage's beginning, `part(stage, i, n)` that i of its n units are
    done. Fractions never go backwards (a stage run again — the ingest's re-read with the encoding
    of the whole file — holds the bar where it was); `done()` reports `Stage.DONE` at 1."""

    def __init__(self, report: Progress | None, stages: Sequence[tuple[Stage, float]]):
        self.report = report or no_progress
        total = sum(share for _, share in stages)
        self.span: dict[Stage, tuple[float, float]] = {}
        at = 0.0
        for stage, share in stages:
            self.span[stage] = (at / total, share / total)
            at += share
        self.last = 0.0

    def start(self, stage: Stage) -> None:
        self.part(stage, 0, 1)

    def part(self, stage: Stage, i: float, n: float) -> None:
        lo, share = self.span[stage]
        self.last = max(self.last, lo + share * (min(max(i / n, 0.0), 1.0) if n else 1.0))
        self.report(stage, self.last)

    def sub(self, stage: Stage) -> Callable[[float, float], None]:
        """`(i, n) -> None` for code that knows only its own count (a loop over blocks)."""
        return lambda i, n: self.part(stage, i, n)

    def done(self) -> None:
        self.last = 1.0
        self.report(Stage.DONE, 1.0)


def steady(report: Progress, step: float = 0.01, every_s: float = 0.1, clock=time.monotonic) -> Progress:
    """`report` called only when something visible changes: a new stage, the end, or `step` more
    of the fraction at most every `every_s` seconds — what a screen (a terminal, the browser) can
    show. Keeps a fast loop from flooding it."""
    seen = {"stage": None, "done": -1.0, "at": float("-inf")}

    def inner(stage: str, done: float) -> None:
        now = clock()
        new_stage = stage != seen["stage"]
        if new_stage or done >= 1.0 > seen["done"] or (done - seen["done"] >= step and now - seen["at"] >= every_s):
            seen.update(stage=stage, done=done, at=now)
            report(stage, done)

    return inner
