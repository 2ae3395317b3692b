"""The Playwright harness: Debian's Chromium, headless, with a phone-size and a desktop-size context.

Pages are served by pytest-django's live_server (a real HTTP server on 127.0.0.1 over the test database).
Screenshots of each browser test land in test-artifacts/screenshots/ for people to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}
DESKTOP = {"viewport": {"width": 1366, "height": 900}, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"

# Playwright's sync API runs an event loop in this thread; Django's async-safety check would refuse ORM
# calls made by the fixtures while it runs. The ORM calls here are ordinary synchronous test setup.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is needed for the browser tests: {CHROMIUM} is missing (apt-get install chromium)."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield instance
        instance.close()


def _context(browser, live_server, options):
    # Playwright's wait_for_function evaluates its predicate with eval in the page, which the CSP (no
    # 'unsafe-eval') refuses; tests/security/test_csp_browser.py opens its own tabs with the policy on.
    context = browser.new_context(base_url=live_server.url, bypass_csp=True, **options)
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def phone(browser, live_server):
    context = _context(browser, live_server, PHONE)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desktop(browser, live_server):
    context = _context(browser, live_server, DESKTOP)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot(request):
    """Save a full-page screenshot named after the test: screenshot(page, "step")."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page, step: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{step}.png".replace("/", "_")
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def login(page, username: str, password: str = "xiangzhi-demo") -> None:
    page.goto("/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    # Logging in goes through /start/ (and /points/start/), which redirect to the role's own start page:
    # wait for where the redirects end, so the test's next navigation never races them.
    page.wait_for_url(lambda url: "/login/" not in url and not url.rstrip("/").endswith("start"))
    page.wait_for_load_state("load")
