"""Named SQL blocks kept in `.sql` files, in the style of aiosql.

A file holds blocks that each start with ``-- name: <name>`` followed by ``--`` doc comment
lines and the statement. Parameters are always bound (``$name`` placeholders); identifiers
only ever come from declarations, formatted in with ``{table}``-style fields by the caller
through :func:`render`, never from user strings.

Blocks are run through one gate, `data.store.Store.query` (time limit, row cap, bound
parameters, a debug log); :func:`sql` hands the text to the few callers that still drive a
cursor themselves (ingest, rollback, the batch and user records in `data/`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_SQL_DIR = Path(__file__).with_name("sql")
_NAME = re.compile(r"^--\s*name:\s*(?P<name>[\w.-]+)\s*$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class UnknownBlockError(KeyError):
    """A block name that no `data/sql/<namespace>.sql` file declares."""

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0])


@dataclass(frozen=True)
class SqlBlock:
    """One named statement with its documentation."""

    name: str
    doc: str
    sql: str

    @property
    def params(self) -> frozenset[str]:
        """The names of its bound parameters (``$name`` placeholders)."""
        return frozenset(_PARAM.findall(self.sql))

    def render(self, **identifiers: str | tuple[str, ...]) -> str:
        """The statement with its `{field}` identifier slots filled (quoted and checked).

        A tuple fills the slot with a comma-separated identifier list (key or column lists).
        """
        filled = {k: ", ".join(ident(x) for x in v) if isinstance(v, tuple) else ident(v)
                  for k, v in identifiers.items()}
        return self.sql.format(**filled)


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


def block(qualified: str) -> SqlBlock:
    """The block `namespace.block` (e.g. ``"ops.insert_batch"``); an unknown one is an error naming it."""
    namespace, _, name = qualified.partition(".")
    if not (_IDENT.match(namespace) and (_SQL_DIR / f"{namespace}.sql").is_file()):
        raise UnknownBlockError(f"没有名为 {qualified!r} 的SQL块（无文件 data/sql/{namespace}.sql） / "
                                f"no SQL block {qualified!r} (there is no data/sql/{namespace}.sql)")
    found = load(namespace).get(name)
    if found is None:
        raise UnknownBlockError(f"没有名为 {qualified!r} 的SQL块 / no SQL block {qualified!r} "
                                f"in data/sql/{namespace}.sql")
    return found


def sql(qualified: str) -> str:
    """The statement `namespace.block` (e.g. ``"ops.insert_batch"``)."""
    return block(qualified).sql


def ident(name: str) -> str:
    """Quote an identifier that comes from a declaration; refuse anything else."""
    if not _IDENT.match(name):
        raise ValueError(f"not a declared identifier: {name!r}")
    return f'"{name}"'


def render(qualified: str, **identifiers: str | tuple[str, ...]) -> str:
    """A block with `{field}` identifier slots filled from declarations (see `SqlBlock.render`)."""
    return block(qualified).render(**identifiers)
