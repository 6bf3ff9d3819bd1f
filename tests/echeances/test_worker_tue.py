"""A real Celery worker (its own process, a private Redis queue, the test database) killed with SIGKILL in the middle
of a scan, then restarted: the scan's message comes back (acks_late: it was never acknowledged; Redis gives it
again once its visibility timeout, shortened here to 3 s, has passed) and every reminder is sent exactly once."""

import datetime
import json
import os
import signal
import time

import pytest
import redis
from django.utils import timezone

from comptes.models import Notification
from config.celery import app as celery_app
from demandes.tasks import aac_fins_traitement_rappeler
from tests.factories import DemandeFactory, IndicationFactory, PUIFactory, UtilisateurFactory

NOMBRE = 300  # due grants: 2 reminders each (the prescriber and the PUI's address)
ATTENDUS = 2 * NOMBRE
VISIBILITE = 3  # seconds before Redis hands an unacknowledged message to a worker again
TAILLE_LOT = 10  # 30 batches, each committed on its own: the kill falls between two of them or inside one


@pytest.fixture(autouse=True)
def _media():
    """No settings override here: the worker fixture copies the Celery configuration, which reads Django's settings
    object, and an overridden one exposes its private attributes to that copy."""


def scan_non_acquitte(client: redis.Redis, file: str) -> list[bytes]:
    """The delivery tags of the scan's messages that a worker took from `file` and has not acknowledged (kombu keeps
    them in the "unacked" hash until the ack, and puts them back in the queue after the visibility timeout)."""
    tags = []
    for tag, valeur in client.hgetall("unacked").items():
        message, _echange, routage = json.loads(valeur)
        if routage == file and message["headers"]["task"] == "demandes.tasks.aac_fins_traitement_rappeler":
            tags.append(tag)
    return tags


def attendre(condition, *, limite: float, worker, message: str, pause: float = 0.05):
    fin = time.monotonic() + limite
    while time.monotonic() < fin:
        if condition():
            return
        assert worker.poll() is None, worker.arreter()
        time.sleep(pause)
    pytest.fail(f"{message} (sortie du worker :\n{worker.arreter()})")


@pytest.mark.slow
@pytest.mark.celery_worker
def test_un_worker_tue_pendant_le_lot_puis_relance_envoie_chaque_rappel_une_seule_fois(demarrer_worker, redis_url):
    aujourd_hui = timezone.localdate()
    prescripteur = UtilisateurFactory(prescripteur=True)
    pui = PUIFactory(etablissement=prescripteur.etablissement, email="pui@chu.example")
    indication = IndicationFactory()
    for _ in range(NOMBRE):
        demande = DemandeFactory(octroyee=True, prescripteur=prescripteur, pui=pui, indication=indication)
        demande.decision.date_debut = aujourd_hui - datetime.timedelta(days=200)
        demande.decision.date_fin_traitement = aujourd_hui + datetime.timedelta(days=30)
        demande.decision.save(update_fields=["date_debut", "date_fin_traitement"])

    environnement = {"CELERY_VISIBILITY_TIMEOUT": str(VISIBILITE)}
    premier = demarrer_worker(**environnement)
    celery_app.conf.task_always_eager = False
    file, broker = celery_app.conf.task_default_queue, redis.Redis.from_url(redis_url)
    aac_fins_traitement_rappeler.apply_async(kwargs={"aujourd_hui": aujourd_hui.isoformat(), "taille_lot": TAILLE_LOT})
    livre_vers = time.monotonic()

    # Kill the worker while the scan is half-way: some batches committed, others not yet written.
    def en_cours():
        return 0 < Notification.objects.count() < ATTENDUS // 2

    attendre(en_cours, limite=60, worker=premier, message="le scan n'a pas été surpris en cours", pause=0.005)
    os.kill(premier.processus.pid, signal.SIGKILL)
    premier.processus.wait(timeout=10)
    avant = Notification.objects.count()
    assert 0 < avant < ATTENDUS
    print(f"tué après {avant} rappels sur {ATTENDUS}")
    # The sends of the committed batches wait in the queue behind the scan (one task at a time): none went out.
    assert Notification.objects.filter(envoye_le__isnull=False).count() == 0
    # The scan's message died with the worker, unacknowledged: Redis still holds it for a worker to come.
    [tag] = scan_non_acquitte(broker, file)

    # Restart once the unacknowledged scan is visible again: the new worker takes it back from Redis on start-up.
    time.sleep(max(0.0, livre_vers + VISIBILITE + 1 - time.monotonic()))
    second = demarrer_worker(**environnement)
    celery_app.conf.task_always_eager = False

    def tout_envoye():
        return Notification.objects.filter(envoye_le__isnull=False).count() == ATTENDUS

    attendre(tout_envoye, limite=120, worker=second, message="les rappels n'ont pas tous été envoyés")
    time.sleep(1)  # nothing more arrives afterwards (no second copy of any reminder)
    lignes = list(Notification.objects.values_list("cle", "envoye_le", "tentatives"))
    assert len(lignes) == ATTENDUS
    assert len({cle for cle, _, _ in lignes}) == ATTENDUS
    assert all(cle.startswith("aac-fin-j30:") for cle, _, _ in lignes)
    assert all(envoye is not None and tentatives == 1 for _, envoye, tentatives in lignes)
    # The restarted worker took the same message back (redelivered), finished the scan and acknowledged it: nothing
    # is left in the queue or waiting for an acknowledgement.
    assert scan_non_acquitte(broker, file) == []
    assert not broker.hexists("unacked", tag) and broker.llen(file) == 0
