"""Byte range of a GBK/GB18030 file → UTF-8, strictly (standard library only).

`encoding.to_utf8` transcodes a big file in two halves at once: this process does the first,
and a second Python process runs this file as a script on the second (`python -I -S
transcode.py SRC ENCODING START END OUT`; it prints one JSON line). The codec holds the GIL, so a
thread would not help; a script run by path imports no package (no pandas, no DuckDB) and starts
in milliseconds. The halves meet just after a line feed: 0x0A is never part of a multi-byte GBK or
GB18030 character, so the decoder starts each half in its initial state.
"""

from __future__ import annotations

import codecs
import json
import sys

CHUNK = 8 * 1024 * 1024


def transcode_range(src: str, encoding: str, start: int, end: int, out: str, append: bool = False) -> tuple[int, int | None]:
    """Write bytes [start, end) of `src` decoded from `encoding` to `out` as UTF-8.

    Returns (line feeds read, None) or, where the bytes stop decoding, (line feeds before the
    bad byte, its offset in the range) — the caller turns that into a line number.
    """
    dec = codecs.getincrementaldecoder(encoding)(errors="strict")
    lines = 0
    with open(src, "rb") as f, open(out, "ab" if append else "wb") as dst:
        f.seek(start)
        left, done = end - start, 0
        while left > 0 and (raw := f.read(min(CHUNK, left))):
            left -= len(raw)
            try:
                dst.write(dec.decode(raw, final=left <= 0).encode("utf-8"))
            except UnicodeDecodeError as exc:
                return lines + raw[: exc.start].count(b"\n"), done + exc.start
            lines += raw.count(b"\n")
            done += len(raw)
    return lines, None


if __name__ == "__main__":
    src_, enc_, start_, end_, out_ = sys.argv[1:6]
    n, bad = transcode_range(src_, enc_, int(start_), int(end_), out_)
    print(json.dumps({"lines": n, "bad": bad}))
