"""`st.progress` for the long operations (an upload, a scan, a briefing build).

`ProgressBar(title)` draws a bar whose `report` is the `data.progress.Progress` the operation
takes: the bar fills as the work goes and its text names the stage in the reader's language
("柜台叫号.csv：逐行校验（55%）"). Updates are thinned by `data.progress.steady` — a delta
goes to the browser for a new stage or one more percent, not for every block of work.
"""

from __future__ import annotations

import streamlit as st

from data.progress import label, steady
from pages._ui.i18n import current_lang, tr


class ProgressBar:
    def __init__(self, title: str, lang: str | None = None):
        """`title`: what is running, already safe for Markdown (`widgets.inert` for user text)."""
        self.title, self.lang = title, lang or current_lang()
        self.bar = st.progress(0.0, text=tr("prog.start", self.lang, title=title))
        self.report = steady(self._show)

    def _show(self, stage: str, done: float) -> None:
        done = min(max(done, 0.0), 1.0)
        self.bar.progress(done, text=tr("prog.text", self.lang, title=self.title, stage=label(stage, self.lang),
                                        pct=int(done * 100)))

    def finish(self, text: str) -> None:
        """The bar full, with the outcome (已导入, 未导入…) in place of the stage."""
        self.bar.progress(1.0, text=tr("prog.end", self.lang, title=self.title, text=text))
