from django.conf import settings
from django.core.management.base import BaseCommand

from comptes.demo import creer_comptes_demo


class Command(BaseCommand):
    help = "Crée les comptes de démonstration (un par rôle) et affiche leurs mots de passe à la création."

    def handle(self, *args, **options):
        crees = creer_comptes_demo()
        fichier = settings.DATA_DIR / "comptes_demo.txt"
        if crees:
            fichier.parent.mkdir(parents=True, exist_ok=True)
            with fichier.open("a", encoding="utf-8") as sortie:
                for email, role, mot_de_passe in crees:
                    sortie.write(f"{role:<20} {email:<40} {mot_de_passe}\n")
            fichier.chmod(0o600)
            self.stdout.write(self.style.SUCCESS("Comptes de démonstration créés :"))
            for email, role, mot_de_passe in crees:
                self.stdout.write(f"  {role:<20} {email:<40} mot de passe : {mot_de_passe}")
        else:
            self.stdout.write(f"Comptes de démonstration déjà présents (mots de passe dans {fichier}).")
