"""Tables the pages show and export, with headers in the user's language (no Streamlit calls)."""

from __future__ import annotations

import pandas as pd

from data.ops import Batch
from data.sources import SOURCES
from pages._ui.i18n import pick, source_label, tr

BATCH_COLUMNS = ["batch_id", "file_name", "source", "rows_loaded", "rows_updated", "rows_rejected",
                 "status", "user_name", "created_at"]
ISSUE_COLUMNS = ["file", "sheet", "row", "column", "value", "expected", "severity", "code", "message"]
# ops.batch_issues stores the same fields under SQL-friendly names
_STORED_ISSUE_NAMES = {"file_name": "file", "row_no": "row", "column_name": "column"}


def batches_frame(batches: list[Batch], lang: str) -> pd.DataFrame:
    """Batch history with localized headers: 批次, 文件, 数据类型, 导入行数, … 时间."""
    rows = [
        {
            "batch_id": b.batch_id,
            "file_name": b.file_name,
            "source": source_label(b.source, lang),
            "rows_loaded": b.rows_loaded,
            "rows_updated": b.rows_updated,
            "rows_rejected": b.rows_rejected,
            "status": tr(f"status.{b.status}", lang),
            "user_name": b.user_name,
            "created_at": b.created_at,
        }
        for b in batches
    ]
    df = pd.DataFrame(rows, columns=BATCH_COLUMNS)
    return df.rename(columns={c: tr(f"col.{c}", lang) for c in BATCH_COLUMNS})


def issues_frame_for(issues: pd.DataFrame, lang: str, *, one_language: bool = True) -> pd.DataFrame:
    """An issue table (from an ingest or from ops.batch_issues) with localized headers.

    `one_language` keeps only the user's half of the "中文 / English" texts (for the screen);
    downloads keep both so they can be forwarded to either audience.
    """
    df = issues.rename(columns=_STORED_ISSUE_NAMES)
    df = df[[c for c in ISSUE_COLUMNS if c in df.columns]].copy()
    if "severity" in df:
        df["severity"] = df["severity"].map(lambda s: tr(f"sev.{s}", lang))
    if one_language:
        for c in ("message", "expected"):
            if c in df:
                df[c] = df[c].map(lambda v: pick(v, lang))
    return df.rename(columns={c: tr(f"iss.{c}", lang) for c in df.columns})


def mapping_frame(mapping: dict[str, str], source: str | None, lang: str) -> pd.DataFrame:
    """canonical column (with its label) → header as written in the file."""
    src = SOURCES.get(source or "")
    labels = {}
    if src is not None:
        labels = {c.name: (c.label_zh if lang == "zh" else c.label_en) for c in src.columns}
    rows = [{tr("res.canonical", lang): f"{labels.get(k, k)} ({k})", tr("res.written", lang): v}
            for k, v in mapping.items()]
    return pd.DataFrame(rows, columns=[tr("res.canonical", lang), tr("res.written", lang)])


def template_frame(source: str) -> pd.DataFrame:
    """The upload template of `source`: header = each column's Chinese label, one example row."""
    src = SOURCES[source]
    return pd.DataFrame([[c.example for c in src.columns]], columns=[c.label_zh for c in src.columns])


def columns_frame(source: str, lang: str) -> pd.DataFrame:
    """The documentation of a source's columns."""
    src = SOURCES[source]
    yes, no = ("是", "") if lang == "zh" else ("yes", "")
    rows = [
        {
            tr("tpl.name", lang): c.name,
            tr("tpl.label_zh", lang): c.label_zh,
            tr("tpl.label_en", lang): c.label_en,
            tr("tpl.required", lang): yes if c.required else no,
            tr("tpl.aliases", lang): "、".join(c.aliases),
            tr("tpl.example", lang): c.example,
        }
        for c in src.columns
    ]
    return pd.DataFrame(rows)
