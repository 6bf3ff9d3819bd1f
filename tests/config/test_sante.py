"""Issue 7: /sante/ tells a load balancer whether the database and the broker answer."""

import time

import pytest
from django.urls import reverse

from config.celery import app as celery_app
from tests.config.conftest import reinitialiser_connexions

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker(settings):
    """Point the Celery app at another broker for one test."""
    ancien = celery_app.conf.broker_url

    def changer(url: str) -> None:
        reinitialiser_connexions()
        celery_app.conf.broker_url = url

    yield changer
    reinitialiser_connexions()
    celery_app.conf.broker_url = ancien


def test_sante_200_quand_base_et_broker_repondent(client):
    reponse = client.get(reverse("sante"))
    assert reponse.status_code == 200
    corps = reponse.json()
    assert corps["statut"] == "ok"
    assert corps["verifications"]["base_de_donnees"]["ok"] is True
    assert corps["verifications"]["broker"] == {
        "ok": True,
        "transport": "filesystem",
        "duree_ms": corps["verifications"]["broker"]["duree_ms"],
    }
    assert "no-store" in reponse["Cache-Control"]


def test_sante_avec_un_vrai_redis(client, broker, redis_url):
    broker(redis_url)
    corps = client.get(reverse("sante")).json()
    assert corps["statut"] == "ok"
    assert corps["verifications"]["broker"]["transport"] == "redis"


def test_sante_503_quand_le_broker_ne_repond_pas_sans_divulguer_l_adresse(client, broker):
    broker("redis://:motdepasse@127.0.0.1:1/0")
    debut = time.monotonic()
    reponse = client.get(reverse("sante"))
    assert time.monotonic() - debut < 5
    assert reponse.status_code == 503
    corps = reponse.json()
    assert corps["statut"] == "indisponible"
    assert corps["verifications"]["base_de_donnees"]["ok"] is True
    assert corps["verifications"]["broker"]["ok"] is False
    assert corps["verifications"]["broker"]["erreur"] == "OperationalError"
    assert "motdepasse" not in reponse.content.decode() and "127.0.0.1" not in reponse.content.decode()


def test_sante_503_quand_le_dossier_du_broker_fichier_a_disparu(client, settings, tmp_path):
    options = celery_app.conf.broker_transport_options
    celery_app.conf.broker_transport_options = {**options, "data_folder_in": str(tmp_path / "absent")}
    try:
        corps = client.get(reverse("sante")).json()
    finally:
        celery_app.conf.broker_transport_options = options
    assert corps["verifications"]["broker"]["erreur"] == "dossier du broker absent ou non inscriptible"


def test_sante_503_quand_la_base_est_injoignable(client, base_injoignable):
    reponse = client.get(reverse("sante"))
    assert reponse.status_code == 503
    verification = reponse.json()["verifications"]["base_de_donnees"]
    assert verification["ok"] is False and verification["erreur"] == "OperationalError"
    base_injoignable.retablir()
    assert client.get(reverse("sante")).status_code == 200


def test_sante_signale_l_absence_de_worker_quand_on_le_demande(client):
    reponse = client.get(reverse("sante"), {"worker": "1"})
    assert reponse.status_code == 503
    assert reponse.json()["verifications"]["worker"]["ok"] is False


@pytest.mark.celery_worker
def test_sante_voit_le_worker_qui_tourne(client, worker_celery):
    limite = time.monotonic() + 60
    while time.monotonic() < limite:
        corps = client.get(reverse("sante"), {"worker": "1"}).json()
        if corps["verifications"]["worker"]["ok"]:
            break
        assert worker_celery.poll() is None, worker_celery.arreter()
    assert corps["statut"] == "ok"
    assert corps["verifications"]["worker"]["workers"] == 1
