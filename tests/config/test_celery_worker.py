"""A real Celery worker, in its own process, consumes from Redis and writes to the test database."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import transaction

from comptes.models import Notification
from comptes.services import notification_creer
from config.celery import app as celery_app
from tests.conftest import url_base_de_test

RACINE = Path(__file__).resolve().parents[2]


def _reinitialiser_connexions():
    """Drop the producer pool so that the next publish connects to the broker now configured."""
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
        celery_app._pool = None


@pytest.fixture
def worker_celery(redis_url, transactional_db):
    """Start `celery worker` on a private queue of Redis, against this test database; stop it afterwards."""
    file = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": url_base_de_test(),
        "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_DEFAULT_QUEUE": file,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    processus = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=WARNING", "-Q", file],
        cwd=RACINE,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    anciens = dict(celery_app.conf)
    _reinitialiser_connexions()
    celery_app.conf.update(broker_url=redis_url, task_default_queue=file, task_always_eager=False)
    try:
        yield processus
    finally:
        processus.terminate()
        try:
            sortie, _ = processus.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            processus.kill()
            sortie, _ = processus.communicate()
        _reinitialiser_connexions()
        celery_app.conf.update(broker_url=anciens["broker_url"], task_default_queue=anciens["task_default_queue"])
        if os.environ.get("CELERY_TEST_VERBOSE"):
            print(sortie.decode(errors="replace"))


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
        assert worker_celery.poll() is None, worker_celery.stdout.read().decode(errors="replace")
        time.sleep(0.2)
    assert notification.envoye_le is not None, "le worker n'a pas traité la tâche"
    assert notification.tentatives == 1
    assert Notification.objects.filter(envoye_le__isnull=True).count() == 0
