"""What the scenarios need beyond the demo county: a filing account with its own grid, and a phone photo.

`python -m bench.fixtures` (run.py calls it with the benchmark's environment, after seed_demo) makes sure
the benchmark database holds, idempotently:

- the grid defaults (categories, time limits, templates, calendar: grids_defaults_install), which a
  skeleton seed does not install;
- a separate region tree 基准测试县 → 基准测试镇 → 基准测试村 → 基准测试网格, outside the demo county, with
  the log-ins bench_grid_leader (grid leader of that grid) and bench_village_secretary (village
  secretary of that village, who receives the filing notification as a real one would), both with the
  demo password. The filing scenario files tens of thousands of cases per run; in their own village
  they never reach the demo village's triage queue, 城关镇's queue or the county's assessment, which
  other scenarios measure;

and prints one JSON line with the ids the scenarios are formatted with ({filing_grid_id},
{filing_category_id}).

`phone_photo(path)` writes the JPEG the filing scenario uploads: 1600 × 1200, quality 82, no metadata —
what static/js/grids-filing.js sends after shrinking a camera photo on the phone (long side ≤ 1600 px,
JPEG quality 0.82) — with the noise and gradients of a photograph, so its size (~200–300 kB) and the
server's decode and re-encode cost are a real photo's, not those of a flat test card.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

BENCH_TREE = ("基准测试县", "基准测试镇", "基准测试村", "基准测试网格")
FILING_USER = "bench_grid_leader"
SECRETARY_USER = "bench_village_secretary"
# A livelihood sub-category: the commonest kind of case (grids/demo.py weights them highest).
FILING_CATEGORY_DUTY = "livelihood_service"
PHOTO_SIZE = (1600, 1200)
PHOTO_QUALITY = 82


def phone_photo(path: Path, seed: int = 20261129) -> int:
    """Write the filing scenario's photo to `path`; returns its size in bytes. Deterministic."""
    from PIL import Image, ImageDraw, ImageFilter

    width, height = PHOTO_SIZE
    rng = random.Random(seed)  # a test picture: no secrets
    # Sky above, a field below, a few walls and roofs: smooth areas and edges, as in a street photo.
    sky = Image.linear_gradient("L").resize((width, height // 2)).convert("RGB")
    sky = Image.merge(
        "RGB",
        [c.point(lambda v, k=k: 120 + v * k // 255) for k, c in zip((60, 90, 130), sky.split(), strict=True)],
    )
    picture = Image.new("RGB", (width, height), (96, 120, 70))
    picture.paste(sky, (0, 0))
    draw = ImageDraw.Draw(picture)
    for _house in range(14):
        x, w = rng.randrange(0, width), rng.randrange(80, 260)
        top = rng.randrange(height // 3, height // 2 + 60)
        shade = rng.randrange(150, 235)
        draw.rectangle((x, top, x + w, top + rng.randrange(120, 300)), fill=(shade, shade - 10, shade - 25))
        draw.polygon([(x - 10, top), (x + w // 2, top - 50), (x + w + 10, top)], fill=(110, 60, 50))
    # Sensor noise and a little blur: the high-frequency detail that makes a photograph's JPEG heavy.
    noise = Image.effect_noise((width, height), 28).convert("RGB")
    picture = Image.blend(picture, noise, 0.2).filter(ImageFilter.GaussianBlur(0.5))
    path.parent.mkdir(parents=True, exist_ok=True)
    picture.save(path, format="JPEG", quality=PHOTO_QUALITY, optimize=False, progressive=False)
    return path.stat().st_size


def prepare() -> dict[str, Any]:
    """Install the grid defaults and the filing account's tree (idempotent); the ids the scenarios use."""
    from django.conf import settings
    from django.db import transaction

    from governance.models import Region, RegionKind, User
    from governance.roles import Role
    from governance.services import regions as region_services
    from governance.services import roles as role_services
    from grids.defaults import grids_defaults_install
    from grids.models import CaseCategory

    grids_defaults_install()
    kinds = (RegionKind.COUNTY, RegionKind.TOWN, RegionKind.VILLAGE, RegionKind.GRID)
    with transaction.atomic():
        parent: Region | None = None
        tree: list[Region] = []
        for name, kind in zip(BENCH_TREE, kinds, strict=True):
            region = Region.objects.filter(parent=parent, name=name).first()
            if region is None:
                region = region_services.region_create(parent=parent, name=name, kind=kind)
            tree.append(region)
            parent = region
        _county, _township, village, grid = tree
        for username, full_name, role, region in (
            (FILING_USER, "基准网格长", Role.GRID_LEADER, grid),
            (SECRETARY_USER, "基准村书记", Role.VILLAGE_SECRETARY, village),
        ):
            user = User.objects.filter(username=username).first()
            if user is None:
                user = role_services.user_create(
                    username=username, password=settings.DEMO_PASSWORD, full_name=full_name
                )
            elif not user.check_password(settings.DEMO_PASSWORD):
                user.set_password(settings.DEMO_PASSWORD)
                user.save(update_fields=["password"])
            role_services.role_assign(user=user, role=role, region=region)
    category = (
        CaseCategory.objects.filter(parent__isnull=False, is_active=True, duty=FILING_CATEGORY_DUTY)
        .order_by("sort_order", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    if category is None:
        raise SystemExit("bench.fixtures: no active livelihood sub-category to file cases in")
    from bench.canteens_fixtures import prepare_checkins
    from bench.points_fixtures import prepare_redemptions

    return {
        "filing_grid_id": str(grid.pk),
        "filing_category_id": str(category),
        **prepare_redemptions(),
        **prepare_checkins(),
    }


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    print("BENCH_FIXTURES " + json.dumps(prepare()))


if __name__ == "__main__":
    main()
