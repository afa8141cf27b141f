"""Render the source declarations as Markdown (`docs/sources.md` is generated from this).

`python -m data.sources.docs > docs/sources.md`; a test fails when the file is stale.
"""

from __future__ import annotations

from data.sources import SOURCES


def render_markdown() -> str:
    out = ["# 数据源 / Sources", "",
           "Generated from `data/sources/` by `python -m data.sources.docs` — do not edit by hand.", "",
           "Headers are matched after normalising (full-width → half-width, spaces removed, case-insensitive); "
           "a unit in brackets (`(万元)`, `(分钟)`, `(%)`) converts the values into the column's unit.", ""]
    for s in SOURCES.values():
        out += [f"## `{s.name}` — {s.label_zh} / {s.label_en}", "", s.description_zh, "", s.description_en, "",
                f"Natural key: `{', '.join(s.key)}` (a later upload with the same key replaces the row).", "",
                "| column | 中文 | English | type | unit | required | header aliases |",
                "| --- | --- | --- | --- | --- | --- | --- |"]
        for c in s.columns:
            aliases = ", ".join(c.aliases)
            if c.values:
                aliases += "<br>values: " + "; ".join(f"`{k}` ← {', '.join(v)}" for k, v in c.values.items())
            req = "yes" if c.required else ("derived" if c.derive_sql else "")
            out.append(f"| `{c.name}` | {c.label_zh} | {c.label_en} | {c.type} | {c.unit or ''} | {req} | {aliases} |")
        if s.checks:
            out += ["", "Checks:", ""]
            out += [f"- `{k.code}` ({k.severity}): {k.message_zh} / {k.message_en}" for k in s.checks]
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(render_markdown(), end="")
