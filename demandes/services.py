"""Writes on AAC requests: one service per transition of the declared workflow (demandes.workflow).

Each transition runs in one transaction: lock the request row (`select_for_update`), check the workflow table,
the version the caller saw and the rules, write, append the journal row, queue the emails (sent after commit).
Any refusal is a `DemandeError` carrying a French message and the rule it enforces.
"""

import datetime
import hashlib
import logging
from collections.abc import Iterable

import magic
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from comptes.enums import Role, Territoire, territoire_competence_ansm

from . import notifications, selectors, workflow
from .calendrier import ajouter_mois, est_hors_heures
from .enums import (
    MOTIF_HORS_CHAMP,
    CanalAcces,
    DestinataireComplement,
    MotifRefus,
    PieceLaboratoire,
    SensDecision,
    Situation,
    StatutDemande,
    StatutRecours,
    TypeMedicament,
    Urgence,
)
from .exceptions import MESSAGE_CONFLIT, ConflitEtat, DemandeError, TransitionInterdite
from .models import (
    DUREE_MAX_JOURS,
    AccesDonneesPatient,
    AttestationCritere,
    Complement,
    Decision,
    DemandeAAC,
    JournalDemande,
    PieceJointe,
    Recours,
)
from .validators import MESSAGE_INITIALES, initiales_normaliser, valider_initiales

logger = logging.getLogger(__name__)

# What each role may write on a request. The attestations (R11), the commitments (R13), the statement about the
# AAP (R25) and the renewal statement (R46) are the prescriber's own word: the pharmacist completes the rest (R14).
CHAMPS_PRESCRIPTEUR = frozenset(
    {
        "type_medicament",
        "specialite",
        "indication",
        "indication_libre",
        "medicament_nom",
        "medicament_dci",
        "medicament_dosage",
        "medicament_forme",
        "medicament_laboratoire",
        "justification",
        "patient_non_eligible_aap",
        "patient_initiales",
        "patient_age",
        "patient_age_unite",
        "patient_sexe",
        "patient_poids_kg",
        "territoire",
        "situation",
        "engagement_information_patient",
        "medecin_traitant_informe",
        "engagement_surveillance",
        "engagement_put_pharmacovigilance",
        "engagement_reponse_ansm",
        "posologie",
        "duree_traitement_jours",
        "recherches_commerciales",
        "traitement_differable",
        "urgence",
        "astreinte_contactee",
        "pui",
        "pharmacien",
        "donnees_cliniques_periode",
        "declaration_poursuite",
    }
)
CHAMPS_PHARMACIEN = CHAMPS_PRESCRIPTEUR - {
    "justification",
    "patient_non_eligible_aap",
    "engagement_information_patient",
    "medecin_traitant_informe",
    "engagement_surveillance",
    "engagement_put_pharmacovigilance",
    "engagement_reponse_ansm",
    "declaration_poursuite",
    "pui",
    "pharmacien",
}
ENGAGEMENTS_R13 = (
    "engagement_information_patient",
    "engagement_surveillance",
    "engagement_put_pharmacovigilance",
    "engagement_reponse_ansm",
)
_CHAMPS_MEDICAMENT = {"type_medicament", "specialite", "indication"}

TYPES_PIECES = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}
DELAI_COMPLEMENT_MAX_JOURS = 90


# --- Plumbing -----------------------------------------------------------------------------------------------


def _numero(prefixe: str, sequence: str, moment: datetime.datetime) -> str:
    """A unique human-readable number from a PostgreSQL sequence ("AAC-2026-000123"): no counter row to lock."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [sequence])
        (valeur,) = cursor.fetchone()
    return f"{prefixe}-{timezone.localtime(moment):%Y}-{valeur:06d}"


def _message_contrainte(exc: IntegrityError) -> str | None:
    """The French violation message of the model constraint the database reported, if it is one of ours."""
    nom = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
    for modele in (DemandeAAC, AttestationCritere, Complement, Decision, Recours):
        for contrainte in modele._meta.constraints:
            if contrainte.name == nom:
                return str(contrainte.violation_error_message)
    return None


def _sauver(objet, **kwargs) -> None:
    """Save in a savepoint, turning a broken database constraint into the domain error with its message."""
    try:
        with transaction.atomic():
            objet.save(**kwargs)
    except IntegrityError as exc:
        message = _message_contrainte(exc)
        if message is None:
            raise
        raise DemandeError(message) from exc


def _verrouiller(demande: DemandeAAC, nom: str, par, version: int | None) -> DemandeAAC:
    """Lock the row and check the workflow table, the caller's party and the version the caller saw.

    The lock serialises concurrent actions on one request (two tabs, two pharmacists): the second waits, then
    finds a new version or state and gets the conflict message instead of overwriting the first.
    """
    d = (
        DemandeAAC.objects.select_for_update(of=("self",))
        .select_related("prescripteur", "etablissement", "pui", "pharmacien", "evaluateur", "specialite", "indication")
        .get(pk=demande.pk)
    )
    t = workflow.transition(nom)
    if par is not None and not selectors.est_partie(par, d):
        raise TransitionInterdite("Vous n'êtes pas partie à cette demande.")
    workflow.role_verifier(par, nom)
    if version is not None and int(version) != d.version:
        raise ConflitEtat(MESSAGE_CONFLIT)
    if d.statut not in t.depuis:
        raise ConflitEtat(
            f"L'action « {t.libelle} » n'est pas possible : la demande est « {d.get_statut_display()} »."
        )
    return d


def _ecrire(d: DemandeAAC, champs: Iterable[str]) -> None:
    d.version += 1
    d.modifiee_le = timezone.now()
    _sauver(d, update_fields=sorted({*champs, "version", "modifiee_le"}))


def _journaliser(
    d: DemandeAAC, nom: str, *, avant: str, par, commentaire: str = "", details: dict | None = None
) -> JournalDemande:
    return JournalDemande.objects.create(
        demande=d,
        transition=nom,
        statut_avant=avant,
        statut_apres=d.statut,
        acteur=par,
        role=workflow.role_de(par),
        commentaire=commentaire,
        details=details or {},
    )


def _transition(d: DemandeAAC, nom: str, *, par, champs=(), commentaire: str = "", details=None) -> None:
    """Apply the table's target state (if any), write, and append the journal row."""
    avant = d.statut
    cible = workflow.transition(nom).vers
    if cible is not None:
        d.statut = cible
    _ecrire(d, {*champs, "statut"})
    _journaliser(d, nom, avant=avant, par=par, commentaire=commentaire, details=details)


# --- Rules ----------------------------------------------------------------------------------------------------


def _verifier_medicament(d: DemandeAAC, *, aujourd_hui: datetime.date) -> None:
    """R24, R5, R12: whether this medicine may be requested in AAC at all, answered from the référentiel and the
    BDPM spécialités (never from a free-text claim)."""
    if d.type_medicament == TypeMedicament.NON_REFERENCE:
        if not d.medicament_dci.strip():
            return
        amm = selectors.specialite_avec_amm(selectors.substances_du_medicament(d))
        if amm is not None:
            raise DemandeError(
                f"« {d.medicament_dci} » dispose d'une AMM en France et est commercialisé ({amm.nom}) : un médicament "
                "non référencé ne peut être demandé en AAC que s'il n'a d'AMM en France dans aucune indication. "
                "Une utilisation hors AMM relève d'un CPC ou de la prescription hors AMM",
                regle="R5, R12",
                champ="medicament_dci",
            )
        return
    if d.specialite_id is None:
        return
    cessation = selectors.cessation_aac(d.specialite, aujourd_hui=aujourd_hui)
    if cessation is not None:
        raise DemandeError(
            f"Les AAC de « {d.specialite.nom} » ont cessé le {cessation.date_cessation:%d/%m/%Y} après son "
            "autorisation de mise sur le marché : aucune AAC ne peut plus être déposée ni octroyée pour ce "
            "médicament, quelle que soit l'indication",
            regle="R24",
            champ="specialite",
        )
    acces = selectors.acces_aac(d.specialite)
    # R24: between the AMM and the cessation date set by the ANSM, AAC are still delivered.
    if acces is not None and acces.date_cessation is not None and acces.date_cessation > aujourd_hui:
        return
    amm = selectors.specialite_avec_amm(selectors.substances_du_medicament(d))
    if amm is not None:
        raise DemandeError(
            f"« {d.specialite.nom} » : une spécialité de même substance dispose d'une AMM en France et est "
            f"commercialisée ({amm.nom}). L'accès compassionnel est réservé aux médicaments sans AMM en France ; "
            "une utilisation hors AMM relève d'un CPC ou de la prescription hors AMM",
            regle="R5",
            champ="specialite",
        )


def _verifier_perimetre(d: DemandeAAC) -> list[DemandeError]:
    """R8 and R9: situations and territories outside the AAC, refused with the reason."""
    erreurs = []
    if d.situation != Situation.SOIN:
        erreurs.append(
            DemandeError(
                f"Cette situation ne relève pas de l'accès compassionnel : {MOTIF_HORS_CHAMP[d.situation]}",
                regle="R8",
                champ="situation",
            )
        )
    if not territoire_competence_ansm(d.territoire):
        erreurs.append(
            DemandeError(
                f"L'ANSM n'est pas l'autorité compétente pour les AAC en {Territoire(d.territoire).label} : "
                "adressez-vous à l'autorité sanitaire locale",
                regle="R9",
                champ="territoire",
            )
        )
    return erreurs


def _verifier_duree(duree: int | None) -> DemandeError | None:
    if duree is None:
        return DemandeError("Indiquez la durée de traitement demandée", regle="R17", champ="duree_traitement_jours")
    if not 1 <= duree <= DUREE_MAX_JOURS:
        return DemandeError(
            "La durée de traitement va de 1 jour à 1 an (365 jours) au plus ; au-delà, un renouvellement est "
            "une nouvelle demande",
            regle="R17",
            champ="duree_traitement_jours",
        )
    return None


def _erreur_justification(d: DemandeAAC) -> DemandeError | None:
    """R11-R12: a justification is required for a non-referenced medicine or indication, or as soon as one critère
    d'octroi is attested "non"; with every criterion met, none is asked."""
    if d.justification.strip():
        return None
    regle = "R12"
    if d.type_medicament == TypeMedicament.REFERENCE_INDICATION:
        if d.indication_id is None:
            return None
        criteres = {c.pk for c in selectors.criteres_de(d.indication)}
        if not any(a.critere_id in criteres and not a.rempli for a in d.attestations.all()):
            return None
        regle = "R11"
    return DemandeError(
        "Justifiez la demande : impossibilité d'inclure le patient dans un essai, absence de traitement approprié, "
        "efficacité et sécurité présumées au vu des données cliniques",
        regle=regle,
        champ="justification",
    )


def _erreurs_eligibilite(d: DemandeAAC, *, aujourd_hui: datetime.date) -> list[DemandeError]:
    """Every rule a request must meet to be filed (transmitted to the PUI) and submitted to the ANSM."""
    erreurs = _verifier_perimetre(d)
    try:
        _verifier_medicament(d, aujourd_hui=aujourd_hui)
    except DemandeError as exc:
        erreurs.append(exc)

    def manque(champ, message, regle):
        erreurs.append(DemandeError(message, regle=regle, champ=champ))

    # R11-R12: the medicine, the indication, the attestation or the justification.
    if d.type_medicament == TypeMedicament.NON_REFERENCE:
        for champ, libelle in (
            ("medicament_nom", "le nom (ou nom de code)"),
            ("medicament_dci", "la DCI"),
            ("medicament_dosage", "le dosage"),
            ("medicament_forme", "la forme pharmaceutique"),
            ("medicament_laboratoire", "le laboratoire"),
        ):
            if not getattr(d, champ).strip():
                manque(champ, f"Pour un médicament non référencé, indiquez {libelle}", "R12")
        if not d.indication_libre.strip():
            manque("indication_libre", "Indiquez l'indication revendiquée", "R43")
    elif d.type_medicament == TypeMedicament.REFERENCE_HORS_INDICATION:
        if not d.indication_libre.strip():
            manque("indication_libre", "Indiquez l'indication revendiquée, non référencée", "R12")
    elif d.indication_id is None:
        manque("indication", "Choisissez l'indication référencée", "R11")
    else:
        criteres = {c.pk for c in selectors.criteres_de(d.indication)}
        if not criteres <= {a.critere_id for a in d.attestations.all()}:
            manque("attestations", "Attestez chacun des critères d'octroi (oui ou non)", "R11")
    erreur = _erreur_justification(d)
    if erreur:
        erreurs.append(erreur)

    # R25: an early access covers the indication: AAC only for patients not eligible to it.
    if d.type_medicament != TypeMedicament.NON_REFERENCE and not d.patient_non_eligible_aap:
        aap = selectors.aap_couvrant(d)
        if aap:
            manque(
                "patient_non_eligible_aap",
                f"Un accès précoce (AAP) couvre cette indication ({aap}) : les patients éligibles à l'AAP en "
                "relèvent. Attestez que votre patient n'est pas éligible à l'AAP",
                "R25",
            )

    # R7: under commercial research, the treatment cannot be deferred.
    acces = selectors.acces_aac(d.specialite) if d.specialite_id else None
    if acces is not None and acces.riph_commerciale and d.traitement_differable:
        manque(
            "traitement_differable",
            "Le médicament fait l'objet d'une recherche à des fins commerciales : l'AAC n'est possible que si le "
            "traitement ne peut pas être différé et que le patient ne peut pas participer à cette recherche",
            "R7",
        )

    # R43: what the request holds about the patient and the treatment.
    for champ, message in (
        ("patient_initiales", "Indiquez les initiales du patient"),
        ("patient_age", "Indiquez l'âge du patient"),
        ("patient_sexe", "Indiquez le sexe du patient"),
        ("patient_poids_kg", "Indiquez le poids du patient"),
        ("posologie", "Indiquez la posologie prévue"),
    ):
        if getattr(d, champ) in (None, ""):
            manque(champ, message, "R43")
    if d.traitement_differable is None:
        manque("traitement_differable", "Indiquez si le traitement peut être différé", "R43")
    if d.patient_initiales:
        try:
            valider_initiales(d.patient_initiales)
        except Exception:  # noqa: BLE001 - any format error gets the R43 message
            manque("patient_initiales", MESSAGE_INITIALES, "R43")
    erreur_duree = _verifier_duree(d.duree_traitement_jours)
    if erreur_duree:
        erreurs.append(erreur_duree)

    # R13: the prescriber's commitments.
    if not all(getattr(d, champ) for champ in ENGAGEMENTS_R13):
        manque(
            "engagements",
            "Le prescripteur s'engage à informer le patient, à le surveiller, à respecter le PUT et la "
            "pharmacovigilance et à répondre à l'ANSM",
            "R13",
        )
    # R10: the PUI named by the prescriber.
    if d.pui_id is None:
        manque("pui", "Désignez la PUI qui traitera la demande", "R10")
    # R46: a renewal carries the clinical data of the past period and the prescriber's statement.
    if d.demande_initiale_id:
        if not d.donnees_cliniques_periode.strip():
            manque("donnees_cliniques_periode", "Renseignez les données cliniques de la période écoulée", "R46")
        if not d.declaration_poursuite:
            manque("declaration_poursuite", "Attestez que la poursuite du traitement présente un intérêt", "R46")
    return erreurs


def demande_controler(*, demande: DemandeAAC) -> list[DemandeError]:
    """What would stop the request from being filed now (read-only: shown on the summary step)."""
    return _erreurs_eligibilite(demande, aujourd_hui=timezone.localdate())


def _verifier_eligibilite(d: DemandeAAC, *, prefixe: str) -> None:
    erreurs = _erreurs_eligibilite(d, aujourd_hui=timezone.localdate())
    if erreurs:
        raise DemandeError.plusieurs(erreurs, prefixe=prefixe)


# --- Writing the request's fields --------------------------------------------------------------------------------


def _appliquer(d: DemandeAAC, donnees: dict, *, role: str) -> list[str]:
    """Set the fields a role may write, with the checks that give immediate feedback at each step of the form."""
    autorises = CHAMPS_PRESCRIPTEUR if role == Role.PRESCRIPTEUR else CHAMPS_PHARMACIEN
    interdits = sorted(set(donnees) - autorises)
    if interdits:
        noms = ", ".join(
            str(DemandeAAC._meta.get_field(c).verbose_name) for c in interdits if c in CHAMPS_PRESCRIPTEUR
        )
        raise TransitionInterdite(f"Vous ne pouvez pas modifier ces informations : {noms or ', '.join(interdits)}.")
    modifies = []
    for champ, valeur in donnees.items():
        if champ == "patient_initiales" and valeur:
            valeur = initiales_normaliser(valeur)
            try:
                valider_initiales(valeur)
            except Exception as exc:  # noqa: BLE001
                raise DemandeError(MESSAGE_INITIALES, champ=champ) from exc
        if isinstance(valeur, str) and champ not in ("patient_initiales",):
            valeur = valeur.strip()
        cle = f"{champ}_id" if champ in ("specialite", "indication", "pui", "pharmacien") else champ
        ancienne = getattr(d, cle)
        nouvelle = getattr(valeur, "pk", valeur)
        if ancienne != nouvelle:
            setattr(d, champ, valeur)
            modifies.append(champ)

    if _CHAMPS_MEDICAMENT & set(modifies):
        _coherence_medicament(d, modifies)
        _verifier_medicament(d, aujourd_hui=timezone.localdate())
    elif "medicament_dci" in modifies:
        _verifier_medicament(d, aujourd_hui=timezone.localdate())
    if "duree_traitement_jours" in modifies and d.duree_traitement_jours is not None:
        erreur = _verifier_duree(d.duree_traitement_jours)
        if erreur:
            raise erreur
    if {"situation", "territoire"} & set(modifies):
        erreurs = [e for e in _verifier_perimetre(d) if e.champ in modifies]
        if erreurs:
            raise DemandeError.plusieurs(erreurs, prefixe="Demande hors du champ de l'AAC")
    if {"pui", "pharmacien"} & set(modifies):
        if d.pui_id and d.pui.etablissement_id != d.etablissement_id:
            raise DemandeError("Désignez une PUI de votre établissement", regle="R10", champ="pui")
        if d.pharmacien_id and (d.pharmacien.role != Role.PHARMACIEN or d.pharmacien.pui_id != d.pui_id):
            raise DemandeError(
                "Le pharmacien désigné doit exercer dans la PUI choisie", regle="R10", champ="pharmacien"
            )
    if "urgence" in modifies and d.urgence != Urgence.VITALE and d.astreinte_contactee:
        d.astreinte_contactee = False
        modifies.append("astreinte_contactee")
    return modifies


def _coherence_medicament(d: DemandeAAC, modifies: list[str]) -> None:
    """Keep the medicine fields consistent (R11-R12): a new spécialité or indication drops what no longer applies."""
    if d.type_medicament == TypeMedicament.NON_REFERENCE:
        d.specialite = None
        d.indication = None
    else:
        if d.specialite_id is None:
            raise DemandeError("Choisissez la spécialité dans le référentiel", regle="R11", champ="specialite")
        if d.type_medicament == TypeMedicament.REFERENCE_HORS_INDICATION:
            d.indication = None
        elif d.indication_id is not None:
            acces = d.indication.acces
            if acces.specialite_id != d.specialite_id or acces.type_acces != "AAC":
                if "indication" in modifies:
                    raise DemandeError(
                        "Cette indication n'est pas une indication référencée de l'AAC de cette spécialité",
                        regle="R11",
                        champ="indication",
                    )
                d.indication = None
    for champ in ("specialite", "indication"):
        if champ not in modifies:
            modifies.append(champ)


def _attester(d: DemandeAAC, attestations: dict[int, bool]) -> None:
    """R11: record the yes/no for each critère of the referenced indication (and drop stale ones)."""
    criteres = {c.pk for c in selectors.criteres_de(d.indication)}
    inconnus = set(attestations) - criteres
    if inconnus:
        raise DemandeError(
            "Ces critères n'appartiennent pas à l'indication choisie", regle="R11", champ="attestations"
        )
    d.attestations.exclude(critere_id__in=criteres).delete()
    AttestationCritere.objects.bulk_create(
        [AttestationCritere(demande=d, critere_id=pk, rempli=bool(v)) for pk, v in attestations.items()],
        update_conflicts=True,
        unique_fields=["demande", "critere"],
        update_fields=["rempli"],
    )


def _synchroniser_attestations(d: DemandeAAC) -> None:
    """After a change of indication, only the attestations of its own criteria remain."""
    if d.indication_id is None:
        d.attestations.all().delete()
    else:
        d.attestations.exclude(critere__indication_id=d.indication_id).delete()


# --- The request's life ---------------------------------------------------------------------------------------


def deposant_verifier(par) -> None:
    """R10: only a prescriber files a request. Checked before anything else (the API checks it before it reads the
    body: whoever may not file gets a 403, whatever they sent)."""
    if par is None or par.role != Role.PRESCRIPTEUR:
        raise TransitionInterdite("Seul un prescripteur peut déposer une demande d'AAC (R10).")


def demande_creer(
    *, par, donnees: dict, cle_idempotence: str | None = None, demande_initiale: DemandeAAC | None = None
) -> tuple[DemandeAAC, bool]:
    """Create a draft for the prescriber (R10). With an idempotency key, a repeated submission of the same form
    returns the request created the first time (unique constraint, not check-then-insert): (request, created)."""
    deposant_verifier(par)
    if cle_idempotence:
        existante = DemandeAAC.objects.filter(prescripteur=par, cle_idempotence=cle_idempotence).first()
        if existante is not None:
            return existante, False
    maintenant = timezone.now()
    d = DemandeAAC(
        prescripteur=par,
        etablissement_id=par.etablissement_id,
        territoire=par.etablissement.territoire,
        cle_idempotence=cle_idempotence or None,
        demande_initiale=demande_initiale,
        cree_le=maintenant,
        modifiee_le=maintenant,
    )
    donnees = dict(donnees)
    attestations = donnees.pop("attestations", None)
    try:
        with transaction.atomic():
            _appliquer(d, donnees, role=Role.PRESCRIPTEUR)
            if d.specialite_id is None and d.type_medicament != TypeMedicament.NON_REFERENCE:
                raise DemandeError("Choisissez la spécialité dans le référentiel", regle="R11", champ="specialite")
            d.reference = _numero("D", "demandes_reference_seq", maintenant)
            d.save()
            if attestations and d.indication_id:
                _attester(d, attestations)
            _journaliser(
                d,
                "creer",
                avant="",
                par=par,
                details={"renouvellement_de": demande_initiale.reference} if demande_initiale else {},
            )
    except IntegrityError as exc:
        if cle_idempotence and getattr(getattr(exc.__cause__, "diag", None), "constraint_name", "") == (
            "demande_idempotence_unique"
        ):
            # The same form was submitted twice at the same moment: the other transaction created it.
            return DemandeAAC.objects.get(prescripteur=par, cle_idempotence=cle_idempotence), False
        message = _message_contrainte(exc)
        if message is None:
            raise
        raise DemandeError(message) from exc
    return d, True


@transaction.atomic
def demande_modifier(
    *, demande: DemandeAAC, par, version: int | None, donnees: dict, attestations: dict[int, bool] | None = None
) -> DemandeAAC:
    """Save one step of the form: the prescriber on a draft ("modifier"), the pharmacist while checking it
    ("completer", R14). Only a draft that was never transmitted is edited without a journal row."""
    nom = "completer" if par is not None and par.role == Role.PHARMACIEN else "modifier"
    d = _verrouiller(demande, nom, par, version)
    modifies = _appliquer(d, donnees, role=workflow.role_de(par))
    if "indication" in modifies or "specialite" in modifies or "type_medicament" in modifies:
        _synchroniser_attestations(d)
    if attestations is not None:
        if d.indication_id is None:
            raise DemandeError("Choisissez d'abord l'indication référencée", regle="R11", champ="attestations")
        _attester(d, attestations)
        modifies.append("attestations")
    if attestations is not None or "justification" in donnees:
        # The criteria step: the justification its answers require is asked for at once (R11-R12).
        erreur = _erreur_justification(d)
        if erreur:
            raise erreur
    _ecrire(d, [c for c in modifies if c != "attestations"])
    if d.transmise_le is not None and modifies:
        _journaliser(d, nom, avant=d.statut, par=par, details={"champs": sorted(set(modifies))})
    return d


@transaction.atomic
def demande_transmettre(*, demande: DemandeAAC, par, version: int | None) -> DemandeAAC:
    """File the request: the prescriber transmits it to the PUI they named (R10), once every rule is met."""
    d = _verrouiller(demande, "transmettre", par, version)
    _verifier_eligibilite(d, prefixe="La demande ne peut pas être transmise")
    d.transmise_le = d.transmise_le or timezone.now()
    _transition(d, "transmettre", par=par, champs=["transmise_le"])
    notifications.notifier("transmise", d, selectors.destinataires_pui(d))
    return d


@transaction.atomic
def demande_renvoyer(*, demande: DemandeAAC, par, version: int | None, commentaire: str) -> DemandeAAC:
    """R14: the pharmacist sends the request back to the prescriber, saying why."""
    d = _verrouiller(demande, "renvoyer", par, version)
    if not (commentaire or "").strip():
        raise DemandeError("Expliquez au prescripteur ce qu'il doit modifier", regle="R14", champ="commentaire")
    _transition(d, "renvoyer", par=par, commentaire=commentaire.strip())
    notifications.notifier("renvoyee", d, [d.prescripteur.email])
    return d


@transaction.atomic
def demande_soumettre(*, demande: DemandeAAC, par, version: int | None) -> DemandeAAC:
    """R14-R15, R44: the pharmacist submits to the ANSM. A referenced spécialité whose AAC is in force, in a
    referenced indication with every criterion attested, is granted at once (R15); otherwise it is evaluated.
    Out of hours, the immediate grant is flagged for régularisation a posteriori (R44)."""
    d = _verrouiller(demande, "soumettre", par, version)
    _verifier_eligibilite(d, prefixe="La demande ne peut pas être soumise à l'ANSM")
    maintenant = timezone.now()
    d.soumise_le = maintenant
    d.hors_heures = est_hors_heures(maintenant)
    motifs = selectors.octroi_immediat_motifs(d, aujourd_hui=timezone.localdate(maintenant))
    immediat = not motifs
    d.regularisation_a_posteriori = immediat and d.hors_heures
    _transition(
        d,
        "soumettre",
        par=par,
        champs=["soumise_le", "hors_heures", "regularisation_a_posteriori"],
        details={"octroi_immediat": immediat, "motifs_evaluation": motifs, "hors_heures": d.hors_heures},
    )
    if immediat:
        commentaire = "Demande conforme aux critères d'octroi du référentiel : décision immédiate (R15)."
        if d.regularisation_a_posteriori:
            commentaire += " Soumise hors heures ouvrées : régularisation a posteriori par l'ANSM (R44)."
        _decider(
            d,
            nom="octroyer_immediatement",
            par=None,
            sens=SensDecision.OCTROI,
            immediate=True,
            duree_jours=d.duree_traitement_jours,
            laboratoire=selectors.laboratoire_de_commande(d),
            reserve_hospitalier=d.specialite.reserve_hospitalier,
            restriction_prescripteurs=d.specialite.restriction_prescripteurs,
            commentaire=commentaire,
        )
    else:
        notifications.notifier("soumise", d, [d.prescripteur.email])
        evaluateurs = selectors.destinataires_ansm(d)
        if evaluateurs:
            notifications.notifier("a_evaluer", d, evaluateurs)
    return d


def _verifier_date_limite(date_limite: datetime.date | None) -> None:
    aujourd_hui = timezone.localdate()
    if date_limite is None or not aujourd_hui < date_limite <= aujourd_hui + datetime.timedelta(
        days=DELAI_COMPLEMENT_MAX_JOURS
    ):
        raise DemandeError(
            f"La date limite de réponse est postérieure à aujourd'hui et au plus dans {DELAI_COMPLEMENT_MAX_JOURS} "
            "jours",
            champ="date_limite",
        )


@transaction.atomic
def demande_assigner(*, demande: DemandeAAC, evaluateur, par, version: int | None = None) -> DemandeAAC:
    """The review queue: the request is handled by this évaluateur (oneself or a colleague); the journal says who
    assigned it to whom. With the `version` the queue row was drawn from, two évaluateurs taking the same request at
    the same moment do not both believe it is theirs: the second gets the conflict message."""
    d = _verrouiller(demande, "assigner", par, version)
    if evaluateur is None or evaluateur.role != Role.EVALUATEUR or not evaluateur.is_active:
        raise DemandeError("Une demande s'assigne à un évaluateur de l'ANSM en activité", champ="evaluateur")
    if d.evaluateur_id == evaluateur.pk:
        raise ConflitEtat(f"La demande est déjà assignée à {evaluateur.nom_complet or evaluateur.email}.")
    precedent = d.evaluateur_id
    d.evaluateur = evaluateur
    _transition(
        d,
        "assigner",
        par=par,
        champs=["evaluateur"],
        commentaire=f"Assignée à {evaluateur.nom_complet or evaluateur.email}",
        details={"evaluateur": evaluateur.pk, "precedent": precedent},
    )
    if evaluateur.pk != getattr(par, "pk", None):
        notifications.notifier("assignee", d, [evaluateur.email], url=notifications.lien_instruction(d))
    return d


@transaction.atomic
def complement_demander(
    *, demande: DemandeAAC, par, version: int | None, question: str, date_limite: datetime.date
) -> Complement:
    """R14: the évaluateur asks the PUI for more information, with an answer deadline."""
    d = _verrouiller(demande, "demander_complement", par, version)
    if not (question or "").strip():
        raise DemandeError("Rédigez la question posée à la PUI", champ="question")
    _verifier_date_limite(date_limite)
    complement = Complement(
        demande=d,
        destinataire=DestinataireComplement.PUI,
        question=question.strip(),
        date_limite=date_limite,
        demande_par=par,
    )
    _sauver(complement)
    if d.evaluateur_id is None:
        d.evaluateur = par
    _transition(
        d,
        "demander_complement",
        par=par,
        champs=["evaluateur"],
        commentaire=question.strip(),
        details={"complement": complement.pk, "date_limite": date_limite.isoformat()},
    )
    notifications.notifier(
        "complement_demande",
        d,
        [*selectors.destinataires_pui(d), d.prescripteur.email],
        date_limite=f"{date_limite:%d/%m/%Y}",
    )
    return complement


@transaction.atomic
def complement_repondre(
    *, demande: DemandeAAC, par, version: int | None, reponse: str, fichiers: Iterable = ()
) -> Complement:
    """R14: the PUI (or the prescriber) answers the pending question, with attachments if needed."""
    d = _verrouiller(demande, "repondre_complement", par, version)
    if not (reponse or "").strip():
        raise DemandeError("Rédigez la réponse à la question de l'ANSM", champ="reponse")
    complement = (
        Complement.objects.select_for_update()
        .filter(demande=d, destinataire=DestinataireComplement.PUI, repondu_le__isnull=True)
        .first()
    )
    if complement is None:
        raise ConflitEtat("Aucune question de l'ANSM n'attend de réponse sur cette demande.")
    complement.reponse = reponse.strip()
    complement.repondu_par = par
    complement.repondu_le = timezone.now()
    _sauver(complement)
    pieces = [_piece_enregistrer(d, par=par, fichier=f, complement=complement) for f in fichiers]
    _transition(
        d,
        "repondre_complement",
        par=par,
        commentaire=complement.reponse,
        details={"complement": complement.pk, "pieces": [p.pk for p in pieces]},
    )
    notifications.notifier("complement_fourni", d, [complement.demande_par.email])
    return complement


def _pieces_laboratoire(pieces: Iterable[str]) -> list[str]:
    """R16: the ticked pieces, known ones only, in the order of the list the évaluateur ticks from."""
    pieces = set(pieces or ())
    inconnues = pieces - set(PieceLaboratoire.values)
    if inconnues:
        raise DemandeError("Pièce inconnue : " + ", ".join(sorted(inconnues)), regle="R16", champ="pieces")
    if not pieces:
        raise DemandeError("Cochez au moins une pièce à demander au laboratoire", regle="R16", champ="pieces")
    return [p for p in PieceLaboratoire.values if p in pieces]


@transaction.atomic
def complement_laboratoire_demander(
    *,
    demande: DemandeAAC,
    par,
    version: int | None,
    laboratoire,
    pieces: Iterable[str],
    date_limite: datetime.date,
    question: str = "",
) -> Complement:
    """R16: for a non-referenced medicine or a new indication, the évaluateur asks the laboratory for the ticked
    pieces by a deadline. The request stays under evaluation (R15: the time needed to get the laboratory's data);
    the laboratory's users are told by email, without any patient data."""
    d = _verrouiller(demande, "interroger_laboratoire", par, version)
    if d.type_medicament == TypeMedicament.REFERENCE_INDICATION:
        raise DemandeError(
            "Les informations du laboratoire se demandent pour un médicament non référencé ou une indication "
            "nouvelle : cette demande porte sur une indication référencée, dont les critères d'octroi sont publiés",
            regle="R16",
        )
    if laboratoire is None:
        raise DemandeError("Choisissez le laboratoire interrogé", regle="R16", champ="laboratoire")
    pieces = _pieces_laboratoire(pieces)
    _verifier_date_limite(date_limite)
    complement = Complement(
        demande=d,
        destinataire=DestinataireComplement.LABORATOIRE,
        laboratoire=laboratoire,
        question=(question or "").strip() or "Merci de transmettre les pièces cochées.",
        pieces_demandees=pieces,
        date_limite=date_limite,
        demande_par=par,
    )
    _sauver(complement)
    if d.evaluateur_id is None:
        d.evaluateur = par
    libelles = [PieceLaboratoire(p).label for p in pieces]
    _transition(
        d,
        "interroger_laboratoire",
        par=par,
        champs=["evaluateur"],
        commentaire=f"Informations demandées à {laboratoire.nom}, avant le {date_limite:%d/%m/%Y}.",
        details={
            "complement": complement.pk,
            "laboratoire": laboratoire.pk,
            "pieces": pieces,
            "date_limite": date_limite.isoformat(),
        },
    )
    notifications.notifier(
        "information_laboratoire",
        d,
        selectors.destinataires_laboratoire(laboratoire),
        url=notifications.lien_laboratoire(complement),
        date_limite=f"{date_limite:%d/%m/%Y}",
        pieces="\n".join(f"- {libelle}" for libelle in libelles),
    )
    return complement


@transaction.atomic
def complement_laboratoire_repondre(
    *, complement: Complement, par, reponse: str, fichiers: Iterable = ()
) -> Complement:
    """R16: the laboratory answers the ANSM's information request on its product, with documents (checked by their
    content). The laboratory is not party to the request: it is allowed by the question addressed to it, and what
    it sends is shown to the ANSM only."""
    if par is None or par.role != Role.LABORATOIRE or par.laboratoire_id is None:
        raise TransitionInterdite("Seul le laboratoire interrogé répond à une demande d'information (R16).")
    demande_id = Complement.objects.filter(pk=complement.pk).values_list("demande_id", flat=True).first()
    # Same lock order as every other transition (the request, then its complement): no deadlock with an évaluateur
    # deciding at the same moment.
    d = (
        DemandeAAC.objects.select_for_update(of=("self",))
        .select_related("prescripteur", "evaluateur", "specialite")
        .get(pk=demande_id)
    )
    c = Complement.objects.select_for_update(of=("self",)).select_related("demande_par").get(pk=complement.pk)
    if c.destinataire != DestinataireComplement.LABORATOIRE or c.laboratoire_id != par.laboratoire_id:
        raise TransitionInterdite("Cette demande d'information ne concerne pas votre laboratoire (R16).")
    if not c.en_attente:
        raise ConflitEtat("Vous avez déjà répondu à cette demande d'information.")
    if not workflow.est_permise("repondre_laboratoire", statut=d.statut, role=Role.LABORATOIRE):
        raise ConflitEtat(
            "La demande n'est plus en cours d'instruction à l'ANSM : l'information n'est plus attendue (R16)."
        )
    if not (reponse or "").strip():
        raise DemandeError("Rédigez votre réponse à l'ANSM", regle="R16", champ="reponse")
    c.reponse = reponse.strip()
    c.repondu_par = par
    c.repondu_le = timezone.now()
    _sauver(c)
    pieces = [_piece_enregistrer(d, par=par, fichier=f, complement=c) for f in fichiers]
    # An answer adds to the file and overwrites nobody's input: it takes no version, like an attachment.
    _journaliser(
        d,
        "repondre_laboratoire",
        avant=d.statut,
        par=par,
        commentaire=f"{par.laboratoire.nom} a répondu ({len(pieces)} document{'s' if len(pieces) > 1 else ''}).",
        details={"complement": c.pk, "pieces": [p.pk for p in pieces]},
    )
    destinataires = [c.demande_par.email] + ([d.evaluateur.email] if d.evaluateur_id else [])
    notifications.notifier("information_laboratoire_fournie", d, destinataires, url=notifications.lien_instruction(d))
    return c


def _decision_preparer(
    d: DemandeAAC,
    *,
    par,
    sens: str,
    maintenant: datetime.datetime,
    apercu: bool = False,
    immediate: bool = False,
    duree_jours: int | None = None,
    laboratoire=None,
    reserve_hospitalier: bool = True,
    restriction_prescripteurs: str = "",
    motif_refus: str = "",
    motif_refus_texte: str = "",
    commentaire: str = "",
) -> Decision:
    """Check the decision's rules and build it, unsaved (R17, R18, R24, R28, R7/R16, R19).

    The saved decision, the preview of its PDF and the decision reformed on appeal all come from here, so what the
    évaluateur previews is what the prescriber receives. A preview draws no number from the sequences."""
    aujourd_hui = timezone.localdate(maintenant)
    octroi = sens == SensDecision.OCTROI
    if octroi:
        erreur = _verifier_duree(duree_jours)
        if erreur:
            raise erreur
        if laboratoire is None:
            raise DemandeError(
                "Indiquez le laboratoire auprès duquel la PUI commande", regle="R17", champ="laboratoire"
            )
        # R24: after the cessation date, no AAC is granted, whatever the indication.
        if d.specialite_id:
            cessation = selectors.cessation_aac(d.specialite, aujourd_hui=aujourd_hui)
            if cessation is not None:
                raise DemandeError(
                    f"Les AAC de « {d.specialite.nom} » ont cessé le {cessation.date_cessation:%d/%m/%Y} : "
                    "aucune AAC ne peut plus être octroyée",
                    regle="R24",
                )
            acces = selectors.acces_aac(d.specialite)
            if acces is not None and acces.riph_commerciale and not acces.engagement_aap:
                raise DemandeError(
                    "Le médicament fait l'objet d'une recherche à des fins commerciales et le laboratoire ne s'est "
                    "pas engagé à déposer une demande d'accès précoce : l'AAC ne peut pas être octroyée",
                    regle="R7, R16",
                )
    elif motif_refus not in MotifRefus.values:
        raise DemandeError("Choisissez le motif du refus", regle="R18", champ="motif_refus")
    elif motif_refus == MotifRefus.AUTRE and not motif_refus_texte.strip():
        raise DemandeError("Précisez le motif du refus", regle="R18", champ="motif_refus_texte")

    if apercu:
        reference, numero_aac = "PROJET", ("PROJET" if octroi else None)
    else:
        reference = _numero("DEC", "demandes_decision_seq", maintenant)
        numero_aac = _numero("AAC", "demandes_numero_aac_seq", maintenant) if octroi else None
    return Decision(
        demande=d,
        sens=sens,
        reference=reference,
        numero_aac=numero_aac,
        immediate=immediate,
        date_decision=maintenant,
        decidee_par=par,
        duree_jours=duree_jours if octroi else None,
        date_debut=aujourd_hui if octroi else None,
        date_fin_traitement=aujourd_hui + datetime.timedelta(days=duree_jours - 1) if octroi else None,
        laboratoire=laboratoire if octroi else None,
        # R28: never in community pharmacies; if not hospital-only, on the rétrocession list.
        reserve_hospitalier=reserve_hospitalier if octroi else False,
        retrocession=(not reserve_hospitalier) if octroi else False,
        restriction_prescripteurs=(restriction_prescripteurs or "").strip() if octroi else "",
        motif_refus="" if octroi else motif_refus,
        motif_refus_texte="" if octroi else (motif_refus_texte or "").strip(),
        commentaire=(commentaire or "").strip(),
        notifiee_le=maintenant,
        date_limite_recours=ajouter_mois(aujourd_hui, 2),  # R19
    )


def _decision_pdf_enregistrer(decision: Decision) -> None:
    from .pdf import decision_pdf

    decision.fichier.save(f"{decision.reference}.pdf", ContentFile(decision_pdf(decision)), save=False)
    decision.save(update_fields=["fichier"])


def _decider(d: DemandeAAC, *, nom: str, par, sens: str, **champs) -> Decision:
    """Record the decision, its PDF and the transition; tell the prescriber and the PUI (R17, R19, R45)."""
    maintenant = timezone.now()
    decision = _decision_preparer(d, par=par, sens=sens, maintenant=maintenant, **champs)
    _sauver(decision)
    _decision_pdf_enregistrer(decision)
    d.decision = decision
    d.decidee_le = maintenant
    if par is not None and d.evaluateur_id is None:
        d.evaluateur = par
    _transition(
        d,
        nom,
        par=par,
        champs=["decidee_le", "evaluateur"],
        commentaire=decision.commentaire,
        details={
            "decision": decision.reference,
            "numero_aac": decision.numero_aac,
            "immediate": decision.immediate,
        },
    )
    destinataires = [d.prescripteur.email, *selectors.destinataires_pui(d)]
    if decision.est_octroi:
        notifications.notifier("octroyee", d, destinataires, numero=decision.numero_aac)
    else:
        notifications.notifier("refusee", d, destinataires)
    return decision


@transaction.atomic
def demande_octroyer(
    *,
    demande: DemandeAAC,
    par,
    version: int | None,
    duree_jours: int,
    laboratoire,
    reserve_hospitalier: bool,
    restriction_prescripteurs: str = "",
    commentaire: str = "",
) -> Decision:
    """R17, R28, R45: the évaluateur grants the AAC for a duration of 1 day to 1 year, naming the laboratory the
    PUI orders from and the conditions of prescription and dispensing."""
    d = _verrouiller(demande, "octroyer", par, version)
    return _decider(
        d,
        nom="octroyer",
        par=par,
        sens=SensDecision.OCTROI,
        duree_jours=duree_jours,
        laboratoire=laboratoire,
        reserve_hospitalier=reserve_hospitalier,
        restriction_prescripteurs=restriction_prescripteurs,
        commentaire=commentaire,
    )


@transaction.atomic
def demande_refuser(
    *, demande: DemandeAAC, par, version: int | None, motif: str, motif_texte: str = "", commentaire: str = ""
) -> Decision:
    """R18-R19: the évaluateur refuses for one of the usual reasons or a written one; the decision states the
    appeal routes."""
    d = _verrouiller(demande, "refuser", par, version)
    return _decider(
        d,
        nom="refuser",
        par=par,
        sens=SensDecision.REFUS,
        motif_refus=motif,
        motif_refus_texte=motif_texte or "",
        commentaire=commentaire,
    )


@transaction.atomic
def demande_regulariser(*, demande: DemandeAAC, par, version: int | None, commentaire: str = "") -> DemandeAAC:
    """R44: the évaluateur confirms, after the fact, an immediate grant filed out of hours."""
    d = _verrouiller(demande, "regulariser", par, version)
    if not d.regularisation_a_posteriori or d.regularisee_le is not None:
        raise ConflitEtat("Cette demande n'attend pas de régularisation a posteriori (R44).")
    d.regularisee_le = timezone.now()
    _transition(d, "regulariser", par=par, champs=["regularisee_le"], commentaire=commentaire.strip())
    return d


@transaction.atomic
def demande_annuler(*, demande: DemandeAAC, par, version: int | None, commentaire: str = "") -> DemandeAAC:
    """Its author cancels the request before the decision."""
    d = _verrouiller(demande, "annuler", par, version)
    etait_transmise, etait_soumise = d.transmise_le is not None, d.soumise_le is not None
    _transition(d, "annuler", par=par, commentaire=(commentaire or "").strip())
    destinataires = []
    if etait_transmise:
        destinataires += selectors.destinataires_pui(d)
    if etait_soumise:
        destinataires += selectors.destinataires_ansm(d)
    if destinataires:
        notifications.notifier("annulee", d, destinataires)
    return d


@transaction.atomic
def demande_expirer(*, demande: DemandeAAC, aujourd_hui: datetime.date | None = None) -> DemandeAAC:
    """R17, R20: a granted AAC whose treatment period is over becomes expirée (run by the scheduler, issue 6)."""
    d = _verrouiller(demande, "expirer", None, None)
    aujourd_hui = aujourd_hui or timezone.localdate()
    decision = selectors.decision_de(d)
    if decision is None or decision.date_fin_traitement is None or decision.date_fin_traitement >= aujourd_hui:
        raise ConflitEtat("La durée de traitement autorisée n'est pas échue (R17).")
    _transition(d, "expirer", par=None, details={"date_fin_traitement": decision.date_fin_traitement.isoformat()})
    notifications.notifier(
        "expiree", d, [d.prescripteur.email, *selectors.destinataires_pui(d)], numero=decision.numero_aac
    )
    return d


@transaction.atomic
def recours_former(*, demande: DemandeAAC, par, version: int | None, motif: str) -> Recours:
    """R19: a recours gracieux to the ANSM director general, within 2 months of the notification."""
    d = _verrouiller(demande, "former_recours", par, version)
    decision = Decision.objects.select_for_update().get(demande=d)
    if not (motif or "").strip():
        raise DemandeError("Exposez les motifs du recours", regle="R19", champ="motif")
    if Recours.objects.filter(decision=decision).exists():
        raise ConflitEtat("Un recours gracieux a déjà été formé contre cette décision (R19).")
    if decision.date_limite_recours is None or timezone.localdate() > decision.date_limite_recours:
        raise DemandeError(
            "Le délai de recours de 2 mois à compter de la notification de la décision est expiré "
            f"depuis le {decision.date_limite_recours:%d/%m/%Y}",
            regle="R19",
        )
    recours = Recours(demande=d, decision=decision, motif=motif.strip(), depose_par=par)
    _sauver(recours)
    _transition(d, "former_recours", par=par, commentaire=recours.motif, details={"recours": recours.pk})
    destinataires = [decision.decidee_par.email] if decision.decidee_par else selectors.destinataires_ansm(d)
    notifications.notifier("recours", d, destinataires)
    return recours


def _recours_a_statuer(d: DemandeAAC) -> Recours:
    recours = Recours.objects.select_for_update().filter(demande=d, statut=StatutRecours.DEPOSE).first()
    if recours is None:
        raise ConflitEtat("Aucun recours gracieux n'attend de réponse sur cette demande (R19).")
    return recours


def _motiver_recours(reponse: str) -> str:
    if not (reponse or "").strip():
        raise DemandeError("Motivez la réponse au recours gracieux", regle="R19", champ="reponse")
    return reponse.strip()


@transaction.atomic
def recours_accueillir(
    *,
    demande: DemandeAAC,
    par,
    version: int | None,
    reponse: str,
    duree_jours: int,
    laboratoire,
    reserve_hospitalier: bool,
    restriction_prescripteurs: str = "",
    commentaire: str = "",
) -> Decision:
    """R19: the appeal is upheld and the decision reviewed: the AAC is granted (a refusal is reformed) or granted
    on new terms, with a new decision number, PDF and appeal deadline, under the same rules as a grant.

    The request keeps one decision (one-to-one): the reviewed decision replaces the contested one in its row. The
    contested one is not lost: its number, its terms and its PDF file (left in storage) are written in the journal,
    and the database's audit trail holds the row as it was."""
    d = _verrouiller(demande, "accueillir_recours", par, version)
    recours = _recours_a_statuer(d)
    reponse = _motiver_recours(reponse)
    ancienne = Decision.objects.select_for_update().get(demande=d)
    contestee = {
        "reference": ancienne.reference,
        "sens": ancienne.sens,
        "numero_aac": ancienne.numero_aac,
        "motif_refus": ancienne.motif_refus,
        "date_decision": ancienne.date_decision.isoformat(),
        "fichier": ancienne.fichier.name,
    }
    maintenant = timezone.now()
    revue = _decision_preparer(
        d,
        par=par,
        sens=SensDecision.OCTROI,
        maintenant=maintenant,
        duree_jours=duree_jours,
        laboratoire=laboratoire,
        reserve_hospitalier=reserve_hospitalier,
        restriction_prescripteurs=restriction_prescripteurs,
        commentaire=commentaire or f"Décision prise sur recours gracieux : {reponse}",
    )
    revue.pk, revue.fichier = ancienne.pk, ""
    _sauver(revue)
    _decision_pdf_enregistrer(revue)
    recours.statut = StatutRecours.ACCUEILLI
    recours.reponse = reponse
    recours.repondu_le = maintenant
    recours.statue_par = par
    _sauver(recours)
    _transition(
        d,
        "accueillir_recours",
        par=par,
        commentaire=reponse,
        details={
            "recours": recours.pk,
            "decision": revue.reference,
            "numero_aac": revue.numero_aac,
            "decision_contestee": contestee,
        },
    )
    notifications.notifier(
        "recours_accueilli", d, [d.prescripteur.email, *selectors.destinataires_pui(d)], numero=revue.numero_aac
    )
    return revue


@transaction.atomic
def recours_rejeter(*, demande: DemandeAAC, par, version: int | None, reponse: str) -> Recours:
    """R19: the appeal is rejected with its reasons; the decision stands (a recours contentieux remains open)."""
    d = _verrouiller(demande, "rejeter_recours", par, version)
    recours = _recours_a_statuer(d)
    recours.reponse = _motiver_recours(reponse)
    recours.statut = StatutRecours.REJETE
    recours.repondu_le = timezone.now()
    recours.statue_par = par
    _sauver(recours)
    _transition(d, "rejeter_recours", par=par, commentaire=recours.reponse, details={"recours": recours.pk})
    notifications.notifier("recours_rejete", d, [d.prescripteur.email, *selectors.destinataires_pui(d)])
    return recours


def decision_apercu_pdf(*, demande: DemandeAAC, par, action: str, **champs) -> bytes:
    """The PDF the decision would have, drawn by the same pdf.py from an unsaved decision checked by the same rules
    (nothing is written, no number is drawn): the évaluateur reads what the prescriber will receive."""
    from .pdf import decision_pdf

    if action not in ("octroyer", "refuser", "accueillir_recours"):
        raise DemandeError("Aperçu impossible pour cette action.")
    role = workflow.role_de(par)
    if par is None or not selectors.est_partie(par, demande) or role not in workflow.transition(action).roles:
        raise TransitionInterdite("L'aperçu de la décision est réservé aux évaluateurs de l'ANSM.")
    if not workflow.est_permise(action, statut=demande.statut, role=role):
        raise ConflitEtat(f"Aucune décision n'est possible : la demande est « {demande.get_statut_display()} ».")
    sens = SensDecision.REFUS if action == "refuser" else SensDecision.OCTROI
    decision = _decision_preparer(demande, par=par, sens=sens, maintenant=timezone.now(), apercu=True, **champs)
    return decision_pdf(decision, apercu=True)


@transaction.atomic
def demande_renouveler(
    *, demande: DemandeAAC, par, version: int | None, cle_idempotence: str | None = None
) -> tuple[DemandeAAC, bool]:
    """R20, R46: a renewal is a new request linked to the previous one, prefilled with it; the prescriber adds the
    clinical data of the past period and states that continuing is worthwhile, and re-takes the commitments."""
    d = _verrouiller(demande, "renouveler", par, version)
    en_cours = d.renouvellements.exclude(statut__in=[StatutDemande.ANNULEE, StatutDemande.REFUSEE]).first()
    if en_cours is not None and (not cle_idempotence or en_cours.cle_idempotence != cle_idempotence):
        raise ConflitEtat(f"Un renouvellement de cette demande existe déjà : {en_cours.reference} (R20).")
    if en_cours is not None:
        return en_cours, False
    reprises = CHAMPS_PRESCRIPTEUR - {
        *ENGAGEMENTS_R13,
        "medecin_traitant_informe",
        "declaration_poursuite",
        "donnees_cliniques_periode",
    }
    donnees = {champ: getattr(d, champ) for champ in reprises}
    donnees["attestations"] = {a.critere_id: a.rempli for a in d.attestations.all()}
    nouvelle, creee = demande_creer(par=par, donnees=donnees, cle_idempotence=cle_idempotence, demande_initiale=d)
    if creee:
        _transition(d, "renouveler", par=par, details={"renouvellement": nouvelle.reference})
    return nouvelle, creee


# --- Attachments and the patient-data log ------------------------------------------------------------------------


def _piece_enregistrer(d: DemandeAAC, *, par, fichier, complement: Complement | None = None) -> PieceJointe:
    """Accept a PDF, PNG or JPEG by its content (magic bytes, not its name) and its size."""
    taille_max = settings.DOCUMENT_MAX_SIZE
    if fichier.size > taille_max:
        raise DemandeError(
            f"Le fichier « {fichier.name} » dépasse la taille maximale de {taille_max // (1024 * 1024)} Mo",
            champ="fichier",
        )
    if fichier.size == 0:
        raise DemandeError(f"Le fichier « {fichier.name} » est vide", champ="fichier")
    fichier.seek(0)
    entete = fichier.read(4096)
    fichier.seek(0)
    type_mime = magic.from_buffer(entete, mime=True)
    if type_mime not in TYPES_PIECES:
        raise DemandeError(
            f"Le fichier « {fichier.name} » n'est pas un PDF, un PNG ou un JPEG (contenu reconnu : {type_mime})",
            champ="fichier",
        )
    empreinte = hashlib.sha256()
    for morceau in fichier.chunks():
        empreinte.update(morceau)
    fichier.seek(0)
    nom = (fichier.name or "piece").replace("/", "_").replace("\\", "_")[:200]
    piece = PieceJointe(
        demande=d,
        complement=complement,
        nom=nom,
        type_mime=type_mime,
        taille=fichier.size,
        empreinte=empreinte.hexdigest(),
        deposee_par=par,
    )
    piece.fichier.save(f"piece.{TYPES_PIECES[type_mime]}", fichier, save=False)
    piece.save()
    return piece


@transaction.atomic
def piece_joindre(*, demande: DemandeAAC, par, fichier) -> PieceJointe:
    """Attach a file to the request. Additive (it cannot overwrite anyone's input), so it takes no version."""
    d = _verrouiller(demande, "joindre_piece", par, None)
    piece = _piece_enregistrer(d, par=par, fichier=fichier)
    _journaliser(d, "joindre_piece", avant=d.statut, par=par, details={"piece": piece.pk, "nom": piece.nom})
    return piece


def acces_donnees_enregistrer(*, demande: DemandeAAC, utilisateur, canal: str = CanalAcces.PAGE) -> None:
    """Log a read of the request's patient data (who, when, which request, through which channel)."""
    AccesDonneesPatient.objects.create(demande=demande, utilisateur=utilisateur, canal=canal)
