"""Render the KPI catalogue as Markdown (`docs/metrics.md` is generated from this).

`python -m metrics.docs > docs/metrics.md`; a test fails when the file is stale.
"""

from __future__ import annotations

from metrics.catalogue import CATALOGUE, by_category
from metrics.model import CATEGORY_LABELS, Category, Metric


def _row(m: Metric) -> str:
    target = "" if m.target is None else f"{m.target:g}"
    flags = "headline" if m.headline else ""
    return (f"| `{m.id}` | {m.name_zh} | {m.name_en} | {m.unit} | {m.direction} | {m.default_grain} | {target} "
            f"| {flags} | {m.description_zh}<br>{m.description_en} |")


def render_markdown() -> str:
    out = ["# 指标目录 / KPI catalogue", "",
           "Generated from `metrics/catalogue.py` by `python -m metrics.docs` — do not edit by hand.", "",
           "Each KPI is one `Metric(...)` declaration (`metrics/counter.py`, `credit.py`, `feedback.py`, "
           "`market.py`). `headline` KPIs are the overview's cards and the trend summary's subjects, "
           "in this order. Rates are stored as fractions; `bankpulse metric ID` "
           "prints the numbers the pages show.", "",
           f"{len(CATALOGUE)} KPIs.", ""]
    for category in Category:
        zh, en = CATEGORY_LABELS[category]
        out += [f"## {zh} / {en} (`{category}`)", "",
                "| id | 中文 | English | unit | direction | grain | target | flags | description |",
                "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        out += [_row(m) for m in by_category(category)]
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(render_markdown(), end="")
