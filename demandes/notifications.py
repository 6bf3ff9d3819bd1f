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
    "assignee": (
        "Demande d'AAC {reference} à instruire",
        "La demande d'AAC {reference} ({medicament}) vous a été assignée dans la file d'instruction.",
    ),
    "information_laboratoire": (
        "Demande d'information de l'ANSM — {medicament}",
        "Dans le cadre de l'instruction de la demande d'AAC {reference} ({medicament}), l'ANSM demande à votre "
        "laboratoire les pièces suivantes (article R. 5121-74 du code de la santé publique), avant le "
        "{date_limite} :\n{pieces}\nDéposez votre réponse et vos documents dans votre espace laboratoire.",
    ),
    "information_laboratoire_fournie": (
        "Réponse du laboratoire sur la demande d'AAC {reference}",
        "Le laboratoire a répondu à la demande d'information sur la demande d'AAC {reference} ({medicament}).",
    ),
    "recours_accueilli": (
        "Recours gracieux accueilli — AAC n° {numero}",
        "Le recours gracieux formé sur la demande d'AAC {reference} ({medicament}) est accueilli : la décision est "
        "réformée, l'AAC n° {numero} est octroyée. La nouvelle décision est téléchargeable sur le portail.",
    ),
    "recours_rejete": (
        "Recours gracieux rejeté — demande {reference}",
        "Le recours gracieux formé sur la demande d'AAC {reference} ({medicament}) est rejeté. La réponse motivée "
        "est consultable sur le portail ; un recours contentieux reste possible devant le tribunal administratif "
        "dans les deux mois de la notification de la décision.",
    ),
    "expiree": (
        "Fin de traitement — AAC {numero}",
        "La durée de traitement autorisée par l'AAC n° {numero} (demande {reference}) est échue. Un renouvellement "
        "est une nouvelle demande, liée à la première.",
    ),
}


def _absolu(chemin: str) -> str:
    return getattr(settings, "SITE_URL", "").rstrip("/") + chemin


def lien(demande: DemandeAAC) -> str:
    return _absolu(reverse("demandes:detail", args=[demande.reference]))


def lien_instruction(demande: DemandeAAC) -> str:
    """The évaluateur's review page of the request."""
    return _absolu(reverse("ansm:instruction", args=[demande.reference]))


def lien_laboratoire(complement) -> str:
    """The laboratory's page of an information request (the laboratory cannot open the request itself)."""
    return _absolu(reverse("laboratoire:information", args=[complement.pk]))


def notifier(
    evenement: str, demande: DemandeAAC, destinataires: Iterable[str], *, url: str | None = None, **contexte
) -> int:
    """Queue the event's email once per distinct recipient; returns how many were queued. `url` replaces the link
    to the request's page for recipients who open it elsewhere (the laboratory, the review page)."""
    sujet_modele, phrase_modele = EVENEMENTS[evenement]
    valeurs = {"reference": demande.reference, "medicament": demande.designation_medicament, **contexte}
    sujet = sujet_modele.format(**valeurs)
    corps = render_to_string(
        "demandes/emails/notification.txt",
        {"phrase": phrase_modele.format(**valeurs), "lien": url or lien(demande), "service": settings.SERVICE_NAME},
    )
    uniques = list(dict.fromkeys(e.strip().lower() for e in destinataires if e and e.strip()))
    for email in uniques:
        notification_creer(destinataire=email, sujet=sujet, corps=corps)
    return len(uniques)
