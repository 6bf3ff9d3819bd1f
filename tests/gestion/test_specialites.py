"""Managing fiches from the back-office: find any spécialité (BDPM imports included), create and edit one, publish
or unpublish its fiche, read its history. Every write goes through the services and is historised."""

import pytest

from referentiel.models import HistoriqueFiche, Specialite
from tests.factories import AccesFactory, CompositionFactory, LaboratoireFactory, SpecialiteFactory
from tests.factories.referentiel import indexer_specialites
from tests.gestion.conftest import erreur_du_champ

pytestmark = pytest.mark.django_db


def test_the_list_finds_an_imported_bdpm_specialite_without_any_status_to_start_its_fiche(client_ansm):
    bdpm = SpecialiteFactory(nom="VELCADE 3,5 mg, poudre", cis="61234567", publiee=False)
    CompositionFactory(specialite=bdpm, substance__dci="bortézomib")
    SpecialiteFactory(nom="AUTRE 10 mg")
    indexer_specialites()

    par_dci = client_ansm.get("/ansm/referentiel/", {"q": "bortezomib", "statut": "sans"}).content.decode()
    par_cis = client_ansm.get("/ansm/referentiel/", {"q": "61234567"}).content.decode()

    lien = f'<a href="/ansm/referentiel/{bdpm.pk}/">VELCADE 3,5 mg, poudre</a>'
    assert lien in par_dci and lien in par_cis
    assert "AUTRE 10 mg" not in par_dci
    assert '<p id="nombre-resultats">1 spécialité</p>' in par_cis


def test_the_list_filters_spécialités_with_a_derogatory_status(client_ansm):
    avec = AccesFactory(specialite__nom="AVEC STATUT").specialite
    SpecialiteFactory(nom="SANS STATUT")
    contenu = client_ansm.get("/ansm/referentiel/", {"statut": "avec"}).content.decode()
    assert f'<a href="/ansm/referentiel/{avec.pk}/">AVEC STATUT</a>' in contenu
    assert "SANS STATUT" not in contenu


def test_an_evaluateur_creates_a_specialite_with_its_composition_unpublished_until_it_has_a_status(
    client_ansm, evaluateur
):
    labo = LaboratoireFactory(nom="Laboratoire Beta")
    reponse = client_ansm.post(
        "/ansm/referentiel/nouvelle/",
        {
            "nom": "ZORBAMAB 100 mg, solution injectable",
            "titulaire": labo.pk,
            "statut_amm": "aucune",
            "composition": "zorbamab ; 100 mg\n",
        },
    )
    specialite = Specialite.objects.get(nom="ZORBAMAB 100 mg, solution injectable")
    assert reponse.status_code == 302
    assert reponse["Location"] == f"/ansm/referentiel/{specialite.pk}/"
    assert specialite.titulaire == labo and specialite.publiee is False
    assert [str(c) for c in specialite.compositions.all()] == ["zorbamab 100 mg"]
    ligne = HistoriqueFiche.objects.get(specialite=specialite)
    assert (ligne.auteur, ligne.action, ligne.apres["composition"]) == (
        evaluateur,
        "Création de la fiche",
        ["zorbamab 100 mg"],
    )


def test_a_rule_broken_on_creation_shows_the_service_message_on_its_field(client_ansm):
    reponse = client_ansm.post(
        "/ansm/referentiel/nouvelle/",
        {"nom": "HOSPI 1 mg", "statut_amm": "aucune", "reserve_hospitalier": "on", "retrocession": "on"},
    )
    assert reponse.status_code == 400
    assert erreur_du_champ(reponse.content.decode(), "retrocession") == (
        "Un médicament réservé à l'usage hospitalier n'est pas dispensé aux patients ambulatoires : il ne peut pas "
        "être sur la liste de rétrocession. (R28)"
    )
    assert not Specialite.objects.filter(nom="HOSPI 1 mg").exists()


def test_editing_a_specialite_historises_before_and_after(client_ansm, evaluateur):
    specialite = SpecialiteFactory(nom="ANCIEN NOM", titulaire=LaboratoireFactory(nom="Labo A"))
    reponse = client_ansm.post(
        f"/ansm/referentiel/{specialite.pk}/modifier/",
        {"nom": "NOUVEAU NOM", "titulaire": specialite.titulaire_id, "statut_amm": "aucune", "mitm": "on"},
    )
    assert reponse.status_code == 302
    specialite.refresh_from_db()
    assert (specialite.nom, specialite.mitm) == ("NOUVEAU NOM", True)
    ligne = HistoriqueFiche.objects.filter(specialite=specialite, action="Modification de la spécialité").get()
    assert (ligne.avant["nom"], ligne.avant["mitm"]) == ("ANCIEN NOM", False)
    assert ligne.apres["nom"] == "NOUVEAU NOM" and ligne.apres["mitm"] is True


def test_publishing_and_unpublishing_a_fiche_changes_what_the_public_sees(client, client_ansm):
    acces = AccesFactory(specialite__nom="PUBLIABLE 5 mg", specialite__publiee=False)
    specialite = acces.specialite
    assert client.get(f"/referentiel/{specialite.slug}/").status_code == 404

    client_ansm.post(f"/ansm/referentiel/{specialite.pk}/publication/", {"publiee": "oui"})
    assert client.get(f"/referentiel/{specialite.slug}/").status_code == 200

    reponse = client_ansm.post(f"/ansm/referentiel/{specialite.pk}/publication/", {"publiee": "non"}, follow=True)
    assert "Fiche retirée du référentiel public." in reponse.content.decode()
    assert client.get(f"/referentiel/{specialite.slug}/").status_code == 404
    actions = list(HistoriqueFiche.objects.filter(specialite=specialite).values_list("apres", flat=True))
    assert {"publiee": False} in actions and {"publiee": True} in actions


def test_the_fiche_page_shows_its_latest_changes_and_the_full_history_page_all_of_them(client_ansm, evaluateur):
    specialite = SpecialiteFactory(nom="HISTORIQUE 1 mg")
    for numero in range(1, 8):
        client_ansm.post(
            f"/ansm/referentiel/{specialite.pk}/modifier/",
            {"nom": f"HISTORIQUE {numero} mg", "titulaire": specialite.titulaire_id, "statut_amm": "aucune"},
        )
    fiche = client_ansm.get(f"/ansm/referentiel/{specialite.pk}/").content.decode()
    historique = client_ansm.get(f"/ansm/referentiel/{specialite.pk}/historique/").content.decode()
    assert fiche.count("Modification de la spécialité") == 5
    assert historique.count("Modification de la spécialité") == 7
    assert "<strong>nom</strong> : HISTORIQUE 6 mg → HISTORIQUE 7 mg" in historique
    assert "Sophie Leroy" in historique


@pytest.mark.parametrize("nombre", [5, 60])
def test_the_list_runs_a_fixed_number_of_queries(client_ansm, django_assert_num_queries, nombre):
    for i in range(nombre):
        AccesFactory(specialite__nom=f"LISTE {i:03d}", specialite__exploitant=LaboratoireFactory())
    # session, user, OTP device, page rows with their total, statuses, demonstration banner, session save (3)
    with django_assert_num_queries(9):
        reponse = client_ansm.get("/ansm/referentiel/")
    assert reponse.content.decode().count('<td><a href="/ansm/referentiel/') == min(nombre, 25)


@pytest.mark.parametrize("nombre", [1, 12])
def test_the_fiche_page_runs_a_fixed_number_of_queries(client_ansm, django_assert_num_queries, nombre):
    specialite = SpecialiteFactory()
    for i in range(nombre):
        AccesFactory(
            specialite=specialite,
            type_acces="ATUn",
            etat="termine",
            date_debut="2019-01-01",
            date_fin=f"2020-01-{i + 1:02d}",
        )
    # session, user, OTP device, the spécialité, its statuses and each relation they show (indications,
    # criteria, PUT, reports, extensions, extension requests, renewals, signalements), composition, documents,
    # declarations, the last history rows, demonstration banner, session save (3)
    with django_assert_num_queries(20):
        reponse = client_ansm.get(f"/ansm/referentiel/{specialite.pk}/")
    assert reponse.content.decode().count('id="titre-acces-') == nombre


def test_editing_a_bdpm_specialite_keeps_its_composition_when_unchanged(client_ansm):
    specialite = SpecialiteFactory(nom="BDPM 1 mg", cis="60000042")
    CompositionFactory(
        specialite=specialite, substance__dci="imatinib", dosage="100 mg", reference_dosage="un comprimé"
    )
    formulaire = client_ansm.get(f"/ansm/referentiel/{specialite.pk}/modifier/").content.decode()
    assert "imatinib ; 100 mg</textarea>" in formulaire
    client_ansm.post(
        f"/ansm/referentiel/{specialite.pk}/modifier/",
        {
            "nom": "BDPM 1 mg",
            "cis": "60000042",
            "titulaire": specialite.titulaire_id,
            "statut_amm": "aucune",
            "mitm": "on",
            "composition": "imatinib ; 100 mg",
        },
    )
    composition = specialite.compositions.get()
    assert (composition.dosage, composition.reference_dosage) == ("100 mg", "un comprimé")
    assert not HistoriqueFiche.objects.filter(action="Modification de la composition").exists()
    client_ansm.post(
        f"/ansm/referentiel/{specialite.pk}/modifier/",
        {"nom": "BDPM 1 mg", "titulaire": specialite.titulaire_id, "statut_amm": "aucune", "composition": ""},
    )
    assert not specialite.compositions.exists()
    assert HistoriqueFiche.objects.get(action="Modification de la composition").avant == {
        "composition": ["imatinib 100 mg"]
    }
