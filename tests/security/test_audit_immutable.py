"""No one changes the audit log: not through the admin (it has no audit page, superusers included),
not through a page or the API (GET routes only), not with SQL (a PostgreSQL trigger refuses UPDATE and
DELETE on the table: governance/migrations/0003_audit_append_only.py, which drops it on the way back)."""

from __future__ import annotations

import importlib

import pytest
from django.contrib.admin.sites import site
from django.db import DatabaseError, connection, transaction
from django.test import Client
from rest_framework.test import APIClient

from governance.audit import audit_record
from governance.models import AuditAction, AuditEvent, User

TRIGGER = "governance_auditevent_append_only"


@pytest.fixture
def event(demo_county) -> AuditEvent:
    return audit_record(
        actor=User.objects.get(username="county_admin"),
        action=AuditAction.UPDATE,
        obj=demo_county["新华村"],
        region_path=demo_county["新华村"].path,
        changes={"name": ["新华", "新华村"]},
    )


@pytest.fixture
def superuser_client(demo_county) -> Client:
    user = User.objects.get(username="county_admin")
    assert (user.is_superuser, user.is_staff) == (True, True)
    client = Client()
    client.force_login(user)
    return client


def test_admin_has_no_audit_page_even_for_a_superuser(event, superuser_client):
    """Reading is for /governance/audit/, scoped to the reader's regions; the admin has nothing to change."""
    assert AuditEvent not in site._registry
    index = superuser_client.get("/admin/")
    assert index.status_code == 200
    assert "auditevent" not in index.content.decode()
    base = "/admin/governance/auditevent/"
    for url in (base, f"{base}add/", f"{base}{event.pk}/change/", f"{base}{event.pk}/delete/"):
        assert superuser_client.get(url).status_code == 404, url
        assert superuser_client.post(url, {"detail": "tampered", "post": "yes"}).status_code == 404, url
    assert AuditEvent.objects.get(pk=event.pk).detail == ""


def test_pages_are_read_only(event, superuser_client):
    for url in ("/governance/audit/", f"/governance/audit/{event.pk}/"):
        assert superuser_client.get(url).status_code == 200
        for method in ("post", "put", "patch", "delete"):
            assert getattr(superuser_client, method)(url).status_code == 405, (method, url)


def test_api_has_no_write_route(event):
    client = APIClient()
    client.force_authenticate(User.objects.get(username="county_admin"))
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    audit_paths = {path: set(ops) for path, ops in schema["paths"].items() if "audit" in path}
    assert audit_paths == {
        "/api/v1/governance/audit-events/": {"get"},
        "/api/v1/governance/audit-events/{id}/": {"get"},
    }
    for url in ("/api/v1/governance/audit-events/", f"/api/v1/governance/audit-events/{event.pk}/"):
        assert client.get(url).status_code == 200
        for method in ("post", "put", "patch", "delete"):
            response = getattr(client, method)(url, {"detail": "tampered"}, format="json")
            assert response.status_code == 405, (method, url)
            assert response.json()["code"] == "method_not_allowed"
    assert AuditEvent.objects.get(pk=event.pk).detail == ""


def test_database_refuses_update_and_delete_even_in_raw_sql(event):
    table = AuditEvent._meta.db_table
    for sql in (
        f"UPDATE {table} SET detail = 'tampered' WHERE id = %s",  # noqa: S608
        f"DELETE FROM {table} WHERE id = %s",  # noqa: S608
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as c,
        ):
            c.execute(sql, [event.pk])
    event.detail = "tampered"
    with pytest.raises(DatabaseError, match="append-only: UPDATE refused"), transaction.atomic():
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).detail == ""


def test_trigger_is_installed_and_its_migration_reverses(db):
    def triggers() -> list[tuple[str, bool]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tgname, tgenabled = 'O' FROM pg_trigger "
                "WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                [AuditEvent._meta.db_table],
            )
            return cursor.fetchall()

    assert triggers() == [(TRIGGER, True)]
    migration = importlib.import_module("governance.migrations.0003_audit_append_only")
    with transaction.atomic(), connection.schema_editor() as editor:
        migration.drop_trigger(None, editor)
        assert triggers() == []
        migration.create_trigger(None, editor)
    assert triggers() == [(TRIGGER, True)]
