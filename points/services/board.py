"""Writes from the public points board: a resident files an objection (异议) to an award under notice.

The board has no log-in, so two guards sit in front of points.services.objections.objection_file (which
validates and stores the objection, the phone encrypted):
- exactly once: the form's idempotency key is claimed in Redis (cache.add is atomic) before the write
  and then maps to the objection; a replay returns that objection, a concurrent twin is refused;
- a rate limit per client IP per award (OBJECTIONS_PER_IP_PER_DAY in 24 hours, counted on the stored
  objections, so it survives a cache flush), to stop one machine flooding a notice with objections.
"""

from __future__ import annotations

import datetime as dt

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import Conflict, DomainError
from governance.audit import idempotency_key_clean
from points.models import Objection
from points.selectors.board import board_award_under_notice, board_village_get
from points.services import objections as objection_services

OBJECTIONS_PER_IP_PER_DAY = 3
_IDEMPOTENCY_TTL = 24 * 60 * 60
_PENDING = "pending"


def _idempotency_cache_key(key: str) -> str:
    return f"points:board:objection:{key}"


def board_objection_file(
    *,
    village_code: str,
    award_id: int,
    reason: str,
    contact_name: str = "",
    contact_phone: str = "",
    client_ip: str | None,
    idempotency_key: str,
    now: dt.datetime | None = None,
) -> Objection:
    """File an objection from the public board of the village `village_code` to its award `award_id`.

    Returns the objection (the first one again when `idempotency_key` was already used). Raises NotFound
    (404) when the award is not on this board or its notice has ended, DomainError 429
    `objection_rate_limited` past the per-IP limit, Conflict `objection_in_progress` while a twin with the
    same key is being written, and the DomainErrors of objection_file (reason required, phone format…).
    """
    key = idempotency_key_clean(idempotency_key, required=True)
    cache_key = _idempotency_cache_key(key)
    stored = cache.get(cache_key)
    if stored is not None and stored != _PENDING:
        replay = Objection.objects.filter(pk=stored).first()
        if replay is not None:
            return replay
    now = now or timezone.now()
    village = board_village_get(code=village_code)
    award = board_award_under_notice(village=village, award_id=award_id, now=now)
    if client_ip:
        recent = Objection.objects.filter(
            award=award, client_ip=client_ip, created_at__gte=now - dt.timedelta(days=1)
        ).count()
        if recent >= OBJECTIONS_PER_IP_PER_DAY:
            raise DomainError(
                "objection_rate_limited",
                _("同一网络对这条公示一天内最多提出%(n)d条异议，请明天再试，或直接到村委会反映。")
                % {"n": OBJECTIONS_PER_IP_PER_DAY},
                status=429,
            )
    if not cache.add(cache_key, _PENDING, _IDEMPOTENCY_TTL):
        stored = cache.get(cache_key)
        replay = Objection.objects.filter(pk=stored).first() if stored not in (None, _PENDING) else None
        if replay is not None:
            return replay
        raise Conflict("objection_in_progress", _("您的异议正在提交，请勿重复点击。"))
    try:
        objection = objection_services.objection_file(
            award=award,
            reason=reason,
            contact_name=contact_name,
            contact_phone=contact_phone,
            client_ip=client_ip,
        )
    except BaseException:
        # Nothing was written: the same form may be corrected and sent again with its key.
        cache.delete(cache_key)
        raise
    cache.set(cache_key, objection.pk, _IDEMPOTENCY_TTL)
    return objection
