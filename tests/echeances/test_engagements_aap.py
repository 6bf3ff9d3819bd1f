"""R23: the laboratory's commitment to file an AAP 12 (18) months after the first AAC, extended by at most 6 months
at a time — reminders 60 and 15 days before, and the overdue commitment on the ANSM's page."""

import datetime

import pytest

from referentiel import services
from referentiel.tasks import engagements_aap_rappeler
from tests.conftest import connecter
from tests.factories import AccesFactory, LaboratoireFactory, SpecialiteFactory, UtilisateurFactory

from .conftest import le, rappels

pytestmark = pytest.mark.django_db

LIMITE = datetime.date(2026, 9, 15)


@pytest.fixture
def acces():
    laboratoire = LaboratoireFactory(email="affaires.reglementaires@labo.example")
    UtilisateurFactory(laboratoire_role=True, laboratoire=laboratoire, email="pv@labo.example")
    UtilisateurFactory(laboratoire_role=True, email="autre@labo.example")  # another laboratory
    return AccesFactory(
        specialite=SpecialiteFactory(titulaire=laboratoire, nom="EXEMPLUMAB 100 mg"),
        riph=True,
        date_premiere_aac=datetime.date(2025, 9, 15),
        date_limite_depot_aap=LIMITE,
    )


def test_r23_rappel_au_laboratoire_60_puis_15_jours_avant_la_date_limite(acces):
    with le(LIMITE - datetime.timedelta(days=61)):
        assert engagements_aap_rappeler() == {"rappels": 0}
    with le(LIMITE - datetime.timedelta(days=60)):
        assert engagements_aap_rappeler() == {"rappels": 2}
        assert engagements_aap_rappeler() == {"rappels": 0}
    envoyes = rappels(f"aap-engagement-j60:{acces.pk}:2026-09-15:")
    assert set(envoyes) == {"affaires.reglementaires@labo.example", "pv@labo.example"}
    rappel = envoyes["pv@labo.example"]
    assert rappel.sujet == "Dépôt de la demande d'AAP de EXEMPLUMAB 100 mg : échéance le 15/09/2026"
    assert "l'échéance est le 15/09/2026, dans 60 jours" in rappel.corps
    assert f"https://referentiel-ad.example/laboratoire/statuts/{acces.pk}/prolongation/" in rappel.corps
    with le(LIMITE - datetime.timedelta(days=15)):
        assert engagements_aap_rappeler() == {"rappels": 2}
    assert set(rappels(f"aap-engagement-j15:{acces.pk}:")) == set(envoyes)


def test_r23_une_prolongation_deplace_l_echeance_et_les_rappels_repartent(acces):
    with le(LIMITE - datetime.timedelta(days=15)):
        engagements_aap_rappeler()
        services.acces_prolonger_delai_aap(acces=acces, duree_mois=6, motif="Inclusions plus lentes que prévu.")
    acces.refresh_from_db()
    assert acces.date_limite_depot_aap == datetime.date(2027, 3, 15)
    with le(datetime.date(2027, 3, 15) - datetime.timedelta(days=60)):
        assert engagements_aap_rappeler() == {"rappels": 2}
    assert rappels(f"aap-engagement-j60:{acces.pk}:2027-03-15:")


def test_r23_plus_de_rappel_une_fois_l_aap_obtenue(acces):
    AccesFactory(aap=True, specialite=acces.specialite, etat="en_cours")
    with le(LIMITE - datetime.timedelta(days=60)):
        assert engagements_aap_rappeler() == {"rappels": 0}


def test_r23_l_engagement_en_retard_figure_dans_l_espace_ansm(acces, client):
    with le(LIMITE + datetime.timedelta(days=3)):
        connecter(client, UtilisateurFactory(evaluateur=True))
        page = client.get("/ansm/echeances/").content.decode()
    section = page.split('id="echeances-engagements_aap"')[1].split("</section>")[0]
    assert '<strong class="echeances-en-retard gestion-chiffre--alerte">1</strong> en retard' in section
    assert "EXEMPLUMAB 100 mg" in section and "15/09/2026" in section
    assert '<p class="fr-badge fr-badge--sm fr-badge--error">En retard</p>' in section
