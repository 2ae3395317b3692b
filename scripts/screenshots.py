"""Screenshots of the page shell for people to look at, at phone size and desktop size, in both languages.

Point it at a running server (the demo county must be seeded, password xiangzhi-demo):

    .venv/bin/python scripts/screenshots.py [BASE_URL] [--out DIR]

BASE_URL defaults to http://127.0.0.1:8000 and DIR to test-artifacts/screenshots/ (git-ignored).
Each PNG is named <size>-<language>-<page>.png, e.g. phone-zh-login-error.png. Besides the pictures the
script prints what a reviewer would otherwise have to spot by eye: pages that scroll sideways and, on the
phone, visible tap targets smaller than 44 px. It exits 1 if it found any, so it also serves as a quick check.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

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
SIZES: dict[str, dict[str, Any]] = {
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
    "desktop": {"viewport": {"width": 1366, "height": 900}},
}
# The language is what the header switch stores: a cookie (common/middleware.py reads only the cookie).
LANGUAGE_COOKIE = "xiangzhi_language"
LANGUAGES = {"zh": "zh-hans", "en": "en"}
PASSWORD = "xiangzhi-demo"  # noqa: S105 - the published password of the demo county
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"

# Visible controls a finger has to hit. Links inside running text are not counted.
TAP_TARGETS = "a.btn, a.nav__link, a.module-card, a.brand, button, summary, input:not([type=hidden]), select"
TAP_CHECK = """(selector) => {
  const small = [];
  for (const el of document.querySelectorAll(selector)) {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!box.width || !box.height || style.visibility === 'hidden') continue;
    if (box.height < 44 || box.width < 44) {
      const label = (el.innerText || el.getAttribute('aria-label') || el.name || el.tagName).trim();
      small.push(`${label.slice(0, 30)} ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return small;
}"""


class Shooter:
    def __init__(self, browser: Browser, base_url: str, out: Path) -> None:
        self.browser = browser
        self.base_url = base_url.rstrip("/")
        self.out = out
        self.problems: list[str] = []
        self.saved: list[Path] = []

    def page(self, size: str, language: str) -> Page:
        context = self.browser.new_context(
            base_url=self.base_url, locale="zh-CN", timezone_id="Asia/Shanghai", **SIZES[size]
        )
        context.set_default_timeout(15_000)
        host = self.base_url.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0]
        context.add_cookies(
            [{"name": LANGUAGE_COOKIE, "value": LANGUAGES[language], "domain": host, "path": "/"}]
        )
        return context.new_page()

    def shot(self, page: Page, name: str, *, full_page: bool = True) -> None:
        page.wait_for_load_state("networkidle")
        path = self.out / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        self.saved.append(path)
        viewport = page.viewport_size or {"width": 0}
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > viewport["width"]:
            self.problems.append(f"{name}: scrolls sideways ({scroll_width}px > {viewport['width']}px)")
        # Tap targets matter where there is a finger: phone-size pages only.
        touch = page.evaluate("matchMedia('(pointer: coarse)').matches || navigator.maxTouchPoints > 0")
        for small in page.evaluate(TAP_CHECK, TAP_TARGETS) if touch else []:
            self.problems.append(f"{name}: small tap target {small}")
        print(f"  {path}")

    @staticmethod
    def login(page: Page, username: str, password: str = PASSWORD) -> None:
        page.goto("/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.locator("[data-testid=login-form] button[type=submit]").click()
        page.wait_for_load_state()

    def run(self, size: str, language: str) -> None:
        prefix = f"{size}-{language}"
        page = self.page(size, language)
        page.goto("/login/")
        self.shot(page, f"{prefix}-login")
        self.login(page, "grid_leader", "not-the-password")
        self.shot(page, f"{prefix}-login-error")
        page.context.close()

        for username in ("county_admin", "grid_leader"):
            page = self.page(size, language)
            self.login(page, username)
            self.shot(page, f"{prefix}-home-{username}")
            if size == "phone":
                page.locator(".menu__toggle").click()
                page.locator("nav.nav").wait_for(state="visible")
                self.shot(page, f"{prefix}-menu-open-{username}", full_page=False)
                page.locator(".menu__toggle").click()
            if username == "county_admin":
                page.goto("/m/points/")
                self.shot(page, f"{prefix}-module-points")
                page.goto("/no-such-page/")
                self.shot(page, f"{prefix}-404")
            page.context.close()

        # Signed out, the 404 shows the shell without the menu.
        page = self.page(size, language)
        page.goto("/no-such-page/")
        self.shot(page, f"{prefix}-404-signed-out")
        page.context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("base_url", nargs="?", default="http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory for the PNGs")
    parser.add_argument("--size", choices=sorted(SIZES), action="append", help="only this size (repeatable)")
    parser.add_argument("--lang", choices=sorted(LANGUAGES), action="append", help="only this language")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        shooter = Shooter(browser, args.base_url, args.out)
        try:
            for size in args.size or list(SIZES):
                for language in args.lang or list(LANGUAGES):
                    print(f"{size} / {language}")
                    shooter.run(size, language)
        finally:
            browser.close()

    print(f"{len(shooter.saved)} screenshots in {args.out}")
    for problem in shooter.problems:
        print(f"PROBLEM {problem}")
    return 1 if shooter.problems else 0


if __name__ == "__main__":
    sys.exit(main())
