"""`bankpulse` — the command line: ingest, batches, rollback, demo, metric, scan, detect, plan, rectification.

Exit codes: 0 success (or already loaded), 1 rejected / failed with the reason printed,
2 usage error. Help text is bilingual, Chinese first.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from data.settings import get_settings

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits 2 on usage errors; keep that, print bilingual
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: 用法错误 / usage error: {message}\n")


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
    br.add_argument("--sections", help="只包含这些部分，逗号分隔（summary,kpi_table,trends,anomalies,feedback,market） / "
                                       "only these sections")
    br.add_argument("--out", type=Path, required=True, help="输出PDF文件 / output PDF file")
    _add_user_commands(sub)
    _add_plan_commands(sub)
    _add_feed_commands(sub)
    return p


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
        res = ingest_file(store, f, source=args.source, allow_partial=args.allow_partial, user=_actor_name(args),
                          **rights)
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

    r = scan_after_batch(store, OPS.get_batch(store.cursor(), batch_id))
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


def cmd_demo(args) -> int:
    from data.demo import DemoSpec, generate

    store = _store(args) if (args.load or args.if_empty) else None
    if args.if_empty and store is not None and not store.is_empty():
        print("数据库已有数据，跳过演示数据 / the store already holds data; demo skipped")
        return EXIT_OK
    spec = DemoSpec(seed=args.seed, branches=args.branches, years=args.years)
    print(f"生成演示数据 / writing demo files: {spec} → {args.out}")
    paths = generate(spec, args.out)
    print(f"已写入 {len(paths)} 个文件 / wrote {len(paths)} files")
    if not args.load:
        return EXIT_OK
    from data.ingest import ingest_file

    worst = EXIT_OK
    for i, p in enumerate(paths, 1):
        res = ingest_file(store, p, user="demo")
        print(f"[{i}/{len(paths)}] {res.message_zh}")
        if not res.ok:
            worst = EXIT_FAIL
            print(res.issues[res.issues["severity"] == "error"].head(10).to_string(), file=sys.stderr)
    if worst == EXIT_OK and not args.no_scan:
        from anomaly.scan import scan

        r = scan(store, trigger="demo")
        print(f"异常扫描：{r.series} 条序列，发现 {r.flags} 个异常（{r.seconds:.1f} 秒） / anomaly scan: {r.series} series, "
              f"{r.flags} flags ({r.seconds:.1f} s)")
    if worst == EXIT_OK and not args.no_plans:
        from data.demo.plans import seed_plans

        story_path = Path(args.out) / "story.json"
        story = json.loads(story_path.read_text(encoding="utf-8")) if story_path.exists() else None
        seeded = seed_plans(store, story, end=spec.end)
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
    res = scan(_store(args), metrics=args.metric, since=date.fromisoformat(args.since) if args.since else None,
               trigger=f"cli:{_actor_name(args)}")
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
        pdf = build_pdf(store, args.period, args.scope, args.lang, spec, boundary=_boundary(args, store))
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
         "rectification": "read", "feed": "read"}


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


COMMANDS = {"ingest": cmd_ingest, "batches": cmd_batches, "rollback": cmd_rollback, "demo": cmd_demo, "metric": cmd_metric, "scan": cmd_scan,
            "detect": cmd_detect,
            "briefing": cmd_briefing,
            "user": cmd_user, "audit": cmd_audit, "plan": cmd_plan, "rectification": cmd_rectification,
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
