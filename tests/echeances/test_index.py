"""Each scan reads its due items through an index on the deadline's date: its cost follows the items due, not the
table. On a test database the planner prefers a sequential scan of a few rows, so sequential scans are disabled
for the EXPLAIN: a plan still without the index would mean the query no longer matches it (a partial index whose
condition the query does not imply, a function on the column...). benchmarks/deadlines.py shows the plans on
1,000,000 requests."""

import datetime

import pytest
from django.db import connection, transaction

from demandes import echeances
from referentiel import echeances as communs

pytestmark = pytest.mark.django_db

AUJOURD_HUI = datetime.date(2026, 6, 1)


def plan(queryset, champ: str) -> str:
    """The plan of one batch of the scan, as par_lots reads it. Full sorts are disabled too: on a few rows, another
    index followed by a sort of the whole result costs the planner about the same, and which one it picks then
    depends on the statistics the other tests left behind; the batch must come in date order from the date's
    index."""
    with transaction.atomic(), connection.cursor() as curseur:
        curseur.execute("SET LOCAL enable_seqscan = off")
        curseur.execute("SET LOCAL enable_sort = off")
        return queryset.order_by(champ, "pk")[: communs.TAILLE_LOT].explain()


@pytest.mark.parametrize(
    ("scan", "champ", "index"),
    [
        (
            lambda: echeances.fins_de_traitement_dues(aujourd_hui=AUJOURD_HUI, jours=30),
            "date_fin_traitement",
            "decision_fin_traitement",
        ),
        (lambda: echeances.complements_a_mi_delai(aujourd_hui=AUJOURD_HUI), "date_limite", "complement_en_attente"),
        (lambda: echeances.complements_en_retard(aujourd_hui=AUJOURD_HUI), "date_limite", "complement_en_attente"),
        (
            lambda: communs.engagements_aap_dus(aujourd_hui=AUJOURD_HUI, jours=60),
            "date_limite_depot_aap",
            "acces_limite_aap",
        ),
        (lambda: communs.cpc_a_terme(aujourd_hui=AUJOURD_HUI, mois=6), "date_fin", "acces_date_fin"),
        (lambda: communs.cpc_echus(aujourd_hui=AUJOURD_HUI), "date_fin", "acces_date_fin"),
        (
            lambda: communs.rapports_dus(aujourd_hui=AUJOURD_HUI, jours=30),
            "date_echeance",
            "referentiel_rapportperiodique_date_echeance",
        ),
    ],
    ids=[
        "fins_traitement",
        "complements_mi_delai",
        "complements_retard",
        "engagements_aap",
        "cpc_terme",
        "cpc_echus",
        "rapports",
    ],
)
def test_le_scan_lit_ses_echeances_par_l_index_de_leur_date(scan, champ, index):
    texte = plan(scan(), champ)
    assert f"Index Scan using {index}" in texte or (f"Bitmap Index Scan on {index}" in texte), texte
    assert "Seq Scan" not in texte.split("\n")[0], texte
