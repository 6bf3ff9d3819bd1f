"""How long the BDPM import takes next to PostgreSQL's own COPY of the same rows into bare tables.

    DATABASE_URL=postgres://... .venv/bin/python benchmarks/import_bdpm.py [DIR] [--repetitions N]

DIR defaults to ../shared/data/bdpm-2017 beside the repository. The script creates a scratch database
(<name of DATABASE_URL's database>_bench_bdpm) on the same server, migrates it, measures, and drops it: the
database DATABASE_URL names is never written.

Figures (medians of N runs):
- COPY: the three files as they are (Windows-1252 bytes) into three bare tables of text columns, no index;
- import, empty catalogue: `bdpm_importer` end to end (read, check, COPY to temporary tables, merge, commit);
- import again: the same files a second time (nothing to change: the idempotent path);
- floor: the rows the import ends with, re-inserted by plain INSERT ... SELECT into the real tables (their
  indexes, full-text and trigram indexes, and foreign keys), with no reading or checking at all. The import cannot
  be faster than this; the gap between the floor and the import is the import's own overhead.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

RACINE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(RACINE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DB_STATEMENT_TIMEOUT_MS", "0")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from referentiel.importation import FICHIER_CIS, FICHIER_COMPO, FICHIER_CPD, bdpm_importer  # noqa: E402

TABLES = (
    "referentiel_laboratoire",
    "referentiel_substance",
    "referentiel_specialite",
    "referentiel_composition",
    "referentiel_conditionprescription",
)
BRUTES = {
    FICHIER_CIS: ("bench_cis", 12),
    FICHIER_COMPO: ("bench_compo", 9),  # 8 columns and the trailing TAB
    FICHIER_CPD: ("bench_cpd", 2),
}


def vider_catalogue() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")


def mesurer(fonction, repetitions: int, avant=None) -> list[float]:
    durees = []
    for _ in range(repetitions):
        if avant:
            avant()
        debut = time.perf_counter()
        fonction()
        durees.append(time.perf_counter() - debut)
    return durees


def copy_brut(dossier: Path) -> None:
    """PostgreSQL's own COPY of the files' rows, as they are, into bare tables (one transaction)."""
    with transaction.atomic(), connection.cursor() as cursor:
        for nom, (table, _) in BRUTES.items():
            contenu = (dossier / nom).read_bytes()
            with cursor.copy(f"COPY {table} FROM STDIN (FORMAT text, ENCODING 'WIN1252')") as copie:
                copie.write(contenu)


def preparer_tables_brutes() -> None:
    with connection.cursor() as cursor:
        for table, colonnes in BRUTES.values():
            definition = ", ".join(f"c{i} text" for i in range(1, colonnes + 1))
            cursor.execute(f"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} ({definition})")


def vider_tables_brutes() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(table for table, _ in BRUTES.values())}")


def sauver_lignes_finales() -> None:
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS plancher_{table}; CREATE TABLE plancher_{table} AS TABLE {table}")


def plancher() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"INSERT INTO {table} SELECT * FROM plancher_{table}")


def lignes(dossier: Path, nom: str) -> int:
    return sum(1 for ligne in (dossier / nom).read_bytes().splitlines() if ligne.strip())


def ms(durees: list[float]) -> str:
    return f"{statistics.median(durees) * 1000:8.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dossier", nargs="?", type=Path, default=RACINE.parent / "shared" / "data" / "bdpm-2017")
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()
    dossier = args.dossier.resolve()
    if not (dossier / FICHIER_CIS).is_file():
        sys.exit(f"Fichiers BDPM introuvables dans {dossier}")

    base = settings.DATABASES["default"]
    nom_original = base["NAME"]
    base.setdefault("TEST", {})["NAME"] = f"{nom_original}_bench_bdpm"
    print(f"Base de mesure : {base['TEST']['NAME']} (créée puis supprimée), serveur de {nom_original}.")
    nom_test = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        n = args.repetitions
        comptes = {nom: f"{lignes(dossier, nom):,}".replace(",", " ") for nom in BRUTES}
        print(
            f"Fichiers : {dossier}\n  {comptes[FICHIER_CIS]} spécialités, {comptes[FICHIER_COMPO]} compositions, "
            f"{comptes[FICHIER_CPD]} lignes CPD"
        )
        preparer_tables_brutes()
        vider_catalogue()
        bdpm_importer(dossier=dossier)
        sauver_lignes_finales()
        # Interleaved rounds: a load peak on the machine hits every figure alike, so the ratios hold.
        copie, complet, encore, sol = [], [], [], []
        for _ in range(n):
            copie += mesurer(lambda: copy_brut(dossier), 1, avant=vider_tables_brutes)
            complet += mesurer(lambda: bdpm_importer(dossier=dossier), 1, avant=vider_catalogue)
            encore += mesurer(lambda: bdpm_importer(dossier=dossier), 1)
            sol += mesurer(plancher, 1, avant=vider_catalogue)
        vider_catalogue()
        bdpm_importer(dossier=dossier)
        rapport = bdpm_importer(dossier=dossier)

        base_copy = statistics.median(copie)
        print(f"\nMédianes sur {n} passages :")
        print(f"  COPY PostgreSQL des mêmes lignes dans 3 tables nues     {ms(copie)}")
        for libelle, durees in (
            ("Import BDPM complet, catalogue vide", complet),
            ("Import BDPM répété (rien à changer)", encore),
            ("Plancher : INSERT des lignes finales, tables réelles", sol),
        ):
            ratio = statistics.median(durees) / base_copy
            print(f"  {libelle:<55}{ms(durees)}   ratio {ratio:5.1f} × COPY")
        print(
            f"  Surcoût propre de l'import (complet / plancher)          "
            f"{statistics.median(complet) / statistics.median(sol):5.2f} ×"
        )
        bilans = rapport.bilans
        print(
            "\nDernier import répété : "
            + ", ".join(f"{b.nom} {b.crees} créées / {b.mis_a_jour} mises à jour" for b in bilans.values())
        )
    finally:
        connection.creation.destroy_test_db(nom_test, verbosity=0)


if __name__ == "__main__":
    main()
