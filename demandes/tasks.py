"""Celery tasks of the requests: one more interface onto the services (the emails themselves are queued by the
services in the outbox and sent by comptes.tasks.notification_envoyer after commit)."""

import datetime
import logging

from celery import shared_task
from django.utils import timezone

from . import services
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
