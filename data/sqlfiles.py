"""Named SQL blocks kept in `.sql` files, in the style of aiosql.

A file holds blocks that each start with ``-- name: <name>`` followed by ``--`` doc comment
lines and the statement. Parameters are always bound (``$name`` placeholders); identifiers
only ever come from declarations, formatted in with ``{table}``-style fields by the caller
through :func:`render`, never from user strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_SQL_DIR = Path(__file__).with_name("sql")
_NAME = re.compile(r"^--\s*name:\s*(?P<name>[\w.-]+)\s*$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class SqlBlock:
    """One named statement with its documentation."""

    name: str
    doc: str
    sql: str


def parse_blocks(text: str) -> dict[str, SqlBlock]:
    """Split a `.sql` file into its named blocks."""
    blocks: dict[str, SqlBlock] = {}
    name: str | None = None
    doc: list[str] = []
    body: list[str] = []

    def flush() -> None:
        if name is not None:
            blocks[name] = SqlBlock(name, "\n".join(doc).strip(), "\n".join(body).strip().rstrip(";"))

    for line in text.splitlines():
        m = _NAME.match(line)
        if m:
            flush()
            name, doc, body = m["name"], [], []
        elif name is not None and not body and line.startswith("--"):
            doc.append(line[2:].strip())
        elif name is not None:
            body.append(line)
    flush()
    return blocks


@cache
def load(namespace: str) -> dict[str, SqlBlock]:
    """All blocks of `data/sql/<namespace>.sql`."""
    return parse_blocks((_SQL_DIR / f"{namespace}.sql").read_text(encoding="utf-8"))


def sql(qualified: str) -> str:
    """The statement `namespace.block` (e.g. ``"ops.insert_batch"``)."""
    namespace, _, name = qualified.partition(".")
    return load(namespace)[name].sql


def ident(name: str) -> str:
    """Quote an identifier that comes from a declaration; refuse anything else."""
    if not _IDENT.match(name):
        raise ValueError(f"not a declared identifier: {name!r}")
    return f'"{name}"'


def render(qualified: str, **identifiers: str | tuple[str, ...]) -> str:
    """A block with `{field}` identifier slots filled from declarations (quoted and checked).

    A tuple fills the slot with a comma-separated identifier list (key or column lists).
    """
    filled = {k: ", ".join(ident(x) for x in v) if isinstance(v, tuple) else ident(v)
              for k, v in identifiers.items()}
    return sql(qualified).format(**filled)
