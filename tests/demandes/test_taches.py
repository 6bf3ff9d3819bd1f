"""The end-of-treatment expiry run by hand or by the scheduler (R17, R20), and the read-only admin."""

import datetime

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from comptes.models import Notification
from demandes.enums import StatutDemande
from demandes.tasks import demandes_expirer
from tests.conftest import connecter
from tests.factories import DemandeFactory, UtilisateurFactory

pytestmark = pytest.mark.django_db


def test_r17_les_aac_echues_expirent_une_fois_et_les_parties_sont_prevenues(capsys):
    echue = DemandeFactory(octroyee=True)
    echue.decision.date_fin_traitement = datetime.date(2026, 6, 30)
    echue.decision.save()
    en_cours = DemandeFactory(octroyee=True)
    en_cours.decision.date_fin_traitement = datetime.date(2026, 7, 31)
    en_cours.decision.save()

    call_command("expirer_demandes", "--aujourdhui", "2026-07-01")
    assert "1 demande(s) expirée(s)." in capsys.readouterr().out
    echue.refresh_from_db()
    en_cours.refresh_from_db()
    assert (echue.statut, en_cours.statut) == (StatutDemande.EXPIREE, StatutDemande.OCTROYEE)
    assert echue.journal.get(transition="expirer").details == {"date_fin_traitement": "2026-06-30"}
    assert Notification.objects.filter(destinataire=echue.prescripteur.email, sujet__startswith="Fin de traitement")
    # Idempotent: the same run again changes nothing.
    assert demandes_expirer("2026-07-01") == 0
    assert echue.journal.filter(transition="expirer").count() == 1


def test_la_commande_refuse_une_date_invalide():
    with pytest.raises(CommandError, match="Date invalide"):
        call_command("expirer_demandes", "--aujourdhui", "31/12/2026")


def test_par_defaut_la_date_du_jour():
    demande = DemandeFactory(octroyee=True)
    demande.decision.date_fin_traitement = timezone.localdate() - datetime.timedelta(days=1)
    demande.decision.save()
    assert demandes_expirer() == 1


def test_l_administration_technique_est_en_lecture_seule_et_sans_donnee_patient(client):
    demande = DemandeFactory(octroyee=True, patient_initiales="Q.Z.")
    connecter(client, UtilisateurFactory(administrateur=True))
    liste = client.get("/admin-technique/demandes/demandeaac/")
    assert liste.status_code == 200 and demande.reference in liste.content.decode()
    fiche = client.get(f"/admin-technique/demandes/demandeaac/{demande.pk}/change/")
    page = fiche.content.decode()
    assert fiche.status_code == 200 and demande.reference in page
    assert "Q.Z." not in page and 'name="_save"' not in page
