"""`manage.py check --deploy` is clean under production settings (DEBUG=0, SECURE_HTTPS=1, a real-length
SECRET_KEY, ALLOWED_HOSTS, a PII_KEY) with nothing silenced, and those settings turn on what the
security section promises: HTTPS redirect, HSTS, secure cookies."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT, merged_env

PRODUCTION: dict[str, str | None] = {
    "DEBUG": "0",
    "SECURE_HTTPS": "1",
    "SECRET_KEY": "p7#Qz!v2LmX9@rT4wY8&kN3$hB6^cF1*gJ5(dS0)eA-uI_oP+lK=",
    "ALLOWED_HOSTS": "xiangzhi.gucheng.gov.cn",
    "PII_KEY": "a-separate-long-random-key-for-personal-data-0123456789",
}

READ_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({name: getattr(s, name) for name in (
    "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE", "CSRF_COOKIE_SAMESITE", "SECURE_CONTENT_TYPE_NOSNIFF", "SECURE_REFERRER_POLICY",
    "X_FRAME_OPTIONS", "SECURE_CROSS_ORIGIN_OPENER_POLICY", "SILENCED_SYSTEM_CHECKS", "AXES_ENABLED",
)}))
"""


def run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=ROOT, env=merged_env(PRODUCTION), capture_output=True, text=True, timeout=120, check=False
    )


def test_check_deploy_is_clean_with_nothing_silenced():
    result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def test_production_settings_turn_everything_on():
    result = run([sys.executable, "-c", READ_SETTINGS])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_SAMESITE": "Lax",
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_CROSS_ORIGIN_OPENER_POLICY": "same-origin",
        "SILENCED_SYSTEM_CHECKS": [],
        "AXES_ENABLED": True,
    }
