"""Orphaned uploads (files whose rows rolled back) are swept once they are older than the grace period."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.utils import timezone

from common.media import GRACE, orphan_files_sweep
from grids.tasks import orphan_photos_sweep

pytestmark = pytest.mark.django_db


def _age(storage: FileSystemStorage, name: str, by: dt.timedelta) -> None:
    path = storage.path(name)
    moment = (timezone.now() - by).timestamp()
    os.utime(path, (moment, moment))


def test_only_old_unreferenced_files_go(tmp_path):
    storage = FileSystemStorage(location=tmp_path)
    linked = storage.save("cases/2026/11/linked.jpg", ContentFile(b"a"))
    orphan = storage.save("cases/2026/11/orphan.jpg", ContentFile(b"b"))
    fresh = storage.save("cases/2026/11/fresh.jpg", ContentFile(b"c"))
    other = storage.save("exports/keep.xlsx", ContentFile(b"d"))
    for name in (linked, orphan, other):
        _age(storage, name, GRACE + dt.timedelta(minutes=5))
    deleted = orphan_files_sweep(folder="cases", referenced=[linked], storage=storage)
    assert deleted == [orphan]
    assert (storage.exists(linked), storage.exists(orphan), storage.exists(fresh), storage.exists(other)) == (
        True,
        False,
        True,
        True,
    )


def test_a_missing_folder_is_nothing_to_do(tmp_path):
    assert (
        orphan_files_sweep(folder="cases", referenced=[], storage=FileSystemStorage(location=tmp_path)) == []
    )


def test_the_task_sweeps_both_photo_folders(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    storage = FileSystemStorage(location=tmp_path)
    names = [storage.save("cases/x.jpg", ContentFile(b"1")), storage.save("worklog/y.jpg", ContentFile(b"2"))]
    for name in names:
        _age(storage, name, GRACE * 2)
    assert orphan_photos_sweep() == {"cases": 1, "worklog": 1}
