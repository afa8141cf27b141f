"""The CJK font of the briefing: Kurinto Sans SC (SIL Open Font License 1.1), from the
`weblate-fonts` wheel — pure pip, no system font, no root.

Parsing a 10 MB CJK TrueType file (cmap and metrics of 30,000 glyphs) takes seconds, so the
parsed face is kept per process (`_template`) and every new document gets a light clone that
shares the read-only tables (character map, widths, glyph ids) and opens its own lazy fontTools
handle — fpdf2 subsets that handle in place when the PDF is written, so it cannot be shared.
"""

from __future__ import annotations

import functools
import threading
from importlib import resources
from pathlib import Path

FAMILY = "KurintoSansSC"
FILES = {"": "KurintoSansSC-Rg.ttf", "B": "KurintoSansSC-Bd.ttf"}
LICENSE = "SIL Open Font License 1.1 (Kurinto Sans SC ©2017-2020 Clinton F. Goss, Reserved Font Name Kurinto)"

_lock = threading.Lock()


class FontMissingError(RuntimeError):
    """The font package is not installed."""


def font_dir() -> Path:
    """The folder of the Kurinto TrueType files inside the installed `weblate-fonts` package."""
    try:
        root = resources.files("weblate_fonts")
    except ModuleNotFoundError as exc:
        raise FontMissingError("缺少中文字体包 weblate-fonts（pip install weblate-fonts） / "
                               "the CJK font package weblate-fonts is not installed") from exc
    path = Path(str(root)) / "static" / "weblate_fonts" / "kurinto" / "ttf"
    if not (path / FILES[""]).exists():
        raise FontMissingError(f"找不到字体文件 / font file not found: {path / FILES['']}")
    return path


def font_path(style: str = "") -> Path:
    return font_dir() / FILES[style]


@functools.cache
def _template(style: str):
    """The parsed face (fpdf2 TTFFont), once per process and style."""
    from fpdf import FPDF

    scratch = FPDF()
    scratch.add_font(FAMILY, style, str(font_path(style)))
    return scratch.fonts[f"{FAMILY.lower()}{style}"]


def register(pdf) -> None:
    """Add the regular and bold faces to an FPDF document (cheap after the first call)."""
    from fontTools import ttLib
    from fpdf.fonts import SubsetMap, TTFFont

    for style in FILES:
        with _lock:
            tpl = _template(style)
        f = TTFFont.__new__(TTFFont)
        for slot in TTFFont.__slots__:
            if hasattr(tpl, slot):
                setattr(f, slot, getattr(tpl, slot))
        # per-document state: own index, own lazy font handle (subset in place on output), own subset map
        f.i = len(pdf.fonts) + 1
        f.ttfont = ttLib.TTFont(tpl.ttffile, recalcTimestamp=False, lazy=True)
        f._hbfont = None
        f.missing_glyphs = []
        f.biggest_size_pt = 0
        f.color_font = None
        f.subset = SubsetMap(f)
        pdf.fonts[tpl.fontkey] = f


def configure_matplotlib() -> None:  # pragma: no cover - for anyone charting with matplotlib
    """Make matplotlib use the same CJK font (the briefing itself draws with fpdf2)."""
    from matplotlib import font_manager, rcParams

    for style in FILES:
        font_manager.fontManager.addfont(str(font_path(style)))
    rcParams["font.family"] = font_manager.FontProperties(fname=str(font_path(""))).get_name()
    rcParams["axes.unicode_minus"] = False
