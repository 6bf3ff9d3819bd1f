from django.core.management.base import BaseCommand, CommandError

from referentiel.demo import demo_charger, demo_supprimer
from referentiel.exceptions import ReferentielError


class Command(BaseCommand):
    help = (
        "Charge le référentiel de démonstration (une soixantaine de fiches marquées « démonstration ») ; "
        "une seconde exécution ne change rien. --supprimer le retire."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--supprimer", action="store_true", help="Retire toutes les fiches de démonstration et leurs fichiers."
        )

    def handle(self, *args, supprimer: bool, **options):
        if supprimer:
            try:
                nombre = demo_supprimer()
            except ReferentielError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(self.style.SUCCESS(f"{nombre} fiches de démonstration supprimées."))
            return
        bilan = demo_charger()
        if bilan["specialites_creees"]:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Référentiel de démonstration chargé : {bilan['specialites_creees']} fiches créées "
                    f"({bilan['specialites_demonstration']} au total)."
                )
            )
        else:
            self.stdout.write(
                f"Référentiel de démonstration déjà chargé ({bilan['specialites_demonstration']} fiches)."
            )
