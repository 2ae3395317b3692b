"""The audit log is append-only in the database itself."""

import pytest
from django.db import DatabaseError, transaction

from governance.audit import audit_record, diff_fields
from governance.models import AuditAction, AuditEvent, User


def test_record_and_refuse_update_and_delete(demo_county, rf):
    admin = User.objects.get(username="county_admin")
    request = rf.get("/", REMOTE_ADDR="10.1.2.3")
    event = audit_record(
        actor=admin,
        action=AuditAction.UPDATE,
        obj=demo_county["新华村"],
        region_path=demo_county["新华村"].path,
        changes=diff_fields({"name": "新华村", "code": "1"}, {"name": "新华村", "code": "2"}),
        request=request,
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.actor_name, stored.object_type, stored.object_repr) == (
        "李华",
        "governance.region",
        "新华村",
    )
    assert stored.changes == {"code": ["1", "2"]}
    assert stored.ip_address == "10.1.2.3"

    with pytest.raises(DatabaseError, match="append-only: UPDATE refused"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(detail="tampered")
    with pytest.raises(DatabaseError, match="append-only: DELETE refused"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).detail == ""


def test_deleting_a_user_keeps_their_audit_entries(demo_county):
    user = User.objects.create(username="temp", full_name="临时")
    event = audit_record(actor=user, action=AuditAction.LOGIN, object_type="session")
    user.delete()
    kept = AuditEvent.objects.get(pk=event.pk)
    assert kept.actor_name == "临时"
