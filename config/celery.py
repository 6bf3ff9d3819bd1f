"""The Celery application: tasks are one more interface onto the apps' services."""

import os
import sys

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
if "celery" in os.path.basename(os.path.dirname(sys.argv[0])) + os.path.basename(sys.argv[0]):
    # Batches in workers may run longer than a web request (the task time limit still bounds them).
    os.environ.setdefault("DB_STATEMENT_TIMEOUT_MS", "300000")

app = Celery("referentiel_ad")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
