"""Celery tasks of the requests: one more interface onto the services (the emails themselves are queued by the
services in the outbox and sent by comptes.tasks.notification_envoyer after commit).

The scheduled ones (config/settings.py, CELERY_BEAT_SCHEDULE) take an optional `aujourd_hui` (ISO date) so that
operations and tests can run them for a given day (`manage.py executer_tache`); each is idempotent (see
demandes.echeances): a retry, a re-run or two beats at once send each reminder once.
"""

import datetime
import logging

from celery import shared_task
from django.utils import timezone

from referentiel.echeances import jour

from . import echeances, services
from .enums import SensDecision, StatutDemande
from .exceptions import DemandeError
from .models import DemandeAAC

logger = logging.getLogger(__name__)

TAILLE_LOT = 500


def demandes_echues(aujourd_hui: datetime.date):
    """Granted requests whose authorised treatment ended before today (index decision_fin_traitement)."""
    return DemandeAAC.objects.filter(
        statut=StatutDemande.OCTROYEE,
        decision__sens=SensDecision.OCTROI,
        decision__date_fin_traitement__lt=aujourd_hui,
    ).order_by("decision__date_fin_traitement", "pk")


@shared_task(acks_late=True)
def demandes_expirer(aujourd_hui: str | None = None) -> int:
    """R17, R20: move every granted AAC past its end of treatment to "expirée", in batches. Idempotent: a
    request already expired (by another run) is no longer selected, and the transition itself is locked and
    checked, so two runs at once expire each request once. Issue 6 schedules it with Celery beat."""
    jour = datetime.date.fromisoformat(aujourd_hui) if aujourd_hui else timezone.localdate()
    total = 0
    while True:
        lot = list(demandes_echues(jour).values_list("pk", flat=True)[:TAILLE_LOT])
        if not lot:
            return total
        avances = 0
        for pk in lot:
            try:
                services.demande_expirer(demande=DemandeAAC(pk=pk), aujourd_hui=jour)
                avances += 1
            except DemandeError as exc:  # expired meanwhile by another worker
                logger.info("Demande %s non expirée : %s", pk, exc)
        total += avances
        if avances == 0:
            return total


@shared_task(acks_late=True)
def aac_fins_traitement_rappeler(aujourd_hui: str | None = None, taille_lot: int | None = None) -> dict[str, int]:
    """R17, R20: remind the prescriber and the PUI 30 and 7 days before the end of treatment."""
    return echeances.fins_de_traitement_rappeler(
        aujourd_hui=jour(aujourd_hui), taille_lot=taille_lot or echeances.TAILLE_LOT
    )


@shared_task(acks_late=True)
def complements_relancer(aujourd_hui: str | None = None, taille_lot: int | None = None) -> dict[str, int]:
    """R14, R16: remind at half the answer delay; tell the évaluateur when the deadline passed."""
    return echeances.complements_relancer(aujourd_hui=jour(aujourd_hui), taille_lot=taille_lot or echeances.TAILLE_LOT)


@shared_task(acks_late=True)
def aac_cessations_prevenir(aujourd_hui: str | None = None, taille_lot: int | None = None) -> dict[str, int]:
    """R24: tell the prescribers whose requests are still open that AAC stopped for their medicine."""
    return echeances.cessations_prevenir(aujourd_hui=jour(aujourd_hui), taille_lot=taille_lot or echeances.TAILLE_LOT)


@shared_task(acks_late=True)
def statistiques_mensuelles_envoyer(aujourd_hui: str | None = None) -> dict[str, int]:
    """Email last month's figures (CSV attached) to the ANSM administrators."""
    return echeances.statistiques_mensuelles_envoyer(aujourd_hui=jour(aujourd_hui))


@shared_task(acks_late=True)
def statistiques_mensuelles_expedier(notification_id: int) -> bool:
    """Send one monthly-statistics email with its attachment (retried with backoff on failure)."""
    return echeances.statistiques_expedier(notification_id=notification_id)
