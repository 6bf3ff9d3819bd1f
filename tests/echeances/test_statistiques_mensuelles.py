"""Monthly: the back-office figures of the past month emailed to the ANSM administrators, with a CSV attached —
once per month and person, a failed send recorded on the outbox row and retried."""

import datetime

import pytest
from django.core import mail

from comptes.models import Notification
from demandes import echeances
from demandes.tasks import statistiques_mensuelles_envoyer
from tests.conftest import connecter
from tests.factories import DemandeFactory, RapportFactory, UtilisateurFactory

from .conftest import le

pytestmark = pytest.mark.django_db

PREMIER_JUILLET = datetime.date(2026, 7, 1)


@pytest.fixture
def juin():
    with le(datetime.date(2026, 6, 15), heure=10):
        DemandeFactory(octroyee=True)
        DemandeFactory(octroyee=True)
        DemandeFactory(refusee=True)
        DemandeFactory(en_evaluation=True)
    with le(datetime.date(2026, 5, 20), heure=10):
        DemandeFactory(octroyee=True)  # May: not in June's figures
    RapportFactory(date_echeance=datetime.date(2026, 6, 1))  # overdue on 1 July
    UtilisateurFactory(administrateur=True, email="admin@ansm.example")
    UtilisateurFactory(administrateur=True, email="ancien@ansm.example", is_active=False)
    UtilisateurFactory(evaluateur=True, email="evaluateur@ansm.example")


def test_les_chiffres_du_mois_ecoule_partent_aux_administrateurs_avec_le_csv_une_seule_fois(
    juin, django_capture_on_commit_callbacks
):
    with le(PREMIER_JUILLET, heure=7), django_capture_on_commit_callbacks(execute=True):
        assert statistiques_mensuelles_envoyer() == {"envois": 1}
        assert statistiques_mensuelles_envoyer() == {"envois": 0}

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["admin@ansm.example"]
    assert message.subject == "Statistiques mensuelles du 01/06/2026 au 30/06/2026"
    assert "AAC octroyées : 2\n" in message.body and "AAC refusées : 1\n" in message.body
    assert "Rapports périodiques en retard (R34) : 1\n" in message.body
    [(nom, contenu, type_mime)] = message.attachments
    assert (nom, type_mime) == ("statistiques-2026-06.csv", "text/csv")
    lignes = contenu.split("\r\n")
    assert lignes[0] == "Statistiques du 01/06/2026 au 30/06/2026"
    assert "Demandes et décisions par mois" in lignes
    assert "juin 2026;4;2;1" in lignes  # submitted in June, granted, refused (May's grant is not counted)
    assert "Rapports périodiques en retard (R34);1" in lignes
    notification = Notification.objects.get()
    assert notification.cle == "statistiques-mensuelles:2026-06:admin@ansm.example"
    assert notification.envoye_le is not None and notification.tentatives == 1


def test_un_envoi_en_echec_est_visible_et_reessaye_plus_tard(
    juin, settings, client, django_capture_on_commit_callbacks
):
    with le(PREMIER_JUILLET, heure=7):
        with django_capture_on_commit_callbacks() as envois:
            statistiques_mensuelles_envoyer()
        notification = Notification.objects.get()
        # The mail server refuses the connection (a closed port): a real SMTP failure.
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
        with django_capture_on_commit_callbacks() as relances:
            assert echeances.statistiques_expedier(notification_id=notification.pk) is False
    assert len(envois) == 1 and len(relances) == 1  # the retry is enqueued after the failure is committed
    notification.refresh_from_db()
    assert notification.envoye_le is None and notification.tentatives == 1
    assert notification.derniere_erreur.startswith("ConnectionRefusedError")

    with le(PREMIER_JUILLET, heure=8):
        connecter(client, UtilisateurFactory(administrateur=True))
        page = client.get("/admin-technique/comptes/notification/?etat=en_echec").content.decode()
        assert "Statistiques mensuelles du 01/06/2026 au 30/06/2026" in page and "ConnectionRefusedError" in page

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert echeances.statistiques_expedier(notification_id=notification.pk) is True
    notification.refresh_from_db()
    assert notification.envoye_le is not None and notification.tentatives == 2 and notification.derniere_erreur == ""
    assert [m.attachments[0][0] for m in mail.outbox] == ["statistiques-2026-06.csv"]
