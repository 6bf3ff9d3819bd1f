"""The list page, its export and the API list run a fixed number of queries whatever the number of rows."""

import pytest

from tests.factories.referentiel import (
    AccesFactory,
    CompositionFactory,
    ConditionPrescriptionFactory,
    CritereFactory,
    DocumentFactory,
    IndicationFactory,
    LaboratoireFactory,
    ProlongationFactory,
    PUTFactory,
    RapportFactory,
    SpecialiteFactory,
    indexer_specialites,
)

pytestmark = pytest.mark.django_db

TAILLES = [10, 200]


def peupler(nombre: int) -> LaboratoireFactory:
    labo = LaboratoireFactory(nom="Laboratoire commun")
    for i in range(nombre):
        sp = SpecialiteFactory(nom=f"LYMPHOCURE {i:03d}", titulaire=labo, exploitant=LaboratoireFactory())
        CompositionFactory(specialite=sp, substance__dci=f"lymphocumab{i}")
        CompositionFactory(specialite=sp, substance__dci="ibrutinib")
        atu = AccesFactory(specialite=sp, atu_historique=True)
        acces = AccesFactory(specialite=sp, precedent=atu)
        IndicationFactory(acces=acces, libelle="Lymphome à cellules du manteau")
    indexer_specialites()
    return labo


@pytest.mark.parametrize("nombre", TAILLES)
def test_page_liste_nombre_de_requetes_constant(client, django_assert_num_queries, nombre):
    peupler(nombre)
    # the référentiel's version (key of the page cache, which is empty), demonstration banner, laboratories of the
    # filter, the total (without a search, a count of its own: see selectors.paginer), page rows with their statuses
    # and compositions
    with django_assert_num_queries(5):
        reponse = client.get("/referentiel/", {"tri": "nom"})
    assert reponse.content.decode().count('<a class="fr-link" href="/referentiel/lymphocure-') == min(nombre, 20)


@pytest.mark.parametrize("nombre", TAILLES)
def test_page_liste_avec_recherche_et_filtres_nombre_de_requetes_constant(client, django_assert_num_queries, nombre):
    labo = peupler(nombre)
    # + the laboratory filter's value is checked against the table (the exact search's rows prove it matches)
    with django_assert_num_queries(5):
        reponse = client.get(
            "/referentiel/", {"q": "lymphomes", "type_acces": "AAC", "laboratoire": labo.pk, "substance": "ibrutinib"}
        )
    assert f"{nombre} spécialités trouvées" in reponse.content.decode()


@pytest.mark.parametrize("nombre", TAILLES)
def test_fragment_htmx_nombre_de_requetes_constant(client, django_assert_num_queries, nombre):
    peupler(nombre)
    # version, banner, laboratories, page rows with statuses and compositions
    with django_assert_num_queries(4):
        reponse = client.get("/referentiel/", {"q": "ibrutinib"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="resultats")
    assert f"{nombre} spécialités trouvées" in reponse.content.decode()


@pytest.mark.parametrize("nombre", TAILLES)
def test_api_liste_nombre_de_requetes_constant(client, django_assert_num_queries, nombre):
    labo = peupler(nombre)
    # the référentiel's version for the page cache (latest update, then whether demonstration data is loaded, a
    # flag itself cached a minute), laboratory check, page rows with their total, version (ETag), statuses and
    # compositions
    with django_assert_num_queries(4):
        reponse = client.get(
            "/api/v1/specialites/", {"q": "lymphome", "laboratoire": labo.pk}, HTTP_ACCEPT="application/json"
        )
    assert reponse.json()["count"] == nombre


@pytest.mark.parametrize("nombre", TAILLES)
def test_une_recherche_approchee_ajoute_deux_requetes_quel_que_soit_le_nombre_de_lignes(
    client, django_assert_num_queries, nombre
):
    peupler(nombre)
    # version, banner, laboratories, the exact search's empty page, does it match anything at all, the approximate
    # page
    with django_assert_num_queries(6):
        reponse = client.get("/referentiel/", {"q": "lymphocumabe"})
    assert f"{nombre} spécialités trouvées" in reponse.content.decode()


@pytest.mark.parametrize("nombre", TAILLES)
def test_api_acces_et_indications_nombre_de_requetes_constant(client, django_assert_num_queries, nombre):
    peupler(nombre)
    with django_assert_num_queries(1):  # rows with their total and version
        client.get("/api/v1/acces/", HTTP_ACCEPT="application/json")
    with django_assert_num_queries(2):  # rows with their total and version, criteria
        client.get("/api/v1/indications/", HTTP_ACCEPT="application/json")


@pytest.mark.parametrize("nombre", TAILLES)
def test_export_csv_nombre_de_requetes_constant(client, django_assert_num_queries, nombre):
    peupler(nombre)
    with django_assert_num_queries(3):  # rows (one chunk up to 500), statuses, compositions
        reponse = client.get("/referentiel/export.csv")
        lignes = b"".join(reponse.streaming_content).count(b"\r\n")
    assert lignes == nombre + 1


@pytest.mark.parametrize("nombre_indications", [2, 40])
def test_fiche_nombre_de_requetes_constant(client, django_assert_num_queries, settings, tmp_path, nombre_indications):
    settings.MEDIA_ROOT = tmp_path
    sp = SpecialiteFactory(slug="fiche", exploitant=LaboratoireFactory(telephone="01 02 03 04 05"))
    CompositionFactory(specialite=sp)
    ConditionPrescriptionFactory(specialite=sp, texte="Liste I")
    atu = AccesFactory(specialite=sp, atu_historique=True)
    acces = AccesFactory(specialite=sp, precedent=atu, riph=True)
    AccesFactory(specialite=SpecialiteFactory(slug="successeur"), precedent=acces, aap=True)
    ProlongationFactory(acces=acces)
    PUTFactory(acces=acces, recueil=True)
    RapportFactory(acces=acces, publie=True)
    DocumentFactory(specialite=sp, acces=acces)
    for _ in range(nombre_indications):
        CritereFactory.create_batch(3, indication=IndicationFactory(acces=acces))
    # version, demonstration banner, then the fiche with every section in one query (no field loaded later either)
    with django_assert_num_queries(3):
        reponse = client.get("/referentiel/fiche/")
    html = reponse.content.decode()
    assert html.count('class="fr-accordion__btn"') == nombre_indications
    assert "Ce délai a été prolongé 1 fois." in html
    assert "aucun signal de sécurité nouveau" in html and "Liste I" in html and "01 02 03 04 05" in html
    assert '<a href="/referentiel/successeur/">' in html


def test_r1_le_compte_du_referentiel_se_lit_dans_les_index():
    """R1, R40: the list without criteria counts the référentiel from the indexes of the published spécialités and of
    the public statuses (acces_public, whose condition is selectors._acces_prive's): a plan without acces_public
    would mean the two conditions no longer match. Sequential scans are disabled for the EXPLAIN: on a test database
    the planner prefers them for a few rows."""
    from django.db import connection, transaction

    from referentiel import selectors

    AccesFactory(specialite=SpecialiteFactory())
    with transaction.atomic(), connection.cursor() as curseur:
        curseur.execute("SET LOCAL enable_seqscan = off")
        plan = selectors.specialites_filtrer_acces(selectors.specialites_candidates()).explain()
    assert "acces_public" in plan, plan
