"""The upload flow of the data page, as a plain function (the page and the tests call it)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from data.ingest import IngestResult, ingest_file
from data.ingest.issues import Code, Issue, bilingual, issues_frame
from data.progress import Progress
from data.sources.model import Severity
from data.store import Store

ACCEPTED_TYPES = ["csv", "xlsx", "xls", "txt"]


# nobody signed in: nothing may be written (fail closed)
NO_RIGHTS = {"boundary": frozenset(), "may_change_master": False, "may_write_bank_wide": False}


def rights_for(user, store: Store) -> dict:
    """`ingest_file`'s boundary keywords for the signed-in person (a `Principal`, or None),
    computed now from the current master, before the load."""
    return NO_RIGHTS if user is None else user.write_rights(store)


def too_large(store: Store, size: int) -> bool:
    return size > store.settings.upload_max_mb * 1024 * 1024


def rejected_too_large(store: Store, name: str, size: int) -> IngestResult:
    """The result for a file over the limit, built without reading it."""
    mb = store.settings.upload_max_mb
    res = IngestResult(file_name=name, status="rejected")
    res.issues = issues_frame([Issue(name, Severity.ERROR, Code.TOO_LARGE, value=f"{size / 1024 / 1024:.1f} MB",
                                     expected=f"≤ {mb} MB",
                                     message=bilingual("文件超过大小上限", "the file is larger than the upload limit"))])
    res.message_zh = f"{name}：文件大小 {size / 1024 / 1024:.1f} MB，超过上限 {mb} MB，未导入，数据未作任何改动。"
    res.message_en = f"{name}: {size / 1024 / 1024:.1f} MB is over the {mb} MB limit; not loaded, nothing changed."
    return res


def load_upload(store: Store, name: str, data: bytes, *, source: str | None = None, allow_partial: bool = False,
                user: str = "web", progress: Progress | None = None,
                dry_run: bool = False, rights: dict | None = None) -> IngestResult:
    """Check the size, save the bytes to a temporary file (keeping the suffix) and ingest them
    (`dry_run`: detect and validate only, for the preview). `rights`: the writer's boundary keywords
    of `ingest_file` (`Principal.write_rights`); the page always passes them."""
    if too_large(store, len(data)):
        return rejected_too_large(store, name, len(data))
    suffix = Path(name).suffix.lower()
    fd, tmp = tempfile.mkstemp(prefix="bankpulse-upload-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return ingest_file(store, tmp, source=source, allow_partial=allow_partial, user=user,
                           file_name=Path(name).name, progress=progress, dry_run=dry_run, **(rights or {}))
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
