"""Problems found in an upload, as data.

Validation never stops at the first problem: every check contributes rows to one issue table
(file, row as Excel shows it, column, value, what was expected, severity, code), which the page
shows and the user downloads as CSV. Codes form a closed vocabulary so tests and docs can walk
them; the wording lives here too, in Chinese and English.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pandas as pd

from data.sources.model import Severity

ISSUE_COLUMNS = ["file", "sheet", "row", "column", "value", "expected", "severity", "code", "message"]


class Code(StrEnum):
    """Why a cell, row or file was flagged."""

    UNREADABLE = "unreadable"  # the file cannot be opened/decoded at all
    ENCODING = "encoding"  # neither UTF-8 nor GBK/GB18030, or mixed encodings
    EMPTY_FILE = "empty_file"
    NO_HEADER = "no_header"  # no row looks like a header of any source
    UNKNOWN_SOURCE = "unknown_source"
    AMBIGUOUS_SOURCE = "ambiguous_source"
    MISSING_COLUMN = "missing_column"  # a required column is not in the header
    DUPLICATE_COLUMN = "duplicate_column"  # two headers map to one column
    UNIT_MISMATCH = "unit_mismatch"  # header unit cannot convert to the column's unit
    IGNORED_COLUMN = "ignored_column"  # a header we do not know (info)
    MALFORMED_ROW = "malformed_row"  # CSV structure: wrong field count, unterminated quote
    TYPE = "type"  # a value that does not parse as the column's type
    REQUIRED = "required"  # an empty required value
    ENUM = "enum"  # a value outside a closed vocabulary
    RANGE = "range"  # below min / above max
    ID_SCIENTIFIC = "id_scientific"  # 1.23E+18: Excel destroyed a long ID
    DUPLICATE_KEY = "duplicate_key"  # natural key repeated inside the upload
    CHECK = "check"  # a domain rule (see the source's checks)
    UNKNOWN_BRANCH = "unknown_branch"  # branch id not in the branch master (warning, auto-added)
    TOTAL_ROW = "total_row"  # a 合计 line, skipped (info)
    BRANCH_NAME = "branch_name"  # a branch name given where an id belongs, resolved (info)
    TOO_LARGE = "too_large"
    OUT_OF_SCOPE = "out_of_scope"  # a row for a branch outside the writer's boundary (rejects the file)
    NOT_PERMITTED = "not_permitted"  # the writer may not load this source at all (branch master, events)


# The wording of a row outside the writer's boundary (data/ingest/pipeline.py, data/batches.py).
OUT_OF_SCOPE_MESSAGE = "超出您的数据范围 / outside your access scope"


@dataclass(frozen=True)
class Issue:
    """One problem. `row` is the row number Excel shows (the header line is row 1 of a CSV)."""

    file: str
    severity: Severity
    code: Code
    message: str
    sheet: str = ""
    row: int | None = None
    column: str = ""
    value: str = ""
    expected: str = ""


def issues_frame(issues: list[Issue]) -> pd.DataFrame:
    """The issue list as the table users see (errors first, then by row)."""
    if not issues:
        return pd.DataFrame(columns=ISSUE_COLUMNS)
    df = pd.DataFrame(
        [
            {"file": i.file, "sheet": i.sheet, "row": i.row, "column": i.column, "value": i.value,
             "expected": i.expected, "severity": str(i.severity), "code": str(i.code), "message": i.message}
            for i in issues
        ],
        columns=ISSUE_COLUMNS,
    )
    order = {"error": 0, "warning": 1, "info": 2}
    df["row"] = df["row"].astype("Int64")
    return (df.assign(_o=df["severity"].map(order)).sort_values(["_o", "file", "sheet", "row"], kind="stable")
            .drop(columns="_o").reset_index(drop=True))


def bilingual(zh: str, en: str) -> str:
    """Issue messages carry both languages; the page shows the one the user reads."""
    return f"{zh} / {en}"
