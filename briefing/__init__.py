"""The management briefing (经营简报): a declared spec → a content model → an A4 PDF.

    from briefing import build_pdf
    pdf_bytes = build_pdf(store, "2025-09", scope="all", lang="zh")

`briefing.spec` declares the sections (report-as-code), `briefing.content` fills them with
numbers from the KPI catalogue (the same functions the pages use), `briefing.render_pdf` lays
them out with fpdf2 and the embedded CJK font (`briefing.fonts`), `briefing.charts` draws the
trend charts as vector graphics.
"""

from __future__ import annotations

from briefing.content import (
    BriefingError,
    BriefingRequest,
    Document,
    build_document,
    check_reads,
    parse_scope,
)
from briefing.spec import DEFAULT_SPEC, BriefingSpec, Section, SectionKind
from data.progress import BRIEFING, Progress, Stage, Stages

__all__ = ["DEFAULT_SPEC", "BriefingError", "BriefingRequest", "BriefingSpec", "Document", "Section", "SectionKind",
           "build_document", "build_pdf", "check_reads", "parse_scope"]


def build_pdf(store, period: str, scope: str = "all", lang: str = "zh", spec: BriefingSpec | None = None,
              progress: Progress | None = None, **kw) -> bytes:
    """One call: parse the period ('2025-09' | '2025-W38' | '2025-Q3') and scope, build, render.
    `progress` (data.progress) hears the stages of `data.progress.BRIEFING` and `done` with the
    bytes ready."""
    from briefing.render_pdf import render

    say = Stages(progress, BRIEFING)
    req = BriefingRequest.parse(store, period, scope, lang, spec or DEFAULT_SPEC, **kw)
    doc = build_document(store, req, say)
    say.start(Stage.BRIEFING_RENDER)
    pdf = render(doc, say.sub(Stage.BRIEFING_RENDER))
    say.done()
    return pdf
