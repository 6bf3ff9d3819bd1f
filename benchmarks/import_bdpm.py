"""How long the BDPM import takes next to PostgreSQL's own COPY of the same rows into bare tables.

    DATABASE_URL=postgres://... .venv/bin/python benchmarks/import_bdpm.py [DIR] [--repetitions N]

DIR defaults to ../shared/data/bdpm-2017 beside the repository. The script creates a scratch database
(<name of DATABASE_URL's database>_bench_bdpm) on the same server, migrates it, measures, and drops it: the
database DATABASE_URL names is never written.

Figures (medians of N interleaved runs, so that a load peak on the shared machine hits every figure alike; the
load average is printed before and after):
- COPY: the three files as they are (Windows-1252 bytes) into three bare tables of text columns, no index;
- import, empty catalogue: `bdpm_importer` end to end (read, check, copy into the tables, build their indexes and
  constraints, commit), audit trail of comptes included (every row journalled with its after-image): this is the
  figure the target is about;
- import again: the same files a second time (nothing to change: the merge path);
- diagnostics, not targets: the empty-catalogue import with the audit triggers on referentiel_specialite disabled
  in this scratch database (what the audit adds to the import's time: less than its own cost, since the import's
  other thread packs the compositions while PostgreSQL journals the spécialités), and two floors that do no
  reading nor checking: the rows the import ends with inserted by INSERT ... SELECT through the live indexes and
  constraints, then the same rows into the tables stripped of them, rebuilt after (the import's own way into an
  empty catalogue).
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

from comptes.audit import DECLENCHEURS  # noqa: E402
from referentiel.importation import (  # noqa: E402
    _GROUPES_VIDES,
    FICHIER_CIS,
    FICHIER_COMPO,
    FICHIER_CPD,
    _demonter,
    _remonter,
    bdpm_importer,
)

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


def plancher_reconstruit() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        structures = [_demonter(cursor, tables) for tables in _GROUPES_VIDES]
        for table in TABLES:
            cursor.execute(f"INSERT INTO {table} SELECT * FROM plancher_{table}")
        for structure in structures:
            _remonter(cursor, structure)


def _declencheurs_audit(action: str) -> None:
    with connection.cursor() as cursor:
        for nom in DECLENCHEURS.values():
            cursor.execute(f"ALTER TABLE referentiel_specialite {action} TRIGGER {nom}")


def import_sans_audit(dossier: Path) -> None:
    _declencheurs_audit("DISABLE")
    try:
        bdpm_importer(dossier=dossier)
    finally:
        _declencheurs_audit("ENABLE")


def audit_present() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_trigger "
            "WHERE tgname = %s AND tgrelid = 'referentiel_specialite'::regclass)",
            [DECLENCHEURS["INSERT"]],
        )
        return cursor.fetchone()[0]


def charge() -> str:
    return " / ".join(f"{valeur:.2f}" for valeur in os.getloadavg())


def lignes(dossier: Path, nom: str) -> int:
    return sum(1 for ligne in (dossier / nom).read_bytes().splitlines() if ligne.strip())


def ms(durees: list[float]) -> str:
    return f"{statistics.median(durees) * 1000:8.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dossier", nargs="?", type=Path, default=RACINE.parent / "shared" / "data" / "bdpm-2017")
    parser.add_argument("--repetitions", type=int, default=9)
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
        audit = audit_present()
        charge_avant = charge()
        # Interleaved rounds: a load peak on the machine hits every figure alike, so the ratios hold.
        copie, complet, encore, sans_audit, sol, sol_reconstruit = [], [], [], [], [], []
        for _ in range(n):
            copie += mesurer(lambda: copy_brut(dossier), 1, avant=vider_tables_brutes)
            complet += mesurer(lambda: bdpm_importer(dossier=dossier), 1, avant=vider_catalogue)
            encore += mesurer(lambda: bdpm_importer(dossier=dossier), 1)
            if audit:
                sans_audit += mesurer(lambda: import_sans_audit(dossier), 1, avant=vider_catalogue)
            sol += mesurer(plancher, 1, avant=vider_catalogue)
            sol_reconstruit += mesurer(plancher_reconstruit, 1, avant=vider_catalogue)
        charge_apres = charge()
        vider_catalogue()
        bdpm_importer(dossier=dossier)
        rapport = bdpm_importer(dossier=dossier)

        base_copy = statistics.median(copie)
        print(
            f"\nMédianes sur {n} passages entrelacés (charge de la machine avant : {charge_avant}, "
            f"après : {charge_apres}) :"
        )
        print(f"  COPY PostgreSQL des mêmes lignes dans 3 tables nues        {ms(copie)}")
        lignes_mesures = [
            ("Import BDPM complet, catalogue vide", complet),
            ("Import BDPM répété (rien à changer)", encore),
        ]
        diagnostics = [
            ("Import complet sans les déclencheurs d'audit", sans_audit),
            ("Plancher : INSERT des lignes finales, index vivants", sol),
            ("Plancher : mêmes lignes, index reconstruits après", sol_reconstruit),
        ]
        for libelle, durees in lignes_mesures:
            ratio = statistics.median(durees) / base_copy
            print(f"  {libelle:<58}{ms(durees)}   ratio {ratio:5.1f} × COPY")
        print("  Diagnostics (hors objectif) :")
        for libelle, durees in diagnostics:
            if durees:
                ratio = statistics.median(durees) / base_copy
                print(f"    {libelle:<56}{ms(durees)}   ratio {ratio:5.1f} × COPY")
        for libelle, durees in lignes_mesures:
            ratio = statistics.median(durees) / base_copy
            print(
                f"Objectif {libelle.lower()} <= 10 × COPY : {'atteint' if ratio <= 10 else 'MANQUÉ'} ({ratio:.1f} ×)"
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
