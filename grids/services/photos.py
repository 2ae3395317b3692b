"""Attaching photos to a case (filing, progress, result, mediation stages)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from common.errors import DomainError
from common.images import CleanImage, image_clean
from governance.audit import audit_record
from governance.models import AuditAction
from grids.models import Case, CaseEvent, CasePhoto, PhotoStage

# Per case and stage: enough to show a problem from several sides, few enough for a village's data plan.
MAX_PHOTOS_PER_STAGE = 6
FIELD = "photos"


def photos_clean(uploads: Sequence[Any], *, already: int = 0) -> list[CleanImage]:
    """Every upload cleaned (common/images.py), refusing more than MAX_PHOTOS_PER_STAGE with `already`
    stored. Writes nothing; raises DomainError(field="photos") naming the photo that failed."""
    uploads = [upload for upload in uploads if upload is not None]
    if already + len(uploads) > MAX_PHOTOS_PER_STAGE:
        raise DomainError(
            "photos_too_many",
            _("照片最多 %(max)s 张（已有 %(already)s 张）。")
            % {"max": MAX_PHOTOS_PER_STAGE, "already": already},
            field=FIELD,
            max_photos=MAX_PHOTOS_PER_STAGE,
        )
    cleaned: list[CleanImage] = []
    for position, upload in enumerate(uploads, start=1):
        try:
            cleaned.append(image_clean(upload))
        except DomainError as error:
            name = getattr(upload, "name", "") or ""
            label = _("第 %(n)s 张照片") % {"n": position}
            if name:
                label = f"{label}（{name}）"
            raise DomainError(
                error.code, f"{label}：{error.message}", field=FIELD, position=position, **error.extra
            ) from error
    return cleaned


def case_photos_attach(
    *,
    case: Case,
    uploads: Sequence[Any] | Sequence[CleanImage],
    stage: str,
    actor: AbstractBaseUser,
    event: CaseEvent | None = None,
) -> list[CasePhoto]:
    """Clean and store photos for one stage of a case; returns the new CasePhoto rows in upload order.

    Every photo is checked and re-encoded before anything is written, so a bad third photo leaves no
    first and second behind. The count per case and stage (MAX_PHOTOS_PER_STAGE) is checked under a
    lock on the case row, so two concurrent uploads cannot pass it together. `uploads` may also be
    CleanImage values already cleaned by the caller (photos_clean) so a service can validate them
    before it writes its own rows. Files go to the default storage under cases/YYYY/MM/.
    """
    if stage not in PhotoStage.values:
        raise DomainError("photo_stage_invalid", _("照片阶段无效。"), field=FIELD)
    items = [item for item in uploads if item is not None]
    if not items:
        return []
    if event is not None and event.case_id != case.pk:
        raise DomainError("photo_event_mismatch", _("照片所属的办理记录不属于该诉求。"), field=FIELD)

    pre_cleaned = [item for item in items if isinstance(item, CleanImage)]
    raw = [item for item in items if not isinstance(item, CleanImage)]
    # Cheap count check before the CPU-heavy decoding; repeated under the lock below.
    already = CasePhoto.objects.filter(case_id=case.pk, stage=stage).count()
    cleaned = pre_cleaned + photos_clean(raw, already=already + len(pre_cleaned))

    written: list[str] = []
    try:
        with transaction.atomic():
            Case.objects.select_for_update().filter(pk=case.pk).values_list("pk", flat=True).first()
            already = CasePhoto.objects.filter(case_id=case.pk, stage=stage).count()
            if already + len(cleaned) > MAX_PHOTOS_PER_STAGE:
                raise DomainError(
                    "photos_too_many",
                    _("照片最多 %(max)s 张（已有 %(already)s 张）。")
                    % {"max": MAX_PHOTOS_PER_STAGE, "already": already},
                    field=FIELD,
                    max_photos=MAX_PHOTOS_PER_STAGE,
                )
            photos: list[CasePhoto] = []
            for clean in cleaned:
                photo = CasePhoto(
                    case=case,
                    event=event,
                    stage=stage,
                    width=clean.width,
                    height=clean.height,
                    size_bytes=clean.size_bytes,
                    sha256=clean.sha256,
                    uploaded_by_id=actor.pk,
                )
                # A random name: the user's file name may carry personal data and is never kept.
                photo.image.save(f"{uuid.uuid4().hex}.jpg", ContentFile(clean.content), save=False)
                written.append(photo.image.name)
                photos.append(photo)
            CasePhoto.objects.bulk_create(photos)
            audit_record(
                actor=actor,
                action=AuditAction.CREATE,
                object_type="grids.casephoto",
                object_id=str(case.pk),
                object_repr=f"{case.number} {PhotoStage(stage).label}",
                region_path=_grid_path(case),
                changes={"photos": [already, already + len(photos)]},
                detail=_("上传照片 %(n)s 张") % {"n": len(photos)},
            )
    except BaseException:
        # The rows rolled back; do not leave their files behind. (If an outer transaction rolls back
        # after this returns, its files stay as orphans, never linked: grids.orphan_photos_sweep sweeps them.)
        for name in written:
            default_storage.delete(name)
        raise
    return photos


def _grid_path(case: Case) -> str:
    grid = getattr(case, "grid", None)
    return getattr(grid, "path", "") or ""
