"""Tasks sent after a commit survive a broker that is down (common/dispatch.py): the message is kept in
PendingTask instead of the request hanging ~20 s and answering 500, and the beat task sends it once the
broker answers. Real Redis on both sides: a Celery app pointed at a port where nothing listens, and the
suite's Redis."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
import redis
from celery import Celery
from django.conf import settings

from common import dispatch
from config.celery import app as real_app
from governance.models import PendingTask
from governance.tasks import export_run, pending_tasks_resend

pytestmark = pytest.mark.django_db(transaction=True)

PROBE = "tests.dispatch_probe"


class Probe:
    name = PROBE


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def broker_down() -> Iterator[None]:
    """The current Celery app publishes to a Redis port where nothing listens."""
    # Broker and result backend both on the dead Redis, as production has them on one Redis: publishing
    # must not first wait on the result channel (it retried 20 × 1 s and raised RuntimeError).
    dead_url = f"redis://127.0.0.1:{_closed_port()}/0"
    dead = Celery("dead-broker", broker=dead_url, backend=dead_url)
    dead.conf.broker_connection_timeout = 1
    dead.set_current()
    try:
        yield
    finally:
        real_app.set_current()


@pytest.fixture
def queue() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    yield client
    _take_probes(client)


def _take_probes(client: redis.Redis) -> list[str]:
    """Remove the probe messages from the default queue; their args."""
    found = []
    queued: list[bytes] = client.lrange("celery", 0, -1)  # type: ignore[assignment]  # a sync client
    for raw in queued:
        message = json.loads(raw)
        if message["headers"].get("task") == PROBE:
            found.append(message["headers"]["argsrepr"])
            client.lrem("celery", 1, raw.decode())
    return found


def test_a_message_the_broker_misses_is_kept_and_sent_when_it_is_back(broker_down, queue):
    assert dispatch.send(Probe(), 7, 8) is False
    assert dispatch.send(Probe(), 9) is False
    kept = list(PendingTask.objects.values_list("task", "args", "attempts"))
    assert kept == [(PROBE, [7, 8], 0), (PROBE, [9], 0)]
    assert PendingTask.objects.exclude(last_error="").count() == 2

    # Still down: the resend stops at the first failure and counts the attempt.
    assert dispatch.resend_pending() == {"sent": 0, "left": 2}
    assert list(PendingTask.objects.values_list("attempts", flat=True)) == [1, 0]

    real_app.set_current()  # the broker is back
    assert pending_tasks_resend.apply().get() == {"sent": 2, "left": 0}
    assert PendingTask.objects.count() == 0
    assert sorted(_take_probes(queue)) == ["[7, 8]", "[9]"]


def test_a_message_sent_while_the_broker_is_up_is_not_kept(queue):
    assert dispatch.send(Probe(), 1) is True
    assert PendingTask.objects.count() == 0
    assert _take_probes(queue) == ["[1]"]


def test_an_export_asked_for_while_the_broker_is_down_is_kept_after_its_commit(broker_down, queue):
    from django.db import transaction

    with transaction.atomic():
        dispatch.send_on_commit(export_run, 41)
        assert PendingTask.objects.count() == 0  # nothing before the commit
    assert list(PendingTask.objects.values_list("task", "args")) == [("governance.export_run", [41])]
