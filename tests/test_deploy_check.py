"""`manage.py check --deploy` passes with production settings."""

import subprocess
import sys

from tests.conftest import ROOT


def test_check_deploy_passes_with_production_settings():
    import os

    env = dict(os.environ)
    env.update(
        DEBUG="0",
        SECRET_KEY="p7#Qz!v2LmX9@rT4wY8&kN3$hB6^cF1*gJ5(dS0)eA-uI_oP+lK=",
        ALLOWED_HOSTS="xiangzhi.gucheng.gov.cn",
        PII_KEY="a-separate-long-random-key-for-personal-data-0123456789",
    )
    env.pop("SECURE_HTTPS", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for Playwright in the test process only
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_warns_without_a_pii_key():
    import os

    env = dict(
        os.environ,
        DEBUG="0",
        SECRET_KEY="p7#Qz!v2LmX9@rT4wY8&kN3$hB6^cF1*gJ5(dS0)eA-uI_oP+lK=",
        ALLOWED_HOSTS="xiangzhi.gucheng.gov.cn",
    )
    env.pop("SECURE_HTTPS", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for Playwright in the test process only
    env.pop("PII_KEY", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "(governance.W001) PII_KEY is not set" in result.stderr
