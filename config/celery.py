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
}
