"""The Celery application. Tasks are discovered in each app's tasks.py.

With REDIS_URL unset, settings make every task run eagerly in-process (the demo needs no services).
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("xiangzhi")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic work. Beat runs django-celery-beat's DatabaseScheduler, which writes these entries into its
# tables every time it starts (so this dict, not /admin/, is where their timing is changed).
app.conf.beat_schedule = {
    # Export files are kept 7 days; an hourly pass deletes each within the hour after that.
    "governance-export-files-expire": {
        "task": "governance.export_files_expire",
        "schedule": crontab(minute=17),
    },
    # Task messages that found the broker down when their transaction committed (common/dispatch.py).
    "governance-pending-tasks-resend": {
        "task": "governance.pending_tasks_resend",
        "schedule": crontab(minute="*"),
    },
    # Case deadlines: yellow/red warnings and supervision (grids.services.deadlines), every 15 minutes.
    "grids-case-deadlines-check": {
        "task": "grids.case_deadlines_check",
        "schedule": crontab(minute="*/15"),
    },
    # The SMS outbox is sent after each commit; this sweep catches what a lost queue message left behind.
    "grids-resident-messages-send": {
        "task": "grids.resident_messages_send",
        "schedule": crontab(minute="*/5"),
    },
    # The points ledger's verification (points.services.ledger_check): a mismatch is an ERROR alert.
    "points-ledger-verify": {
        "task": "points.ledger_verify",
        "schedule": crontab(minute=41),
    },
    # Awards whose public notice has ended with nothing upheld are posted (pending → balance), exactly once.
    "points-awards-post-due": {
        "task": "points.awards_post_due",
        "schedule": crontab(minute="*/15"),
    },
    # Annual clearing of old points on each township's clearing date (idempotent per township and year).
    "points-expire-due": {
        "task": "points.expire_due",
        "schedule": crontab(hour=2, minute=20),
    },
    # The donation funds' verification (canteens.services.funds.fund_verify): a mismatch is an ERROR
    # alert with an audit entry per fund, nightly.
    "canteens-fund-verify": {
        "task": "canteens.fund_verify",
        "schedule": crontab(hour=3, minute=10),
    },
    # Rollups (docs/rollups.md): the incremental pass every 5 minutes; the last 7 days recomputed nightly.
    "governance-rollup-incremental": {
        "task": "governance.rollup_incremental",
        "schedule": crontab(minute="*/5"),
    },
    "governance-rollup-nightly": {
        "task": "governance.rollup_nightly",
        "schedule": crontab(hour=3, minute=25),
    },
    # Every fact against its source rows once the nightly recompute is done; the data-quality panel
    # shows the result (a difference is also logged at ERROR by the task).
    "governance-rollup-verify": {
        "task": "governance.rollup_verify",
        "schedule": crontab(hour=4, minute=20),
    },
    # Photo files whose rows rolled back (common/media.py), nightly.
    "grids-orphan-photos-sweep": {
        "task": "grids.orphan_photos_sweep",
        "schedule": crontab(hour=3, minute=40),
    },
}
