"""/ansm/echeances/: the deadlines of the next 90 days by kind, with their counts, in a fixed number of queries, for
ANSM staff only."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from comptes.models import Notification
from demandes.models import Complement
from tests.conftest import connecter
from tests.factories import AccesFactory, DemandeFactory, RapportFactory, UtilisateurFactory
from tests.factories.gestion import CPCFactory

from .conftest import PARIS, le

pytestmark = pytest.mark.django_db

AUJOURD_HUI = datetime.date(2026, 6, 1)
REQUETES = 19  # session, user, second factor; 2 per kind (count, earliest rows); the menu; saving the session (3)


def semer(n: int) -> None:
    """n deadlines of each kind within 90 days, and one of each kind beyond (not shown)."""
    for i in range(n):
        jour = AUJOURD_HUI + datetime.timedelta(days=1 + i)
        demande = DemandeFactory(octroyee=True)
        demande.decision.date_fin_traitement = jour
        demande.decision.save()
        en_attente = DemandeFactory(complement_demande=True)
        Complement.objects.filter(demande=en_attente).update(date_limite=jour)
        AccesFactory(riph=True, date_limite_depot_aap=jour)
        CPCFactory(publie=True, date_debut=datetime.date(2023, 6, 1), date_fin=jour)
        RapportFactory(date_echeance=jour)
    lointain = AUJOURD_HUI + datetime.timedelta(days=91)
    AccesFactory(riph=True, date_limite_depot_aap=lointain)
    RapportFactory(date_echeance=lointain)


def page(client, utilisateur) -> tuple[str, int]:
    with le(AUJOURD_HUI, heure=9):
        connecter(client, utilisateur)
        with CaptureQueriesContext(connection) as requetes:
            reponse = client.get("/ansm/echeances/")
    assert reponse.status_code == 200
    return reponse.content.decode(), len(requetes)


def section(contenu: str, nature: str) -> str:
    return contenu.split(f'id="echeances-{nature}"')[1].split("</section>")[0]


@pytest.mark.parametrize("taille", [1, 12])
def test_le_nombre_de_requetes_ne_depend_pas_du_nombre_d_echeances(client, taille):
    semer(taille)
    contenu, requetes = page(client, UtilisateurFactory(evaluateur=True))
    assert requetes == REQUETES
    for nature in ("fins_traitement", "complements", "engagements_aap", "cpc", "rapports"):
        bloc = section(contenu, nature)
        assert f'<strong class="echeances-a-venir">{taille}</strong> dans les 90 jours' in bloc, nature
        assert bloc.count("<tr") == 1 + min(taille, 10), nature
    if taille > 10:
        assert "Seules les 10 échéances les plus proches sont affichées." in section(contenu, "rapports")


def test_chaque_nature_liste_ses_echeances_les_plus_proches_avec_un_lien(client):
    demande = DemandeFactory(octroyee=True, patient_initiales="R.T.")
    demande.decision.date_fin_traitement = AUJOURD_HUI + datetime.timedelta(days=30)
    demande.decision.save()
    cpc = CPCFactory(publie=True, date_debut=datetime.date(2023, 6, 1), date_fin=datetime.date(2026, 5, 31))
    cessation = AccesFactory(
        specialite__statut_amm="autorisee", specialite__date_amm=datetime.date(2026, 5, 1), cessation=True
    )
    type(cessation).objects.filter(pk=cessation.pk).update(date_cessation=datetime.date(2026, 7, 15))
    contenu, _ = page(client, UtilisateurFactory(evaluateur=True))

    fins = section(contenu, "fins_traitement")
    assert f'<a href="/demandes/{demande.reference}/">AAC n° {demande.decision.numero_aac}</a>' in fins
    assert "01/07/2026" in fins and demande.specialite.nom in fins
    assert "R.T." not in contenu  # no patient data on the page
    echu = section(contenu, "cpc")
    assert f'<a href="/ansm/referentiel/cpc/{cpc.pk}/">{cpc.specialite.nom}</a>' in echu
    assert '<strong class="echeances-en-retard gestion-chiffre--alerte">1</strong> en retard' in echu
    assert "15/07/2026" in section(contenu, "cessations")


def test_l_administrateur_voit_les_rappels_en_echec_d_envoi(client):
    Notification.objects.create(
        destinataire="pui@chu.example",
        sujet="Fin de traitement",
        corps="…",
        cle="aac-fin-j30:1:pui@chu.example",
        tentatives=3,
        derniere_erreur="SMTPServerDisconnected",
        cree_le=datetime.datetime(2026, 5, 31, 6, tzinfo=PARIS),
    )
    contenu, _ = page(client, UtilisateurFactory(administrateur=True))
    bloc = contenu.split('id="rappels-en-echec"')[1].split("</div>")[0]
    assert "1 rappel en échec d'envoi, réessayé automatiquement." in bloc
    assert 'href="/admin-technique/comptes/notification/?etat=en_echec"' in bloc
    contenu, _ = page(client, UtilisateurFactory(evaluateur=True))
    assert 'id="rappels-en-echec"' not in contenu
    Notification.objects.update(envoye_le=datetime.datetime(2026, 6, 1, 6, 30, tzinfo=PARIS))
    contenu, _ = page(client, UtilisateurFactory(administrateur=True))
    assert "Aucun rappel en échec d'envoi." in contenu.split('id="rappels-en-echec"')[1].split("</div>")[0]


@pytest.mark.parametrize("role", ["prescripteur", "pharmacien", "laboratoire_role"])
def test_la_page_est_reservee_a_l_ansm(client, role):
    with le(AUJOURD_HUI):
        connecter(client, UtilisateurFactory(**{role: True}))
        assert client.get("/ansm/echeances/").status_code == 403
        client.logout()
        reponse = client.get("/ansm/echeances/")
    assert reponse.status_code == 302 and reponse["Location"].startswith("/comptes/connexion/")
