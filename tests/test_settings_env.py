"""Settings come from the environment only."""

import json

from tests.conftest import run_python

DUMP = """
import json, django
django.setup()
from django.conf import settings
from config.celery import app
db = settings.DATABASES["default"]
print(json.dumps({
    "debug": settings.DEBUG,
    "secret_key": settings.SECRET_KEY,
    "allowed_hosts": settings.ALLOWED_HOSTS,
    "engine": db["ENGINE"], "name": str(db["NAME"]),
    "host": db.get("HOST", ""), "port": str(db.get("PORT", "")),
    "conn_max_age": db["CONN_MAX_AGE"],
    "broker": app.conf.broker_url, "eager": app.conf.task_always_eager,
    "cache": settings.CACHES["default"]["BACKEND"],
    "language": settings.LANGUAGE_CODE, "languages": [c for c, _ in settings.LANGUAGES],
    "tz": settings.TIME_ZONE, "use_tz": settings.USE_TZ,
    "ssl_redirect": settings.SECURE_SSL_REDIRECT, "session_secure": settings.SESSION_COOKIE_SECURE,
    "hsts": settings.SECURE_HSTS_SECONDS,
}))
"""


def dump(env: dict[str, str | None]) -> dict:
    result = run_python(DUMP, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_values_come_from_the_environment():
    values = dump(
        {
            "DEBUG": "0",
            "SECRET_KEY": "k" * 10 + "-from-env",
            "ALLOWED_HOSTS": "xiangzhi.gucheng.gov.cn, 10.0.0.5",
            "DATABASE_URL": "postgres://app:pw@db.internal:6543/xiangzhi_prod",
            "REDIS_URL": "redis://cache.internal:6380/2",
            "SECURE_HTTPS": None,
            "CONN_MAX_AGE": None,
        }
    )
    assert values["debug"] is False
    assert values["secret_key"] == "kkkkkkkkkk-from-env"
    assert values["allowed_hosts"] == ["xiangzhi.gucheng.gov.cn", "10.0.0.5"]
    assert values["engine"] == "django.db.backends.postgresql"
    assert (values["name"], values["host"], values["port"]) == ("xiangzhi_prod", "db.internal", "6543")
    assert values["conn_max_age"] == 600
    assert values["broker"] == "redis://cache.internal:6380/2"
    assert values["eager"] is False
    assert values["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert values["language"] == "zh-hans"
    assert values["languages"] == ["zh-hans", "en"]
    assert (values["tz"], values["use_tz"]) == ("Asia/Shanghai", True)
    # HTTPS hardening is on by default whenever DEBUG is off.
    assert (values["ssl_redirect"], values["session_secure"], values["hsts"]) == (True, True, 31536000)


def test_demo_defaults_need_no_services():
    values = dump(
        {
            "DEBUG": "1",
            "SECRET_KEY": None,
            "DATABASE_URL": None,
            "REDIS_URL": None,
            "ALLOWED_HOSTS": None,
            "SECURE_HTTPS": None,
        }
    )
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"].endswith("/demo.sqlite3")
    assert values["conn_max_age"] == 0
    assert values["broker"] == "memory://"
    assert values["eager"] is True
    assert values["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert values["allowed_hosts"] == ["127.0.0.1", "localhost"]
    assert values["secret_key"].startswith("django-insecure-")
    assert (values["ssl_redirect"], values["hsts"]) == (False, 0)


def test_missing_secret_key_with_debug_off_is_refused():
    result = run_python(DUMP, {"DEBUG": "0", "SECRET_KEY": None})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_misspelt_boolean_is_refused():
    result = run_python(DUMP, {"DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr
