"""Deadlines of the référentiel run by the scheduler (R23, R34, R38), and the machinery every deadline scan shares
(demandes.echeances uses it for the requests' deadlines).

How a scan works, and why:
- It reads only what is due now: a range on an indexed date column (`fenetre`), so its cost grows with the items
  due, not with the table. A window of RATTRAPAGE_JOURS days instead of one exact day: a reminder missed while the
  scheduler was down goes out late rather than never.
- It walks the due items in batches (`par_lots`, keyset order on (date, id)), one transaction per batch: a batch's
  outbox rows are committed together, then sent by the worker (comptes.services.notification_creer).
- "Already sent" is the unique key of the outbox row (`Notification.cle`), never a check-then-insert: a re-run, a
  retried task or two beats at once queue each reminder once. The key holds the deadline's date when the deadline
  can move (an extended AAP deadline, a renewed CPC), so the reminders start again for the new date.
"""

import datetime
import hashlib
import logging
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from comptes.enums import Role

from . import regles, services
from .enums import EtapeCPC, EtatAcces, StatutRapport, TypeAcces, TypePUT
from .exceptions import ReferentielError
from .models import PUT, AccesDerogatoire, RapportPeriodique
from .selectors import _sans_aap, laboratoires_destinataires, puts_publics

logger = logging.getLogger(__name__)

TAILLE_LOT = 500
# A reminder is due from its day until RATTRAPAGE_JOURS later (catch-up after an outage of the scheduler).
RATTRAPAGE_JOURS = 7
LONGUEUR_CLE = 200  # Notification.cle

# R23: the laboratory is reminded 60 and 15 days before its AAP filing deadline.
RAPPELS_ENGAGEMENT_AAP_JOURS = (60, 15)
# R38: the ANSM is reminded 6 and 2 months before a CPC's 3-year term.
RAPPELS_CPC_MOIS = (6, 2)
# R34: the laboratory is reminded 30 and 7 days before a periodic report is due.
RAPPELS_RAPPORT_JOURS = (30, 7)


# --- The shared machinery -------------------------------------------------------------------------------------


def jour(aujourd_hui: str | datetime.date | None) -> datetime.date:
    """The day a scan runs for: the ISO date given (operations, tests), or today in Paris."""
    if aujourd_hui is None or aujourd_hui == "":
        return timezone.localdate()
    if isinstance(aujourd_hui, datetime.date):
        return aujourd_hui
    return datetime.date.fromisoformat(aujourd_hui)


def fenetre(echeance: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The deadlines whose reminder is due today, when the reminder falls on the day `echeance` stands for
    (today + 30 days for a "30 days before" reminder): that day and the RATTRAPAGE_JOURS days before it."""
    return echeance - datetime.timedelta(days=RATTRAPAGE_JOURS), echeance


def par_lots(queryset: QuerySet, *, champ: str, taille: int = TAILLE_LOT) -> Iterator[list]:
    """The rows of `queryset` in batches of `taille`, in (champ, id) order, each batch read after the previous one
    was processed (keyset pagination: no OFFSET, and rows that left the selection meanwhile are not skipped)."""
    dernier = None
    while True:
        qs = queryset.order_by(champ, "pk")
        if dernier is not None:
            valeur, pk = dernier
            qs = qs.filter(Q(**{f"{champ}__gt": valeur}) | Q(**{champ: valeur, "pk__gt": pk}))
        lot = list(qs[:taille])
        if not lot:
            return
        yield lot
        if len(lot) < taille:
            return
        dernier = (_valeur(lot[-1], champ), lot[-1].pk)


def _valeur(objet, champ: str):
    for partie in champ.split("__"):
        objet = getattr(objet, partie)
    return objet


def cle_rappel(nature: str, identifiant: str, destinataire: str) -> str:
    """The outbox key of one reminder to one person; a very long address is hashed to fit the column."""
    cle = f"{nature}:{identifiant}:{destinataire}"
    if len(cle) <= LONGUEUR_CLE:
        return cle
    return f"{nature}:{identifiant}:{hashlib.sha256(destinataire.encode()).hexdigest()}"[:LONGUEUR_CLE]


def rappel_envoyer(
    *, nature: str, identifiant: str, destinataires: Iterable[str], sujet: str, gabarit: str, contexte: dict
) -> int:
    """Queue one reminder email per distinct address, at most once per (nature, identifiant, address) whoever calls
    (comptes.services.notification_creer and the outbox's unique key): returns how many this call queued.

    When a row already exists but is still unsent (a run killed between its commit and the publication of the
    send, a broker outage), its sending is enqueued again: the send task claims the row, so at most one email
    leaves, and the outbox sweep would do the same a few minutes later anyway.
    """
    from comptes.models import Notification
    from comptes.services import notification_creer, notifications_relancer_envoi
    from comptes.tasks import TENTATIVES_MAX

    corps = render_to_string(
        f"emails/echeances/{gabarit}.txt",
        {**contexte, "service": settings.SERVICE_NAME, "site": settings.SITE_URL.rstrip("/")},
    )
    crees, existantes = 0, []
    for destinataire in destinataires_uniques(destinataires):
        cle = cle_rappel(nature, identifiant, destinataire)
        if notification_creer(destinataire=destinataire, sujet=sujet, corps=corps, cle=cle) is None:
            existantes.append(cle)
        else:
            crees += 1
    if existantes:
        notifications_relancer_envoi(
            notifications=Notification.objects.filter(cle__in=existantes, tentatives__lt=TENTATIVES_MAX)
        )
    return crees


def destinataires_uniques(adresses: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(a.strip().lower() for a in adresses if a and a.strip()))


def destinataires_ansm() -> list[str]:
    """Who hears about the ANSM's own deadlines (CPC terms, overdue answers): the active évaluateurs, who manage
    fiches, CPC, reports and deadlines (DOMAIN.md, roles)."""
    from comptes.models import Utilisateur

    return destinataires_uniques(
        Utilisateur.objects.filter(role=Role.EVALUATEUR, is_active=True)
        .order_by("email")
        .values_list("email", flat=True)
    )


class LuUneFois:
    """Values a scan reads once per key (who hears about a laboratory, a PUI...): its batches name the same few
    again and again, and each reading costs queries. `lire(cle, lecture, *arguments)` runs `lecture(*arguments)` the
    first time only."""

    def __init__(self) -> None:
        self._lus: dict = {}

    def lire(self, cle, lecture, *arguments):
        if cle not in self._lus:
            self._lus[cle] = lecture(*arguments)
        return self._lus[cle]


class DestinatairesDesProduits(LuUneFois):
    """Who hears about a product (selectors.laboratoires_destinataires), read once per pair of laboratories."""

    def __call__(self, specialite) -> list[str]:
        return self.lire(
            (specialite.titulaire_id, specialite.exploitant_id),
            laboratoires_destinataires,
            [specialite.titulaire, specialite.exploitant],
        )


def lien(nom: str, *args) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(nom, args=args)


# --- R23: the laboratory's commitment to file an AAP -------------------------------------------------------------


def engagements_aap_dus(*, aujourd_hui: datetime.date, jours: int) -> QuerySet[AccesDerogatoire]:
    """R23: AAC in force whose laboratory has not filed its AAP yet and whose deadline is `jours` days away (within
    the catch-up window). Range on index acces_limite_aap."""
    debut, fin = fenetre(aujourd_hui + datetime.timedelta(days=jours))
    return (
        AccesDerogatoire.objects.filter(
            date_limite_depot_aap__range=(debut, fin),
            type_acces=TypeAcces.AAC,
            etat=EtatAcces.EN_COURS,
            engagement_aap=True,
        )
        .filter(_sans_aap())
        .select_related("specialite__titulaire", "specialite__exploitant")
    )


def engagements_aap_rappeler(*, aujourd_hui: datetime.date, taille_lot: int = TAILLE_LOT) -> dict[str, int]:
    """R23: remind the laboratory 60 and 15 days before its AAP filing deadline (extensions included)."""
    envoyes = 0
    destinataires = DestinatairesDesProduits()
    for jours in RAPPELS_ENGAGEMENT_AAP_JOURS:
        for lot in par_lots(
            engagements_aap_dus(aujourd_hui=aujourd_hui, jours=jours), champ="date_limite_depot_aap", taille=taille_lot
        ):
            with transaction.atomic():
                for acces in lot:
                    specialite = acces.specialite
                    contexte = {
                        "specialite": specialite,
                        "acces": acces,
                        "jours": (acces.date_limite_depot_aap - aujourd_hui).days,
                        "lien": lien("laboratoire:produit", specialite.pk),
                        "lien_prolongation": lien("laboratoire:demander_prolongation", acces.pk),
                    }
                    sujet = (
                        f"Dépôt de la demande d'AAP de {specialite.nom} : échéance le "
                        f"{acces.date_limite_depot_aap:%d/%m/%Y}"
                    )
                    envoyes += rappel_envoyer(
                        nature=f"aap-engagement-j{jours}",
                        identifiant=f"{acces.pk}:{acces.date_limite_depot_aap.isoformat()}",
                        destinataires=destinataires(specialite),
                        sujet=sujet,
                        gabarit="engagement_aap",
                        contexte=contexte,
                    )
    return {"rappels": envoyes}


# --- R38: the 3-year term of a CPC ---------------------------------------------------------------------------------


def _cpc_publies() -> QuerySet[AccesDerogatoire]:
    return AccesDerogatoire.objects.filter(
        type_acces=TypeAcces.CPC, etat=EtatAcces.EN_COURS, etape_cpc=EtapeCPC.PUBLIE
    )


def cpc_a_terme(*, aujourd_hui: datetime.date, mois: int) -> QuerySet[AccesDerogatoire]:
    """R38: published CPC whose term is `mois` months away (within the catch-up window). Index acces_date_fin."""
    debut, fin = fenetre(regles.ajouter_mois(aujourd_hui, mois))
    return _cpc_publies().filter(date_fin__range=(debut, fin)).select_related("specialite")


def cpc_echus(*, aujourd_hui: datetime.date) -> QuerySet[AccesDerogatoire]:
    """R38: published CPC past their term and not renewed (a renewal moves date_fin). Index acces_date_fin, which
    holds only statuses in force: an ended CPC leaves it."""
    return _cpc_publies().filter(date_fin__lt=aujourd_hui)


def cpc_echeances_traiter(*, aujourd_hui: datetime.date, taille_lot: int = TAILLE_LOT) -> dict[str, int]:
    """R38: remind the ANSM 6 and 2 months before a CPC's term; end the CPC not renewed by its term."""
    envoyes = 0
    ansm = destinataires_ansm()
    for mois in RAPPELS_CPC_MOIS:
        for lot in par_lots(cpc_a_terme(aujourd_hui=aujourd_hui, mois=mois), champ="date_fin", taille=taille_lot):
            with transaction.atomic():
                for acces in lot:
                    contexte = {
                        "specialite": acces.specialite,
                        "acces": acces,
                        "mois": mois,
                        "lien": lien("ansm:cpc", acces.pk),
                    }
                    sujet = f"CPC de {acces.specialite.nom} : terme le {acces.date_fin:%d/%m/%Y}, à renouveler ou non"
                    envoyes += rappel_envoyer(
                        nature=f"cpc-terme-m{mois}",
                        identifiant=f"{acces.pk}:{acces.date_fin.isoformat()}",
                        destinataires=ansm,
                        sujet=sujet,
                        gabarit="cpc_terme",
                        contexte=contexte,
                    )
    termines = 0
    for lot in par_lots(cpc_echus(aujourd_hui=aujourd_hui), champ="date_fin", taille=taille_lot):
        for acces in lot:
            try:
                # Its own transaction: the service locks the fiche and checks again that the CPC is not ended (a
                # second run, or an évaluateur renewing it at the same time, gets the service's refusal).
                services.cpc_terminer(acces=acces, par=None, date_fin=acces.date_fin)
                termines += 1
            except ReferentielError as exc:
                logger.info("CPC %s non terminé : %s", acces.pk, exc)
    return {"rappels": envoyes, "cpc_termines": termines}


# --- R34: periodic synthesis reports -----------------------------------------------------------------------------


def rapports_dus(*, aujourd_hui: datetime.date, jours: int) -> QuerySet[RapportPeriodique]:
    """R34: reports still expected whose due date is `jours` days away (catch-up window). Index on date_echeance."""
    debut, fin = fenetre(aujourd_hui + datetime.timedelta(days=jours))
    return RapportPeriodique.objects.filter(
        date_echeance__range=(debut, fin), statut=StatutRapport.ATTENDU
    ).select_related("acces__specialite__titulaire", "acces__specialite__exploitant")


def _puts_periodiques() -> QuerySet[PUT]:
    """R34: the validated PUT-SP that set a periodicity of reports (what both the scan and the creation read)."""
    return puts_publics().filter(type_put=TypePUT.PUT_SP, periodicite_rapports_mois__isnull=False)


def rapports_a_prolonger() -> QuerySet[RapportPeriodique]:
    """R34: the last report of a status in force, once received (or evaluated, validated), when the status's
    validated PUT-SP sets a periodicity: the next period's report is due and not created yet.

    Reads every report received, whatever its date: the table holds a few reports per medicine and year, its size
    follows the number of medicines, not of requests.
    """
    put_periodique = _puts_periodiques().filter(acces=OuterRef("acces"))
    suivant = RapportPeriodique.objects.filter(acces=OuterRef("acces"), periode_fin__gt=OuterRef("periode_fin"))
    return (
        RapportPeriodique.objects.exclude(statut=StatutRapport.ATTENDU)
        .filter(acces__etat=EtatAcces.EN_COURS)
        .filter(Exists(put_periodique))
        .filter(~Exists(suivant))
        .select_related("acces")
    )


def _rapport_suivant_creer(precedent: RapportPeriodique) -> RapportPeriodique | None:
    """Create the report of the period after `precedent`, due as long after its period as the previous one was.

    The fiche is locked first (as every référentiel service does, rapport_creer included) and the check for an
    existing next report runs under that lock: two runs at once serialise there and the second finds the report.
    """
    from .models import Specialite

    with transaction.atomic():
        Specialite.objects.select_for_update().filter(pk=precedent.acces.specialite_id).first()
        if RapportPeriodique.objects.filter(
            acces_id=precedent.acces_id, periode_fin__gt=precedent.periode_fin
        ).exists():
            return None
        put = _puts_periodiques().filter(acces_id=precedent.acces_id).order_by("-date_validation", "-id").first()
        if put is None:
            return None
        debut = precedent.periode_fin + datetime.timedelta(days=1)
        fin = regles.ajouter_mois(debut, put.periodicite_rapports_mois) - datetime.timedelta(days=1)
        return services.rapport_creer(
            acces=precedent.acces,
            periode_debut=debut,
            periode_fin=fin,
            date_echeance=_echeance_apres(precedent, fin),
            par=None,
        )


def _echeance_apres(precedent: RapportPeriodique, fin: datetime.date) -> datetime.date:
    """The due date of a period ending on `fin`, as long after it as the previous report's: in whole months when
    that is what the PUT said (2 months after the period), in days otherwise."""
    for mois in range(13):
        if regles.ajouter_mois(precedent.periode_fin, mois) == precedent.date_echeance:
            return regles.ajouter_mois(fin, mois)
    return fin + (precedent.date_echeance - precedent.periode_fin)


def rapports_periodiques_traiter(*, aujourd_hui: datetime.date, taille_lot: int = TAILLE_LOT) -> dict[str, int]:
    """R34: expect the next report once one is received; remind the laboratory 30 and 7 days before a report is
    due. The overdue ones are listed for the ANSM (dashboard, /ansm/echeances/)."""
    crees = 0
    for precedent in rapports_a_prolonger():
        try:
            crees += _rapport_suivant_creer(precedent) is not None
        except ReferentielError as exc:
            logger.warning("Rapport suivant de %s non créé : %s", precedent.pk, exc)
    envoyes = 0
    destinataires = DestinatairesDesProduits()
    for jours in RAPPELS_RAPPORT_JOURS:
        for lot in par_lots(
            rapports_dus(aujourd_hui=aujourd_hui, jours=jours), champ="date_echeance", taille=taille_lot
        ):
            with transaction.atomic():
                for rapport in lot:
                    specialite = rapport.acces.specialite
                    contexte = {
                        "specialite": specialite,
                        "rapport": rapport,
                        "jours": (rapport.date_echeance - aujourd_hui).days,
                        "lien": lien("laboratoire:deposer_rapport", rapport.pk),
                    }
                    sujet = (
                        f"Rapport périodique de synthèse de {specialite.nom} attendu le "
                        f"{rapport.date_echeance:%d/%m/%Y}"
                    )
                    envoyes += rappel_envoyer(
                        nature=f"rapport-j{jours}",
                        identifiant=f"{rapport.pk}:{rapport.date_echeance.isoformat()}",
                        destinataires=destinataires(specialite),
                        sujet=sujet,
                        gabarit="rapport_periodique",
                        contexte=contexte,
                    )
    return {"rapports_crees": crees, "rappels": envoyes}
