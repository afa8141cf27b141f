"""CSV exports users open in Excel: UTF-8 with BOM, and safe against formula injection.

A cell that starts with = + - @ (or a tab / carriage return) is executed as a formula by Excel
and friends; such text cells are prefixed with a single quote. Numbers are left alone (a
negative number is data, not a formula).
"""

from __future__ import annotations

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(v: object) -> object:
    """Neutralise one cell (text only)."""
    if isinstance(v, str) and v.startswith(_FORMULA_START):
        return "'" + v
    return v


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """The frame as UTF-8-with-BOM CSV bytes, every text cell formula-safe."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(safe_cell)
    out.columns = [safe_cell(str(c)) for c in out.columns]
    return out.to_csv(index=False).encode("utf-8-sig")
