"""Reads of accounts: the account page, the second factor, and the export of what is held about a person."""

import datetime
import decimal
import uuid

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.db.models import Model, QuerySet
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import JournalAudit, Notification, Utilisateur

# Never exported, even to the person concerned: a password hash or an OTP secret in a downloaded file is a key to
# the account for whoever finds that file; axes' raw form data may hold a mistyped password.
CHAMPS_SECRETS = frozenset(
    {"password", "key", "secret", "token", "session_key", "session_data", "get_data", "post_data"}
)


def utilisateur_compte(*, utilisateur_id: int) -> Utilisateur:
    """The account with everything its page shows, in one query."""
    return Utilisateur.objects.select_related("etablissement", "pui__etablissement", "laboratoire").get(
        pk=utilisateur_id
    )


def double_facteur_appareil(*, utilisateur: Utilisateur) -> TOTPDevice | None:
    """The confirmed authenticator app of this account, if any."""
    return TOTPDevice.objects.filter(user=utilisateur, confirmed=True).order_by("pk").first()


def _valeur(valeur):
    """A field value as JSON can hold it, keeping dates and decimals readable."""
    if isinstance(valeur, datetime.datetime):
        return timezone.localtime(valeur).isoformat() if timezone.is_aware(valeur) else valeur.isoformat()
    if isinstance(valeur, datetime.date | datetime.time):
        return valeur.isoformat()
    if isinstance(valeur, decimal.Decimal | uuid.UUID | datetime.timedelta):
        return str(valeur)
    if isinstance(valeur, FieldFile):
        return valeur.name or None
    if isinstance(valeur, bytes | memoryview):
        return None
    return valeur


def _ligne(objet: Model) -> dict:
    return {
        champ.attname: _valeur(champ.value_from_object(objet))
        for champ in objet._meta.concrete_fields
        if champ.name not in CHAMPS_SECRETS
    }


def _section(libelle: str, objets) -> dict:
    lignes = [_ligne(objet) for objet in objets]
    return {"libelle": libelle, "nombre": len(lignes), "lignes": lignes}


def donnees_personnelles(*, utilisateur: Utilisateur) -> dict:
    """Everything the service holds about this person, as a JSON-ready dict (RGPD right of access).

    Rows of other apps are found through every relation that points to the account, hidden ones included
    (related_name="+"), so that a model added later is exported without anyone remembering to list it here.
    """
    compte = _ligne(utilisateur)
    compte["mot_de_passe"] = "défini (l'empreinte n'est pas communiquée)" if utilisateur.has_usable_password() else ""
    compte["role_libelle"] = utilisateur.get_role_display()
    compte["groupes"] = list(utilisateur.groups.values_list("name", flat=True))
    rattachements = {}
    for nom in ("etablissement", "pui", "laboratoire"):
        objet = getattr(utilisateur, nom)
        if objet is not None:
            rattachements[nom] = {"libelle": str(objet), **_ligne(objet)}

    donnees_liees = {}
    for relation in Utilisateur._meta.get_fields(include_hidden=True):
        if not (relation.is_relation and relation.auto_created and not relation.concrete):
            continue
        modele = relation.related_model
        if modele._meta.auto_created:  # the through tables of many-to-many fields, exported as `groupes`
            continue
        cle = f"{modele._meta.label_lower}.{relation.field.name}"
        objets = modele._default_manager.filter(**{relation.field.name: utilisateur}).order_by("pk")
        section = _section(str(modele._meta.verbose_name_plural), objets)
        if section["nombre"]:
            donnees_liees[cle] = section

    # Records kept by email address or login name rather than by a link to the account.
    email = utilisateur.email
    par_adresse = {
        "connexions": _section("connexions", AccessLog.objects.filter(username__iexact=email).order_by("pk")),
        "echecs_de_connexion": _section(
            "échecs de connexion", AccessFailureLog.objects.filter(username__iexact=email).order_by("pk")
        ),
        "verrouillages": _section(
            "tentatives en cours de décompte", AccessAttempt.objects.filter(username__iexact=email).order_by("pk")
        ),
        "courriels": _section(
            "courriels envoyés", Notification.objects.filter(destinataire__iexact=email).order_by("pk")
        ),
    }
    return {
        "service": settings.SERVICE_NAME,
        "genere_le": _valeur(timezone.now()),
        "compte": compte,
        "rattachements": rattachements,
        "donnees_liees": donnees_liees,
        **par_adresse,
    }


# --- The ANSM administrators' audit pages -----------------------------------------------------------------------


def journal_audit() -> QuerySet[JournalAudit]:
    """The audit trail, newest first (by id: insertion order, on the primary key's index), with each author."""
    return JournalAudit.objects.select_related("utilisateur").order_by("-id")


def acces_donnees_patients() -> QuerySet:
    """The log of patient-data reads, newest first, with the request and the reader."""
    from demandes.models import AccesDonneesPatient

    return AccesDonneesPatient.objects.select_related("demande", "utilisateur").order_by("-id")
