"""Progress of long work (data/progress.py): what the ingest, the full scan and the briefing build
report on a real store with real files, how the report is thinned, and the CLI's bar — drawn on a
terminal (a real pseudo-terminal, python `pty`), absent when the output is piped.
"""
from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers_ingest import SAMPLES, ticket_csv_sql, write_csv, write_xlsx

from data.progress import BRIEFING, INGEST, SCAN, Stage, Stages, steady
from data.store import Store

ROOT = Path(__file__).resolve().parents[1]
BAR_CHARS = ("█", "░", "\r", "\x1b")


class Recorder:
    """A `Progress` that keeps every report."""

    def __init__(self):
        self.events: list[tuple[str, float]] = []

    def __call__(self, stage: str, done: float) -> None:
        self.events.append((str(stage), done))

    @property
    def stages(self) -> list[str]:
        """The stages in the order first reported."""
        return list(dict.fromkeys(s for s, _ in self.events))


def assert_well_formed(rec: Recorder, declared, expect: list[Stage] | None = None) -> None:
    """Fractions in [0, 1], never going back, ending with `done` at 1.0; the stages a subsequence of
    the declared order (all of them when `expect` is None), each reported from its own span."""
    assert rec.events, "nothing reported"
    fracs = [d for _, d in rec.events]
    assert all(0.0 <= d <= 1.0 for d in fracs), fracs
    assert all(b >= a for a, b in zip(fracs, fracs[1:], strict=False)), fracs
    assert rec.events[-1] == (Stage.DONE, 1.0)
    assert [s for s, _ in rec.events].count(Stage.DONE) == 1
    order = [str(s) for s, _ in declared]
    seen = [s for s in rec.stages if s != Stage.DONE]
    assert seen == [s for s in order if s in seen], seen  # in the declared order
    assert seen == [str(s) for s in (expect if expect is not None else [s for s, _ in declared])]
    spans = Stages(None, declared).span
    for stage, done in rec.events:
        if stage != Stage.DONE:
            lo, share = spans[Stage(stage)]
            assert lo - 1e-9 <= done <= lo + share + 1e-9, (stage, done)


# -- the protocol itself ---------------------------------------------------------------------------

def test_stages_map_each_stage_into_its_share_and_never_go_back():
    rec = Recorder()
    say = Stages(rec, INGEST)
    say.start(Stage.INGEST_READ)
    say.part(Stage.INGEST_READ, 1, 2)
    say.start(Stage.INGEST_PARSE)
    say.part(Stage.INGEST_READ, 0, 2)  # a stage run again (the re-read) holds the bar where it was
    say.part(Stage.INGEST_VALIDATE, 5, 4)  # past the end of a stage: its end
    say.done()
    read, parse, validate, _ = (share for _, share in INGEST)
    assert [d for _, d in rec.events] == pytest.approx(
        [0.0, read / 2, read, read, read + parse + validate, 1.0])
    assert sum(share for _, share in INGEST) == pytest.approx(1.0)
    assert sum(share for _, share in SCAN) == pytest.approx(1.0)
    assert sum(share for _, share in BRIEFING) == pytest.approx(1.0)


def test_every_stage_has_both_languages():
    for stage in Stage:
        zh, en = stage.label("zh"), stage.label("en")
        assert zh and en and zh != en
        assert any("\u4e00" <= c <= "\u9fff" for c in zh) and en.isascii()


def test_steady_passes_new_stages_and_the_end_and_thins_the_rest():
    now = [0.0]
    rec = Recorder()
    report = steady(rec, step=0.01, every_s=0.1, clock=lambda: now[0])
    report("ingest.read", 0.0)
    for i in range(1, 100):  # 99 tiny steps within 0.099 s: none is shown
        now[0] = i * 0.001
        report("ingest.read", i * 0.0001)
    report("ingest.parse", 0.02)  # a new stage always is
    now[0] = 0.3
    report("ingest.parse", 0.025)  # under a step
    report("ingest.parse", 0.04)  # a step, and time enough
    report("done", 1.0)
    assert rec.events == [("ingest.read", 0.0), ("ingest.parse", 0.02), ("ingest.parse", 0.04), ("done", 1.0)]


# -- ingest: real files into a real store ------------------------------------------------------------

@pytest.fixture()
def store(tmp_path):
    s = Store(tmp_path / "p.duckdb")
    header, rows = SAMPLES["branches"]
    from data.ingest import ingest_file

    assert ingest_file(s, write_csv(tmp_path / "branches.csv", [header, *rows])).status == "loaded"
    yield s
    s.close()


def test_ingest_reports_every_stage_of_a_load(store, tmp_path):
    from data.ingest import ingest_file

    path = tmp_path / "tickets.csv"
    store.cursor().execute(ticket_csv_sql(path, 50_000))
    rec = Recorder()
    res = ingest_file(store, path, progress=rec)
    assert res.status == "loaded" and res.rows_loaded == 50_000
    assert_well_formed(rec, INGEST)
    assert len(rec.events) >= 10  # parts of stages too, not only their starts


def test_ingest_of_a_workbook_reports_each_sheet(store, tmp_path):
    from data.ingest import ingest_file

    header, rows = SAMPLES["counter_tickets"]
    path = write_xlsx(tmp_path / "tickets.xlsx", {"一月": [header, *rows[:2]], "二月": [header, rows[2]]})
    rec = Recorder()
    assert ingest_file(store, path, progress=rec).status == "loaded"
    assert_well_formed(rec, INGEST)


def test_a_rejected_or_repeated_file_ends_at_done(store, tmp_path):
    from data.ingest import ingest_file

    header, rows = SAMPLES["counter_tickets"]
    bad = [*rows, ["0101001", "人民路网点", "2025-13-45", "A009", "个人存取款", "x", "", "", "1", "T1", "已办理"]]
    rec = Recorder()
    assert ingest_file(store, write_csv(tmp_path / "bad.csv", [header, *bad]), progress=rec).status == "rejected"
    assert_well_formed(rec, INGEST, [Stage.INGEST_READ, Stage.INGEST_PARSE, Stage.INGEST_VALIDATE])

    good = write_csv(tmp_path / "good.csv", [header, *rows])
    assert ingest_file(store, good).status == "loaded"
    rec = Recorder()
    assert ingest_file(store, good, progress=rec).status == "already_loaded"
    assert_well_formed(rec, INGEST, [Stage.INGEST_READ])

    rec = Recorder()
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert ingest_file(store, empty, progress=rec).status == "rejected"
    assert rec.events == [(Stage.DONE, 1.0)]


# -- the full scan and the briefing on the demo store --------------------------------------------------

@pytest.fixture()
def demo_copy(demo_db, tmp_path) -> Path:
    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, db)
    return db


def test_full_scan_reports_every_stage(demo_copy):
    from anomaly.scan import scan

    s = Store(demo_copy)
    try:
        rec = Recorder()
        res = scan(s, progress=rec)
    finally:
        s.close()
    assert res.series > 0 and res.flags > 0
    assert_well_formed(rec, SCAN)
    per_stage = {st: sum(1 for s, _ in rec.events if s == st) for st in rec.stages}
    # per KPI while reading, per block of series while detecting (the explanations only where
    # a rate worsened at bank or region level)
    assert per_stage["scan.read"] > 5 and per_stage["scan.detect"] > 1, per_stage


def test_quarterly_briefing_reports_every_stage(demo_copy):
    from briefing import build_pdf
    from metrics.summary import freshness

    s = Store(demo_copy)
    try:
        end = freshness(s)["feedback_records"]
        quarter = (end.month - 1) // 3 + 1
        code = f"{end.year}-Q{quarter - 1}" if quarter > 1 else f"{end.year - 1}-Q4"
        rec = Recorder()
        pdf = build_pdf(s, code, "all", "zh", progress=rec)
    finally:
        s.close()
    assert pdf[:5] == b"%PDF-"
    assert_well_formed(rec, BRIEFING)
    assert sum(1 for st, _ in rec.events if st == "briefing.sections") >= 5  # one per section


# -- the CLI: a bar on a terminal, nothing when piped -------------------------------------------------

def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cli", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm", "COLUMNS": "120", "LINES": "40"}


def _on_pty(cmd: list[str], timeout: float = 300) -> tuple[int, str]:
    """Run `cmd` with stdin, stdout and stderr on a new pseudo-terminal; (exit code, all it wrote)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=_env(), cwd=ROOT, close_fds=True)
    os.close(slave)
    out, deadline = b"", time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if select.select([master], [], [], 0.5)[0]:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            elif p.poll() is not None:
                break
    finally:
        os.close(master)
        if p.poll() is None:
            p.kill()
        p.wait(timeout=30)
    return p.returncode, out.decode("utf-8", errors="replace")


def _piped(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=300)


def test_cli_ingest_draws_a_bar_on_a_terminal_only(tmp_path):
    header, rows = SAMPLES["counter_tickets"]
    db = tmp_path / "cli.duckdb"
    s = Store(db)
    big = tmp_path / "tickets.csv"
    s.cursor().execute(ticket_csv_sql(big, 20_000))
    s.close()
    small = write_csv(tmp_path / "small.csv", [header, *rows])

    piped = _piped(_cli("--db", str(db), "ingest", str(small), "--no-scan"))
    assert piped.returncode == 0, piped.stderr
    assert "已导入为批次" in piped.stdout
    for text in (piped.stdout, piped.stderr):
        assert not any(c in text for c in BAR_CHARS), repr(text)

    code, out = _on_pty(_cli("--db", str(db), "ingest", str(big), "--no-scan"))
    assert code == 0, out
    assert "tickets.csv  [" in out and "█" in out and "░" in out
    for stage in ("读取文件 / Reading the file", "写入数据库 / Writing to the store", "完成 / Done"):
        assert stage in out, out
    assert " 100%" in out
    # the bar is erased before the command's own message, which starts on a clean line
    assert "\r\x1b[K" + "tickets.csv：已导入为批次" in out


def test_cli_scan_and_briefing_bars(demo_copy, tmp_path):
    piped = _piped(_cli("--db", str(demo_copy), "scan", "--metric", "counter.wait_avg_min"))
    assert piped.returncode == 0, piped.stderr
    assert "扫描" in piped.stdout
    assert not any(c in piped.stdout + piped.stderr for c in BAR_CHARS)

    code, out = _on_pty(_cli("--db", str(demo_copy), "scan", "--metric", "counter.wait_avg_min"))
    assert code == 0, out
    assert "异常扫描 / anomaly scan  [" in out and "检测异常 / Detecting anomalies" in out and "█" in out

    from metrics.summary import freshness

    s = Store(demo_copy)
    end = freshness(s)["feedback_records"]
    s.close()
    month = f"{end.year}-{end.month - 1:02d}" if end.month > 1 else f"{end.year - 1}-12"
    pdf = tmp_path / "b.pdf"
    piped = _piped(_cli("--db", str(demo_copy), "briefing", "--period", month, "--out", str(pdf)))
    assert piped.returncode == 0, piped.stderr
    assert not any(c in piped.stdout + piped.stderr for c in BAR_CHARS)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    code, out = _on_pty(_cli("--db", str(demo_copy), "briefing", "--period", month, "--out", str(pdf)))
    assert code == 0, out
    for stage in ("计算指标", "编写章节与图表", "排版PDF"):
        assert stage in out, out
    assert "简报已写入" in out


def test_terminal_bar_fits_the_width_in_terminal_columns():
    from cli.progress import cells, fit, line

    text = line("柜台叫号.csv", "ingest.validate", 0.5)
    assert "[" + "█" * 12 + "░" * 12 + "]" in text and " 50%" in text
    assert cells("柜台") == 4 and cells("ab") == 2
    cut = fit(text, 30)
    assert cells(cut) <= 30 and text.startswith(cut)
