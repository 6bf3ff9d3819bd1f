from django.conf import settings
from django.core.management.base import BaseCommand

from comptes.demo import creer_comptes_demo


class Command(BaseCommand):
    help = (
        "Crée les comptes de démonstration (un par rôle) et affiche leurs mots de passe à la création, ainsi que "
        "la clé du second facteur des comptes ANSM."
    )

    def handle(self, *args, **options):
        crees = creer_comptes_demo()
        fichier = settings.DATA_DIR / "comptes_demo.txt"
        if not crees:
            self.stdout.write(f"Comptes de démonstration déjà présents (mots de passe dans {fichier}).")
            return
        lignes = []
        for compte in crees:
            if compte.mot_de_passe:
                lignes.append(f"{compte.role:<20} {compte.email:<40} mot de passe : {compte.mot_de_passe}")
            if compte.otpauth:
                lignes.append(f"{'':<20} {compte.email:<40} second facteur (TOTP) : {compte.secret}")
                lignes.append(f"{'':<20} {'':<40} {compte.otpauth}")
        fichier.parent.mkdir(parents=True, exist_ok=True)
        with fichier.open("a", encoding="utf-8") as sortie:
            sortie.writelines(f"{ligne}\n" for ligne in lignes)
        fichier.chmod(0o600)
        self.stdout.write(self.style.SUCCESS("Comptes de démonstration créés :"))
        for ligne in lignes:
            self.stdout.write(f"  {ligne}")
        self.stdout.write(
            "Les comptes ANSM (évaluateur, administrateur) demandent un code à usage unique après le mot de passe : "
            "ajoutez la clé ci-dessus (ou l'URL otpauth://) dans une application d'authentification."
        )
