"""The laboratories' requests as the ANSM settles them: AAP deadline extensions granted through the existing
service or refused with a reason (R23), changes of rights holder applied to the product with history or rejected
(R29), PUT proposals validated (R32)."""

import datetime

import pytest

from comptes.models import Notification
from referentiel import services
from referentiel.exceptions import ReferentielError
from referentiel.models import HistoriqueFiche, Laboratoire, ProlongationEngagementAAP
from tests.factories import LaboratoireFactory, PUTFactory, SpecialiteFactory
from tests.factories.gestion import DeclarationFactory, DemandeProlongationFactory
from tests.gestion.conftest import erreur_du_champ

pytestmark = pytest.mark.django_db

J = datetime.date


def test_r23_granting_a_request_records_the_extension_and_moves_the_deadline(client_ansm, evaluateur):
    demande = DemandeProlongationFactory(duree_mois=4, acces__specialite__titulaire__email="aap@labo.example")
    page = client_ansm.get("/ansm/referentiel/laboratoires/").content.decode()
    assert f'id="prolongation-{demande.pk}"' in page and "<strong>4 mois</strong>" in page

    reponse = client_ansm.post(
        f"/ansm/referentiel/laboratoires/prolongations/{demande.pk}/accorder/",
        {f"prolongation-{demande.pk}-motif": "Accordé au vu du calendrier."},
    )
    assert reponse.status_code == 302
    demande.refresh_from_db()
    demande.acces.refresh_from_db()
    prolongation = ProlongationEngagementAAP.objects.get()
    assert (demande.statut, demande.prolongation, demande.traitee_par) == ("accordee", prolongation, evaluateur)
    assert (prolongation.duree_mois, prolongation.accordee_par) == (4, evaluateur)
    assert demande.acces.date_limite_depot_aap == J(2025, 5, 15)  # 15/01/2024 + 12 + 4 months
    assert HistoriqueFiche.objects.filter(action="Prolongation du délai de dépôt de l'AAP").count() == 1
    courriel = Notification.objects.get(destinataire="aap@labo.example")
    assert "Nouvelle date limite de dépôt : 15/05/2025." in courriel.corps


def test_r23_a_refusal_needs_a_reason_shown_on_its_field(client_ansm):
    demande = DemandeProlongationFactory()
    url = f"/ansm/referentiel/laboratoires/prolongations/{demande.pk}/refuser/"
    reponse = client_ansm.post(url, {f"prolongation-{demande.pk}-motif": ""})
    assert reponse.status_code == 400
    assert erreur_du_champ(reponse.content.decode(), f"prolongation-{demande.pk}-motif") == (
        "Motivez le refus de la prolongation."
    )
    client_ansm.post(url, {f"prolongation-{demande.pk}-motif": "Aucun élément nouveau."})
    demande.refresh_from_db()
    assert (demande.statut, demande.reponse) == ("refusee", "Aucun élément nouveau.")
    assert not ProlongationEngagementAAP.objects.exists()


def test_r23_a_request_is_settled_once(evaluateur):
    demande = DemandeProlongationFactory()
    services.prolongation_accorder(demande=demande, par=evaluateur)
    with pytest.raises(ReferentielError, match="Cette demande est déjà traitée"):
        services.prolongation_refuser(demande=demande, motif="Trop tard.", par=evaluateur)
    assert ProlongationEngagementAAP.objects.count() == 1


def test_r29_applying_a_declared_change_updates_the_holder_and_the_exploitant_with_history(client_ansm, evaluateur):
    ancien = LaboratoireFactory(nom="Ancien titulaire")
    specialite = SpecialiteFactory(titulaire=ancien, exploitant=LaboratoireFactory(nom="Ancien exploitant"))
    existant = LaboratoireFactory(nom="Nouvel Exploitant SAS")
    declaration = DeclarationFactory(
        specialite=specialite, nouveau_titulaire="Repreneur Pharma", nouvel_exploitant="nouvel exploitant sas"
    )
    reponse = client_ansm.post(
        f"/ansm/referentiel/laboratoires/declarations/{declaration.pk}/appliquer/",
        {f"declaration-{declaration.pk}-motif": ""},
    )
    assert reponse.status_code == 302
    specialite.refresh_from_db()
    declaration.refresh_from_db()
    assert specialite.titulaire == Laboratoire.objects.get(nom="Repreneur Pharma")
    assert specialite.exploitant == existant  # matched by name, case ignored
    assert declaration.statut == "appliquee"
    ligne = HistoriqueFiche.objects.get(specialite=specialite, action="Modification de la spécialité")
    assert (ligne.auteur, ligne.avant, ligne.apres) == (
        evaluateur,
        {"titulaire": "Ancien titulaire", "exploitant": "Ancien exploitant"},
        {"titulaire": "Repreneur Pharma", "exploitant": "Nouvel Exploitant SAS"},
    )


def test_r29_a_change_to_no_exploitant_is_allowed(evaluateur):
    specialite = SpecialiteFactory(exploitant=LaboratoireFactory())
    declaration = DeclarationFactory(specialite=specialite, nouveau_titulaire="", sans_exploitant=True)
    services.declaration_titulaire_appliquer(declaration=declaration, par=evaluateur)
    specialite.refresh_from_db()
    assert specialite.exploitant is None


def test_r29_a_rejected_declaration_leaves_the_product_unchanged(client_ansm):
    declaration = DeclarationFactory()
    titulaire = declaration.specialite.titulaire
    client_ansm.post(
        f"/ansm/referentiel/laboratoires/declarations/{declaration.pk}/rejeter/",
        {f"declaration-{declaration.pk}-motif": "Aucune pièce justificative."},
    )
    declaration.refresh_from_db()
    declaration.specialite.refresh_from_db()
    assert (declaration.statut, declaration.reponse) == ("rejetee", "Aucune pièce justificative.")
    assert declaration.specialite.titulaire == titulaire


def test_r32_a_laboratorys_put_proposal_is_validated_and_becomes_public(client, client_ansm):
    put = PUTFactory(proposition=True, crpv="", acces__specialite__nom="PROPOSE 1 mg")
    assert f'id="proposition-{put.pk}"' in client_ansm.get("/ansm/referentiel/laboratoires/").content.decode()
    reponse = client_ansm.post(
        f"/ansm/referentiel/put/{put.pk}/valider/", {"date_validation": "2026-02-01", "crpv": "CRPV de Bordeaux"}
    )
    assert reponse.status_code == 302
    put.refresh_from_db()
    assert (put.est_proposition, put.date_validation, put.crpv) == (False, J(2026, 2, 1), "CRPV de Bordeaux")
    assert "CRPV de Bordeaux" in client.get(f"/referentiel/{put.acces.specialite.slug}/").content.decode()


@pytest.mark.parametrize("nombre", [2, 20])
def test_the_laboratories_requests_page_runs_a_fixed_number_of_queries(client_ansm, django_assert_num_queries, nombre):
    for _ in range(nombre):
        DemandeProlongationFactory()
        DeclarationFactory()
        PUTFactory(proposition=True)
    # session, user, OTP device, extension requests, declarations, proposals, demonstration banner, session (3)
    with django_assert_num_queries(10):
        reponse = client_ansm.get("/ansm/referentiel/laboratoires/")
    assert reponse.content.decode().count('<div class="fr-card fr-p-3w fr-mb-3w" id="prolongation-') == nombre
