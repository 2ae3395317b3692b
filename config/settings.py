"""Settings for Xiangzhi, read from environment variables only (12-factor).

Variables (see README): DATABASE_URL, REDIS_URL, SECRET_KEY, DEBUG, ALLOWED_HOSTS, SECURE_HTTPS,
CSRF_TRUSTED_ORIGINS, CONN_MAX_AGE, DEMO_PASSWORD, PII_KEY, AXES_ENABLED, AXES_FAILURE_LIMIT,
AXES_COOLOFF_MINUTES.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
import drf_spectacular
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """Return the boolean value of an environment variable; an unknown spelling is an error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

# A fixed development key is acceptable only while DEBUG is on; production must set SECRET_KEY.
_DEV_SECRET_KEY = "django-insecure-xiangzhi-development-only-key-do-not-use-in-production"  # noqa: S105 (DEBUG only)
SECRET_KEY = os.environ.get("SECRET_KEY") or (_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_celery_beat",
    "axes",
    "common",
    "governance",
    "grids",
    "points",
    "canteens",
    "industry",
]

# The header middlewares (security, CSP, frame denial) come before WhiteNoise, which answers static files
# without calling what follows it: a static file gets the same headers as a page.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "common.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # PostgreSQL unreachable (a restart, a failover): 503 with a Chinese message (common/db_errors.py).
    "common.db_errors.DatabaseUnavailableMiddleware",
    # Last: it turns a login attempt that axes refused into the lockout answer (common.middleware).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "common.context_processors.shell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------
# PostgreSQL in production and tests; the SQLite file is only the embedded default for `make demo`.
CONN_MAX_AGE = int(os.environ.get("CONN_MAX_AGE", "600"))
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'demo.sqlite3'}",
        conn_max_age=CONN_MAX_AGE,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo serves with several gunicorn workers: take the write lock up front and wait for it
    # instead of failing with "database is locked"; persistent connections buy nothing on a file.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, Celery broker and results --------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "").strip()

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "xiangzhi",
            "TIMEOUT": 300,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# With no REDIS_URL the demo needs no services: tasks run eagerly, in-process, and raise their errors.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Rollups run on their own queue (docs/rollups.md); the compose worker consumes "celery,rollups".
CELERY_TASK_ROUTES = {"governance.rollup_*": {"queue": "rollups"}}
ROLLUP_NIGHTLY_DAYS = int(os.environ.get("ROLLUP_NIGHTLY_DAYS", "7"))

# SMS to residents about their cases (docs/grids.md): a dotted path to a class with
# send(*, phone, text) -> bool. Empty: grids.services.notifications.LoggingGateway (logs, marks sent).
GRIDS_SMS_GATEWAY = os.environ.get("GRIDS_SMS_GATEWAY", "").strip()

# --- Users, roles and permissions -------------------------------------------------------------------------
AUTH_USER_MODEL = "governance.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username+address before any password is checked (django-axes).
    "common.authentication.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# At least 10 characters, not all digits, not a common password, not like the user's own names. Messages
# in Chinese (Django's zh_Hans catalogue; the length rule's own class: tests/security/test_passwords.py).
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "full_name", "first_name", "last_name", "email")},
    },
    {"NAME": "common.authentication.PasswordMinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "landing"
LOGOUT_REDIRECT_URL = "login"
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row; anonymous visitors see nothing scoped

# --- Language, time, formats ------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "xiangzhi_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
# Numbers are grouped explicitly (intcomma, money filters): a global thousand separator would
# also reach ids rendered into URLs and form values.
USE_THOUSAND_SEPARATOR = False

# --- Static files -----------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

# --- HTTPS and cookies ------------------------------------------------------------------------------------
# SECURE_HTTPS defaults to on whenever DEBUG is off. Turn it off only where no TLS is possible
# (the loopback demo, a test client); production sits behind a TLS-terminating proxy.
SECURE_HTTPS = env_bool("SECURE_HTTPS", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = SECURE_HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_HSTS_SECONDS = 31536000 if SECURE_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HTTPS
SECURE_HSTS_PRELOAD = SECURE_HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 3600  # a working day on a shared village office computer
# The CSRF cookie stays readable by the pages' scripts (they send it as X-CSRFToken); SameSite keeps
# other sites' forms from carrying it.
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"


def _inline_style_hash(template: Path) -> str:
    """CSP source allowing the one <style> block of `template`: the last-resort 500 page, which must
    render without static files (common.views.server_error), and Swagger UI's page (drf-spectacular)."""
    match = re.search(r"<style>(.*?)</style>", template.read_text(encoding="utf-8"), re.S)
    if match is None:
        return SELF
    digest = hashlib.sha256(match.group(1).encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


# Content-Security-Policy (django-csp): scripts and styles only from this site's own files, no inline
# script, no inline style attribute (templates use classes; static/css/widths.css sizes the bars), no
# framing. img-src allows data: (ECharts' and the filing page's previews) and blob: (photos picked on a
# phone, shown before upload).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [
            SELF,
            _inline_style_hash(BASE_DIR / "templates" / "500_plain.html"),
            _inline_style_hash(
                Path(drf_spectacular.__file__).parent / "templates" / "drf_spectacular" / "swagger_ui.html"
            ),
        ],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Login throttling (django-axes) -----------------------------------------------------------------------
# AXES_FAILURE_LIMIT wrong passwords for one username from one address lock that pair out for
# AXES_COOLOFF_MINUTES; the login page and POST /api/v1/auth/token/ answer 429 with a Chinese message
# (common.middleware.login_locked_response). An admin unlocks with `manage.py axes_reset_username NAME`
# (or axes_reset for everyone; docs/reliability.md). AXES_ENABLED=0 turns it off. The test
# client's login() has no request and is never counted (common.authentication.LoginThrottleBackend).
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A wrong password during the lock does not extend it: the lock ends AXES_COOLOFF_TIME after it began.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "common.middleware.login_locked_response"
AXES_HTTP_RESPONSE_CODE = 429
# REMOTE_ADDR is already the real client (gunicorn --forwarded-allow-ips, governance.audit.client_ip).
AXES_CLIENT_IP_CALLABLE = "common.middleware.login_client_ip"
AXES_VERBOSE = False

# --- REST API ---------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes an unauthenticated call answer 401, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "common.authentication.FastTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "common.api.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "乡治 Xiangzhi API",
    "DESCRIPTION": "县级党建引领乡村治理平台接口。所有错误以 JSON {code, detail} 返回，detail 为中文说明。",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's assets come from drf-spectacular-sidecar, never from a CDN (intranet deployments).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models call their choice field "kind": name each choice set after its model.
    "ENUM_NAME_OVERRIDES": {
        "RegionKindEnum": "governance.models.regions.RegionKind",
        "WorkKindEnum": "grids.models.worklog.WorkKind",
        "FunderEnum": "canteens.models.meals.Funder",
        "ServiceModeEnum": "canteens.models.meals.ServiceMode",
        "ImportModeEnum": "governance.models.imports.ImportMode",
    },
}

# --- Logging ----------------------------------------------------------------------------------------------
# Every line goes through common.logging.PersonalDataFilter: ID numbers and mobile numbers in a message
# or a traceback are masked (4206**********1234, 138****5678) before anything is written.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"personal_data": {"()": "common.logging.PersonalDataFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["personal_data"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # axes logs every login at INFO (clean-ups, resets); its warnings (failures, locks) are what count.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# --- Personal data ------------------------------------------------------------------------------------------
# Key for ID numbers and phones at rest (governance.pii). Unset: derived from SECRET_KEY (demo only).
PII_KEY = os.environ.get("PII_KEY", "")

# --- Demo ---------------------------------------------------------------------------------------------------
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "xiangzhi-demo")
