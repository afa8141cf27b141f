"""The ingest pipeline: read → detect → stage → type → validate → load, one transaction.

`ingest_file` is the one entry point used by the CLI, the data page and the demo loader.
Nothing is written unless the upload is accepted: a rejected file, a file with any error
(unless `allow_partial`), or a byte-identical re-upload leaves the store untouched. An accepted
upload is one DuckDB transaction — rows, replaced-row archive, batch record, issues — so a crash
or kill -9 part-way leaves the store as it was.

Writes stay inside the writer's boundary (docs/security.md): `boundary` is the set of branch ids
the writer may see, computed by the caller from the master as it is *before* the load (None: the
whole bank). A row for a branch outside it is an `out_of_scope` error and rejects the whole file,
`allow_partial` or not. The branch master redraws every boundary, so loading it needs
`may_change_master`; bank-wide sources without a branch (market events) need `may_write_bank_wide`.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from data.ingest import parsing, stage, validate
from data.ingest.encoding import TranscodeError, detect, detect_head, to_utf8
from data.ingest.headers import Mapping, best_mapping
from data.ingest.issues import OUT_OF_SCOPE_MESSAGE, Code, Issue, bilingual, issues_frame
from data.ingest.readers import RawPart, ReadError, file_kind, read_csv_head, read_excel
from data.ops import OPS, Batch
from data.progress import INGEST, Progress, Stage, Stages
from data.sources import SOURCES, Source
from data.sources.model import Severity
from data.sqlfiles import ident, render, sql
from data.store import Store

MAX_ISSUES = 100_000  # issue rows kept per upload; the count of the rest is reported


@dataclass
class IngestResult:
    """What happened to one file."""

    file_name: str
    status: str  # loaded | partial | already_loaded | rejected
    source: str | None = None
    batch_id: int | None = None
    encoding: str = ""
    sheets: list[str] = field(default_factory=list)
    rows_in: int = 0
    rows_loaded: int = 0
    rows_updated: int = 0
    rows_rejected: int = 0
    rows_warned: int = 0
    issues: pd.DataFrame = field(default_factory=lambda: issues_frame([]))
    mapping: dict[str, str] = field(default_factory=dict)  # canonical column -> header as written
    typed_read: bool = False  # read by the typed fast path (stage.materialise_typed)
    preview: pd.DataFrame | None = None  # dry run: the first rows as they would be loaded
    seconds: float = 0.0
    message_zh: str = ""
    message_en: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("loaded", "partial", "already_loaded")

    def message(self, lang: str = "zh") -> str:
        return self.message_zh if lang == "zh" else self.message_en


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(8 * 1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


def _reject(res: IngestResult, issues: list[Issue], t0: float) -> IngestResult:
    res.status = "rejected"
    res.issues = issues_frame(issues)
    n_err = int((res.issues["severity"] == "error").sum())
    res.message_zh = f"{res.file_name}：发现{n_err}个错误，文件未导入，数据未作任何改动。"
    res.message_en = f"{res.file_name}: {n_err} error(s) found; the file was not loaded and nothing changed."
    res.seconds = time.perf_counter() - t0
    return res


def _header_issues(src: Source, mp: Mapping, part: RawPart, file_name: str) -> list[Issue]:
    out = []
    if mp.wide:
        return out
    for col, first, second in mp.duplicates:
        out.append(Issue(file_name, Severity.ERROR, Code.DUPLICATE_COLUMN, sheet=part.sheet, row=part.header_row,
                         column=second, value=second, expected=bilingual(f"只出现一次（已有“{first}”）", f"once (already '{first}')"),
                         message=bilingual(f"列“{second}”与“{first}”对应同一字段{col}", f"'{second}' and '{first}' both map to {col}")))
    for col in src.columns:
        if col.required and col.name not in mp.columns and not col.derive_sql:
            names = "、".join(dict.fromkeys((col.label_zh, *col.aliases[:4])))
            out.append(Issue(file_name, Severity.ERROR, Code.MISSING_COLUMN, sheet=part.sheet, row=part.header_row,
                             column=col.label_zh, expected=bilingual(f"表头中应有：{names}", f"a header such as {names}"),
                             message=bilingual(f"缺少必需列“{col.label_zh}”", f"required column '{col.label_en}' is missing")))
        unit = mp.units.get(col.name)
        if unit and col.unit:
            from data.ingest.headers import unit_factor

            _, problem = unit_factor(col.unit, unit)
            if problem:
                out.append(Issue(file_name, Severity.ERROR, Code.UNIT_MISMATCH, sheet=part.sheet, row=part.header_row,
                                 column=mp.headers[col.name], value=unit, expected=col.unit,
                                 message=bilingual(f"单位{unit}无法换算为{col.unit}", f"unit {unit} cannot convert to {col.unit}")))
    for h in mp.ignored:
        out.append(Issue(file_name, Severity.INFO, Code.IGNORED_COLUMN, sheet=part.sheet, row=part.header_row, column=h,
                         message=bilingual("未识别的列，已忽略", "column not recognised; ignored")))
    return out


def ingest_file(store: Store, path: Path | str, *, source: str | None = None, allow_partial: bool = False,
                user: str = "cli", file_name: str | None = None, progress: Progress | None = None,
                dry_run: bool = False, boundary: frozenset[str] | None = None, may_change_master: bool = True,
                may_write_bank_wide: bool = True) -> IngestResult:
    """Load one export file into the store (see the module docstring for the guarantees).

    `dry_run` does everything but the write: the detected source, encoding, column mapping, every
    issue, and `preview` — the first rows as they would be loaded; status "preview" (or "rejected").
    `boundary`, `may_change_master`, `may_write_bank_wide`: the writer's rights (module docstring;
    `data.users.Principal.write_rights` builds them); the defaults are the whole bank.
    `progress` (data.progress) hears the stages of `data.progress.INGEST` and `done` once the file
    is settled — loaded (after the commit), rejected or already there.
    """
    say = Stages(progress, INGEST)
    res = _ingest(store, Path(path), source, allow_partial, user, file_name, say, dry_run,
                  _Rights(boundary, may_change_master, may_write_bank_wide))
    say.done()
    return res


def _ingest(store: Store, path: Path, source: str | None, allow_partial: bool, user: str, file_name: str | None,
            say: Stages, dry_run: bool, rights: _Rights) -> IngestResult:
    t0 = time.perf_counter()
    file_name = file_name or path.name
    res = IngestResult(file_name=file_name, status="rejected")
    if source is not None and source not in SOURCES:
        return _reject(res, [Issue(file_name, Severity.ERROR, Code.UNKNOWN_SOURCE, value=source,
                                   expected="、".join(SOURCES), message=bilingual("未知的数据类型", "unknown source"))], t0)
    try:
        size = path.stat().st_size
    except OSError as exc:
        return _reject(res, [Issue(file_name, Severity.ERROR, Code.UNREADABLE, message=bilingual("无法读取文件", f"cannot read the file: {exc}"))], t0)
    limit = store.settings.upload_max_mb * 1024 * 1024
    if size > limit:
        return _reject(res, [Issue(file_name, Severity.ERROR, Code.TOO_LARGE, value=f"{size / 1e6:.1f} MB",
                                   expected=f"≤ {store.settings.upload_max_mb} MB",
                                   message=bilingual("文件超过大小上限", "the file is larger than the upload limit"))], t0)
    if size == 0:
        return _reject(res, [Issue(file_name, Severity.ERROR, Code.EMPTY_FILE, message=bilingual("文件为空", "the file is empty"))], t0)
    say.start(Stage.INGEST_READ)
    # The fingerprint is computed in a thread while the file is decoded (encoding detection and,
    # for GBK, transcoding): hashlib releases the GIL, so the two passes over the bytes overlap.
    with ThreadPoolExecutor(1, thread_name_prefix="bankpulse-sha256") as pool, \
            tempfile.TemporaryDirectory(prefix="bankpulse-ingest-") as tmp:
        fingerprint = pool.submit(sha256_of, path)
        # First the encoding is judged from the file's head; if DuckDB then meets bytes that are not
        # UTF-8 further on, everything starts again with the encoding decided from the whole file.
        for head_only in (True, False):
            try:
                parts, notes, encoding = _read(path, Path(tmp), source, head_only)
            except (ReadError, TranscodeError) as exc:
                code = Code.ENCODING if isinstance(exc, TranscodeError) or "编码" in str(exc) else Code.UNREADABLE
                row = getattr(exc, "line", None)
                return _reject(res, [Issue(file_name, Severity.ERROR, code, row=row, sheet=getattr(exc, "sheet", ""),
                                           expected=getattr(exc, "expected", ""), message=str(exc))], t0)
            say.part(Stage.INGEST_READ, 1, 3)
            sha = fingerprint.result()
            res.encoding = encoding
            issues = [Issue(file_name, Severity.INFO, Code.NO_HEADER, message=n) for n in notes]
            try:
                return _stage_and_load(store, res, parts, issues, sha, source, allow_partial, user, say, t0, dry_run,
                                       rights)
            except stage.EncodingRecheck:
                continue
        raise AssertionError("a whole-file encoding decision never asks for another")  # pragma: no cover


def _read(path: Path, tmp: Path, source: str | None, head_only: bool = False) -> tuple[list[RawPart], list[str], str]:
    if file_kind(path) == "excel":
        parts, notes = read_excel(path, source)
        if not parts:
            raise ReadError("工作簿中没有可识别的数据表 / no sheet of the workbook holds a recognisable table")
        return parts, notes, "xlsx"
    det = (detect_head(path) if head_only else None) or detect(path)
    if det.encoding is None:
        raise TranscodeError(det.bad_line or 1, "UTF-8/GBK") if not det.problem else ReadError(det.problem)
    csv_path = path
    if det.encoding not in ("utf-8", "utf-8-sig"):
        csv_path = to_utf8(path, det.encoding, tmp / "utf8.csv")
    part = read_csv_head(csv_path, source)
    part.encoding_verified = det.verified
    return [part], [], det.label


@dataclass(frozen=True)
class _Rights:
    boundary: frozenset[str] | None = None
    may_change_master: bool = True
    may_write_bank_wide: bool = True


BANK_WIDE = ("market_events",)  # written for the whole bank, no branch column (docs/security.md)


def _permission_issues(src: Source, rights: _Rights, file_name: str) -> list[Issue]:
    """The writer may not load this source at all: the branch master without the administrator's
    permission, or a bank-wide source (market events) without the whole bank."""
    if src.name == "branches" and not rights.may_change_master:
        return [Issue(file_name, Severity.ERROR, Code.NOT_PERMITTED, value=src.name,
                      expected=bilingual("系统管理员权限", "the administrator's permission"),
                      message=bilingual("导入机构信息（新增、调整上级或撤并机构）需要系统管理员权限",
                                        "loading the branch master (adding, re-parenting or closing outlets) "
                                        "needs the administrator's permission"))]
    if src.name in BANK_WIDE and not rights.may_write_bank_wide:
        return [Issue(file_name, Severity.ERROR, Code.NOT_PERMITTED, value=src.name,
                      expected=bilingual("全行数据范围", "the whole bank as your scope"),
                      message=bilingual("市场事件对全行生效，只有全行范围的用户可以录入",
                                        "market events apply to the whole bank: only people whose scope is the "
                                        "whole bank may add them"))]
    return []


def _scope_issues(cur, src: Source, view: str, rights: _Rights, file_name: str, headers: dict) -> list[Issue]:
    """One error per row whose branch lies outside the writer's boundary (unknown ids included:
    a boundary is drawn from the master, so a new id is nobody's but the administrator's)."""
    if rights.boundary is None or not src.branch_refs:
        return []
    out: list[Issue] = []
    cur.execute("CREATE OR REPLACE TEMP TABLE write_boundary (branch_id VARCHAR)")
    if rights.boundary:
        cur.executemany("INSERT INTO write_boundary VALUES (?)", [[b] for b in sorted(rights.boundary)])
    for ref in src.branch_refs:
        rows = cur.execute(f"SELECT row_no, sheet, {ident(ref)} FROM {ident(view)} v WHERE {ident(ref)} IS NOT NULL "
                           f"AND {ident(ref)} NOT IN (SELECT branch_id FROM write_boundary) "
                           f"ORDER BY sheet, row_no LIMIT {MAX_ISSUES}").fetchall()
        for row_no, sheet, value in rows:
            out.append(Issue(file_name, Severity.ERROR, Code.OUT_OF_SCOPE, sheet=sheet or "", row=row_no,
                             column=headers.get(ref, ref), value=str(value),
                             expected=bilingual("您数据范围内的机构号", "a branch id inside your access scope"),
                             message=OUT_OF_SCOPE_MESSAGE))
    return out


def _stage_and_load(store, res, parts, issues, sha, forced, allow_partial, user, say, t0,
                    dry_run: bool = False, rights: _Rights | None = None) -> IngestResult:
    rights = rights or _Rights()
    file_name = res.file_name
    mappings: list[Mapping] = []
    for part in parts:
        mp, tied = best_mapping(part.header, forced)
        if mp is None:
            names = "、".join(SOURCES[m.source].label_zh for m in tied)
            code = Code.AMBIGUOUS_SOURCE if tied else Code.UNKNOWN_SOURCE
            msg = (bilingual(f"无法确定数据类型（{names}都可能），请手动选择", f"the source is ambiguous ({names}); choose it")
                   if tied else bilingual("无法识别数据类型", "cannot tell which source this is"))
            return _reject(res, issues + [Issue(file_name, Severity.ERROR, code, sheet=part.sheet, row=part.header_row, message=msg)], t0)
        mappings.append(mp)
    sources = {m.source for m in mappings}
    if len(sources) > 1:
        return _reject(res, issues + [Issue(file_name, Severity.ERROR, Code.AMBIGUOUS_SOURCE,
                       message=bilingual(f"同一工作簿包含不同类型的数据（{'、'.join(sorted(sources))}），请分开上传",
                                         f"the workbook mixes sources ({', '.join(sorted(sources))}); upload them separately"))], t0)
    src = SOURCES[mappings[0].source]
    res.source, res.sheets = src.name, [p.sheet for p in parts if p.sheet]
    res.mapping = {k: v for k, v in mappings[0].headers.items()}
    cur = store.cursor()
    try:
        dup = OPS.active_batch_for(cur, sha, src.name)
        if dup is not None:
            res.status, res.batch_id = "already_loaded", dup.batch_id
            res.rows_loaded = 0
            res.message_zh = f"{file_name} 已于 {dup.created_at:%Y-%m-%d %H:%M} 作为批次 {dup.batch_id} 导入，本次未重复导入。"
            res.message_en = f"{file_name} was already loaded as batch {dup.batch_id} on {dup.created_at:%Y-%m-%d %H:%M}; nothing was loaded again."
            res.issues = issues_frame(issues)
            res.seconds = time.perf_counter() - t0
            return res
        issues += _permission_issues(src, rights, file_name)
        for part, mp in zip(parts, mappings, strict=True):
            issues += _header_issues(src, mp, part, file_name)
        if any(i.severity is Severity.ERROR for i in issues):
            return _reject(res, issues, t0)
        say.part(Stage.INGEST_READ, 2, 3)  # the rows themselves, into DuckDB
        cur.execute(sql("parse.create_macros"))
        parsed, view = f"parsed_{src.name}", f"rows_{src.name}"
        mapped: set[str] = set()
        # one CSV part: first the typed read (stage.materialise_typed); None means the general path
        typed_part = parts[0] if len(parts) == 1 and store.settings.ingest_typed_read and \
            stage.materialise_typed(cur, parts[0], mappings[0], src, "raw_0") else None
        res.typed_read = typed = typed_part is not None
        staged: list[tuple] = []  # (part, mapping, raw table, fields, value tables)
        for i, (part, mp) in enumerate(zip(parts, mappings, strict=True)):
            raw = f"raw_{i}"
            if typed_part is None:
                issues += stage.materialise(cur, part, raw, file_name)
            n_fields = part.n_fields
            if mp.wide:
                cur.execute(f"CREATE OR REPLACE TEMP TABLE {ident(raw + 'w')} AS {stage.wide_select(mp, raw)}")
                mp = Mapping(src.name, columns=dict(stage.WIDE_MAPPING_COLUMNS), headers=mp.headers)
                raw, n_fields = raw + "w", 5
            mapped |= set(mp.columns)
            staged.append((part, mp, raw, n_fields, parsing.value_tables(cur, src, mp, raw, i, typed_read=typed)))
            say.part(Stage.INGEST_READ, 2 + (i + 1) / len(parts), 3)
        say.start(Stage.INGEST_PARSE)
        # every part writes the same columns: the flags any part can raise
        flags = set().union(*(parsing.possible_flags(cur, src, mp, typed, values) for _, mp, _, _, values in staged))
        for i, (part, mp, raw, n_fields, values) in enumerate(staged):
            select = parsing.parse_select(src, mp, raw, n_fields, [], typed_read=typed, values=values, flags=flags)
            verb = f"CREATE OR REPLACE TEMP TABLE {ident(parsed)} AS " if i == 0 else f"INSERT INTO {ident(parsed)} "
            cur.execute(verb + select, {"sheet": part.sheet})
            say.part(Stage.INGEST_PARSE, i + 1, len(staged) + 1)
        issues += _resolve_branch_names(cur, src, parsed, file_name, res.mapping)
        cur.execute(stage.derived_view(src, parsed, view))
        say.start(Stage.INGEST_VALIDATE)
        shown = stage.Shown(cur, src, mappings[0], parsed, view, typed_part, file_name)
        issues += _run_rules(cur, src, parsed, view, mapped, file_name, mappings, shown, flags,
                             say.sub(Stage.INGEST_VALIDATE))
        issues += _scope_issues(cur, src, view, rights, file_name, res.mapping)
        for q in validate.unknown_branches_sql(src, view):
            for row_no, sheet, col, value in cur.execute(q).fetchall():
                issues.append(Issue(file_name, Severity.WARNING, Code.UNKNOWN_BRANCH, sheet=sheet or "", row=row_no,
                                    column=res.mapping.get(col, col), value=value,
                                    expected=bilingual("机构信息中已有的机构号", "a branch id in the branch master"),
                                    message=bilingual("机构信息中没有该机构，已按机构号新增，请补充机构信息",
                                                      "branch not in the branch master; added with its id as its name")))
        return _decide_and_load(store, cur, res, src, view, issues, sha, allow_partial, user, say, t0, dry_run, shown)
    finally:
        cur.close()


def _resolve_branch_names(cur, src, parsed, file_name, headers) -> list[Issue]:
    """Complaint systems often name the branch (人民路网点) where a branch id belongs: a value
    that is not a known id but is exactly one known branch name is replaced by that id."""
    out = []
    for ref in src.branch_refs:
        sql_map = render("load.branch_names_in_upload", parsed=parsed, ref=ref)
        pairs = cur.execute(sql_map).fetchall()
        if not pairs:
            continue
        cur.execute(render("load.resolve_branch_names", parsed=parsed, ref=ref))
        shown = "、".join(f"{name}→{bid}" for name, bid, _ in pairs[:5]) + ("…" if len(pairs) > 5 else "")
        out.append(Issue(file_name, Severity.INFO, Code.BRANCH_NAME, column=headers.get(ref, ref), value=shown,
                         message=bilingual(f"按机构信息把{sum(n for *_, n in pairs)}行的网点名称换成了机构号",
                                           f"branch names in {sum(n for *_, n in pairs)} rows replaced by their ids "
                                           f"from the branch master")))
    return out


def _run_rules(cur, src, parsed, view, mapped, file_name, mappings, shown: stage.Shown, flags: set[str],
               step: Callable[[float, float], None] = lambda i, n: None) -> list[Issue]:
    """Every validation rule's issues; `step(i, n)` hears the probes' end (half of the stage) and
    each rule that found something run (the other half)."""
    headers = {}
    for mp in mappings:
        headers.update(mp.headers)
    out: list[Issue] = []
    rules = validate.rules(src, parsed, view, mapped, shown.parsed, shown.view, flags)
    # One scan per table tells which rules find anything; only those run their own query. If a
    # probe fails, every rule runs (and a broken rule reports itself, as below).
    skip: set[int] = set()
    try:
        for idx, probe in validate.probe_sql(rules):
            found = cur.execute(probe).fetchone()
            skip |= {i for i, hit in zip(idx, found, strict=True) if not hit}
        skip |= {i for i, r in enumerate(rules) if i not in skip and r.probe and not cur.execute(r.probe).fetchone()[0]}
    except Exception:  # noqa: BLE001 - fall back to running every rule
        skip = set()
    step(1, 2)
    if len(skip) < len(rules):
        out += shown.ensure()  # issue rows show the cells as written
    to_run = len(rules) - len(skip)
    ran = 0
    for n, rule in enumerate(rules):
        if n in skip:
            continue
        step(1 + ran / to_run, 2)
        ran += 1
        try:
            rows = cur.execute(rule.sql + f" LIMIT {MAX_ISSUES + 1}").fetchall()
        except Exception as exc:  # a broken rule is one more issue, never a silent pass
            out.append(Issue(file_name, Severity.ERROR, rule.code, message=bilingual("校验规则执行失败", f"validation rule failed: {exc}")))
            continue
        for row_no, sheet, col, value, expected, message in rows[:MAX_ISSUES]:
            shown = ",".join(headers.get(c, c) for c in str(col).split(",")) if col else ""
            out.append(Issue(file_name, rule.severity, rule.code, sheet=sheet or "", row=row_no, column=shown,
                             value="" if value is None else str(value)[:200], expected=expected or "", message=message))
        if len(rows) > MAX_ISSUES:
            out.append(Issue(file_name, rule.severity, rule.code, message=bilingual(
                f"同类问题超过{MAX_ISSUES}条，仅列出前{MAX_ISSUES}条", f"more than {MAX_ISSUES} such problems; the first {MAX_ISSUES} are listed")))
    return out


def _decide_and_load(store, cur, res, src, view, issues, sha, allow_partial, user, say, t0,
                     dry_run: bool = False, shown: stage.Shown | None = None) -> IngestResult:
    file_name = res.file_name
    frame = issues_frame(issues)
    res.issues = frame
    res.rows_in = cur.execute(f"SELECT count(*) FROM {ident(view)}").fetchone()[0]
    errors = frame[(frame["severity"] == "error") & frame["row"].notna()]
    file_errors = frame[(frame["severity"] == "error") & frame["row"].isna()]
    bad = errors[["sheet", "row"]].drop_duplicates()
    res.rows_rejected = len(bad)
    res.rows_warned = int(frame.loc[frame["severity"] == "warning", ["sheet", "row"]].drop_duplicates().shape[0])
    if dry_run:  # everything but the write: what would be loaded, and every problem
        cols = ", ".join(ident(c.name) for c in src.columns)
        res.preview = cur.execute(f"SELECT row_no, {cols} FROM {ident(view)} ORDER BY sheet, row_no LIMIT 20").df()
        res.status = "preview"
        res.message_zh = (f"{file_name}：识别为“{src.label_zh}”（{res.encoding}），共{res.rows_in}行，"
                          f"{res.rows_rejected}行有错误、{res.rows_warned}行有提示；尚未导入。")
        res.message_en = (f"{file_name}: detected as {src.label_en} ({res.encoding}), {res.rows_in} rows, "
                          f"{res.rows_rejected} with errors, {res.rows_warned} with warnings; not loaded yet.")
        res.seconds = time.perf_counter() - t0
        return res
    out_of_scope = (frame["code"] == str(Code.OUT_OF_SCOPE)).any()  # never a partial load: the whole file
    if (len(bad) and not allow_partial) or len(file_errors) or res.rows_in == 0 or out_of_scope:
        if res.rows_in == 0 and not len(bad) and not len(file_errors):
            frame_issues = issues + [Issue(file_name, Severity.ERROR, Code.EMPTY_FILE, message=bilingual("没有数据行", "no data rows"))]
            return _reject(res, frame_issues, t0)
        return _reject(res, issues, t0)
    say.start(Stage.INGEST_WRITE)
    bad_rows = bad.rename(columns={"row": "row_no"}).astype({"row_no": "int64"})  # noqa: F841
    reasons = errors.groupby("row")["message"].apply(lambda s: "; ".join(dict.fromkeys(s))).to_dict()
    table = src.table
    with store.write_lock:
        cur.execute("BEGIN TRANSACTION")
        try:
            dup = OPS.active_batch_for(cur, sha, src.name)  # re-checked under the lock
            if dup is not None:
                cur.execute("ROLLBACK")
                res.status, res.batch_id = "already_loaded", dup.batch_id
                res.message_zh = f"{file_name} 已作为批次 {dup.batch_id} 导入。"
                res.message_en = f"{file_name} was already loaded as batch {dup.batch_id}."
                return res
            batch_id = OPS.next_batch_id(cur)
            cur.execute("CREATE OR REPLACE TEMP TABLE bad AS SELECT sheet, row_no FROM bad_rows")
            cols = tuple(c.name for c in src.columns)
            # only what load.sql reads (typed columns, row_no, sheet): the __raw text copies would
            # double the size of this table for nothing
            kept = ", ".join(f"v.{ident(c)}" for c in ("row_no", "sheet", *cols))
            if res.rows_rejected:
                cur.execute(f"CREATE OR REPLACE TEMP TABLE valid AS SELECT {kept} FROM {ident(view)} v "
                            f"ANTI JOIN bad b ON v.sheet = b.sheet AND v.row_no = b.row_no")
            else:  # every row is valid: the statements below read the derived view, no copy
                cur.execute(f"CREATE OR REPLACE TEMP VIEW valid AS SELECT {kept} FROM {ident(view)} v")
            p = {"batch": batch_id}
            cur.execute(render("load.archive_replaced", table=table, valid="valid", keys=src.key), p)
            res.rows_updated = cur.execute(f"SELECT count(*) FROM history.{ident(table)} WHERE replaced_by = $batch", p).fetchone()[0]
            say.part(Stage.INGEST_WRITE, 0.1, 1)  # the insert below is most of the write
            cur.execute(render("load.delete_replaced", table=table, valid="valid", keys=src.key))
            cur.execute(render("load.insert_rows", table=table, valid="valid", columns=cols), {**p, "file": file_name})
            say.part(Stage.INGEST_WRITE, 0.85, 1)
            res.rows_loaded = cur.execute("SELECT count(*) FROM valid").fetchone()[0]
            for ref in src.branch_refs:
                cur.execute(render("load.add_unknown_branches", valid="valid", ref=ref), {**p, "file": file_name})
            lo = hi = None
            if src.time_column:
                lo, hi = cur.execute(render("load.date_range", time=src.time_column, valid="valid")).fetchone()
            status = "partial" if res.rows_rejected else "loaded"
            OPS.record_batch(cur, Batch(
                batch_id=batch_id, file_name=file_name, sha256=sha, source=src.name, sheets=",".join(res.sheets),
                encoding=res.encoding, rows_in=res.rows_in, rows_loaded=res.rows_loaded, rows_updated=res.rows_updated,
                rows_rejected=res.rows_rejected, rows_warned=res.rows_warned, status=status, user_name=user,
                created_at=datetime.now(), min_date=lo, max_date=hi))
            OPS.record_issues(cur, batch_id, frame)
            if res.rows_rejected:
                shown_view = view
                if shown is not None:
                    shown.ensure()
                    shown_view = shown.view
                quarantined = cur.execute(f"SELECT v.sheet, v.row_no, v.* EXCLUDE (sheet, row_no, is_total) FROM {ident(shown_view)} v "
                                          f"SEMI JOIN bad b ON v.sheet = b.sheet AND v.row_no = b.row_no").df()
                raw_cols = ["sheet", "row_no"] + [c for c in quarantined.columns if c.endswith("__raw")]
                q = quarantined[raw_cols].rename(columns=lambda c: c.removesuffix("__raw"))
                OPS.record_quarantine(cur, batch_id, src.name, file_name, q, reasons)
            OPS.bump_data_version(cur)
            say.part(Stage.INGEST_WRITE, 0.95, 1)
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
    res.status, res.batch_id = status, batch_id
    res.seconds = time.perf_counter() - t0
    res.message_zh = (f"{file_name}：已导入为批次 {batch_id}（{src.label_zh}），新增/更新 {res.rows_loaded} 行，"
                      f"其中替换已有数据 {res.rows_updated} 行" + (f"，{res.rows_rejected} 行有错误已隔离" if res.rows_rejected else "") + "。")
    res.message_en = (f"{file_name}: loaded as batch {batch_id} ({src.label_en}): {res.rows_loaded} rows, "
                      f"{res.rows_updated} rows updated" + (f", {res.rows_rejected} rows quarantined" if res.rows_rejected else "") + ".")
    return res
