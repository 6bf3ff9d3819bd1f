"""Issue 7: a broker outage delays emails without losing them. The request that queued them still succeeds; the
outbox keeps them unsent; once the broker is back, the periodic sweep hands them to a real worker, which sends them.
"""

import datetime
import logging
import time

import pytest
import time_machine
from django.utils import timezone

from comptes.models import Notification
from comptes.tasks import notifications_relancer
from config.celery import app as celery_app
from demandes.enums import StatutDemande
from tests.conftest import connecter
from tests.factories import DemandeFactory

from .conftest import reinitialiser_connexions

# Nothing listens on port 1 of the loopback: a real "connection refused", at once.
BROKER_INJOIGNABLE = "redis://127.0.0.1:1/0"


@pytest.fixture
def broker_injoignable():
    anciens = {cle: celery_app.conf[cle] for cle in ("broker_url", "broker_connection_timeout", "task_always_eager")}
    reinitialiser_connexions()
    celery_app.conf.update(broker_url=BROKER_INJOIGNABLE, broker_connection_timeout=1, task_always_eager=False)
    yield
    reinitialiser_connexions()
    celery_app.conf.update(anciens)


@pytest.mark.celery_worker
def test_une_panne_du_broker_retarde_les_courriels_sans_les_perdre(
    client, demarrer_worker, broker_injoignable, caplog
):
    demande = DemandeFactory()
    connecter(client, demande.prescripteur)

    with caplog.at_level(logging.WARNING, logger="comptes.services"):
        reponse = client.post(
            f"/api/v1/demandes/{demande.reference}/transmettre/",
            {"version": demande.version},
            content_type="application/json",
        )

    # The transition succeeded and is committed, although its emails could not be queued.
    assert reponse.status_code == 200, reponse.content
    demande.refresh_from_db()
    assert demande.statut == StatutDemande.TRANSMISE_PHARMACIEN
    en_attente = list(Notification.objects.filter(envoye_le__isnull=True).order_by("pk"))
    assert en_attente and {n.destinataire for n in en_attente} >= {demande.pui.email}
    assert all(n.tentatives == 0 for n in en_attente)
    assert [r.getMessage() for r in caplog.records if "Broker injoignable" in r.getMessage()] == [
        f"Broker injoignable : la notification {n.pk} partira au prochain passage de la relance (OperationalError)"
        for n in en_attente
    ]

    # The broker is back (Redis) with a worker; the sweep, which beat runs every 10 minutes, re-sends them.
    demarrer_worker()
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=6), tick=True):
        assert notifications_relancer() == len(en_attente)

    limite = time.monotonic() + 60
    while time.monotonic() < limite and Notification.objects.filter(envoye_le__isnull=True).exists():
        time.sleep(0.2)
    envoyees = list(Notification.objects.filter(pk__in=[n.pk for n in en_attente]).order_by("pk"))
    assert [(n.envoye_le is not None, n.tentatives, n.derniere_erreur) for n in envoyees] == [(True, 1, "")] * len(
        en_attente
    )
