"""Sweeping uploaded files that no row points at.

A service saves a photo's file before its transaction commits (the row needs the file's name). When the
transaction rolls back after that — the rows gone, the file left — the file is an orphan: never linked,
never served, but personal data on disk all the same. A nightly task lists each upload folder and deletes
files no row names, once they are older than a grace period (a file younger than that may belong to a
transaction still open).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator

from django.core.files.storage import Storage, default_storage
from django.utils import timezone

logger = logging.getLogger(__name__)

GRACE = dt.timedelta(hours=6)


def _walk(storage: Storage, folder: str) -> Iterator[str]:
    if not storage.exists(folder):
        return
    directories, files = storage.listdir(folder)
    for name in files:
        yield f"{folder.rstrip('/')}/{name}"
    for directory in directories:
        yield from _walk(storage, f"{folder.rstrip('/')}/{directory}")


def orphan_files_sweep(
    *, folder: str, referenced: Iterable[str], storage: Storage | None = None, now: dt.datetime | None = None
) -> list[str]:
    """Delete the files under `folder` that are not in `referenced` and older than GRACE; return their
    names."""
    storage = storage or default_storage
    keep = set(referenced)
    cutoff = (now or timezone.now()) - GRACE
    deleted = []
    for name in _walk(storage, folder):
        if name in keep:
            continue
        if storage.get_modified_time(name) > cutoff:
            continue
        storage.delete(name)
        deleted.append(name)
    if deleted:
        logger.warning("deleted %d orphaned upload(s) under %s", len(deleted), folder)
    return deleted
