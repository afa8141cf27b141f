"""`bankpulse` — the command line: ingest, batches, rollback, demo, metric, scan, detect, briefing, plan,
rectification, subscription, deliver, scheduler, staffing, scorecard, feed.

Long work (ingest, scan, demo, briefing) draws a progress bar on stderr when it is a terminal
(cli/progress.py); piped or redirected, nothing but the messages is written.

Exit codes: 0 success (or already loaded), 1 rejected / failed with the reason printed,
2 usage error. Help text is bilingual, Chinese first.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from cli.progress import terminal_bar
from data.settings import get_settings

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits 2 on usage errors; keep that, print bilingual
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: 用法错误 / usage error: {message}\n")


def _day(text: str):
    """An argparse type: a YYYY-MM-DD date (a bad one is a usage error naming the value)."""
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"不是 YYYY-MM-DD 日期 / not a YYYY-MM-DD date: {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="bankpulse", description="BankPulse 银行工作动态监测 — 命令行工具 / command-line tool")
    db_help = "DuckDB 数据库文件（默认 BANKPULSE_DB 或 var/bankpulse.duckdb） / database file"
    p.add_argument("--db", type=Path, help=db_help)
    as_help = ("以该用户身份执行：其角色决定可用命令，其数据范围限制查询、导出与简报；操作记入审计日志"
               "（默认 BANKPULSE_AS） / act as this user: their role and data scope apply, the action is audited")
    p.add_argument("--as", dest="as_user", metavar="USER", help=as_help)
    # --db and --as are accepted before or after the command (`bankpulse ingest f.csv --db x.duckdb`)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", type=Path, default=argparse.SUPPRESS, help=db_help)
    common.add_argument("--as", dest="as_user", metavar="USER", default=argparse.SUPPRESS, help=as_help)
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    _add = sub.add_parser
    sub.add_parser = lambda *a, **k: _add(*a, parents=[common], **k)  # type: ignore[method-assign]

    i = sub.add_parser("ingest", help="导入导出文件 / load export files")
    i.add_argument("files", nargs="+", type=Path, help="CSV / Excel 文件 / files")
    i.add_argument("--source", help="指定数据类型（默认按表头识别） / force the source (default: detect from headers)")
    i.add_argument("--allow-partial", action="store_true",
                   help="导入有效行，错误行隔离 / load valid rows and quarantine the rejected ones")
    i.add_argument("--report", type=Path, help="把全部问题写入CSV / write every issue to this CSV")
    i.add_argument("--user", help="记录在批次中的用户（未用 --as 时） / user recorded on the batch (without --as)")
    i.add_argument("--no-scan", action="store_true", help="导入后不做异常扫描 / skip the anomaly scan after loading")

    b = sub.add_parser("batches", help="列出导入批次 / list load batches")
    b.add_argument("--json", action="store_true", help="JSON 输出 / JSON output")

    r = sub.add_parser("rollback", help="回滚一个批次 / roll a batch back")
    r.add_argument("batch", type=int, help="批次号 / batch id")
    r.add_argument("--user", help="记录的用户（未用 --as 时） / user recorded (without --as)")

    d = sub.add_parser("demo", help="生成演示导出文件（可直接导入） / write demo export files (and load them)")
    s = get_settings()
    d.add_argument("--seed", type=int, default=s.demo_seed)
    d.add_argument("--branches", type=int, default=s.demo_branches, help="网点数 / number of outlets")
    d.add_argument("--years", type=int, default=s.demo_years, help="年数 / years of history")
    d.add_argument("--as-of", dest="as_of", type=_day, default=s.demo_as_of,
                   help="演示数据的最后一天 YYYY-MM-DD（默认 BANKPULSE_DEMO_AS_OF，未设则为北京时间昨天） / "
                        "last day of the demo data (default: BANKPULSE_DEMO_AS_OF, else yesterday in Asia/Shanghai)")
    d.add_argument("--out", type=Path, default=Path("var/demo"), help="输出目录 / output folder")
    d.add_argument("--load", action="store_true", help="生成后导入 / ingest the files after writing them")
    d.add_argument("--no-scan", action="store_true", help="导入后不做异常扫描 / skip the anomaly scan")
    d.add_argument("--no-plans", action="store_true",
                   help="不写入演示调整方案与整改通知书 / skip the demo plans, inspections and notices")
    d.add_argument("--if-empty", action="store_true",
                   help="仅当数据库为空时执行（make run 使用） / only when the store is empty (used by make run)")
    m = sub.add_parser("metric", help="计算一个指标（与页面同口径） / compute a KPI (the numbers the pages show)")
    m.add_argument("id", nargs="?", help="指标ID，如 credit.npl_ratio / metric id")
    m.add_argument("--list", action="store_true", help="列出指标目录 / list the catalogue")
    m.add_argument("--grain", choices=["day", "week", "month", "quarter", "year"], help="粒度 / grain (default: the KPI's)")
    m.add_argument("--by", default="", help="按维度拆分，逗号分隔，如 branch,product / breakdown dimensions")
    m.add_argument("--from", dest="start", help="开始日期 YYYY-MM-DD / first date")
    m.add_argument("--to", dest="end", help="结束日期 YYYY-MM-DD / last date")
    m.add_argument("--region", help="区域 / region filter")
    m.add_argument("--branch", help="机构号 / branch id filter")
    m.add_argument("--product", help="贷款品种 / product filter")
    m.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="口径选项，如 overdue_basis=amount / definition option")
    m.add_argument("--format", choices=["csv", "json"], default="csv")

    sc = sub.add_parser("scan", help="异常扫描（全部指标 × 全行/区域/网点） / scan every KPI for anomalies")
    sc.add_argument("--metric", action="append", help="只扫描这些指标 / only these metric ids")
    sc.add_argument("--since", help="只保留该日期之后的异常 / keep flags from this date on (YYYY-MM-DD)")
    sc.add_argument("--json", action="store_true", help="JSON 输出 / JSON output")

    de = sub.add_parser("detect", help="对任意指标序列做异常检测 / detect anomalies in any KPI series (long CSV)",
                        description="时间列名为 date 或 timestamp（NAB 的写法）；带时区的时间换算为 Asia/Shanghai；"
                                    "每条序列的步长、缺口、偏离网格的点与合并的重复时间都写到屏幕和 flags.json 的 _input / "
                                    "the time column is `date` or `timestamp` (NAB's name); timestamps with an offset "
                                    "are converted to Asia/Shanghai; each series' step, gaps, off-grid points and "
                                    "merged repeats are stated on stdout and under _input in flags.json. "
                                    "退出码 / exit: 0 已写出 / written, 1 输入被拒 / input refused, 2 用法 / usage.")
    de.add_argument("file", type=Path, help="date|timestamp,<键列...>,value[,denominator][,kind]")
    de.add_argument("--out", type=Path, required=True, help="flags.json（score.py 可读） / output for score.py")
    de.add_argument("--on-duplicate", choices=["first", "last", "sum", "mean"],
                    help="同一序列同一时间多行时：取首行、末行、相加或平均（比率按分母加权）；默认拒绝并列出行号 / "
                         "repeated timestamps: keep the first or last row, add or average them (rates weighted by "
                         "their denominator); default: refuse, listing the lines")
    de.add_argument("--series-id", help="无键列文件的序列名（默认 series） / the series id of a file without key columns "
                                        "(default: series)")
    de.add_argument("--sensitivity", default="medium", help="low|medium|high 或阈值倍数 / or a threshold multiplier")
    de.add_argument("--min-change", type=float, help="最小变化（比率为小数，如0.002=0.2个百分点） / minimum change")
    de.add_argument("--min-denominator", type=float, default=30.0, help="最小分母 / minimum denominator")

    br = sub.add_parser("briefing", help="生成经营简报PDF（与页面同口径） / write the management briefing PDF")
    br.add_argument("--period", required=True, help="期间：2025-09（月）、2025-W38（周）、2025-Q3（季） / week, month or quarter")
    br.add_argument("--scope", default="all", help="范围：all、region:区域名、branch:机构号 / all | region:NAME | branch:ID")
    br.add_argument("--lang", choices=["zh", "en"], default="zh", help="语言 / language")
    br.add_argument("--sections", help="只包含这些部分，逗号分隔（summary,kpi_table,trends,anomalies,feedback,market,actions,scorecard） / "
                                       "only these sections")
    br.add_argument("--out", type=Path, required=True, help="输出PDF文件 / output PDF file")
    _add_user_commands(sub)
    _add_plan_commands(sub)
    _add_delivery_commands(sub)
    _add_staffing_commands(sub)
    sk = sub.add_parser("scorecard", help="考核：各机构得分、排名、趋势与明细（按 --as 的数据范围） / the scorecard: "
                                         "scores, ranks, trend and drill-down (scoped by --as)")
    sk.add_argument("--period", help="期间：2025-09（月）、2025-Q3（季）、2025（年） / month, quarter or year")
    sk.add_argument("--unit-kind", choices=["branch", "region"], default="branch", help="考核对象 / unit kind")
    sk.add_argument("--format", choices=["csv", "json", "xlsx"], default="csv")
    sk.add_argument("--lang", choices=["zh", "en"], default="zh", help="指标名称的语言 / language of the criterion names")
    sk.add_argument("--out", type=Path, help="输出文件（xlsx 必填；默认标准输出） / output file (required for xlsx)")
    sk.add_argument("--check", type=Path, metavar="FILE.toml",
                    help="只校验一个考核方案文件，列出全部问题 / only validate a definition file, listing every issue")
    _add_feed_commands(sub)
    return p


def _add_delivery_commands(sub) -> None:
    """`bankpulse subscription add|list|remove`, `bankpulse deliver` and `bankpulse scheduler` (docs/briefing.md)."""
    sb = sub.add_parser("subscription", help="简报订阅：定期发送到邮箱 / briefing subscriptions (scheduled e-mail)")
    ss = sb.add_subparsers(dest="subscription_cmd", required=True, parser_class=_Parser)
    sa = ss.add_parser("add", help="新增订阅（本人；管理员可为他人） / subscribe (yourself; an admin: anyone)")
    sa.add_argument("--user", help="订阅人（默认 --as 的用户；仅管理员可指定他人） / the recipient (default: the --as user)")
    sa.add_argument("--grain", choices=["week", "month", "quarter"], default="month", help="期间类型 / period kind")
    sa.add_argument("--scope", default="all", help="范围（须在订阅人的数据范围内）：all、region:区域名、branch:机构号 / "
                                               "all | region:NAME | branch:ID, inside the recipient's boundary")
    sa.add_argument("--lang", choices=["zh", "en"], default="zh", help="语言 / language")
    sa.add_argument("--day", type=int, default=1, help="发送日：周为星期 1–7，月/季为下一期第 1–28 天 / delivery day: "
                                                   "ISO weekday 1–7 for a week, day 1–28 of the next month/quarter")
    sa.add_argument("--time", default="08:00", help="发送时间 HH:MM / delivery time")
    sa.add_argument("--email", required=True, help="收件地址 / e-mail address")
    sl = ss.add_parser("list", help="列出订阅（本人；管理员：全部） / list subscriptions (yours; an admin: all)")
    sl.add_argument("--format", choices=["csv", "json"], default="csv")
    ss.add_parser("remove", help="退订 / remove a subscription").add_argument("id", type=int, help="订阅编号 / id")
    dl = sub.add_parser("deliver", help="发送到期的简报（按收件人本人的数据范围生成） / deliver briefings, each built "
                                        "inside its recipient's own boundary")
    dl.add_argument("--due", action="store_true", help="只发送已到发送时间的 / only those whose delivery time has come")
    dl.add_argument("--now", help="以此时刻为准（ISO，如 2025-10-01T09:00） / act as if it were this time")
    dl.add_argument("--json", action="store_true", help="JSON 输出 / JSON output")
    sch = sub.add_parser("scheduler", help="常驻进程：每 N 分钟执行 deliver --due（APScheduler） / a process running "
                                           "deliver --due every N minutes")
    sch.add_argument("--every", type=int, default=get_settings().deliver_every_min,
                     help="间隔分钟（默认 BANKPULSE_DELIVER_EVERY_MIN） / minutes between runs")


def _add_staffing_commands(sub) -> None:
    """`bankpulse staffing what-if` (the Erlang models on given figures) and `bankpulse staffing advice`
    (windows needed against open per weekday × hour, from the tickets in the --as scope)."""
    s = get_settings()
    st = sub.add_parser("staffing", help="窗口配置建议（Erlang C / Erlang A） / counter staffing (Erlang C / A)")
    ss = st.add_subparsers(dest="staffing_cmd", required=True, parser_class=_Parser)
    target = argparse.ArgumentParser(add_help=False)
    target.add_argument("--target-share", type=float, default=s.staffing_sl_share,
                        help=f"服务水平：该比例的客户在目标时间内叫号（默认 {s.staffing_sl_share:g}） / share of customers "
                             "called within the target wait")
    target.add_argument("--max-occupancy", type=float, default=s.staffing_max_occupancy,
                        help=f"窗口占用率上限（默认 {s.staffing_max_occupancy:g}） / occupancy cap")
    target.add_argument("--shrinkage", type=float, default=s.staffing_shrinkage,
                        help=f"排班损耗（默认 {s.staffing_shrinkage:g}）：排班柜员 = ⌈窗口 ÷ (1 − 损耗)⌉ / shrinkage")
    w = ss.add_parser("what-if", parents=[target], help="给定到达量、办理时长与窗口数的测算 / what if: "
                      "probability of waiting, service level, average wait, occupancy, abandonment, windows needed")
    w.add_argument("--arrivals-per-hour", type=float, required=True, help="每小时到达客户数 / arrivals per hour")
    w.add_argument("--aht-min", type=float, required=True, help="平均办理时长（分钟） / mean handling time, minutes")
    w.add_argument("--windows", type=int, required=True, help="开放窗口数 / windows open")
    w.add_argument("--target-s", type=float, default=s.staffing_sl_minutes * 60,
                   help=f"目标等候时间（秒，默认 {s.staffing_sl_minutes * 60:g}） / target wait, seconds")
    w.add_argument("--patience-min", type=float,
                   help="客户平均耐心（分钟）：给出时用 Erlang A（含放弃），否则 Erlang C / mean patience, minutes: "
                        "Erlang A with abandonment; without it Erlang C")
    w.add_argument("--format", choices=["text", "json"], default="text")
    a = ss.add_parser("advice", parents=[target], help="网点各星期 × 时段所需窗口与实开窗口（按 --as 的数据范围） / "
                      "per weekday × hour: windows needed against open, and the ranked suggestions (scoped)")
    a.add_argument("--branch", help="机构号（默认：数据范围内全部网点） / branch id (default: every branch in scope)")
    a.add_argument("--from", dest="start", help=f"开始日期（默认：截止日前 {s.staffing_weeks} 周） / first date")
    a.add_argument("--to", dest="end", help="截止日期（默认：最后一天有数据） / last date (default: the last day with data)")
    a.add_argument("--target-min", type=float, default=s.staffing_sl_minutes,
                   help=f"目标等候时间（分钟，默认 {s.staffing_sl_minutes:g}） / target wait, minutes")
    a.add_argument("--format", choices=["text", "csv", "json"], default="text")


def _add_feed_commands(sub) -> None:
    """`bankpulse feed list` (read-only, the items the --as user sees; docs/feed.md)."""
    f = sub.add_parser("feed", help="工作动态（只读，按 --as 的数据范围） / the work feed (read-only, scoped)")
    fs = f.add_subparsers(dest="feed_cmd", required=True, parser_class=_Parser)
    fl = fs.add_parser("list", help="列出动态，置顶在前 / list items, pinned first")
    fl.add_argument("--kind", action="append", help="类别，可重复 / kind, repeatable (notice, meeting, plan_approved, "
                                                   "anomaly_raised)")
    fl.add_argument("--search", help="检索标题、正文、决定与跟进事项 / search titles, bodies, decisions, follow-ups")
    fl.add_argument("--unread", action="store_true", help="只列未读 / only unread items")
    fl.add_argument("--limit", type=int, default=50)
    fl.add_argument("--format", choices=["csv", "json"], default="csv")


def _add_plan_commands(sub) -> None:
    """`bankpulse plan list|show|export` and `bankpulse rectification list` (read-only, scoped by --as)."""
    pl = sub.add_parser("plan", help="业务调整方案（只读，按 --as 的数据范围） / adjustment plans (read-only, scoped)")
    ps = pl.add_subparsers(dest="plan_cmd", required=True, parser_class=_Parser)
    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument("--status", help="状态 / status (proposed, evaluated, approved, in_progress, done, reviewed, "
                                          "rejected, withdrawn)")
    filters.add_argument("--kind", help="类型 / kind (process, product_service, staffing)")
    filters.add_argument("--overdue", action="store_true", help="只列有逾期步骤的方案 / only plans with an overdue step")
    pll = ps.add_parser("list", parents=[filters], help="列出方案 / list plans")
    pll.add_argument("--format", choices=["csv", "json"], default="csv")
    pls = ps.add_parser("show", help="一个方案：来源、步骤、历史 / one plan with origins, steps and history")
    pls.add_argument("id", help="方案编号，如 FA-2025-0007 / plan id")
    pls.add_argument("--format", choices=["text", "json"], default="text")
    ple = ps.add_parser("export", parents=[filters], help="导出方案及其步骤 / export plans with their steps")
    ple.add_argument("--format", choices=["csv", "json"], default="csv")
    ple.add_argument("--out", type=Path, help="输出文件（默认标准输出） / output file (default: stdout)")
    r = sub.add_parser("rectification", help="整改通知书（只读，按数据范围） / rectification notices (read-only, scoped)")
    rs = r.add_subparsers(dest="rect_cmd", required=True, parser_class=_Parser)
    rl = rs.add_parser("list", help="列出整改通知书 / list notices")
    rl.add_argument("--status", help="状态 / status (issued, rectified, rechecked_pass)")
    rl.add_argument("--branch", help="机构号 / branch id")
    rl.add_argument("--overdue", action="store_true", help="只列逾期未整改 / only overdue (still issued past the deadline)")
    rl.add_argument("--format", choices=["csv", "json"], default="csv")


def _add_user_commands(sub) -> None:
    """`bankpulse user add|list|update|disable|enable|reset-password|signout-all|ensure-admin` and `audit list|verify`."""
    u = sub.add_parser("user", help="用户管理（管理员） / manage users (administrators)")
    us = u.add_subparsers(dest="user_cmd", required=True, parser_class=_Parser)
    ua = us.add_parser("add", help="新增用户 / add a user")
    ua.add_argument("name")
    ua.add_argument("--role", required=True, choices=["viewer", "analyst", "manager", "admin"])
    ua.add_argument("--region", help="区域（* 为全行） / region (* = whole bank)")
    ua.add_argument("--branches", help="机构号，逗号分隔 / branch ids, comma-separated")
    ua.add_argument("--display", help="姓名 / full name")
    ua.add_argument("--group", action="append", metavar="GROUP",
                    help="用户组（可重复），如 supervision：可登记检查、下发整改通知书、复查 / a group (repeatable), e.g. "
                         "supervision: inspections, notices, re-checks")
    ua.add_argument("--password-stdin", action="store_true",
                    help="从标准输入读密码（默认随机生成并显示一次） / read the password from stdin (default: random)")
    uu = us.add_parser("update", help="修改角色或范围 / change role or scope")
    uu.add_argument("name")
    uu.add_argument("--role", choices=["viewer", "analyst", "manager", "admin"])
    uu.add_argument("--region")
    uu.add_argument("--branches")
    uu.add_argument("--group", action="append", metavar="GROUP",
                    help="用户组（可重复；给出即替换原有组） / groups (repeatable; replaces the current ones)")
    uu.add_argument("--no-groups", action="store_true", help="移除全部用户组 / remove every group")
    ul = us.add_parser("list", help="列出用户 / list users")
    ul.add_argument("--json", action="store_true")
    for name, text in (("disable", "停用 / disable"), ("enable", "启用 / enable")):
        us.add_parser(name, help=text).add_argument("name")
    ur = us.add_parser("reset-password", help="重置密码（随机，显示一次） / reset a password (random, shown once)")
    ur.add_argument("name")
    ur.add_argument("--password-stdin", action="store_true")
    us.add_parser("signout-all", help="结束该用户在所有浏览器中的登录 / end the user's sign-in in every browser"
                  ).add_argument("name")
    ue = us.add_parser("ensure-admin", help="首次运行：无用户时创建管理员并显示随机密码一次 / first run: create the admin")
    ue.add_argument("--name", default="admin")
    a = sub.add_parser("audit", help="审计日志（管理员） / the audit trail (administrators)")
    au = a.add_subparsers(dest="audit_cmd", required=True, parser_class=_Parser)
    al = au.add_parser("list", help="最近的审计记录 / recent audit rows")
    al.add_argument("--user")
    al.add_argument("--action")
    al.add_argument("--limit", type=int, default=50)
    al.add_argument("--csv", type=Path, help="导出为CSV / export to CSV")
    au.add_parser("verify", help="校验哈希链 / verify the hash chain")


def _store(args):
    from data.store import StoreLockedError, open_store

    try:
        return open_store(args.db) if args.db else open_store()
    except StoreLockedError as exc:
        print(str(exc), file=sys.stderr)
        raise SystemExit(EXIT_FAIL) from exc


def cmd_ingest(args) -> int:
    import pandas as pd

    from data.ingest import ingest_file
    from data.sources import SOURCES

    if args.source and args.source not in SOURCES:
        print(f"未知的数据类型 / unknown source {args.source!r}; one of: {', '.join(SOURCES)}", file=sys.stderr)
        return EXIT_USAGE
    missing = [f for f in args.files if not f.exists()]
    if missing:
        print(f"文件不存在 / no such file: {', '.join(map(str, missing))}", file=sys.stderr)
        return EXIT_USAGE
    store = _store(args)
    worst, frames = EXIT_OK, []
    rights = _write_rights(args, store)  # from the master as it is before any of these files
    for f in args.files:
        with terminal_bar(f.name) as report:
            res = ingest_file(store, f, source=args.source, allow_partial=args.allow_partial, user=_actor_name(args),
                              progress=report, **rights)
        _audit(args, "upload", target=res.file_name, outcome="ok" if res.ok else "failed",
               detail={"status": res.status, "batch": res.batch_id, "source": res.source, "rows": res.rows_loaded})
        frames.append(res.issues)
        print(res.message_zh)
        print(res.message_en)
        if res.status in ("loaded", "partial") and not args.no_scan:
            _scan_batch(store, res.batch_id)
        if res.status == "rejected":
            worst = EXIT_FAIL
            errs = res.issues[res.issues["severity"] == "error"]
            for _, e in errs.head(50).iterrows():
                where = f"{e['file']}" + (f"[{e['sheet']}]" if e["sheet"] else "") + \
                    (f" 第{e['row']}行/row {e['row']}" if pd.notna(e["row"]) else "")
                print(f"  ✗ {where} {e['column']}: {e['value']!s} — {e['message']} (期望/expected: {e['expected']})")
            if len(errs) > 50:
                print(f"  … 另有 {len(errs) - 50} 个错误 / {len(errs) - 50} more errors (--report FILE lists all)")
    if args.report:
        from data.exports import to_csv_bytes

        args.report.write_bytes(to_csv_bytes(pd.concat(frames, ignore_index=True)))
        _audit(args, "export", target=str(args.report), detail={"what": "ingest issues"})
        print(f"问题清单已写入 / issues written to {args.report}")
    return worst


def _scan_batch(store, batch_id: int) -> None:
    """The incremental anomaly scan after a load (its KPIs, branches and dates only)."""
    from anomaly.scan import scan_after_batch
    from data.ops import OPS

    with terminal_bar("异常扫描 / anomaly scan") as report:
        r = scan_after_batch(store, OPS.get_batch(store.cursor(), batch_id), progress=report)
    if r is not None:
        print(f"  异常扫描：{r.series} 条序列，新增 {r.new} 个异常（{r.seconds:.1f} 秒） / "
              f"anomaly scan: {r.series} series, {r.new} new ({r.seconds:.1f} s)")


def cmd_batches(args) -> int:
    from data.batches import list_batches

    batches = list_batches(_store(args))
    if args.json:
        print(json.dumps([b.as_dict() for b in batches], ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"{'批次':>5} {'状态':<12} {'数据类型':<18} {'导入':>9} {'更新':>8} {'隔离':>6}  时间              文件")
    for b in batches:
        print(f"{b.batch_id:>5} {b.status:<12} {b.source:<18} {b.rows_loaded:>9} {b.rows_updated:>8} "
              f"{b.rows_rejected:>6}  {b.created_at:%Y-%m-%d %H:%M}  {b.file_name}")
    return EXIT_OK


def cmd_rollback(args) -> int:
    from data.batches import RollbackError, rollback

    store = _store(args)
    try:
        r = rollback(store, args.batch, user=_actor_name(args), boundary=_boundary(args, store))
    except RollbackError as exc:
        _audit(args, "rollback", target=f"batch {args.batch}", outcome="failed", detail={"error": str(exc)})
        print(str(exc), file=sys.stderr)
        return EXIT_FAIL
    _audit(args, "rollback", target=f"batch {args.batch}",
           detail={"removed": r.rows_removed, "restored": r.rows_restored})
    print(f"批次 {r.batch_id} 已回滚：删除 {r.rows_removed} 行，恢复 {r.rows_restored} 行 / "
          f"batch {r.batch_id} rolled back: {r.rows_removed} rows removed, {r.rows_restored} restored")
    return EXIT_OK


def _demo_notes(story: dict) -> list[str]:
    """What a reader of the demo should know about its dates: days the official holiday notices do
    not cover, market series that stop before the demo's last day (both are kept as they are)."""
    notes = []
    cal = story.get("calendar", {})
    rest = {k: v for k, v in cal.items() if k != "official" and v}
    if rest:
        from data.demo.calendar import official_years

        lo, hi = official_years()
        parts = "、".join(f"{k} {v}" for k, v in rest.items())
        notes.append(f"注意：{parts} 天不在官方节假日通知（{lo}–{hi}年）范围内，按 holidays 包的法定节日或周末规则排班，无调休 / "
                     f"note: {', '.join(f'{v} days by {k}' for k, v in rest.items())} — outside the official holiday "
                     f"notices ({lo}–{hi}); statutory holidays by rule or plain weekends, no make-up working days")
    as_of = story.get("as_of", "")
    for key, zh in (("lpr", "LPR"), ("npl_ratio", "商业银行不良贷款率")):
        last = story.get("market_last_real", {}).get(key)
        if last and last < as_of:
            notes.append(f"注意：{zh} 真实数据截至 {last}，之后不外推 / note: the real {key} series ends {last}; "
                         "nothing is extrapolated after it")
    return notes


def cmd_demo(args) -> int:
    from datetime import UTC, datetime

    from pydantic import ValidationError

    from data.demo import DemoSpec, generate
    from data.demo.spec import bank_today, default_as_of

    store = _store(args) if (args.load or args.if_empty) else None
    if args.if_empty and store is not None and not store.is_empty():
        print("数据库已有数据，跳过演示数据 / the store already holds data; demo skipped")
        return EXIT_OK
    now = datetime.now(UTC)  # the one place the demo reads the clock
    today = bank_today(now)  # in Asia/Shanghai, the bank's zone, whatever the machine's zone
    as_of = args.as_of or default_as_of(now)
    if as_of >= today:
        print(f"演示数据的最后一天须早于今天 / the demo's last day must be before today: {as_of} ≥ {today}", file=sys.stderr)
        return EXIT_USAGE
    try:
        spec = DemoSpec(seed=args.seed, branches=args.branches, years=args.years, as_of=as_of)
    except ValidationError as exc:
        print("演示参数有误 / bad demo parameters: " + "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()), file=sys.stderr)
        return EXIT_USAGE
    print(f"生成演示数据 / writing demo files: seed {spec.seed}, {spec.branches} 个网点 outlets, "
          f"{spec.start} … {spec.as_of} → {args.out}")
    paths = generate(spec, args.out)
    print(f"已写入 {len(paths)} 个文件 / wrote {len(paths)} files")
    story_path = Path(args.out) / "story.json"
    story = json.loads(story_path.read_text(encoding="utf-8")) if story_path.exists() else None
    for note in _demo_notes(story or {}):
        print(note)
    if not args.load:
        return EXIT_OK
    from data.ingest import ingest_file

    worst = EXIT_OK
    for i, p in enumerate(paths, 1):
        with terminal_bar(f"[{i}/{len(paths)}] {p.name}") as report:
            res = ingest_file(store, p, user="demo", progress=report)
        print(f"[{i}/{len(paths)}] {res.message_zh}")
        if not res.ok:
            worst = EXIT_FAIL
            print(res.issues[res.issues["severity"] == "error"].head(10).to_string(), file=sys.stderr)
    if worst == EXIT_OK and not args.no_scan:
        from anomaly.scan import scan

        with terminal_bar("异常扫描 / anomaly scan") as report:
            r = scan(store, trigger="demo", progress=report)
        print(f"异常扫描：{r.series} 条序列，发现 {r.flags} 个异常（{r.seconds:.1f} 秒） / anomaly scan: {r.series} series, "
              f"{r.flags} flags ({r.seconds:.1f} s)")
    if worst == EXIT_OK and not args.no_plans:
        from data.demo.plans import seed_plans

        seeded = seed_plans(store, story, end=spec.as_of)
        print(f"调整方案 {seeded.plans} 个、检查 {seeded.inspections} 次、整改通知书 {seeded.notices} 份 / "
              f"{seeded.plans} plans, {seeded.inspections} inspections, {seeded.notices} notices")
    return worst


def cmd_metric(args) -> int:
    from datetime import date

    from metrics.catalogue import CATALOGUE, get_metric
    from metrics.compiler import MetricQueryError
    from metrics.compute import metric_span, series
    from metrics.model import Grain
    from metrics.scope import Scope

    if args.list:
        for m in CATALOGUE.values():
            print(f"{m.id:<32} {m.name_zh}（{m.unit}） / {m.name_en} — by: {', '.join(m.dimensions) or '-'}")
        return EXIT_OK
    if not args.id:
        print("请给出指标ID或 --list / give a metric id or --list", file=sys.stderr)
        return EXIT_USAGE
    try:
        metric = get_metric(args.id)
        options = {}
        for kv in args.option:
            k, _, v = kv.partition("=")
            options[k] = int(v) if v.isdigit() else v
        store = _store(args)
        lo, hi = metric_span(store, metric)
        start = date.fromisoformat(args.start) if args.start else lo
        end = date.fromisoformat(args.end) if args.end else hi
        if start is None or end is None:
            print("没有数据 / no data for this metric", file=sys.stderr)
            return EXIT_FAIL
        grain = Grain(args.grain) if args.grain else metric.default_grain
        by = tuple(b for b in args.by.split(",") if b)
        bound = _boundary(args, store)
        if not _inside(store, bound, args.region, args.branch):
            _audit(args, "cli", target=f"metric {args.id}", outcome="denied",
                   detail={"region": args.region, "branch": args.branch})
            print(f"超出您的数据范围 / outside your data scope: {args.region or args.branch}", file=sys.stderr)
            return EXIT_FAIL
        df = series(store, metric, grain, start, end, by,
                    Scope(branch_ids=bound, region=args.region, branch=args.branch, product=args.product), options)
        _audit(args, "export", target=f"metric {args.id}", detail={
            "grain": grain.value, "from": start, "to": end, "by": list(by), "region": args.region,
            "branch": args.branch, "product": args.product, "rows": len(df)})
    except (KeyError, ValueError, MetricQueryError) as exc:
        print(f"{exc}", file=sys.stderr)
        return EXIT_USAGE
    out = df[["period", *by, "value"]].copy()
    out["period"] = out["period"].map(lambda d: d.isoformat())
    if args.format == "json":
        records = [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}
                   for r in out.to_dict("records")]
        print(json.dumps(records, ensure_ascii=False, indent=1))
    else:
        sys.stdout.write(out.to_csv(index=False))
    return EXIT_OK


def cmd_scan(args) -> int:
    from datetime import date

    from anomaly.scan import scan
    from metrics.catalogue import CATALOGUE

    unknown = [m for m in (args.metric or []) if m not in CATALOGUE]
    if unknown:
        print(f"未知指标 / unknown metric: {', '.join(unknown)}", file=sys.stderr)
        return EXIT_USAGE
    store = _store(args)
    with terminal_bar("异常扫描 / anomaly scan") as report:
        res = scan(store, metrics=args.metric, since=date.fromisoformat(args.since) if args.since else None,
                   trigger=f"cli:{_actor_name(args)}", progress=report)
    _audit(args, "scan", detail={"series": res.series, "flags": res.flags, "new": res.new})
    if args.json:
        print(json.dumps({"series": res.series, "flags": res.flags, "new": res.new, "seconds": round(res.seconds, 2)}))
    else:
        print(f"扫描 {res.series} 条序列，发现 {res.flags} 个异常（新增 {res.new} 个），用时 {res.seconds:.1f} 秒 / "
              f"scanned {res.series} series: {res.flags} flags ({res.new} new) in {res.seconds:.1f} s")
    return EXIT_OK


def cmd_detect(args) -> int:
    """Detect every series of a long CSV; refuse the input (exit 1, --out untouched) with every
    problem listed, or write the flags and state per series what was done to its time axis."""
    from anomaly.base import Controls, SeriesError
    from anomaly.generic import detect_file, summary, write_flags

    if not args.file.exists():
        print(f"文件不存在 / no such file: {args.file}", file=sys.stderr)
        return EXIT_USAGE
    try:
        sens = args.sensitivity if args.sensitivity in ("low", "medium", "high") else float(args.sensitivity)
        controls = Controls(sensitivity=sens, min_change=args.min_change, min_denominator=args.min_denominator)
        res = detect_file(args.file, controls, args.on_duplicate, args.series_id)
    except (SeriesError, ValueError) as exc:
        print(f"输入有误 / bad input: {exc}", file=sys.stderr)
        return EXIT_FAIL
    write_flags(res.flags, args.out, meta=res.meta())
    shown = 20
    for p in res.prepared[:shown]:
        print(f"  {summary(p)}")
    if len(res.prepared) > shown:
        more = len(res.prepared) - shown
        print(f"  … 另有 {more} 条序列，见 {args.out} 的 _input / {more} more series, see _input in {args.out}")
    n = sum(len(v) for v in res.flags.values())
    print(f"{len(res.flags)} 条序列，{n} 个异常 → {args.out} / {len(res.flags)} series, {n} flags → {args.out}")
    return EXIT_OK


def cmd_briefing(args) -> int:
    import time

    from briefing import DEFAULT_SPEC, BriefingError, build_pdf
    from briefing.fonts import FontMissingError

    t0 = time.perf_counter()
    try:
        spec = DEFAULT_SPEC.only(s.strip() for s in args.sections.split(",") if s.strip()) if args.sections \
            else DEFAULT_SPEC
        store = _store(args)
        boundary = _boundary(args, store)
        with terminal_bar(f"简报 / briefing {args.period}") as report:
            pdf = build_pdf(store, args.period, args.scope, args.lang, spec, progress=report, boundary=boundary)
    except PermissionError as exc:
        _audit(args, "briefing_download", target=f"{args.period} {args.scope}", outcome="denied")
        print(f"{exc}", file=sys.stderr)
        return EXIT_FAIL
    except (ValueError, FontMissingError, BriefingError) as exc:  # BriefingError: a read failed (exit 1)
        print(f"{exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, ValueError) else EXIT_FAIL
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(pdf)
    _audit(args, "briefing_download", target=f"{args.period} {args.scope}",
           detail={"lang": args.lang, "out": str(args.out), "bytes": len(pdf)})
    print(f"简报已写入 / briefing written: {args.out} ({len(pdf) / 1024:.0f} KB, {time.perf_counter() - t0:.1f} s)")
    return EXIT_OK


# -- acting as a user (--as) -------------------------------------------------------------------
# The permission (data/users.PERMISSIONS) each command needs; None: touches no store.
NEEDS = {"ingest": "upload", "batches": "upload", "rollback": "rollback", "demo": "demo", "metric": "read",
         "scan": "scan", "detect": None, "briefing": "briefing", "user": "users", "audit": "audit", "plan": "read",
         "rectification": "read", "subscription": "briefing", "deliver": "deliver", "scheduler": "deliver",
         "staffing": "read", "scorecard": "scorecard",
         "feed": "read"}


def _resolve_actor(args) -> int | None:
    """Set args.actor from --as (or BANKPULSE_AS); refuse unknown, disabled or unauthorised users.

    Without --as the CLI acts as the operator of the shell (`cli:<login>`, whole bank): whoever can
    run it can read the database file anyway (docs/security.md). BANKPULSE_CLI_REQUIRE_AS=true makes
    --as mandatory for every command that touches the store.
    """
    import getpass
    import os

    from data.users import Principal, auth_settings

    need = NEEDS.get(args.cmd)
    name = getattr(args, "as_user", None) or os.environ.get("BANKPULSE_AS") or None
    if name is None:
        bootstrap = args.cmd == "user" and args.user_cmd == "ensure-admin"
        if need is not None and auth_settings().cli_require_as and not bootstrap:
            print("请用 --as 用户名 指明操作人 / give the acting user with --as USER (BANKPULSE_CLI_REQUIRE_AS)",
                  file=sys.stderr)
            return EXIT_USAGE
        try:
            login = getpass.getuser()
        except Exception:  # noqa: BLE001 - no login name (containers)
            login = "unknown"
        args.actor = Principal(f"cli:{login}", "admin", source="cli")
        return None
    if need is None:
        args.actor = None
        return None
    from data.users import UserStore

    store = _store(args)
    u = UserStore(store).get(name)
    if u is None or u.disabled:
        from data.audit import audit

        audit(store, name, "cli", target=args.cmd, outcome="denied", channel="cli",
              detail={"reason": "unknown user" if u is None else "disabled"})
        print(f"没有可用的用户 {name}（不存在或已停用） / no usable user {name} (unknown or disabled)", file=sys.stderr)
        return EXIT_FAIL
    args.actor = u.principal()
    if not args.actor.can(need):
        _audit(args, "cli", target=args.cmd, outcome="denied", detail={"needs": need})
        print(f"{name}（{u.role}）无权执行 {args.cmd} / {name} ({u.role}) may not run {args.cmd}", file=sys.stderr)
        return EXIT_FAIL
    return None


def _actor_name(args) -> str:
    """The name recorded on a batch: the --as user; without --as, --user (default: cli:<login>)."""
    a = getattr(args, "actor", None)
    if a is not None and a.source == "cli" and getattr(args, "user", None):
        return args.user
    return a.name if a is not None else getattr(args, "user", None) or "cli"


def _audit(args, action: str, **kw) -> None:
    from data.audit import audit

    a = getattr(args, "actor", None)
    audit(_store(args), a if a is not None else _actor_name(args), action, channel="cli", **kw)


def _boundary(args, store):
    a = getattr(args, "actor", None)
    return None if a is None else a.boundary(store)


def _write_rights(args, store) -> dict:
    """`ingest_file`'s boundary keywords for the actor (without --as: the operator, the whole bank)."""
    a = getattr(args, "actor", None)
    return {} if a is None else a.write_rights(store)


def _inside(store, bound, region: str | None, branch: str | None) -> bool:
    """A --region/--branch filter must lie inside the boundary (the boundary applies regardless)."""
    if bound is None:
        return True
    if branch and branch not in bound:
        return False
    if region:
        from data.users import branch_master

        b = branch_master(store)
        return bool(set(b.loc[b["region"] == region, "branch_id"]) & bound)
    return True


def cmd_user(args) -> int:
    from data.users import UserError, UserStore, as_json, ensure_admin

    store = _store(args)
    users = UserStore(store, channel="cli")
    actor = args.actor
    try:
        if args.user_cmd == "ensure-admin":
            pw = ensure_admin(store, args.name)
            if pw is None:
                print("已有用户，未创建管理员 / users exist; no admin created")
            else:
                print("=" * 72)
                print(f"已创建管理员 / administrator created: {args.name}")
                print(f"初始密码（只显示这一次，请立即保存并修改） / initial password (shown once): {pw}")
                print("=" * 72)
            return EXIT_OK
        if args.user_cmd == "list":
            listing = users.list()
            if args.json:
                print(as_json(listing))
            else:
                for u in listing:
                    flags = " disabled" if u.disabled else ""
                    flags += f" locked-until={u.locked_until:%H:%M}" if u.locked_until else ""
                    print(f"{u.user_name:<20} {u.role:<8} {u.source:<6} region={u.region or '-'} "
                          f"branches={u.branches or '-'} groups={u.groups or '-'}{flags}")
            return EXIT_OK
        if args.user_cmd == "add":
            pw = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
            from data.users import random_password

            shown = pw is None
            pw = pw or random_password()
            users.add(actor, args.name, args.role, password=pw, region=args.region, branches=args.branches,
                      display=args.display, groups=args.group)
            print(f"已创建用户 / user created: {args.name} ({args.role})")
            if shown:
                print(f"初始密码（只显示这一次） / initial password (shown once): {pw}")
            return EXIT_OK
        if args.user_cmd == "update":
            groups = "" if args.no_groups else args.group
            users.update(actor, args.name, role=args.role, region=args.region, branches=args.branches, groups=groups)
        elif args.user_cmd in ("disable", "enable"):
            users.set_disabled(actor, args.name, args.user_cmd == "disable")
        elif args.user_cmd == "reset-password":
            pw = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
            new = users.reset_password(actor, args.name, pw)
            if pw is None:
                print(f"新密码（只显示这一次） / new password (shown once): {new}")
        elif args.user_cmd == "signout-all":
            n = users.sign_out_everywhere(actor, args.name)
            print(f"已结束 {n} 个登录会话 / ended {n} sign-in session(s)")
        print(f"已完成 / done: {args.user_cmd} {args.name}")
        return EXIT_OK
    except UserError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAIL


def cmd_audit(args) -> int:
    from data import audit

    store = _store(args)
    if args.audit_cmd == "verify":
        v = audit.verify(store)
        if v.ok:
            print(f"审计日志完整（{v.rows} 条） / the audit trail is intact ({v.rows} rows)")
            return EXIT_OK
        print(f"审计日志在第 {v.first_bad} 条处校验失败 / the chain breaks at row {v.first_bad}: {v.reason}",
              file=sys.stderr)
        return EXIT_FAIL
    df = audit.search(store, user=args.user, action=args.action, limit=args.limit)
    if args.csv:
        from data.exports import to_csv_bytes

        args.csv.write_bytes(to_csv_bytes(df))
        _audit(args, "export", target=str(args.csv), detail={"what": "audit log", "rows": len(df)})
        print(f"已导出 / written: {args.csv} ({len(df)})")
    else:
        sys.stdout.write(df.to_csv(index=False))
    return EXIT_OK


def _check_choice(value, enum, flag: str) -> str | None:
    if value is None:
        return None
    allowed = [m.value for m in enum]
    if value not in allowed:
        raise ValueError(f"{flag} 无效 / invalid {flag} {value!r}; one of: {', '.join(allowed)}")
    return value


def _emit(args, df, records) -> None:
    """CSV (formula cells escaped) or JSON, to --out or stdout."""
    from data.exports import to_csv_bytes

    data = to_csv_bytes(df) if args.format == "csv" else \
        (json.dumps(records, ensure_ascii=False, indent=1, default=str) + "\n").encode("utf-8")
    out = getattr(args, "out", None)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        print(f"已导出 / written: {out} ({len(records)})")
    else:
        sys.stdout.write(data.decode("utf-8-sig"))


def cmd_plan(args) -> int:
    from data.plans import PlanKind, PlanStatus, PlanStore
    from data.plans.frames import export_frame, plan_dict, plans_frame

    store = _store(args)
    plans = PlanStore(store, channel="cli")
    who = args.actor if args.actor is not None else None
    if args.plan_cmd == "show":
        plan = plans.get_plan(args.id, who)
        if plan is None:  # absent or outside the scope: the same answer
            _audit(args, "cli", target=f"plan show {args.id}", outcome="denied")
            print(f"您的数据范围内没有方案 {args.id} / no plan {args.id} within your access scope", file=sys.stderr)
            return EXIT_FAIL
        history = plans.plan_history(plan.plan_id, who)
        _audit(args, "export", target=f"plan {plan.plan_id}", detail={"what": "plan show", "format": args.format})
        if args.format == "json":
            d = {**plan_dict(plan, full=True), "history": history}
            print(json.dumps(d, ensure_ascii=False, indent=1, default=str))
            return EXIT_OK
        _print_plan(plan, history)
        return EXIT_OK
    try:
        status = _check_choice(args.status, PlanStatus, "--status")
        kind = _check_choice(args.kind, PlanKind, "--kind")
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    full = args.plan_cmd == "export"
    found = plans.list_plans(who, status=status, kind=kind, overdue=args.overdue, limit=10_000, with_steps=True)
    if full:
        df, records = export_frame(found), [plan_dict(p, full=True) for p in found]
    else:
        df, records = plans_frame(found), [plan_dict(p) for p in found]
    _audit(args, "export", target=f"plan {args.plan_cmd}", detail={
        "status": status, "kind": kind, "overdue": args.overdue, "rows": len(found), "format": args.format,
        "out": str(getattr(args, "out", None) or "stdout")})
    _emit(args, df, records)
    return EXIT_OK


def cmd_feed(args) -> int:
    import pandas as pd

    from data.feed import Feed, FeedKind

    try:
        kinds = [_check_choice(k, FeedKind, "--kind") for k in args.kind or ()]
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    found = Feed(_store(args), channel="cli").items(args.actor, kinds=kinds or None, q=args.search,
                                                     unread=args.unread, limit=max(1, args.limit))
    records = [{**i.model_dump(mode="json"), "unread": i.unread} for i in found]
    cols = ["item_id", "kind", "title", "body", "audience_kind", "audience_value", "author", "created_at", "pinned",
            "meeting_on", "source_ref", "unread"]
    _audit(args, "export", target="feed list", detail={"kinds": kinds, "search": args.search, "unread": args.unread,
                                                       "rows": len(found), "format": args.format})
    _emit(args, pd.DataFrame(records, columns=cols), records)
    return EXIT_OK


def _print_plan(plan, history) -> None:
    from data.plans.model import zh_date

    print(f"{plan.plan_id}  {plan.title}  [{plan.status.zh} / {plan.status.en}]")
    print(f"  类型 / kind: {plan.kind.zh} / {plan.kind.en}")
    scope = plan.scope_region or ",".join(plan.scope_branches or ()) or "全行 / whole bank"
    print(f"  范围 / scope: {plan.scope_kind.zh} {scope}")
    print(f"  目标指标 / target KPIs: {', '.join(plan.target_kpis)}")
    print(f"  牵头部门 / owner: {plan.owner_dept} {plan.owner_person or ''}".rstrip())
    print(f"  调整内容 / change: {plan.change_text}")
    if plan.effect_start:
        print(f"  生效日期 / effect start: {zh_date(plan.effect_start)} ({plan.effect_start})")
    for o in plan.origins:
        print(f"  来源 / origin: {o.origin_kind.zh} {o.origin_ref} {o.label or ''}".rstrip())
    for st in plan.steps:
        done = f"完成于 {st.done_on}" if st.done_on else "未完成 / open"
        print(f"  步骤 {st.step_no}: {st.what} — {st.dept}, 时间节点 {st.deadline}, {done}")
    for h in history:
        print(f"  {h['happened_at']:%Y-%m-%d %H:%M} {h['user_name']} {h['action']} "
              f"{h['from_status'] or ''}→{h['to_status'] or ''} {h['reason'] or ''}".rstrip())


def cmd_rectification(args) -> int:
    from data.plans import NoticeStatus, SupervisionStore
    from data.plans.frames import notice_dict, notices_frame

    store = _store(args)
    try:
        status = _check_choice(args.status, NoticeStatus, "--status")
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    bound = _boundary(args, store)
    if args.branch and not _inside(store, bound, None, args.branch):
        _audit(args, "cli", target="rectification list", outcome="denied", detail={"branch": args.branch})
        print(f"超出您的数据范围 / outside your data scope: {args.branch}", file=sys.stderr)
        return EXIT_FAIL
    found = SupervisionStore(store, channel="cli").list_notices(args.actor, status=status, branch=args.branch,
                                                                 overdue=args.overdue, limit=10_000)
    _audit(args, "export", target="rectification list", detail={
        "status": status, "branch": args.branch, "overdue": args.overdue, "rows": len(found), "format": args.format})
    _emit(args, notices_frame(found), [notice_dict(n) for n in found])
    return EXIT_OK


def cmd_subscription(args) -> int:
    from data.subscriptions import SubscriptionError, SubscriptionStore

    store = _store(args)
    subs = SubscriptionStore(store, channel="cli")
    actor = args.actor
    try:
        if args.subscription_cmd == "add":
            s = subs.add(actor, args.user or actor.name, scope=args.scope, grain=args.grain, lang=args.lang,
                         send_day=args.day, send_time=args.time, email=args.email)
            print(f"已订阅 / subscribed: {s.subscription_id} {s.user_name} {s.grain} {s.scope} {s.lang} "
                  f"day {s.send_day} {s.send_time:%H:%M} → {s.email}")
        elif args.subscription_cmd == "remove":
            subs.remove(actor, args.id)
            print(f"已退订 / removed: {args.id}")
        else:
            import pandas as pd

            found = subs.list(actor, everyone=True)
            records = [s.as_dict() for s in found]
            _audit(args, "export", target="subscription list", detail={"rows": len(found), "format": args.format})
            _emit(args, pd.DataFrame(records, columns=["subscription_id", "user_name", "scope", "grain", "lang",
                                                       "send_day", "send_time", "email", "created_at", "created_by",
                                                       "removed_at", "removed_by"]), records)
    except SubscriptionError as exc:
        for field, zh, en in exc.issues:
            print(f"  ✗ {field}: {zh} / {en}", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK


def cmd_deliver(args) -> int:
    from datetime import datetime

    from briefing.delivery import deliver

    try:
        now = datetime.fromisoformat(args.now) if args.now else None
    except ValueError:
        print(f"--now 须为 ISO 时间（如 2025-10-01T09:00） / --now must be an ISO time: {args.now!r}", file=sys.stderr)
        return EXIT_USAGE
    report = deliver(_store(args), now, due_only=args.due, actor=args.actor.name, channel="cli")
    if args.json:
        print(json.dumps({"now": report.now, "outcomes": [o.__dict__ for o in report.outcomes],
                          "stuck": report.stuck}, ensure_ascii=False, indent=1, default=str))
    else:
        for o in report.outcomes:
            print(f"{o.status:<8} {o.subscription_id:>4} {o.user_name:<16} {o.period_code:<9} attempt {o.attempt} "
                  f"{o.transport} → {o.recipient}")
        print(f"已发送 {len(report.sent)}，失败 {len(report.failures)}，中断 {len(report.stuck)} / "
              f"{len(report.sent)} sent, {len(report.failures)} failed, {len(report.stuck)} interrupted")
    for o in report.failures:
        retry = f"; 重试于 / retried from {o.next_attempt_at:%Y-%m-%d %H:%M}" if o.next_attempt_at else ""
        print(f"  ✗ {o.subscription_id} {o.user_name} {o.period_code} {o.status}: {o.error}{retry}", file=sys.stderr)
    for s in report.stuck:
        print(f"  ? {s[0]} {s[1]} {s[2]}: 已认领未记录结果（{s[4]:%Y-%m-%d %H:%M}），不会自动重发 / claimed, no outcome "
              f"recorded, not re-sent automatically", file=sys.stderr)
    return EXIT_OK if report.ok else EXIT_FAIL


def cmd_scheduler(args) -> int:
    from cli.scheduler import serve
    from data.store import close_all

    if args.every < 1:
        print("--every 须 ≥ 1 / --every must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    db = args.db or get_settings().db
    close_all()  # the job opens the file for each run only (one writer per file: docs/security.md)
    return serve(db, args.every)
def _target(args, within_min: float):
    from metrics.erlang import Target

    return Target(share=args.target_share, within_min=within_min, max_occupancy=args.max_occupancy,
                  shrinkage=args.shrinkage)


def cmd_staffing(args) -> int:
    from metrics.erlang import Load, Model, performance, windows_needed

    if args.staffing_cmd == "advice":
        return _staffing_advice(args)
    try:
        target = _target(args, args.target_s / 60.0)
        load = Load(args.arrivals_per_hour, args.aht_min, args.patience_min)
        now = performance(load, args.windows, target.within_min)
        need = windows_needed(load, target)
    except ValueError as exc:
        print(f"参数有误 / invalid input: {exc}", file=sys.stderr)
        return EXIT_USAGE
    erlang_a = load.model == Model.ERLANG_A
    out = {"model": load.model.value, "erlangs": round(load.erlangs, 6), "windows": args.windows,
           "target": {"share": target.share, "within_s": args.target_s, "max_occupancy": target.max_occupancy,
                      "shrinkage": target.shrinkage},
           "p_wait": now.p_wait, "service_level": now.service_level,
           "answered_within": now.answered_within if erlang_a else None,
           "avg_wait_s": None if math.isinf(now.avg_wait_min) else now.avg_wait_min * 60, "occupancy": now.occupancy,
           "p_abandon": now.p_abandon if erlang_a else None, "stable": now.stable,
           "windows_needed": need.windows, "rostered": need.rostered,
           "at_needed": {"service_level": need.performance.service_level, "p_wait": need.performance.p_wait,
                         "avg_wait_s": need.performance.avg_wait_min * 60, "occupancy": need.performance.occupancy,
                         "p_abandon": need.performance.p_abandon if erlang_a else None}}
    if args.format == "json":
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return EXIT_OK
    name = "Erlang A" if erlang_a else "Erlang C"
    print(f"{name}: {args.arrivals_per_hour:g} 人/小时 × {args.aht_min:g} 分钟 = {load.erlangs:.2f} erlang "
          f"/ arrivals per hour × handling minutes" + (f"，耐心 / patience {args.patience_min:g} 分钟 / min"
                                                         if erlang_a else ""))
    wait = "∞（排队无限增长 / the queue grows without end）" if math.isinf(now.avg_wait_min) else \
        f"{now.avg_wait_min * 60:.1f} 秒 / s"
    print(f"{args.windows} 个窗口 / windows:")
    print(f"  等待概率 / probability of waiting          {now.p_wait:.2%}")
    print(f"  服务水平 / service level (≤ {args.target_s:g} s)      {now.service_level:.2%}")
    if erlang_a:
        print(f"  按时办理 / answered within {args.target_s:g} s       {now.answered_within:.2%}")
    print(f"  平均等候 / average wait                    {wait}")
    print(f"  占用率 / occupancy                         {now.occupancy:.2%}")
    print("  放弃率 / abandonment                       " + (f"{now.p_abandon:.2%}" if erlang_a else
                                                             "—（仅 Erlang A / Erlang A only: --patience-min）"))
    print(f"达到 {target.share:.0%} 客户 {args.target_s:g} 秒内叫号（占用率 ≤ {target.max_occupancy:.0%}）需 "
          f"{need.windows} 个窗口，排班 {need.rostered} 人（损耗 {target.shrinkage:.0%}） / windows needed for "
          f"{target.share:.0%} within {args.target_s:g} s: {need.windows}, rostered {need.rostered}")
    return EXIT_OK


def _staffing_advice(args) -> int:
    from datetime import date

    from metrics import staffing
    from metrics.scope import Scope

    store = _store(args)
    bound = _boundary(args, store)
    if args.branch and not _inside(store, bound, None, args.branch):
        _audit(args, "cli", target="staffing advice", outcome="denied", detail={"branch": args.branch})
        print(f"超出您的数据范围 / outside your data scope: {args.branch}", file=sys.stderr)
        return EXIT_FAIL
    scope = Scope(branch_ids=bound, branch=args.branch)
    try:
        target = _target(args, args.target_min)
        end = date.fromisoformat(args.end) if args.end else staffing.last_day(store, scope)
        start = date.fromisoformat(args.start) if args.start else None
    except ValueError as exc:
        print(f"参数有误 / invalid input: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if end is None:
        print("数据范围内没有排队叫号数据 / no counter tickets within your data scope", file=sys.stderr)
        return EXIT_FAIL
    weeks = get_settings().staffing_weeks
    if start is None:  # the last `weeks` weeks up to the end
        start = staffing.advice_window(date.min, end, weeks)[0]
    else:  # the whole of --from … --to
        weeks = max(1, math.ceil(((end - start).days + 1) / 7))
    adv = staffing.advice(store, start, end, scope, target, weeks=weeks)
    sugg = staffing.suggestions(adv)
    _audit(args, "export", target="staffing advice", detail={
        "branch": args.branch, "from": start, "to": end, "rows": len(adv), "format": args.format})
    cells = adv.assign(weekday_zh=[staffing.WEEKDAYS[w][0] for w in adv["weekday"]])
    if args.format == "csv":
        from data.exports import to_csv_bytes

        sys.stdout.write(to_csv_bytes(cells.round(4)).decode("utf-8-sig"))
        return EXIT_OK
    if args.format == "json":
        records = [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}
                   for r in cells.round(6).to_dict("records")]
        sugg_records = [{**r, "text_zh": staffing.suggestion_text(r), "text_en": staffing.suggestion_text(r, "en")}
                        for r in sugg.to_dict("records")]
        print(json.dumps({"from": start.isoformat(), "to": end.isoformat(), "branch": args.branch,
                          "target": {"share": target.share, "within_min": target.within_min,
                                     "max_occupancy": target.max_occupancy, "shrinkage": target.shrinkage},
                          "cells": records, "suggestions": sugg_records}, ensure_ascii=False, indent=1, default=str))
        return EXIT_OK
    print(f"{start} 至 {end} / to {end}: {target.share:.0%} 客户 {target.within_min:g} 分钟内叫号 / "
          f"{target.share:.0%} called within {target.within_min:g} min")
    if adv.empty:
        print("没有排队叫号数据 / no counter tickets in the period")
        return EXIT_OK
    print("网点 branch  星期 day  时段 hour  到达/时 arrivals  办理 AHT(分)  模型 model  需 needed  实开 open  差额 surplus")
    for r in adv.itertuples(index=False):
        need = "—" if r.windows_needed is None or r.windows_needed != r.windows_needed else int(r.windows_needed)
        open_ = "—" if r.windows_open is None or r.windows_open != r.windows_open else f"{r.windows_open:.1f}"
        surplus = "—" if r.surplus is None or r.surplus != r.surplus else f"{r.surplus:+.1f}"
        print(f"{r.branch_id:<12} {staffing.WEEKDAYS[r.weekday][0]}  {r.hour:02d}:00  {r.arrivals_per_hour:8.1f}  "
              f"{r.aht_min:8.1f}  {r.model or '—':<9} {need!s:>4}  {open_:>6}  {surplus:>6}")
    if len(sugg):
        print("建议 / suggestions:")
        for r in sugg.to_dict("records"):
            print(f"  {r['rank']}. {r['branch_id']} {staffing.suggestion_text(r)} / {staffing.suggestion_text(r, 'en')}")
    return EXIT_OK


def cmd_scorecard(args) -> int:
    """`bankpulse scorecard --period P [--unit-kind K] --format csv|json|xlsx`: one row per unit and
    criterion (score, rank, trend, measured value, target, floor, points), inside the --as boundary;
    `--check FILE` validates a definition and prints every issue."""
    from metrics.model import Grain
    from metrics.periods import parse_period
    from metrics.scorecard import export_frame, scorecard
    from metrics.scorecard_def import UnitKind, issues_frame, parse

    if args.check is not None:
        _, issues = parse(args.check.read_text(encoding="utf-8"))
        if issues:
            sys.stdout.write(issues_frame(issues, args.lang).to_csv(index=False))
            return EXIT_FAIL
        print("考核方案有效 / the definition is valid")
        return EXIT_OK
    if not args.period:
        print("请给出 --period / give --period (2025-09, 2025-Q3, 2025)", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "xlsx" and args.out is None:
        print("xlsx 需要 --out 文件 / xlsx needs --out FILE", file=sys.stderr)
        return EXIT_USAGE
    try:
        start, grain = parse_period(args.period)
        if grain not in (Grain.MONTH, Grain.QUARTER, Grain.YEAR):
            raise ValueError("考核按月、季或年 / a scorecard is per month, quarter or year")
        store = _store(args)
        sc = scorecard(store, start, grain, UnitKind(args.unit_kind), boundary=_boundary(args, store))
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    df = export_frame(sc, args.lang)
    _audit(args, "export", target=f"scorecard {args.period}", detail={
        "unit_kind": args.unit_kind, "version": sc.version_id, "units": int(df["unit"].nunique()), "rows": len(df)})
    if args.format == "xlsx":
        from data.exports import to_xlsx_bytes

        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(to_xlsx_bytes(df, f"考核 {args.period}"))
        print(f"已导出 / written: {args.out} ({len(df)})")
        return EXIT_OK
    import pandas as pd

    records = [{k: (None if pd.isna(v) else v) for k, v in r.items()} for r in df.to_dict("records")]
    _emit(args, df, records)
    return EXIT_OK


COMMANDS = {"ingest": cmd_ingest, "batches": cmd_batches, "rollback": cmd_rollback, "demo": cmd_demo, "metric": cmd_metric, "scan": cmd_scan,
            "detect": cmd_detect,
            "briefing": cmd_briefing,
            "user": cmd_user, "audit": cmd_audit, "plan": cmd_plan, "rectification": cmd_rectification,
            "subscription": cmd_subscription, "deliver": cmd_deliver, "scheduler": cmd_scheduler,
            "staffing": cmd_staffing, "scorecard": cmd_scorecard,
            "feed": cmd_feed}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        refused = _resolve_actor(args)
        if refused is not None:
            return refused
        return COMMANDS[args.cmd](args)
    finally:
        from data.store import close_all

        close_all()


if __name__ == "__main__":
    raise SystemExit(main())
