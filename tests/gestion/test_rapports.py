"""Periodic synthesis reports in the back-office (R34, R35): the list by state with the overdue ones highlighted, and
the steps: received, under evaluation, validated with a résumé, résumé published on the public fiche."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from referentiel.models import HistoriqueFiche, RapportPeriodique
from tests.factories import AccesFactory, RapportFactory
from tests.gestion.conftest import erreur_du_champ, normaliser

pytestmark = pytest.mark.django_db

J = datetime.date


@pytest.fixture(autouse=True)
def _date():
    with time_machine.travel(datetime.datetime(2026, 6, 15, 10, 0, tzinfo=timezone.get_current_timezone())):
        yield


def test_the_list_shows_each_state_and_highlights_overdue_reports(client_ansm):
    en_retard = RapportFactory(acces__specialite__nom="RETARD 1 mg", date_echeance=J(2026, 6, 1))
    a_venir = RapportFactory(acces__specialite__nom="A VENIR 1 mg", date_echeance=J(2026, 7, 1))
    recu = RapportFactory(acces__specialite__nom="RECU 1 mg", statut="recu", date_reception=J(2026, 5, 1))
    valide = RapportFactory(acces__specialite__nom="VALIDE 1 mg", publie=True)
    contenu = normaliser(client_ansm.get("/ansm/referentiel/rapports/").content.decode())
    assert f'<tr class="gestion-en-retard" id="rapport-{en_retard.pk}">' in contenu
    assert f'id="rapport-{a_venir.pk}"' in contenu
    assert f'<tr class="gestion-en-retard" id="rapport-{a_venir.pk}">' not in contenu
    # Received first (to evaluate), then due, then validated.
    assert contenu.index("RECU 1 mg") < contenu.index("RETARD 1 mg") < contenu.index("A VENIR 1 mg")
    assert contenu.index("A VENIR 1 mg") < contenu.index("VALIDE 1 mg")
    assert f'id="rapport-{recu.pk}"' in contenu and f'id="rapport-{valide.pk}"' in contenu

    filtre = client_ansm.get("/ansm/referentiel/rapports/", {"en_retard": "on"}).content.decode()
    assert "RETARD 1 mg" in filtre and "A VENIR 1 mg" not in filtre and "RECU 1 mg" not in filtre
    par_etat = client_ansm.get("/ansm/referentiel/rapports/", {"statut": "valide"}).content.decode()
    assert "VALIDE 1 mg" in par_etat and "RECU 1 mg" not in par_etat


def test_r34_r35_a_report_goes_from_due_to_published_resume(client, client_ansm, evaluateur):
    acces = AccesFactory(specialite__nom="SUIVI 5 mg")
    rapport = RapportFactory(acces=acces)
    url = f"/ansm/referentiel/rapports/{rapport.pk}/"

    client_ansm.post(url + "recevoir/")
    rapport.refresh_from_db()
    assert (rapport.statut, rapport.date_reception) == ("recu", J(2026, 6, 15))

    client_ansm.post(url + "evaluer/")
    rapport.refresh_from_db()
    assert rapport.statut == "en_evaluation"

    client_ansm.post(url + "valider/", {"resume": "Aucun signal nouveau ; rapport bénéfice/risque favorable."})
    rapport.refresh_from_db()
    assert (rapport.statut, rapport.date_validation, rapport.resume_publie_le) == ("valide", J(2026, 6, 15), None)
    assert "Aucun signal nouveau" not in client.get(f"/referentiel/{acces.specialite.slug}/").content.decode()

    reponse = client_ansm.post(url + "publier/", follow=True)
    rapport.refresh_from_db()
    assert rapport.resume_publie_le == J(2026, 6, 15)
    assert '<dd id="resume-publie">15/06/2026</dd>' in normaliser(reponse.content.decode())
    fiche_publique = client.get(f"/referentiel/{acces.specialite.slug}/").content.decode()
    assert "Aucun signal nouveau ; rapport bénéfice/risque favorable." in fiche_publique
    actions = list(
        HistoriqueFiche.objects.filter(specialite=acces.specialite, auteur=evaluateur)
        .order_by("le", "id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "Rapport de synthèse reçu",
        "Rapport de synthèse en évaluation",
        "Résumé de rapport validé",
        "Publication d'un résumé de rapport",
    ]


def test_r35_validating_without_a_resume_is_refused_on_its_field(client_ansm):
    rapport = RapportFactory(statut="recu", date_reception=J(2026, 5, 1))
    reponse = client_ansm.post(f"/ansm/referentiel/rapports/{rapport.pk}/valider/", {"resume": "  "})
    assert reponse.status_code == 400
    assert erreur_du_champ(reponse.content.decode(), "resume") == "Ce champ est obligatoire."
    rapport.refresh_from_db()
    assert rapport.statut == "recu"


def test_r35_a_due_report_cannot_be_validated_before_it_is_received(client_ansm):
    rapport = RapportFactory()
    reponse = client_ansm.post(f"/ansm/referentiel/rapports/{rapport.pk}/evaluer/", follow=True)
    assert "Un rapport « Attendu » ne peut pas passer à « En évaluation ». (R35)" in reponse.content.decode().replace(
        "&#x27;", "'"
    ).replace("&quot;", '"')
    rapport.refresh_from_db()
    assert rapport.statut == "attendu"


def test_an_expected_report_is_recorded_from_the_fiche(client_ansm):
    acces = AccesFactory()
    reponse = client_ansm.post(
        f"/ansm/referentiel/{acces.specialite_id}/rapports/nouveau/",
        {"acces": acces.pk, "periode_debut": "2026-01-01", "periode_fin": "2026-06-30", "date_echeance": "2026-08-31"},
    )
    rapport = RapportPeriodique.objects.get(acces=acces)
    assert reponse["Location"] == f"/ansm/referentiel/rapports/{rapport.pk}/"
    assert (rapport.statut, rapport.date_echeance) == ("attendu", J(2026, 8, 31))


@pytest.mark.parametrize("nombre", [3, 40])
def test_the_report_list_runs_a_fixed_number_of_queries(client_ansm, django_assert_num_queries, nombre):
    for _ in range(nombre):
        RapportFactory()
    # session, user, OTP device, count, rows, demonstration banner, session save (3)
    with django_assert_num_queries(9):
        reponse = client_ansm.get("/ansm/referentiel/rapports/")
    assert reponse.content.decode().count('<td><a href="/ansm/referentiel/rapports/') == min(nombre, 25)
