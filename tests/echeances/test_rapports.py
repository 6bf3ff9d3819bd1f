"""R34: the periodic synthesis report due under the PUT-SP's periodicity — reminders to the laboratory before the
due date, the overdue ones listed for the ANSM, and the next period's report expected once one is received."""

import datetime

import pytest

from referentiel import services
from referentiel.enums import StatutRapport, TypePUT
from referentiel.models import RapportPeriodique
from referentiel.tasks import rapports_periodiques_traiter
from tests.conftest import connecter
from tests.factories import (
    AccesFactory,
    LaboratoireFactory,
    PUTFactory,
    RapportFactory,
    SpecialiteFactory,
    UtilisateurFactory,
)

from .conftest import le, rappels

pytestmark = pytest.mark.django_db

ECHEANCE = datetime.date(2026, 9, 14)


@pytest.fixture
def rapport():
    laboratoire = LaboratoireFactory(email="pharmacovigilance@labo.example")
    acces = AccesFactory(specialite=SpecialiteFactory(titulaire=laboratoire, nom="OPTIMAB 5 mg"))
    PUTFactory(acces=acces, type_put=TypePUT.PUT_SP, periodicite_rapports_mois=6)
    return RapportFactory(
        acces=acces,
        periode_debut=datetime.date(2026, 1, 15),
        periode_fin=datetime.date(2026, 7, 14),
        date_echeance=ECHEANCE,
    )


def test_r34_rappels_au_laboratoire_30_puis_7_jours_avant_l_echeance(rapport):
    with le(ECHEANCE - datetime.timedelta(days=31)):
        assert rapports_periodiques_traiter() == {"rapports_crees": 0, "rappels": 0}
    with le(ECHEANCE - datetime.timedelta(days=30)):
        assert rapports_periodiques_traiter() == {"rapports_crees": 0, "rappels": 1}
        assert rapports_periodiques_traiter() == {"rapports_crees": 0, "rappels": 0}
    rappel = rappels(f"rapport-j30:{rapport.pk}:2026-09-14:")["pharmacovigilance@labo.example"]
    assert rappel.sujet == "Rapport périodique de synthèse de OPTIMAB 5 mg attendu le 14/09/2026"
    assert "pour la période du 15/01/2026 au 14/07/2026 est attendu par l'ANSM le 14/09/2026, dans 30 jours" in (
        rappel.corps
    )
    assert f"https://referentiel-ad.example/laboratoire/rapports/{rapport.pk}/depot/" in rappel.corps
    with le(ECHEANCE - datetime.timedelta(days=7)):
        assert rapports_periodiques_traiter()["rappels"] == 1
    assert rappels(f"rapport-j7:{rapport.pk}:")


def test_r34_un_rapport_recu_n_est_plus_rappele(rapport):
    with le(ECHEANCE - datetime.timedelta(days=40)):
        services.rapport_recevoir(rapport=rapport)
    with le(ECHEANCE - datetime.timedelta(days=30)):
        assert rapports_periodiques_traiter()["rappels"] == 0


def test_r34_le_rapport_en_retard_figure_dans_la_liste_de_l_ansm(rapport, client):
    with le(ECHEANCE + datetime.timedelta(days=2)):
        connecter(client, UtilisateurFactory(evaluateur=True))
        page = client.get("/ansm/echeances/").content.decode()
    section = page.split('id="echeances-rapports"')[1].split("</section>")[0]
    assert '<strong class="echeances-en-retard gestion-chiffre--alerte">1</strong> en retard' in section
    assert f'<a href="/ansm/referentiel/rapports/{rapport.pk}/">OPTIMAB 5 mg</a>' in section
    assert "période du 15/01/2026 au 14/07/2026" in section
    assert 'href="/ansm/referentiel/rapports/?en_retard=on"' in section


def test_r34_le_rapport_suivant_est_attendu_selon_la_periodicite_du_put_une_fois_le_precedent_recu(rapport):
    with le(datetime.date(2026, 9, 1)):
        assert rapports_periodiques_traiter()["rapports_crees"] == 0  # still expected: no next one yet
        services.rapport_recevoir(rapport=rapport)
        assert rapports_periodiques_traiter()["rapports_crees"] == 1
        assert rapports_periodiques_traiter()["rapports_crees"] == 0
    suivant = RapportPeriodique.objects.exclude(pk=rapport.pk).get()
    assert (suivant.periode_debut, suivant.periode_fin, suivant.date_echeance, suivant.statut) == (
        datetime.date(2026, 7, 15),
        datetime.date(2027, 1, 14),
        datetime.date(2027, 3, 14),  # as long after its period as the previous one (2 months)
        StatutRapport.ATTENDU,
    )
    assert rapport.acces.specialite.historique.filter(action="Rapport de synthèse attendu").count() == 1


def test_r34_sans_periodicite_au_put_pas_de_rapport_suivant(rapport):
    rapport.acces.puts.update(periodicite_rapports_mois=None)
    with le(datetime.date(2026, 9, 1)):
        services.rapport_recevoir(rapport=rapport)
        assert rapports_periodiques_traiter()["rapports_crees"] == 0
    assert RapportPeriodique.objects.count() == 1
