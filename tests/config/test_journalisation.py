"""Issue 7: structured logs, every line tied to its request by an id that follows it into Celery tasks."""

import io
import json
import logging
import logging.config
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import transaction
from django.http import StreamingHttpResponse

from comptes import audit
from comptes.audit import REQUETE_COURANTE
from comptes.models import Notification
from comptes.services import notification_creer
from config.logging import ID_REQUETE, configuration_journalisation
from config.middleware import RequestIdMiddleware
from tests.factories import UtilisateurFactory

RACINE = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


def _journal(format_journal: str):
    """Install the project's logging configuration writing to a buffer instead of stderr."""
    tampon = io.StringIO()
    configuration = configuration_journalisation(format_journal=format_journal, niveau="INFO")
    configuration["handlers"]["console"]["stream"] = tampon
    logging.config.dictConfig(configuration)
    return tampon


@pytest.fixture
def journal_json(settings):
    """The project's JSON logging for one test; returns a reader of the lines written so far."""
    tampon = _journal("json")
    yield lambda: [json.loads(ligne) for ligne in tampon.getvalue().splitlines()]
    logging.config.dictConfig(settings.LOGGING)


def test_chaque_reponse_porte_un_identifiant_de_requete(client):
    premier = client.get("/")["X-Request-ID"]
    second = client.get("/")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", premier) and re.fullmatch(r"[0-9a-f]{32}", second)
    assert premier != second


def test_l_identifiant_du_proxy_est_repris_s_il_est_sur(client):
    assert client.get("/", HTTP_X_REQUEST_ID="lb-7f3a.42")["X-Request-ID"] == "lb-7f3a.42"
    injecte = client.get("/", HTTP_X_REQUEST_ID="x\nFAUX 200 OK")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", injecte)


def test_journal_json_une_ligne_par_requete_avec_son_identifiant(client, journal_json):
    reponse = client.get("/nexiste-pas/", HTTP_X_REQUEST_ID="essai-404")
    lignes = journal_json()
    acces = [ligne for ligne in lignes if ligne["logger"] == "config.requetes"]
    assert acces == [
        {
            "timestamp": acces[0]["timestamp"],
            "level": "INFO",
            "logger": "config.requetes",
            "message": "GET /nexiste-pas/ 404",
            "request_id": "essai-404",
            "method": "GET",
            "path": "/nexiste-pas/",
            "status": 404,
            "duration_ms": acces[0]["duration_ms"],
        }
    ]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", acces[0]["timestamp"])
    # Django's own warning about the 404, logged after the middleware returned, carries the same id.
    django = [ligne for ligne in lignes if ligne["logger"] == "django.request"]
    assert [(ligne["message"], ligne["request_id"]) for ligne in django] == [("Not Found: /nexiste-pas/", "essai-404")]
    assert reponse["X-Request-ID"] == "essai-404"
    assert ID_REQUETE.get() == "-"  # nothing leaks to what this thread does next


def test_journal_json_avec_la_trace_d_une_exception(journal_json):
    jeton = ID_REQUETE.set("essai-exception")
    try:
        try:
            raise ValueError("valeur inattendue")
        except ValueError:
            logging.getLogger("comptes").exception("Échec de l'envoi", extra={"notification_id": 42})
    finally:
        ID_REQUETE.reset(jeton)
    (ligne,) = [ligne for ligne in journal_json() if ligne["logger"] == "comptes"]
    assert ligne["message"] == "Échec de l'envoi"
    assert ligne["level"] == "ERROR"
    assert ligne["request_id"] == "essai-exception"
    assert ligne["notification_id"] == 42
    assert ligne["exception"].startswith("Traceback") and "ValueError: valeur inattendue" in ligne["exception"]


def test_format_texte_par_defaut_avec_l_identifiant(settings, client):
    assert settings.LOG_FORMAT == "texte"
    tampon = _journal(settings.LOG_FORMAT)
    try:
        client.get("/", HTTP_X_REQUEST_ID="essai-texte")
    finally:
        logging.config.dictConfig(settings.LOGGING)
    assert re.search(r"INFO \[essai-texte\] config\.requetes : GET / 200", tampon.getvalue())


def test_un_format_de_journal_inconnu_arrete_le_demarrage_en_nommant_la_variable():
    env = {**os.environ, "LOG_FORMAT": "xml"}
    resultat = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check"], cwd=RACINE, env=env, capture_output=True, text=True, timeout=120
    )
    assert resultat.returncode != 0
    assert "LOG_FORMAT doit valoir texte ou json (reçu 'xml')" in resultat.stderr


@pytest.mark.celery_worker
def test_l_identifiant_suit_la_requete_dans_la_tache_celery(demarrer_worker):
    # The worker's SMTP server is down: the task logs its failure, in JSON, with the id of the request that
    # queued the email.
    worker = demarrer_worker(
        LOG_FORMAT="json",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT="1",
    )
    jeton = ID_REQUETE.set("essai-celery-7")
    try:
        with transaction.atomic():
            notification = notification_creer(destinataire="pui@chu.example", sujet="Demande transmise", corps="…")
    finally:
        ID_REQUETE.reset(jeton)
    limite = time.monotonic() + 60
    while time.monotonic() < limite and Notification.objects.get(pk=notification.pk).tentatives == 0:
        assert worker.poll() is None, worker.arreter()
        time.sleep(0.2)
    lignes = [json.loads(ligne) for ligne in worker.arreter().splitlines() if ligne.startswith("{")]
    echecs = [ligne for ligne in lignes if ligne["logger"] == "comptes.tasks"]
    assert echecs, lignes
    assert echecs[0]["message"].startswith(f"Échec d'envoi de la notification {notification.pk}")
    assert echecs[0]["request_id"] == "essai-celery-7"


def test_la_requete_n_est_plus_l_auteure_des_ecritures_une_fois_la_reponse_rendue_meme_en_flux(rf):
    """Issue 7: the audit trail attributes a write to the logged-in user of the request being served. A streamed
    body nobody reads to the end never sends request_finished: the middleware forgets the request itself, so a
    later write by the same thread is not attributed to that user."""
    middleware = RequestIdMiddleware(lambda requete: StreamingHttpResponse(iter([b"a", b"b"])))
    requete = rf.get("/referentiel/export.csv")
    requete.user = UtilisateurFactory.build(pk=4242)

    reponse = middleware(requete)

    assert reponse.streaming
    assert REQUETE_COURANTE.get() is None
    assert audit.contexte_courant()[0] == ""
