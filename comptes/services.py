"""Writes on accounts and the notification outbox."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Notification


def notification_creer(*, destinataire: str, sujet: str, corps: str, cle: str | None = None) -> Notification | None:
    """Queue one email, sent by a worker after the surrounding transaction commits.

    With a `cle`, the same email is queued at most once whatever the number of callers (unique constraint):
    returns None when it already exists.
    """
    try:
        with transaction.atomic():
            notification = Notification.objects.create(destinataire=destinataire, sujet=sujet, corps=corps, cle=cle)
    except IntegrityError:
        if cle is None:
            raise
        return None
    from .tasks import notification_envoyer

    transaction.on_commit(lambda: notification_envoyer.delay(notification.pk))
    return notification


def notification_marquer_envoyee(*, notification_id: int) -> bool:
    """Claim the row once: True for the single caller that marks it sent."""
    return (
        Notification.objects.filter(pk=notification_id, envoye_le__isnull=True).update(envoye_le=timezone.now()) == 1
    )
