"""The shared industry world builds and its sales add up as its docstring says."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from industry.models import SalesRecord
from tests.industry.factories import CG_TOTAL, SH_OFFLINE, SH_ONLINE, SH_TOTAL, industry_world

pytestmark = pytest.mark.django_db


def test_world_totals(demo_county):
    world = industry_world(demo_county)

    def total(**kw):
        return SalesRecord.objects.filter(**kw).aggregate(t=Sum("amount_fen"))["t"]

    assert total(event=world.chengguan_event) == CG_TOTAL
    assert total(event=world.shihua_event) == SH_TOTAL
    assert total(event=world.shihua_event, channel="offline") == SH_OFFLINE
    assert total(event=world.shihua_event, channel="online") == SH_ONLINE
    assert len(world.exhibitors) == 4
    assert len(world.products) == 4
