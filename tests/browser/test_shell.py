"""The page shell in a real browser, at phone size and desktop size."""

import pytest

from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded(transactional_db):
    from governance.demo import seed_demo_county

    return seed_demo_county(password="xiangzhi-demo")


def test_grid_leader_logs_in_on_a_phone_and_sees_the_shell(seeded, phone, screenshot):
    phone.goto("/")
    assert phone.url.endswith("/login/?next=/")
    assert phone.locator("h1").inner_text() == "登录乡治"
    screenshot(phone, "login")

    login(phone, "grid_leader")
    # A grid leader's day starts on the phone home of their grid.
    assert phone.url.endswith("/grids/")
    assert phone.locator("h1").inner_text() == "我的网格"
    phone.goto("/")
    assert phone.locator("h1").inner_text() == "王秀英，您好"
    assert phone.locator(".chip").all_inner_texts() == ["百户网格长 · 第一网格"]
    # The page fits the phone: nothing scrolls sideways.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    # On a phone the navigation hides behind the menu button until it is opened.
    nav = phone.locator("nav.nav")
    assert not nav.is_visible()
    phone.get_by_text("菜单").click()
    assert nav.is_visible()
    assert phone.locator("[data-testid=whoami] .whoami__name").inner_text() == "王秀英"
    assert phone.locator("[data-testid=whoami] .whoami__role").inner_text() == "百户网格长 · 第一网格"
    links = nav.locator("a.nav__link").all_inner_texts()
    assert links == ["首页", "组织治理", "网格民情", "百分奖积分", "爱心食堂", "产业发展", "数据看板"]
    screenshot(phone, "menu-open")

    # Every tap target in the menu is at least 44 px high.
    heights = phone.eval_on_selector_all(
        "nav.nav a.nav__link", "els => els.map(e => e.getBoundingClientRect().height)"
    )
    assert min(heights) >= 44

    nav.get_by_role("link", name="爱心食堂").click()
    phone.wait_for_url("**/canteens/")
    assert phone.locator("h1").inner_text() == "爱心食堂与民生阵地"

    phone.get_by_text("菜单").click()
    phone.get_by_test_id("logout").click()
    phone.wait_for_url("**/login/")


def test_wrong_password_shows_the_message_next_to_the_form(seeded, phone, screenshot):
    phone.goto("/login/")
    phone.get_by_label("用户名").fill("grid_leader")
    phone.get_by_label("密码").fill("not-the-password")
    phone.get_by_role("button", name="登录", exact=True).click()
    assert phone.get_by_role("alert").inner_text() == "用户名或密码不正确，请重新输入。注意区分大小写。"
    assert phone.get_by_label("用户名").input_value() == "grid_leader"
    screenshot(phone, "login-error")


def test_desktop_shows_the_navigation_bar_and_switches_language(seeded, desktop, screenshot):
    login(desktop, "county_admin")
    assert desktop.locator("nav.nav").is_visible()
    assert not desktop.locator(".menu__toggle").is_visible()
    assert desktop.locator(".module-card h2").all_inner_texts() == [
        "组织治理",
        "网格民情",
        "百分奖积分",
        "爱心食堂",
        "产业发展",
        "数据看板",
    ]
    screenshot(desktop, "home-zh")

    desktop.get_by_test_id("language-switch").get_by_role("button", name="EN").click()
    desktop.wait_for_load_state()
    assert desktop.locator("html").get_attribute("lang") == "en"
    assert "Points" in desktop.locator("nav.nav").inner_text()
    screenshot(desktop, "home-en")

    desktop.get_by_test_id("language-switch").get_by_role("button", name="中文").click()
    desktop.wait_for_load_state()
    assert desktop.locator("html").get_attribute("lang") == "zh-CN"


def test_not_found_page_in_the_shell(seeded, desktop, screenshot):
    login(desktop, "township_admin")
    response = desktop.goto("/no-such-page/")
    assert response is not None
    assert response.status == 404
    assert desktop.get_by_test_id("error-page").is_visible()
    assert desktop.locator("h1").inner_text() == "页面不存在，或者不在您的管辖范围内。"
    screenshot(desktop, "404")
