"""Registering households and residents exactly once: the pages' hidden key, the API's body field or
Idempotency-Key header, replays by the same actor, independent actors, and a concurrent twin."""

# ruff: noqa: F811  (the people_world fixture is imported, then named as a test argument)

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from common.errors import DomainError
from governance.models import AuditAction, AuditEvent, Household, Resident
from governance.services import people as people_services
from tests.governance.people_factories import born_aged, id_number_for, people_world  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

KEY = "7f3c1b2a9e8d4c5b6a7f8e9d0c1b2a3f"


def page(name: str, *args: object) -> str:
    return reverse(f"governance:{name}", args=args)


def api_url(name: str) -> str:
    return reverse(f"v1:governance:{name}")


def hidden_key(html: str) -> str:
    found = re.search(r'<input type="hidden" name="idempotency_key" value="([0-9a-f]{32})"', html)
    assert found, "the form carries an idempotency key"
    return found.group(1)


def api(world, username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.users[username])
    return client


def created_with(key: str, object_type: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            action=AuditAction.CREATE, object_type=object_type, changes__idempotency_key=[None, key]
        )
    )


# ---------------------------------------------------------------------------------------------------------
# Pages


def test_household_page_double_post_registers_one_household(people_world):
    client = people_world.client("village_secretary")
    grid = people_world.regions["第一网格"]
    key = hidden_key(client.get(page("people_household_create")).content.decode())
    data = {"grid": grid.pk, "number": "XH-010", "address": "新华村七组1号", "idempotency_key": key}
    first = client.post(page("people_household_create"), data)
    again = client.post(page("people_household_create"), data)
    household = Household.objects.get(grid=grid, number="XH-010")
    assert (first.status_code, again.status_code) == (302, 302)
    assert first["Location"] == again["Location"] == page("people_household_detail", household.pk)
    assert Household.objects.filter(number="XH-010").count() == 1
    [event] = created_with(key, "governance.household")
    assert (event.object_id, event.actor_id) == (
        str(household.pk),
        people_world.users["village_secretary"].pk,
    )


def test_household_form_shown_again_with_an_error_keeps_its_key(people_world):
    client = people_world.client("village_secretary")
    grid = people_world.regions["第一网格"]
    refused = client.post(
        page("people_household_create"), {"grid": grid.pk, "number": "XH-001", "idempotency_key": KEY}
    )
    assert refused.status_code == 200
    html = refused.content.decode()
    assert hidden_key(html) == KEY
    assert "“第一网格”已有户号为“XH-001”的户，请换一个户号。" in html
    # The hidden field is not rendered as a labelled field of its own.
    assert 'for="id_idempotency_key"' not in html
    corrected = {"grid": grid.pk, "number": "XH-011", "idempotency_key": KEY}
    first = client.post(page("people_household_create"), corrected)
    again = client.post(page("people_household_create"), corrected)
    household = Household.objects.get(number="XH-011")
    assert first["Location"] == again["Location"] == page("people_household_detail", household.pk)
    assert len(created_with(KEY, "governance.household")) == 1


def test_resident_page_double_post_registers_one_resident(people_world):
    client = people_world.client("grid_leader")
    household = people_world.households["XH-002"]
    key = hidden_key(client.get(page("people_resident_create", household.pk)).content.decode())
    data = {
        "name": "王二妹",
        "id_number": id_number_for(born_aged(8), "F"),
        "relation_to_head": "child",
        "status": "resident",
        "idempotency_key": key,
    }
    first = client.post(page("people_resident_create", household.pk), data)
    # Without the key the second post would be refused: "该身份证号已登记：王二妹…".
    again = client.post(page("people_resident_create", household.pk), data)
    assert (first.status_code, again.status_code) == (302, 302)
    assert first["Location"] == again["Location"] == page("people_household_detail", household.pk)
    resident = Resident.objects.get(name="王二妹")
    assert Resident.objects.filter(household=household).count() == 5
    [event] = created_with(key, "governance.resident")
    assert event.object_id == str(resident.pk)


def test_resident_form_shown_again_keeps_its_key_and_the_edit_form_has_none(people_world):
    client = people_world.client("grid_leader")
    household = people_world.households["XH-002"]
    refused = client.post(
        page("people_resident_create", household.pk),
        {
            "name": "王二妹",
            "id_number": "110105194912310021",
            "relation_to_head": "child",
            "idempotency_key": KEY,
        },
    )
    assert refused.status_code == 200
    assert hidden_key(refused.content.decode()) == KEY
    edit = client.get(page("people_resident_edit", people_world.residents["刘芳"].pk)).content.decode()
    assert 'name="idempotency_key"' not in edit


def test_a_page_key_too_long_is_refused_above_the_form(people_world):
    client = people_world.client("village_secretary")
    grid = people_world.regions["第一网格"]
    response = client.post(
        page("people_household_create"), {"grid": grid.pk, "number": "XH-012", "idempotency_key": "k" * 65}
    )
    assert response.status_code == 200
    assert re.search(r'role="alert"><div><p>防重复提交标识过长。</p>', response.content.decode())
    assert not Household.objects.filter(number="XH-012").exists()


# ---------------------------------------------------------------------------------------------------------
# API


def test_api_household_replay_with_the_body_key_returns_the_same_household(people_world):
    client = api(people_world, "township_admin")
    body = {"grid": people_world.regions["第一网格"].pk, "number": "XH-020", "idempotency_key": KEY}
    first = client.post(api_url("people_household_list"), body, format="json")
    again = client.post(api_url("people_household_list"), body, format="json")
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"] == Household.objects.get(number="XH-020").pk
    assert first.json() == again.json()
    assert len(created_with(KEY, "governance.household")) == 1


def test_api_resident_replay_with_the_header_key_returns_the_same_resident(people_world):
    client = api(people_world, "grid_leader")
    body = {
        "household": people_world.households["XH-002"].pk,
        "name": "王二妹",
        "id_number": id_number_for(born_aged(8), "F"),
        "relation_to_head": "child",
    }
    first = client.post(api_url("people_resident_list"), body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    again = client.post(api_url("people_resident_list"), body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"] == Resident.objects.get(name="王二妹").pk
    assert len(created_with(KEY, "governance.resident")) == 1
    # The body's key wins over the header's: a new body key is a new request (refused as a duplicate).
    other = client.post(
        api_url("people_resident_list"),
        {**body, "idempotency_key": "b" * 32},
        format="json",
        HTTP_IDEMPOTENCY_KEY=KEY,
    )
    assert (other.status_code, other.json()["code"]) == (409, "resident_duplicate")


def test_api_without_a_key_registers_and_then_refuses_the_duplicate(people_world):
    client = api(people_world, "township_admin")
    body = {"grid": people_world.regions["第一网格"].pk, "number": "XH-021"}
    assert client.post(api_url("people_household_list"), body, format="json").status_code == 201
    again = client.post(api_url("people_household_list"), body, format="json")
    assert (again.status_code, again.json()["code"]) == (400, "household_number_taken")
    assert Household.objects.filter(number="XH-021").count() == 1


def test_api_key_too_long_is_refused(people_world):
    client = api(people_world, "township_admin")
    body = {"grid": people_world.regions["第一网格"].pk, "number": "XH-022"}
    in_body = client.post(
        api_url("people_household_list"), {**body, "idempotency_key": "k" * 65}, format="json"
    )
    assert (in_body.status_code, in_body.json()["code"]) == (400, "invalid")
    assert "idempotency_key" in in_body.json()["fields"]
    in_header = client.post(
        api_url("people_household_list"), body, format="json", HTTP_IDEMPOTENCY_KEY="k" * 65
    )
    assert in_header.status_code == 400
    assert in_header.json() == {"code": "idempotency_key_too_long", "detail": "防重复提交标识过长。"}
    assert not Household.objects.filter(number="XH-022").exists()


# ---------------------------------------------------------------------------------------------------------
# Services: actors and object types are independent


def test_different_actors_with_the_same_key_are_independent(people_world):
    grid = people_world.regions["第一网格"]
    township_admin = people_world.users["township_admin"]
    secretary = people_world.users["village_secretary"]
    mine = people_services.household_create(
        actor=township_admin, grid=grid, number="XH-030", idempotency_key=KEY
    )
    theirs = people_services.household_create(
        actor=secretary, grid=grid, number="XH-031", idempotency_key=KEY
    )
    assert mine.pk != theirs.pk
    assert {h.number for h in Household.objects.filter(pk__in=[mine.pk, theirs.pk])} == {"XH-030", "XH-031"}
    # Another actor's replay of the same number is a new request, refused as a duplicate number.
    with pytest.raises(DomainError) as refused:
        people_services.household_create(
            actor=secretary, grid=grid, number="XH-030", idempotency_key="c" * 32
        )
    assert refused.value.code == "household_number_taken"

    household = people_world.households["XH-002"]
    first = people_services.resident_create(
        actor=township_admin,
        household=household,
        name="王二妹",
        id_number=id_number_for(born_aged(8), "F"),
        relation_to_head="child",
        idempotency_key=KEY,
    )
    second = people_services.resident_create(
        actor=secretary,
        household=household,
        name="王三弟",
        id_number=id_number_for(born_aged(6), "M"),
        relation_to_head="child",
        idempotency_key=KEY,
    )
    assert first.pk != second.pk
    assert len(created_with(KEY, "governance.resident")) == 2


def test_one_key_for_a_household_and_a_resident_writes_both(people_world):
    """The replay is looked up per object type: reusing a household's key for a resident is no replay."""
    actor = people_world.users["township_admin"]
    household = people_services.household_create(
        actor=actor, grid=people_world.regions["第一网格"], number="XH-040", idempotency_key=KEY
    )
    resident = people_services.resident_create(
        actor=actor,
        household=household,
        name="陈一",
        id_number=id_number_for(born_aged(40), "M"),
        relation_to_head="self",
        idempotency_key=KEY,
    )
    assert resident.household_id == household.pk
    household.refresh_from_db()
    assert household.head_id == resident.pk


# ---------------------------------------------------------------------------------------------------------
# A concurrent twin


def _twins(call) -> tuple[list[int], list[BaseException]]:
    """Run `call` in two threads released at the same moment; the ids they returned and what they raised."""
    barrier = threading.Barrier(2)
    created: list[int] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            created.append(call().pk)
        except BaseException as failure:  # reported by the caller's assertion
            failures.append(failure)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return created, failures


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_registrations_with_one_key_create_one_household_and_one_resident(people_world):
    """A double tap sends two requests at once: the second waits on the advisory lock of (actor, key),
    then finds the first's entry instead of failing on the number (or ID number) it just took."""
    actor = people_world.users["village_secretary"]
    grid = people_world.regions["第一网格"]
    created, failures = _twins(
        lambda: people_services.household_create(actor=actor, grid=grid, number="XH-050", idempotency_key=KEY)
    )
    assert failures == []
    household = Household.objects.get(number="XH-050")
    assert created == [household.pk, household.pk]
    assert len(created_with(KEY, "governance.household")) == 1

    id_number = id_number_for(born_aged(30), "F")
    created, failures = _twins(
        lambda: people_services.resident_create(
            actor=actor,
            household=household,
            name="陈二",
            id_number=id_number,
            relation_to_head="self",
            idempotency_key=KEY,
        )
    )
    assert failures == []
    resident = Resident.objects.get(household=household)
    assert created == [resident.pk, resident.pk]
    assert len(created_with(KEY, "governance.resident")) == 1
