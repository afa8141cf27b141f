"""Synthetic counter_tickets CSV for the ingest benchmark (vectorised numpy, seeded).

The file looks like a queue-system export: Chinese headers, 200 branches (0101001 …), two years
of business dates, a ticket number unique per branch and day, ISO date-times, 已办理/过号 status.
It is written with pyarrow's CSV writer in blocks (bounded memory even for 10M rows); the GBK
copy is the same text transcoded chunk by chunk.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

HEADER = ["网点编号", "网点名称", "业务日期", "票号", "业务类型", "客户级别", "取号时间", "叫号时间",
          "开始办理时间", "完成时间", "窗口号", "柜员号", "状态", "等待时长(秒)", "办理时长(秒)"]
N_BRANCHES = 200
START = np.datetime64("2023-01-01")
N_DAYS = 730
SERVICE_TYPES = np.array(["个人存取款", "对公业务", "理财业务", "个人外汇", "VIP"])
PREFIX = np.array(["A", "B", "C", "D", "V"])
TYPE_P = np.array([0.56, 0.15, 0.11, 0.05, 0.13])
SERVICE_MEDIAN_S = np.array([300.0, 560.0, 640.0, 480.0, 420.0])
TIERS = np.array(["普通客户", "金卡客户", "白金客户", "钻石客户"])
TIER_P = np.array([0.7, 0.18, 0.09, 0.03])
STREETS = ["人民路", "解放路", "中山路", "建设路", "新华路", "和平路", "胜利路", "文化路", "青年路", "长江路",
           "黄河路", "东风路", "光明路", "朝阳路", "滨江路", "南京路", "北京路", "湖滨路", "学府路", "幸福路"]
SUFFIX = ["支行", "网点", "分理处", "营业部", "储蓄所", "社区支行", "科技支行", "开发区支行", "城东支行", "城西支行"]
BLOCK_CELLS = 20_000  # branch-days per written block


def branch_ids() -> np.ndarray:
    # 10 sub-branches (01..10) under branch 01, 20 outlets each: 0101001 … 0110020
    return np.array([f"01{1 + i // 20:02d}{1 + i % 20:03d}" for i in range(N_BRANCHES)])


def branch_names() -> np.ndarray:
    return np.array([f"{STREETS[i % 20]}{SUFFIX[i // 20]}" for i in range(N_BRANCHES)])


def _ts(a: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array(a.astype("datetime64[s]"), type=pa.timestamp("s"), mask=None if valid is None else ~valid)


def _blocks(n_rows: int, seed: int):
    rng = np.random.default_rng(seed)
    n_cells = N_BRANCHES * N_DAYS
    # branch weights vary 0.4x … 2x, weekends are quieter
    bw = rng.uniform(0.4, 2.0, N_BRANCHES)
    dow = (np.arange(N_DAYS) + 6) % 7  # 2023-01-01 was a Sunday → 6
    dw = np.where(dow >= 5, 0.4, 1.0)
    p = (dw[:, None] * bw[None, :]).ravel()  # cell = day * N_BRANCHES + branch (file is sorted by date)
    counts = rng.multinomial(n_rows, p / p.sum())
    ids, names = branch_ids(), branch_names()
    seq_lut = np.array([f"{i:03d}" for i in range(10_000)])
    for c0 in range(0, n_cells, BLOCK_CELLS):
        cnt = counts[c0:c0 + BLOCK_CELLS]
        n = int(cnt.sum())
        if n == 0:
            continue
        cell = np.repeat(np.arange(c0, c0 + len(cnt)), cnt)
        starts = np.cumsum(cnt) - cnt
        seq = np.arange(n) - np.repeat(starts, cnt) + 1
        day, br = cell // N_BRANCHES, cell % N_BRANCHES
        date = START + day.astype("timedelta64[D]")
        typ = rng.choice(len(TYPE_P), n, p=TYPE_P)
        tier = rng.choice(len(TIER_P), n, p=TIER_P)
        # tickets within a branch-day in time order: arrival offset sorted by seq via cumulative gaps
        arrive = (9 * 3600 + np.minimum(seq * rng.uniform(60, 400, n), 8 * 3600)).astype(np.int64)
        wait = rng.exponential(600, n).astype(np.int64)
        served = rng.random(n) < 0.95
        start_gap = rng.integers(5, 60, n)
        svc = np.maximum(30, rng.lognormal(np.log(SERVICE_MEDIAN_S[typ]), 0.5)).astype(np.int64)
        t_ticket = date.astype("datetime64[s]") + arrive.astype("timedelta64[s]")
        t_call = t_ticket + wait.astype("timedelta64[s]")
        t_start = t_call + start_gap.astype("timedelta64[s]")
        t_end = t_start + svc.astype("timedelta64[s]")
        window = rng.integers(1, 9, n)
        teller = br * 10 + window
        cols = {
            HEADER[0]: pa.array(ids[br]),
            HEADER[1]: pa.array(names[br]),
            HEADER[2]: pa.array(date, type=pa.date32()),
            HEADER[3]: pa.array(np.char.add(PREFIX[typ], seq_lut[np.minimum(seq, 9999)])),
            HEADER[4]: pa.array(SERVICE_TYPES[typ]),
            HEADER[5]: pa.array(TIERS[tier]),
            HEADER[6]: _ts(t_ticket),
            HEADER[7]: _ts(t_call),
            HEADER[8]: _ts(t_start, served),
            HEADER[9]: _ts(t_end, served),
            HEADER[10]: pa.array(window.astype(str)),
            HEADER[11]: pa.array(np.char.add("T", np.char.zfill(teller.astype(str), 4))),
            HEADER[12]: pa.array(np.where(served, "已办理", "过号")),
            HEADER[13]: pa.array(wait),
            HEADER[14]: pa.array(svc, mask=~served),
        }
        yield pa.table(cols)


def write_utf8(path: Path, n_rows: int, seed: int = 20250103) -> Path:
    """Write the UTF-8 file (no BOM, LF line ends) in blocks."""
    opts = pacsv.WriteOptions(include_header=False, quoting_style="none")
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as f:
        f.write((",".join(HEADER) + "\n").encode("utf-8"))
        writer = None
        try:
            for t in _blocks(n_rows, seed):
                if writer is None:
                    writer = pacsv.CSVWriter(f, t.schema, write_options=opts)
                writer.write_table(t)
        finally:
            if writer is not None:
                writer.close()
    tmp.replace(path)
    return path


def transcode(src: Path, dst: Path, encoding: str = "gbk", chunk: int = 16 * 1024 * 1024) -> Path:
    """Same text in another encoding, streamed."""
    dec = codecs.getincrementaldecoder("utf-8")()
    tmp = dst.with_suffix(".tmp")
    with src.open("rb") as fi, tmp.open("wb") as fo:
        while raw := fi.read(chunk):
            fo.write(dec.decode(raw).encode(encoding))
        fo.write(dec.decode(b"", final=True).encode(encoding))
    tmp.replace(dst)
    return dst


def ensure(out: Path, n_rows: int) -> tuple[Path, Path]:
    """The cached UTF-8 and GBK files for `n_rows` (generated once)."""
    out.mkdir(parents=True, exist_ok=True)
    u, g = out / f"tickets_{n_rows}_utf8.csv", out / f"tickets_{n_rows}_gbk.csv"
    if not u.exists():
        write_utf8(u, n_rows)
    if not g.exists():
        transcode(u, g)
    return u, g


if __name__ == "__main__":
    import sys
    import time

    t = time.perf_counter()
    print(ensure(Path(sys.argv[2] if len(sys.argv) > 2 else "bench/out"), int(sys.argv[1])), time.perf_counter() - t)
