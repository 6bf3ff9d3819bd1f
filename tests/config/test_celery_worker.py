"""A real Celery worker, in its own process, consumes from Redis and writes to the test database."""

import time

import pytest
from django.db import transaction

from comptes.models import Notification
from comptes.services import notification_creer
from config.celery import app as celery_app


@pytest.mark.celery_worker
def test_une_notification_creee_dans_une_transaction_est_envoyee_par_le_worker_apres_commit(worker_celery):
    celery_app.conf.task_always_eager = False
    with transaction.atomic():
        notification = notification_creer(destinataire="pui@chu.example", sujet="Demande transmise", corps="Bonjour")
    limite = time.monotonic() + 60
    while time.monotonic() < limite:
        notification.refresh_from_db()
        if notification.envoye_le is not None:
            break
        assert worker_celery.poll() is None, worker_celery.arreter()
        time.sleep(0.2)
    assert notification.envoye_le is not None, "le worker n'a pas traité la tâche"
    assert notification.tentatives == 1
    assert Notification.objects.filter(envoye_le__isnull=True).count() == 0
