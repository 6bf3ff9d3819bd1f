"""Reads of AAC requests. Every list and every detail starts from `demandes_visibles_par`, so a user who is not
party to a request gets a 404 in pages and API alike."""

import datetime
import unicodedata

from django.db.models import Count, Exists, Min, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from comptes.enums import Role
from comptes.models import PUI, Utilisateur
from referentiel import selectors as referentiel_selectors
from referentiel.enums import EtatAcces, StatutAMM, TypeAcces
from referentiel.models import AccesDerogatoire, CritereOctroi, Indication, Specialite, Substance

from . import workflow
from .enums import (
    STATUTS_A_TRAITER_PUI,
    STATUTS_INSTRUCTION,
    DestinataireComplement,
    StatutDemande,
    StatutRecours,
    TypeMedicament,
    Urgence,
)
from .models import AttestationCritere, Complement, DemandeAAC, JournalDemande, PieceJointe, Recours

# The BDPM says "Non commercialisée" for an authorised spécialité that is not on the market.
NON_COMMERCIALISEE = "non commercialisée"


# --- Who sees what ---------------------------------------------------------------------------------------------


def demandes_visibles_par(utilisateur) -> QuerySet[DemandeAAC]:
    """The requests this user is party to: their prescriber; the named pharmacist or any pharmacist of the PUI
    once transmitted; ANSM staff once submitted. Laboratories and everyone else: none (they never see patient
    data)."""
    qs = DemandeAAC.objects.all()
    if not getattr(utilisateur, "is_authenticated", False) or not utilisateur.is_active:
        return qs.none()
    if utilisateur.role == Role.PRESCRIPTEUR:
        return qs.filter(prescripteur=utilisateur)
    if utilisateur.role == Role.PHARMACIEN:
        return qs.filter(Q(pui_id=utilisateur.pui_id) | Q(pharmacien=utilisateur), transmise_le__isnull=False)
    if utilisateur.role in (Role.EVALUATEUR, Role.ADMINISTRATEUR):
        return qs.filter(soumise_le__isnull=False)
    return qs.none()


def est_partie(utilisateur, demande: DemandeAAC) -> bool:
    """The same rule as `demandes_visibles_par`, for one loaded request, without a query."""
    if utilisateur is None or not getattr(utilisateur, "is_authenticated", False) or not utilisateur.is_active:
        return False
    if utilisateur.role == Role.PRESCRIPTEUR:
        return demande.prescripteur_id == utilisateur.pk
    if utilisateur.role == Role.PHARMACIEN:
        return demande.transmise_le is not None and (
            demande.pui_id == utilisateur.pui_id or demande.pharmacien_id == utilisateur.pk
        )
    if utilisateur.role in (Role.EVALUATEUR, Role.ADMINISTRATEUR):
        return demande.soumise_le is not None
    return False


def _liste(qs: QuerySet[DemandeAAC]) -> QuerySet[DemandeAAC]:
    """What a list row shows (no patient data: lists are not logged as patient-data reads)."""
    return qs.select_related("specialite", "prescripteur", "pui").only(
        "id",
        "reference",
        "statut",
        "urgence",
        "type_medicament",
        "medicament_nom",
        "medicament_dosage",
        "medicament_forme",
        "cree_le",
        "modifiee_le",
        "transmise_le",
        "soumise_le",
        "regularisation_a_posteriori",
        "regularisee_le",
        "specialite__nom",
        "prescripteur__prenom",
        "prescripteur__nom",
        "prescripteur__email",
        "pui__nom",
    )


def demandes_recentes(utilisateur) -> QuerySet[DemandeAAC]:
    """The visible requests, most recent activity first: "Mes demandes" of a prescriber (index
    demande_prescripteur) and the API list of any role."""
    return _liste(demandes_visibles_par(utilisateur)).order_by("-modifiee_le", "-id")


def boite_pui(utilisateur, *, onglet: str = "a_traiter") -> QuerySet[DemandeAAC]:
    """The PUI's inbox: what to act on now (urgences vitales first, oldest first), or every request.

    Same rows as `demandes_visibles_par`. Its OR (the PUI's requests, or those naming this pharmacist) defeats the
    index order, so it is used only when the pharmacist is named on a request of another PUI (after moving); in
    the usual case the inbox reads the PUI alone, in the order of index demande_pui (one EXISTS query decides).
    """
    if utilisateur.role != Role.PHARMACIEN:
        return DemandeAAC.objects.none()
    nomme_ailleurs = (
        DemandeAAC.objects.filter(pharmacien=utilisateur, transmise_le__isnull=False)
        .exclude(pui_id=utilisateur.pui_id)
        .exists()
    )
    if nomme_ailleurs:
        qs = demandes_visibles_par(utilisateur)
    else:
        qs = DemandeAAC.objects.filter(pui_id=utilisateur.pui_id, transmise_le__isnull=False)
    qs = _liste(qs)
    if onglet == "a_traiter":
        return qs.filter(statut__in=sorted(STATUTS_A_TRAITER_PUI)).order_by("-urgence", "modifiee_le", "id")
    return qs.order_by("-modifiee_le", "-id")


def demandes_a_instruire(utilisateur) -> QuerySet[DemandeAAC]:
    """ANSM: the requests waiting for a decision, urgences vitales first then oldest submission (R15, R44).
    Issue 5 builds the full review queue on the same index (demande_instruction)."""
    return (
        _liste(demandes_visibles_par(utilisateur))
        .filter(statut__in=sorted(STATUTS_INSTRUCTION))
        .order_by("-urgence", "soumise_le", "id")
    )


def _complements_visibles(utilisateur) -> QuerySet[Complement]:
    """The ANSM's questions a party reads: all of them for ANSM staff; for the prescriber and the PUI, those
    addressed to the PUI only (what a laboratory sends the ANSM about its product is not theirs to read, R16)."""
    qs = Complement.objects.select_related("demande_par", "repondu_par", "laboratoire")
    if getattr(utilisateur, "est_ansm", False):
        return qs.prefetch_related("pieces")
    return qs.filter(destinataire=DestinataireComplement.PUI)


def pieces_visibles(utilisateur) -> QuerySet[PieceJointe]:
    """The attachments a party may read: the laboratory's documents (R16) are for ANSM staff only."""
    qs = PieceJointe.objects.select_related("deposee_par")
    if getattr(utilisateur, "est_ansm", False):
        return qs
    return qs.exclude(complement__destinataire=DestinataireComplement.LABORATOIRE)


def _detail(utilisateur) -> QuerySet[DemandeAAC]:
    return (
        demandes_visibles_par(utilisateur)
        .select_related(
            "prescripteur",
            "etablissement",
            "pui__etablissement",
            "pharmacien",
            "specialite__titulaire",
            "specialite__exploitant",
            "indication__acces",
            "demande_initiale",
            "decision__laboratoire",
            "decision__recours",
        )
        .prefetch_related(
            Prefetch("attestations", queryset=AttestationCritere.objects.select_related("critere")),
            Prefetch("complements", queryset=_complements_visibles(utilisateur)),
            Prefetch("pieces", queryset=pieces_visibles(utilisateur)),
            Prefetch("journal", queryset=JournalDemande.objects.select_related("acteur")),
            Prefetch(
                "renouvellements",
                queryset=DemandeAAC.objects.exclude(statut__in=[StatutDemande.ANNULEE, StatutDemande.REFUSEE]).only(
                    "id", "reference", "statut", "demande_initiale_id"
                ),
                to_attr="renouvellements_actifs",
            ),
        )
    )


def demande_detail(utilisateur, reference: str) -> DemandeAAC:
    """One visible request with everything its page shows, in a fixed number of queries (404 otherwise)."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(_detail(utilisateur), reference=reference)


def demande_instruction(utilisateur, reference: str) -> DemandeAAC:
    """The request as the évaluateur's review page shows it: its page's content, plus the assigned évaluateur, the
    fiche's critères d'octroi and the appeal's author, in a fixed number of queries (404 otherwise)."""
    from django.shortcuts import get_object_or_404

    qs = (
        _detail(utilisateur)
        .select_related("evaluateur", "decision__decidee_par", "decision__recours__depose_par")
        .prefetch_related(Prefetch("indication__criteres", queryset=CritereOctroi.objects.order_by("ordre", "id")))
    )
    return get_object_or_404(qs, reference=reference)


def decision_de(demande: DemandeAAC):
    """The request's decision, or None (the reverse one-to-one raises when absent)."""
    try:
        return demande.decision
    except DemandeAAC.decision.RelatedObjectDoesNotExist:
        return None


def complement_en_attente(demande: DemandeAAC) -> Complement | None:
    """The PUI's pending question (R14): the one the prescriber and the pharmacist answer."""
    return next(
        (c for c in demande.complements.all() if c.en_attente and c.destinataire == DestinataireComplement.PUI), None
    )


def information_laboratoire_en_attente(demande: DemandeAAC) -> Complement | None:
    """The laboratory's pending information request (R16), if any."""
    return next(
        (
            c
            for c in demande.complements.all()
            if c.en_attente and c.destinataire == DestinataireComplement.LABORATOIRE
        ),
        None,
    )


def recours_en_attente(demande: DemandeAAC) -> Recours | None:
    """R19: the appeal against the decision, while the ANSM has not answered it."""
    decision = decision_de(demande)
    if decision is None:
        return None
    try:
        recours = decision.recours
    except Recours.DoesNotExist:
        return None
    return recours if recours.statut == StatutRecours.DEPOSE else None


# --- What may be done now ------------------------------------------------------------------------------------


def recours_possible(demande: DemandeAAC, *, aujourd_hui: datetime.date | None = None) -> bool:
    """R19: a decided request, notified, within 2 months of the notification, not already appealed."""
    decision = decision_de(demande)
    if decision is None or decision.date_limite_recours is None:
        return False
    try:
        decision.recours  # noqa: B018 - the reverse one-to-one raises when there is no appeal
        return False
    except Recours.DoesNotExist:
        pass
    return (aujourd_hui or timezone.localdate()) <= decision.date_limite_recours


def renouvellement_en_cours(demande: DemandeAAC) -> DemandeAAC | None:
    """R20: the renewal already filed from this request (at most one at a time), if any."""
    actifs = getattr(demande, "renouvellements_actifs", None)
    if actifs is None:
        actifs = list(demande.renouvellements.exclude(statut__in=[StatutDemande.ANNULEE, StatutDemande.REFUSEE]))
    return actifs[0] if actifs else None


def actions_disponibles(utilisateur, demande: DemandeAAC) -> list[workflow.Transition]:
    """The buttons of the request page: the workflow table for this role and state, then each action's own
    condition (the same predicates the services enforce)."""
    if not est_partie(utilisateur, demande):
        return []
    actions = []
    for t in workflow.transitions_possibles(statut=demande.statut, role=workflow.role_de(utilisateur)):
        if t.nom == "former_recours" and not recours_possible(demande):
            continue
        if t.nom == "renouveler" and renouvellement_en_cours(demande) is not None:
            continue
        if t.nom == "regulariser" and not (demande.regularisation_a_posteriori and demande.regularisee_le is None):
            continue
        if t.nom == "interroger_laboratoire" and (
            demande.type_medicament == TypeMedicament.REFERENCE_INDICATION
            or information_laboratoire_en_attente(demande) is not None
        ):
            continue
        if t.nom in ("accueillir_recours", "rejeter_recours") and recours_en_attente(demande) is None:
            continue
        if t.nom == "assigner" and not (
            demande.statut in STATUTS_INSTRUCTION
            or (demande.regularisation_a_posteriori and demande.regularisee_le is None)
            or recours_en_attente(demande) is not None
        ):
            continue
        actions.append(t)
    return actions


# --- The ANSM review queue (issue 5) ----------------------------------------------------------------------------

# The queue's tabs: what the évaluateur acts on now, what waits for the PUI, the immediate grants filed out of hours
# to confirm (R44), the appeals to answer (R19). Each reads its own partial index.
ONGLETS_FILE = {
    "a_instruire": "À instruire",
    "complement": "Complément attendu de la PUI",
    "regularisations": "Régularisations a posteriori (R44)",
    "recours": "Recours gracieux (R19)",
}
STATUTS_A_INSTRUIRE = (StatutDemande.EN_EVALUATION, StatutDemande.COMPLEMENT_FOURNI)


def _recours_depose() -> QuerySet[Recours]:
    return Recours.objects.filter(statut=StatutRecours.DEPOSE)


def _condition_onglet(onglet: str) -> Q:
    if onglet == "complement":
        return Q(statut=StatutDemande.COMPLEMENT_DEMANDE)
    if onglet == "regularisations":
        return Q(regularisation_a_posteriori=True, regularisee_le__isnull=True, statut=StatutDemande.OCTROYEE)
    if onglet == "recours":
        return Q(pk__in=_recours_depose().values("demande_id"))
    return Q(statut__in=STATUTS_A_INSTRUIRE)


def file_instruction(utilisateur, *, onglet: str = "a_instruire") -> QuerySet[DemandeAAC]:
    """One tab of the review queue: urgences vitales first, then the oldest submission (R15, R44), with what a row
    shows (no patient data: the queue is not a read of patient data) and whether the laboratory was asked (R16)."""
    if utilisateur.role not in (Role.EVALUATEUR, Role.ADMINISTRATEUR):
        return DemandeAAC.objects.none()
    information_laboratoire = Complement.objects.filter(
        demande=OuterRef("pk"), destinataire=DestinataireComplement.LABORATOIRE, repondu_le__isnull=True
    )
    return (
        demandes_visibles_par(utilisateur)
        .filter(_condition_onglet(onglet))
        .select_related("specialite", "etablissement", "evaluateur")
        .only(
            "id",
            "reference",
            "version",
            "statut",
            "urgence",
            "type_medicament",
            "medicament_nom",
            "medicament_dosage",
            "medicament_forme",
            "soumise_le",
            "regularisation_a_posteriori",
            "regularisee_le",
            "specialite__nom",
            "etablissement__nom",
            "evaluateur__prenom",
            "evaluateur__nom",
            "evaluateur__email",
        )
        .annotate(information_laboratoire=Exists(information_laboratoire))
        .order_by("-urgence", "soumise_le", "id")
    )


def file_compteurs(utilisateur) -> dict[str, dict]:
    """Per tab of the queue: how many requests wait and since when the oldest was submitted, in one query."""
    qs = demandes_visibles_par(utilisateur)
    if utilisateur.role not in (Role.EVALUATEUR, Role.ADMINISTRATEUR):
        qs = qs.none()
    conditions = {onglet: _condition_onglet(onglet) for onglet in ONGLETS_FILE}
    agregats = {}
    for onglet, condition in conditions.items():
        agregats[f"{onglet}__nombre"] = Count("id", filter=condition)
        agregats[f"{onglet}__plus_ancienne"] = Min("soumise_le", filter=condition)
    tout = Q()
    for condition in conditions.values():
        tout |= condition
    valeurs = qs.filter(tout).aggregate(**agregats)
    return {
        onglet: {
            "libelle": libelle,
            "nombre": valeurs[f"{onglet}__nombre"],
            "plus_ancienne": valeurs[f"{onglet}__plus_ancienne"],
        }
        for onglet, libelle in ONGLETS_FILE.items()
    }


def evaluateurs_actifs() -> QuerySet[Utilisateur]:
    """Who a request can be assigned to."""
    return Utilisateur.objects.filter(role=Role.EVALUATEUR, is_active=True).order_by("nom", "prenom", "id")


def specialites_en_file() -> QuerySet[Specialite]:
    """The spécialités of the requests waiting for the ANSM: the choices of the queue's filter."""
    return Specialite.objects.filter(pk__in=_en_file().values("specialite_id")).only("id", "nom").order_by("nom", "id")


def etablissements_en_file():
    from comptes.models import Etablissement

    return (
        Etablissement.objects.filter(pk__in=_en_file().values("etablissement_id"))
        .only("id", "nom", "finess")
        .order_by("nom", "id")
    )


def _en_file() -> QuerySet[DemandeAAC]:
    return DemandeAAC.objects.filter(statut__in=sorted(STATUTS_INSTRUCTION))


def historique_medicament(demande: DemandeAAC, *, limite: int = 5) -> dict:
    """The other requests submitted for the same medicine (the spécialité, else the DCI or name typed for a
    non-referenced one): their number by outcome and the latest decided ones. No patient data: references, dates,
    indications and decisions only."""
    if demande.specialite_id:
        meme = Q(specialite_id=demande.specialite_id)
    elif demande.medicament_dci.strip():
        meme = Q(specialite__isnull=True, medicament_dci__iexact=demande.medicament_dci.strip())
    elif demande.medicament_nom.strip():
        meme = Q(specialite__isnull=True, medicament_nom__iexact=demande.medicament_nom.strip())
    else:
        return {"nombre": 0, "octroyees": 0, "refusees": 0, "en_cours": 0, "annulees": 0, "dernieres": []}
    qs = DemandeAAC.objects.filter(meme, soumise_le__isnull=False).exclude(pk=demande.pk)
    comptes = qs.aggregate(
        nombre=Count("id"),
        octroyees=Count("id", filter=Q(statut__in=[StatutDemande.OCTROYEE, StatutDemande.EXPIREE])),
        refusees=Count("id", filter=Q(statut=StatutDemande.REFUSEE)),
        en_cours=Count("id", filter=Q(statut__in=sorted(STATUTS_INSTRUCTION))),
        annulees=Count("id", filter=Q(statut=StatutDemande.ANNULEE)),
    )
    dernieres = list(
        qs.filter(decidee_le__isnull=False)
        .select_related("indication", "decision")
        .only(
            "id",
            "reference",
            "statut",
            "decidee_le",
            "indication_libre",
            "indication__libelle",
            "decision__sens",
            "decision__immediate",
            "decision__motif_refus",
            "decision__duree_jours",
        )
        .order_by("-decidee_le", "-id")[:limite]
    )
    return {**comptes, "dernieres": dernieres}


def criteres_cote_a_cote(demande: DemandeAAC) -> list[dict]:
    """R11: each critère d'octroi of the fiche's indication next to the prescriber's yes / no (None: not attested)."""
    if demande.indication_id is None:
        return []
    reponses = {a.critere_id: a.rempli for a in demande.attestations.all()}
    return [{"critere": c, "rempli": reponses.get(c.pk)} for c in demande.indication.criteres.all()]


# --- The laboratory's information requests (R16) -----------------------------------------------------------------

# What a laboratory reads of a request: its reference, state and medicine. Never the patient (R43), the prescriber
# or the establishment.
_CHAMPS_INFORMATION = (
    "id",
    "question",
    "pieces_demandees",
    "date_limite",
    "demande_le",
    "reponse",
    "repondu_le",
    "laboratoire_id",
    "demande__id",
    "demande__reference",
    "demande__statut",
    "demande__type_medicament",
    "demande__medicament_nom",
    "demande__medicament_dci",
    "demande__medicament_dosage",
    "demande__medicament_forme",
    "demande__specialite__nom",
)


def informations_du_laboratoire(laboratoire, *, en_attente: bool = True) -> QuerySet[Complement]:
    """The ANSM's information requests addressed to this laboratory, newest first (index complement_laboratoire):
    those still awaited (unanswered, on a request under evaluation), or all of them."""
    qs = Complement.objects.filter(laboratoire=laboratoire, destinataire=DestinataireComplement.LABORATOIRE)
    if en_attente:
        qs = qs.filter(repondu_le__isnull=True, demande__statut__in=sorted(STATUTS_INSTRUCTION))
    return qs.select_related("demande__specialite").only(*_CHAMPS_INFORMATION).order_by("-demande_le", "-id")


def information_du_laboratoire(laboratoire, pk: int) -> Complement | None:
    """One information request of this laboratory, with the documents it sent; None for any other (a 404: a
    laboratory does not learn that another's request exists)."""
    return (
        Complement.objects.filter(pk=pk, laboratoire=laboratoire, destinataire=DestinataireComplement.LABORATOIRE)
        .select_related("demande__specialite")
        .only(*_CHAMPS_INFORMATION)
        .prefetch_related(
            Prefetch("pieces", queryset=PieceJointe.objects.only("id", "complement_id", "nom", "taille"))
        )
        .first()
    )


def destinataires_laboratoire(laboratoire) -> list[str]:
    """Who hears about an information request at the laboratory: its active accounts and its contact address."""
    emails = list(
        Utilisateur.objects.filter(role=Role.LABORATOIRE, is_active=True, laboratoire=laboratoire).values_list(
            "email", flat=True
        )
    )
    return [*emails, laboratoire.email] if laboratoire.email else emails


# --- The référentiel as the request form reads it ---------------------------------------------------------------


def _normaliser(texte: str) -> str:
    return unicodedata.normalize("NFKD", texte).encode("ascii", "ignore").decode().lower().strip()


def specialites_rechercher(q: str, *, limite: int = 20) -> list[Specialite]:
    """Spécialités of the public référentiel holding an AAC (in force or not: a ceased one must still be found so
    that the prescriber reads why it is refused, R24), found by the référentiel's own search (R3)."""
    if len((q or "").strip()) < 2:
        return []
    specialites = referentiel_selectors.specialites_filtrer_acces(
        referentiel_selectors.specialites_candidates(), types=[TypeAcces.AAC]
    )
    specialites = referentiel_selectors.specialites_rechercher(specialites, texte=q)
    return list(referentiel_selectors.specialites_trier(specialites, tri="pertinence")[:limite])


def acces_aac(specialite: Specialite | None) -> AccesDerogatoire | None:
    """The spécialité's AAC currently in force (one at most, DB constraint), or None."""
    if specialite is None:
        return None
    # Memoised on the loaded spécialité: one service call asks several rules about it (R5, R7, R15, R24).
    if "_acces_aac" not in specialite.__dict__:
        specialite.__dict__["_acces_aac"] = (
            AccesDerogatoire.objects.filter(specialite=specialite, type_acces=TypeAcces.AAC, etat=EtatAcces.EN_COURS)
            .order_by("-date_debut")
            .first()
        )
    return specialite.__dict__["_acces_aac"]


def indications_aac(specialite: Specialite) -> list[Indication]:
    """The referenced indications a prescriber can pick: those of the spécialité's AAC in force."""
    return list(
        Indication.objects.filter(
            acces__specialite=specialite, acces__type_acces=TypeAcces.AAC, acces__etat=EtatAcces.EN_COURS
        ).prefetch_related("criteres")
    )


def criteres_de(indication: Indication | None) -> list[CritereOctroi]:
    return [] if indication is None else list(indication.criteres.all())


def cessation_aac(specialite: Specialite | None, *, aujourd_hui: datetime.date) -> AccesDerogatoire | None:
    """R24: the spécialité's AAC whose cessation date (set after its AMM) has come, if any."""
    if specialite is None:
        return None
    return (
        AccesDerogatoire.objects.filter(specialite=specialite, type_acces=TypeAcces.AAC, date_cessation__isnull=False)
        .filter(date_cessation__lte=aujourd_hui)
        .order_by("date_cessation")
        .first()
    )


def substances_du_medicament(demande: DemandeAAC) -> list[int]:
    """The active substances of the requested medicine: the spécialité's composition, or the DCI the prescriber
    typed for a non-referenced medicine, matched to the BDPM substances (case and accents ignored)."""
    if demande.specialite_id:
        return list(
            Substance.objects.filter(compositions__specialite_id=demande.specialite_id).values_list("id", flat=True)
        )
    noms = [_normaliser(p) for p in demande.medicament_dci.replace("+", ",").replace("/", ",").split(",")]
    noms = [n for n in noms if n]
    if not noms:
        return []
    return list(
        Substance.objects.annotate(dci_min=Lower("dci"))
        .filter(dci_min__unaccent__in=noms)
        .values_list("id", flat=True)
    )


def specialite_avec_amm(substances: list[int], *, sauf: Specialite | None = None) -> Specialite | None:
    """R5, R12: an authorised and marketed spécialité in France sharing one of these substances, from the
    imported BDPM, or None. A spécialité whose marketing stopped (statut_amm=arretee) does not count (R5)."""
    if not substances:
        return None
    qs = (
        Specialite.objects.filter(statut_amm=StatutAMM.AUTORISEE, compositions__substance_id__in=substances)
        .annotate(etat=Lower("etat_commercialisation_bdpm"))
        .exclude(etat=NON_COMMERCIALISEE)
        .order_by("nom")
    )
    if sauf is not None and sauf.statut_amm != StatutAMM.AUTORISEE:
        qs = qs.exclude(pk=sauf.pk)
    return qs.first()


def aap_couvrant(demande: DemandeAAC) -> str | None:
    """R25: the text of the early access (AAP) that covers the indication — the indication's AAP restriction, or
    an AAP in force on the spécialité — or None."""
    if demande.indication_id and demande.indication.restriction_aap.strip():
        return demande.indication.restriction_aap.strip()
    if demande.specialite_id:
        aap = (
            AccesDerogatoire.objects.filter(
                specialite_id=demande.specialite_id, type_acces=TypeAcces.AAP, etat=EtatAcces.EN_COURS
            )
            .only("id", "conditions_utilisation")
            .first()
        )
        if aap is not None:
            return aap.conditions_utilisation.strip() or "Un accès précoce (AAP) est en cours pour cette spécialité."
    return None


def octroi_immediat_motifs(demande: DemandeAAC, *, aujourd_hui: datetime.date | None = None) -> list[str]:
    """R15: why the request cannot get an immediate decision; empty when it can (a referenced spécialité whose
    AAC is in force, a referenced indication of that AAC, every critère d'octroi attested)."""
    aujourd_hui = aujourd_hui or timezone.localdate()
    motifs = []
    if demande.type_medicament != TypeMedicament.REFERENCE_INDICATION or not demande.indication_id:
        return ["la demande ne porte pas sur une indication référencée"]
    acces = acces_aac(demande.specialite)
    if acces is None or not demande.specialite.publiee:
        return ["la spécialité n'a pas d'AAC en cours dans le référentiel"]
    if acces.date_cessation and acces.date_cessation <= aujourd_hui:
        motifs.append("les AAC de cette spécialité ont cessé")
    if demande.indication.acces_id != acces.pk:
        motifs.append("l'indication n'appartient pas à l'AAC en cours")
    criteres = {c.pk for c in criteres_de(demande.indication)}
    attestes = {a.critere_id for a in demande.attestations.all() if a.rempli}
    if not criteres <= attestes:
        motifs.append("tous les critères d'octroi ne sont pas attestés")
    if acces.riph_commerciale and not acces.engagement_aap:
        motifs.append("le laboratoire ne s'est pas engagé à déposer une demande d'AAP (R7, R16)")
    if laboratoire_de_commande(demande) is None:
        motifs.append("le laboratoire auprès duquel commander n'est pas connu")
    return motifs


def laboratoire_de_commande(demande: DemandeAAC):
    """R17: where the PUI orders a referenced spécialité: its exploitant, else its titulaire."""
    if not demande.specialite_id:
        return None
    return demande.specialite.exploitant or demande.specialite.titulaire


# --- Choices of the request form --------------------------------------------------------------------------------


def puis_selectionnables(prescripteur) -> QuerySet[PUI]:
    """R10: the PUIs a prescriber can name — those of their establishment."""
    return PUI.objects.filter(etablissement_id=prescripteur.etablissement_id).select_related("etablissement")


def pharmaciens_selectionnables(prescripteur) -> QuerySet[Utilisateur]:
    return Utilisateur.objects.filter(
        role=Role.PHARMACIEN, is_active=True, pui__etablissement_id=prescripteur.etablissement_id
    ).select_related("pui")


def destinataires_pui(demande: DemandeAAC) -> list[str]:
    """Who hears about the request at the PUI: its contact address and the named pharmacist, or every active
    pharmacist of the PUI when nobody is named."""
    emails = []
    if demande.pui_id and demande.pui.email:
        emails.append(demande.pui.email)
    if demande.pharmacien_id:
        emails.append(demande.pharmacien.email)
    elif demande.pui_id:
        emails += list(
            Utilisateur.objects.filter(role=Role.PHARMACIEN, is_active=True, pui_id=demande.pui_id).values_list(
                "email", flat=True
            )
        )
    return emails


def destinataires_ansm(demande: DemandeAAC) -> list[str]:
    """Who hears about the request at the ANSM: its assigned évaluateur; before assignment, every active évaluateur
    for an urgence vitale (R44), nobody otherwise (the request waits in the review queue, which they watch)."""
    if demande.evaluateur_id:
        return [demande.evaluateur.email]
    if demande.urgence != Urgence.VITALE:
        return []
    return list(Utilisateur.objects.filter(role=Role.EVALUATEUR, is_active=True).values_list("email", flat=True))


def decision_pdf_ouvrir(decision):
    """The decision's PDF as a binary file: the stored one, or drawn again from the decision's rows when the
    file is missing (rows loaded in bulk, storage restored from a backup)."""
    from io import BytesIO

    from .pdf import decision_pdf

    if decision.fichier and decision.fichier.storage.exists(decision.fichier.name):
        return decision.fichier.open("rb")
    return BytesIO(decision_pdf(decision))
