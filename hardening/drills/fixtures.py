"""`python -m hardening.drills.fixtures till [HOUSEHOLDS FUNDS STOCK]`: the till's world for the drills,
printed as one JSON line `DRILL_FIXTURES {...}`.

In the benchmark's own region tree (bench/fixtures.py's 基准测试县 → … → 基准测试网格, outside the demo
county) bench/points_fixtures.py's store, items, open redemption day, funded households and the log-in
bench_till (township admin), plus that user's API token. HOUSEHOLDS / FUNDS / STOCK override the bench's
sizes (the load script makes stock scarce). Runs in its own process with the drill's DATABASE_URL.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def till(households: int | None = None, funds: int | None = None, stock: int | None = None) -> dict[str, Any]:
    from django.db import transaction
    from rest_framework.authtoken.models import Token

    import bench.points_fixtures as points_fixtures
    from bench.fixtures import BENCH_TREE
    from governance.models import Region, RegionKind, User
    from governance.services import regions as region_services

    if households is not None:
        points_fixtures.HOUSEHOLDS = households
    if funds is not None:
        points_fixtures.FUNDS = funds
    if stock is not None:
        points_fixtures.STOCK = stock
    kinds = (RegionKind.COUNTY, RegionKind.TOWN, RegionKind.VILLAGE, RegionKind.GRID)
    with transaction.atomic():
        parent: Region | None = None
        for name, kind in zip(BENCH_TREE, kinds, strict=True):
            region = Region.objects.filter(parent=parent, name=name).first()
            if region is None:
                region = region_services.region_create(parent=parent, name=name, kind=kind)
            parent = region
    ids = points_fixtures.prepare_redemptions()
    user = User.objects.get(username=points_fixtures.TILL_USER)
    token, _created = Token.objects.get_or_create(user=user)
    return {**ids, "till_user": user.username, "till_token": token.key}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hardening.drills.settings")
    import django

    django.setup()
    what = sys.argv[1] if len(sys.argv) > 1 else "till"
    if what != "till":
        raise SystemExit(f"unknown fixture {what!r}")
    sizes = [int(a) for a in sys.argv[2:5]]
    print("DRILL_FIXTURES " + json.dumps(till(*sizes)))


if __name__ == "__main__":
    main()
