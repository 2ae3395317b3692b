"""The Content-Security-Policy refuses nothing the pages need: a real browser opens key pages of every
kind (the login page, a signed-in shell, the party pages' tab script, a select that submits its form, the
public points board and its printable poster, the phone filing page, the admin, the dashboard's ECharts)
and fails on any violation — a `securitypolicyviolation` event or a console "Refused to …" line."""

from __future__ import annotations

import pytest

from governance.models import RoleAssignment, User
from governance.roles import Role
from tests.browser_fixtures import DESKTOP, PHONE, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample || ""}`.trim());
});
window.__printed = 0;
window.print = () => { window.__printed += 1; };
"""


@pytest.fixture
def strict_context(browser, live_server):
    """Browser tabs that enforce the policy: bypass_csp off whatever the shared fixtures choose (they may
    bypass it for Playwright's own wait_for_function, which evaluates strings with eval)."""
    contexts = []

    def make(options):
        context = browser.new_context(base_url=live_server.url, bypass_csp=False, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def desktop(strict_context):
    return strict_context(DESKTOP)


@pytest.fixture
def phone(strict_context):
    return strict_context(PHONE)


class Watcher:
    """Collects CSP violations from every page the browser tab shows."""

    def __init__(self, page) -> None:
        self.page = page
        self.console: list[str] = []
        page.add_init_script(WATCH)
        page.on("console", lambda message: self._console(message.text))

    def _console(self, text: str) -> None:
        if "Content Security Policy" in text or text.startswith("Refused to"):
            self.console.append(text)

    def visit(self, url: str) -> None:
        response = self.page.goto(url)
        assert response is not None
        assert response.status == 200, (url, response.status)
        assert "default-src 'self'" in response.headers["content-security-policy"]
        self.page.wait_for_load_state("load")
        self.clean(url)

    def clean(self, where: str) -> None:
        events = self.page.evaluate("window.__cspViolations")
        assert (where, events, self.console) == (where, [], [])


def test_key_pages_run_under_the_policy(demo_county, desktop, phone, screenshot):
    page = Watcher(desktop)
    page.visit("/login/")
    # The watch itself works: an inline style attribute is refused and reported.
    desktop.evaluate(
        "document.body.insertAdjacentHTML('beforeend', '<p id=probe style=\"color: red\">x</p>')"
    )
    desktop.wait_for_timeout(200)
    assert desktop.evaluate("window.__cspViolations") == ["style-src-attr inline"]
    assert desktop.evaluate("getComputedStyle(document.getElementById('probe')).color") != "rgb(255, 0, 0)"
    assert len(page.console) == 1
    assert page.console[0].startswith("Applying inline style violates the following Content Security Policy")
    desktop.evaluate("window.__cspViolations.length = 0")
    page.console.clear()
    login(desktop, "county_admin")
    page.clean("after login")
    for url in ("/", "/governance/audit/", "/admin/", "/admin/governance/user/"):
        page.visit(url)

    # governance/party/_tabs.html's script, now static/js/party-tabs.js: the filters open on a desktop.
    page.visit("/governance/party/")
    assert desktop.get_by_test_id("party-tabs").is_visible()
    assert desktop.evaluate("document.querySelector('details.party-filters')?.open ?? null") in (True, None)

    # The width classes that replaced style="width: N%".
    width = desktop.evaluate(
        """() => { const box = document.createElement('div'); box.style.width = '200px';
        const bar = document.createElement('div'); bar.className = 'w-37'; box.appendChild(bar);
        document.body.appendChild(box); const w = bar.getBoundingClientRect().width; box.remove();
        return w; }"""
    )
    assert width == pytest.approx(74.0)

    # The public board (no login) and its poster's print button (was onclick="window.print()").
    code = demo_county["新华村"].code
    anonymous = Watcher(phone)
    anonymous.visit(f"/points/board/{code}/")
    # A select that submits its form on change (was onchange="this.form.submit()").
    month = phone.locator("select[data-submit-on-change]")
    other = month.locator("option:not([selected])").first.get_attribute("value")
    assert other
    with phone.expect_navigation():
        month.select_option(other)
    assert phone.url.endswith(f"/points/board/{code}/?month={other}")
    anonymous.clean("board after the month select submitted")
    anonymous.visit(f"/points/board/{code}/poster/")
    phone.locator("[data-print-page]").click()
    assert phone.evaluate("window.__printed") == 1
    anonymous.clean("poster after print")
    screenshot(phone, "poster")

    # The grid leader's filing page on a phone (photos previewed from blob: URLs, drafts, search).
    filing = Watcher(phone)
    phone.context.clear_cookies()
    login(phone, "grid_leader")
    filing.visit("/grids/file/")
    screenshot(phone, "filing")


def test_dashboard_charts_under_the_policy(desktop, screenshot):
    from tests.dashboard.test_dashboard_browser import DRAWN
    from tests.dashboard.test_pages import dashboard_world

    made = dashboard_world()
    user = User.objects.create(username="dash_admin", full_name="看板管理员")
    user.set_password("xiangzhi-demo")
    user.save()
    RoleAssignment.objects.create(user=user, role=Role.COUNTY_ADMIN, region=made.county)
    page = Watcher(desktop)
    login(desktop, "dash_admin")
    page.visit("/dashboard/?period=year&year=2026")  # the world's figures are in 2026
    # Polled from here: Playwright's wait_for_function evaluates its predicate with eval, which this
    # policy refuses.
    charts = desktop.evaluate("document.querySelectorAll('[data-chart]').length")
    assert charts >= 2
    for _poll in range(100):
        if desktop.evaluate("document.querySelectorAll('[data-chart] canvas').length") >= charts:
            break
        desktop.wait_for_timeout(100)
    drawn = desktop.evaluate(DRAWN)
    assert len(drawn) == charts
    assert all(pixels > 500 for pixels in drawn), drawn
    desktop.mouse.move(400, 400)
    page.clean("dashboard after drawing")
    screenshot(desktop, "dashboard")
