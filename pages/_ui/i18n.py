"""Interface text in Chinese (default) and English.

The language is the value of the sidebar control `lang` in app.py, bound to the URL
(`?lang=en`), so `t()` reads it from Session State. `tr()` is the same lookup with an
explicit language (for code that runs outside a script run, and for tests).
"""

from __future__ import annotations

import streamlit as st

LANGS = ("zh", "en")
LANG_NAMES = {"zh": "中文", "en": "English"}

T: dict[str, tuple[str, str]] = {
    # app / navigation
    "app.title": ("银行工作动态监测", "BankPulse monitoring"),
    "app.language": ("语言", "Language"),
    "app.db": ("数据库：{path}", "Database: {path}"),
    "app.data_version": ("数据版本：{v}", "Data version: {v}"),
    "nav.overview": ("总览", "Overview"),
    "nav.overview.help": ("各类数据的行数和最近导入的批次。", "Row counts of each data type and the latest loads."),
    "nav.data": ("数据管理", "Data"),
    "nav.data.help": ("上传导出文件、查看校验问题、回滚批次、下载模板。",
                      "Upload exports, review validation issues, roll back loads, download templates."),
    # overview
    "ov.title": ("总览", "Overview"),
    "ov.caption": ("当前数据库中各类数据的行数（实时查询）。", "Rows of each data type in the store (live counts)."),
    "ov.rows": ("数据量", "Rows by data type"),
    "ov.latest": ("最近导入", "Latest loads"),
    "ov.empty": ("尚未导入任何数据。请到“数据管理”页上传文件。", "No data loaded yet. Upload files on the Data page."),
    "ov.rows_unit": ("行", "rows"),
    # data page
    "data.title": ("数据管理", "Data"),
    "data.caption": ("上传排队机、信贷、客户反馈、市场数据等导出文件；系统自动识别编码和数据类型，逐行校验后导入。",
                     "Upload exports (queue system, loans, feedback, market data); encoding and data type are "
                     "detected automatically and every row is validated before loading."),
    "up.header": ("上传文件", "Upload files"),
    "up.files": ("选择文件（CSV、Excel、TXT，可多选）", "Choose files (CSV, Excel, TXT; several at once)"),
    "up.files.help": ("单个文件不超过 {mb} MB。GBK 和 UTF-8 编码均可。", "Up to {mb} MB per file. GBK and UTF-8 both work."),
    "up.source": ("数据类型", "Data type"),
    "up.auto": ("自动识别", "Auto-detect"),
    "up.partial": ("导入有效行，隔离问题行", "Load valid rows, quarantine the rest"),
    "up.partial.help": ("不勾选时，只要有一行错误，整个文件都不导入。",
                        "Unchecked: a single bad row rejects the whole file."),
    "up.load": ("导入", "Load"),
    "up.none": ("请先选择文件。", "Choose at least one file first."),
    "up.too_large": ("{name}：文件大小 {size:.1f} MB，超过上限 {mb} MB，未导入。",
                     "{name}: {size:.1f} MB is over the {mb} MB limit; not loaded."),
    "up.progress": ("{name}：{text}", "{name}: {text}"),
    "up.done": ("处理完成", "Done"),
    "res.header": ("导入结果", "Load results"),
    "res.clear": ("清除结果", "Clear results"),
    "res.source": ("数据类型", "Data type"),
    "res.encoding": ("编码", "Encoding"),
    "res.batch": ("批次", "Batch"),
    "res.rows_in": ("读取行数", "Rows read"),
    "res.mapping": ("列对应关系", "Column mapping"),
    "res.canonical": ("标准字段", "Field"),
    "res.written": ("文件中的表头", "Header in file"),
    "res.issues": ("问题清单（{n} 条）", "Issues ({n})"),
    "res.issues_preview": ("仅显示前 {n} 条，完整清单请下载。", "First {n} shown; download the full list."),
    "res.no_issues": ("没有发现问题。", "No issues found."),
    "res.download_issues": ("下载问题清单 (CSV)", "Download issues (CSV)"),
    "status.loaded": ("已导入", "Loaded"),
    "status.partial": ("部分导入", "Partly loaded"),
    "status.already_loaded": ("已导入过", "Already loaded"),
    "status.rejected": ("未导入", "Rejected"),
    "status.rolled_back": ("已回滚", "Rolled back"),
    # history
    "hist.header": ("导入批次", "Load history"),
    "hist.empty": ("还没有导入批次。", "No loads yet."),
    "col.batch_id": ("批次", "Batch"),
    "col.file_name": ("文件", "File"),
    "col.source": ("数据类型", "Data type"),
    "col.rows_loaded": ("导入行数", "Rows loaded"),
    "col.rows_updated": ("更新行数", "Rows updated"),
    "col.rows_rejected": ("隔离行数", "Rows quarantined"),
    "col.status": ("状态", "Status"),
    "col.user_name": ("用户", "User"),
    "col.created_at": ("时间", "Time"),
    "hist.pick": ("选择批次", "Batch"),
    "hist.download": ("下载该批次问题清单", "Download this batch's issues"),
    "hist.rollback": ("回滚", "Roll back"),
    "hist.confirm_title": ("确认回滚批次 {id}？", "Roll back batch {id}?"),
    "hist.confirm_body": ("将删除批次 {id}（{file}）导入的 {rows} 行，并恢复被它替换的数据。此操作会记录在批次历史中。",
                          "This removes the {rows} rows batch {id} ({file}) loaded and restores the rows it replaced. "
                          "The rollback is recorded in the history."),
    "hist.confirm": ("确认回滚", "Confirm rollback"),
    "hist.cancel": ("取消", "Cancel"),
    "hist.rolled_back": ("批次 {id} 已回滚：删除 {removed} 行，恢复 {restored} 行。",
                         "Batch {id} rolled back: {removed} rows removed, {restored} restored."),
    "hist.rollback_failed": ("无法回滚", "Cannot roll back"),
    "hist.already": ("该批次已回滚。", "This batch is already rolled back."),
    # templates
    "tpl.header": ("导入模板", "Upload templates"),
    "tpl.caption": ("模板的表头即系统识别的中文列名，附一行示例数据；可直接填写后上传。",
                    "Each template holds the Chinese headers the loader recognises and one example row."),
    "tpl.download": ("{label}模板", "{label} template"),
    "tpl.columns": ("各数据类型的字段说明", "Columns of each data type"),
    "tpl.name": ("字段", "Field"),
    "tpl.label_zh": ("中文名", "Chinese name"),
    "tpl.label_en": ("英文名", "English name"),
    "tpl.required": ("必填", "Required"),
    "tpl.aliases": ("可识别的其他表头", "Other accepted headers"),
    "tpl.example": ("示例", "Example"),
    # issue table headers
    "iss.file": ("文件", "File"),
    "iss.sheet": ("工作表", "Sheet"),
    "iss.row": ("行号", "Row"),
    "iss.column": ("列", "Column"),
    "iss.value": ("值", "Value"),
    "iss.expected": ("应为", "Expected"),
    "iss.severity": ("级别", "Severity"),
    "iss.code": ("代码", "Code"),
    "iss.message": ("说明", "Message"),
    "sev.error": ("错误", "error"),
    "sev.warning": ("警告", "warning"),
    "sev.info": ("提示", "info"),
}


def current_lang() -> str:
    """The language of this session: the bound `lang` control, Chinese by default."""
    try:
        lang = st.session_state.get("lang")
    except Exception:  # outside a script run
        lang = None
    return lang if lang in LANGS else "zh"


def tr(key: str, lang: str, **fmt) -> str:
    """The text of `key` in `lang`; the key itself when it is missing (visible, never a crash)."""
    pair = T.get(key)
    if pair is None:
        return key
    text = pair[0] if lang == "zh" else pair[1]
    return text.format(**fmt) if fmt else text


def t(key: str, **fmt) -> str:
    """The text of `key` in the current language."""
    return tr(key, current_lang(), **fmt)


def pick(bilingual: str, lang: str | None = None) -> str:
    """One language of a backend message written "中文 / English"."""
    lang = lang or current_lang()
    if not isinstance(bilingual, str) or " / " not in bilingual:
        return bilingual
    zh, en = bilingual.split(" / ", 1)
    return zh if lang == "zh" else en


def source_label(name: str | None, lang: str | None = None) -> str:
    """The label of source `name` in the language."""
    from data.sources import SOURCES

    lang = lang or current_lang()
    src = SOURCES.get(name or "")
    if src is None:
        return name or "—"
    return src.label_zh if lang == "zh" else src.label_en
