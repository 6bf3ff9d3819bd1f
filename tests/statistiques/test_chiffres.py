"""The statistics' figures on a known data set (tests/statistiques/conftest.py): requests per month and per
medicine, the share of immediate grants (R15), the median and 90th percentile of the time to decision, refusals by
reason (R18), the backlog by age; computed by PostgreSQL in a fixed number of queries."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from demandes.enums import SensDecision
from demandes.statistiques import statistiques_calculer, statistiques_indicateurs, statistiques_tableaux

from .conftest import MAINTENANT, PARIS, decidee, le

pytestmark = pytest.mark.django_db

DEBUT, FIN = datetime.date(2026, 1, 1), datetime.date(2026, 3, 31)


@pytest.fixture
def stats(jeu_de_donnees):
    return statistiques_calculer(debut=DEBUT, fin=FIN, maintenant=MAINTENANT)


def test_demandes_soumises_et_decisions_par_mois(stats):
    assert stats["par_mois"] == [
        {"mois": datetime.date(2026, 1, 1), "soumises": 3, "octroyees": 4, "refusees": 0},
        {"mois": datetime.date(2026, 2, 1), "soumises": 3, "octroyees": 1, "refusees": 1},
        {"mois": datetime.date(2026, 3, 1), "soumises": 3, "octroyees": 0, "refusees": 2},
    ]


def test_demandes_par_medicament_les_plus_demandes_d_abord(stats):
    assert stats["par_medicament"] == [
        {"medicament": "ALPHAMAB 10 mg, comprimé", "demandes": 5, "octroyees": 3, "refusees": 1},
        {"medicament": "BETAMAB 5 mg/mL, solution injectable", "demandes": 3, "octroyees": 1, "refusees": 1},
        {"medicament": "XB-4021", "demandes": 1, "octroyees": 0, "refusees": 1},
    ]


def test_r15_part_des_octrois_immediats(stats):
    assert stats["decisions"] == {
        "total": 8,
        "octrois": 5,
        "octrois_immediats": 2,
        "refus": 3,
        "part_immediats_octrois": 40.0,
        "part_immediats_decisions": 25.0,
    }


def test_mediane_et_90e_centile_du_delai_de_decision(stats):
    # All decisions: 0, 0, 5, 10, 15, 15, 20, 30 days -> median between 10 and 15, p90 at 6.3 -> 20 + 0.3 x 10.
    # After evaluation: 5, 10, 15, 15, 20, 30 -> median 15, p90 at 4.5 -> 20 + 0.5 x 10.
    assert stats["delais"] == {
        "nombre": 8,
        "median_jours": 12.5,
        "p90_jours": 23.0,
        "nombre_evalues": 6,
        "median_evalues_jours": 15.0,
        "p90_evalues_jours": 25.0,
    }


def test_r18_refus_par_motif_tous_les_motifs_listes(stats):
    assert [(m["motif"], m["nombre"], m["part"]) for m in stats["refus_par_motif"]] == [
        ("alternative_amm", 1, 33.3),
        ("donnees_insuffisantes", 2, 66.7),
        ("investigation", 0, 0.0),
        ("essai_ou_aap", 0, 0.0),
        ("autre", 0, 0.0),
    ]


def test_demandes_en_attente_par_anciennete(stats):
    attente = stats["en_attente"]
    assert (attente["total"], attente["urgences_vitales"]) == (2, 1)
    assert attente["plus_ancienne"] == le(3, 5)
    assert [(t["tranche"], t["nombre"]) for t in attente["tranches"]] == [
        ("moins_7", 0),
        ("7_14", 1),
        ("15_30", 1),
        ("31_60", 0),
        ("plus_60", 0),
    ]


def test_les_bornes_sont_des_jours_entiers_a_l_heure_de_paris(db):
    fin_de_mars = datetime.datetime(2026, 3, 31, 23, 30, tzinfo=timezone.get_fixed_timezone(120))
    debut_avril = datetime.datetime(2026, 4, 1, 0, 10, tzinfo=timezone.get_fixed_timezone(120))
    decidee(soumise=fin_de_mars, delai_jours=0, sens=SensDecision.OCTROI, immediate=True)
    decidee(soumise=debut_avril, delai_jours=0, sens=SensDecision.OCTROI, immediate=True)
    mars = statistiques_calculer(debut=datetime.date(2026, 3, 1), fin=datetime.date(2026, 3, 31))
    assert mars["par_mois"] == [{"mois": datetime.date(2026, 3, 1), "soumises": 1, "octroyees": 1, "refusees": 0}]
    assert mars["decisions"]["total"] == 1
    avril = statistiques_calculer(debut=datetime.date(2026, 4, 1), fin=datetime.date(2026, 4, 30))
    assert avril["par_mois"][0]["soumises"] == 1


def test_une_periode_sans_donnees_donne_des_zeros_et_pas_de_delai(db):
    stats = statistiques_calculer(debut=datetime.date(2025, 11, 15), fin=datetime.date(2026, 1, 10))
    assert [m["mois"] for m in stats["par_mois"]] == [
        datetime.date(2025, 11, 1),
        datetime.date(2025, 12, 1),
        datetime.date(2026, 1, 1),
    ]
    assert stats["decisions"]["part_immediats_octrois"] is None
    assert stats["delais"]["median_jours"] is None and stats["par_medicament"] == []
    with pytest.raises(ValueError):
        statistiques_calculer(debut=datetime.date(2026, 2, 1), fin=datetime.date(2026, 1, 1))


def test_cinq_requetes_quel_que_soit_le_volume(jeu_de_donnees):
    with CaptureQueriesContext(connection) as petit:
        statistiques_calculer(debut=DEBUT, fin=FIN, maintenant=MAINTENANT)
    alpha, _ = jeu_de_donnees
    for jour in range(1, 25):
        decidee(
            alpha, soumise=datetime.datetime(2026, 2, jour, 9, tzinfo=PARIS), delai_jours=3, sens=SensDecision.OCTROI
        )
    with CaptureQueriesContext(connection) as grand:
        stats = statistiques_calculer(debut=DEBUT, fin=FIN, maintenant=MAINTENANT)
    assert len(petit) == len(grand) == 5
    assert stats["decisions"]["total"] == 8 + 24


def test_les_tableaux_et_les_indicateurs_ecrivent_les_chiffres_en_francais(stats):
    tableaux = statistiques_tableaux(stats)
    assert tableaux["par-mois"]["lignes"][0] == ["janvier 2026", "3", "4", "0"]
    assert tableaux["delais"]["lignes"] == [
        ["Toutes les décisions", "8", "12,5", "23"],
        ["Décisions après évaluation (hors octrois immédiats)", "6", "15", "25"],
    ]
    assert tableaux["refus-par-motif"]["lignes"][1][1:] == ["2", "66,7"]
    assert tableaux["en-attente"]["lignes"][-1] == ["Total", "2"]
    indicateurs = dict(statistiques_indicateurs(stats))
    assert indicateurs["Demandes d'AAC soumises à l'ANSM"] == "9"
    assert indicateurs["Part des octrois immédiats parmi les octrois (%)"] == "40"
    assert indicateurs["Délai médian de décision (jours)"] == "12,5"
