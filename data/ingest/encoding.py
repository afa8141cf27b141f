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
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from data.ingest import transcode

CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class Detected:
    """The decision and its evidence."""

    encoding: str | None  # "utf-8", "utf-8-sig", "gb18030", "utf-16" or None (undecodable)
    label: str  # what users read: "UTF-8", "UTF-8 (BOM)", "GBK/GB18030"
    problem: str = ""  # why detection failed, in both languages
    bad_offset: int | None = None
    bad_line: int | None = None
    # False: only the head was decoded (`detect_head`); the reader checks the rest of the bytes and
    # the file is decided again with `detect` if it finds any that are not UTF-8
    verified: bool = True


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


HEAD = 1024 * 1024


def detect_head(path: Path) -> Detected | None:
    """UTF-8 (with or without BOM) judged from the first MB, or None: then `detect` decides.

    Decoding a whole export in Python costs as much as DuckDB reading it, and DuckDB's CSV reader
    validates UTF-8 as it reads anyway: a file whose head is UTF-8 is read as UTF-8 (`verified`
    False) and only when the reader meets bytes that are not is it decided again by `detect`, which
    then reports a mixed file or transcodes a GBK one exactly as it would have.
    """
    with path.open("rb") as f:
        head = f.read(HEAD + 4)
    bom = head.startswith(codecs.BOM_UTF8)
    whole = len(head) <= HEAD
    try:  # an incomplete character at the cut is not an error (final=False)
        codecs.getincrementaldecoder("utf-8-sig" if bom else "utf-8")(errors="strict").decode(head[:HEAD], final=whole)
    except UnicodeDecodeError:
        return None
    return Detected("utf-8-sig", "UTF-8 (BOM)", verified=whole) if bom else Detected("utf-8", "UTF-8", verified=whole)


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


# Below this size one process transcodes the whole file; above it two do (see transcode.py).
PARALLEL_MIN = 32 * 1024 * 1024


def to_utf8(path: Path, encoding: str, out: Path, parallel_min: int = PARALLEL_MIN) -> Path:
    """Transcode a file to plain UTF-8 (no BOM) in streaming chunks; returns `out`.

    A big file is done in two halves at once, the second by a worker process (transcode.py).
    Raises TranscodeError (with the line) when the input stops decoding part-way.
    """
    if encoding == "utf-8":
        shutil.copyfileobj(path.open("rb"), out.open("wb"))
        return out
    size = path.stat().st_size
    split = _line_start_after(path, size // 2) if size >= parallel_min else size
    worker = None
    part2 = out.with_name(out.name + ".part2")
    if split < size:
        worker = subprocess.Popen(
            [sys.executable, "-I", "-S", str(Path(transcode.__file__)), str(path), encoding, str(split), str(size),
             str(part2)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        lines, bad = transcode.transcode_range(str(path), encoding, 0, split, str(out))
        if bad is not None:
            raise TranscodeError(1 + lines, encoding)
        if worker is not None:
            stdout, stderr = worker.communicate()
            if worker.returncode != 0:
                raise OSError(f"transcoding worker failed: {stderr.decode(errors='replace')[-500:]}")
            second = json.loads(stdout)
            if second["bad"] is not None:
                raise TranscodeError(1 + lines + second["lines"], encoding)
            with part2.open("rb") as src, out.open("ab") as dst:
                shutil.copyfileobj(src, dst, CHUNK)
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
            worker.wait()
        part2.unlink(missing_ok=True)
    return out


def _line_start_after(path: Path, offset: int) -> int:
    """The offset just after the first line feed at or after `offset` (the file size if none)."""
    with path.open("rb") as f:
        f.seek(offset)
        pos = offset
        while chunk := f.read(64 * 1024):
            i = chunk.find(b"\n")
            if i >= 0:
                return pos + i + 1
            pos += len(chunk)
    return pos
