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
    # sidebar filters (pages/_ui/filters.py)
    "flt.header": ("筛选", "Filters"),
    "flt.from": ("开始日期", "From"),
    "flt.to": ("结束日期", "To"),
    "flt.bad_range": ("开始日期晚于结束日期，已对调", "The start is after the end; swapped"),
    "flt.grain": ("统计粒度", "Grain"),
    "flt.region": ("区域", "Region"),
    "flt.all_regions": ("全部区域", "All regions"),
    "flt.branch": ("机构", "Branch"),
    "flt.all_branches": ("全部机构", "All branches"),
    "flt.product": ("贷款品种", "Loan product"),
    "flt.all_products": ("全部品种", "All products"),
    "flt.product.help": ("只作用于信贷数据", "Applies to credit data only"),
    "grain.day": ("日", "Day"),
    "grain.week": ("周", "Week"),
    "grain.month": ("月", "Month"),
    "grain.quarter": ("季", "Quarter"),
    "grain.year": ("年", "Year"),
    # app / navigation
    "app.title": ("银行工作动态监测", "BankPulse monitoring"),
    "app.language": ("语言", "Language"),
    "app.db": ("数据库：{path}", "Database: {path}"),
    "app.data_version": ("数据版本：{v}", "Data version: {v}"),
    "nav.overview": ("总览", "Overview"),
    "nav.section.monitor": ("业务监测", "Monitoring"),
    "nav.section.manage": ("管理", "Manage"),
    "nav.counter": ("柜台业务", "Counter"),
    "nav.counter.help": ("网点业务量、等候时间分布与P90趋势、星期×时段热力图、网点排名。",
                         "Branch volumes, wait distribution and P90 trend, weekday × hour heatmap, branch ranking."),
    "nav.credit": ("信贷", "Credit"),
    "nav.credit.help": ("余额与发放、逾期与不良趋势、按品种/机构/客户拆分、五级迁徙矩阵、账龄曲线与借据明细。",
                        "Balances and disbursements, overdue and NPL trends, breakdowns, migration matrix, vintages, loans."),
    "nav.feedback": ("客户反馈", "Feedback"),
    "nav.feedback.help": ("各渠道反馈量、投诉热点、超时工单、满意度趋势与工单检索。",
                          "Volume by channel, complaint hot topics, cases near their limit, satisfaction, case search."),
    "nav.market": ("市场", "Market"),
    "nav.market.help": ("LPR、行业不良率等指标与市场、政策、同业事件时间线；可录入新事件。",
                        "LPR, industry NPL and other indicators; the market, policy and competitor event timeline."),
    "nav.overview.help": ("核心指标卡、本期要点、最新市场事件与数据时效。",
                          "Headline KPIs, this period's highlights, latest market events, data freshness."),
    "nav.data": ("数据管理", "Data"),
    "nav.data.help": ("上传导出文件、查看校验问题、回滚批次、下载模板。",
                      "Upload exports, review validation issues, roll back loads, download templates."),
    # overview
    "ov.title": ("总览", "Overview"),
    "ov.empty": ("尚未导入任何数据。请到“数据管理”页上传文件。", "No data loaded yet. Upload files on the Data page."),
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
    # progress bars of long work (pages/_ui/progress.py; the stage names: data/progress.py)
    "prog.start": ("{title}：开始…", "{title}: starting…"),
    "prog.text": ("{title}：{stage}（{pct}%）", "{title}: {stage} ({pct}%)"),
    "prog.end": ("{title}：{text}", "{title}: {text}"),
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
    "status.preview": ("预览（未导入）", "Preview (not loaded)"),
    "up.preview": ("预览", "Preview"),
    "up.preview.help": ("只识别和校验，不写入数据库：查看识别出的数据类型、列对应关系、前20行和全部问题。",
                        "Detect and validate only, nothing is written: the detected data type, column mapping, "
                        "the first 20 rows and every problem."),
    "res.preview": ("数据预览（前20行，按导入后的格式）", "Data preview (first 20 rows, as they would be loaded)"),
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
    "hist.outside": ("该批次涉及您数据范围以外的机构，问题清单不可查看。",
                     "This batch touched branches outside your access scope: its issues are not shown."),
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
    """The language of this session: the `lang` control (kept in the URL as ?lang=en), Chinese by default."""
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


def _merge_page_texts() -> None:
    """Each page keeps its strings in `pages/_ui/text_<page>.py` (a dict `TEXT`); merged here."""
    import importlib
    from pathlib import Path

    for path in sorted(Path(__file__).parent.glob("text_*.py")):
        module = importlib.import_module(f"pages._ui.{path.stem}")
        for key, value in module.TEXT.items():
            if key in T and T[key] != value:
                raise KeyError(f"text key {key!r} defined twice ({path.name})")
            T[key] = value


_merge_page_texts()
