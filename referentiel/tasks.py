"""Celery tasks of the référentiel: the scheduled deadlines (R23, R34, R38), one more interface onto
referentiel.echeances. Each takes an optional `aujourd_hui` (ISO date) for operations and tests
(`manage.py executer_tache`) and is idempotent: a retry, a re-run or two beats at once send each reminder once."""

from celery import shared_task

from . import echeances
from .echeances import jour


@shared_task(acks_late=True)
def engagements_aap_rappeler(aujourd_hui: str | None = None, taille_lot: int | None = None) -> dict[str, int]:
    """R23: remind the laboratory 60 and 15 days before its AAP filing deadline."""
    return echeances.engagements_aap_rappeler(
        aujourd_hui=jour(aujourd_hui), taille_lot=taille_lot or echeances.TAILLE_LOT
    )


@shared_task(acks_late=True)
def cpc_echeances_traiter(aujourd_hui: str | None = None, taille_lot: int | None = None) -> dict[str, int]:
    """R38: remind the ANSM 6 and 2 months before a CPC's term; end the CPC not renewed by then."""
    return echeances.cpc_echeances_traiter(
        aujourd_hui=jour(aujourd_hui), taille_lot=taille_lot or echeances.TAILLE_LOT
    )


@shared_task(acks_late=True)
def rapports_periodiques_traiter(aujourd_hui: str | None = None, taille_lot: int | None = None) -> dict[str, int]:
    """R34: expect the next report once one is received; remind the laboratory before a report is due."""
    return echeances.rapports_periodiques_traiter(
        aujourd_hui=jour(aujourd_hui), taille_lot=taille_lot or echeances.TAILLE_LOT
    )
