"""The référentiel's admin is thin: its forms show the services' rule messages, its saves go through the services."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.urls import reverse

from referentiel.enums import StatutAMM, TypeAcces, TypeDocument
from referentiel.models import AccesDerogatoire, Document, HistoriqueFiche, Specialite
from referentiel.services import document_ajouter
from tests.conftest import connecter
from tests.factories.comptes import UtilisateurFactory
from tests.factories.referentiel import (
    AccesFactory,
    CritereFactory,
    IndicationFactory,
    LaboratoireFactory,
    PUTFactory,
    RapportFactory,
    SpecialiteFactory,
    pdf_minimal,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def admin_client(client):
    connecter(client, UtilisateurFactory(administrateur=True))
    return client


def _valeur(valeur):
    if isinstance(valeur, models.Model):
        return valeur.pk
    if isinstance(valeur, datetime.date):
        return valeur.isoformat()
    if valeur is None:
        return ""
    return valeur


def _champs(formulaire, donnees: dict) -> None:
    for nom, champ in formulaire.fields.items():
        cle = formulaire.add_prefix(nom)
        valeur = formulaire.initial.get(nom, champ.initial)
        if callable(valeur):
            valeur = valeur()
        if isinstance(valeur, bool):
            if valeur:
                donnees[cle] = "on"
            continue
        donnees[cle] = _valeur(valeur)


def donnees_de_la_page(reponse) -> dict:
    """What the browser would post back unchanged: the main form and every inline formset with its rows."""
    donnees: dict = {}
    _champs(reponse.context["adminform"].form, donnees)
    for inline in reponse.context["inline_admin_formsets"]:
        formset = inline.formset
        gestion = formset.management_form
        for nom in gestion.fields:
            donnees[gestion.add_prefix(nom)] = gestion.initial.get(nom, 0)
        for sous_formulaire in formset.initial_forms:
            _champs(sous_formulaire, donnees)
    return donnees


def test_every_referentiel_list_renders_for_an_administrator(admin_client):
    acces = AccesFactory(specialite=SpecialiteFactory(nom="SOTORASIB 120 mg, comprimé"))
    IndicationFactory(acces=acces, libelle="Cancer bronchique KRAS G12C")
    PUTFactory(acces=acces, crpv="CRPV de Lyon")
    RapportFactory(acces=acces)
    document_ajouter(
        specialite=acces.specialite,
        type_document=TypeDocument.RCP,
        titre="RCP sotorasib",
        fichier=SimpleUploadedFile("rcp.pdf", pdf_minimal()),
    )
    attendus = {
        "specialite": "SOTORASIB 120 mg, comprimé",
        "accesderogatoire": "SOTORASIB 120 mg, comprimé",
        "indication": "Cancer bronchique KRAS G12C",
        "put": "CRPV de Lyon",
        "rapportperiodique": "Attendu",
        "document": "RCP sotorasib",
        "historiquefiche": "Ajout d&#x27;un document",
        "laboratoire": acces.specialite.titulaire.nom,
    }
    for modele, texte in attendus.items():
        reponse = admin_client.get(reverse(f"admin:referentiel_{modele}_changelist"))
        assert reponse.status_code == 200, modele
        assert texte in reponse.content.decode(), modele

    fiche = admin_client.get(reverse("admin:referentiel_specialite_change", args=[acces.specialite.pk]))
    contenu = fiche.content.decode()
    assert "Ajout d&#x27;un document" in contenu  # the history inline
    assert "AAC — accès compassionnel" in contenu  # the statuses inline


def test_adding_a_specialite_in_the_admin_goes_through_the_service(admin_client):
    labo = LaboratoireFactory(nom="Amgen")
    page = admin_client.get(reverse("admin:referentiel_specialite_add"))
    donnees = donnees_de_la_page(page)
    donnees.update(nom="LUMYKRAS 120 mg, comprimé", titulaire=labo.pk, exploitant=labo.pk, code_atc="L01XX73")

    reponse = admin_client.post(reverse("admin:referentiel_specialite_add"), donnees)

    assert reponse.status_code == 302
    specialite = Specialite.objects.get(nom="LUMYKRAS 120 mg, comprimé")
    assert specialite.slug == "lumykras-120-mg-comprime"
    historique = HistoriqueFiche.objects.get(specialite=specialite)
    assert historique.action == "Création de la fiche"
    assert historique.auteur.role == "administrateur"


def test_the_admin_form_shows_the_rule_a_change_would_break(admin_client):
    page = admin_client.get(reverse("admin:referentiel_specialite_add"))
    donnees = donnees_de_la_page(page)
    donnees.update(nom="HOSPITALIER", reserve_hospitalier="on", retrocession="on")

    reponse = admin_client.post(reverse("admin:referentiel_specialite_add"), donnees)

    assert reponse.status_code == 200
    assert "il ne peut pas être sur la liste de rétrocession. (R28)" in reponse.content.decode()
    assert not Specialite.objects.filter(nom="HOSPITALIER").exists()


def test_r24_the_admin_refuses_a_cessation_date_more_than_three_months_after_the_amm(admin_client):
    specialite = SpecialiteFactory(statut_amm=StatutAMM.AUTORISEE, date_amm=datetime.date(2025, 1, 10))
    page = admin_client.get(reverse("admin:referentiel_accesderogatoire_add"))
    donnees = donnees_de_la_page(page)
    donnees.update(specialite=specialite.pk, type_acces=TypeAcces.AAC, etat="en_cours", date_cessation="2025-05-01")

    reponse = admin_client.post(reverse("admin:referentiel_accesderogatoire_add"), donnees)

    assert reponse.status_code == 200
    assert "soit le 10/04/2025 au plus tard. (R24)" in reponse.content.decode()
    assert not AccesDerogatoire.objects.exists()

    donnees["date_cessation"] = "2025-04-10"
    assert admin_client.post(reverse("admin:referentiel_accesderogatoire_add"), donnees).status_code == 302
    acces = AccesDerogatoire.objects.get()
    assert HistoriqueFiche.objects.filter(specialite=specialite, action="Ajout du statut AAC").exists()
    assert acces.date_cessation == datetime.date(2025, 4, 10)


def test_editing_the_criteria_inline_replaces_the_list_through_the_service(admin_client):
    indication = IndicationFactory()
    premier = CritereFactory(indication=indication, libelle="Patient adulte", ordre=1)
    url = reverse("admin:referentiel_indication_change", args=[indication.pk])
    donnees = donnees_de_la_page(admin_client.get(url))
    donnees["criteres-0-libelle"] = "Patient âgé de 18 ans ou plus"
    donnees.update(
        {
            "criteres-TOTAL_FORMS": 2,
            "criteres-1-ordre": 2,
            "criteres-1-libelle": "Échec des traitements disponibles",
            "criteres-1-indication": indication.pk,
        }
    )
    assert donnees["criteres-0-id"] == premier.pk

    reponse = admin_client.post(url, donnees)

    assert reponse.status_code == 302
    assert list(indication.criteres.values_list("libelle", flat=True)) == [
        "Patient âgé de 18 ans ou plus",
        "Échec des traitements disponibles",
    ]
    historique = HistoriqueFiche.objects.get(action="Modification d'une indication")
    assert historique.avant == {"criteres": ["Patient adulte"]}


def test_a_document_uploaded_in_the_admin_is_checked_by_its_content(admin_client):
    specialite = SpecialiteFactory()
    url = reverse("admin:referentiel_document_add")
    donnees = donnees_de_la_page(admin_client.get(url))
    donnees.update(specialite=specialite.pk, type_document=TypeDocument.RCP, titre="RCP", date_document="2025-01-01")

    refuse = admin_client.post(url, {**donnees, "fichier": SimpleUploadedFile("rcp.pdf", b"<html>page</html>")})
    assert "n&#x27;est pas un document accepté" in refuse.content.decode()
    assert not Document.objects.exists()

    accepte = admin_client.post(url, {**donnees, "fichier": SimpleUploadedFile("rcp.bin", pdf_minimal())})
    assert accepte.status_code == 302
    document = Document.objects.get()
    assert (document.type_mime, document.fichier.name.endswith("rcp.pdf")) == ("application/pdf", True)
    assert HistoriqueFiche.objects.filter(action="Ajout d'un document").exists()


def test_r23_an_extension_longer_than_six_months_is_refused_in_the_admin(admin_client):
    acces = AccesFactory(riph=True)
    url = reverse("admin:referentiel_prolongationengagementaap_add")
    donnees = donnees_de_la_page(admin_client.get(url))
    donnees.update(acces=acces.pk, duree_mois=7, motif="Essai en retard")

    reponse = admin_client.post(url, donnees)

    assert "Une prolongation dure de 1 à 6 mois au plus (R23)." in reponse.content.decode()
    donnees["duree_mois"] = 6
    assert admin_client.post(url, donnees).status_code == 302
    acces.refresh_from_db()
    assert acces.date_limite_depot_aap == datetime.date(2025, 7, 15)
    assert HistoriqueFiche.objects.filter(action="Prolongation du délai de dépôt de l'AAP").exists()


def test_the_history_is_read_only_in_the_admin(admin_client):
    specialite = SpecialiteFactory()
    AccesFactory(specialite=specialite)
    assert admin_client.get(reverse("admin:referentiel_historiquefiche_add")).status_code == 403
    assert admin_client.get(reverse("admin:referentiel_specialite_delete", args=[specialite.pk])).status_code == 403
