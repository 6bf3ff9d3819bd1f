"""What a laboratory submits for its products: PUT proposals with the draft protocol (R32), periodic reports (R34),
AAP deadline extension requests (R23), changes of rights holder (R29). Each lands where the ANSM settles it."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from referentiel import services
from referentiel.exceptions import ReferentielError
from referentiel.models import PUT, DeclarationChangementTitulaire, DemandeProlongation, HistoriqueFiche
from tests.factories import AccesFactory, RapportFactory
from tests.factories.referentiel import pdf_minimal
from tests.gestion.conftest import erreur_du_champ

pytestmark = pytest.mark.django_db

J = datetime.date


def pdf(nom: str = "document.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(nom, pdf_minimal("Projet"), content_type="application/pdf")


@pytest.fixture
def aac(laboratoire):
    return AccesFactory(specialite__titulaire=laboratoire, specialite__nom="ALPHAMAB 10 mg", riph=True)


def test_r32_a_put_sp_proposal_is_stored_privately_and_waits_for_the_ansm(client, client_labo, aac, utilisateur_labo):
    reponse = client_labo.post(
        f"/laboratoire/statuts/{aac.pk}/proposition-put/",
        {"version": "1", "recueil_nominatif": "on", "periodicite_rapports_mois": "6", "fichier": pdf("put.pdf")},
    )
    assert reponse.status_code == 302
    put = PUT.objects.get(acces=aac)
    assert (put.type_put, put.est_proposition, put.propose_par, put.type_mime) == (
        "PUT-SP",
        True,
        utilisateur_labo,
        "application/pdf",
    )
    assert put.fichier.name.startswith("laboratoires/") and put.fichier.name.endswith(".pdf")
    assert HistoriqueFiche.objects.filter(action="Proposition de PUT par le laboratoire", auteur=utilisateur_labo)
    assert (
        "proposition en cours d'évaluation par l'ANSM"
        in client_labo.get(f"/laboratoire/produits/{aac.specialite_id}/").content.decode()
    )
    # Not public until the ANSM validates it.
    assert "PUT-SP (suivi des patients) v1" not in client.get(f"/referentiel/{aac.specialite.slug}/").content.decode()


def test_r32_a_proposal_without_a_real_document_is_refused_and_nothing_is_kept(client_labo, aac):
    faux = SimpleUploadedFile("put.pdf", b"MZ\x90\x00 executable", content_type="application/pdf")
    reponse = client_labo.post(f"/laboratoire/statuts/{aac.pk}/proposition-put/", {"version": "1", "fichier": faux})
    assert reponse.status_code == 400
    assert "n'est pas un document accepté" in erreur_du_champ(reponse.content.decode(), "fichier")
    assert not PUT.objects.exists()


def test_r34_a_data_collection_proposal_states_the_report_periodicity(client_labo, aac):
    reponse = client_labo.post(
        f"/laboratoire/statuts/{aac.pk}/proposition-put/",
        {"version": "1", "recueil_nominatif": "on", "fichier": pdf()},
    )
    assert reponse.status_code == 400
    assert erreur_du_champ(reponse.content.decode(), "periodicite_rapports_mois") == (
        "Un PUT avec recueil de données fixe la périodicité des rapports de synthèse du laboratoire. (R34)"
    )


def test_r34_the_laboratory_submits_its_report_which_becomes_received(client_labo, aac, utilisateur_labo):
    rapport = RapportFactory(acces=aac)
    espace = client_labo.get("/laboratoire/").content.decode()
    assert f'<a href="/laboratoire/rapports/{rapport.pk}/depot/">déposer le rapport</a>' in espace
    reponse = client_labo.post(f"/laboratoire/rapports/{rapport.pk}/depot/", {"fichier": pdf("rapport.pdf")})
    assert reponse.status_code == 302
    rapport.refresh_from_db()
    assert (rapport.statut, rapport.depose_par, rapport.type_mime) == ("recu", utilisateur_labo, "application/pdf")
    assert rapport.fichier.storage.exists(rapport.fichier.name)
    assert client_labo.post(f"/laboratoire/rapports/{rapport.pk}/depot/", {"fichier": pdf()}).status_code == 400


def test_r34_the_ansm_downloads_the_submitted_report(client_labo, aac, evaluateur, client):
    from tests.conftest import connecter

    rapport = RapportFactory(acces=aac)
    client_labo.post(f"/laboratoire/rapports/{rapport.pk}/depot/", {"fichier": pdf("rapport.pdf")})
    client_labo.logout()
    connecter(client, evaluateur)
    reponse = client.get(f"/ansm/referentiel/rapports/{rapport.pk}/fichier/")
    assert reponse["Content-Type"] == "application/pdf"
    assert b"".join(reponse.streaming_content).startswith(b"%PDF-")


def test_r23_an_extension_request_waits_for_the_ansm_and_only_one_at_a_time(client_labo, aac, utilisateur_labo):
    url = f"/laboratoire/statuts/{aac.pk}/prolongation/"
    reponse = client_labo.post(url, {"duree_mois": "5", "motif": "Recrutement de l'essai de phase III retardé."})
    assert reponse.status_code == 302
    demande = DemandeProlongation.objects.get()
    assert (demande.duree_mois, demande.statut, demande.laboratoire, demande.demandee_par) == (
        5,
        "deposee",
        utilisateur_labo.laboratoire,
        utilisateur_labo,
    )
    aac.refresh_from_db()
    assert aac.date_limite_depot_aap == J(2025, 1, 15)  # unchanged until the ANSM grants it
    deuxieme = client_labo.post(url, {"duree_mois": "2", "motif": "Encore."})
    assert deuxieme.status_code == 400
    assert "Une demande de prolongation est déjà en attente pour ce médicament." in deuxieme.content.decode()


def test_r23_asking_for_more_than_6_months_is_refused_on_its_field(client_labo, aac):
    reponse = client_labo.post(f"/laboratoire/statuts/{aac.pk}/prolongation/", {"duree_mois": "9", "motif": "M."})
    assert reponse.status_code == 400
    assert erreur_du_champ(reponse.content.decode(), "duree_mois") == (
        "Une prolongation du délai de dépôt de l'AAP dure de 1 à 6 mois au plus. (R23)"
    )
    assert not DemandeProlongation.objects.exists()


def test_r23_only_a_commitment_to_file_an_aap_can_be_extended(utilisateur_labo, laboratoire):
    sans_engagement = AccesFactory(specialite__titulaire=laboratoire)
    with pytest.raises(ReferentielError, match="Seul un AAC dont le laboratoire s'est engagé"):
        services.prolongation_demander(acces=sans_engagement, duree_mois=3, motif="M.", par=utilisateur_labo)


def test_r29_the_laboratory_declares_a_change_of_rights_holder(client_labo, aac, utilisateur_labo):
    reponse = client_labo.post(
        f"/laboratoire/produits/{aac.specialite_id}/changement-titulaire/",
        {"nouveau_titulaire": "Repreneur Pharma", "date_effet": "2026-09-01", "commentaire": "Cession d'actifs."},
    )
    assert reponse.status_code == 302
    declaration = DeclarationChangementTitulaire.objects.get()
    assert (declaration.nouveau_titulaire, declaration.date_effet, declaration.declaree_par) == (
        "Repreneur Pharma",
        J(2026, 9, 1),
        utilisateur_labo,
    )
    aac.specialite.refresh_from_db()
    assert aac.specialite.titulaire == utilisateur_labo.laboratoire  # the ANSM applies it, not the declaration


def test_r29_a_declaration_names_the_new_holder_or_exploitant(client_labo, aac):
    reponse = client_labo.post(
        f"/laboratoire/produits/{aac.specialite_id}/changement-titulaire/", {"date_effet": "2026-09-01"}
    )
    assert reponse.status_code == 400
    assert erreur_du_champ(reponse.content.decode(), "nouveau_titulaire") == (
        "Indiquez le nouveau titulaire des droits ou le nouvel exploitant. (R29)"
    )


def test_the_ansm_cannot_use_the_laboratorys_procedures(aac, evaluateur):
    with pytest.raises(ReferentielError, match="Seul le laboratoire titulaire ou exploitant"):
        services.prolongation_demander(acces=aac, duree_mois=3, motif="M.", par=evaluateur)
