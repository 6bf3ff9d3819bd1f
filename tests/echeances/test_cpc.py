"""R38: a CPC lasts 3 years, renewable — the ANSM is reminded 6 and 2 months before its term, and a CPC not renewed
ends the day after."""

import datetime

import pytest
from django.core.management import call_command

from referentiel import services
from referentiel.enums import EtatAcces
from referentiel.tasks import cpc_echeances_traiter
from tests.factories import UtilisateurFactory
from tests.factories.gestion import CPCFactory

from .conftest import le, rappels

pytestmark = pytest.mark.django_db

TERME = datetime.date(2026, 9, 1)


@pytest.fixture
def cpc():
    UtilisateurFactory(evaluateur=True, email="evaluatrice@ansm.example")
    UtilisateurFactory(evaluateur=True, email="parti@ansm.example", is_active=False)
    UtilisateurFactory(prescripteur=True, email="medecin@chu.example")
    return CPCFactory(publie=True, date_debut=datetime.date(2023, 9, 2), date_fin=TERME)


def test_r38_rappels_a_l_ansm_6_puis_2_mois_avant_le_terme(cpc):
    with le(datetime.date(2026, 2, 28)):
        assert cpc_echeances_traiter() == {"rappels": 0, "cpc_termines": 0}
    with le(datetime.date(2026, 3, 1)):
        assert cpc_echeances_traiter() == {"rappels": 1, "cpc_termines": 0}
    six_mois = rappels(f"cpc-terme-m6:{cpc.pk}:2026-09-01:")
    assert list(six_mois) == ["evaluatrice@ansm.example"]
    rappel = six_mois["evaluatrice@ansm.example"]
    assert rappel.sujet == f"CPC de {cpc.specialite.nom} : terme le 01/09/2026, à renouveler ou non"
    assert f"https://referentiel-ad.example/ansm/referentiel/cpc/{cpc.pk}/" in rappel.corps
    with le(datetime.date(2026, 7, 1)):
        assert cpc_echeances_traiter()["rappels"] == 1
        assert cpc_echeances_traiter()["rappels"] == 0
    assert list(rappels(f"cpc-terme-m2:{cpc.pk}:")) == ["evaluatrice@ansm.example"]


def test_r38_un_cpc_non_renouvele_prend_fin_le_lendemain_de_son_terme(cpc, capsys):
    with le(TERME):
        assert cpc_echeances_traiter()["cpc_termines"] == 0
    with le(TERME + datetime.timedelta(days=1)):
        call_command("executer_tache", "cpc-echeances")
        assert "cpc-echeances : {" in capsys.readouterr().out
        assert cpc_echeances_traiter()["cpc_termines"] == 0
    cpc.refresh_from_db()
    assert (cpc.etat, cpc.date_fin) == (EtatAcces.TERMINE, TERME)
    historique = cpc.specialite.historique.get(action="Fin du CPC")
    assert historique.apres["etat"] == "termine" and historique.auteur is None


def test_r38_un_cpc_renouvele_ne_prend_pas_fin_et_ses_rappels_repartent(cpc):
    with le(datetime.date(2026, 8, 20)):
        services.cpc_renouveler(acces=cpc, par=UtilisateurFactory(evaluateur=True))
    with le(TERME + datetime.timedelta(days=1)):
        assert cpc_echeances_traiter() == {"rappels": 0, "cpc_termines": 0}
    cpc.refresh_from_db()
    assert (cpc.etat, cpc.date_fin) == (EtatAcces.EN_COURS, datetime.date(2029, 8, 20))
    with le(datetime.date(2029, 2, 20)):
        assert cpc_echeances_traiter()["rappels"] == 2  # the évaluatrice and the one who renewed it
    assert rappels(f"cpc-terme-m6:{cpc.pk}:2029-08-20:")
