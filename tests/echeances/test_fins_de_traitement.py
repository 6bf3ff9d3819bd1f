"""R17, R20: the end of an authorised treatment — reminders 30 and 7 days before, with the renewal one click away,
then the state « expirée » after the date."""

import datetime

import pytest
from django.core import mail
from django.core.management import call_command

from comptes.models import Notification
from demandes.enums import StatutDemande
from demandes.tasks import aac_fins_traitement_rappeler, demandes_expirer
from tests.conftest import connecter
from tests.factories import DemandeFactory, UtilisateurFactory

from .conftest import le, rappels

pytestmark = pytest.mark.django_db

FIN = datetime.date(2026, 7, 1)
J30 = FIN - datetime.timedelta(days=30)
J7 = FIN - datetime.timedelta(days=7)


def octroyee(fin=FIN, debut=datetime.date(2026, 1, 2), **kwargs):
    demande = DemandeFactory(octroyee=True, **kwargs)
    demande.decision.date_debut, demande.decision.date_fin_traitement = debut, fin
    demande.decision.duree_jours = (fin - debut).days + 1
    demande.decision.save()
    return demande


@pytest.fixture
def demande():
    demande = octroyee()
    UtilisateurFactory(pharmacien=True, pui=demande.pui, etablissement=demande.pui.etablissement, email="ph@chu.fr")
    return demande


def test_r17_rappel_30_jours_avant_au_prescripteur_avec_le_renouvellement_et_a_la_pui(
    demande, django_capture_on_commit_callbacks
):
    with le(J30), django_capture_on_commit_callbacks(execute=True):
        assert aac_fins_traitement_rappeler() == {"rappels": 3}

    envoyes = rappels(f"aac-fin-j30:{demande.decision.pk}:")
    assert set(envoyes) == {demande.prescripteur.email, demande.pui.email, "ph@chu.fr"}
    lien = f"https://referentiel-ad.example/demandes/{demande.reference}/"
    au_prescripteur = envoyes[demande.prescripteur.email]
    assert au_prescripteur.sujet == f"Fin de traitement le 01/07/2026 — AAC n° {demande.decision.numero_aac}"
    assert f"Renouveler en un clic : {lien}#action-renouveler" in au_prescripteur.corps
    assert "prend fin le 01/07/2026, dans 30 jours." in au_prescripteur.corps
    assert "#action-renouveler" not in envoyes[demande.pui.email].corps
    assert f"Consulter la demande : {lien}" in envoyes[demande.pui.email].corps
    # R43: no patient data by email.
    assert all(demande.patient_initiales not in n.corps for n in envoyes.values())
    # Sent by the worker after commit (eager here), each once.
    assert sorted(m.to[0] for m in mail.outbox) == sorted(envoyes)
    assert all(n.envoye_le is not None and n.tentatives == 1 for n in Notification.objects.all())


def test_r17_rappel_7_jours_avant_puis_plus_rien_les_jours_suivants(demande):
    with le(J30):
        aac_fins_traitement_rappeler()
    with le(J7):
        assert aac_fins_traitement_rappeler() == {"rappels": 3}
    assert "dans 7 jours" in rappels(f"aac-fin-j7:{demande.decision.pk}:")[demande.prescripteur.email].corps
    for jour in (J7 + datetime.timedelta(days=1), FIN):
        with le(jour):
            assert aac_fins_traitement_rappeler() == {"rappels": 0}
    assert Notification.objects.count() == 6


def test_r17_un_rappel_manque_par_une_panne_du_planificateur_part_en_retard_mais_une_seule_fois(demande):
    """The scheduler was down on J-30: the next days' runs catch up (within a week), once."""
    with le(J30 + datetime.timedelta(days=3)):
        assert aac_fins_traitement_rappeler()["rappels"] == 3
        assert "dans 27 jours" in rappels("aac-fin-j30:")[demande.prescripteur.email].corps
    with le(J30 + datetime.timedelta(days=4)):
        assert aac_fins_traitement_rappeler()["rappels"] == 0


def test_r20_pas_de_rappel_si_le_renouvellement_est_deja_demande(demande):
    DemandeFactory(demande_initiale=demande, prescripteur=demande.prescripteur, pui=demande.pui)
    with le(J30):
        assert aac_fins_traitement_rappeler() == {"rappels": 0}


def test_r17_pas_de_rappel_a_30_jours_pour_un_traitement_plus_court(db):
    octroyee(debut=J30 - datetime.timedelta(days=5))  # a 35-day treatment granted 5 days ago
    court = octroyee(debut=J30 + datetime.timedelta(days=1))  # granted after J-30: no "30 days before" reminder
    with le(J30):
        assert aac_fins_traitement_rappeler()["rappels"] == 2
    assert not rappels(f"aac-fin-j30:{court.decision.pk}:")


def test_r17_seules_les_aac_en_cours_sont_rappelees(db):
    octroyee(statut=StatutDemande.EXPIREE)
    refus = DemandeFactory(refusee=True)
    with le(J30):
        assert aac_fins_traitement_rappeler() == {"rappels": 0}
    assert refus.decision.date_fin_traitement is None


def test_r17_le_lien_du_rappel_ouvre_le_renouvellement_prerempli_en_un_clic(demande, client):
    with le(J30):
        aac_fins_traitement_rappeler()
    corps = rappels("aac-fin-j30:")[demande.prescripteur.email].corps
    chemin = corps.split("Renouveler en un clic : https://referentiel-ad.example", 1)[1].split("\n", 1)[0]
    connecter(client, demande.prescripteur)
    page = client.get(chemin.split("#")[0]).content.decode()
    assert 'id="action-renouveler"' in page
    action = f"/demandes/{demande.reference}/action/renouveler/"
    assert f'action="{action}"' in page
    reponse = client.post(
        action, {"renouveler-version": demande.version, "renouveler-cle_idempotence": "cle-rappel-1"}
    )
    renouvellement = demande.renouvellements.get()
    assert reponse.status_code == 302 and renouvellement.reference in reponse["Location"]
    assert (renouvellement.specialite_id, renouvellement.indication_id, renouvellement.pui_id) == (
        demande.specialite_id,
        demande.indication_id,
        demande.pui_id,
    )
    # The next run knows the renewal is filed: no J-7 reminder.
    with le(J7):
        assert aac_fins_traitement_rappeler() == {"rappels": 0}


def test_r17_apres_la_date_la_demande_passe_a_expiree_par_la_tache_planifiee(demande, capsys):
    with le(FIN):
        assert demandes_expirer() == 0
    with le(FIN + datetime.timedelta(days=1)):
        call_command("executer_tache", "demandes-expirer")
    assert "demandes-expirer : 1" in capsys.readouterr().out
    demande.refresh_from_db()
    assert demande.statut == StatutDemande.EXPIREE
    assert demande.journal.get(transition="expirer").details == {"date_fin_traitement": "2026-07-01"}
