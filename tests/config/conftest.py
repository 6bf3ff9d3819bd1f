"""A real Celery worker for the tests of tests/config: its own process, a private Redis queue, the test database."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from kombu import pools

from config.celery import app as celery_app
from tests.conftest import url_base_de_test

RACINE = Path(__file__).resolve().parents[2]


def reinitialiser_connexions():
    """Drop the connection and producer pools so that the next publish uses the broker now configured."""
    # Celery's pools live in kombu's process-wide registry: closing them without clearing it leaves closed pools
    # there for the next test ("Acquire on closed pool").
    pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


class WorkerCelery:
    def __init__(self, processus: subprocess.Popen):
        self.processus = processus
        self.sortie: str | None = None

    def poll(self):
        return self.processus.poll()

    def arreter(self) -> str:
        """Stop the worker (once) and return everything it printed."""
        if self.sortie is None:
            self.processus.terminate()
            try:
                brut, _ = self.processus.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                self.processus.kill()
                brut, _ = self.processus.communicate()
            self.sortie = brut.decode(errors="replace")
        return self.sortie


@pytest.fixture
def demarrer_worker(redis_url, transactional_db):
    """Start `celery worker` (extra environment variables as keyword arguments); always stopped afterwards."""
    file = f"test-{uuid.uuid4().hex[:8]}"
    workers: list[WorkerCelery] = []
    anciens = dict(celery_app.conf)

    def demarrer(**env_supplementaire) -> WorkerCelery:
        env = {
            **os.environ,
            "DATABASE_URL": url_base_de_test(),
            "CELERY_BROKER_URL": redis_url,
            "CELERY_TASK_DEFAULT_QUEUE": file,
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            **env_supplementaire,
        }
        processus = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", file],
            cwd=RACINE,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        workers.append(WorkerCelery(processus))
        reinitialiser_connexions()
        celery_app.conf.update(broker_url=redis_url, task_default_queue=file, task_always_eager=False)
        return workers[-1]

    try:
        yield demarrer
    finally:
        for worker in workers:
            sortie = worker.arreter()
            if os.environ.get("CELERY_TEST_VERBOSE"):
                print(sortie)
        reinitialiser_connexions()
        celery_app.conf.update(broker_url=anciens["broker_url"], task_default_queue=anciens["task_default_queue"])


@pytest.fixture
def worker_celery(demarrer_worker):
    return demarrer_worker()


class PanneBase:
    """Makes PostgreSQL refuse this process's connections: the connection points at a closed port.

    A real connection failure raised by psycopg (not a stand-in) for every query until `retablir()`.
    """

    def __init__(self):
        from django.db import connection

        self.connexion = connection
        self.origine = {"HOST": connection.settings_dict["HOST"], "PORT": connection.settings_dict["PORT"]}

    def couper(self) -> None:
        self.connexion.close()
        self.connexion.settings_dict.update(HOST="127.0.0.1", PORT="1")

    def retablir(self) -> None:
        # No close(): the next request must find its way back by itself (CONN_HEALTH_CHECKS, errors_occurred).
        self.connexion.settings_dict.update(self.origine)


@pytest.fixture
def base_injoignable(transactional_db):
    """PostgreSQL down from the start of the test; restored before pytest-django flushes the database."""
    panne = PanneBase()
    panne.couper()
    yield panne
    panne.connexion.close()
    panne.retablir()
