"""Helpers shared by the canteens pages (C1's areas)."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from common.errors import DomainError
from common.views import pages as pages

REQUIRED = gettext_lazy("请填写此项。")


def new_key() -> str:
    return uuid.uuid4().hex


def key_field() -> forms.CharField:
    return forms.CharField(widget=forms.HiddenInput, max_length=64)


def form_error(form: forms.Form, error: DomainError) -> None:
    """Show `error` next to its field (or above the form when the field is not on it)."""
    form.add_error(error.field if error.field in form.fields else None, str(error.message))


def int_param(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None
