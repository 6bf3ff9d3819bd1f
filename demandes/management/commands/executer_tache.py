"""Run one scheduled task (CELERY_BEAT_SCHEDULE) by hand, in this process, for a given day (operations, tests)."""

import datetime
import inspect
import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.celery import app


def taches_planifiees() -> dict[str, str]:
    """The scheduler's entries: name -> dotted name of the Celery task."""
    return {nom: entree["task"] for nom, entree in settings.CELERY_BEAT_SCHEDULE.items()}


def _tache(nom_complet: str):
    app.loader.import_default_modules()  # registers every app's tasks module
    try:
        return app.tasks[nom_complet]
    except KeyError as exc:
        raise CommandError(f"La tâche « {nom_complet} » n'est pas enregistrée auprès de Celery.") from exc


class Command(BaseCommand):
    help = (
        "Exécute une tâche planifiée (CELERY_BEAT_SCHEDULE) immédiatement dans ce processus, éventuellement pour "
        "une date du jour donnée. --liste affiche les tâches."
    )

    def add_arguments(self, parser):
        parser.add_argument("nom", nargs="?", help="Nom de la tâche dans le planning (voir --liste).")
        parser.add_argument("--aujourdhui", help="Date du jour à utiliser (AAAA-MM-JJ), par défaut aujourd'hui.")
        parser.add_argument("--liste", action="store_true", help="Affiche les tâches planifiées et leur horaire.")

    def handle(self, *args, nom=None, aujourdhui=None, liste=False, **options):
        taches = taches_planifiees()
        if liste:
            for cle, tache in taches.items():
                resume = (inspect.getdoc(_tache(tache).run) or "").split("\n")[0]
                horaire = settings.CELERY_BEAT_SCHEDULE[cle]["schedule"]
                self.stdout.write(f"{cle}\t{tache}\t{horaire}\t{resume}")
            return
        if not nom:
            raise CommandError("Indiquez le nom d'une tâche planifiée (voir --liste).")
        if nom not in taches:
            raise CommandError(f"Tâche inconnue : « {nom} ». Tâches planifiées : {', '.join(taches)}.")
        kwargs = {}
        tache = _tache(taches[nom])
        if aujourdhui:
            try:
                datetime.date.fromisoformat(aujourdhui)
            except ValueError as exc:
                raise CommandError(f"Date invalide : « {aujourdhui} » (format attendu AAAA-MM-JJ).") from exc
            if "aujourd_hui" not in inspect.signature(tache.run).parameters:
                raise CommandError(f"La tâche « {nom} » ne prend pas de date du jour.")
            kwargs["aujourd_hui"] = aujourdhui
        # Called directly: runs here and now, outside any worker (the emails it queues are sent after commit).
        resultat = tache(**kwargs)
        self.stdout.write(f"{nom} : {json.dumps(resultat, ensure_ascii=False, default=str)}")
