"""The declared workflow of an AAC request: one table read by the services (may this role do this now?) and by
the pages and the API (which buttons to show). A transition whose `vers` is None leaves the state unchanged but
is still an audited action (a pharmacist's edit, an appeal, a renewal).

Who is *party* to a request (its prescriber, its PUI's pharmacists, ANSM staff once submitted) is decided by
`selectors.demandes_visibles_par`; this table only adds the role and the state.
"""

from dataclasses import dataclass

from comptes.enums import Role

from .enums import StatutDemande as S
from .exceptions import TransitionInterdite

SYSTEME = "systeme"  # scheduled or automatic steps (R15 immediate grant, R17 end of treatment)


@dataclass(frozen=True)
class Transition:
    nom: str
    libelle: str  # the button's label and the journal's wording
    depuis: frozenset[str]
    vers: str | None
    roles: frozenset[str]
    regles: str = ""  # rules the service checks, shown next to the button


def _t(nom, libelle, depuis, vers, roles, regles=""):
    return Transition(nom, libelle, frozenset(depuis), vers, frozenset(roles), regles)


_EN_COURS_AVANT_DECISION = {
    S.BROUILLON,
    S.RENVOYEE,
    S.TRANSMISE_PHARMACIEN,
    S.EN_EVALUATION,
    S.COMPLEMENT_DEMANDE,
    S.COMPLEMENT_FOURNI,
}

_INSTRUCTION = {S.EN_EVALUATION, S.COMPLEMENT_DEMANDE, S.COMPLEMENT_FOURNI}

TRANSITIONS: tuple[Transition, ...] = (
    _t("modifier", "Modifier la demande", {S.BROUILLON, S.RENVOYEE}, None, {Role.PRESCRIPTEUR}, "R11-R13, R43"),
    _t(
        "transmettre",
        "Transmettre au pharmacien",
        {S.BROUILLON, S.RENVOYEE},
        S.TRANSMISE_PHARMACIEN,
        {Role.PRESCRIPTEUR},
        "R5, R8, R9, R10, R11, R12, R13, R17, R24, R25, R43",
    ),
    _t("completer", "Compléter la demande", {S.TRANSMISE_PHARMACIEN}, None, {Role.PHARMACIEN}, "R14"),
    _t(
        "renvoyer",
        "Renvoyer au prescripteur",
        {S.TRANSMISE_PHARMACIEN},
        S.RENVOYEE,
        {Role.PHARMACIEN},
        "R14",
    ),
    _t(
        "soumettre",
        "Soumettre à l'ANSM",
        {S.TRANSMISE_PHARMACIEN},
        S.EN_EVALUATION,
        {Role.PHARMACIEN},
        "R5, R8, R9, R14, R15, R17, R24, R25, R44",
    ),
    _t("octroyer_immediatement", "Octroi immédiat", {S.EN_EVALUATION}, S.OCTROYEE, {SYSTEME}, "R15"),
    _t(
        "demander_complement",
        "Demander un complément",
        {S.EN_EVALUATION, S.COMPLEMENT_FOURNI},
        S.COMPLEMENT_DEMANDE,
        {Role.EVALUATEUR},
        "R14",
    ),
    _t(
        "repondre_complement",
        "Répondre au complément",
        {S.COMPLEMENT_DEMANDE},
        S.COMPLEMENT_FOURNI,
        {Role.PHARMACIEN, Role.PRESCRIPTEUR},
        "R14",
    ),
    _t(
        "octroyer",
        "Octroyer l'AAC",
        {S.EN_EVALUATION, S.COMPLEMENT_FOURNI},
        S.OCTROYEE,
        {Role.EVALUATEUR},
        "R17, R24, R28, R45",
    ),
    _t(
        "refuser",
        "Refuser l'AAC",
        {S.EN_EVALUATION, S.COMPLEMENT_DEMANDE, S.COMPLEMENT_FOURNI},
        S.REFUSEE,
        {Role.EVALUATEUR},
        "R18, R19",
    ),
    _t(
        "regulariser",
        "Confirmer la régularisation a posteriori",
        {S.OCTROYEE},
        None,
        {Role.EVALUATEUR},
        "R44",
    ),
    # R16: the laboratory's data on the medicine; the request stays under evaluation (the PUI has nothing to do).
    _t(
        "interroger_laboratoire",
        "Demander des informations au laboratoire",
        _INSTRUCTION,
        None,
        {Role.EVALUATEUR},
        "R7, R16",
    ),
    # The laboratory is not party to the request (no patient data): it answers from its own space, on its question.
    _t("repondre_laboratoire", "Réponse du laboratoire", _INSTRUCTION, None, {Role.LABORATOIRE}, "R16"),
    # The review queue: who at the ANSM handles the request (also after the decision, for R19 and R44).
    _t(
        "assigner",
        "Assigner la demande",
        _INSTRUCTION | {S.OCTROYEE, S.REFUSEE},
        None,
        {Role.EVALUATEUR, Role.ADMINISTRATEUR},
    ),
    _t(
        "accueillir_recours",
        "Accueillir le recours gracieux (décision réformée en octroi)",
        {S.OCTROYEE, S.REFUSEE},
        S.OCTROYEE,
        {Role.EVALUATEUR},
        "R17, R19, R24, R28, R45",
    ),
    _t("rejeter_recours", "Rejeter le recours gracieux", {S.OCTROYEE, S.REFUSEE}, None, {Role.EVALUATEUR}, "R19"),
    _t("annuler", "Annuler la demande", _EN_COURS_AVANT_DECISION, S.ANNULEE, {Role.PRESCRIPTEUR}),
    _t("expirer", "Fin de traitement", {S.OCTROYEE}, S.EXPIREE, {SYSTEME}, "R17, R20"),
    _t("former_recours", "Former un recours gracieux", {S.OCTROYEE, S.REFUSEE}, None, {Role.PRESCRIPTEUR}, "R19"),
    _t("renouveler", "Renouveler", {S.OCTROYEE, S.EXPIREE}, None, {Role.PRESCRIPTEUR}, "R20, R46"),
    _t(
        "joindre_piece",
        "Joindre une pièce",
        {S.BROUILLON, S.RENVOYEE, S.TRANSMISE_PHARMACIEN, S.COMPLEMENT_DEMANDE},
        None,
        {Role.PRESCRIPTEUR, Role.PHARMACIEN},
    ),
)

PAR_NOM: dict[str, Transition] = {t.nom: t for t in TRANSITIONS}


def transition(nom: str) -> Transition:
    return PAR_NOM[nom]


def role_de(utilisateur) -> str:
    """The workflow role of an actor: a user's role, or SYSTEME for scheduled and automatic steps."""
    return SYSTEME if utilisateur is None else utilisateur.role


def role_verifier(utilisateur, *noms: str) -> None:
    """The actor's role takes at least one of these transitions (the table), else TransitionInterdite naming the
    roles that do. The services check it under the row lock; the API and the pages check it first, before reading
    any input, so that a role excluded from an action gets the same 403 whatever it posts."""
    roles = set().union(*(PAR_NOM[nom].roles for nom in noms))
    if role_de(utilisateur) in roles:
        return
    qui = ", ".join(sorted(Role(r).label if r in Role.values else "automatique" for r in roles))
    raise TransitionInterdite(f"L'action « {PAR_NOM[noms[0]].libelle} » est réservée à : {qui}.")


def est_permise(nom: str, *, statut: str, role: str) -> bool:
    t = PAR_NOM[nom]
    return statut in t.depuis and role in t.roles


def transitions_possibles(*, statut: str, role: str) -> list[Transition]:
    """The actions this role may take in this state, in the table's order (the order of the buttons)."""
    return [t for t in TRANSITIONS if statut in t.depuis and role in t.roles]
