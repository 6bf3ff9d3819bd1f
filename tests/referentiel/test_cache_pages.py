"""The public list, fiche and API list come from the cache for anonymous visitors, keyed by the référentiel's version:
a change to a fiche shows at once, and a cached page is the page itself."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from referentiel import selectors, services
from referentiel.demo import demo_supprimer
from referentiel.enums import EtatAcces
from tests.factories.comptes import UtilisateurFactory
from tests.factories.referentiel import AccesFactory, SpecialiteFactory, indexer_specialites

pytestmark = pytest.mark.django_db


@pytest.fixture
def acces():
    acces = AccesFactory(specialite=SpecialiteFactory(nom="IMBRUVICA 140 mg", slug="imbruvica", dci="ibrutinib"))
    indexer_specialites()
    return acces


def sans_alea(contenu: bytes) -> bytes:
    """The page without what the layout draws for each response (it is rendered each time, around the cached
    content): the CSP nonce and the breadcrumb's random id."""
    return re.sub(rb'nonce="[^"]+"|breadcrumb-[a-z]+', b"", contenu)


URLS = [
    ("/referentiel/", {"q": "ibrutinib"}, {}),
    ("/referentiel/", {"q": "ibrutinib"}, {"HTTP_HX_REQUEST": "true"}),
    ("/referentiel/imbruvica/", {}, {}),
    ("/api/v1/specialites/", {"q": "ibrutinib"}, {"HTTP_ACCEPT": "application/json"}),
]


@pytest.mark.parametrize(("url", "donnees", "entetes"), URLS)
def test_a_cached_page_is_the_same_page_and_costs_only_the_version_query(
    client, django_assert_num_queries, acces, url, donnees, entetes
):
    premiere = client.get(url, donnees, **entetes)
    with django_assert_num_queries(1):  # the référentiel's version: everything else is in the cache
        seconde = client.get(url, donnees, **entetes)
    assert premiere.status_code == seconde.status_code == 200
    assert sans_alea(seconde.content) == sans_alea(premiere.content)
    assert seconde.headers.get("ETag") == premiere.headers.get("ETag")
    assert seconde.headers.get("Vary") == premiere.headers.get("Vary")


def test_the_full_page_and_the_htmx_fragment_are_cached_apart(client, acces):
    page = client.get("/referentiel/", {"q": "ibrutinib"}).content.decode()
    fragment = client.get("/referentiel/", {"q": "ibrutinib"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" in page and "<html" not in fragment
    assert "<html" in client.get("/referentiel/", {"q": "ibrutinib"}).content.decode()


def test_a_change_through_a_service_shows_at_once(client, acces):
    assert "AAC · en cours" in client.get("/referentiel/").content.decode()
    assert "En cours" in client.get("/referentiel/imbruvica/").content.decode()

    services.acces_changer_etat(acces=acces, etat=EtatAcces.SUSPENDU)

    assert "AAC · suspendu" in client.get("/referentiel/").content.decode()
    assert "Suspendu" in client.get("/referentiel/imbruvica/").content.decode()
    etats = client.get("/api/v1/specialites/", HTTP_ACCEPT="application/json").json()["results"][0]["acces"]
    assert [a["etat"] for a in etats] == ["suspendu"]


def test_a_new_specialite_shows_at_once(client, acces):
    assert client.get("/api/v1/specialites/", HTTP_ACCEPT="application/json").json()["count"] == 1
    AccesFactory(specialite__nom="KEYTRUDA")
    assert client.get("/api/v1/specialites/", HTTP_ACCEPT="application/json").json()["count"] == 2


def test_removing_the_demonstration_data_shows_at_once(client, acces, django_capture_on_commit_callbacks):
    AccesFactory(specialite=SpecialiteFactory(nom="DÉMONSTRATION", slug="demo", demonstration=True))
    assert client.get("/api/v1/specialites/", HTTP_ACCEPT="application/json").json()["count"] == 2
    assert client.get("/referentiel/demo/").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        demo_supprimer()

    assert client.get("/api/v1/specialites/", HTTP_ACCEPT="application/json").json()["count"] == 1
    assert client.get("/referentiel/demo/").status_code == 404


def test_a_fiche_withdrawn_from_the_referentiel_is_gone_at_once(client, acces):
    assert client.get("/referentiel/imbruvica/").status_code == 200
    services.specialite_modifier(specialite=acces.specialite, publiee=False)
    assert client.get("/referentiel/imbruvica/").status_code == 404


def test_a_logged_in_user_never_gets_a_cached_page(client, acces):
    version, _ = selectors._requete_version()  # the query of the cache key (selectors.version_referentiel)
    with CaptureQueriesContext(connection) as anonyme:
        client.get("/referentiel/imbruvica/")  # cached for anonymous visitors
    assert any(version in requete["sql"] for requete in anonyme.captured_queries)
    client.force_login(UtilisateurFactory(prescripteur=True))
    with CaptureQueriesContext(connection) as requetes:
        reponse = client.get("/referentiel/imbruvica/")
    assert reponse.status_code == 200
    sql = [requete["sql"] for requete in requetes.captured_queries]
    assert any("acces_json" in requete for requete in sql)  # the fiche read from the database
    assert not any(version in requete for requete in sql)
