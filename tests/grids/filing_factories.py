"""Small helpers for the filing tests: a category tree, real JPEG/PNG bytes, and cases filed through the
real service (grids.services.cases.case_file)."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from governance.models import Region
from grids.models import Case, CaseCategory, Duty
from grids.services.cases import case_file
from tests.governance.regions_fixture import People, build_people

# The county seat (城关镇) is near 32.26° N, 111.64° E.
NEAR_TOWN = (32.262000, 111.640000)


def categories_make() -> dict[str, CaseCategory]:
    """Two duties with sub-categories, one duty without any (chosen itself), one inactive sub-category."""
    made: dict[str, CaseCategory] = {}

    def top(key: str, duty: str, name: str) -> CaseCategory:
        made[key] = CaseCategory.objects.create(duty=duty, code=f"t-{key}", name=name)
        return made[key]

    def sub(key: str, parent: CaseCategory, name: str, *, active: bool = True) -> None:
        made[key] = CaseCategory.objects.create(
            parent=parent, duty=parent.duty, code=f"s-{key}", name=name, is_active=active
        )

    livelihood = top("livelihood", Duty.LIVELIHOOD_SERVICE, "民生服务")
    sub("road", livelihood, "道路桥梁")
    sub("water", livelihood, "饮水用水")
    sub("old", livelihood, "旧类别", active=False)
    dispute = top("dispute", Duty.DISPUTE_MEDIATION, "矛盾调解")
    sub("neighbour", dispute, "邻里纠纷")
    top("outreach", Duty.POLICY_OUTREACH, "政策宣传")
    return made


def jpeg_bytes(width: int = 800, height: int = 600, colour: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    image = Image.new("RGB", (width, height), colour)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def jpeg_upload(name: str = "IMG_0001.jpg", **kwargs: Any) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_bytes(**kwargs), content_type="image/jpeg")


@dataclass
class FilingWorld:
    people: People
    regions: dict[str, Region]
    categories: dict[str, CaseCategory]
    users: dict[str, Any]


def filing_world(demo_county: dict[str, Region]) -> FilingWorld:
    people = build_people(demo_county)
    User = get_user_model()
    users = {
        u.username: u
        for u in User.objects.filter(
            username__in=[
                "grid_leader",
                "village_secretary",
                "county_admin",
                "township_admin",
                "canteen_manager",
            ]
        )
    }
    return FilingWorld(people=people, regions=people.regions, categories=categories_make(), users=users)


def case_make(
    world: FilingWorld,
    *,
    actor: Any = None,
    category: str = "road",
    grid: str = "第一网格",
    description: str = "村口小桥栏杆断了，老人孩子过桥很危险",
    latitude: float | None = None,
    longitude: float | None = None,
    **kwargs: Any,
) -> Case:
    """A case filed through the real service by the grid leader (or `actor`)."""
    return case_file(
        actor=actor or world.users["grid_leader"],
        idempotency_key=uuid.uuid4().hex,
        category=world.categories[category],
        description=description,
        urgency=kwargs.pop("urgency", "normal"),
        privacy=kwargs.pop("privacy", "public"),
        grid=world.regions[grid],
        latitude=latitude,
        longitude=longitude,
        **kwargs,
    )
