"""The Celery application. Tasks are discovered in each app's tasks.py.

With REDIS_URL unset, settings make every task run eagerly in-process (the demo needs no services).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("xiangzhi")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
