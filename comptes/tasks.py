"""Celery tasks of the accounts app: the email outbox, and the retention of patient identity (issue 7)."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import Notification

logger = logging.getLogger(__name__)

TENTATIVES_MAX = 8


@shared_task(bind=True, max_retries=TENTATIVES_MAX, acks_late=True)
def notification_envoyer(self, notification_id: int) -> bool:
    """Send one queued email. The row is locked while sending so two workers never both send it."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk=notification_id, envoye_le__isnull=True)
            .first()
        )
        if notification is None:
            return False  # already sent, or being sent by another worker
        try:
            send_mail(notification.sujet, notification.corps, settings.DEFAULT_FROM_EMAIL, [notification.destinataire])
        except Exception as exc:
            Notification.objects.filter(pk=notification_id).update(
                tentatives=F("tentatives") + 1, derniere_erreur=f"{exc.__class__.__name__}: {exc}"[:2000]
            )
            # Back off by the attempts recorded on the row (the task re-enqueues itself, so Celery's own retry
            # counter stays at 0); past TENTATIVES_MAX the row waits for an administrator's retry.
            tentatives = notification.tentatives + 1
            if tentatives < TENTATIVES_MAX:
                transaction.on_commit(
                    lambda: notification_envoyer.apply_async(
                        (notification_id,), countdown=min(3600, 30 * 2 ** (tentatives - 1))
                    )
                )
            logger.warning("Échec d'envoi de la notification %s : %s", notification_id, exc)
            return False
        notification.envoye_le = timezone.now()
        notification.tentatives += 1
        notification.derniere_erreur = ""
        notification.save(update_fields=["envoye_le", "tentatives", "derniere_erreur"])
    return True


@shared_task
def notifications_relancer() -> int:
    """Re-enqueue emails still unsent after 5 minutes (broker outage, lost message): nothing is lost."""
    seuil = timezone.now() - timedelta(minutes=5)
    ids = list(
        Notification.objects.filter(envoye_le__isnull=True, cree_le__lt=seuil, tentatives__lt=TENTATIVES_MAX)
        .order_by("cree_le")
        .values_list("pk", flat=True)[:500]
    )
    for notification_id in ids:
        notification_envoyer.delay(notification_id)
    return len(ids)


@shared_task
def demandes_pseudonymiser() -> int:
    """Nightly (beat): pseudonymise the requests closed for RETENTION_PATIENT_JOURS (comptes.retention).

    No actor: the audit trail records these writes with the task's id (`tache-<id>`) as request id.
    """
    from .retention import demandes_pseudonymiser as pseudonymiser

    return pseudonymiser()
