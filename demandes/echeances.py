"""Deadlines of the AAC requests run by the scheduler (R17, R20, R24, R14-R16), the monthly statistics emailed to
the ANSM administrators, and the ANSM page of upcoming deadlines (/ansm/echeances/).

Every scan follows referentiel.echeances: only what is due now, through a range on an indexed date column; batches
in their own transaction; each reminder queued once per key of the outbox (`Notification.cle`). Emails carry no
patient data (email is not a secure channel): the request's reference, the medicine, the date and a link to the
portal, where reading the request is permission-checked and logged.
"""

import csv
import datetime
import io
import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from comptes.enums import Role
from referentiel import echeances as communs
from referentiel import regles
from referentiel.enums import EtapeCPC, EtatAcces, StatutRapport, TypeAcces
from referentiel.gestion.outils import ansm_requis
from referentiel.models import AccesDerogatoire, RapportPeriodique
from referentiel.selectors import _sans_aap

from . import notifications, selectors
from .calendrier import ajouter_mois
from .enums import STATUTS_INSTRUCTION, DestinataireComplement, SensDecision, StatutDemande
from .models import Complement, Decision, DemandeAAC
from .services import DELAI_COMPLEMENT_MAX_JOURS

logger = logging.getLogger(__name__)

TAILLE_LOT = communs.TAILLE_LOT
# R17, R20: the prescriber and the PUI are reminded 30 and 7 days before the end of the authorised treatment.
RAPPELS_FIN_TRAITEMENT_JOURS = (30, 7)
# R14-R16: an answer to the ANSM is due within DELAI_COMPLEMENT_MAX_JOURS at most; its reminder falls at half the
# delay, so at most this many days before the deadline.
DEMI_DELAI_MAX_JOURS = DELAI_COMPLEMENT_MAX_JOURS // 2 + 1
# R24: the requests still open when AAC stop for their medicine (before any decision).
STATUTS_OUVERTS = (
    StatutDemande.BROUILLON,
    StatutDemande.RENVOYEE,
    StatutDemande.TRANSMISE_PHARMACIEN,
    StatutDemande.EN_EVALUATION,
    StatutDemande.COMPLEMENT_DEMANDE,
    StatutDemande.COMPLEMENT_FOURNI,
)
HORIZON_JOURS = 90  # the ANSM page shows the next 90 days
ELEMENTS_PAR_NATURE = 10


def _lien_demande(demande: DemandeAAC, ancre: str = "") -> str:
    return communs.lien("demandes:detail", demande.reference) + (f"#{ancre}" if ancre else "")


# --- R17, R20: end of the authorised treatment ---------------------------------------------------------------------


def fins_de_traitement_dues(*, aujourd_hui: datetime.date, jours: int):
    """Grants in force whose treatment ends `jours` days from now (catch-up window), not renewed yet.

    Range on the partial index decision_fin_traitement (grants only). A treatment shorter than the reminder's delay
    gets no such reminder (a 20-day grant is not told "30 days before" on its first day).
    """
    debut, fin = communs.fenetre(aujourd_hui + datetime.timedelta(days=jours))
    renouvellement = DemandeAAC.objects.filter(demande_initiale=OuterRef("demande_id")).exclude(
        statut__in=[StatutDemande.ANNULEE, StatutDemande.REFUSEE]
    )
    return (
        Decision.objects.filter(
            sens=SensDecision.OCTROI,
            date_fin_traitement__range=(debut, fin),
            demande__statut=StatutDemande.OCTROYEE,
            date_debut__lte=F("date_fin_traitement") - datetime.timedelta(days=jours),
        )
        .filter(~Exists(renouvellement))
        .select_related("demande__prescripteur", "demande__pui", "demande__pharmacien", "demande__specialite")
        .defer("demande__specialite__document_recherche")
    )


def fins_de_traitement_rappeler(*, aujourd_hui: datetime.date, taille_lot: int = TAILLE_LOT) -> dict[str, int]:
    """R17, R20: remind the prescriber (with the renewal one click away) and the PUI 30 and 7 days before the end
    of the authorised treatment. After the date, `demandes_expirer` moves the request to « expirée »."""
    envoyes = 0
    for jours in RAPPELS_FIN_TRAITEMENT_JOURS:
        for lot in communs.par_lots(
            fins_de_traitement_dues(aujourd_hui=aujourd_hui, jours=jours),
            champ="date_fin_traitement",
            taille=taille_lot,
        ):
            pui_memo: dict[tuple, list[str]] = {}
            with transaction.atomic():
                for decision in lot:
                    envoyes += _rappeler_fin_de_traitement(
                        decision, aujourd_hui=aujourd_hui, jours=jours, memo=pui_memo
                    )
    return {"rappels": envoyes}


def _rappeler_fin_de_traitement(decision: Decision, *, aujourd_hui, jours: int, memo: dict) -> int:
    demande = decision.demande
    # Who hears about it at the PUI (selectors.destinataires_pui), read once per PUI and batch.
    cle_pui = (demande.pui_id, demande.pharmacien_id)
    if cle_pui not in memo:
        memo[cle_pui] = selectors.destinataires_pui(demande)
    prescripteur = demande.prescripteur.email.strip().lower()
    contexte = {
        "decision": decision,
        "reference": demande.reference,
        "medicament": demande.designation_medicament,
        "jours": (decision.date_fin_traitement - aujourd_hui).days,
        "lien": _lien_demande(demande),
    }
    sujet = f"Fin de traitement le {decision.date_fin_traitement:%d/%m/%Y} — AAC n° {decision.numero_aac}"
    envoyes = communs.rappel_envoyer(
        nature=f"aac-fin-j{jours}",
        identifiant=str(decision.pk),
        destinataires=[prescripteur],
        sujet=sujet,
        gabarit="aac_fin_traitement_prescripteur",
        # R20: the renewal is a new request prefilled from this one, created by the « Renouveler » action of the
        # request's page; the link opens that action.
        contexte={**contexte, "lien_renouvellement": _lien_demande(demande, "action-renouveler")},
    )
    envoyes += communs.rappel_envoyer(
        nature=f"aac-fin-j{jours}",
        identifiant=str(decision.pk),
        destinataires=[a for a in communs.destinataires_uniques(memo[cle_pui]) if a != prescripteur],
        sujet=sujet,
        gabarit="aac_fin_traitement_pui",
        contexte=contexte,
    )
    return envoyes


# --- R14-R16: answers the ANSM waits for ----------------------------------------------------------------------------


def _complements_en_attente():
    return Complement.objects.filter(repondu_le__isnull=True, demande__statut__in=sorted(STATUTS_INSTRUCTION))


def mi_delai(complement: Complement) -> datetime.date:
    """The day half of the answer delay has gone by."""
    depuis = timezone.localdate(complement.demande_le)
    return depuis + datetime.timedelta(days=(complement.date_limite - depuis).days // 2)


def complements_a_mi_delai(*, aujourd_hui: datetime.date):
    """Pending questions whose deadline is not passed and at most DEMI_DELAI_MAX_JOURS away (range on the partial
    index complement_en_attente); `complements_relancer` keeps those past half their delay."""
    return (
        _complements_en_attente()
        .filter(date_limite__range=(aujourd_hui, aujourd_hui + datetime.timedelta(days=DEMI_DELAI_MAX_JOURS)))
        .select_related("demande__prescripteur", "demande__pui", "demande__pharmacien", "demande__specialite")
        .select_related("laboratoire", "demande_par", "demande__evaluateur")
    )


def complements_en_retard(*, aujourd_hui: datetime.date):
    """Pending questions whose deadline passed within the catch-up window (same index)."""
    debut, fin = communs.fenetre(aujourd_hui - datetime.timedelta(days=1))
    return (
        _complements_en_attente()
        .filter(date_limite__range=(debut, fin))
        .select_related("demande__specialite", "laboratoire", "demande_par", "demande__evaluateur")
    )


def complements_relancer(*, aujourd_hui: datetime.date, taille_lot: int = TAILLE_LOT) -> dict[str, int]:
    """R14, R16: remind the PUI (and the prescriber) or the laboratory at half the answer delay; tell the évaluateur
    when the deadline has passed without an answer."""
    relances = 0
    for lot in communs.par_lots(
        complements_a_mi_delai(aujourd_hui=aujourd_hui), champ="date_limite", taille=taille_lot
    ):
        # Who hears about it at the laboratory or the PUI, read once per laboratory or PUI and batch.
        lus = communs.LuUneFois()
        with transaction.atomic():
            for complement in lot:
                if mi_delai(complement) > aujourd_hui:
                    continue
                demande = complement.demande
                if complement.destinataire == DestinataireComplement.LABORATOIRE:
                    destinataires = lus.lire(
                        ("laboratoire", complement.laboratoire_id),
                        selectors.destinataires_laboratoire,
                        complement.laboratoire,
                    )
                    lien = notifications.lien_laboratoire(complement)
                else:
                    pui = lus.lire(
                        ("pui", demande.pui_id, demande.pharmacien_id), selectors.destinataires_pui, demande
                    )
                    destinataires = [*pui, demande.prescripteur.email]
                    lien = _lien_demande(demande)
                contexte = {
                    "complement": complement,
                    "reference": demande.reference,
                    "medicament": demande.designation_medicament,
                    "jours": (complement.date_limite - aujourd_hui).days,
                    "lien": lien,
                    "laboratoire": complement.destinataire == DestinataireComplement.LABORATOIRE,
                }
                sujet = (
                    f"Rappel : réponse attendue par l'ANSM avant le {complement.date_limite:%d/%m/%Y} "
                    f"(demande d'AAC {demande.reference})"
                )
                relances += communs.rappel_envoyer(
                    nature="complement-mi-delai",
                    identifiant=str(complement.pk),
                    destinataires=destinataires,
                    sujet=sujet,
                    gabarit="complement_mi_delai",
                    contexte=contexte,
                )
    escalades = 0
    for lot in communs.par_lots(
        complements_en_retard(aujourd_hui=aujourd_hui), champ="date_limite", taille=taille_lot
    ):
        with transaction.atomic():
            for complement in lot:
                demande = complement.demande
                evaluateurs = [complement.demande_par.email]
                if demande.evaluateur_id:
                    evaluateurs.append(demande.evaluateur.email)
                contexte = {
                    "complement": complement,
                    "reference": demande.reference,
                    "medicament": demande.designation_medicament,
                    "destinataire": complement.laboratoire.nom
                    if complement.destinataire == DestinataireComplement.LABORATOIRE and complement.laboratoire_id
                    else "la PUI",
                    "lien": notifications.lien_instruction(demande),
                }
                sujet = f"Sans réponse au {complement.date_limite:%d/%m/%Y} : demande d'AAC {demande.reference}"
                escalades += communs.rappel_envoyer(
                    nature="complement-retard",
                    identifiant=str(complement.pk),
                    destinataires=evaluateurs,
                    sujet=sujet,
                    gabarit="complement_retard",
                    contexte=contexte,
                )
    return {"rappels": relances, "escalades": escalades}


# --- R24: the end of AAC for a medicine after its AMM --------------------------------------------------------------


def cessations_du_jour(*, aujourd_hui: datetime.date):
    """AAC whose cessation date came within the catch-up window. The table holds one row per status of a
    medicine (a few thousand): the type index narrows it to the AAC."""
    debut, fin = communs.fenetre(aujourd_hui)
    return AccesDerogatoire.objects.filter(
        type_acces=TypeAcces.AAC, date_cessation__range=(debut, fin)
    ).select_related("specialite")


def cessations_prevenir(*, aujourd_hui: datetime.date, taille_lot: int = TAILLE_LOT) -> dict[str, int]:
    """R24: from the cessation date no AAC is filed or granted for the medicine (the services refuse it); each
    prescriber with requests still open for it is told once, with the list of those requests.

    Batches of prescribers, each with all their open requests for the medicine (index on specialite_id): one email
    lists them all, whatever the batch size.
    """
    envoyes = 0
    for acces in cessations_du_jour(aujourd_hui=aujourd_hui):
        ouvertes = DemandeAAC.objects.filter(specialite_id=acces.specialite_id, statut__in=STATUTS_OUVERTS)
        prescripteurs = list(ouvertes.order_by("prescripteur_id").values_list("prescripteur_id", flat=True).distinct())
        for debut in range(0, len(prescripteurs), taille_lot):
            par_prescripteur: dict[str, list[DemandeAAC]] = {}
            lot = ouvertes.filter(prescripteur_id__in=prescripteurs[debut : debut + taille_lot])
            for demande in lot.select_related("prescripteur").order_by("prescripteur_id", "reference"):
                par_prescripteur.setdefault(demande.prescripteur.email, []).append(demande)
            with transaction.atomic():
                for adresse, demandes in par_prescripteur.items():
                    envoyes += communs.rappel_envoyer(
                        nature="aac-cessation",
                        identifiant=f"{acces.pk}:{acces.date_cessation.isoformat()}",
                        destinataires=[adresse],
                        sujet=f"Fin des AAC de {acces.specialite.nom} le {acces.date_cessation:%d/%m/%Y}",
                        gabarit="aac_cessation",
                        contexte={
                            "specialite": acces.specialite,
                            "acces": acces,
                            "demandes": [(d.reference, _lien_demande(d)) for d in demandes],
                        },
                    )
    return {"rappels": envoyes}


# --- Monthly statistics for the ANSM administrators -------------------------------------------------------------


def mois_precedent(aujourd_hui: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last day of the month before `aujourd_hui`'s."""
    premier = aujourd_hui.replace(day=1)
    fin = premier - datetime.timedelta(days=1)
    return fin.replace(day=1), fin


# The référentiel's counters of the ANSM dashboard that the monthly report adds to the requests' statistics.
COMPTEURS_REFERENTIEL = {
    "engagements_en_retard": "Engagements de dépôt d'AAP en retard (R23)",
    "engagements_a_echeance": "Engagements de dépôt d'AAP à échéance dans 60 jours (R23)",
    "cpc_a_echeance": "CPC arrivant à leur terme dans 6 mois (R38)",
    "cpc_en_projet": "CPC en projet (R40)",
    "rapports_en_retard": "Rapports périodiques en retard (R34)",
    "rapports_a_echeance": "Rapports périodiques attendus dans 30 jours (R34)",
    "rapports_a_evaluer": "Rapports périodiques reçus à évaluer (R35)",
    "demandes_laboratoires": "Demandes des laboratoires en attente (R23, R29, R32)",
}


def statistiques_du_mois(*, debut: datetime.date, fin: datetime.date) -> dict:
    """The back-office figures of a month: the requests' statistics of the ANSM page (demandes.statistiques, the
    month's submissions and decisions, the backlog now) and the référentiel's dashboard counters today.

    {"indicateurs": [(indicator, value)] for the email's body, "tableaux": the statistics page's tables, "referentiel":
    [(indicator, value)]}; a fixed number of queries whatever the volume.
    """
    from referentiel.selectors import tableau_de_bord_referentiel

    from .statistiques import statistiques_calculer, statistiques_indicateurs, statistiques_tableaux

    stats = statistiques_calculer(debut=debut, fin=fin)
    compteurs = tableau_de_bord_referentiel(aujourd_hui=timezone.localdate())
    referentiel = [(libelle, str(compteurs[cle])) for cle, libelle in COMPTEURS_REFERENTIEL.items()]
    return {
        "indicateurs": statistiques_indicateurs(stats),
        "tableaux": statistiques_tableaux(stats),
        "referentiel": referentiel,
    }


def statistiques_csv(*, debut: datetime.date, fin: datetime.date, chiffres: dict | None = None) -> str:
    """The month's figures as one CSV file, a section per table of the statistics page then the référentiel's
    counters (semicolon-separated, as French spreadsheets expect)."""
    chiffres = chiffres or statistiques_du_mois(debut=debut, fin=fin)
    tampon = io.StringIO()
    ecrivain = csv.writer(tampon, delimiter=";", lineterminator="\r\n")
    ecrivain.writerow([f"Statistiques du {debut:%d/%m/%Y} au {fin:%d/%m/%Y}"])
    for tableau in chiffres["tableaux"].values():
        ecrivain.writerow([])
        ecrivain.writerow([tableau["titre"]])
        ecrivain.writerow(tableau["entetes"])
        ecrivain.writerows(tableau["lignes"])
    ecrivain.writerow([])
    ecrivain.writerow([f"Référentiel au {timezone.localdate():%d/%m/%Y}"])
    ecrivain.writerow(["Indicateur", "Valeur"])
    ecrivain.writerows(chiffres["referentiel"])
    return tampon.getvalue()


NATURE_STATISTIQUES = "statistiques-mensuelles"


def statistiques_mensuelles_envoyer(*, aujourd_hui: datetime.date) -> dict[str, int]:
    """Email the previous month's figures, as a CSV attachment, to every active administrator, once per month
    and person (the outbox key)."""
    from comptes.models import Notification, Utilisateur

    debut, fin = mois_precedent(aujourd_hui)
    chiffres = statistiques_du_mois(debut=debut, fin=fin)
    corps = render_to_string(
        "emails/echeances/statistiques_mensuelles.txt",
        {
            "debut": debut,
            "fin": fin,
            **chiffres,
            "service": settings.SERVICE_NAME,
            "aujourd_hui": timezone.localdate(),
        },
    )
    sujet = f"Statistiques mensuelles du {debut:%d/%m/%Y} au {fin:%d/%m/%Y}"
    administrateurs = Utilisateur.objects.filter(role=Role.ADMINISTRATEUR, is_active=True).order_by("email")
    envoyes = 0
    with transaction.atomic():
        for adresse in communs.destinataires_uniques(administrateurs.values_list("email", flat=True)):
            cle = communs.cle_rappel(NATURE_STATISTIQUES, f"{debut:%Y-%m}", adresse)
            # The row is written here rather than by notification_creer, whose send task has no attachment: this
            # module's own send task attaches the CSV (the outbox sweep, a fallback, sends the body, which holds
            # the same figures).
            try:
                with transaction.atomic():
                    notification = Notification.objects.create(destinataire=adresse, sujet=sujet, corps=corps, cle=cle)
            except IntegrityError:
                continue
            envoyes += 1
            transaction.on_commit(lambda pk=notification.pk: _expedier_plus_tard(pk))
    return {"envois": envoyes}


def _expedier_plus_tard(notification_id: int, countdown: int = 0) -> None:
    from comptes.services import _erreurs_broker

    from .tasks import statistiques_mensuelles_expedier

    try:
        statistiques_mensuelles_expedier.apply_async((notification_id,), countdown=countdown)
    except _erreurs_broker() as exc:  # the outbox sweep sends it later (without the attachment)
        logger.warning("Broker injoignable : statistiques %s non publiées (%s)", notification_id, exc)


def statistiques_expedier(*, notification_id: int) -> bool:
    """Send one monthly-statistics email with its CSV, claimed like any outbox row (locked, `envoye_le` empty):
    two workers never both send it. A failure is recorded on the row (the outbox admin shows it to the
    administrators, who can retry) and retried after 30 s, 1 min, 2 min... (the attempts recorded on the row), up to
    the outbox's ceiling."""
    from comptes.models import Notification
    from comptes.tasks import TENTATIVES_MAX

    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk=notification_id, envoye_le__isnull=True)
            .first()
        )
        if notification is None:
            return False
        mois = datetime.date.fromisoformat(notification.cle.split(":")[1] + "-01")
        debut, fin = mois, ajouter_mois(mois, 1) - datetime.timedelta(days=1)
        message = EmailMessage(
            notification.sujet, notification.corps, settings.DEFAULT_FROM_EMAIL, [notification.destinataire]
        )
        message.attach(f"statistiques-{debut:%Y-%m}.csv", statistiques_csv(debut=debut, fin=fin), "text/csv")
        try:
            message.send()
        except Exception as exc:  # noqa: BLE001 - any sending error is recorded and retried
            notification.tentatives += 1
            notification.derniere_erreur = f"{exc.__class__.__name__}: {exc}"[:2000]
            notification.save(update_fields=["tentatives", "derniere_erreur"])
            if notification.tentatives < TENTATIVES_MAX:
                delai = min(3600, 30 * 2 ** (notification.tentatives - 1))
                transaction.on_commit(lambda: _expedier_plus_tard(notification_id, delai))
            logger.warning("Échec d'envoi des statistiques %s : %s", notification_id, exc)
            return False
        notification.envoye_le = timezone.now()
        notification.tentatives += 1
        notification.derniere_erreur = ""
        notification.save(update_fields=["envoye_le", "tentatives", "derniere_erreur"])
    return True


# --- The ANSM page: upcoming deadlines ------------------------------------------------------------------------------


def _rubrique(nature, titre, regle, *, base, champ_date, aujourd_hui, horizon, elements, lien_liste, en_retard=True):
    """One kind of deadline: how many fall in the next days, how many are overdue, and the earliest ones.

    Two queries whatever the number of rows: one aggregate, one list cut at ELEMENTS_PAR_NATURE.
    """
    periode = base.filter(**{f"{champ_date}__lte": horizon})
    if not en_retard:
        periode = periode.filter(**{f"{champ_date}__gte": aujourd_hui})
    compte = periode.aggregate(
        a_venir=Count("pk", filter=Q(**{f"{champ_date}__gte": aujourd_hui})),
        en_retard=Count("pk", filter=Q(**{f"{champ_date}__lt": aujourd_hui})),
    )
    return {
        "nature": nature,
        "titre": titre,
        "regle": regle,
        "a_venir": compte["a_venir"],
        "en_retard": compte["en_retard"] if en_retard else None,
        "total": compte["a_venir"] + (compte["en_retard"] if en_retard else 0),
        "elements": [elements(o) for o in periode.order_by(champ_date, "pk")[:ELEMENTS_PAR_NATURE]],
        "lien_liste": lien_liste,
    }


def echeances_a_venir(*, aujourd_hui: datetime.date, jours: int = HORIZON_JOURS) -> list[dict]:
    """The deadlines of the next `jours` days by kind, with the overdue ones where the ANSM must act, each read
    through the same indexed ranges as the scans (a constant number of queries)."""
    horizon = aujourd_hui + datetime.timedelta(days=jours)

    def ligne(date, objet, detail, url):
        return {"date": date, "objet": objet, "detail": detail, "url": url, "en_retard": date < aujourd_hui}

    rubriques = [
        _rubrique(
            "fins_traitement",
            "Fins de traitement des AAC octroyées",
            "R17, R20",
            base=Decision.objects.filter(
                sens=SensDecision.OCTROI, demande__statut=StatutDemande.OCTROYEE
            ).select_related("demande__specialite"),
            champ_date="date_fin_traitement",
            aujourd_hui=aujourd_hui,
            horizon=horizon,
            en_retard=False,  # past their date they expire (demandes_expirer), the ANSM has nothing to do
            elements=lambda d: ligne(
                d.date_fin_traitement,
                f"AAC n° {d.numero_aac}",
                f"{d.demande.reference} — {d.demande.designation_medicament}",
                reverse("demandes:detail", args=[d.demande.reference]),
            ),
            lien_liste=None,
        ),
        _rubrique(
            "complements",
            "Réponses attendues aux demandes de complément",
            "R14, R16",
            base=_complements_en_attente().select_related("demande__specialite", "laboratoire"),
            champ_date="date_limite",
            aujourd_hui=aujourd_hui,
            horizon=horizon,
            elements=lambda c: ligne(
                c.date_limite,
                f"Demande {c.demande.reference}",
                f"{c.laboratoire.nom if c.laboratoire_id else 'PUI'} — {c.demande.designation_medicament}",
                reverse("ansm:instruction", args=[c.demande.reference]),
            ),
            lien_liste=reverse("ansm:demandes"),
        ),
        _rubrique(
            "engagements_aap",
            "Dépôts de demande d'AAP promis par les laboratoires",
            "R23",
            base=AccesDerogatoire.objects.filter(
                type_acces=TypeAcces.AAC,
                etat=EtatAcces.EN_COURS,
                engagement_aap=True,
                date_limite_depot_aap__isnull=False,
            )
            .filter(_sans_aap())
            .select_related("specialite"),
            champ_date="date_limite_depot_aap",
            aujourd_hui=aujourd_hui,
            horizon=horizon,
            elements=lambda a: ligne(
                a.date_limite_depot_aap,
                a.specialite.nom,
                "dépôt de la demande d'AAP",
                reverse("ansm:specialite", args=[a.specialite_id]),
            ),
            lien_liste=reverse("ansm:engagements_aap"),
        ),
        _rubrique(
            "cessations",
            "Fins des AAC après une AMM",
            "R24",
            base=AccesDerogatoire.objects.filter(
                type_acces=TypeAcces.AAC, date_cessation__isnull=False
            ).select_related("specialite"),
            champ_date="date_cessation",
            aujourd_hui=aujourd_hui,
            horizon=horizon,
            en_retard=False,
            elements=lambda a: ligne(
                a.date_cessation,
                a.specialite.nom,
                "plus aucune AAC déposée ni octroyée",
                reverse("ansm:specialite", args=[a.specialite_id]),
            ),
            lien_liste=None,
        ),
        _rubrique(
            "cpc",
            "CPC arrivant à leur terme de 3 ans",
            "R38",
            base=AccesDerogatoire.objects.filter(
                type_acces=TypeAcces.CPC, etat=EtatAcces.EN_COURS, etape_cpc=EtapeCPC.PUBLIE, date_fin__isnull=False
            ).select_related("specialite"),
            champ_date="date_fin",
            aujourd_hui=aujourd_hui,
            horizon=horizon,
            elements=lambda a: ligne(
                a.date_fin, a.specialite.nom, "à renouveler, sinon terminé", reverse("ansm:cpc", args=[a.pk])
            ),
            lien_liste=reverse("ansm:cpc_liste") + "?a_echeance=1",
        ),
        _rubrique(
            "rapports",
            "Rapports périodiques de synthèse attendus",
            "R34",
            base=RapportPeriodique.objects.filter(statut=StatutRapport.ATTENDU).select_related("acces__specialite"),
            champ_date="date_echeance",
            aujourd_hui=aujourd_hui,
            horizon=horizon,
            elements=lambda r: ligne(
                r.date_echeance,
                r.acces.specialite.nom,
                f"période du {r.periode_debut:%d/%m/%Y} au {r.periode_fin:%d/%m/%Y}",
                reverse("ansm:rapport", args=[r.pk]),
            ),
            lien_liste=reverse("ansm:rapports") + "?en_retard=on",
        ),
    ]
    return rubriques


def rappels_en_echec() -> int:
    """Reminders and notices whose sending failed at least once and is still pending (the outbox keeps retrying;
    the administrators see the error and can retry by hand in the outbox admin). Partial index of unsent rows."""
    from comptes.models import Notification

    return Notification.objects.filter(envoye_le__isnull=True, tentatives__gt=0, cle__isnull=False).count()


@require_GET
@ansm_requis
def page_echeances(request):
    """/ansm/echeances/: the deadlines of the next 90 days by kind, for ANSM évaluateurs and administrators."""
    aujourd_hui = timezone.localdate()
    rubriques = echeances_a_venir(aujourd_hui=aujourd_hui)
    contexte = {
        "title": "Échéances des 90 prochains jours",
        "breadcrumb_data": {
            "links": [{"url": reverse("ansm:tableau_de_bord"), "title": "Espace ANSM"}],
            "current": "Échéances",
        },
        "aujourd_hui": aujourd_hui,
        "horizon": aujourd_hui + datetime.timedelta(days=HORIZON_JOURS),
        "rubriques": rubriques,
        "rappels_en_echec": rappels_en_echec() if request.user.role == Role.ADMINISTRATEUR else None,
        "regles_delais": {
            "fin_traitement": RAPPELS_FIN_TRAITEMENT_JOURS,
            "engagement_aap": communs.RAPPELS_ENGAGEMENT_AAP_JOURS,
            "cpc": communs.RAPPELS_CPC_MOIS,
            "rapports": communs.RAPPELS_RAPPORT_JOURS,
            "duree_cpc": regles.DUREE_CPC_ANS,
        },
    }
    return render(request, "ansm/echeances.html", contexte)
