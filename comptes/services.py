"""Writes on accounts: the second factor, the account journal, the personal-data export and the email outbox."""

import logging

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from .enums import TypeEvenementCompte
from .exceptions import ErreurCompte
from .models import EvenementCompte, Notification, Utilisateur
from .selectors import donnees_personnelles

NOM_APPAREIL = "Application d'authentification"

logger = logging.getLogger(__name__)

# One quick reconnection (a pooled connection gone stale after a broker restart), not Celery's default of several
# attempts: the user waits for this hook, and the outbox sweep is the real retry.
POLITIQUE_PUBLICATION = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def _erreurs_broker() -> tuple[type[BaseException], ...]:
    """What publishing raises when the broker is unreachable: kombu's errors and the transport's own."""
    from kombu.exceptions import KombuError

    from config.celery import app

    with app.connection_for_write() as connexion:  # no network access: only reads the transport's error types
        return (KombuError, OSError, *connexion.connection_errors)


def _envoyer_apres_commit(notification_id: int) -> None:
    """Enqueue the sending once the transaction commits; a broker outage only delays the email.

    The hook runs after the commit, while the user's request is still being answered: an exception here would turn
    a request that succeeded into an error page. The row stays unsent and the periodic sweep
    (tasks.notifications_relancer) enqueues it again once the broker is back, so logging is all there is to do.
    """
    from .tasks import notification_envoyer

    def envoyer():
        try:
            notification_envoyer.apply_async((notification_id,), retry_policy=POLITIQUE_PUBLICATION)
        except _erreurs_broker() as exc:
            logger.warning(
                "Broker injoignable : la notification %s partira au prochain passage de la relance (%s)",
                notification_id,
                exc.__class__.__name__,
                extra={"notification_id": notification_id},
            )

    transaction.on_commit(envoyer)


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
    _envoyer_apres_commit(notification.pk)
    return notification


def notification_marquer_envoyee(*, notification_id: int) -> bool:
    """Claim the row once: True for the single caller that marks it sent."""
    return (
        Notification.objects.filter(pk=notification_id, envoye_le__isnull=True).update(envoye_le=timezone.now()) == 1
    )


def notifications_relancer_envoi(*, notifications: QuerySet[Notification]) -> int:
    """Enqueue again every unsent email of `notifications` (an administrator's retry after fixing the cause).

    Unlike the periodic sweep, this ignores the attempt ceiling: a person decided to try again. Already sent rows
    are left alone, and the task itself claims the row, so a double click cannot send twice.
    """
    ids = list(notifications.filter(envoye_le__isnull=True).order_by("cree_le").values_list("pk", flat=True))
    for notification_id in ids:
        _envoyer_apres_commit(notification_id)
    return len(ids)


def evenement_compte_enregistrer(
    *,
    utilisateur: Utilisateur,
    type_evenement: TypeEvenementCompte,
    auteur: Utilisateur | None = None,
    adresse_ip: str | None = None,
    details: dict | None = None,
) -> EvenementCompte:
    """Append one row to the account journal (append-only in the database)."""
    return EvenementCompte.objects.create(
        utilisateur=utilisateur,
        type=type_evenement,
        auteur=auteur,
        adresse_ip=adresse_ip or None,
        details=details or {},
    )


def double_facteur_appareil_a_activer(*, utilisateur: Utilisateur) -> TOTPDevice:
    """The not yet confirmed authenticator of this staff account, created with a fresh secret if needed.

    Refused once a confirmed one exists: otherwise anyone holding the password alone could enrol their own phone
    and defeat the second factor. A lost phone is handled by an administrator (double_facteur_reinitialiser).
    """
    if not utilisateur.second_facteur_requis:
        raise ErreurCompte("Le second facteur est réservé aux agents de l'ANSM et aux comptes d'administration.")
    with transaction.atomic():
        # Lock the account row so that two tabs opening the page do not create two pending secrets.
        Utilisateur.objects.select_for_update().filter(pk=utilisateur.pk).first()
        if TOTPDevice.objects.filter(user=utilisateur, confirmed=True).exists():
            raise ErreurCompte("Une application d'authentification est déjà enregistrée pour ce compte.")
        appareil = TOTPDevice.objects.filter(user=utilisateur, confirmed=False).order_by("pk").first()
        if appareil is None:
            appareil = TOTPDevice.objects.create(user=utilisateur, name=NOM_APPAREIL, confirmed=False)
    return appareil


def _refus_si_bloque(appareil: TOTPDevice) -> None:
    autorise, infos = appareil.verify_is_allowed()
    if not autorise:
        jusqu_a = timezone.localtime(infos["locked_until"]) if infos and infos.get("locked_until") else None
        suite = f" Réessayez après {jusqu_a:%H:%M:%S}." if jusqu_a else " Réessayez dans quelques instants."
        raise ErreurCompte("Trop de codes erronés à la suite." + suite, champ="code")


def double_facteur_activer(*, utilisateur: Utilisateur, code: str, adresse_ip: str | None = None) -> TOTPDevice:
    """Confirm the pending authenticator with a first correct code; returns it so the caller can log it in."""
    with transaction.atomic():
        appareil = (
            TOTPDevice.objects.select_for_update().filter(user=utilisateur, confirmed=False).order_by("pk").first()
        )
        if appareil is None:
            raise ErreurCompte("Aucune activation en cours : rechargez la page pour obtenir un nouveau QR code.")
        _refus_si_bloque(appareil)
        valide = appareil.verify_token(code)  # a failure increments the throttling counter: committed below
        if valide:
            appareil.confirmed = True
            appareil.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=utilisateur, confirmed=False).exclude(pk=appareil.pk).delete()
            evenement_compte_enregistrer(
                utilisateur=utilisateur,
                type_evenement=TypeEvenementCompte.DOUBLE_FACTEUR_ACTIVE,
                adresse_ip=adresse_ip,
            )
    if not valide:
        raise ErreurCompte(
            "Code incorrect. Vérifiez que l'heure de votre téléphone est à jour et saisissez le code affiché.",
            champ="code",
        )
    return appareil


def double_facteur_verifier(*, utilisateur: Utilisateur, code: str, adresse_ip: str | None = None) -> TOTPDevice:
    """Check a code against the account's authenticator; a failure is journaled and throttled (exponential delay)."""
    with transaction.atomic():
        # Locked so that concurrent guesses are counted one after the other by the throttling.
        appareil = (
            TOTPDevice.objects.select_for_update().filter(user=utilisateur, confirmed=True).order_by("pk").first()
        )
        if appareil is None:
            raise ErreurCompte("Aucune application d'authentification n'est enregistrée pour ce compte.")
        _refus_si_bloque(appareil)
        valide = appareil.verify_token(code)
        evenement_compte_enregistrer(
            utilisateur=utilisateur,
            type_evenement=TypeEvenementCompte.DOUBLE_FACTEUR_VERIFIE
            if valide
            else TypeEvenementCompte.DOUBLE_FACTEUR_ECHEC,
            adresse_ip=adresse_ip,
        )
    if not valide:
        raise ErreurCompte("Code incorrect ou déjà utilisé. Saisissez le code actuellement affiché.", champ="code")
    return appareil


def double_facteur_reinitialiser(*, utilisateur: Utilisateur, par: Utilisateur, adresse_ip: str | None = None) -> int:
    """Remove the authenticators of an account (lost phone): its holder enrols a new one at the next login."""
    with transaction.atomic():
        supprimes, _ = TOTPDevice.objects.filter(user=utilisateur).delete()
        evenement_compte_enregistrer(
            utilisateur=utilisateur,
            type_evenement=TypeEvenementCompte.DOUBLE_FACTEUR_REINITIALISE,
            auteur=par,
            adresse_ip=adresse_ip,
            details={"appareils_supprimes": supprimes},
        )
    return supprimes


def export_donnees_patients_enregistrer(
    *, utilisateur: Utilisateur, journal: str, filtres: dict, lignes: int, adresse_ip: str | None = None
) -> EvenementCompte:
    """Journal a download that holds patient data (RGPD): who, when, which extract, how many rows.

    `filtres` and the highest row id included (in `filtres`) say exactly which rows left the service.
    """
    return evenement_compte_enregistrer(
        utilisateur=utilisateur,
        type_evenement=TypeEvenementCompte.EXPORT_DONNEES_PATIENTS,
        adresse_ip=adresse_ip,
        details={"journal": journal, "filtres": filtres, "lignes": lignes},
    )


def utilisateur_exporter_donnees(*, utilisateur: Utilisateur, adresse_ip: str | None = None) -> dict:
    """Journal the download, then return everything held about the person (the journal row included)."""
    with transaction.atomic():
        evenement_compte_enregistrer(
            utilisateur=utilisateur, type_evenement=TypeEvenementCompte.EXPORT_DONNEES, adresse_ip=adresse_ip
        )
        return donnees_personnelles(utilisateur=utilisateur)
