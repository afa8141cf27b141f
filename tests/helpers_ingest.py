"""Shared builders for the ingest tests: real CSV/XLSX bytes, sample rows, store checksums.

Everything here writes real files and reads the real DuckDB store: no mocks. Sample rows use
the Chinese headers of the source declarations (`label_zh`) so a test reads like an export.
"""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

import openpyxl

from data.sources import SOURCES
from data.sqlfiles import ident
from data.store import Store

LINEAGE = ("batch_id", "source_file", "source_row")

# Small, valid uploads per source: (header as written, data rows). Branch 0101001 is used
# everywhere so that a test loading BRANCH_ROWS first gets no unknown-branch warnings.
SAMPLES: dict[str, tuple[list[str], list[list[str]]]] = {
    "branches": (
        ["机构号", "机构名称", "机构层级", "上级机构号", "所属区域", "开放窗口数"],
        [["0101000", "城东支行", "支行", "", "华东区", "0"],
         ["0101001", "人民路网点", "网点", "0101000", "华东区", "6"],
         ["0101002", "解放路网点", "营业网点", "0101000", "华东区", "4"]],
    ),
    "counter_tickets": (
        ["网点编号", "网点名称", "业务日期", "票号", "业务类型", "取号时间", "叫号时间", "完成时间", "窗口号", "柜员号", "状态"],
        [["0101001", "人民路网点", "2025-01-03", "A001", "个人存取款", "2025-01-03 09:00:00", "2025-01-03 09:10:00",
          "2025-01-03 09:20:00", "1", "T0315", "已办理"],
         ["0101001", "人民路网点", "2025-01-03", "A002", "理财业务", "2025-01-03 09:05:00", "2025-01-03 09:30:00",
          "", "2", "T0316", "过号"],
         ["0101002", "解放路网点", "2025-01-03", "A001", "个人外汇", "2025-01-03 09:01:00", "2025-01-03 09:02:00",
          "2025-01-03 09:12:30", "1", "T0401", "办理完成"]],
    ),
    "loan_snapshot": (
        ["数据日期", "借据号", "客户号", "内部机构号", "贷款品种", "发放日期", "到期日期", "贷款金额", "贷款余额",
         "逾期天数", "五级分类"],
        [["2025-01-31", "622500202301150001", "C000123", "0101001", "个人住房贷款", "2023-01-15", "2043-01-15",
          "500000", "420000", "0", "正常"],
         ["2025-01-31", "622500202301150002", "C000124", "0101001", "个人经营贷款", "2024-03-01", "2027-03-01",
          "300000", "250000.5", "35", "关注"],
         ["2025-01-31", "000500202301150003", "C000125", "0101002", "小微企业贷款", "2022-06-30", "2025-06-30",
          "1,000,000", "800000", "120", "次级"]],
    ),
    "feedback_records": (
        ["工单号", "受理渠道", "受理时间", "类型", "被投诉网点", "业务类别", "投诉内容", "处理状态", "办结时间", "推荐意愿"],
        [["TS202501030001", "客服热线", "2025-01-03 09:15:30", "投诉", "0101001", "个人贷款", "排队等了一个多小时",
          "已办结", "2025-01-08 16:30:00", "3"],
         ["TS202501030002", "12378转办", "2025-01-03 10:00:00", "投诉", "0101002", "信用卡", "年费扣费有异议",
          "处理中", "", ""],
         ["TS202501030003", "手机银行", "2025-01-04 11:20:00", "建议", "0101001", "其他", "希望增加窗口",
          "已受理", "", "8"]],
    ),
    "market_indicators": (
        ["指标代码", "指标名称", "日期", "频率", "数值", "单位"],
        [["LPR_1Y", "1年期LPR", "2025-05-20", "月", "3.00", "%"],
         ["LPR_5Y", "5年期以上LPR", "2025-05-20", "月", "3.50", "%"],
         ["NPL_RATIO_CB", "商业银行不良贷款率", "2025-06-30", "季", "1.49", "%"]],
    ),
    "market_events": (
        ["编号", "事件日期", "类别", "标题", "内容", "影响领域", "影响方向"],
        [["EV001", "2025-05-20", "政策利率", "LPR报价下调", "1年期LPR下调10个基点", "信贷定价", "利好"],
         ["EV002", "2025-05-08", "降准", "全面降准0.5个百分点", "释放长期流动性约1万亿元", "流动性", "利好"],
         ["EV003", "2025-03-01", "监管政策", "新规实施", "金融资产风险分类办法全面实施", "信贷风险", "中性"]],
    ),
}


def csv_text(rows: list[list[object]]) -> str:
    """Rows as CSV text with LF line ends (quotes added where the csv module needs them)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for r in rows:
        w.writerow(["" if c is None else c for c in r])
    return buf.getvalue()


def write_csv(path: Path, rows: list[list[object]], encoding: str = "utf-8", newline: str = "\n") -> Path:
    """Write `rows` (header included) as real bytes in `encoding` (utf-8, utf-8-sig, gbk …)."""
    text = csv_text(rows).replace("\n", newline)
    path.write_bytes(text.encode(encoding))
    return path


def sample_csv(path: Path, source: str, encoding: str = "utf-8") -> Path:
    header, rows = SAMPLES[source]
    return write_csv(path, [header, *rows], encoding)


def write_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    """A workbook with one sheet per entry; str cells are written as text cells, numbers as numbers."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(list(r))
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
                    cell.number_format = "@"
    wb.save(path)
    return path


def table_checksums(store: Store) -> dict[str, tuple]:
    """(row count, sum of row hashes) of every analytical table and its history archive."""
    cur = store.cursor()
    out = {}
    for name in SOURCES:
        for schema in ("main", "history"):
            t = f"{schema}.{ident(name)}"
            out[f"{schema}.{name}"] = cur.execute(f"SELECT count(*), sum(hash(t)) FROM {t} t").fetchone()
    cur.close()
    return out


def store_state(store: Store) -> dict[str, object]:
    """Everything an upload may change: table checksums, batches, issues, quarantine, data version."""
    cur = store.cursor()
    state: dict[str, object] = dict(table_checksums(store))
    for t in ("ops.batches", "ops.batch_issues", "ops.quarantine"):
        state[t] = cur.execute(f"SELECT count(*), sum(hash(t)) FROM {t} t").fetchone()
    state["data_version"] = store.data_version()
    cur.close()
    return state


def table_rows(store: Store, table: str, exclude: tuple[str, ...] = ("batch_id",)) -> list[tuple]:
    """All rows of `table`, sorted, without the given lineage columns."""
    ex = f" EXCLUDE ({', '.join(exclude)})" if exclude else ""
    cur = store.cursor()
    try:
        return cur.execute(f"SELECT *{ex} FROM main.{ident(table)} ORDER BY ALL").fetchall()
    finally:
        cur.close()


def count(store: Store, table: str) -> int:
    cur = store.cursor()
    try:
        return cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        cur.close()


def n_batches(store: Store) -> int:
    return count(store, "ops.batches")


def issues_of(result, code: str | None = None, severity: str | None = None):
    """The issue rows of an IngestResult, optionally filtered."""
    df = result.issues
    if code is not None:
        df = df[df["code"] == code]
    if severity is not None:
        df = df[df["severity"] == severity]
    return df


def ticket_csv_sql(path: Path, n: int, start_day: str = "2025-01-02") -> str:
    """A DuckDB COPY statement that writes an n-row, valid ticket export (fast for large n)."""
    return f"""
    COPY (
      SELECT printf('01010%02d', i % 20) AS "网点编号",
             strftime(DATE '{start_day}' + CAST((i // 20) // 500 AS INTEGER), '%Y-%m-%d') AS "业务日期",
             printf('A%06d', i) AS "票号",
             '个人存取款' AS "业务类型",
             strftime(TIMESTAMP '{start_day} 09:00:00' + to_days(CAST((i // 20) // 500 AS INTEGER))
                      + to_seconds((i % 500) * 30), '%Y-%m-%d %H:%M:%S') AS "取号时间",
             strftime(TIMESTAMP '{start_day} 09:05:00' + to_days(CAST((i // 20) // 500 AS INTEGER))
                      + to_seconds((i % 500) * 30), '%Y-%m-%d %H:%M:%S') AS "叫号时间",
             CAST(i % 8 AS VARCHAR) AS "窗口号"
      FROM range({n}) r(i)
    ) TO '{path}' (HEADER, DELIMITER ',')
    """


ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, db) -> subprocess.CompletedProcess:
    """The installed `bankpulse` command, as a user runs it, on the database `db`."""
    return subprocess.run([str(ROOT / ".venv/bin/bankpulse"), "--db", str(db), *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)
