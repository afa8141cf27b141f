"""Text encoding of CSV exports: detect, never guess silently.

Order (DOMAIN.md §2.1): a BOM decides; else strict UTF-8; else strict GB18030 (a superset of
GBK/GB2312, what Excel's plain "CSV" writes on Chinese Windows). GB18030 is never tried first:
it is permissive and would mis-decode UTF-8. A file whose first part is valid UTF-8 *with*
Chinese text and whose later part is not is reported as mixed, not silently decoded as GBK.
Detection streams the file in chunks, so a 1 GB export never sits in memory whole.
"""

from __future__ import annotations

import codecs
import itertools
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class Detected:
    """The decision and its evidence."""

    encoding: str | None  # "utf-8", "utf-8-sig", "gb18030", "utf-16" or None (undecodable)
    label: str  # what users read: "UTF-8", "UTF-8 (BOM)", "GBK/GB18030"
    problem: str = ""  # why detection failed, in both languages
    bad_offset: int | None = None
    bad_line: int | None = None


_CJK = re.compile("[\u4e00-\u9fff]")


def _has_cjk(text: str, at_least: int = 3) -> bool:
    """Real Chinese text decoded as UTF-8 (GBK bytes can pass as one or two odd UTF-8 characters,
    almost never as several CJK ideographs)."""
    return sum(1 for _ in itertools.islice(_CJK.finditer(text), at_least)) >= at_least


def _first_failure(path: Path, encoding: str) -> tuple[int, int, bool] | None:
    """(byte offset, line number, saw real UTF-8 Chinese text before it) of the first undecodable byte, or None."""
    dec = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset, lines, saw_non_ascii = 0, 1, False
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            try:
                text = dec.decode(chunk)
            except UnicodeDecodeError as exc:
                good = chunk[: exc.start]
                return offset + exc.start, lines + good.count(b"\n"), saw_non_ascii or _has_cjk(good.decode(encoding, "ignore"))
            lines += chunk.count(b"\n")
            saw_non_ascii = saw_non_ascii or _has_cjk(text)
            offset += len(chunk)
        try:
            dec.decode(b"", final=True)
        except UnicodeDecodeError:
            return offset, lines, saw_non_ascii
    return None


def detect(path: Path) -> Detected:
    """Decide the encoding of a text file."""
    with path.open("rb") as f:
        head = f.read(4)
    if head.startswith(codecs.BOM_UTF8):
        fail = _first_failure(path, "utf-8-sig")
        if fail is None:
            return Detected("utf-8-sig", "UTF-8 (BOM)")
        return Detected(None, "?", _mixed_msg(fail[1]), fail[0], fail[1])
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Detected("utf-16", "UTF-16")
    fail = _first_failure(path, "utf-8")
    if fail is None:
        return Detected("utf-8", "UTF-8")
    offset, line, saw_utf8_text = fail
    if saw_utf8_text:
        return Detected(None, "?", _mixed_msg(line), offset, line)
    # GB18030 decodes almost any byte soup, so the evidence is the head decoding cleanly; the
    # transcoding pass (to_utf8) decodes the rest strictly and reports the line that fails.
    with path.open("rb") as f:
        sample = f.read(1024 * 1024)
    try:
        codecs.getincrementaldecoder("gb18030")(errors="strict").decode(sample)
        return Detected("gb18030", "GBK/GB18030")
    except UnicodeDecodeError:
        pass
    return Detected(
        None, "?",
        f"第{line}行附近的字节既不是UTF-8也不是GBK编码，请另存为“CSV UTF-8”后重新上传 / "
        f"bytes near line {line} are neither UTF-8 nor GBK; save the file as 'CSV UTF-8' and upload it again",
        offset, line)


def _mixed_msg(line: int) -> str:
    return (f"文件混合了多种编码：前面的内容是UTF-8，第{line}行起不是，请统一另存为“CSV UTF-8” / "
            f"mixed encodings: the file is UTF-8 up to line {line} but not after it; "
            f"save it again as 'CSV UTF-8'")


class TranscodeError(ValueError):
    """The file stopped decoding part-way (reported with its line)."""

    def __init__(self, line: int, encoding: str):
        super().__init__(
            f"第{line}行附近的内容不是{encoding}编码 / the bytes near line {line} are not valid {encoding}")
        self.line = line


def to_utf8(path: Path, encoding: str, out: Path) -> Path:
    """Transcode a file to plain UTF-8 (no BOM) in streaming chunks; returns `out`.

    Raises TranscodeError (with the line) when the input stops decoding part-way.
    """
    if encoding == "utf-8":
        shutil.copyfile(path, out)
        return out
    dec = codecs.getincrementaldecoder(encoding)(errors="strict")
    lines = 1
    with path.open("rb") as src, out.open("wb") as dst:
        while raw := src.read(CHUNK):
            try:
                dst.write(dec.decode(raw).encode("utf-8"))
            except UnicodeDecodeError as exc:
                raise TranscodeError(lines + raw[: exc.start].count(b"\n"), encoding) from exc
            lines += raw.count(b"\n")
        try:
            dst.write(dec.decode(b"", final=True).encode("utf-8"))
        except UnicodeDecodeError as exc:
            raise TranscodeError(lines, encoding) from exc
    return out
