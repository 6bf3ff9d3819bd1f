"""What the audit trail costs a write: the same saves of a request with and without its trigger.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ad_x .venv/bin/python benchmarks/audit.py

Uses the database of DATABASE_URL (migrated), inside one transaction that is rolled back at the end: nothing stays.
Saves one request N times through the ORM as a service does (`save(update_fields=…)`, with the execute wrapper that
tells PostgreSQL who writes), first with the audit trigger, then with it disabled (ALTER TABLE … DISABLE TRIGGER,
possible here because the benchmark's role owns the table, rolled back too), then without the execute wrapper's
set_config either. Prints the median and p95 per save.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from comptes import audit  # noqa: E402
from tests.factories import DemandeFactory, UtilisateurFactory  # noqa: E402

N = int(os.environ.get("BENCH_N", "2000"))


class _Annulation(Exception):
    pass


def _mesurer(demande, prescripteur) -> list[float]:
    durees = []
    with audit.acteur(prescripteur):
        for rang in range(N):
            demande.posologie = f"{rang} comprimés"
            demande.version += 1
            debut = time.perf_counter()
            demande.save(update_fields=["posologie", "version"])
            durees.append((time.perf_counter() - debut) * 1000)
    return durees


def _resume(nom: str, durees: list[float]) -> str:
    durees = sorted(durees)
    return f"{nom} : médiane {statistics.median(durees):.3f} ms, p95 {durees[int(len(durees) * 0.95)]:.3f} ms"


def main() -> None:
    try:
        with transaction.atomic():
            prescripteur = UtilisateurFactory(prescripteur=True)
            demande = DemandeFactory(prescripteur=prescripteur)
            _mesurer(demande, prescripteur)  # warm-up
            avec = _mesurer(demande, prescripteur)
            with connection.cursor() as curseur:
                curseur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred FK check may be pending for ALTER
                curseur.execute(f"ALTER TABLE demandes_demandeaac DISABLE TRIGGER {audit.DECLENCHEURS['UPDATE']}")
            sans_declencheur = _mesurer(demande, prescripteur)
            connection.execute_wrappers.remove(audit.enveloppe_execution)
            try:
                sans = _mesurer(demande, prescripteur)
            finally:
                connection.execute_wrappers.insert(0, audit.enveloppe_execution)
            raise _Annulation
    except _Annulation:
        pass
    print(f"{N} enregistrements d'une demande (PostgreSQL {connection.pg_version // 10000}) :")
    print("  " + _resume("avec le journal d'audit", avec))
    print("  " + _resume("sans le déclencheur (set_config seul)", sans_declencheur))
    print("  " + _resume("sans le journal d'audit", sans))
    surcout = statistics.median(avec) - statistics.median(sans)
    print(f"  surcoût médian par écriture : {surcout:.3f} ms")


if __name__ == "__main__":
    main()
