"""API token authentication without the ORM's query building on every request.

DRF's TokenAuthentication reads the token and its user with `select_related("user").get(key=…)`: on a
cheap endpoint the ORM compiling that query costs more than PostgreSQL answering it. Here the same join
runs as a prepared statement (common.db) and the user is built from the row with Model.from_db, exactly
the object the ORM would build. Same answers as DRF's class: 401 for an unknown key or an inactive user.
On databases other than PostgreSQL (the SQLite demo) it is DRF's own implementation.

Also here, the rest of login security (docs/security.md):
- LoginThrottleBackend: django-axes' lock check, for logins that come from a request;
- a locked-out token request answers 429 {code: "login_locked", detail} (LoginLocked);
- token revocation: token_revoke (POST /api/v1/auth/token/revoke/, the admin's user page), and a user's
  tokens are deleted when the password changes or the account is deactivated.
"""

from __future__ import annotations

import functools
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import MinimumLengthValidator
from django.db import connection
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.request import Request

from common.db import execute_prepared


@functools.cache
def _user_columns() -> tuple[list[str], str]:
    """The user model's field names and its quoted columns, built once per process."""
    fields = get_user_model()._meta.concrete_fields
    return [field.attname for field in fields], ", ".join(
        f"u.{connection.ops.quote_name(f.column)}" for f in fields
    )


class FastTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        user_fields = get_user_model()._meta.concrete_fields
        # Model.from_db applies no field converters: a user model with one (an encrypted column, say)
        # goes the ORM's way.
        if connection.vendor != "postgresql" or any(hasattr(f, "from_db_value") for f in user_fields):
            return super().authenticate_credentials(key)
        user_model = get_user_model()
        names, columns = _user_columns()
        sql = (
            f"SELECT t.created, {columns} FROM {Token._meta.db_table} t "  # noqa: S608
            f"JOIN {user_model._meta.db_table} u ON u.id = t.user_id WHERE t.key = %s"
        )
        with connection.cursor() as cursor:
            execute_prepared(cursor, "common_token_user", sql, [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = user_model.from_db(connection.alias, names, row[1:])
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        token = Token(key=key, user=user, created=row[0])
        token._state.adding = False
        token._state.db = connection.alias
        return user, token


# --- Password policy --------------------------------------------------------------------------------------


class PasswordMinimumLengthValidator(MinimumLengthValidator):
    """Django's length rule with its message in Chinese: Django 5.2's new wording of it has no zh_Hans
    translation yet, and the county's staff must read why a password was refused."""

    def get_error_message(self) -> str:
        return gettext("密码太短，至少需要 %(min_length)d 个字符。") % {"min_length": self.min_length}

    def get_help_text(self) -> str:
        return gettext("密码至少需要 %(min_length)d 个字符。") % {"min_length": self.min_length}


# --- Login throttling -------------------------------------------------------------------------------------


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' check (first in AUTHENTICATION_BACKENDS): a username+address pair past the failure
    limit is refused before its password is looked at.

    A login with no request did not come over the network (the test client's login(), a management
    command): there is no address to count against, so it is not throttled, where axes' own class
    raises."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class LoginLocked(exceptions.APIException):
    status_code = 429
    default_code = "login_locked"
    default_detail = _("登录失败次数过多，该账号在本设备上已被锁定，请稍后再试，或联系管理员解锁。")


@receiver(user_locked_out, dispatch_uid="common_login_locked_api")
def _login_locked_api(sender: Any, request: Any = None, **kwargs: Any) -> None:
    """An API login (POST /api/v1/auth/token/) refused by the lock answers 429 {code, detail}.

    axes marks a plain Django request and AxesMiddleware answers for it (common.middleware.
    login_locked_response); DRF's Request wraps the real one, so the API is answered from here."""
    if isinstance(request, Request):
        from common.middleware import login_locked_message

        raise LoginLocked(login_locked_message())


# --- Token revocation ---------------------------------------------------------------------------------


def token_revoke(*, user: Any) -> int:
    """Delete `user`'s API token(s); returns how many. The next request with it answers 401."""
    deleted, _detail = Token.objects.filter(user_id=user.pk).delete()
    return deleted


@receiver(pre_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="common_token_revoke_on_user_change")
def _revoke_tokens_on_credential_change(
    sender: Any, instance: Any, update_fields: Any = None, raw: bool = False, **kwargs: Any
) -> None:
    """A new password or a deactivated account ends every API token the user had: a token is a
    password's stand-in and must not outlive it. (Saving last_login alone is not looked at.)"""
    if raw or instance.pk is None:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return
    before = sender.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if before is None:
        return
    if before["password"] != instance.password or (before["is_active"] and not instance.is_active):
        token_revoke(user=instance)
