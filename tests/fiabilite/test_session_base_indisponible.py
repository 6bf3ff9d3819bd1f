"""Issue 7: a database failure while the session is saved, at the very end of a request, is a clean 503 too.

Django's session backend turns any database error on that save into "session interrupted", a 400 Bad Request:
during a restart of PostgreSQL, clients got a 400 for a request that only had to be retried (found by
test_redemarrage_base). The failure here is real: another connection holds the session's row lock and this one
gives up after a short lock timeout, which PostgreSQL reports as an OperationalError.
"""

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from config.views import MESSAGE_BASE_INDISPONIBLE
from tests.conftest import connecter
from tests.factories import UtilisateurFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def session_verrouillee():
    """Lock a session row from another connection (as a concurrent request stuck mid-save would) until the end."""
    autre = connections.create_connection("default")
    curseur = autre.cursor()
    verrouiller = []

    def verrou(cle: str) -> None:
        curseur.execute("BEGIN")
        curseur.execute("SELECT 1 FROM django_session WHERE session_key = %s FOR UPDATE", [cle])
        verrouiller.append(cle)
        with connection.cursor() as moi:
            moi.execute("SET lock_timeout = '200ms'")

    yield verrou
    if verrouiller:
        curseur.execute("ROLLBACK")
    curseur.close()
    autre.close()
    with connection.cursor() as moi:
        moi.execute("RESET lock_timeout")


@pytest.mark.parametrize(
    ("chemin", "json"), [("comptes:mon_compte", False), ("/api/v1/demandes/", True)], ids=["page", "api"]
)
def test_une_panne_a_l_enregistrement_de_la_session_donne_la_page_503_et_non_une_erreur_400(
    session_verrouillee, chemin, json
):
    navigateur = Client(raise_request_exception=False)
    connecter(navigateur, UtilisateurFactory(prescripteur=True))
    session_verrouillee(navigateur.session.session_key)

    reponse = navigateur.get(chemin if json else reverse(chemin))

    assert reponse.status_code == 503
    assert reponse["Retry-After"] == "30"
    if json:
        assert reponse.json() == {"detail": MESSAGE_BASE_INDISPONIBLE}
    else:
        assert "<h1>Service momentanément indisponible</h1>" in reponse.content.decode()


def test_une_vraie_requete_invalide_reste_une_erreur_400():
    reponse = Client(raise_request_exception=False).get("/", headers={"host": "hote-inconnu.example"})
    assert reponse.status_code == 400
    assert "Bad Request (400)" in reponse.content.decode()
