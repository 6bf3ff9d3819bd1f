"""The statistics page (/ansm/statistiques/): accessible charts drawn on the server (SVG with a title and a
description, no script, no inline style), the table behind each chart, a CSV per table (UTF-8 with BOM, « ; »),
for évaluateurs and administrators only, in a number of queries that does not grow with the data."""

import csv
import io
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from demandes.enums import SensDecision
from tests.conftest import connecter
from tests.factories import UtilisateurFactory

from .conftest import MAINTENANT, decidee, le

pytestmark = pytest.mark.django_db

URL = "/ansm/statistiques/"
PERIODE = {"debut": "2026-01-01", "fin": "2026-03-31"}


def html(reponse) -> str:
    contenu = reponse.content.decode()
    return re.sub(r"\s+<", "<", re.sub(r">\s+", ">", " ".join(contenu.split())))


@pytest.fixture(autouse=True)
def _horloge():
    with time_machine.travel(MAINTENANT, tick=False):
        yield


def test_la_page_montre_chaque_graphique_avec_son_tableau(client_ansm, jeu_de_donnees):
    reponse = client_ansm.get(URL, PERIODE)
    page = html(reponse)
    assert reponse.status_code == 200
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) and ' style="' not in page
    assert '<p class="gestion-chiffre" id="chiffre-decisions">8</p>' in page
    assert '<p class="gestion-chiffre" id="chiffre-part-immediats">40 %</p>' in page
    assert '<p class="gestion-chiffre" id="chiffre-mediane">12,5 j</p>' in page
    assert "90e centile : 23 j</p>" in page
    # A chart: an SVG image named by its title and described for screen readers; one bar per month.
    assert (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 720 90" role="img" '
        'aria-labelledby="graphique-par-mois-titre graphique-par-mois-desc" id="graphique-par-mois" '
        'class="statistiques-svg"><title id="graphique-par-mois-titre">Demandes soumises par mois</title>'
        '<desc id="graphique-par-mois-desc">Diagramme en barres horizontales : nombre de demandes d&#x27;AAC soumises '
        "à l&#x27;ANSM chaque mois de la période. Les valeurs figurent dans le tableau qui suit.</desc>"
    ) in page
    graphique = page.split('id="graphique-par-mois"')[1].split("</svg>")[0]
    assert graphique.count('class="statistiques-rect"') == 3
    assert "<title>janvier 2026 : 3</title>" in graphique
    # The widest bar is the largest value (380 units), the others in proportion.
    assert '<rect x="260" y="0" width="380" height="20" class="statistiques-rect" />' in graphique
    assert '<text x="646" y="15" class="statistiques-valeur">3</text>' in graphique
    refus = page.split('id="graphique-refus"')[1].split("</svg>")[0]
    assert 'width="190" height' in refus and 'width="380" height' in refus and 'width="0" height' in refus
    delais = page.split('id="graphique-delais"')[1].split("</svg>")[0]
    assert '<rect x="260" y="30" width="349.6" height="20"' in delais  # 23 / 25 x 380 (p90 after evaluation: 25)
    assert "<title>90e centile, toutes décisions : 23 j</title>" in delais
    # The table behind each chart.
    assert (
        '<tr><th scope="row">janvier 2026</th><td>3</td><td>4</td><td>0</td></tr>'
        '<tr><th scope="row">février 2026</th><td>3</td><td>1</td><td>1</td></tr>'
        '<tr><th scope="row">mars 2026</th><td>3</td><td>0</td><td>2</td></tr>'
    ) in page
    assert '<tr><th scope="row">ALPHAMAB 10 mg, comprimé</th><td>5</td><td>3</td><td>1</td></tr>' in page
    assert '<tr><th scope="row">Toutes les décisions</th><td>8</td><td>12,5</td><td>23</td></tr>' in page
    assert '<tr><th scope="row">7 à 14 jours</th><td>1</td></tr>' in page
    for slug in ("par-mois", "par-medicament", "decisions", "delais", "refus-par-motif", "en-attente"):
        assert f'href="/ansm/statistiques/{slug}.csv?debut=2026-01-01&amp;fin=2026-03-31" id="csv-{slug}"' in page


def test_chaque_tableau_se_telecharge_en_csv_utf8_avec_bom_et_points_virgules(client_ansm, jeu_de_donnees):
    reponse = client_ansm.get("/ansm/statistiques/par-mois.csv", PERIODE)
    assert reponse.status_code == 200 and reponse["Content-Type"] == "text/csv; charset=utf-8"
    assert reponse["Content-Disposition"] == 'attachment; filename="statistiques-par-mois-20260101-20260331.csv"'
    assert reponse.content.startswith(b"\xef\xbb\xbf")
    lignes = list(csv.reader(io.StringIO(reponse.content.decode("utf-8-sig")), delimiter=";"))
    assert lignes == [
        ["Demandes et décisions par mois", "du 01/01/2026 au 31/03/2026"],
        ["Mois", "Demandes soumises", "AAC octroyées", "AAC refusées"],
        ["janvier 2026", "3", "4", "0"],
        ["février 2026", "3", "1", "1"],
        ["mars 2026", "3", "0", "2"],
    ]
    motifs = client_ansm.get("/ansm/statistiques/refus-par-motif.csv", PERIODE).content.decode("utf-8-sig")
    assert (
        "Éléments insuffisants pour présumer l'efficacité et la sécurité dans la situation du patient;2;66,7\r\n"
        in (motifs)
    )
    assert client_ansm.get("/ansm/statistiques/inconnu.csv", PERIODE).status_code == 404


def test_sans_periode_les_douze_derniers_mois(client_ansm, jeu_de_donnees):
    page = html(client_ansm.get(URL))
    assert '<p id="periode">Du 01/05/2025 au 01/04/2026.' in page
    assert page.count('<th scope="row">') >= 12


def test_une_periode_invalide_est_signalee_et_la_periode_par_defaut_affichee(client_ansm):
    page = html(client_ansm.get(URL, {"debut": "2026-03-31", "fin": "2026-01-01"}))
    assert "La fin de la période suit son début." in page
    assert '<p id="periode">Du 01/05/2025 au 01/04/2026.' in page


def test_un_administrateur_ouvre_les_statistiques(client, jeu_de_donnees):
    connecter(client, UtilisateurFactory(administrateur=True))
    assert '<p class="gestion-chiffre" id="chiffre-decisions">8</p>' in html(client.get(URL, PERIODE))


def test_le_nombre_de_requetes_ne_depend_pas_des_donnees(client_ansm, jeu_de_donnees):
    client_ansm.get(URL, PERIODE)
    with CaptureQueriesContext(connection) as petit:
        client_ansm.get(URL, PERIODE)
    alpha, _ = jeu_de_donnees
    for jour in range(1, 20):
        decidee(alpha, soumise=le(2, jour), delai_jours=2, sens=SensDecision.OCTROI)
    with CaptureQueriesContext(connection) as grand:
        page = html(client_ansm.get(URL, PERIODE))
    assert '<p class="gestion-chiffre" id="chiffre-decisions">27</p>' in page
    assert len(petit) == len(grand)
