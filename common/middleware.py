from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """Chinese unless the user chose otherwise with the header switch.

    Django's LocaleMiddleware would follow the browser's Accept-Language, so a phone set to English
    would get English pages; the county works in Chinese, so only the language cookie counts.
    """

    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


# --- Login throttling (django-axes; settings AXES_*) ------------------------------------------------------


def login_client_ip(request: HttpRequest) -> str | None:
    """The address a lock is counted against: REMOTE_ADDR, already the real client behind the county's
    proxy (gunicorn --forwarded-allow-ips; governance.audit.client_ip reads the same)."""
    return request.META.get("REMOTE_ADDR") or None


def login_locked_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return _(
        "登录失败次数过多，该账号在本设备上已被锁定 %(minutes)d 分钟。请稍后再试，或联系管理员解锁。"
    ) % {"minutes": minutes}


def login_locked_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """What a locked-out login attempt gets (AXES_LOCKOUT_CALLABLE): JSON {code, detail} under /api/,
    else the login page again with the reason above the form; 429 either way."""
    message = login_locked_message()
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": "login_locked", "detail": message},
            status=429,
            json_dumps_params={"ensure_ascii": False},
        )
    from common.forms import LoginForm

    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = LoginForm(request, initial={"username": username})
    form.cleaned_data = {}  # an unbound form carries the reason as its one error
    form.add_error(None, message)
    return render(
        request,
        "registration/login.html",
        {"form": form, "next": request.POST.get("next", "")},
        status=429,
    )
