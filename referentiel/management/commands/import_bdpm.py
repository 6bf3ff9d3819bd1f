import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from referentiel.exceptions import ReferentielError
from referentiel.importation import RapportImport, bdpm_importer


class Command(BaseCommand):
    help = (
        "Importe les fichiers publics de la BDPM (CIS_bdpm.txt, CIS_COMPO_bdpm.txt, CIS_CPD_bdpm.txt) d'un "
        "dossier : crée ou met à jour spécialités, laboratoires, substances, compositions et CPD, en une seule "
        "transaction, et rend compte des lignes rejetées."
    )

    def add_arguments(self, parser):
        parser.add_argument("dossier", type=Path, help="Dossier contenant les fichiers BDPM (Windows-1252).")
        parser.add_argument("--quiet", action="store_true", help="Sans barre de progression.")

    def handle(self, *args, dossier: Path, quiet: bool, **options):
        progression = not quiet and sys.stderr.isatty()
        try:
            rapport = bdpm_importer(dossier=dossier, progression=progression)
        except ReferentielError as exc:
            raise CommandError(str(exc)) from exc
        self.afficher(rapport)

    def afficher(self, rapport: RapportImport) -> None:
        ecrire = self.stdout.write
        ecrire(f"Import BDPM terminé en {rapport.duree:.1f} s.")
        for bilan in rapport.bilans.values():
            details = (
                f"{bilan.lignes} lignes : {bilan.crees} créées, {bilan.mis_a_jour} mises à jour, "
                f"{bilan.inchanges} inchangées, {len(bilan.rejets)} rejetées"
            )
            if bilan.supprimes:
                details += f", {bilan.supprimes} supprimées"
            if bilan.ignores:
                details += f", {bilan.ignores} ignorées (vides ou en double)"
            ecrire(f"  {bilan.nom:<20} {details}")
        ecrire(
            f"  Recherche : {rapport.specialites_reindexees} fiches du référentiel réindexées (une spécialité du "
            "seul catalogue, sans statut, est indexée quand elle reçoit son premier statut)."
        )
        if rapport.premier_chargement:
            ecrire("  Premier chargement : index et contraintes construits après les lignes.")
        for bilan in rapport.bilans.values():
            for rejet in bilan.rejets:
                ecrire(self.style.WARNING(f"  Rejet {bilan.nom} ligne {rejet.ligne} : {rejet.motif}"))
