"""Filing in a real browser at phone size (390×844): (a) a case with a photo shrunk on the device;
(b) filing with the network cut: the page shows "待发送", and when the network returns it sends the
queued submission with the same idempotency key and shows "已提交" — exactly one case on the server.
Screenshots land in test-artifacts/screenshots/."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from grids.models import Case, CasePhoto
from tests.browser_fixtures import DESKTOP, PHONE, login
from tests.grids.filing_factories import case_make, filing_world, jpeg_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(transactional_db):
    from governance.demo import seed_demo_county

    return filing_world(seed_demo_county(password="xiangzhi-demo"))


def fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def choose_category(page, duty: str, name: str) -> None:
    page.locator("[data-duty-tab]", has_text=duty).click()
    page.locator("label.chip-choice", has_text=name).click()


def test_files_a_case_with_a_photo_on_a_phone(world, phone, screenshot, tmp_path):
    photo = tmp_path / "IMG_2041.jpg"
    photo.write_bytes(jpeg_bytes(3000, 2000))
    login(phone, "grid_leader")
    phone.goto("/grids/file/")
    screenshot(phone, "empty")
    fits(phone, 390)

    # The duties come first; a sub-category appears once its duty is chosen.
    assert not phone.locator("label.chip-choice", has_text="道路桥梁").is_visible()
    choose_category(phone, "民生服务", "道路桥梁")
    tile = phone.locator("[data-duty-tab]", has_text="民生服务")
    assert tile.bounding_box()["height"] >= 48
    phone.get_by_label("情况描述").fill("村口小桥栏杆断了，老人孩子过桥很危险")
    phone.set_input_files("[data-photo-input]", str(photo))
    phone.wait_for_selector(".photo-strip__item img")
    phone.locator("[data-resident-query]").fill("王建")
    phone.locator(".resident-search__pick", has_text="王建国 · XH-001").click()
    assert "王建国" in phone.locator("[data-resident-chosen]").inner_text()
    phone.locator("label.segment", has_text="紧急").click()
    phone.locator("label.privacy__option", has_text="匿名").click()
    screenshot(phone, "filled")
    phone.get_by_test_id("filing-submit").click()

    phone.wait_for_selector("[data-testid=outbox] li[data-status=sent]")
    case = Case.objects.get()
    assert case.description == "村口小桥栏杆断了，老人孩子过桥很危险"
    assert case.category == world.categories["road"]
    assert case.resident == world.people.residents["王建国"]
    assert (case.urgency, case.privacy) == ("urgent", "anonymous")
    photo_row = CasePhoto.objects.get()
    assert photo_row.case == case
    # Shrunk on the device to 1600 px on the long side (and re-encoded by the server without metadata).
    assert (photo_row.width, photo_row.height) == (1600, 1067)
    assert f"已提交，编号 {case.number}" in phone.locator("[data-submit-status]").inner_text()
    assert case.number in phone.get_by_test_id("outbox").inner_text()
    # The form is empty again, ready for the next one, with a new idempotency key.
    assert phone.get_by_label("情况描述").input_value() == ""
    assert phone.locator("input[name=idempotency_key]").input_value() != case.idempotency_key
    fits(phone, 390)
    screenshot(phone, "sent")


def test_files_offline_and_sends_once_when_the_network_returns(world, phone, screenshot):
    login(phone, "grid_leader")
    phone.goto("/grids/file/")
    choose_category(phone, "矛盾调解", "邻里纠纷")
    phone.get_by_label("情况描述").fill("两户人家为宅基地边界争吵，需要调解")
    # The draft is kept on the device as the user types: a reload brings it back.
    phone.wait_for_function("document.querySelector('[data-draft-status]').textContent.length > 0")
    phone.reload()
    # The draft comes back from IndexedDB a moment after the page has loaded.
    phone.wait_for_function("document.getElementById('id_description').value !== ''")
    assert phone.get_by_label("情况描述").input_value() == "两户人家为宅基地边界争吵，需要调解"
    assert "已恢复上次没填完的草稿" in phone.locator("[data-submit-status]").inner_text()
    assert phone.locator("input[name=category]:checked").get_attribute("value") == str(
        world.categories["neighbour"].pk
    )
    key = phone.locator("input[name=idempotency_key]").input_value()

    phone.context.set_offline(True)
    phone.get_by_test_id("filing-submit").click()
    pending = phone.locator("[data-testid=outbox] li[data-status=pending]")
    pending.wait_for()
    assert "待发送" in pending.inner_text()
    assert "待发送" in phone.locator("[data-submit-status]").inner_text()
    assert Case.objects.count() == 0
    screenshot(phone, "pending")

    phone.context.set_offline(False)
    sent = phone.locator("[data-testid=outbox] li[data-status=sent]")
    sent.wait_for()
    assert "已提交" in sent.inner_text()
    case = Case.objects.get()
    assert case.idempotency_key == key
    assert case.description == "两户人家为宅基地边界争吵，需要调解"
    assert case.number in sent.inner_text()
    screenshot(phone, "sent")

    # A later page load retries nothing and files nothing more.
    phone.reload()
    phone.locator("[data-testid=outbox] li[data-status=sent]").wait_for()
    phone.wait_for_timeout(300)
    assert Case.objects.count() == 1


def test_a_queued_submission_is_sent_on_the_next_page_load(world, phone):
    login(phone, "grid_leader")
    phone.goto("/grids/file/")
    choose_category(phone, "民生服务", "饮水用水")
    phone.get_by_label("情况描述").fill("三组自来水管爆了，十几户停水")
    phone.context.set_offline(True)
    phone.get_by_test_id("filing-submit").click()
    phone.locator("[data-testid=outbox] li[data-status=pending]").wait_for()
    phone.context.set_offline(False)
    # Whether the `online` event or the reload sends it first, the server files it once.
    phone.goto("/grids/file/")
    phone.locator("[data-testid=outbox] li[data-status=sent]").wait_for()
    phone.wait_for_timeout(500)
    assert Case.objects.count() == 1


def test_out_of_county_location_is_refused_in_the_page(world, browser, live_server):
    context = browser.new_context(
        base_url=live_server.url,
        **PHONE,
        geolocation={"latitude": 39.9042, "longitude": 116.4074},
        permissions=["geolocation"],
    )
    page = context.new_page()
    login(page, "grid_leader")
    page.goto("/grids/file/")
    page.locator("[data-gps-button]").click()
    error = page.locator('[data-error-for="location"]')
    error.wait_for()
    assert "不在谷城县范围内" in error.inner_text()
    assert page.locator("input[name=latitude]").input_value() == ""
    context.set_geolocation({"latitude": 32.2621, "longitude": 111.6402})
    page.locator("[data-gps-button]").click()
    page.wait_for_function("document.querySelector('input[name=latitude]').value !== ''")
    assert page.locator("input[name=latitude]").input_value() == "32.262100"
    assert "已定位" in page.locator("[data-gps-status]").inner_text()
    context.close()


def test_similar_case_is_suggested_and_me_too_counts(world, phone, screenshot):
    existing = case_make(world, actor=world.users["village_secretary"])
    login(phone, "grid_leader")
    phone.goto("/grids/file/")
    choose_category(phone, "民生服务", "道路桥梁")
    item = phone.locator(f"[data-testid=similar-list] [data-case='{existing.pk}']")
    item.wait_for()
    screenshot(phone, "similar")
    item.get_by_role("button", name="我也遇到").click()
    phone.locator(".similar__done").wait_for()
    assert "已附议，共 1 人反映同一问题。" in item.inner_text()
    existing.refresh_from_db()
    assert existing.me_too_count == 1
    assert Case.objects.count() == 1


def test_pages_at_desktop_size(world, desktop, screenshot):
    for text in ("村口小桥栏杆断了", "小桥桥面塌了一块"):
        case_make(world, description=text)
    login(desktop, "grid_leader")
    desktop.goto("/grids/file/")
    choose_category(desktop, "民生服务", "道路桥梁")
    desktop.locator("[data-testid=similar-list]").wait_for()
    fits(desktop, DESKTOP["viewport"]["width"])
    screenshot(desktop, "file")
    desktop.goto("/grids/")
    screenshot(desktop, "home")
    desktop.goto("/grids/hotspots/")
    assert desktop.get_by_test_id("hotspot").count() == 1
    screenshot(desktop, "hotspots")


def test_photo_compression_keeps_orientation_upright(world, phone, tmp_path):
    # A landscape JPEG that the camera stored sideways (EXIF orientation 6): the device draws it upright.
    image = Image.new("RGB", (400, 200), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    path = tmp_path / "sideways.jpg"
    path.write_bytes(out.getvalue())
    login(phone, "grid_leader")
    phone.goto("/grids/file/")
    choose_category(phone, "民生服务", "道路桥梁")
    phone.get_by_label("情况描述").fill("路边电线杆倾斜，有倒下的危险")
    phone.set_input_files("[data-photo-input]", str(path))
    phone.wait_for_selector(".photo-strip__item img")
    phone.get_by_test_id("filing-submit").click()
    phone.wait_for_selector("[data-testid=outbox] li[data-status=sent]")
    photo = CasePhoto.objects.get()
    assert (photo.width, photo.height) == (200, 400)


def test_leader_home_on_a_phone(world, phone, screenshot):
    case_make(world, description="村口小桥栏杆断了")
    login(phone, "grid_leader")
    phone.goto("/grids/")
    cta = phone.get_by_test_id("file-cta")
    assert cta.bounding_box()["height"] >= 56
    assert phone.get_by_test_id("open-case").count() == 1
    fits(phone, 390)
    screenshot(phone, "home")
    cta.click()
    phone.wait_for_url("**/grids/file/")
