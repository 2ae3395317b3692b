"""The community pages: site pages, forms (errors next to the field, input kept, 409 for a duplicate), the
cross-site lists with filters and Excel, the monthly summaries, and the region page's site counts."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from canteens.models import ClassSession, VolunteerHours, WagePayment, WorkshopWorker
from canteens.services import community as services
from governance.models import AuditEvent
from tests.canteens.test_community_world import PASSWORD, CommunityWorld, community_world, key

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county) -> CommunityWorld:
    return community_world(demo_county)


def login(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def _teacher(world: CommunityWorld):
    return services.volunteer_create(
        actor=world.manager,
        idempotency_key=key(),
        site=world.sites["民营社区爱心讲堂"],
        name="李老师",
        phone="13912345678",
        speciality="书法",
    )


def test_classroom_page_and_session_form(world):
    teacher = _teacher(world)
    site = world.sites["民营社区爱心讲堂"]
    client = login("canteen_manager")
    page = client.get(reverse("canteens:classroom", args=[site.pk]))
    assert page.status_code == 200
    assert "民营社区爱心讲堂" in page.content.decode()
    form = client.get(reverse("canteens:session_create", args=[site.pk]))
    body = form.content.decode()
    assert "周小宝" in body
    assert "周小妹" in body
    assert "周芳" not in body
    assert "王小宝" not in body
    post = {
        "idempotency_key": key(),
        "held_on": timezone.localdate().isoformat(),
        "starts": "15:00",
        "ends": "16:00",
        "subject": "书法",
        "teacher": str(teacher.pk),
        "children_count": "1",
        "attendees": [str(world.residents["周小宝"].pk), str(world.residents["周小妹"].pk)],
        "hours": "",
        "notes": "",
    }
    refused = client.post(reverse("canteens:session_create", args=[site.pk]), post)
    assert refused.status_code == 400
    text = refused.content.decode()
    assert 'data-testid="error-attendees"' in text
    assert "登记姓名的儿童（2 人）不能多于到课人数（1 人）。" in text
    assert 'value="书法"' in text  # what was typed is kept
    assert ClassSession.objects.count() == 0
    post["children_count"] = "15"
    saved = client.post(reverse("canteens:session_create", args=[site.pk]), post)
    assert saved.status_code == 302
    assert saved["Location"] == reverse("canteens:classroom", args=[site.pk])
    assert ClassSession.objects.get().children_count == 15
    assert VolunteerHours.objects.get().hours == 1
    # A double tap (same hidden key) writes once.
    client.post(reverse("canteens:session_create", args=[site.pk]), post)
    assert ClassSession.objects.count() == 1
    after = client.get(reverse("canteens:classroom", args=[site.pk])).content.decode()
    assert 'data-metric="child_visits">15<' in after


def test_pages_out_of_scope_are_404_and_readers_see_no_forms(world):
    classroom = world.sites["民营社区爱心讲堂"].pk
    other = login("township_admin")
    assert other.get(reverse("canteens:classroom", args=[classroom])).status_code == 404
    assert other.get(reverse("canteens:session_create", args=[classroom])).status_code == 404
    assert (
        other.get(reverse("canteens:workshop", args=[world.sites["民营社区爱心作坊"].pk])).status_code == 404
    )
    reader = login("minying_secretary")
    page = reader.get(reverse("canteens:classroom", args=[classroom]))
    assert page.status_code == 200
    assert 'data-testid="session-create"' not in page.content.decode()
    assert reader.get(reverse("canteens:session_create", args=[classroom])).status_code == 404
    # A workshop's id on the classroom page: not found.
    manager = login("canteen_manager")
    assert (
        manager.get(reverse("canteens:classroom", args=[world.sites["民营社区爱心作坊"].pk])).status_code
        == 404
    )


def test_worker_form_warns_and_duplicate_wage_is_409_next_to_the_month(world):
    site = world.sites["民营社区爱心作坊"]
    client = login("canteen_manager")
    search = client.get(reverse("canteens:worker_add", args=[site.pk]))
    assert "周芳" in search.content.decode()  # without a search: the township's left-behind women
    found = client.get(reverse("canteens:worker_add", args=[site.pk]), {"q": "周明"})
    assert "周明" in found.content.decode()
    added = client.post(
        reverse("canteens:worker_add", args=[site.pk]) + "?q=周明",
        {"idempotency_key": key(), "resident": str(world.residents["周明"].pk), "joined_on": "2024-03-01"},
        follow=True,
    )
    text = added.content.decode()
    assert "已登记 周明 在本作坊务工。" in text
    assert "周明未标记为留守妇女，已照常登记；如情况属实，请在居民档案中补充标签。" in text
    worker = WorkshopWorker.objects.get()
    last_month = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    wage = {
        "idempotency_key": key(),
        "worker": str(worker.pk),
        "month": f"{last_month:%Y-%m}",
        "pieces": "10",
        "product": "",
        "amount": "1,800.50",
        "paid_on": timezone.localdate().isoformat(),
    }
    first = client.post(reverse("canteens:wage_create", args=[site.pk]), wage)
    assert first.status_code == 302
    assert WagePayment.objects.get().amount_fen == 180050
    wage["idempotency_key"] = key()
    second = client.post(reverse("canteens:wage_create", args=[site.pk]), wage)
    assert second.status_code == 409
    assert 'data-testid="error-month"' in second.content.decode()
    assert (
        f"周明 {last_month.year}年{last_month.month}月的工资已登记，不能重复发放。" in second.content.decode()
    )
    assert WagePayment.objects.count() == 1


def test_lists_filter_and_export_to_excel(world):
    teacher = _teacher(world)
    for day, subject, count in ((1, "作业辅导", 12), (2, "书法", 8)):
        services.session_create(
            actor=world.manager,
            idempotency_key=key(),
            site=world.sites["民营社区爱心讲堂"],
            held_on=timezone.localdate() - dt.timedelta(days=day),
            subject=subject,
            teacher_id=teacher.pk,
            children_count=count,
        )
    client = login("canteen_manager")
    url = reverse("canteens:community_list", args=["sessions"])
    page = client.get(url, {"q": "书法"})
    assert page.status_code == 200
    assert page.content.decode().count('data-testid="community-row"') == 1
    export = client.get(url, {"export": "xlsx"})
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["日期", "时间", "爱心讲堂", "内容", "志愿教师", "到课人数", "登记姓名人数"]
    assert [r[3:6] for r in rows[1:]] == [["作业辅导", "李老师", 12], ["书法", "李老师", 8]]
    # The volunteers' list holds personal data: its export is audited; phones only masked.
    volunteers = client.get(reverse("canteens:community_list", args=["volunteers"]), {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(volunteers.streaming_content))).active
    assert [c.value for c in sheet[2]][:3] == ["李老师", "民营社区", "139****5678"]
    assert AuditEvent.objects.filter(action="export", object_type="canteens.volunteers").count() == 1
    assert client.get(reverse("canteens:community_list", args=["nothing"])).status_code == 404
    services.product_create(
        actor=world.manager,
        idempotency_key=key(),
        site=world.sites["民营社区爱心作坊"],
        name="手工布鞋",
        unit="双",
        piece_rate_fen=250,
    )
    products = client.get(reverse("canteens:community_list", args=["products"]), {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(products.streaming_content))).active
    assert [c.value for c in sheet[2]] == ["手工布鞋", "民营社区爱心作坊", "双", "¥2.50", "是"]
    other = login("township_admin").get(reverse("canteens:community_list", args=["products"]))
    assert other.content.decode().count('data-testid="community-row"') == 0


def test_monthly_summaries_pages(world):
    site = world.sites["民营社区红色驿站"]
    service = services.station_service_create(
        actor=world.manager, idempotency_key=key(), site=site, name="理发"
    )
    services.service_log_record(
        actor=world.manager,
        idempotency_key=key(),
        site=site,
        service_id=service.pk,
        served_on=timezone.localdate(),
        people_served=9,
    )
    client = login("canteen_manager")
    page = client.get(reverse("canteens:community_station_summary"))
    text = page.content.decode()
    assert page.status_code == 200
    assert "民营社区红色驿站" in text
    assert "理发 1 次 9 人" in text
    station = client.get(reverse("canteens:station", args=[site.pk])).content.decode()
    assert 'data-metric="people_served">9<' in station
    workshops = client.get(reverse("canteens:community_workshop_summary"), {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(workshops.streaming_content))).active
    assert [c.value for c in sheet[2]] == ["民营社区爱心作坊", 0, "¥0.00", 0, "¥0.00", 0, 0, "¥0.00", 0]


def test_region_page_lists_livelihood_sites_by_kind(world):
    client = login("county_admin")
    page = client.get(reverse("governance:regions_node", args=[world.regions["石花镇"].pk]))
    text = page.content.decode()
    assert 'data-testid="region-sites"' in text
    assert 'data-metric="sites-classroom">1<' in text
    assert 'data-metric="sites-canteen">0<' in text
    grid = client.get(reverse("governance:regions_node", args=[world.regions["民营第一网格"].pk]))
    assert 'data-testid="region-sites"' not in grid.content.decode()
