"""Issue 7: when PostgreSQL is down, every page answers a clean 503 (design-system page, JSON for the API), never a
trace, writes nothing, and the service recovers by itself once the database is back."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from config.views import MESSAGE_BASE_INDISPONIBLE
from tests.conftest import connecter
from tests.factories import UtilisateurFactory


@pytest.fixture
def navigateur():
    # The default test client re-raises any exception that reached Django's handler; a browser sees the response.
    return Client(raise_request_exception=False)


def _page_503(reponse) -> str:
    html = reponse.content.decode()
    assert reponse.status_code == 503
    assert reponse["Retry-After"] == "30"
    assert "<h1>Service momentanément indisponible</h1>" in html
    assert 'class="fr-header"' in html and 'class="fr-footer"' in html
    assert "Traceback" not in html and "OperationalError" not in html
    return html


def test_une_page_publique_repond_503_dans_le_systeme_de_design(navigateur, base_injoignable):
    reponse = navigateur.get("/")
    html = _page_503(reponse)
    assert f'nonce="{reponse.wsgi_request.csp_nonce}"' in html  # the DSFR scripts still run under the CSP
    assert "Content-Security-Policy" in reponse.headers


def test_une_page_connectee_repond_503_quand_la_session_ne_peut_etre_lue(navigateur, base_injoignable):
    base_injoignable.retablir()
    connecter(navigateur, UtilisateurFactory(prescripteur=True))
    base_injoignable.couper()
    _page_503(navigateur.get(reverse("comptes:mon_compte")))


def test_en_mode_debug_aussi_la_page_503_remplace_la_trace(navigateur, base_injoignable, settings):
    settings.DEBUG = True
    _page_503(navigateur.get("/"))


def test_l_api_repond_503_en_json(navigateur, base_injoignable):
    reponse = navigateur.get("/api/v1/specialites/", HTTP_ACCEPT="application/json")
    assert reponse.status_code == 503
    assert reponse.json() == {"detail": MESSAGE_BASE_INDISPONIBLE}
    assert reponse["Retry-After"] == "30"


def test_un_formulaire_envoye_pendant_la_panne_n_a_aucun_effet(navigateur, base_injoignable):
    page = navigateur.post(reverse("comptes:mot_de_passe_oublie"), {"email": "dr@chu.example"})
    _page_503(page)
    assert mail.outbox == []


def test_le_service_repart_seul_quand_la_base_revient(navigateur, base_injoignable):
    assert navigateur.get("/").status_code == 503
    base_injoignable.retablir()
    reponse = navigateur.get("/")
    assert reponse.status_code == 200
    assert "Accès dérogatoires aux médicaments" in reponse.content.decode()
