"""The Celery application: `celery -A relance.tasks.celery worker` / `… beat` in production."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relance.settings")

app = Celery("relance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["relance.tasks"], related_name="cycle")
app.autodiscover_tasks(["relance.tasks"], related_name="imports")
