"""The audit log pages and API: scoped (county admin everything, township admin its subtree), searchable,
paginated, exported to Excel (the export itself audited), and never editable."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from governance.audit import audit_record
from governance.models import AuditAction, AuditEvent, User
from tests.governance.export_factories import export_via_pages, response_rows
from tests.governance.roster_factories import media_root  # noqa: F401 (a fixture)


@pytest.fixture
def entries(demo_county) -> dict[str, AuditEvent]:
    assert not AuditEvent.objects.exists()
    county_admin = User.objects.get(username="county_admin")
    township_admin = User.objects.get(username="township_admin")
    xinhua, shihua = demo_county["新华村"], demo_county["石花镇"]
    return {
        "login": audit_record(actor=county_admin, action=AuditAction.LOGIN, object_type="session"),
        "code": audit_record(
            actor=county_admin,
            action=AuditAction.UPDATE,
            obj=xinhua,
            region_path=xinhua.path,
            changes={"code": ["420625100201", "420625100299"]},
            detail="修改新华村的区划代码",
        ),
        "grant": audit_record(
            actor=township_admin,
            action=AuditAction.GRANT,
            obj=demo_county["第一网格"],
            region_path=demo_county["第一网格"].path,
            detail="授予王秀英“百户网格长”角色",
        ),
        "shihua": audit_record(
            actor=county_admin,
            action=AuditAction.EXPORT,
            obj=shihua,
            region_path=shihua.path,
            detail="导出石花镇居民名单",
        ),
    }


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="xiangzhi-demo")
    return client


def page_ids(response) -> list[int]:
    return [event.pk for event in response.context["page"].object_list]


def api_ids(response) -> list[int]:
    assert response.status_code == 200
    return [item["id"] for item in response.json()["results"]]


def test_county_admin_sees_everything_township_admin_its_subtree(entries):
    url = reverse("governance:audit_list")
    api = reverse("v1:governance:audit_event_list")
    everything = [entries[k].pk for k in ("shihua", "grant", "code", "login")]
    cheng_guan = [entries["grant"].pk, entries["code"].pk]

    county = client_for("county_admin")
    assert page_ids(county.get(url)) == everything
    assert api_ids(county.get(api)) == everything
    township = client_for("township_admin")
    assert page_ids(township.get(url)) == cheng_guan
    assert api_ids(township.get(api)) == cheng_guan
    assert township.get(reverse("governance:audit_detail", args=[entries["shihua"].pk])).status_code == 404
    detail_api = reverse("v1:governance:audit_event_detail", args=[entries["shihua"].pk])
    assert township.get(detail_api).status_code == 404
    assert county.get(detail_api).json()["detail"] == "导出石花镇居民名单"

    secretary = client_for("village_secretary")
    assert secretary.get(url).status_code == 403
    assert api_ids(secretary.get(api)) == []
    assert secretary.get(reverse("governance:audit_detail", args=[entries["code"].pk])).status_code == 403
    assert Client().get(url).status_code == 302


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"actor_name": "陈静"}, ["grant"]),
        ({"action": "update"}, ["code"]),
        ({"object_type": "governance.region"}, ["shihua", "grant", "code"]),
        ({"object_type": "session"}, ["login"]),
        ({"q": "区划代码"}, ["code"]),
        ({"q": "石花镇"}, ["shihua"]),
        ({"date_from": "TODAY", "date_to": "TODAY"}, ["shihua", "grant", "code", "login"]),
        ({"date_from": "TOMORROW"}, []),
        ({"date_to": "YESTERDAY"}, []),
        ({"sort": "at"}, ["login", "code", "grant", "shihua"]),
    ],
)
def test_search(entries, query, expected):
    today = timezone.localdate()
    days = {
        "TODAY": today,
        "TOMORROW": today + dt.timedelta(days=1),
        "YESTERDAY": today - dt.timedelta(days=1),
    }
    query = {k: days[v].isoformat() if v in days else v for k, v in query.items()}
    county = client_for("county_admin")
    assert page_ids(county.get(reverse("governance:audit_list"), query)) == [entries[k].pk for k in expected]
    if "sort" not in query:
        api = county.get(reverse("v1:governance:audit_event_list"), query)
        assert api_ids(api) == [entries[k].pk for k in expected]


def test_search_by_object_id_and_actor_id(entries, demo_county):
    county = client_for("county_admin")
    url = reverse("governance:audit_list")
    xinhua_id = str(demo_county["新华村"].pk)
    assert page_ids(county.get(url, {"object_type": "governance.region", "object_id": xinhua_id})) == [
        entries["code"].pk
    ]
    township_admin = User.objects.get(username="township_admin")
    api = county.get(reverse("v1:governance:audit_event_list"), {"actor": township_admin.pk})
    assert api_ids(api) == [entries["grant"].pk]


def test_pagination(demo_county):
    admin_user = User.objects.get(username="county_admin")
    made = [
        audit_record(actor=admin_user, action=AuditAction.LOGIN, object_type="session", detail=f"第{n}次")
        for n in range(60)
    ]
    county = client_for("county_admin")
    first = county.get(reverse("governance:audit_list"))
    second = county.get(reverse("governance:audit_list"), {"page": 2})
    assert first.context["page"].paginator.count == 60
    newest_first = [e.pk for e in reversed(made)]
    assert page_ids(first) == newest_first[:50]
    assert page_ids(second) == newest_first[50:]


@pytest.mark.usefixtures("media_root")
def test_export_is_scoped_filtered_and_audited(entries, demo_county, django_capture_on_commit_callbacks):
    """The export link leads to the export page; the job is made there and the file downloaded from it
    (tests/governance/test_exports.py has the rest)."""
    township = client_for("township_admin")
    job = export_via_pages(
        township,
        reverse("governance:audit_list"),
        {"action": "grant", "export": "xlsx"},
        django_capture_on_commit_callbacks,
    )
    response = township.get(reverse("governance:export_job_download", args=[job.pk]))
    assert response["Content-Disposition"] == f"attachment; filename*=UTF-8''{quote(job.file_name)}"
    assert job.file_name.startswith("审计日志-")
    values = [tuple(row) for row in response_rows(response)]
    assert values[0] == (
        "时间",
        "操作人",
        "操作",
        "对象类型",
        "对象编号",
        "对象",
        "说明",
        "变更内容",
        "IP 地址",
    )
    assert [row[1:8] for row in values[1:]] == [
        (
            "陈静",
            "授权",
            "行政区域",
            str(demo_county["第一网格"].pk),
            "第一网格",
            "授予王秀英“百户网格长”角色",
            "",
        )
    ]
    export = AuditEvent.objects.get(action=AuditAction.EXPORT, object_type="governance.auditevent")
    assert export.actor_name == "陈静"
    assert export.region_path == demo_county["城关镇"].path
    assert export.changes == {"rows": [None, 1], "filters": [None, "action=grant"]}
    assert export.detail == "导出审计日志 1 条（筛选：action=grant）"
    assert export.ip_address == "127.0.0.1"
    download = AuditEvent.objects.get(action=AuditAction.EXPORT, object_type="governance.exportjob")
    assert (download.object_id, download.region_path) == (str(job.pk), demo_county["城关镇"].path)
    # The export and its download show up in the log exported, for the township admin as for the county's.
    exports = [download.pk, export.pk]
    assert page_ids(township.get(reverse("governance:audit_list"), {"action": "export"})) == exports


def test_detail_shows_changes_as_a_table(entries):
    county = client_for("county_admin")
    response = county.get(reverse("governance:audit_detail", args=[entries["code"].pk]))
    assert response.status_code == 200
    assert response.context["rows"] == [{"field": "code", "before": "420625100201", "after": "420625100299"}]
    html = response.content.decode()
    assert '<th scope="row">code</th><td>420625100201</td><td>420625100299</td>' in html
    assert "修改新华村的区划代码" in html


AUDIT_URLS = [
    ("governance:audit_list", []),
    ("governance:audit_detail", ["code"]),
    ("v1:governance:audit_event_list", []),
    ("v1:governance:audit_event_detail", ["code"]),
]


@pytest.mark.parametrize(("name", "args"), AUDIT_URLS)
def test_no_url_edits_the_log(entries, name, args):
    county = client_for("county_admin")
    url = reverse(name, args=[entries[a].pk for a in args])
    assert county.get(url).status_code == 200
    for method in ("post", "put", "patch", "delete"):
        response = getattr(county, method)(url, data={"detail": "改过了"}, content_type="application/json")
        assert response.status_code == 405, (method, url)
    assert AuditEvent.objects.get(pk=entries["code"].pk).detail == "修改新华村的区划代码"
    assert AuditEvent.objects.count() == 4


def test_every_audit_route_is_covered_above_and_the_admin_cannot_edit():
    """A new audit URL must join AUDIT_URLS (and so the 405 test); the Django admin has no audit page."""
    from governance.api import audit as audit_api
    from governance.urls import audit as audit_urls

    names = {f"governance:{p.name}" for p in audit_urls.urlpatterns}
    names |= {f"v1:governance:{p.name}" for p in audit_api.urlpatterns}
    assert names == {name for name, _args in AUDIT_URLS}
    for pattern in audit_api.urlpatterns:
        assert set(pattern.callback.view_class.http_method_names) == {"get", "head", "options"}
    assert AuditEvent not in admin.site._registry
