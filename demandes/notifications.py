"""The emails of the request workflow: who is told what at each step.

Emails carry no patient data (email is not a secure channel): the reference, the step and a link to the portal,
where reading the request is permission-checked and logged. They are written to the outbox in the transition's
transaction and sent by a Celery worker after the commit (comptes.services.notification_creer).
"""

from collections.abc import Iterable

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from comptes.services import notification_creer

from .models import DemandeAAC

# event -> (subject, sentence). {reference} and {medicament} are filled in.
EVENEMENTS = {
    "transmise": (
        "Demande d'AAC {reference} à vérifier",
        "Un prescripteur vous a transmis la demande d'AAC {reference} ({medicament}). Vérifiez-la, complétez-la si "
        "nécessaire et soumettez-la à l'ANSM, ou renvoyez-la au prescripteur.",
    ),
    "renvoyee": (
        "Demande d'AAC {reference} renvoyée",
        "Le pharmacien vous a renvoyé la demande d'AAC {reference} ({medicament}) avec un commentaire. Modifiez-la "
        "puis transmettez-la de nouveau.",
    ),
    "soumise": (
        "Demande d'AAC {reference} soumise à l'ANSM",
        "La demande d'AAC {reference} ({medicament}) a été soumise à l'ANSM et est en cours d'évaluation.",
    ),
    "a_evaluer": (
        "Nouvelle demande d'AAC {reference} à évaluer",
        "La demande d'AAC {reference} ({medicament}) attend une évaluation.",
    ),
    "complement_demande": (
        "Complément demandé sur la demande d'AAC {reference}",
        "L'ANSM demande un complément d'information sur la demande d'AAC {reference} ({medicament}). Répondez "
        "avant le {date_limite}.",
    ),
    "complement_fourni": (
        "Complément fourni sur la demande d'AAC {reference}",
        "La PUI a répondu à la demande de complément sur la demande d'AAC {reference} ({medicament}).",
    ),
    "octroyee": (
        "AAC n° {numero} octroyée — demande {reference}",
        "L'autorisation d'accès compassionnel n° {numero} a été octroyée pour la demande {reference} ({medicament}). "
        "La décision est téléchargeable sur le portail.",
    ),
    "refusee": (
        "AAC refusée — demande {reference}",
        "La demande d'AAC {reference} ({medicament}) a été refusée. La décision, son motif et les voies de recours "
        "sont téléchargeables sur le portail.",
    ),
    "annulee": (
        "Demande d'AAC {reference} annulée",
        "Le prescripteur a annulé la demande d'AAC {reference} ({medicament}).",
    ),
    "recours": (
        "Recours gracieux sur la demande d'AAC {reference}",
        "Un recours gracieux a été formé contre la décision sur la demande d'AAC {reference} ({medicament}).",
    ),
    "expiree": (
        "Fin de traitement — AAC {numero}",
        "La durée de traitement autorisée par l'AAC n° {numero} (demande {reference}) est échue. Un renouvellement "
        "est une nouvelle demande, liée à la première.",
    ),
}


def lien(demande: DemandeAAC) -> str:
    return getattr(settings, "SITE_URL", "").rstrip("/") + reverse("demandes:detail", args=[demande.reference])


def notifier(evenement: str, demande: DemandeAAC, destinataires: Iterable[str], **contexte) -> int:
    """Queue the event's email once per distinct recipient; returns how many were queued."""
    sujet_modele, phrase_modele = EVENEMENTS[evenement]
    valeurs = {"reference": demande.reference, "medicament": demande.designation_medicament, **contexte}
    sujet = sujet_modele.format(**valeurs)
    corps = render_to_string(
        "demandes/emails/notification.txt",
        {"phrase": phrase_modele.format(**valeurs), "lien": lien(demande), "service": settings.SERVICE_NAME},
    )
    uniques = list(dict.fromkeys(e.strip().lower() for e in destinataires if e and e.strip()))
    for email in uniques:
        notification_creer(destinataire=email, sujet=sujet, corps=corps)
    return len(uniques)
