"""Statuses of a fiche from the back-office: AAC and AAP (pre- or post-AMM), the AMM and the AAC cessation date
(R24), the laboratory's AAP commitment and its extensions (R23), indications with ordered critères d'octroi, PUT
and documents. The pages call the services, whose French messages show on the form."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from referentiel.models import (
    AccesDerogatoire,
    CritereOctroi,
    Document,
    HistoriqueFiche,
    Indication,
    ProlongationEngagementAAP,
)
from tests.factories import AccesFactory, CritereFactory, IndicationFactory, SpecialiteFactory
from tests.factories.referentiel import pdf_minimal
from tests.gestion.conftest import erreur_du_champ

pytestmark = pytest.mark.django_db

J = datetime.date


def test_an_evaluateur_adds_an_aac_status_to_a_fiche(client_ansm, evaluateur):
    specialite = SpecialiteFactory()
    reponse = client_ansm.post(
        f"/ansm/referentiel/{specialite.pk}/statuts/nouveau/",
        {"type_acces": "AAC", "etat": "en_cours", "date_debut": "2025-03-01"},
    )
    acces = AccesDerogatoire.objects.get(specialite=specialite)
    assert reponse["Location"] == f"/ansm/referentiel/{specialite.pk}/#acces-{acces.pk}"
    assert (acces.type_acces, acces.date_debut) == ("AAC", J(2025, 3, 1))
    assert HistoriqueFiche.objects.filter(
        specialite=specialite, action="Ajout du statut AAC", auteur=evaluateur
    ).exists()


def test_r24_recording_the_amm_sets_the_cessation_date_of_aac(client_ansm, evaluateur):
    acces = AccesFactory()
    reponse = client_ansm.post(
        f"/ansm/referentiel/statuts/{acces.pk}/amm/", {"date_amm": "2026-01-10", "date_cessation": "2026-03-31"}
    )
    assert reponse.status_code == 302
    acces.refresh_from_db()
    acces.specialite.refresh_from_db()
    assert (acces.specialite.statut_amm, acces.specialite.date_amm) == ("autorisee", J(2026, 1, 10))
    assert acces.date_cessation == J(2026, 3, 31)
    ligne = HistoriqueFiche.objects.get(specialite=acces.specialite, action="Enregistrement de l'AMM")
    assert (ligne.auteur, ligne.apres["date_cessation"]) == (evaluateur, "2026-03-31")
    fiche = client_ansm.get(reponse["Location"]).content.decode()
    assert f'<dd id="cessation-{acces.pk}">31/03/2026 (R24)</dd>' in fiche


def test_r24_a_cessation_date_more_than_3_months_after_the_amm_is_refused_on_its_field(client_ansm):
    acces = AccesFactory()
    reponse = client_ansm.post(
        f"/ansm/referentiel/statuts/{acces.pk}/amm/", {"date_amm": "2026-01-10", "date_cessation": "2026-04-11"}
    )
    assert reponse.status_code == 400
    assert erreur_du_champ(reponse.content.decode(), "date_cessation") == (
        "La date de cessation des AAC doit tomber entre l'AMM du 10/01/2026 et 3 mois après, soit le 10/04/2026 au "
        "plus tard. (R24)"
    )
    acces.refresh_from_db()
    acces.specialite.refresh_from_db()
    assert acces.date_cessation is None and acces.specialite.date_amm is None  # atomic: nothing written


def test_r25_recording_a_pre_amm_aap_narrows_the_aac_criteria_to_patients_not_eligible(client_ansm):
    aac = AccesFactory()
    indication = IndicationFactory(acces=aac)
    CritereFactory(indication=indication, libelle="Patient adulte", ordre=1)
    reponse = client_ansm.post(
        f"/ansm/referentiel/{aac.specialite_id}/statuts/nouveau/",
        {"type_acces": "AAP", "etat": "en_cours", "phase_aap": "pre_amm", "date_debut": "2025-06-01"},
        follow=True,
    )
    indication.refresh_from_db()
    assert indication.restriction_aap.startswith("Accès précoce (AAP pré-AMM) en cours")
    assert list(indication.criteres.values_list("libelle", flat=True)) == [
        "Patient adulte",
        "Le patient n'est pas éligible à l'accès précoce (AAP) en cours pour ce médicament.",
    ]
    assert "les critères des AAC en cours sont réservés aux patients non éligibles" in reponse.content.decode()


def test_r26_a_post_amm_aap_needs_an_amm_and_then_reminds_to_revise_the_aac_criteria(client_ansm):
    aac = AccesFactory()
    url = f"/ansm/referentiel/{aac.specialite_id}/statuts/nouveau/"
    refus = client_ansm.post(url, {"type_acces": "AAP", "etat": "en_cours", "phase_aap": "post_amm"})
    assert refus.status_code == 400
    assert erreur_du_champ(refus.content.decode(), "phase_aap") == (
        "Un accès précoce post-AMM suppose une AMM : enregistrez d'abord l'AMM de la spécialité. (R37)"
    )
    client_ansm.post(f"/ansm/referentiel/statuts/{aac.pk}/amm/", {"date_amm": str(timezone.localdate())})
    accepte = client_ansm.post(
        url,
        {"type_acces": "AAP", "etat": "en_cours", "phase_aap": "post_amm", "date_debut": "2025-06-01"},
        follow=True,
    )
    assert AccesDerogatoire.objects.filter(specialite=aac.specialite, type_acces="AAP", phase_aap="post_amm").exists()
    assert "révisez au besoin les critères des AAC de la même situation thérapeutique" in accepte.content.decode()


def test_r23_recording_the_laboratorys_aap_commitment_computes_the_deadline(client_ansm):
    acces = AccesFactory(date_debut=J(2025, 2, 1))
    reponse = client_ansm.post(
        f"/ansm/referentiel/statuts/{acces.pk}/engagement-aap/",
        {"riph_commerciale": "on", "engagement_aap": "on", "date_premiere_aac": "2025-02-01"},
    )
    assert reponse.status_code == 302
    acces.refresh_from_db()
    assert (acces.engagement_aap, acces.date_limite_depot_aap) == (True, J(2026, 2, 1))


def test_r23_an_extension_of_at_most_6_months_moves_the_deadline(client_ansm, evaluateur):
    acces = AccesFactory(riph=True)
    reponse = client_ansm.post(
        f"/ansm/referentiel/statuts/{acces.pk}/prolongation/", {"duree_mois": "6", "motif": "Essai en cours."}
    )
    assert reponse.status_code == 302
    acces.refresh_from_db()
    assert acces.date_limite_depot_aap == J(2025, 7, 15)
    prolongation = ProlongationEngagementAAP.objects.get(acces=acces)
    assert (prolongation.duree_mois, prolongation.accordee_par) == (6, evaluateur)


def test_r23_an_extension_of_more_than_6_months_is_refused_on_its_field(client_ansm):
    acces = AccesFactory(riph=True)
    reponse = client_ansm.post(
        f"/ansm/referentiel/statuts/{acces.pk}/prolongation/", {"duree_mois": "7", "motif": "Essai en cours."}
    )
    assert reponse.status_code == 400
    assert erreur_du_champ(reponse.content.decode(), "duree_mois") == (
        "Une prolongation du délai de dépôt de l'AAP dure de 1 à 6 mois au plus. (R23)"
    )
    assert not ProlongationEngagementAAP.objects.exists()


def test_an_indication_is_created_with_its_criteria_in_the_typed_order_and_reordered_by_editing(client_ansm):
    acces = AccesFactory()
    client_ansm.post(
        f"/ansm/referentiel/statuts/{acces.pk}/indications/nouvelle/",
        {"libelle": "Myélome réfractaire", "criteres": "Patient adulte\n\nÉchec de deux lignes\nECOG ≤ 2\n"},
    )
    indication = Indication.objects.get(acces=acces)
    assert list(indication.criteres.values_list("libelle", flat=True)) == [
        "Patient adulte",
        "Échec de deux lignes",
        "ECOG ≤ 2",
    ]
    client_ansm.post(
        f"/ansm/referentiel/indications/{indication.pk}/modifier/",
        {"libelle": "Myélome réfractaire", "criteres": "ECOG ≤ 2\nPatient adulte", "ordre": indication.ordre},
    )
    assert list(CritereOctroi.objects.filter(indication=indication).values_list("libelle", "ordre")) == [
        ("ECOG ≤ 2", 1),
        ("Patient adulte", 2),
    ]
    modification = HistoriqueFiche.objects.get(action="Modification d'une indication")
    assert modification.avant["criteres"] == ["Patient adulte", "Échec de deux lignes", "ECOG ≤ 2"]
    assert modification.apres["criteres"] == ["ECOG ≤ 2", "Patient adulte"]


def test_a_duplicate_criterion_is_refused_on_the_criteria_field(client_ansm):
    acces = AccesFactory()
    reponse = client_ansm.post(
        f"/ansm/referentiel/statuts/{acces.pk}/indications/nouvelle/",
        {"libelle": "Myélome", "criteres": "Patient adulte\npatient adulte"},
    )
    assert reponse.status_code == 400
    assert erreur_du_champ(reponse.content.decode(), "criteres") == "Le critère « patient adulte » figure deux fois."
    assert not Indication.objects.exists()


def test_withdrawing_an_indication_keeps_it_in_the_history(client_ansm):
    indication = CritereFactory(libelle="Critère retiré").indication
    client_ansm.post(f"/ansm/referentiel/indications/{indication.pk}/supprimer/")
    assert not Indication.objects.filter(pk=indication.pk).exists()
    ligne = HistoriqueFiche.objects.get(action="Retrait d'une indication")
    assert ligne.avant["criteres"] == ["Critère retiré"]


def test_a_put_sp_version_is_added_and_a_put_rd_refused_on_an_aac(client_ansm):
    acces = AccesFactory()
    url = f"/ansm/referentiel/statuts/{acces.pk}/put/nouveau/"
    refus = client_ansm.post(url, {"type_put": "PUT-RD", "version": "1"})
    assert refus.status_code == 400
    assert "un AAC ou un CPC suit un PUT-SP" in erreur_du_champ(refus.content.decode(), "type_put")
    client_ansm.post(
        url,
        {
            "type_put": "PUT-SP",
            "version": "2",
            "recueil_nominatif": "on",
            "periodicite_rapports_mois": "6",
            "crpv": "CRPV de Lyon",
            "date_validation": "2025-05-01",
        },
    )
    put = acces.puts.get()
    assert (put.version, put.periodicite_rapports_mois, put.est_proposition) == ("2", 6, False)


def test_documents_are_accepted_by_their_content_only(client_ansm):
    specialite = SpecialiteFactory()
    url = f"/ansm/referentiel/{specialite.pk}/documents/nouveau/"
    faux = SimpleUploadedFile("rcp.pdf", b"<html>pas un PDF</html>", content_type="application/pdf")
    refus = client_ansm.post(url, {"type_document": "rcp", "titre": "RCP", "fichier": faux, "public": "on"})
    assert refus.status_code == 400
    assert "n'est pas un document accepté" in erreur_du_champ(refus.content.decode(), "fichier")
    assert not Document.objects.exists()

    vrai = SimpleUploadedFile("nimporte.bin", pdf_minimal("RCP"), content_type="application/octet-stream")
    client_ansm.post(url, {"type_document": "rcp", "titre": "RCP 2025", "fichier": vrai, "public": "on"})
    document = Document.objects.get()
    assert (document.titre, document.type_mime, document.fichier.name.endswith("rcp-2025.pdf")) == (
        "RCP 2025",
        "application/pdf",
        True,
    )
    client_ansm.post(f"/ansm/referentiel/documents/{document.pk}/supprimer/")
    assert not Document.objects.exists()
