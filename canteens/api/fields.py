"""Serializer fields the canteens API shares."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


@extend_schema_field({"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "18:00"})
class HourMinuteField(serializers.TimeField):
    """A time of day as "18:00". The schema says so: a plain TimeField is documented as an RFC 3339
    time ("18:00:00"), which "18:00" is not, so clients validating against the schema refused it."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("format", "%H:%M")
        super().__init__(**kwargs)
