"""R3 on the list page and the API list: the exact search's page is read first, and the approximate search is used
only when the exact one matches nothing in the whole référentiel (filters.page_du_referentiel)."""

import re

import pytest

from tests.factories.referentiel import AccesFactory, SpecialiteFactory, indexer_specialites

pytestmark = pytest.mark.django_db


@pytest.fixture
def referentiel():
    AccesFactory(specialite=SpecialiteFactory(nom="OPDIVO", dci="nivolumab"))  # AAC en cours
    AccesFactory(specialite=SpecialiteFactory(nom="VOISIN", dci="nivolumob"), aap=True)
    indexer_specialites()


def noms_page(client, **donnees) -> list[str]:
    html = client.get("/referentiel/", donnees).content.decode()
    return re.findall(r'<a class="fr-link" href="/referentiel/[^/"]+/">([^<]+)</a>', html)


def noms_api(client, **donnees) -> list[str]:
    reponse = client.get("/api/v1/specialites/", donnees, HTTP_ACCEPT="application/json")
    return [ligne["nom"] for ligne in reponse.json()["results"]]


@pytest.mark.parametrize("noms", [noms_page, noms_api])
def test_r3_an_exact_match_found_elsewhere_leaves_a_filtered_search_empty_rather_than_approximate(
    client, referentiel, noms
):
    assert noms(client, q="nivolumab") == ["OPDIVO"]
    # OPDIVO holds no AAP: nothing, not the approximate neighbour VOISIN (which holds one).
    assert noms(client, q="nivolumab", type_acces="AAP") == []


@pytest.mark.parametrize("noms", [noms_page, noms_api])
def test_r3_without_any_exact_match_the_page_and_the_api_fall_back_to_the_approximate_search(
    client, referentiel, noms
):
    assert noms(client, q="nivolumub") == ["OPDIVO", "VOISIN"]
    assert noms(client, q="nivolumub", type_acces="AAP") == ["VOISIN"]


def test_r3_the_api_pages_the_approximate_results_too(client, referentiel):
    pages = [
        client.get("/api/v1/specialites/", {"q": "nivolumub", "taille": 1, "page": numero}).json() for numero in (1, 2)
    ]
    assert [p["results"][0]["nom"] for p in pages] == ["OPDIVO", "VOISIN"]
    assert pages[0]["count"] == 2
    assert client.get("/api/v1/specialites/", {"q": "nivolumub", "taille": 1, "page": 3}).status_code == 404
    assert client.get("/api/v1/specialites/", {"q": "nivolumab", "page": 2}).status_code == 404
