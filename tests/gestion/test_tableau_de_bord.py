"""The ANSM dashboard: what waits for the ANSM, counted on a known data set, in a fixed number of queries."""

import datetime
import re

import pytest
import time_machine
from django.utils import timezone

from tests.factories import AccesFactory, DemandeFactory, PUTFactory, RapportFactory
from tests.factories.gestion import CPCFactory, DeclarationFactory, DemandeProlongationFactory

pytestmark = pytest.mark.django_db

J = datetime.date


@pytest.fixture(autouse=True)
def _date():
    with time_machine.travel(datetime.datetime(2026, 6, 15, 10, 0, tzinfo=timezone.get_current_timezone())):
        yield


def chiffre(contenu: str, identifiant: str) -> int:
    return int(re.search(rf'id="{identifiant}">(\d+)<', contenu).group(1))


def peupler(n: int = 1) -> None:
    """n of each thing the dashboard counts, and as many that it must not count."""
    for _ in range(n):
        # Requests: waiting (evaluation, complement asked or given) vs. a draft and a decided one.
        DemandeFactory(en_evaluation=True)
        DemandeFactory(complement_fourni=True)
        DemandeFactory()
        DemandeFactory(octroyee=True)
        # R23 commitments: overdue, due within 60 days, due later, and an overdue one already met by an AAP.
        AccesFactory(riph=True, date_limite_depot_aap=J(2026, 6, 1))
        AccesFactory(riph=True, date_limite_depot_aap=J(2026, 7, 30))
        AccesFactory(riph=True, date_limite_depot_aap=J(2026, 12, 1))
        tenu = AccesFactory(riph=True, date_limite_depot_aap=J(2026, 5, 1))
        AccesFactory(specialite=tenu.specialite, aap=True)
        # R38: a CPC reaching its term within 6 months, one later, one draft.
        CPCFactory(publie=True, date_debut=J(2023, 10, 1), date_fin=J(2026, 10, 1))
        CPCFactory(publie=True, date_debut=J(2025, 1, 1), date_fin=J(2028, 1, 1))
        CPCFactory()
        # R34: reports overdue, due within 30 days, received, validated.
        RapportFactory(date_echeance=J(2026, 6, 1))
        RapportFactory(date_echeance=J(2026, 7, 1))
        RapportFactory(statut="recu", date_reception=J(2026, 6, 2))
        RapportFactory(publie=True)
        # Laboratories: one of each pending request, and a settled one.
        DemandeProlongationFactory(acces__date_limite_depot_aap=J(2027, 1, 15))
        DemandeProlongationFactory(acces__date_limite_depot_aap=J(2027, 1, 15), statut="refusee", reponse="Non.")
        DeclarationFactory()
        PUTFactory(proposition=True)


def test_the_dashboard_counts_what_waits_for_the_ansm(client_ansm):
    peupler()
    contenu = client_ansm.get("/ansm/").content.decode()
    assert chiffre(contenu, "nombre-demandes-a-instruire") == 2
    assert chiffre(contenu, "nombre-engagements-en-retard") == 1
    assert chiffre(contenu, "nombre-engagements-a-echeance") == 1
    assert chiffre(contenu, "nombre-cpc-a-echeance") == 1
    assert chiffre(contenu, "nombre-cpc-en-projet") == 1
    assert chiffre(contenu, "nombre-rapports-en-retard") == 1
    assert chiffre(contenu, "nombre-rapports-a-echeance") == 1
    assert chiffre(contenu, "nombre-rapports-a-evaluer") == 1
    assert chiffre(contenu, "nombre-demandes-laboratoires") == 3
    assert '<a href="/ansm/demandes/">Demandes d\'AAC à instruire</a>' in contenu
    assert 'href="/ansm/statistiques/"' in contenu
    assert 'href="/ansm/referentiel/engagements-aap/?a_echeance=1"' in contenu


def test_the_engagements_page_lists_the_commitments_not_met_with_the_overdue_highlighted(client_ansm):
    peupler()
    contenu = client_ansm.get("/ansm/referentiel/engagements-aap/", {"a_echeance": "1"}).content.decode()
    assert contenu.count('<tr class="gestion-en-retard">') == 1
    assert contenu.count('<td><a href="/ansm/referentiel/') == 2
    tous = client_ansm.get("/ansm/referentiel/engagements-aap/").content.decode()
    # the three commitments not met, and the two of the laboratories' requests; not the one met by an AAP
    assert tous.count('<td><a href="/ansm/referentiel/') == 5
    assert "demande en attente" in tous


@pytest.mark.parametrize("n", [1, 5])
def test_the_dashboard_runs_a_fixed_number_of_queries(client_ansm, django_assert_num_queries, n):
    peupler(n)
    # session, user, OTP device, statuses, reports, laboratories' requests, AAC requests, demonstration banner,
    # session save (3)
    with django_assert_num_queries(11):
        contenu = client_ansm.get("/ansm/").content.decode()
    assert chiffre(contenu, "nombre-demandes-laboratoires") == 3 * n
