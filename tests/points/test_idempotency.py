# ruff: noqa: F811, PT018, PT012 -- the points_world fixture is imported by name; compact exact checks
"""common.idempotency: replay with the same body → the first result, another body → 409, a concurrent
twin → one effect."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, transaction
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory, force_authenticate

from common.errors import Conflict, DomainError
from common.idempotency import (
    body_fingerprint,
    idempotency_begin,
    idempotency_finish,
    idempotent_api_call,
)
from common.models import IdempotencyRecord
from points.models import LedgerTransaction
from tests.points.factories import key_new, points_give, points_world, points_world_make  # noqa: F401


def test_fingerprint_is_canonical_and_ignores_the_key():
    one = body_fingerprint({"a": 1, "b": [1, 2], "idempotency_key": "k1"})
    assert one == body_fingerprint({"b": [1, 2], "a": 1, "idempotency_key": "k2"})
    assert one != body_fingerprint({"a": 2, "b": [1, 2]})
    assert len(one) == 64


def _give_once(world, actor, key: str, points: int) -> int:
    """Give points exactly once per key; returns the ledger transaction id (the first one on a replay)."""
    with transaction.atomic():
        replay = idempotency_begin(
            actor=actor, scope="test.give", key=key, fingerprint=body_fingerprint({"points": points})
        )
        if replay is not None:
            return int(replay.response["transaction"])
        entry = points_give(world, "王家", points, actor=actor)
        idempotency_finish(
            actor=actor, scope="test.give", key=key, status_code=201, response={"transaction": entry.pk}
        )
        return entry.pk


@pytest.mark.django_db
def test_replay_same_body_returns_first_result_other_body_409(points_world):
    actor = points_world.users["township_admin"]
    key = key_new()
    first = _give_once(points_world, actor, key, 10)
    assert _give_once(points_world, actor, key, 10) == first
    with pytest.raises(Conflict) as reused:
        _give_once(points_world, actor, key, 11)
    assert (reused.value.code, reused.value.status) == ("idempotency_key_reused", 409)
    assert LedgerTransaction.objects.count() == 1
    assert points_world.account("王家").balance == 10
    record = IdempotencyRecord.objects.get(key=key)
    assert (record.status_code, record.response, record.scope) == (201, {"transaction": first}, "test.give")
    # The same key by another user, or in another scope, is another request.
    assert _give_once(points_world, points_world.users["county_admin"], key, 10) != first


@pytest.mark.django_db
def test_failed_write_leaves_the_key_free(points_world):
    actor = points_world.users["township_admin"]
    key = key_new()
    with pytest.raises(DomainError), transaction.atomic():
        idempotency_begin(actor=actor, scope="test.give", key=key, fingerprint="f")
        raise DomainError("boom", "失败")
    assert not IdempotencyRecord.objects.filter(key=key).exists()
    assert _give_once(points_world, actor, key, 5) > 0


@pytest.mark.django_db
def test_refusals(points_world):
    actor = points_world.users["township_admin"]
    with transaction.atomic():
        with pytest.raises(DomainError) as missing:
            idempotency_begin(actor=actor, scope="s", key="  ", fingerprint="f")
        assert missing.value.code == "idempotency_key_missing"
        with pytest.raises(DomainError) as long:
            idempotency_begin(actor=actor, scope="s", key="x" * 65, fingerprint="f")
        assert long.value.code == "idempotency_key_too_long"
        assert idempotency_begin(actor=actor, scope="s", key="k", fingerprint="f") is None
        with pytest.raises(Conflict) as in_progress:
            idempotency_begin(actor=actor, scope="s", key="k", fingerprint="f")
        assert in_progress.value.code == "idempotency_in_progress"


@pytest.mark.django_db
def test_api_helper_replays_the_stored_response(points_world):
    factory = APIRequestFactory()
    actor = points_world.users["township_admin"]
    calls: list[str] = []

    def call(key: str) -> tuple[int, dict]:
        calls.append(key)
        entry = points_give(points_world, "王家", 3, actor=actor)
        return 201, {"transaction": entry.pk}

    def request(body: dict, header: str | None = None) -> Request:
        django_request = factory.post(
            "/x/", body, format="json", **({"HTTP_IDEMPOTENCY_KEY": header} if header else {})
        )
        force_authenticate(django_request, user=actor)
        wrapped = Request(django_request, parsers=[JSONParser()])
        wrapped.user = actor
        return wrapped

    first = idempotent_api_call(request({"points": 3, "idempotency_key": "a1"}), scope="test.api", call=call)
    again = idempotent_api_call(request({"points": 3, "idempotency_key": "a1"}), scope="test.api", call=call)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.data == first.data and again["Idempotent-Replayed"] == "true"
    by_header = idempotent_api_call(request({"points": 3}, header="a1"), scope="test.api", call=call)
    assert by_header.data == first.data
    with pytest.raises(Conflict):
        idempotent_api_call(request({"points": 4}, header="a1"), scope="test.api", call=call)
    assert calls == ["a1"]
    assert points_world.account("王家").balance == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_twin_has_one_effect(demo_county):
    """Two threads send the same key at once; the second blocks on the UNIQUE index until the first
    commits, then answers the first's result."""
    world = points_world_make(demo_county)
    actor = world.users["township_admin"]
    key = key_new()
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def twin() -> None:
        try:
            barrier.wait()
            results.append(_give_once(world, actor, key, 25))
        except BaseException as error:
            errors.append(error)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=twin) for _i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert len(results) == 2 and results[0] == results[1]
    assert LedgerTransaction.objects.count() == 1
    assert world.account("王家").balance == 25
