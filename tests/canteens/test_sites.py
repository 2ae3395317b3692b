"""The livelihood-site registry: services (create, edit, slots, managers), the gates they use, and the
hub / registry / site pages with exact counts, filters, Excel and scope (another township's site: 404)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from openpyxl import load_workbook
from rest_framework.test import APIClient

from canteens import access
from canteens.models import MealSlot, Site, SiteKind, SiteUserObjectPermission
from canteens.services import sites as services
from common.errors import DomainError, NotFound
from governance.models import AuditAction, AuditEvent
from tests.canteens.factories import PASSWORD, CanteenWorld, canteen_world, key

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county) -> CanteenWorld:
    return canteen_world(demo_county)


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


# --- services -------------------------------------------------------------------------------------------


def test_world_site_has_default_slots_and_masked_phone(world):
    slots = [(s.kind, s.starts, s.ends) for s in MealSlot.objects.filter(site=world.site)]
    assert slots == [
        ("breakfast", dt.time(7, 0), dt.time(8, 30)),
        ("lunch", dt.time(11, 0), dt.time(12, 30)),
        ("dinner", dt.time(17, 0), dt.time(18, 30)),
    ]
    assert world.site.phone_masked == "07107654321"
    assert world.classroom.host_id == world.site.pk
    assert MealSlot.objects.filter(site=world.classroom).count() == 0


def test_site_create_is_exactly_once_and_audited(world):
    k = key()
    kwargs = {
        "actor": world.admin,
        "idempotency_key": k,
        "kind": SiteKind.RED_STATION,
        "name": "民营社区红色驿站",
        "region": world.regions["民营社区"],
        "phone": "13912345678",
    }
    first = services.site_create(**kwargs)
    again = services.site_create(**kwargs)
    assert again.pk == first.pk
    assert Site.objects.filter(name="民营社区红色驿站").count() == 1
    assert first.phone_masked == "139****5678"
    events = AuditEvent.objects.filter(
        object_type="canteens.site", object_id=str(first.pk), action=AuditAction.CREATE
    )
    assert events.count() == 1


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"name": "  "}, "name_required", "name"),
        ({"name": "民营社区爱心食堂"}, "site_duplicate", "name"),
        ({"region_name": "石花镇"}, "site_region_level", "region"),
        ({"kind": "canteen", "host": True}, "host_not_classroom", "host"),
        ({"capacity": "0"}, "bad_capacity", "capacity"),
        ({"phone": "12ab"}, "bad_phone", "phone"),
    ],
)
def test_site_create_refusals(world, change, code, field):
    region = world.regions[change.pop("region_name", "民营社区")]
    kwargs = {"kind": SiteKind.CANTEEN, "name": "新食堂", "region": region}
    if change.pop("host", False):
        kwargs["host"] = world.site
    kwargs.update(change)
    before = Site.objects.count()
    with pytest.raises(DomainError) as raised:
        services.site_create(actor=world.admin, idempotency_key=key(), **kwargs)
    assert (raised.value.code, raised.value.field) == (code, field)
    assert Site.objects.count() == before


def test_site_create_outside_scope_is_not_found(world):
    for username in ("township_admin", "canteen_manager", "minying_secretary"):
        with pytest.raises(NotFound):
            services.site_create(
                actor=world.users[username],
                idempotency_key=key(),
                kind=SiteKind.WORKSHOP,
                name="作坊",
                region=world.regions["民营社区"],
            )


def test_classroom_host_must_be_canteen_of_same_township(world):
    with pytest.raises(DomainError) as raised:
        services.site_create(
            actor=world.users["county_admin"],
            idempotency_key=key(),
            kind=SiteKind.CLASSROOM,
            name="讲堂",
            region=world.regions["民营社区"],
            host=world.other_site,
        )
    assert raised.value.code == "host_other_township"


def test_site_update_keeps_phone_and_audits_changes(world):
    site = services.site_update(
        actor=world.admin, site=world.site, name="民营社区爱心食堂", capacity="80", operator="民营社区居委会"
    )
    assert (site.capacity, site.phone_masked) == (80, "07107654321")
    event = AuditEvent.objects.filter(object_type="canteens.site", action=AuditAction.UPDATE).get()
    assert event.changes == {
        "capacity": [60, 80],
        "address": ["石花镇民营社区服务中心一楼", ""],
        "description": ["为社区 60 岁以上老人提供一日三餐。", ""],
        "opened_on": ["2023-05-01", None],
    }
    with pytest.raises(NotFound):
        services.site_update(actor=world.manager, site=world.site, name="改名")


def test_slot_set_by_manager_and_refusals(world):
    slot = services.slot_set(
        actor=world.manager, site=world.site, kind="lunch", starts=dt.time(11, 30), ends=dt.time(13, 0)
    )
    assert (slot.starts, slot.ends) == (dt.time(11, 30), dt.time(13, 0))
    with pytest.raises(DomainError) as raised:
        services.slot_set(
            actor=world.manager, site=world.site, kind="lunch", starts=dt.time(13), ends=dt.time(12)
        )
    assert raised.value.code == "slot_times"
    with pytest.raises(DomainError):
        services.slot_set(
            actor=world.admin, site=world.classroom, kind="lunch", starts=dt.time(11), ends=dt.time(12)
        )
    with pytest.raises(NotFound):
        services.slot_set(
            actor=world.users["township_admin"],
            site=world.site,
            kind="lunch",
            starts=dt.time(11),
            ends=dt.time(12),
        )


def test_manager_grant_lets_the_cook_run_only_that_site(world):
    cook = world.users["cook"]
    assert access.can_run_site(cook, world.site) is True
    assert access.can_run_site(cook, world.classroom) is False
    assert list(access.sites_visible(cook)) == [world.site]
    assert services.site_manager_grant(actor=world.admin, site=world.site, user=cook) is False
    assert services.site_manager_revoke(actor=world.admin, site=world.site, user=cook) is True
    assert access.can_run_site(cook, world.site) is False
    assert services.site_manager_revoke(actor=world.admin, site=world.site, user=cook) is False
    assert SiteUserObjectPermission.objects.count() == 0
    with pytest.raises(NotFound):
        services.site_manager_grant(actor=world.manager, site=world.site, user=cook)


def test_gates_by_role(world):
    u = world.users
    expected = {
        "county_admin": (True, True),
        "shihua_admin": (True, True),
        "canteen_manager": (True, False),
        "minying_secretary": (False, False),
        "township_admin": (False, False),
        "village_secretary": (False, False),
    }
    for username, (run, setup) in expected.items():
        assert access.can_run_site(u[username], world.site) is run, username
        assert access.can_create_site(u[username], world.site.region.path) is setup, username
    assert access.site_get_visible(u["minying_secretary"], world.site.pk) == world.site
    with pytest.raises(NotFound):
        access.site_get_visible(u["township_admin"], world.site.pk)


def test_who_approves_claims_anywhere(world):
    """can_approve_any_claims: a county or township admin anywhere (城关镇's admin too, though not for this
    canteen: can_approve_claims is the per-site gate); a site's manager, cook or secretary never."""
    from django.contrib.auth.models import AnonymousUser

    u = world.users
    expected = {
        "county_admin": (True, True),
        "shihua_admin": (True, True),
        "township_admin": (True, False),
        "canteen_manager": (False, False),
        "cook": (False, False),
        "minying_secretary": (False, False),
        "village_secretary": (False, False),
    }
    for username, (anywhere, here) in expected.items():
        assert access.can_approve_any_claims(u[username]) is anywhere, username
        assert access.can_approve_claims(u[username], world.site) is here, username
    assert access.can_approve_any_claims(AnonymousUser()) is False
    # The claim list is theirs alone; the hub links it for them only.
    for username, (anywhere, _here) in expected.items():
        client = client_for(username)
        assert client.get("/canteens/claims/").status_code == (200 if anywhere else 404), username
        hub = client.get("/canteens/")
        assert ('data-testid="go-claims"' in hub.content.decode()) is anywhere, username


# --- pages ----------------------------------------------------------------------------------------------


def test_hub_counts_by_kind_and_checkin_links(world):
    response = client_for("county_admin").get("/canteens/")
    assert response.status_code == 200
    counts = {c.kind: c.count for c in response.context["counts"]}
    assert counts == {"canteen": 2, "classroom": 1, "workshop": 0, "red_station": 0}
    response = client_for("shihua_admin").get("/canteens/")
    assert {c.kind: c.count for c in response.context["counts"]} == {
        "canteen": 1,
        "classroom": 1,
        "workshop": 0,
        "red_station": 0,
    }
    manager = client_for("canteen_manager").get("/canteens/")
    assert [s.pk for s in manager.context["runnable"]] == [world.site.pk]
    assert "民营社区爱心食堂" in manager.content.decode()


def test_hub_without_any_site_in_scope_says_so(world):
    answer = client_for("grid_leader").get("/canteens/")
    assert answer.status_code == 200
    assert "您的管辖范围内没有民生阵地。" in answer.content.decode()
    assert 'data-testid="kind-counts"' not in answer.content.decode()


def test_registry_filters_and_excel(world):
    client = client_for("county_admin")
    response = client.get("/canteens/sites/?kind=canteen")
    assert [s.name for s in response.context["rows"]] == ["新华村爱心食堂", "民营社区爱心食堂"] or [
        s.name for s in response.context["rows"]
    ] == ["民营社区爱心食堂", "新华村爱心食堂"]
    shihua = world.regions["石花镇"].pk
    response = client.get(f"/canteens/sites/?township={shihua}")
    assert [s.name for s in response.context["rows"]] == ["民营社区爱心食堂", "民营社区爱心讲堂"]
    assert response.context["rows"][0].enrolled == 3
    response = client.get(f"/canteens/sites/?township={shihua}&village={world.regions['新华村'].pk}")
    assert response.context["filters"]["village"] is None
    export = client.get(f"/canteens/sites/?kind=canteen&township={shihua}&export=xlsx")
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("类型", "名称", "乡镇")
    assert rows[1][:4] == ("爱心食堂", "民营社区爱心食堂", "石花镇", "民营社区")
    assert rows[1][8] == 3
    assert len(rows) == 2
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, object_type="canteens.site").count() == 1


def test_registry_is_scoped(world):
    response = client_for("township_admin").get("/canteens/sites/")
    assert [s.name for s in response.context["rows"]] == ["新华村爱心食堂"]


def test_site_detail_and_other_township_404(world):
    response = client_for("shihua_admin").get(f"/canteens/{world.site.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("07:00–08:30", "民营社区爱心讲堂", "厨师老吴", "赵敏"):
        assert text in html
    assert response.context["enrolled"] == 3
    assert client_for("township_admin").get(f"/canteens/{world.site.pk}/").status_code == 404
    assert client_for("township_admin").get(f"/canteens/{world.site.pk}/edit/").status_code == 404
    assert client_for("canteen_manager").get(f"/canteens/{world.site.pk}/edit/").status_code == 404
    classroom = client_for("minying_secretary").get(f"/canteens/{world.classroom.pk}/")
    assert classroom.status_code == 200
    assert "民营社区爱心食堂" in classroom.content.decode()


def test_site_create_page(world):
    client = client_for("shihua_admin")
    page = client.get("/canteens/sites/new/")
    assert page.status_code == 200
    form_key = page.context["form"].initial["idempotency_key"]
    data = {
        "idempotency_key": form_key,
        "kind": "workshop",
        "region": world.regions["民营社区"].pk,
        "name": "民营社区爱心作坊",
        "capacity": "20",
        "operator": "巧手合作社",
    }
    response = client.post("/canteens/sites/new/", data)
    site = Site.objects.get(name="民营社区爱心作坊")
    assert response.status_code == 302
    assert response["Location"] == f"/canteens/{site.pk}/"
    assert (site.capacity, site.operator, site.kind) == (20, "巧手合作社", "workshop")
    assert client.post("/canteens/sites/new/", data).status_code == 302  # a double tap: one site
    assert Site.objects.filter(name="民营社区爱心作坊").count() == 1
    duplicate = client.post("/canteens/sites/new/", {**data, "idempotency_key": key()})
    assert duplicate.status_code == 200
    assert duplicate.context["form"].errors["name"] == ["该村（社区）已有同名同类阵地。"]
    # Another township's village is not offered.
    other = client.post(
        "/canteens/sites/new/", {**data, "idempotency_key": key(), "region": world.regions["新华村"].pk}
    )
    assert "region" in other.context["form"].errors


def test_site_edit_page_and_grant_revoke(world):
    client = client_for("shihua_admin")
    response = client.post(
        f"/canteens/{world.site.pk}/edit/",
        {"name": "民营社区爱心食堂", "capacity": "70", "operator": "民营社区居委会", "is_active": "on"},
    )
    assert response.status_code == 302
    world.site.refresh_from_db()
    assert (world.site.capacity, world.site.phone_masked) == (70, "07107654321")
    unknown = client.post(f"/canteens/{world.site.pk}/managers/", {"user": "nobody"})
    assert unknown.status_code == 400
    assert unknown.context["grant_form"].errors["user"] == ["没有这个用户名的在用账号。"]
    assert client.post(f"/canteens/{world.site.pk}/managers/", {"user": "grid_leader"}).status_code == 302
    grid_leader = world.users["grid_leader"]
    assert access.can_run_site(grid_leader, world.site) is True
    assert client.post(f"/canteens/{world.site.pk}/managers/{grid_leader.pk}/revoke/").status_code == 302
    assert access.can_run_site(grid_leader, world.site) is False
    other = client_for("township_admin").post(f"/canteens/{world.site.pk}/managers/", {"user": "grid_leader"})
    assert other.status_code == 404


def test_slots_page(world):
    client = client_for("canteen_manager")
    data = {
        "breakfast-starts": "06:30",
        "breakfast-ends": "08:00",
        "breakfast-is_active": "on",
        "lunch-starts": "11:00",
        "lunch-ends": "12:30",
        "lunch-is_active": "on",
        "dinner-starts": "17:00",
        "dinner-ends": "16:00",
    }
    bad = client.post(f"/canteens/{world.site.pk}/slots/", data)
    assert bad.status_code == 200
    assert MealSlot.objects.get(site=world.site, kind="breakfast").starts == dt.time(7, 0)
    data["dinner-ends"] = "18:00"
    assert client.post(f"/canteens/{world.site.pk}/slots/", data).status_code == 302
    slots = {s.kind: (s.starts, s.ends, s.is_active) for s in MealSlot.objects.filter(site=world.site)}
    assert slots == {
        "breakfast": (dt.time(6, 30), dt.time(8, 0), True),
        "lunch": (dt.time(11, 0), dt.time(12, 30), True),
        "dinner": (dt.time(17, 0), dt.time(18, 0), False),
    }
    assert client_for("minying_secretary").get(f"/canteens/{world.site.pk}/slots/").status_code == 404


def png_upload(name: str = "canteen.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (160, 120), (200, 60, 40)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_photos_add_and_delete(world):
    from canteens.models import SitePhoto

    client = client_for("canteen_manager")
    response = client.post(f"/canteens/{world.site.pk}/photos/", {"image": png_upload(), "caption": "餐厅"})
    assert response.status_code == 302
    photo = SitePhoto.objects.get(site=world.site)
    assert photo.caption == "餐厅"
    assert photo.image.name.endswith(".jpg")
    page = client.get(f"/canteens/{world.site.pk}/")
    assert photo.image.url in page.content.decode()
    assert (
        client_for("minying_secretary")
        .post(f"/canteens/{world.site.pk}/photos/{photo.pk}/delete/")
        .status_code
        == 404
    )
    assert client.post(f"/canteens/{world.site.pk}/photos/{photo.pk}/delete/").status_code == 302
    assert SitePhoto.objects.count() == 0
    not_image = client.post(
        f"/canteens/{world.site.pk}/photos/",
        {"image": not_an_image(), "caption": ""},
        follow=True,
    )
    assert "请上传有效的图片文件。" in not_image.content.decode()
    assert SitePhoto.objects.count() == 0


def not_an_image():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("notes.png", b"not an image", content_type="image/png")


# --- the site's phone: a mobile is kept only masked (design.md §3) --------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13912345678", "139****5678"),
        ("139 1234 5678", "139****5678"),
        ("１３９１２３４５６７８", "139****5678"),  # full-width digits, as a Chinese IME types them
        ("+86 139-1234-5678", "139****5678"),
        ("＋８６１３９１２３４５６７８", "139****5678"),
        ("0086 13912345678", "139****5678"),
        ("8613912345678", "139****5678"),
        ("013912345678", "139****5678"),  # the trunk 0 some dial before a mobile
        ("0710-7654321", "07107654321"),  # a landline is the site's public number
        ("（0710）7654321", "07107654321"),
        ("010-12345678", "01012345678"),  # Beijing: a landline, not a mobile behind a trunk 0
        ("", ""),
    ],
)
def test_site_phone_is_stored_masked_however_a_mobile_is_typed(typed, stored):
    assert services.site_phone_clean(typed) == stored


@pytest.mark.parametrize("typed", ["12ab", "٠٧١٠٧٦٥٤٣٢١", "+8671076543", "123456", "0710765432109"])
def test_site_phone_refusals(typed):
    with pytest.raises(DomainError) as raised:
        services.site_phone_clean(typed)
    assert (raised.value.code, raised.value.field) == ("bad_phone", "phone")


def test_a_site_mobile_is_never_shown_in_full_on_pages_api_or_excel(world):
    full = "13912345678"
    client = client_for("shihua_admin")
    page = client.get("/canteens/sites/new/")
    response = client.post(
        "/canteens/sites/new/",
        {
            "idempotency_key": page.context["form"].initial["idempotency_key"],
            "kind": "red_station",
            "region": world.regions["民营社区"].pk,
            "name": "民营社区红色驿站",
            "phone": "＋86 １３９-1234-5678",
        },
    )
    assert response.status_code == 302
    site = Site.objects.get(name="民营社区红色驿站")
    assert site.phone_masked == "139****5678"
    views = {
        "detail": client.get(f"/canteens/{site.pk}/"),
        "edit": client.get(f"/canteens/{site.pk}/edit/"),
        "registry": client.get("/canteens/sites/"),
        "hub": client.get("/canteens/"),
    }
    for name, view in views.items():
        assert view.status_code == 200, name
        assert full not in view.content.decode(), name
    assert "139****5678" in views["detail"].content.decode()
    assert "139****5678" in views["edit"].content.decode()  # "留空则保留原号码 139****5678"
    export = client.get("/canteens/sites/?kind=red_station&export=xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][9] == "联系电话"
    assert [row[9] for row in rows[1:]] == ["139****5678"]
    api = APIClient()
    api.force_authenticate(world.users["shihua_admin"])
    assert api.get(f"/api/v1/canteens/sites/{site.pk}/").json()["phone"] == "139****5678"
    listed = api.get("/api/v1/canteens/sites/?kind=red_station").json()
    assert [row["phone"] for row in listed["results"]] == ["139****5678"]
    # Editing with the phone left blank keeps the masked copy; a new landline replaces it.
    client.post(f"/canteens/{site.pk}/edit/", {"name": "民营社区红色驿站", "is_active": "on"})
    site.refresh_from_db()
    assert site.phone_masked == "139****5678"
    client.post(
        f"/canteens/{site.pk}/edit/", {"name": "民营社区红色驿站", "phone": "0710-7654321", "is_active": "on"}
    )
    site.refresh_from_db()
    assert site.phone_masked == "07107654321"
    # Nor in the audit log.
    for event in AuditEvent.objects.filter(object_type="canteens.site", object_id=str(site.pk)):
        assert full not in str(event.changes) + event.detail


def test_the_data_migration_masks_mobiles_stored_whole(world):
    """canteens 0003: what the earlier cleaning let through whole is masked; landlines and masked
    numbers stay."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("canteens.migrations.0003_site_phones_masked")
    Site.objects.filter(pk=world.site.pk).update(phone_masked="１３９１２３４５６７８")
    Site.objects.filter(pk=world.other_site.pk).update(phone_masked="013912345678")
    Site.objects.filter(pk=world.classroom.pk).update(phone_masked="07107654321")
    migration.mask_stored_mobiles(apps, None)
    stored = dict(
        Site.objects.filter(pk__in=[world.site.pk, world.other_site.pk, world.classroom.pk]).values_list(
            "pk", "phone_masked"
        )
    )
    assert stored == {
        world.site.pk: "139****5678",
        world.other_site.pk: "139****5678",
        world.classroom.pk: "07107654321",
    }
