"""The declaration language for canonical sources.

A :class:`Source` declares one analytical table: its columns (type, constraints, the Chinese
and English header aliases real exports use), its natural key and its domain checks. The
declarations drive everything downstream — header matching, value parsing, validation, the
DDL, the upload templates and the docs — so adding a column is one line here.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, model_validator


class ColType(StrEnum):
    """How a raw cell is parsed. Each type maps to one SQL parse macro (see `data/sql/parse.sql`)."""

    ID = "id"  # text identifier; digits kept as text, Excel's 1.23E+18 refused
    STR = "str"  # short text; null tokens (--, /, -) become NULL
    TEXT = "text"  # free text, kept verbatim (trimmed)
    DATE = "date"
    DATETIME = "datetime"
    INT = "int"
    NUMBER = "number"
    MONEY = "money"  # CNY yuan; header units 万元/亿元 scale the values
    DURATION = "duration"  # seconds; header units 分钟/小时 scale the values
    PERCENT = "percent"  # a number in percent points (3.45 means 3.45 %); a trailing % is accepted
    ENUM = "enum"  # closed vocabulary; spellings map to canonical codes


class Severity(StrEnum):
    """How much a problem matters: errors reject, warnings load, info only informs."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


_SQL_TYPES = {
    ColType.ID: "VARCHAR",
    ColType.STR: "VARCHAR",
    ColType.TEXT: "VARCHAR",
    ColType.DATE: "DATE",
    ColType.DATETIME: "TIMESTAMP",
    ColType.INT: "BIGINT",
    ColType.NUMBER: "DOUBLE",
    ColType.MONEY: "DOUBLE",
    ColType.DURATION: "DOUBLE",
    ColType.PERCENT: "DOUBLE",
    ColType.ENUM: "VARCHAR",
}

_Frozen = ConfigDict(frozen=True, extra="forbid")


class Column(BaseModel):
    """One canonical column."""

    model_config = _Frozen

    name: str
    type: ColType
    label_zh: str
    label_en: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    min_value: float | None = None
    max_value: float | None = None
    # canonical code -> accepted spellings (matched case-insensitively after trimming)
    values: dict[str, tuple[str, ...]] | None = None
    # SQL over other *parsed* columns used when this one is absent or empty
    # SQL over other *parsed* columns: fills the column when it is empty ("fallback") or
    # replaces the given value whenever it can be computed ("prefer", e.g. wait from times)
    derive_sql: str | None = None
    derive_mode: str = "fallback"
    # canonical unit; a unit in the header (万元, 分钟 …) converts into it
    unit: str | None = None
    example: str = ""

    @model_validator(mode="after")
    def _enum_has_values(self) -> Column:
        if (self.type is ColType.ENUM) != (self.values is not None):
            raise ValueError(f"{self.name}: ENUM columns, and only they, declare values")
        return self

    @property
    def sql_type(self) -> str:
        return _SQL_TYPES[self.type]

    def all_names(self) -> tuple[str, ...]:
        """Every header spelling that maps to this column (canonical name and labels included)."""
        return (self.name, self.label_zh, self.label_en, *self.aliases)


class Check(BaseModel):
    """A row-level domain rule: `violation_sql` is true for the offending rows.

    The SQL names parsed columns only (identifiers from these declarations, never from users).
    """

    model_config = _Frozen

    code: str
    columns: tuple[str, ...]
    violation_sql: str
    severity: Severity
    message_zh: str
    message_en: str


class Source(BaseModel):
    """One canonical source = one analytical table."""

    model_config = _Frozen

    name: str
    label_zh: str
    label_en: str
    description_zh: str
    description_en: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    checks: tuple[Check, ...] = ()
    # branch-id columns whose values must exist in the branch master (warning + auto-add)
    branch_refs: tuple[str, ...] = ()
    # the date column that places a row in time (for incremental scans and batch summaries)
    time_column: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Source:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: duplicate column names")
        for k in (*self.key, *self.branch_refs):
            if k not in names:
                raise ValueError(f"{self.name}: key/ref column {k} is not declared")
        for chk in self.checks:
            missing = set(chk.columns) - set(names)
            if missing:
                raise ValueError(f"{self.name}: check {chk.code} names undeclared {missing}")
        return self

    @property
    def table(self) -> str:
        return self.name

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)
