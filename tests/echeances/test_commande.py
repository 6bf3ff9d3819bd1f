"""`manage.py executer_tache <name> [--aujourdhui AAAA-MM-JJ]`: any scheduled task by hand, for a given day."""

import datetime

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from comptes.models import Notification
from tests.factories import DemandeFactory

pytestmark = pytest.mark.django_db


def test_la_liste_donne_chaque_tache_du_planning(capsys):
    call_command("executer_tache", "--liste")
    sortie = capsys.readouterr().out
    for nom, entree in settings.CELERY_BEAT_SCHEDULE.items():
        assert f"{nom}\t{entree['task']}\t" in sortie
    assert "aac-fins-traitement\tdemandes.tasks.aac_fins_traitement_rappeler\t<crontab: 0 6 * * *" in sortie


def test_une_tache_s_execute_pour_le_jour_donne(capsys):
    demande = DemandeFactory(octroyee=True)
    demande.decision.date_debut = datetime.date(2026, 1, 1)
    demande.decision.date_fin_traitement = datetime.date(2026, 8, 31)
    demande.decision.save()
    call_command("executer_tache", "aac-fins-traitement", "--aujourdhui", "2026-08-01")
    assert capsys.readouterr().out == 'aac-fins-traitement : {"rappels": 2}\n'
    assert Notification.objects.filter(cle__startswith=f"aac-fin-j30:{demande.decision.pk}:").count() == 2
    call_command("executer_tache", "aac-fins-traitement", "--aujourdhui", "2026-08-01")
    assert capsys.readouterr().out == 'aac-fins-traitement : {"rappels": 0}\n'


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["inconnue"], "Tâche inconnue : « inconnue »"),
        (["aac-fins-traitement", "--aujourdhui", "01/08/2026"], "Date invalide"),
        (["notifications-relancer", "--aujourdhui", "2026-08-01"], "ne prend pas de date du jour"),
        ([], "Indiquez le nom d'une tâche planifiée"),
    ],
)
def test_les_erreurs_d_usage_sont_expliquees(arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("executer_tache", *arguments)
