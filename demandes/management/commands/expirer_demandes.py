"""Run the end-of-treatment expiry by hand, for a given day (operations, tests)."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from demandes.tasks import demandes_expirer


class Command(BaseCommand):
    help = "Passe à « expirée » les AAC octroyées dont la durée de traitement est échue (R17, R20)."

    def add_arguments(self, parser):
        parser.add_argument("--aujourdhui", help="Date du jour à utiliser (AAAA-MM-JJ), par défaut aujourd'hui.")

    def handle(self, *args, aujourdhui=None, **options):
        if aujourdhui:
            try:
                datetime.date.fromisoformat(aujourdhui)
            except ValueError as exc:
                raise CommandError(f"Date invalide : « {aujourdhui} » (format attendu AAAA-MM-JJ).") from exc
        nombre = demandes_expirer(aujourdhui)
        self.stdout.write(f"{nombre} demande(s) expirée(s).")
