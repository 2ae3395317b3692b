"""Reads for duplicates and hotspots: similar open cases suggested while filing, and the recurring
problems (category × grid) a village sees."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, F, FloatField, Max, Q, QuerySet, Sum, Value
from django.db.models.functions import ASin, Cast, Cos, Least, Power, Radians, Sin, Sqrt
from django.utils import timezone

from governance.models import Region
from grids.access import cases_visible
from grids.models import Case, CaseCategory
from grids.workflow import OPEN_STATES

AnyUser = AbstractBaseUser | AnonymousUser

EARTH_RADIUS_M = 6_371_008.8
# How many suggestions a phone screen can show without pushing the form away.
SIMILAR_LIMIT = 5
# Hotspots: the window and how many cases make a problem "recurring".
HOTSPOT_DAYS = 90
HOTSPOT_MIN_CASES = 2
HOTSPOT_LIMIT = 20


def _distance_m(latitude: float, longitude: float) -> object:
    """SQL expression: haversine distance in metres from (latitude, longitude) to the case's point."""
    lat = Radians(Cast("latitude", FloatField()))
    lng = Radians(Cast("longitude", FloatField()))
    lat0 = math.radians(latitude)
    lng0 = math.radians(longitude)
    half_dlat = (lat - Value(lat0)) / Value(2.0)
    half_dlng = (lng - Value(lng0)) / Value(2.0)
    a = Power(Sin(half_dlat), 2) + Value(math.cos(lat0)) * Cos(lat) * Power(Sin(half_dlng), 2)
    # LEAST guards asin against a rounding error just above 1.
    return Value(2.0 * EARTH_RADIUS_M) * ASin(Least(Sqrt(a), Value(1.0)))


def _bounding_box(latitude: float, longitude: float, radius_m: float) -> Q:
    """A lat/lng box around the point that contains the whole circle: a cheap pre-filter."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    cos_lat = max(math.cos(math.radians(latitude)), 1e-6)
    dlng = math.degrees(radius_m / (EARTH_RADIUS_M * cos_lat))
    return Q(
        latitude__gte=Decimal(f"{latitude - dlat:.6f}"),
        latitude__lte=Decimal(f"{latitude + dlat:.6f}"),
        longitude__gte=Decimal(f"{longitude - dlng:.6f}"),
        longitude__lte=Decimal(f"{longitude + dlng:.6f}"),
    )


def similar_open_cases(
    user: AnyUser,
    category: CaseCategory | int,
    grid: Region | int,
    latitude: float | Decimal | None = None,
    longitude: float | Decimal | None = None,
    radius_m: float = 300,
) -> list[Case]:
    """Open cases the user can see with the same category, in the same grid or (when a point is given)
    within `radius_m` metres of it; nearest first, then most supported, then newest; at most
    SIMILAR_LIMIT. Each case carries `distance_m` (float, None without a point on either side).

    One query: a bounding box on latitude/longitude narrows the rows, the haversine formula in SQL
    decides. Only number, status, category, description, me-too count and dates are meant for display:
    the resident is never loaded here.
    """
    category_id = category.pk if isinstance(category, CaseCategory) else int(category)
    grid_id = grid.pk if isinstance(grid, Region) else int(grid)
    cases: QuerySet[Case] = cases_visible(user).filter(category_id=category_id, status__in=OPEN_STATES)
    near = Q(grid_id=grid_id)
    has_point = latitude is not None and longitude is not None
    if has_point:
        lat, lng = float(latitude), float(longitude)  # type: ignore[arg-type]
        cases = cases.annotate(distance_m=_distance_m(lat, lng))
        near |= _bounding_box(lat, lng, radius_m) & Q(distance_m__lte=radius_m)
        order = [F("distance_m").asc(nulls_last=True), F("me_too_count").desc(), F("filed_at").desc()]
    else:
        cases = cases.annotate(distance_m=Value(None, output_field=FloatField()))
        order = [F("me_too_count").desc(), F("filed_at").desc()]
    rows: list[Case] = list(
        cases.filter(near)
        .select_related("category", "grid")
        .only(
            "id",
            "number",
            "status",
            "description",
            "me_too_count",
            "filed_at",
            "grid_id",
            "grid__name",
            "category_id",
            "category__name",
            "latitude",
            "longitude",
        )
        .order_by(*order, "-id")[:SIMILAR_LIMIT]
    )
    return rows


@dataclass(frozen=True)
class Hotspot:
    """A category that keeps coming back in one grid."""

    category_id: int
    category_name: str
    grid_id: int
    grid_name: str
    village_name: str
    case_count: int
    open_count: int
    me_too_count: int
    latest_at: dt.datetime


def recurring_problems(
    user: AnyUser,
    *,
    days: int = HOTSPOT_DAYS,
    min_cases: int = HOTSPOT_MIN_CASES,
    limit: int = HOTSPOT_LIMIT,
    region: Region | None = None,
) -> list[Hotspot]:
    """Category × grid pairs with at least `min_cases` cases filed in the last `days` days among the
    cases the user can see (optionally under `region`), most cases first. One GROUP BY query."""
    since = timezone.now() - dt.timedelta(days=days)
    cases = cases_visible(user).filter(filed_at__gte=since)
    if region is not None:
        cases = cases.filter(grid__path__startswith=region.path)
    rows = (
        cases.order_by()
        .values("category_id", "category__name", "grid_id", "grid__name", "grid__parent__name")
        .annotate(
            case_count=Count("id"),
            open_count=Count("id", filter=Q(status__in=OPEN_STATES)),
            me_too_total=Sum("me_too_count"),
            latest_at=Max("filed_at"),
        )
        .filter(case_count__gte=min_cases)
        .order_by("-case_count", "-open_count", "-latest_at", "category_id", "grid_id")[:limit]
    )
    return [
        Hotspot(
            category_id=row["category_id"],
            category_name=row["category__name"],
            grid_id=row["grid_id"],
            grid_name=row["grid__name"],
            village_name=row["grid__parent__name"] or "",
            case_count=row["case_count"],
            open_count=row["open_count"],
            me_too_count=row["me_too_total"] or 0,
            latest_at=row["latest_at"],
        )
        for row in rows
    ]
