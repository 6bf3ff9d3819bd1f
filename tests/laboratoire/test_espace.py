"""The laboratory space shows a laboratory its own products only (titulaire or exploitant), their statuses and the
number of AAC granted for each — a count, never a request: no patient data ever reaches a laboratory."""

import pytest

from tests.conftest import connecter
from tests.factories import AccesFactory, DemandeFactory, IndicationFactory, RapportFactory, UtilisateurFactory
from tests.factories.gestion import CPCFactory, LaboratoireUtilisateurFactory
from tests.gestion.conftest import normaliser

pytestmark = pytest.mark.django_db


@pytest.fixture
def produits(laboratoire):
    """One product held, one exploited, and another laboratory's product."""
    titulaire = AccesFactory(specialite__nom="ALPHAMAB 10 mg", specialite__titulaire=laboratoire)
    exploite = AccesFactory(specialite__nom="BETAMAB 5 mg", specialite__exploitant=laboratoire)
    autre = AccesFactory(specialite__nom="CONCURRENT 1 mg")
    return titulaire.specialite, exploite.specialite, autre.specialite


def test_a_laboratory_sees_its_products_as_holder_or_exploitant_and_nothing_else(client_labo, produits):
    titulaire, exploite, autre = produits
    contenu = client_labo.get("/laboratoire/").content.decode()
    assert f'<a href="/laboratoire/produits/{titulaire.pk}/">ALPHAMAB 10 mg</a>' in contenu
    assert f'<a href="/laboratoire/produits/{exploite.pk}/">BETAMAB 5 mg</a>' in contenu
    assert "CONCURRENT" not in contenu


def test_another_laboratorys_product_and_its_actions_are_404(client_labo, produits):
    autre = produits[2]
    acces = autre.acces.get()
    rapport = RapportFactory(acces=acces)
    assert client_labo.get(f"/laboratoire/produits/{autre.pk}/").status_code == 404
    for url in (
        f"/laboratoire/produits/{autre.pk}/changement-titulaire/",
        f"/laboratoire/statuts/{acces.pk}/proposition-put/",
        f"/laboratoire/statuts/{acces.pk}/prolongation/",
        f"/laboratoire/rapports/{rapport.pk}/depot/",
    ):
        assert client_labo.get(url).status_code == 404, url
        assert client_labo.post(url, {}).status_code == 404, url


def test_the_aac_count_is_the_number_of_granted_requests_and_no_patient_data_appears(client_labo, laboratoire):
    indication = IndicationFactory(acces__specialite__titulaire=laboratoire, acces__specialite__nom="GAMMAMAB 1 mg")
    specialite = indication.acces.specialite
    DemandeFactory(indication=indication, octroyee=True, patient_initiales="Q.-Z.")
    DemandeFactory(indication=indication, expiree=True, patient_initiales="X.W.")
    DemandeFactory(indication=indication, en_evaluation=True, patient_initiales="K.Y.")
    DemandeFactory(indication=indication, refusee=True, patient_initiales="V.J.")
    espace = normaliser(client_labo.get("/laboratoire/").content.decode())
    fiche = normaliser(client_labo.get(f"/laboratoire/produits/{specialite.pk}/").content.decode())
    assert f'<td id="nombre-aac-{specialite.pk}">2</td>' in espace
    assert '<dd id="nombre-aac">2<span' in fiche
    for page in (espace, fiche):
        for initiales in ("Q.-Z.", "X.W.", "K.Y.", "V.J."):
            assert initiales not in page
        assert "D-2026-" not in page  # no request reference either


def test_the_patient_data_pages_of_requests_stay_closed_to_a_laboratory(client_labo, laboratoire):
    demande = DemandeFactory(indication__acces__specialite__titulaire=laboratoire, octroyee=True)
    assert client_labo.get(f"/demandes/{demande.reference}/").status_code in (403, 404)
    assert demande.patient_initiales not in client_labo.get(f"/demandes/{demande.reference}/").content.decode()


def test_a_draft_cpc_is_not_shown_to_the_holder_until_sent_for_comments(client_labo, laboratoire):
    brouillon = CPCFactory(specialite__titulaire=laboratoire)
    fiche = client_labo.get(f"/laboratoire/produits/{brouillon.specialite_id}/").content.decode()
    assert f'id="acces-{brouillon.pk}"' not in fiche
    brouillon.etape_cpc = "transmis_titulaire"
    brouillon.save()
    fiche = client_labo.get(f"/laboratoire/produits/{brouillon.specialite_id}/").content.decode()
    assert f'id="acces-{brouillon.pk}"' in fiche and "Transmis au titulaire pour observations" in fiche


@pytest.mark.parametrize("trait", ["prescripteur", "pharmacien", "evaluateur"])
def test_other_roles_get_a_403_on_the_laboratory_space(client, trait):
    connecter(client, UtilisateurFactory(**{trait: True}))
    assert client.get("/laboratoire/").status_code == 403


def test_an_anonymous_visitor_is_sent_to_the_login_page(client):
    assert client.get("/laboratoire/")["Location"] == "/comptes/connexion/?next=/laboratoire/"


@pytest.mark.parametrize("nombre", [2, 30])
def test_the_space_runs_a_fixed_number_of_queries(client_labo, laboratoire, django_assert_num_queries, nombre):
    for i in range(nombre):
        indication = IndicationFactory(acces__specialite__titulaire=laboratoire, acces__specialite__nom=f"P {i:02d}")
        DemandeFactory(indication=indication, octroyee=True)
        RapportFactory(acces=indication.acces)
    # session, user, laboratory, due reports, products with their AAC count, statuses, demonstration banner,
    # session save (3)
    with django_assert_num_queries(10):
        reponse = client_labo.get("/laboratoire/")
    assert reponse.content.decode().count('<td><a href="/laboratoire/produits/') == nombre


def test_a_laboratory_account_of_another_laboratory_does_not_see_these_products(client, produits):
    connecter(client, LaboratoireUtilisateurFactory())
    contenu = client.get("/laboratoire/").content.decode()
    assert "ALPHAMAB" not in contenu and "BETAMAB" not in contenu
    assert client.get(f"/laboratoire/produits/{produits[0].pk}/").status_code == 404
