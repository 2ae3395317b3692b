"""Sending Celery tasks after a commit without losing them when the broker is down.

`send_on_commit(task, *args)` replaces `transaction.on_commit(lambda: task.delay(*args))`. After the
commit it publishes with a short retry (under a second in all, instead of Celery's default ~20 s that
kept a request hanging and then answered 500 although its job had committed); when the broker still does
not answer, the message is written to PendingTask in the database — which just committed, so it is up —
and `pending_tasks_resend` (beat, every minute) sends it once the broker is back. Tasks sent this way
must be safe to deliver twice (they claim their job with a conditional UPDATE): a publish that timed out
may still have arrived.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from celery import current_app
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)

# Three tries within about half a second: a stale pooled connection after Redis restarted is replaced on
# the second; a broker that is down fails fast.
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.3}
# Errors that mean "the broker did not take the message" (redis-py's errors are OSError/ConnectionError
# subclasses; kombu wraps most of them in its OperationalError).
NOT_SENT = (BrokerError, ConnectionError, OSError, TimeoutError)
RESEND_BATCH = 500


def _publish(name: str, args: Sequence[Any]) -> None:
    # ignore_result: nobody reads these results (the job row is the result), and with the Redis result
    # backend send_task would first subscribe to the result channel, which retries 20 × 1 s and then
    # raises RuntimeError (not a broker error) when Redis is down: the request hung ~19 s and answered 500.
    current_app.send_task(name, args=list(args), retry=True, retry_policy=PUBLISH_RETRY, ignore_result=True)


def send(task: Any, *args: Any) -> bool:
    """Publish `task(*args)` now; on a broker failure keep it in PendingTask. True when it was sent."""
    if current_app.conf.task_always_eager:
        # No broker (the SQLite demo): run it in process, as .delay() would.
        task.apply_async(args=list(args))
        return True
    try:
        _publish(task.name, args)
    except NOT_SENT as error:
        from governance.models import PendingTask

        PendingTask.objects.create(task=task.name, args=list(args), last_error=str(error)[:300])
        logger.warning("broker unavailable: %s%s kept for resending (%s)", task.name, tuple(args), error)
        return False
    return True


def send_on_commit(task: Any, *args: Any) -> None:
    """`send(task, *args)` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: send(task, *args))


def resend_pending(limit: int = RESEND_BATCH) -> dict[str, int]:
    """Send the kept messages, oldest first; stop at the first that fails (the broker is still down).
    Rows are locked (SKIP LOCKED) so two beat runs never send one twice."""
    from governance.models import PendingTask

    sent = 0
    with transaction.atomic():
        rows = list(PendingTask.objects.select_for_update(skip_locked=True).order_by("id")[:limit])
        for row in rows:
            try:
                _publish(row.task, row.args)
            except NOT_SENT as error:
                PendingTask.objects.filter(pk=row.pk).update(
                    attempts=row.attempts + 1, last_error=str(error)[:300]
                )
                break
            row.delete()
            sent += 1
    left = PendingTask.objects.count()
    if sent or left:
        logger.info("pending tasks: %d sent, %d left", sent, left)
    return {"sent": sent, "left": left}
